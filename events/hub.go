package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// Defaults of [Config].
const (
	DefaultQueueSize    = 4096
	DefaultStreamBuffer = 256
	DefaultLaneSize     = 256
	DefaultAttempts     = 3
	DefaultBackoff      = time.Second
	DefaultTimeout      = 10 * time.Second
	DefaultMaxFailures  = 5
	DefaultHeartbeat    = 15 * time.Second
)

// Config configures a [Hub]. Zero values take the defaults.
type Config struct {
	// Store holds the webhooks (kind [Webhooks]); nil: no webhook
	// deliveries, streams only.
	Store directory.Store
	// Client sends the deliveries; nil: a plain client. Redirects are
	// never followed (a 3xx answer is a failed attempt), whatever the
	// client says.
	Client *http.Client
	// QueueSize bounds the events waiting for the webhook dispatcher.
	QueueSize int
	// StreamBuffer bounds the events waiting for one stream subscriber.
	StreamBuffer int
	// LaneSize bounds the deliveries waiting for one webhook.
	LaneSize int
	// Attempts is how often one delivery is tried before it counts as failed.
	Attempts int
	// Backoff is the wait before the second attempt; it doubles after each.
	Backoff time.Duration
	// Timeout bounds one attempt (connect, send, response headers).
	Timeout time.Duration
	// MaxFailures is how many deliveries in a row may fail (after their
	// retries) before the webhook is marked inactive, as Webex does.
	MaxFailures int
	// Heartbeat is how often an idle event stream sends a comment line,
	// so proxies and clients know it is alive.
	Heartbeat time.Duration
	// Now is the clock of event times; nil: time.Now.
	Now func() time.Time
	// Logger logs failed deliveries and deactivations; nil discards.
	Logger *slog.Logger
	// Registerer receives the hub's counters (callrec_events_*); nil: none.
	Registerer prometheus.Registerer
}

// Stats are the hub's counters since it was made.
type Stats struct {
	// Published counts events accepted by Publish.
	Published uint64
	// Invalid counts events Publish refused (no org, unknown state).
	Invalid uint64
	// QueueDropped counts events the webhook dispatcher had no room for.
	QueueDropped uint64
	// StreamDropped counts events a slow stream subscriber had no room for.
	StreamDropped uint64
	// LaneDropped counts deliveries a slow webhook had no room for.
	LaneDropped uint64
	// Delivered counts deliveries a receiver accepted (2xx).
	Delivered uint64
	// AttemptsFailed counts failed attempts (each retry counts).
	AttemptsFailed uint64
	// DeliveriesFailed counts deliveries that failed every attempt.
	DeliveriesFailed uint64
	// Deactivated counts webhooks marked inactive after repeated failures.
	Deactivated uint64
}

// Hub fans recording state events out to stream subscribers and webhooks.
// Publish and Subscribe are safe for concurrent use; Run delivers to
// webhooks and must run (once) for them to receive anything.
type Hub struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	queue  chan Event

	subMu  sync.RWMutex
	subs   map[string]map[*subscriber]struct{} // by org
	closed bool                                // Close was called: no new subscribers

	laneMu   sync.Mutex
	lanes    map[string]*lane // by webhook id
	failures map[string]int   // consecutive failed deliveries by webhook id
	lanesWG  sync.WaitGroup

	published, invalid, queueDropped, streamDropped, laneDropped atomic.Uint64
	delivered, attemptsFailed, deliveriesFailed, deactivated     atomic.Uint64
}

type subscriber struct {
	ch     chan Event
	closed bool
}

type lane struct {
	ch chan delivery
	// skip is how many queued deliveries to drop: those that were
	// waiting when the webhook was deactivated. Later ones (after an
	// admin reactivated it) are delivered.
	skip int
}

type delivery struct {
	hook  Webhook
	event Event
}

