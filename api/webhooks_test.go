package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/events"
)

// hookEnv is the API with the webhook routes over a real SQLite store and
// a running events.Hub, with two orgs: A (a location, people Ann and Bob
// and tokens of every role) and B (an admin). Webhook receivers are
// httptest servers on loopback.
type hookEnv struct {
	*dirEnv
	hub                      *events.Hub
	orgA, orgB               string // internal ids
	wOrgA                    string // Webex id of org A
	ann, bob                 string // internal person ids of org A
	wAnn, wBob               string // their Webex ids
	admin, readOnly, officer string // tokens of org A
	userAnn, userBob         string
	adminB                   string           // full admin of org B
	bPerson                  string           // Webex id of a person of org B
	streamSrv                *httptest.Server // serves the API for the stream tests
}

func newHookEnv(t *testing.T) *hookEnv {
	t.Helper()
	d := newDirEnv(t)
	hub, err := events.New(events.Config{Store: d.st, Backoff: time.Millisecond, Heartbeat: 20 * time.Millisecond,
		Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{PublicURL: publicURL, SigningKey: []byte("0123456789abcdef0123"), Now: func() time.Time { return testNow }, Events: hub}
	h, err := New(cfg, d.st, newFakeBlobs())
	if err != nil {
		t.Fatal(err)
	}
	d.h = h
	e := &hookEnv{dirEnv: d, hub: hub}

	a, orgA := d.org("Webhook Org A")
	_, orgB := d.org("Webhook Org B")
	e.orgA, e.orgB, e.wOrgA = orgA, orgB, a.ID
	loc := d.location(a.ID, "HQ")
	annJ := d.person(a.ID, loc.ID, "ann@a.example", `"extension": "1001"`)
	bobJ := d.person(a.ID, loc.ID, "bob@a.example", `"extension": "1002"`)
	e.wAnn, e.wBob = annJ.ID, bobJ.ID
	e.ann, e.bob = mustID(t, idPerson, annJ.ID), mustID(t, idPerson, bobJ.ID)
	wB := webexID(idOrg, orgB)
	locB := d.location(wB, "B HQ")
	e.bPerson = d.person(wB, locB.ID, "carl@b.example", "").ID

	e.admin = d.token(callrec.RoleFullAdmin, orgA, func(t *callrec.Token) { t.Email = "admin@a.example" })
	e.readOnly = d.token(callrec.RoleReadOnlyAdmin, orgA, func(t *callrec.Token) { t.Email = "ro@a.example" })
	e.officer = d.token(callrec.RoleComplianceOfficer, orgA)
	e.userAnn = d.token(callrec.RoleUser, orgA, func(t *callrec.Token) { t.PersonID = e.ann; t.Email = "ann@a.example" })
	e.userBob = d.token(callrec.RoleUser, orgA, func(t *callrec.Token) { t.PersonID = e.bob; t.Email = "bob@a.example" })
	e.adminB = d.token(callrec.RoleFullAdmin, orgB, func(t *callrec.Token) { t.Email = "admin@b.example" })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub Run: %v", err)
		}
	})
	return e
}

// hookReceiver is a webhook receiver on loopback answering 200.
type hookReceiver struct {
	*httptest.Server
	got chan received
}

