package main

import (
	"context"
	"fmt"
	"time"

	"github.com/callrec/callrec/bench/internal/benchkit"
)

// The call plane's SIPREC session has its own Call-ID and the recorder
// does not keep the recorded call's (siprecclient sends it in callrec's
// metadata extension, which the recorder does not store), so a recording
// is matched to its call by owner (each phone is its own person) and
// start time (the call's answer, within matchWindow).
const matchWindow = 2 * time.Second

// ownedCall is an answered call of the run as the recordings see it.
type ownedCall struct {
	answered time.Time
	span     time.Duration
	matched  bool
}

// matchCall picks the unmatched call of calls nearest to start, within
// matchWindow; nil when none.
func matchCall(calls []*ownedCall, start time.Time) *ownedCall {
	var best *ownedCall
	for _, c := range calls {
		d := c.answered.Sub(start).Abs()
		if c.matched || d > matchWindow {
			continue
		}
		if best == nil || d < best.answered.Sub(start).Abs() {
			best = c
		}
	}
	return best
}

// checkRecordings reads the run's recordings back and checks each against
// its call: complete and as long as the call's answer-to-BYE span within
// tol. byOwner maps a person id to its answered calls.
func checkRecordings(ctx context.Context, api *benchkit.APIClient, since time.Time, established int, byOwner map[string][]*ownedCall, tol time.Duration) (*benchkit.RecordingSummary, error) {
	items, err := api.ListRecordings(ctx, since.Add(-time.Minute), time.Now().Add(time.Minute))
	if err != nil {
		return nil, err
	}
	rs := &benchkit.RecordingSummary{MatchedBy: "owner+start"}
	problem := func(f string, a ...any) {
		if len(rs.Problems) < 10 {
			rs.Problems = append(rs.Problems, fmt.Sprintf(f, a...))
		}
	}
	for _, it := range items {
		rec := it
		if _, ok := rec["callrec"].(map[string]any); !ok || rec["ownerId"] == nil {
			id, _ := it["id"].(string)
			d, ok := api.Details(ctx, id)["details"].(map[string]any)
			if !ok {
				problem("%s: no details", id)
				continue
			}
			rec = d
		}
		owner, _ := rec["ownerId"].(string)
		cr, _ := rec["callrec"].(map[string]any)
		st, _ := cr["startTime"].(string)
		start, err := time.Parse(time.RFC3339Nano, st)
		calls, ours := byOwner[owner]
		if !ours {
			continue // another org's recording
		}
		var c *ownedCall
		if err == nil {
			c = matchCall(calls, start)
		}
		if c == nil {
			problem("%v: recording of %s at %s matches no call", rec["id"], owner, st)
			continue
		}
		c.matched = true
		rs.Add(benchkit.CheckRecording(rec, c.span, tol), c.span.Seconds())
	}
	rs.Missing = max(0, established-rs.Found)
	return rs, nil
}