// New returns a hub; start Run to deliver webhooks.
func New(cfg Config) (*Hub, error) {
	if cfg.QueueSize < 0 || cfg.StreamBuffer < 0 || cfg.LaneSize < 0 || cfg.Attempts < 0 || cfg.Backoff < 0 ||
		cfg.Timeout < 0 || cfg.MaxFailures < 0 || cfg.Heartbeat < 0 {
		return nil, fmt.Errorf("events: new: sizes, counts and durations must not be negative: %w", callrec.ErrInvalid)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.QueueSize, DefaultQueueSize)
	def(&cfg.StreamBuffer, DefaultStreamBuffer)
	def(&cfg.LaneSize, DefaultLaneSize)
	def(&cfg.Attempts, DefaultAttempts)
	def(&cfg.MaxFailures, DefaultMaxFailures)
	defD(&cfg.Backoff, DefaultBackoff)
	defD(&cfg.Timeout, DefaultTimeout)
	defD(&cfg.Heartbeat, DefaultHeartbeat)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Hub{
		cfg:      cfg,
		log:      cfg.Logger,
		queue:    make(chan Event, cfg.QueueSize),
		subs:     map[string]map[*subscriber]struct{}{},
		lanes:    map[string]*lane{},
		failures: map[string]int{},
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	client := &http.Client{}
	if cfg.Client != nil {
		c := *cfg.Client
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h.client = client
	if cfg.Registerer != nil {
		if err := h.registerMetrics(cfg.Registerer); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// registerMetrics exports the counters.
func (h *Hub) registerMetrics(reg prometheus.Registerer) error {
	counters := []struct {
		name, help string
		v          *atomic.Uint64
	}{
		{"callrec_events_published_total", "Recording state events published (R34).", &h.published},
		{"callrec_events_queue_dropped_total", "Events dropped because the webhook dispatcher queue was full.", &h.queueDropped},
		{"callrec_events_stream_dropped_total", "Events dropped because an event-stream subscriber was too slow.", &h.streamDropped},
		{"callrec_events_webhook_dropped_total", "Webhook deliveries dropped because the webhook's queue was full.", &h.laneDropped},
		{"callrec_events_webhook_delivered_total", "Webhook deliveries accepted by their receiver.", &h.delivered},
		{"callrec_events_webhook_failed_total", "Webhook deliveries that failed every attempt.", &h.deliveriesFailed},
		{"callrec_events_webhook_deactivated_total", "Webhooks marked inactive after repeated failures.", &h.deactivated},
	}
	for _, c := range counters {
		v := c.v
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return float64(v.Load()) })); err != nil {
			return fmt.Errorf("events: register metric %s: %w", c.name, err)
		}
	}
	return nil
}

// Stats returns the counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Published: h.published.Load(), Invalid: h.invalid.Load(), QueueDropped: h.queueDropped.Load(),
		StreamDropped: h.streamDropped.Load(), LaneDropped: h.laneDropped.Load(), Delivered: h.delivered.Load(),
		AttemptsFailed: h.attemptsFailed.Load(), DeliveriesFailed: h.deliveriesFailed.Load(), Deactivated: h.deactivated.Load(),
	}
}

// Heartbeat is how often an idle event stream should send a comment.
func (h *Hub) Heartbeat() time.Duration { return h.cfg.Heartbeat }

// Publish hands a recording state change to the stream subscribers of
// its org and to the webhook dispatcher. It never blocks and does no
// I/O: a subscriber or queue without room loses the event, counted in
// Stats. It sets e.ID and e.Time when empty, and reports whether the
// event was accepted (false: no org or an unknown state).
func (h *Hub) Publish(e Event) bool {
	if e.OrgID == "" || !ValidState(e.State) {
		h.invalid.Add(1)
		return false
	}
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.Time.IsZero() {
		e.Time = h.cfg.Now()
	}
	h.published.Add(1)
	h.subMu.RLock()
	for sub := range h.subs[e.OrgID] {
		select {
		case sub.ch <- e:
		default:
			h.streamDropped.Add(1)
		}
	}
	h.subMu.RUnlock()
	if h.cfg.Store != nil {
		select {
		case h.queue <- e:
		default:
			h.queueDropped.Add(1)
		}
	}
	return true
}

