package benchkit

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		stat string
		want float64
		err  bool
	}{
		{
			name: "plain command",
			stat: "4242 (callrec) S 1 4242 4242 0 -1 4194560 1234 0 0 0 1500 250 0 0 20 0 12 0 100 2000000000 30000 18446744073709551615",
			want: 17.5,
		},
		{
			name: "command with spaces and parentheses",
			stat: "7 (my (odd) prog) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 5 100 10",
			want: 0.07,
		},
		{name: "truncated", stat: "7 (x) R 1 2 3", err: true},
		{name: "no command", stat: "7 x R", err: true},
		{name: "not numbers", stat: "7 (x) R 1 7 7 0 -1 0 0 0 0 0 a b 0 0", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStatCPU(tc.stat)
			if (err != nil) != tc.err || (!tc.err && got != tc.want) {
				t.Errorf("ParseStatCPU = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseStatusMem(t *testing.T) {
	status := "Name:\tcallrec\nVmPeak:\t  900000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t   98765 kB\nThreads:\t12\n"
	rss, hwm := ParseStatusMem(status)
	if rss != 98765 || hwm != 123456 {
		t.Errorf("rss %d hwm %d", rss, hwm)
	}
	if rss, hwm := ParseStatusMem("Name:\tkthreadd\n"); rss != 0 || hwm != 0 {
		t.Errorf("kernel thread: rss %d hwm %d", rss, hwm)
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := ReadProc("self")
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSKiB <= 0 || s.HWMKiB < s.RSSKiB {
		t.Errorf("self: %+v", s)
	}
}

func TestNextLink(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`<https://x.test/v1/r?max=10&cursor=abc>; rel="next"`, "https://x.test/v1/r?max=10&cursor=abc"},
		{`<http://a/first>; rel="first", <http://a/next?x=1,2>; rel="next"`, "http://a/next?x=1,2"},
		{`<http://a/prev>; rel="prev"`, ""},
		{`<http://a/n>; rel=next`, "http://a/n"},
		{`<http://a/n>; title="x"; rel="prev next"`, "http://a/n"},
		{`http://a/bare?cursor=2`, "http://a/bare?cursor=2"},
		{``, ""},
		{`<http://a/unterminated; rel="next"`, ""},
	} {
		if got := NextLink(tc.in); got != tc.want {
			t.Errorf("NextLink(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckRecording(t *testing.T) {
	var rec map[string]any
	_ = json.Unmarshal([]byte(`{"id":"r1","durationSeconds":60.02,"callrec":{"partial":false,
		"streams":[{"label":"1","stats":{"received":3000,"lost":1,"late":2,"dropped":0}},
		           {"label":"2","stats":{"received":2999,"lost":0,"late":0,"dropped":3}}]}}`), &rec)
	c := CheckRecording(rec, 60*time.Second, 40*time.Millisecond)
	if !c.Complete() || c.Received != 5999 || c.Lost != 1 || c.Late != 2 || c.Drop != 3 {
		t.Errorf("check %+v", c)
	}
	if c := CheckRecording(rec, 59*time.Second, 40*time.Millisecond); c.Complete() {
		t.Errorf("a recording 1 s long passed as complete")
	}
	rec["callrec"].(map[string]any)["partial"] = true
	if c := CheckRecording(rec, 60*time.Second, 40*time.Millisecond); c.Complete() {
		t.Errorf("a partial recording passed as complete")
	}
	if c := CheckRecording(map[string]any{"durationSeconds": 60.0}, 60*time.Second, 40*time.Millisecond); c.Complete() {
		t.Errorf("a recording without callrec.partial passed as complete")
	}
	// callrec.durationMs is finer than a rounded durationSeconds and wins.
	var rounded map[string]any
	_ = json.Unmarshal([]byte(`{"durationSeconds":60,"callrec":{"partial":false,"durationMs":60300}}`), &rounded)
	if c := CheckRecording(rounded, 60*time.Second, 40*time.Millisecond); c.DurationSeconds != 60.3 || c.Complete() {
		t.Errorf("durationMs ignored: %+v", c)
	}
}

// fakeAPI serves the admin list in pages of two with Link rel="next"; the
// list items omit callrec and the Call-ID, which only the details carry.
func fakeAPI(t *testing.T, recs []map[string]any) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/admin/convergedRecordings", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if _, err := time.Parse(time.RFC3339, r.URL.Query().Get("from")); err != nil || r.URL.Query().Get("max") != "100" {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		var items []map[string]any
		for i := page * 2; i < len(recs) && i < page*2+2; i++ {
			items = append(items, map[string]any{"id": recs[i]["id"], "timeRecorded": recs[i]["timeRecorded"]})
		}
		if (page+1)*2 < len(recs) {
			q := r.URL.Query()
			q.Set("page", strconv.Itoa(page+1))
			w.Header().Set("Link", fmt.Sprintf(`</v1/admin/convergedRecordings?%s>; rel="next"`, q.Encode()))
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
	})
	mux.HandleFunc("GET /v1/convergedRecordings/{id}", func(w http.ResponseWriter, r *http.Request) {
		for _, rec := range recs {
			if rec["id"] == r.PathValue("id") {
				_ = json.NewEncoder(w).Encode(rec)
				return
			}
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("GET /v1/convergedRecordings/{id}/metadata", func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestCheckRecordingsFollowsPagesAndMatchesCallIDs(t *testing.T) {
	now := time.Now().UTC()
	mk := func(id, callID string, dur float64, partial bool) map[string]any {
		return map[string]any{
			"id": id, "durationSeconds": dur, "timeRecorded": now.Format(time.RFC3339),
			"callrec": map[string]any{"partial": partial, "sipCallId": callID,
				"streams": []any{map[string]any{"stats": map[string]any{"received": 100.0, "lost": 1.0}}}},
		}
	}
	recs := []map[string]any{
		mk("a", "call-1@127.0.0.1", 10.01, false),
		mk("b", "call-2@127.0.0.1", 10.0, true),
		mk("c", "someone-else@x", 10.0, false),
		mk("d", "call-3@127.0.0.1", 9.5, false),
		mk("e", "call-4@127.0.0.1", 9.97, false),
	}
	srv := fakeAPI(t, recs)
	base, _ := url.Parse(srv.URL)
	api := &APIClient{Base: base, Token: "tok", HTTP: srv.Client()}
	ids := map[string]time.Duration{"call-1@127.0.0.1": 0, "call-2@127.0.0.1": 0, "call-3@127.0.0.1": 0, "call-4@127.0.0.1": 0, "call-5@127.0.0.1": 0}
	rs, err := CheckRecordings(context.Background(), api, now, 5, ids, 10*time.Second, 40*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	want := RecordingSummary{MatchedBy: "call-id", Found: 4, Complete: 2, Partial: 1, WrongDuration: 1, Missing: 1, Received: 400, Lost: 4, MinDurationSec: 9.5, MaxDurationSec: 10.01}
	rs.Problems = nil
	if fmt.Sprint(*rs) != fmt.Sprint(want) {
		t.Errorf("got  %+v\nwant %+v", *rs, want)
	}
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{
		"4242 (callrec) S 1 4242 4242 0 -1 4194560 1234 0 0 0 1500 250 0 0 20 0 12 0 100",
		`<http://a/first>; rel="first", <http://a/next>; rel="next"`,
		"VmHWM:\t 1 kB\nVmRSS:\t 2 kB\n", ")", "<", "<>;rel=next", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if cpu, err := ParseStatCPU(s); err == nil && cpu < 0 {
			t.Errorf("negative CPU %v", cpu)
		}
		if rss, hwm := ParseStatusMem(s); rss < 0 || hwm < 0 {
			t.Errorf("negative memory %d %d", rss, hwm)
		}
		if n := NextLink(s); n != "" && !strings.Contains(s, n) {
			t.Errorf("next link %q not in %q", n, s)
		}
	})
}

func TestFlagExit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"help is success and prints nothing more", flag.ErrHelp, 0, ""},
		{"wrapped help too", fmt.Errorf("parse: %w", flag.ErrHelp), 0, ""},
		{"a bad flag is a usage error", errors.New("--calls 0 outside 1..500"), 2, "callload: --calls 0 outside 1..500\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			if got := FlagExit(&stderr, "callload", tc.err); got != tc.code {
				t.Errorf("exit %d, want %d", got, tc.code)
			}
			if stderr.String() != tc.stderr {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.stderr)
			}
		})
	}
}

func TestAllComplete(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rs          *RecordingSummary
		established int
		want        bool
	}{
		{"not checked", nil, 5, true},
		{"every call recorded whole", &RecordingSummary{Found: 5, Complete: 5}, 5, true},
		{"a call without a recording", &RecordingSummary{Found: 4, Complete: 4, Missing: 1}, 5, false},
		{"a partial recording", &RecordingSummary{Found: 5, Complete: 4, Partial: 1}, 5, false},
		{"no call established, none recorded", &RecordingSummary{}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rs.AllComplete(tc.established); got != tc.want {
				t.Errorf("AllComplete(%d) of %+v = %v, want %v", tc.established, tc.rs, got, tc.want)
			}
		})
	}
}
