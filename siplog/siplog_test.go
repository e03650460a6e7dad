package siplog

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A flood of one message logs burst records per interval; the next record
// that passes says how many were suppressed; parse failures are counted.
func TestLimitHandler(t *testing.T) {
	var buf bytes.Buffer
	var parseErrs atomic.Uint64
	h := NewLimitHandler(slog.NewTextHandler(&buf, nil), 10*time.Second, 5, &parseErrs)
	log := slog.New(h).With("component", "sipgo")
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	emit := func(at time.Time, msg string) {
		r := slog.NewRecord(at, slog.LevelError, msg, 0)
		if err := log.Handler().Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		emit(t0.Add(time.Duration(i)*time.Millisecond), "failed to parse")
	}
	emit(t0.Add(time.Second), "another message")
	if n := strings.Count(buf.String(), "failed to parse"); n != 5 {
		t.Fatalf("%d records of the flood logged, want 5:\n%s", n, buf.String())
	}
	emit(t0.Add(11*time.Second), "failed to parse")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "suppressed_since_last=15") || !strings.Contains(last, "component=sipgo") {
		t.Errorf("record after the interval: %q", last)
	}
	if parseErrs.Load() != 21 {
		t.Errorf("parse errors counted %d, want 21", parseErrs.Load())
	}
	if !strings.Contains(buf.String(), "another message") {
		t.Error("other messages must not be limited by the flood")
	}
}

// Logger tags the stack's records and limits each message to 5 per 10 s;
// NewUA names the user agent and its host.
func TestLoggerAndNewUA(t *testing.T) {
	var buf bytes.Buffer
	var parseErrs atomic.Uint64
	log := Logger(slog.NewTextHandler(&buf, nil), &parseErrs)
	for range 7 {
		log.Error("failed to parse")
	}
	if n := strings.Count(buf.String(), "component=sipgo"); n != 5 {
		t.Errorf("%d records passed, want 5:\n%s", n, buf.String())
	}
	if parseErrs.Load() != 7 {
		t.Errorf("parse errors counted %d, want 7", parseErrs.Load())
	}
	ua, err := NewUA("callrec-test", "127.0.0.1", log)
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	if ua.Name() != "callrec-test" || ua.Hostname() != "127.0.0.1" {
		t.Errorf("user agent %q on %q", ua.Name(), ua.Hostname())
	}
}