type received struct {
	sig  string
	body []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	rc := &hookReceiver{got: make(chan received, 64)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.got <- received{sig: r.Header.Get("X-Spark-Signature"), body: b}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *hookReceiver) next(t *testing.T) (received, events.Envelope) {
	t.Helper()
	select {
	case r := <-rc.got:
		var env events.Envelope
		if err := json.Unmarshal(r.body, &env); err != nil {
			t.Fatalf("delivery %s: %v", r.body, err)
		}
		return r, env
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10 s")
		return received{}, events.Envelope{}
	}
}

// create POSTs a webhook as token and returns it (status 200 required).
func (e *hookEnv) create(token, body string) webhookJSON {
	e.t.Helper()
	var w webhookJSON
	e.ok(200, &w, "POST", "/v1/webhooks", token, body)
	return w
}

func hookBody(target string, extra string) string {
	b := `{"name": "Recording light", "targetUrl": "` + target + `", "resource": "telephony_calls", "event": "updated"`
	if extra != "" {
		b += ", " + extra
	}
	return b + "}"
}

func TestR34_WebhookCRUD(t *testing.T) {
	e := newHookEnv(t)
	w := e.create(e.admin, hookBody("https://hooks.a.example/calls", `"secret": "s3cret", "filter": "personId=`+e.wAnn+`"`))
	want := webhookJSON{ID: w.ID, Name: "Recording light", TargetURL: "https://hooks.a.example/calls", Resource: "telephony_calls",
		Event: "updated", Filter: "personId=" + e.wAnn, Secret: "s3cret", Status: "active", Created: "2026-03-10T12:00:00.000Z",
		OrgID: e.wOrgA, CreatedBy: "admin@a.example", AppID: "callrec", OwnedBy: "org"}
	if w != want {
		t.Errorf("created\n got %+v\nwant %+v", w, want)
	}
	id := mustID(t, idWebhook, w.ID)
	stored := load(e.dirEnv, events.Webhooks, e.orgA, id)
	if stored.PersonID != e.ann {
		t.Errorf("stored person scope %q, want Ann %q", stored.PersonID, e.ann)
	}

	var got webhookJSON
	e.ok(200, &got, "GET", "/v1/webhooks/"+w.ID, e.admin, "")
	if got != want {
		t.Errorf("GET = %+v", got)
	}
	e.ok(200, &got, "PUT", "/v1/webhooks/"+w.ID, e.admin, `{"name": "Renamed", "status": "inactive", "id": "ignored", "resource": "telephony_calls"}`)
	if got.Name != "Renamed" || got.Status != "inactive" || got.TargetURL != want.TargetURL || got.Secret != "s3cret" {
		t.Errorf("PUT = %+v", got)
	}
	got = webhookJSON{}
	e.ok(200, &got, "PUT", "/v1/webhooks/"+w.ID, e.admin, `{"status": "active", "secret": ""}`)
	if got.Status != "active" || got.Secret != "" {
		t.Errorf("reactivate = %+v", got)
	}
	e.ok(204, nil, "DELETE", "/v1/webhooks/"+w.ID, e.admin, "")
	wantError(t, e.do("GET", "/v1/webhooks/"+w.ID, e.admin, ""), 404, "Webhook")

	audits := e.wantAudit(auditWebhook, id, e.orgA, "admin@a.example", "delete", "update", "update", "create")
	for _, a := range audits {
		if strings.Contains(string(a.Before)+string(a.After), "s3cret") {
			t.Errorf("audit %s holds the secret: %s / %s", a.Action, a.Before, a.After)
		}
	}
}

func TestWebhookListPagesAndScope(t *testing.T) {
	e := newHookEnv(t)
	var ids []string
	for range 3 {
		ids = append(ids, e.create(e.admin, hookBody("https://hooks.a.example/x", "")).ID)
	}
	annHook := e.create(e.userAnn, hookBody("https://ann.example/x", ""))
	e.create(e.adminB, hookBody("https://hooks.b.example/x", ""))

	pages := e.pages("/v1/webhooks?max=2", e.admin, "items")
	var all []string
	for _, p := range pages {
		all = append(all, p...)
	}
	if want := append(append([]string{}, ids...), annHook.ID); !reflect.DeepEqual(all, want) || len(pages) != 2 {
		t.Errorf("admin pages %v, want %v in pages of 2", pages, want)
	}
	var list struct {
		Items []webhookJSON `json:"items"`
	}
	e.ok(200, &list, "GET", "/v1/webhooks", e.userAnn, "")
	if len(list.Items) != 1 || list.Items[0].ID != annHook.ID || list.Items[0].OwnedBy != "creator" || list.Items[0].CreatedBy != e.wAnn {
		t.Errorf("Ann's list %+v, want only her webhook, owned by creator", list.Items)
	}
	e.ok(200, &list, "GET", "/v1/webhooks", e.userBob, "")
	if len(list.Items) != 0 {
		t.Errorf("Bob sees %+v", list.Items)
	}
	e.ok(200, &list, "GET", "/v1/webhooks", e.adminB, "")
	if len(list.Items) != 1 || list.Items[0].OrgID != webexID(idOrg, e.orgB) {
		t.Errorf("org B admin sees %+v", list.Items)
	}
}

func TestWebhookBadRequests(t *testing.T) {
	e := newHookEnv(t)
	tests := []struct {
		name, body, want string
	}{
		{"no name", `{"targetUrl": "https://h.example/", "resource": "telephony_calls", "event": "updated"}`, "name"},
		{"other resource", `{"name": "n", "targetUrl": "https://h.example/", "resource": "messages", "event": "updated"}`, "resource: \"messages\" is not one of telephony_calls"},
		{"no resource", `{"name": "n", "targetUrl": "https://h.example/", "event": "updated"}`, "resource: required"},
		{"bad event", `{"name": "n", "targetUrl": "https://h.example/", "resource": "telephony_calls", "event": "started"}`, "event: \"started\" is not one of created, updated, deleted, all"},
		{"ftp target", hookBody("ftp://h.example/", ""), "targetUrl: \"ftp://h.example/\" must be an http or https URL"},
		{"no target", `{"name": "n", "resource": "telephony_calls", "event": "updated"}`, "targetUrl: required"},
		{"bad filter", hookBody("https://h.example/", `"filter": "roomId=1"`), "filter: \"roomId\" is not a telephony_calls filter; allowed: personId"},
		{"bad ownedBy", hookBody("https://h.example/", `"ownedBy": "everyone"`), "ownedBy: \"everyone\" is not one of creator, org"},
		{"creator without a person", hookBody("https://h.example/", `"ownedBy": "creator"`), "ownedBy: creator needs a token of a person"},
		{"wrong type", `{"name": 5}`, "Field name must be a string"},
		{"long secret", hookBody("https://h.example/", `"secret": "`+strings.Repeat("k", 300)+`"`), "secret: longer than 256 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do("POST", "/v1/webhooks", e.admin, tt.body), 400, tt.want)
		})
	}
	w := e.create(e.admin, hookBody("https://h.example/", ""))
	wantError(t, e.do("PUT", "/v1/webhooks/"+w.ID, e.admin, `{"status": "paused"}`), 400, "status: \"paused\" is not one of active, inactive")
	wantError(t, e.do("PUT", "/v1/webhooks/"+w.ID, e.admin, `{"targetUrl": "mailto:x@y"}`), 400, "targetUrl:")
	wantError(t, e.do("PUT", "/v1/webhooks/"+w.ID, e.admin, `{"ownedBy": "creator"}`), 400, "ownedBy: \"org\" cannot be changed")
	if n := len(e.audits(auditWebhook, mustID(t, idWebhook, w.ID))); n != 1 {
		t.Errorf("refused changes were audited: %d entries", n)
	}
}

