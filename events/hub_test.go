package events

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

// Webhook tests deliver to httptest receivers on loopback (127.0.0.1):
// the only network the tests use.

var testNow = time.Date(2024, 5, 8, 14, 12, 28, 371_000_000, time.UTC)

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is an httptest server that answers with the statuses of
// answer in turn (the last one repeats) and hands each request to got.
type receiver struct {
	*httptest.Server
	got chan received
	mu  sync.Mutex
	n   int
}

func newReceiver(t *testing.T, answer ...int) *receiver {
	t.Helper()
	rc := &receiver{got: make(chan received, 64)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		status := answer[min(rc.n, len(answer)-1)]
		rc.n++
		rc.mu.Unlock()
		rc.got <- received{header: r.Header.Clone(), body: body}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// count is how many requests the receiver has had.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

// next waits for the receiver's next request.
func (rc *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-rc.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("receiver: no request within 10 s")
		return received{}
	}
}

// hubEnv is a hub over a real SQLite store, running until the test ends.
type hubEnv struct {
	t   *testing.T
	st  *sqlite.Store
	hub *Hub
	org string
}

func newHubEnv(t *testing.T, cfg Config) *hubEnv {
	t.Helper()
	st := sqlitetest.New(t)
	org, err := st.EnsureOrg(t.Context(), "events-test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = st
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	hub, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &hubEnv{t: t, st: st, hub: hub, org: org.ID}
}

// webhook stores an active telephony_calls webhook of the env's org.
func (e *hubEnv) webhook(target, secret string, mods ...func(*Webhook)) *Webhook {
	e.t.Helper()
	w := &Webhook{ID: uuid.NewString(), OrgID: e.org, Name: "indicator", TargetURL: target, Resource: ResourceTelephonyCalls,
		Event: EventUpdated, Secret: secret, Status: StatusActive, OwnedBy: OwnedByOrg, Actor: "admin@org.example",
		CreatorTokenRole: callrec.RoleFullAdmin, Created: testNow.Add(-time.Hour)}
	for _, m := range mods {
		m(w)
	}
	sqlitetest.Update(e.t, e.st, func(tx directory.Tx) error { return Webhooks.Put(e.t.Context(), tx, w) })
	return w
}

// waitFor waits until cond holds (checked each millisecond, for at most 10 s).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func decodeEnvelope(t *testing.T, body []byte) Envelope {
	t.Helper()
	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("envelope %s: %v", body, err)
	}
	return env
}

func TestR34_WebhookDeliversSignedEnvelope(t *testing.T) {
	e := newHubEnv(t, Config{})
	rc := newReceiver(t, http.StatusOK)
	person := uuid.NewString()
	creator := uuid.NewString()
	w := e.webhook(rc.URL+"/hooks/calls", "s3cret-key", func(w *Webhook) {
		w.Filter = "personId=" + person
		w.PersonID = person
		w.CreatorPersonID = creator
		w.OwnedBy = OwnedByCreator
	})
	if !e.hub.Publish(Event{ID: "ev-1", OrgID: e.org, CallID: "call-42", PersonID: person, State: StatePaused,
		Time: testNow, RecordingSessionID: "rs-9"}) {
		t.Fatal("Publish refused a valid event")
	}
	got := rc.next(t)

	// The signature is the hex HMAC-SHA1 of the exact body, keyed with the secret.
	mac := hmac.New(sha1.New, []byte("s3cret-key"))
	mac.Write(got.body)
	if want := hex.EncodeToString(mac.Sum(nil)); got.header.Get("X-Spark-Signature") != want {
		t.Errorf("X-Spark-Signature = %q, want %q", got.header.Get("X-Spark-Signature"), want)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	var raw map[string]any
	if err := json.Unmarshal(got.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "name", "targetUrl", "resource", "event", "filter", "orgId", "createdBy", "appId", "ownedBy", "status", "created", "actorId", "data"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("envelope lacks %q: %s", k, got.body)
		}
	}
	env := decodeEnvelope(t, got.body)
	want := Envelope{
		ID: WebexID(IDTypeWebhook, w.ID), Name: "indicator", TargetURL: rc.URL + "/hooks/calls", Resource: "telephony_calls",
		Event: "updated", Filter: "personId=" + person, OrgID: WebexID(IDTypeOrg, e.org), CreatedBy: WebexID(IDTypePerson, creator),
		AppID: "callrec", OwnedBy: "creator", Status: "active", Created: "2024-05-08T13:12:28.371Z", ActorID: WebexID(IDTypePerson, person),
		Data: Data{EventID: "ev-1", EventType: "recording", EventTimestamp: "2024-05-08T14:12:28.371Z", OrgID: WebexID(IDTypeOrg, e.org),
			CallID: "call-42", PersonID: WebexID(IDTypePerson, person), RecordingState: "paused", RecordingSessionID: "rs-9"},
	}
	if env != want {
		t.Errorf("envelope\n got %+v\nwant %+v", env, want)
	}
	waitFor(t, "delivered count", func() bool { return e.hub.Stats().Delivered == 1 })
}