// Subscribe returns a channel of the org's events, in the order they
// were published, and the function that ends the subscription and
// closes the channel (safe to call more than once). The channel holds
// Config.StreamBuffer events; a subscriber that falls further behind
// loses events (counted in Stats.StreamDropped), it never slows Publish.
// Filtering for the caller (a user sees only its own events) is the
// caller's business.
func (h *Hub) Subscribe(orgID string) (<-chan Event, func()) {
	sub := &subscriber{ch: make(chan Event, h.cfg.StreamBuffer)}
	h.subMu.Lock()
	if h.closed {
		h.subMu.Unlock()
		close(sub.ch)
		return sub.ch, func() {}
	}
	m := h.subs[orgID]
	if m == nil {
		m = map[*subscriber]struct{}{}
		h.subs[orgID] = m
	}
	m[sub] = struct{}{}
	h.subMu.Unlock()
	return sub.ch, func() {
		h.subMu.Lock()
		defer h.subMu.Unlock()
		if sub.closed {
			return
		}
		sub.closed = true
		delete(h.subs[orgID], sub)
		if len(h.subs[orgID]) == 0 {
			delete(h.subs, orgID)
		}
		close(sub.ch)
	}
}

// Close ends every stream subscription (their channels close, so the
// streams of the REST API end at shutdown) and refuses new ones: a
// Subscribe after Close returns a closed channel. Publish keeps working
// for webhooks. Close is safe to call more than once.
func (h *Hub) Close() {
	h.subMu.Lock()
	defer h.subMu.Unlock()
	h.closed = true
	for org, m := range h.subs {
		for sub := range m {
			sub.closed = true
			close(sub.ch)
		}
		delete(h.subs, org)
	}
}

// Run dispatches published events to the org's matching webhooks until
// ctx ends, then waits for the delivery goroutines it started (they stop
// at once when ctx ends: queued deliveries are lost). Each webhook has
// its own queue and goroutine, so its deliveries arrive in publish order
// and a slow or dead receiver delays only itself. Run returns nil.
func (h *Hub) Run(ctx context.Context) error {
	defer h.lanesWG.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-h.queue:
			h.dispatch(ctx, &e)
		}
	}
}

// dispatch queues the event for every matching webhook of its org.
func (h *Hub) dispatch(ctx context.Context, e *Event) {
	var hooks []Webhook
	err := h.cfg.Store.View(ctx, func(tx directory.Tx) error {
		var err error
		hooks, err = Webhooks.List(ctx, tx, e.OrgID)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("events: list webhooks", "org", e.OrgID, "event", e.ID, "err", err)
		}
		return
	}
	for i := range hooks {
		if hooks[i].Matches(e) {
			h.enqueue(ctx, delivery{hook: hooks[i], event: *e})
		}
	}
}

// enqueue puts a delivery on its webhook's lane, starting the lane's
// goroutine when it has none.
func (h *Hub) enqueue(ctx context.Context, d delivery) {
	h.laneMu.Lock()
	defer h.laneMu.Unlock()
	l := h.lanes[d.hook.ID]
	if l == nil {
		l = &lane{ch: make(chan delivery, h.cfg.LaneSize)}
		h.lanes[d.hook.ID] = l
		h.lanesWG.Add(1)
		go h.runLane(ctx, d.hook.ID, l)
	}
	select {
	case l.ch <- d:
	default:
		h.laneDropped.Add(1)
	}
}

// runLane delivers one webhook's queue in order and ends when it is empty.
func (h *Hub) runLane(ctx context.Context, id string, l *lane) {
	defer h.lanesWG.Done()
	for {
		h.laneMu.Lock()
		var d delivery
		select {
		case d = <-l.ch:
		default:
			delete(h.lanes, id) // enqueue starts a new lane for the next one
			h.laneMu.Unlock()
			return
		}
		skip := l.skip > 0
		if skip {
			l.skip--
		}
		h.laneMu.Unlock()
		if skip || ctx.Err() != nil {
			continue
		}
		h.deliver(ctx, l, &d)
	}
}

