package scaler

import (
	"fmt"
	"math"
	"time"
)

// Policy bounds and steers the decisions for one cluster.
type Policy struct {
	// Min and Max bound the replicas.
	Min, Max int32
	// TargetStreams is the open streams each node should hold on average.
	TargetStreams float64
	// ScaleDownWindow: the replicas go down only to the highest recommendation of
	// this long ago until now, so a dip does not remove nodes that are needed again
	// a minute later.
	ScaleDownWindow time.Duration
	// Tolerance: no change while the load is within this fraction of the target
	// (default 0.1), so small wobbles do not flap.
	Tolerance float64
}

// Load is what one node reported; OK is false when it did not answer.
type Load struct {
	Pod     string
	Streams float64
	OK      bool
}

// Recommendation is one past decision's raw result, kept for the window.
type Recommendation struct {
	At       time.Time
	Replicas int32
}

// Decision is the outcome of Decide.
type Decision struct {
	// Replicas is the replica count to set (== current: no change).
	Replicas int32
	// History is the recommendations to pass to the next Decide.
	History []Recommendation
	// Reason says why, for logs and Events.
	Reason string
}

// Decide returns the replicas for a cluster running current nodes that reported
// loads, at now. Nodes that did not answer count, like the HPA's missing pods, as
// idle when the others ask for more nodes (a silent pod does not speed a scale-up)
// and as at the target when they ask for fewer (it does not speed a scale-down). When
// no node answered, nothing changes.
func Decide(p Policy, current int32, loads []Load, now time.Time, history []Recommendation) Decision {
	history = prune(history, now, p.ScaleDownWindow)
	answered, total := 0, 0.0
	for _, l := range loads {
		if l.OK {
			answered++
			total += l.Streams
		}
	}
	if answered == 0 || p.TargetStreams <= 0 {
		return Decision{Replicas: clamp(current, p), History: history, Reason: "no node reported its load"}
	}
	missing := float64(len(loads) - answered)
	raw := recommend(p, current, total, float64(answered), missing)
	history = append(history, Recommendation{At: now, Replicas: raw})
	want := raw
	if raw < current {
		want = min(current, highest(history))
	}
	want = clamp(want, p)
	reason := fmt.Sprintf("%.0f streams on %d of %d nodes, target %.0f per node", total, answered, len(loads), p.TargetStreams)
	return Decision{Replicas: want, History: history, Reason: reason}
}

// recommend is the replica count the load asks for, before the window and bounds.
func recommend(p Policy, current int32, total, answered, missing float64) int32 {
	tolerance := p.Tolerance
	if tolerance <= 0 {
		tolerance = 0.1
	}
	ratio := (total / answered) / p.TargetStreams
	switch {
	case math.Abs(ratio-1) <= tolerance:
		return current
	case ratio > 1: // more nodes: the silent ones count as idle
		ratio = total / ((answered + missing) * p.TargetStreams)
		if ratio <= 1+tolerance {
			return current
		}
	default: // fewer nodes: the silent ones count as at the target
		ratio = (total + missing*p.TargetStreams) / ((answered + missing) * p.TargetStreams)
		if ratio >= 1-tolerance {
			return current
		}
	}
	nodes := max(float64(current), answered+missing)
	return int32(math.Ceil(ratio * nodes))
}

// prune keeps the recommendations within the window.
func prune(h []Recommendation, now time.Time, window time.Duration) []Recommendation {
	out := h[:0:0]
	for _, r := range h {
		if now.Sub(r.At) <= window {
			out = append(out, r)
		}
	}
	return out
}

func highest(h []Recommendation) int32 {
	var m int32
	for _, r := range h {
		m = max(m, r.Replicas)
	}
	return m
}

func clamp(n int32, p Policy) int32 {
	return min(max(n, p.Min, 1), max(p.Max, p.Min, 1))
}
