package benchkit

import (
	"context"
	"time"
)

// RecordingSummary is what the recordings of a run say about its calls.
type RecordingSummary struct {
	MatchedBy      string   `json:"matchedBy"` // "call-id" or "time"
	Found          int      `json:"found"`
	Complete       int      `json:"complete"`
	Partial        int      `json:"partial"`
	WrongDuration  int      `json:"wrongDuration"`
	Missing        int      `json:"missing"` // established calls without a recording
	Received       uint64   `json:"packetsReceived"`
	Lost           uint64   `json:"lost"`
	Late           uint64   `json:"late"`
	Dropped        uint64   `json:"dropped"`
	MinDurationSec float64  `json:"minDurationSeconds"`
	MaxDurationSec float64  `json:"maxDurationSeconds"`
	Problems       []string `json:"problems,omitempty"`
}

// AllComplete reports whether every one of the established calls has a
// complete recording; a nil summary (recordings not checked) passes.
func (rs *RecordingSummary) AllComplete(established int) bool {
	if rs == nil {
		return true
	}
	return rs.Missing == 0 && rs.Complete == established
}

// CheckRecordings lists the recordings made since start (a minute of
// slack either side), matches them to the run's calls by SIP Call-ID
// (found anywhere in the list item, else in the details or metadata) and
// checks each: callIDs maps a Call-ID to the span its recording must
// last (0: nominal), tol is the allowed difference, established the
// number of calls that should have one. When no recording names a
// Call-ID of the run, the recordings made since start are checked
// against nominal instead (MatchedBy "time").
func CheckRecordings(ctx context.Context, api *APIClient, start time.Time, established int, callIDs map[string]time.Duration, nominal, tol time.Duration) (*RecordingSummary, error) {
	from := start.Add(-time.Minute)
	to := time.Now().Add(time.Minute)
	items, err := api.ListRecordings(ctx, from, to)
	if err != nil {
		return nil, err
	}
	rs := &RecordingSummary{MatchedBy: "call-id"}
	matched := map[string]bool{}
	type check struct {
		RecordingCheck
		want time.Duration
	}
	var checks []check
	deep := false // learned: the Call-ID is only in details/metadata
	for _, it := range items {
		rid, _ := it["id"].(string)
		rec, extra := it, map[string]any(nil)
		fetch := func() {
			if extra != nil || rid == "" {
				return
			}
			extra = api.Details(ctx, rid)
			if d, ok := extra["details"].(map[string]any); ok && rec["callrec"] == nil {
				rec = d
			}
		}
		if _, ok := it["callrec"]; !ok {
			fetch() // the list item is abridged: check the details
		}
		id := FindCallID(rec, callIDs)
		if id == "" && (deep || len(matched) == 0) {
			fetch()
			if id = FindCallID(extra, callIDs); id != "" {
				deep = true
			}
		}
		if id == "" || matched[id] {
			continue
		}
		matched[id] = true
		want := callIDs[id]
		if want == 0 {
			want = nominal
		}
		checks = append(checks, check{CheckRecording(rec, want, tol), want})
	}
	if len(matched) == 0 && len(items) > 0 {
		// The server exposes no Call-ID: fall back to the recordings made
		// during the run.
		rs.MatchedBy = "time"
		for _, it := range items {
			tr, _ := it["timeRecorded"].(string)
			t, err := time.Parse(time.RFC3339, tr)
			if err == nil && !t.Before(start.Add(-time.Second)) {
				checks = append(checks, check{CheckRecording(it, nominal, tol), nominal})
			}
		}
	}
	for _, c := range checks {
		rs.Add(c.RecordingCheck, c.want.Seconds())
	}
	rs.Missing = max(0, established-rs.Found)
	return rs, nil
}