func TestWebhookRoleRefusals(t *testing.T) {
	e := newHookEnv(t)
	wantError(t, e.do("POST", "/v1/webhooks", e.officer, hookBody("https://h.example/", "")), 403, "complianceOfficer role may not subscribe")
	wantError(t, e.do("POST", "/v1/webhooks", e.userAnn, hookBody("https://h.example/", `"ownedBy": "org"`)), 403, "only an administrator")
	wantError(t, e.do("POST", "/v1/webhooks", e.userAnn, hookBody("https://h.example/", `"filter": "personId=`+e.wBob+`"`)), 403, "only the creator's own calls")
	wantError(t, e.do("GET", "/v1/webhooks", "", ""), 401, "access token")

	adminHook := e.create(e.admin, hookBody("https://h.example/", ""))
	// A read-only admin reads every webhook of the org, changes only its own.
	e.ok(200, nil, "GET", "/v1/webhooks/"+adminHook.ID, e.readOnly, "")
	wantError(t, e.do("PUT", "/v1/webhooks/"+adminHook.ID, e.readOnly, `{"name": "mine"}`), 403, "Only its creator")
	wantError(t, e.do("DELETE", "/v1/webhooks/"+adminHook.ID, e.readOnly, ""), 403, "Only its creator")
	roHook := e.create(e.readOnly, hookBody("https://h.example/", ""))
	e.ok(200, nil, "PUT", "/v1/webhooks/"+roHook.ID, e.readOnly, `{"name": "mine"}`)
	// A full admin changes anyone's webhook of its org.
	e.ok(204, nil, "DELETE", "/v1/webhooks/"+roHook.ID, e.admin, "")
}

