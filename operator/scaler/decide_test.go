package scaler

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func loads(streams ...float64) []Load {
	out := make([]Load, len(streams))
	for i, s := range streams {
		out[i] = Load{Pod: string(rune('a' + i)), Streams: s, OK: s >= 0}
	}
	return out
}

const silent = -1 // a node that did not answer

func TestDecide(t *testing.T) {
	p := Policy{Min: 2, Max: 10, TargetStreams: 1000, ScaleDownWindow: 5 * time.Minute}
	tests := []struct {
		name    string
		current int32
		loads   []Load
		want    int32
	}{
		{"at the target", 3, loads(1000, 1000, 1000), 3},
		{"within the tolerance", 3, loads(1050, 1100, 1000), 3},
		{"more load: one more node", 2, loads(1500, 1500), 3},
		{"a burst goes to the maximum at once", 3, loads(10000, 12000, 9000), 10},
		{"a silent node does not speed a scale-up", 3, loads(1500, 1500, silent), 3},
		{"no node answered: nothing changes", 4, loads(silent, silent, silent, silent), 4},
		{"nothing open: the minimum", 4, loads(0, 0, 0, 0), 2},
		{"a silent node slows a scale-down", 4, loads(100, 100, silent, silent), 3},
		{"beyond the maximum is the maximum", 10, loads(5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000), 10},
		{"below the minimum is the minimum", 1, loads(10), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(p, tt.current, tt.loads, t0, nil)
			if d.Replicas != tt.want {
				t.Fatalf("replicas %d, want %d (%s)", d.Replicas, tt.want, d.Reason)
			}
		})
	}
}

// TestScaleDownOnlyAfterTheWindow: after a peak, the nodes stay until the peak is
// older than the window, then go at once to what the load asks.
func TestScaleDownOnlyAfterTheWindow(t *testing.T) {
	p := Policy{Min: 2, Max: 10, TargetStreams: 1000, ScaleDownWindow: 5 * time.Minute}
	d := Decide(p, 3, loads(2000, 2000, 2000), t0, nil)
	if d.Replicas != 6 {
		t.Fatalf("peak: %d", d.Replicas)
	}
	current, h := d.Replicas, d.History
	for m := 1; m <= 5; m++ {
		d = Decide(p, current, loads(300, 300, 300, 300, 300, 300), t0.Add(time.Duration(m)*time.Minute), h)
		if d.Replicas != 6 {
			t.Fatalf("minute %d, within the window: %d", m, d.Replicas)
		}
		h = d.History
	}
	d = Decide(p, current, loads(300, 300, 300, 300, 300, 300), t0.Add(5*time.Minute+time.Second), h)
	if d.Replicas != 2 {
		t.Fatalf("after the window: %d (%s)", d.Replicas, d.Reason)
	}
}

// TestNoFlapping: a load that swings every minute between two levels keeps the
// replicas at what the higher level needs.
func TestNoFlapping(t *testing.T) {
	p := Policy{Min: 2, Max: 20, TargetStreams: 500, ScaleDownWindow: 3 * time.Minute}
	current, history := int32(6), []Recommendation(nil)
	for m := 0; m < 30; m++ {
		per := 500.0 // 3000 streams on 6 nodes
		if m%2 == 1 {
			per = 250 // 1500 streams
		}
		l := make([]float64, current)
		for i := range l {
			l[i] = per
		}
		d := Decide(p, current, loads(l...), t0.Add(time.Duration(m)*time.Minute), history)
		if d.Replicas != 6 {
			t.Fatalf("minute %d: %d replicas (%s)", m, d.Replicas, d.Reason)
		}
		current, history = d.Replicas, d.History
	}
	if len(history) > 4 {
		t.Errorf("history keeps %d recommendations; the window holds at most 4", len(history))
	}
}
