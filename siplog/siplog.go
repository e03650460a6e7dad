// Package siplog keeps the SIP stack's own logs in check: a peer decides
// how often the stack has something to say (one error per malformed
// datagram), so every SIP server of callrec (the recorder, the call plane)
// logs the stack through a per-message rate limit (Logger) and builds
// its user agent with that logger (NewUA). It must never drop the count
// of what it suppressed.
package siplog

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// limitHandler is the slog handler for the SIP stack's own logs. A peer
// controls how often those fire (a flood of malformed datagrams logs one
// error each, payload included), so each message text may log at most
// burst records per interval; the rest are counted and reported in the
// next record that passes. Records of the message "failed to parse" are
// also counted for the malformed-SIP metric.
type limitHandler struct {
	next     slog.Handler
	interval time.Duration
	burst    int
	parseErr *atomic.Uint64
	state    *limitState
}

type limitState struct {
	mu      sync.Mutex
	windows map[string]*limitWindow
}

type limitWindow struct {
	start      time.Time
	count      int
	suppressed int
}

// maxLimitKeys bounds the per-message table (messages are fixed strings of
// the SIP stack, so this is a guard, not a working limit).
const maxLimitKeys = 256

// NewLimitHandler returns a handler that passes at most burst records of
// each message text per interval to next, and counts records of "failed
// to parse" in parseErr (nil: not counted).
func NewLimitHandler(next slog.Handler, interval time.Duration, burst int, parseErr *atomic.Uint64) slog.Handler {
	return &limitHandler{next: next, interval: interval, burst: burst, parseErr: parseErr,
		state: &limitState{windows: map[string]*limitWindow{}}}
}

// Enabled implements slog.Handler.
func (h *limitHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *limitHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "failed to parse" && h.parseErr != nil {
		h.parseErr.Add(1)
	}
	st := h.state
	st.mu.Lock()
	w := st.windows[r.Message]
	if w == nil {
		if len(st.windows) >= maxLimitKeys {
			st.windows = map[string]*limitWindow{}
		}
		w = &limitWindow{start: r.Time}
		st.windows[r.Message] = w
	}
	if r.Time.Sub(w.start) >= h.interval {
		w.start, w.count = r.Time, 0
	}
	w.count++
	if w.count > h.burst {
		w.suppressed++
		st.mu.Unlock()
		return nil
	}
	suppressed := w.suppressed
	w.suppressed = 0
	st.mu.Unlock()
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed_since_last", suppressed))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *limitHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	return &c
}

// WithGroup implements slog.Handler.
func (h *limitHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

// Logger returns the logger for the SIP stack of a callrec server: next
// behind the rate limit of NewLimitHandler (at most 5 records of each
// message per 10 s), tagged component=sipgo; parseErr counts "failed to
// parse" records (nil: not counted).
func Logger(next slog.Handler, parseErr *atomic.Uint64) *slog.Logger {
	return slog.New(NewLimitHandler(next, 10*time.Second, 5, parseErr)).With("component", "sipgo")
}

// NewUA returns a sipgo user agent named name (and hostname host, "" for
// none) whose transport and transaction layers log to log.
func NewUA(name, host string, log *slog.Logger) (*sipgo.UserAgent, error) {
	opts := []sipgo.UserAgentOption{sipgo.WithUserAgent(name),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log))}
	if host != "" {
		opts = append(opts, sipgo.WithUserAgentHostname(host))
	}
	return sipgo.NewUA(opts...)
}