func TestR34_WebhookWithoutSecretIsUnsigned(t *testing.T) {
	e := newHubEnv(t, Config{})
	rc := newReceiver(t, http.StatusNoContent)
	e.webhook(rc.URL, "")
	e.hub.Publish(Event{OrgID: e.org, CallID: "c1", State: StateStarted})
	got := rc.next(t)
	if _, ok := got.header["X-Spark-Signature"]; ok {
		t.Errorf("unsigned webhook got X-Spark-Signature %q", got.header.Get("X-Spark-Signature"))
	}
	env := decodeEnvelope(t, got.body)
	if env.Data.EventID == "" || env.Data.EventTimestamp != "2024-05-08T14:12:28.371Z" || env.ActorID != "" || env.Data.PersonID != "" {
		t.Errorf("Publish should fill id and time, and leave person empty: %+v", env.Data)
	}
}

func TestR34_WebhookRetriesThenSucceeds(t *testing.T) {
	e := newHubEnv(t, Config{Attempts: 3})
	rc := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusOK)
	e.webhook(rc.URL, "k")
	e.hub.Publish(Event{ID: "ev-r", OrgID: e.org, CallID: "c1", State: StateStarted})
	var bodies [][]byte
	for range 3 {
		bodies = append(bodies, rc.next(t).body)
	}
	for i, b := range bodies {
		if string(b) != string(bodies[0]) {
			t.Errorf("attempt %d sent another body: %s vs %s", i+1, b, bodies[0])
		}
	}
	waitFor(t, "delivery", func() bool { return e.hub.Stats().Delivered == 1 })
	if s := e.hub.Stats(); s.AttemptsFailed != 2 || s.DeliveriesFailed != 0 {
		t.Errorf("stats %+v, want 2 failed attempts and no failed delivery", s)
	}
	if got := onlyWebhook(t, e).Status; got != StatusActive {
		t.Errorf("status after a successful retry = %q, want active", got)
	}
}

