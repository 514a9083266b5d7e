package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/lattice-sync/lattice/test/bench/live"
)

func fanout(args []string) error {
	fs := flag.NewFlagSet("fanout", flag.ExitOnError)
	target := fs.String("target", live.TargetLattice, "the server: lattice or centrifugo")
	url := fs.String("url", "", "the server (default http://127.0.0.1:8080, for centrifugo http://127.0.0.1:8000)")
	n := fs.Int("listeners", 10000, "listeners, each on a connection of its own")
	events := fs.Int("events", 200, "events in all")
	rate := fs.Int("rate", 50, "events per second")
	token := fs.String("token", "", "Lattice: bearer token sent with every request (lattice serve)")
	apiKey := fs.String("api-key", "", "Centrifugo: the server API key (bash hack/centrifugo.sh key)")
	parallel := fs.Int("parallel", 32, "listeners being opened at once")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for deliveries after the last event")
	_ = fs.Parse(args)
	if *url == "" {
		*url = "http://127.0.0.1:8080"
		if *target == live.TargetCentrifugo {
			*url = "http://127.0.0.1:8000"
		}
	}
	if *target == live.TargetCentrifugo && *apiKey == "" {
		return errors.New("fanout -target centrifugo needs -api-key")
	}
	if err := raiseFileLimit(uint64(*n) + 256); err != nil {
		return err
	}
	res, err := live.Fanout(live.FanoutConfig{Target: *target, URL: *url, Token: *token, APIKey: *apiKey,
		Listeners: *n, Events: *events, Rate: *rate, Parallel: *parallel, Wait: *wait})
	if err != nil {
		return err
	}
	if res.Delivered == 0 {
		return errors.New("no event arrived")
	}
	fmt.Printf("fanout %s: %d listeners (opened in %.1f s), %d events at %d/s: %d deliveries in %.2f s = %.1f k deliveries/s; delay p50 %.2f ms, p99 %.2f ms, max %.2f ms, missing %d\n",
		*target, *n, res.Opening.Seconds(), *events, *rate, res.Delivered, res.Span.Seconds(), res.PerSecond()/1000,
		live.Millis(live.Quantile(res.Delays, 0.5)), live.Millis(live.Quantile(res.Delays, 0.99)),
		live.Millis(res.Delays[len(res.Delays)-1]), res.Missing)
	if res.Missing > 0 {
		return fmt.Errorf("%d deliveries missing %s after the last event", res.Missing, *wait)
	}
	return nil
}