func TestWebhookNotFoundAndOrgIsolation(t *testing.T) {
	e := newHookEnv(t)
	w := e.create(e.admin, hookBody("https://h.example/", ""))
	annHook := e.create(e.userAnn, hookBody("https://ann.example/", ""))
	for _, tt := range []struct{ name, method, target, token, body string }{
		{"another org's admin", "GET", "/v1/webhooks/" + w.ID, e.adminB, ""},
		{"another org's admin deletes", "DELETE", "/v1/webhooks/" + w.ID, e.adminB, ""},
		{"another org's admin updates", "PUT", "/v1/webhooks/" + w.ID, e.adminB, `{"name": "x"}`},
		{"a user reads another's webhook", "GET", "/v1/webhooks/" + annHook.ID, e.userBob, ""},
		{"a user reads an admin's webhook", "GET", "/v1/webhooks/" + w.ID, e.userBob, ""},
		{"an id that does not parse", "GET", "/v1/webhooks/nonsense", e.admin, ""},
		{"an id of another type", "GET", "/v1/webhooks/" + e.wAnn, e.admin, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(tt.method, tt.target, tt.token, tt.body), 404, "Webhook")
		})
	}
	wantError(t, e.do("GET", "/v1/webhooks?orgId="+e.wOrgA, e.adminB, ""), 404, "Organization")
	wantError(t, e.do("POST", "/v1/webhooks?orgId="+e.wOrgA, e.adminB, hookBody("https://h.example/", "")), 404, "Organization")
	wantError(t, e.do("POST", "/v1/webhooks", e.admin, hookBody("https://h.example/", `"filter": "personId=`+e.bPerson+`"`)), 404, "Person")
	// The partner admin acts on org A through orgId and sees its webhooks.
	var list struct {
		Items []webhookJSON `json:"items"`
	}
	e.ok(200, &list, "GET", "/v1/webhooks?orgId="+e.wOrgA, dirRoot, "")
	if len(list.Items) != 2 {
		t.Errorf("partner admin sees %d webhooks of org A, want 2", len(list.Items))
	}
}

func TestR34_WebhookDeliveriesThroughTheAPI(t *testing.T) {
	e := newHookEnv(t)
	orgRC, annRC := newHookReceiver(t), newHookReceiver(t)
	orgHook := e.create(e.admin, hookBody(orgRC.URL+"/org", `"secret": "org-secret"`))
	annHook := e.create(e.userAnn, hookBody(annRC.URL+"/ann", ""))
	if annHook.OwnedBy != "creator" {
		t.Fatalf("Ann's webhook ownedBy %q", annHook.OwnedBy)
	}
	// Bob's event first: Ann's webhook must skip it, so its first
	// delivery (its queue is ordered) is Ann's own.
	e.hub.Publish(events.Event{ID: "ev-bob", OrgID: e.orgA, CallID: "call-bob", PersonID: e.bob, State: events.StateStarted})
	e.hub.Publish(events.Event{ID: "ev-ann", OrgID: e.orgA, CallID: "call-ann", PersonID: e.ann, State: events.StatePaused, RecordingSessionID: "rs1"})
	e.hub.Publish(events.Event{ID: "ev-b", OrgID: e.orgB, CallID: "call-b", State: events.StateStarted})

	for _, wantCall := range []string{"call-bob", "call-ann"} {
		r, env := orgRC.next(t)
		mac := hmac.New(sha1.New, []byte("org-secret"))
		mac.Write(r.body)
		if r.sig != hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("signature %q does not verify", r.sig)
		}
		if env.ID != orgHook.ID || env.OrgID != e.wOrgA || env.Resource != "telephony_calls" || env.Event != "updated" || env.Data.CallID != wantCall {
			t.Errorf("org webhook delivery %+v, want %s", env, wantCall)
		}
	}
	r, env := annRC.next(t)
	if r.sig != "" {
		t.Errorf("a webhook without secret got a signature")
	}
	want := events.Data{EventID: "ev-ann", EventType: "recording", EventTimestamp: "2026-03-10T12:00:00.000Z", OrgID: e.wOrgA,
		CallID: "call-ann", PersonID: e.wAnn, RecordingState: "paused", RecordingSessionID: "rs1"}
	if env.Data != want || env.ID != annHook.ID || env.CreatedBy != e.wAnn || env.ActorID != e.wAnn || env.OwnedBy != "creator" {
		t.Errorf("Ann's delivery %+v, want data %+v", env, want)
	}
}