// onlyWebhook returns the env's first webhook as stored.
func onlyWebhook(t *testing.T, e *hubEnv) Webhook {
	t.Helper()
	var hooks []Webhook
	if err := e.st.View(t.Context(), func(tx directory.Tx) error {
		var err error
		hooks, err = Webhooks.List(t.Context(), tx, e.org)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(hooks) == 0 {
		t.Fatal("no webhook stored")
	}
	return hooks[0]
}

func TestR34_FailingWebhookBecomesInactive(t *testing.T) {
	e := newHubEnv(t, Config{Attempts: 2, MaxFailures: 2})
	dead := newReceiver(t, http.StatusInternalServerError)
	alive := newReceiver(t, http.StatusOK)
	bad := e.webhook(dead.URL, "")
	e.webhook(alive.URL, "")
	for range 2 {
		e.hub.Publish(Event{OrgID: e.org, CallID: "c", State: StateStarted})
		alive.next(t)
	}
	waitFor(t, "deactivation", func() bool { return e.hub.Stats().Deactivated == 1 })
	if s := e.hub.Stats(); s.DeliveriesFailed != 2 || s.AttemptsFailed != 4 {
		t.Errorf("stats %+v, want 2 failed deliveries of 2 attempts each", s)
	}
	if got := dead.count(); got != 4 {
		t.Errorf("dead receiver got %d requests, want 4", got)
	}
	stored := sqlitetest.Get(t, e.st, Webhooks, e.org, bad.ID)
	if stored.Status != StatusInactive {
		t.Fatalf("status = %q, want inactive", stored.Status)
	}
	var audits []callrec.AuditEntry
	if err := e.st.View(t.Context(), func(tx directory.Tx) error {
		var err error
		audits, err = tx.ListAudit(t.Context(), directory.AuditQuery{ObjectType: "webhook", ObjectID: bad.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(audits) != 1 || audits[0].Action != "deactivate" || audits[0].OrgID != e.org || audits[0].Actor != "callrec" {
		t.Errorf("audit entries %+v, want one deactivate by callrec", audits)
	}

	// An inactive webhook receives nothing more; the live one still does.
	e.hub.Publish(Event{OrgID: e.org, CallID: "c", State: StateStopped})
	if env := decodeEnvelope(t, alive.next(t).body); env.Data.RecordingState != StateStopped {
		t.Errorf("live webhook got %q", env.Data.RecordingState)
	}
	e.hub.Publish(Event{OrgID: e.org, CallID: "c", State: StateStarted})
	alive.next(t)
	if got := dead.count(); got != 4 {
		t.Errorf("inactive webhook got %d requests, want still 4", got)
	}

	// Reactivated (PUT status active), it receives events again.
	for range 4 {
		dead.next(t) // the failed attempts, already counted
	}
	sqlitetest.Mutate(t, e.st, Webhooks, e.org, bad.ID, func(w *Webhook) { w.Status = StatusActive })
	e.hub.Publish(Event{OrgID: e.org, CallID: "c", State: StateStopped})
	if env := decodeEnvelope(t, dead.next(t).body); env.Data.RecordingState != StateStopped {
		t.Errorf("reactivated webhook got %q", env.Data.RecordingState)
	}
}

func TestR34_WebhookDeliveryTimesOut(t *testing.T) {
	e := newHubEnv(t, Config{Attempts: 1, Timeout: 50 * time.Millisecond})
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) })
	e.webhook(hung.URL, "")
	start := time.Now()
	e.hub.Publish(Event{OrgID: e.org, CallID: "c", State: StateStarted})
	waitFor(t, "failed delivery", func() bool { return e.hub.Stats().DeliveriesFailed == 1 })
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a hung receiver held the delivery for %v; the timeout is 50ms", d)
	}
}

func TestR34_WebhookRedirectIsNotFollowed(t *testing.T) {
	e := newHubEnv(t, Config{Attempts: 1})
	other := newReceiver(t, http.StatusOK)
	redirect := httptest.NewServer(http.RedirectHandler(other.URL, http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	e.webhook(redirect.URL, "")
	e.hub.Publish(Event{OrgID: e.org, CallID: "c", State: StateStarted})
	waitFor(t, "failed delivery", func() bool { return e.hub.Stats().DeliveriesFailed == 1 })
	if other.count() != 0 {
		t.Error("the redirect target got the delivery")
	}
}

func TestR34_WebhookFilteredToPerson(t *testing.T) {
	e := newHubEnv(t, Config{})
	rc := newReceiver(t, http.StatusOK)
	ann, bob := uuid.NewString(), uuid.NewString()
	e.webhook(rc.URL, "", func(w *Webhook) { w.PersonID = ann; w.Filter = "personId=" + ann })
	// Bob's event comes first; the webhook's queue is ordered, so the
	// first delivery being Ann's proves Bob's was never queued.
	e.hub.Publish(Event{OrgID: e.org, CallID: "bob-call", PersonID: bob, State: StateStarted})
	e.hub.Publish(Event{OrgID: e.org, CallID: "ann-call", PersonID: ann, State: StateStarted})
	env := decodeEnvelope(t, rc.next(t).body)
	if env.Data.CallID != "ann-call" || env.Data.PersonID != WebexID(IDTypePerson, ann) {
		t.Errorf("filtered webhook got %+v, want Ann's call", env.Data)
	}
}

func TestR34_WebhookDeliveriesInPublishOrder(t *testing.T) {
	e := newHubEnv(t, Config{})
	rc := newReceiver(t, http.StatusOK)
	e.webhook(rc.URL, "")
	for _, s := range States {
		e.hub.Publish(Event{OrgID: e.org, CallID: "c", State: s})
	}
	for _, s := range States {
		if got := decodeEnvelope(t, rc.next(t).body).Data.RecordingState; got != s {
			t.Fatalf("delivery %q, want %q (publish order)", got, s)
		}
	}
}

func TestWebhookMatches(t *testing.T) {
	org, ann, bob := uuid.NewString(), uuid.NewString(), uuid.NewString()
	ev := Event{OrgID: org, PersonID: ann, State: StateStarted}
	base := Webhook{OrgID: org, Resource: ResourceTelephonyCalls, Event: EventUpdated, Status: StatusActive}
	tests := []struct {
		name string
		mod  func(*Webhook)
		want bool
	}{
		{"org webhook, event updated", func(*Webhook) {}, true},
		{"event all", func(w *Webhook) { w.Event = EventAll }, true},
		{"event created does not get updates", func(w *Webhook) { w.Event = EventCreated }, false},
		{"event deleted does not get updates", func(w *Webhook) { w.Event = EventDeleted }, false},
		{"inactive", func(w *Webhook) { w.Status = StatusInactive }, false},
		{"another org", func(w *Webhook) { w.OrgID = uuid.NewString() }, false},
		{"same person", func(w *Webhook) { w.PersonID = ann }, true},
		{"another person", func(w *Webhook) { w.PersonID = bob }, false},
		{"another resource", func(w *Webhook) { w.Resource = "messages" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := base
			tt.mod(&w)
			if got := w.Matches(&ev); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func newStreamHub(t *testing.T, cfg Config) *Hub {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestR34_SubscribeDeliversOrgEventsInOrder(t *testing.T) {
	h := newStreamHub(t, Config{})
	orgA, orgB := uuid.NewString(), uuid.NewString()
	ch, cancel := h.Subscribe(orgA)
	defer cancel()
	for i := range 100 {
		h.Publish(Event{ID: fmt.Sprint("a", i), OrgID: orgA, CallID: "c", State: States[i%len(States)]})
		h.Publish(Event{OrgID: orgB, CallID: "other-org", State: StateStarted})
	}
	for i := range 100 {
		e := <-ch
		if e.OrgID != orgA || e.State != States[i%len(States)] || e.ID != fmt.Sprint("a", i) {
			t.Fatalf("event %d = %+v, out of order or from another org", i, e)
		}
	}
	select {
	case e := <-ch:
		t.Fatalf("extra event %+v", e)
	default:
	}
}

func TestR34_SlowSubscriberNeverBlocksPublish(t *testing.T) {
	h := newStreamHub(t, Config{StreamBuffer: 4})
	org := uuid.NewString()
	slow, cancelSlow := h.Subscribe(org)
	defer cancelSlow()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 {
			h.Publish(Event{OrgID: org, CallID: "c", State: StateStarted})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a subscriber that reads nothing")
	}
	if s := h.Stats(); s.StreamDropped != 6 || s.Published != 10 {
		t.Errorf("stats %+v, want 10 published and 6 dropped for the slow subscriber", s)
	}
	if len(slow) != 4 {
		t.Errorf("slow subscriber holds %d events, want its 4 buffered", len(slow))
	}
}

func TestR34_DispatcherQueueDropsWhenFull(t *testing.T) {
	st := sqlitetest.New(t)
	h := newStreamHub(t, Config{Store: st, QueueSize: 2}) // Run not started: nothing drains the queue
	for range 5 {
		if !h.Publish(Event{OrgID: "o", CallID: "c", State: StateStarted}) {
			t.Fatal("Publish refused a valid event")
		}
	}
	if s := h.Stats(); s.QueueDropped != 3 {
		t.Errorf("QueueDropped = %d, want 3", s.QueueDropped)
	}
}

func TestPublishRefusesInvalidEvents(t *testing.T) {
	h := newStreamHub(t, Config{})
	for _, tt := range []struct {
		name string
		e    Event
	}{
		{"no org", Event{CallID: "c", State: StateStarted}},
		{"unknown state", Event{OrgID: "o", CallID: "c", State: "recording"}},
		{"empty state", Event{OrgID: "o", CallID: "c"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if h.Publish(tt.e) {
				t.Error("Publish accepted it")
			}
		})
	}
	if s := h.Stats(); s.Invalid != 3 || s.Published != 0 {
		t.Errorf("stats %+v, want 3 invalid", s)
	}
}

func TestSubscribeCancelClosesOnce(t *testing.T) {
	h := newStreamHub(t, Config{})
	ch, cancel := h.Subscribe("o")
	cancel()
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after cancel")
	}
	h.Publish(Event{OrgID: "o", CallID: "c", State: StateStarted}) // must not send on the closed channel
	if s := h.Stats(); s.StreamDropped != 0 {
		t.Errorf("a cancelled subscriber still counted: %+v", s)
	}
}

func TestNewRefusesNegativeConfig(t *testing.T) {
	if _, err := New(Config{Attempts: -1}); err == nil {
		t.Fatal("New accepted a negative attempt count")
	}
	h := newStreamHub(t, Config{})
	if h.Heartbeat() != DefaultHeartbeat {
		t.Errorf("default heartbeat %v", h.Heartbeat())
	}
}

func BenchmarkPublish(b *testing.B) {
	h, err := New(Config{StreamBuffer: 1})
	if err != nil {
		b.Fatal(err)
	}
	_, cancel := h.Subscribe("org")
	defer cancel()
	e := Event{ID: "fixed", OrgID: "org", CallID: "c", PersonID: "p", State: StateStarted, Time: testNow}
	b.ReportAllocs()
	for b.Loop() {
		h.Publish(e)
	}
}

func TestCloseEndsStreams(t *testing.T) {
	h := newStreamHub(t, Config{})
	ch, cancel := h.Subscribe("o")
	h.Close()
	if _, ok := <-ch; ok {
		t.Fatal("stream still open after Close")
	}
	cancel() // after Close: must not close twice
	late, _ := h.Subscribe("o")
	if _, ok := <-late; ok {
		t.Fatal("Subscribe after Close returned an open channel")
	}
	if !h.Publish(Event{OrgID: "o", CallID: "c", State: StateStarted}) {
		t.Error("Publish after Close refused a valid event")
	}
}
