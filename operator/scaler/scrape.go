package scaler

import (
	"context"
	"fmt"
	"io"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// StreamsMetric is the nodes' gauge of open live streams.
const StreamsMetric = "lattice_stream_connections"

// maxMetricsBytes bounds what Scrape reads of one node's /metrics.
const maxMetricsBytes = 4 << 20

// Scrape reads the open streams from the Prometheus text at url (a node's
// /metrics): the sum of every series of StreamsMetric, 0 when the node has none yet.
func Scrape(ctx context.Context, hc *http.Client, url string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, maxMetricsBytes))
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	return sum(families[StreamsMetric]), nil
}

func sum(f *dto.MetricFamily) float64 {
	total := 0.0
	if f == nil {
		return 0
	}
	for _, m := range f.GetMetric() {
		switch {
		case m.GetGauge() != nil:
			total += m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			total += m.GetCounter().GetValue()
		case m.GetUntyped() != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}