// sse is a client of the event stream.
type sse struct {
	t    *testing.T
	body io.ReadCloser
	rd   *bufio.Reader
}

// sseEvent is one parsed server-sent event (or comment).
type sseEvent struct {
	comment, id, event string
	data               events.Data
}

func (e *hookEnv) stream(token, query string) *sse {
	e.t.Helper()
	if e.streamSrv == nil {
		e.streamSrv = httptest.NewServer(e.h)
		e.t.Cleanup(e.streamSrv.Close)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), "GET", e.streamSrv.URL+"/v1/telephony/calls/events"+query, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("stream: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	s := &sse{t: e.t, body: resp.Body, rd: bufio.NewReader(resp.Body)}
	if c := s.next(); c.comment != "connected" {
		e.t.Fatalf("stream opened with %+v, want the connected comment", c)
	}
	return s
}

// next reads the next event or comment (fails the test after 10 s).
func (s *sse) next() sseEvent {
	s.t.Helper()
	out := make(chan sseEvent, 1)
	errc := make(chan error, 1)
	go func() {
		var ev sseEvent
		for {
			line, err := s.rd.ReadString('\n')
			if err != nil {
				errc <- err
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				out <- ev
				return
			case strings.HasPrefix(line, ": "):
				ev.comment = strings.TrimPrefix(line, ": ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data); err != nil {
					errc <- err
					return
				}
			default:
				errc <- io.ErrUnexpectedEOF
				return
			}
		}
	}()
	select {
	case ev := <-out:
		return ev
	case err := <-errc:
		s.t.Fatalf("stream: %v", err)
	case <-time.After(10 * time.Second):
		s.t.Fatal("stream: nothing within 10 s")
	}
	return sseEvent{}
}

// nextEvent skips heartbeats and returns the next event.
func (s *sse) nextEvent() sseEvent {
	s.t.Helper()
	for {
		if ev := s.next(); ev.comment == "" {
			return ev
		}
	}
}

func TestR34_EventStreamAdminSeesOrgUserSeesOwn(t *testing.T) {
	e := newHookEnv(t)
	admin := e.stream(e.admin, "")
	ann := e.stream(e.userAnn, "")
	adminB := e.stream(e.adminB, "")
	onlyBob := e.stream(e.admin, "?personId="+e.wBob)

	published := []events.Event{
		{ID: "1", OrgID: e.orgA, CallID: "call-bob", PersonID: e.bob, State: events.StateStarted},
		{ID: "2", OrgID: e.orgA, CallID: "call-ann", PersonID: e.ann, State: events.StateStarted},
		{ID: "3", OrgID: e.orgA, CallID: "call-ann", PersonID: e.ann, State: events.StatePaused},
		{ID: "4", OrgID: e.orgA, CallID: "call-bob", PersonID: e.bob, State: events.StateStopped},
		{ID: "5", OrgID: e.orgA, CallID: "call-ann", PersonID: e.ann, State: events.StateResumed},
		{ID: "6", OrgID: e.orgB, CallID: "call-b", State: events.StateFailed, Reason: "srs-unreachable"},
	}
	for _, ev := range published {
		e.hub.Publish(ev)
	}
	check := func(name string, s *sse, wantIDs ...string) {
		t.Helper()
		for _, id := range wantIDs {
			ev := s.nextEvent()
			var want events.Event
			for _, p := range published {
				if p.ID == id {
					want = p
				}
			}
			want.Time = testNow
			if ev.id != id || ev.event != "recording" || ev.data != want.Data() {
				t.Errorf("%s: got id %q event %q data %+v, want event %s %+v", name, ev.id, ev.event, ev.data, id, want.Data())
			}
		}
	}
	check("admin", admin, "1", "2", "3", "4", "5")
	check("Ann", ann, "2", "3", "5")
	check("admin filtered to Bob", onlyBob, "1", "4")
	check("org B admin", adminB, "6")
}

func TestEventStreamHeartbeat(t *testing.T) {
	e := newHookEnv(t)
	s := e.stream(e.userAnn, "")
	if ev := s.next(); ev.comment != "heartbeat" {
		t.Errorf("idle stream sent %+v, want a heartbeat comment", ev)
	}
}

func TestEventStreamRefusals(t *testing.T) {
	e := newHookEnv(t)
	wantError(t, e.do("GET", "/v1/telephony/calls/events", e.officer, ""), 403, "may not subscribe")
	wantError(t, e.do("GET", "/v1/telephony/calls/events?personId="+e.bPerson, e.admin, ""), 404, "Person")
	wantError(t, e.do("GET", "/v1/telephony/calls/events?orgId="+e.wOrgA, e.adminB, ""), 404, "Organization")
	wantError(t, e.do("GET", "/v1/telephony/calls/events", "", ""), 401, "access token")

	// Without a hub the stream is unavailable (503), not broken.
	srv := e.h.(*server)
	tok, err := e.st.TokenByHash(t.Context(), hashToken(e.admin))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/v1/telephony/calls/events", nil)
	if status, _ := classify(srv.streamEvents(httptest.NewRecorder(), r, tok, nil)); status != http.StatusServiceUnavailable {
		t.Errorf("without a hub: status %d, want 503", status)
	}
}

func TestWebhookRoutesInOpenAPI(t *testing.T) {
	e := newHookEnv(t)
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody *struct{} `json:"requestBody"`
		} `json:"paths"`
	}
	e.ok(200, &doc, "GET", "/v1/openapi.json", "", "")
	for path, methods := range map[string][]string{
		"/v1/webhooks":               {"get", "post"},
		"/v1/webhooks/{webhookId}":   {"get", "put", "delete"},
		"/v1/telephony/calls/events": {"get"},
	} {
		for _, m := range methods {
			if _, ok := doc.Paths[path][m]; !ok {
				t.Errorf("OpenAPI lacks %s %s", m, path)
			}
		}
	}
	if doc.Paths["/v1/webhooks"]["post"].RequestBody == nil {
		t.Error("POST /v1/webhooks documents no request body")
	}
}

func TestWriteSSEFraming(t *testing.T) {
	for _, tt := range []struct {
		name, id, wantPrefix string
	}{
		{"plain id", "ev-1", "id: ev-1\nevent: recording\ndata: {"},
		{"id with a line break is left out", "ev\n2", "event: recording\ndata: {"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			writeSSE(&b, &events.Event{ID: tt.id, OrgID: "o", CallID: "c\nx", State: events.StateStarted, Time: testNow})
			out := b.String()
			if !strings.HasPrefix(out, tt.wantPrefix) || !strings.HasSuffix(out, "}\n\n") || strings.Count(out, "\n") != strings.Count(tt.wantPrefix, "\n")+2 {
				t.Errorf("frame %q", out)
			}
		})
	}
}