// deliver tries one delivery up to Attempts times with a doubling
// backoff, and marks the webhook inactive after MaxFailures failed
// deliveries in a row.
func (h *Hub) deliver(ctx context.Context, l *lane, d *delivery) {
	body, err := json.Marshal(NewEnvelope(&d.hook, &d.event))
	if err != nil {
		h.log.Error("events: encode delivery", "webhook", d.hook.ID, "err", err)
		return
	}
	var last error
	for attempt := 0; attempt < h.cfg.Attempts; attempt++ {
		if attempt > 0 && !wait(ctx, h.cfg.Backoff<<(attempt-1)) {
			return
		}
		if last = h.post(ctx, &d.hook, body); last == nil {
			h.delivered.Add(1)
			h.laneMu.Lock()
			delete(h.failures, d.hook.ID)
			h.laneMu.Unlock()
			return
		}
		if ctx.Err() != nil {
			return
		}
		h.attemptsFailed.Add(1)
	}
	h.deliveriesFailed.Add(1)
	h.log.Warn("events: webhook delivery failed", "webhook", d.hook.ID, "org", d.hook.OrgID,
		"event", d.event.ID, "attempts", h.cfg.Attempts, "err", last)
	h.laneMu.Lock()
	h.failures[d.hook.ID]++
	deactivate := h.failures[d.hook.ID] >= h.cfg.MaxFailures
	if deactivate {
		delete(h.failures, d.hook.ID)
		l.skip = len(l.ch)
	}
	h.laneMu.Unlock()
	if deactivate {
		h.deactivate(ctx, &d.hook, last)
	}
}

// wait sleeps for d unless ctx ends first; it reports whether it slept.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// errStatus is a receiver's answer other than 2xx.
var errStatus = errors.New("receiver answered")

// post makes one attempt: POST the body with its signature, within Timeout.
func (h *Hub) post(ctx context.Context, w *Webhook, body []byte) error {
	if err := ValidateTargetURL(w.TargetURL); err != nil {
		return fmt.Errorf("events: deliver to webhook %s: %w", w.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.TargetURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("events: deliver to webhook %s: %w", w.ID, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "callrec-webhooks")
	if w.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(w.Secret, body))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the log line already
		}
		return fmt.Errorf("events: deliver to webhook %s: %w", w.ID, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("events: deliver to webhook %s: %w %d", w.ID, errStatus, resp.StatusCode)
	}
	return nil
}

// deactivate marks the webhook inactive in the store and audits it,
// unless it was changed or deleted meanwhile (then the new state wins).
func (h *Hub) deactivate(ctx context.Context, w *Webhook, cause error) {
	changed := false
	err := h.cfg.Store.Update(ctx, func(tx directory.Tx) error {
		cur, err := Webhooks.Get(ctx, tx, w.OrgID, w.ID)
		if directory.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.Status != StatusActive || cur.TargetURL != w.TargetURL {
			return nil
		}
		before := cur.Redacted()
		cur.Status = StatusInactive
		if err := Webhooks.Put(ctx, tx, cur); err != nil {
			return err
		}
		after := cur.Redacted()
		b, _ := json.Marshal(before) // a Webhook always marshals
		a, _ := json.Marshal(after)
		changed = true
		return tx.AppendAudit(ctx, &callrec.AuditEntry{OrgID: w.OrgID, Time: h.cfg.Now().UTC(), Actor: "callrec",
			ActorRole: "system", Action: "deactivate", ObjectType: "webhook", ObjectID: w.ID, Before: b, After: a})
	})
	if err != nil {
		h.log.Error("events: deactivate webhook", "webhook", w.ID, "org", w.OrgID, "err", err)
		return
	}
	if !changed {
		return
	}
	h.deactivated.Add(1)
	h.log.Warn("events: webhook marked inactive after repeated failures", "webhook", w.ID, "org", w.OrgID,
		"failures", h.cfg.MaxFailures, "err", cause)
}
