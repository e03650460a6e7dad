package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

// fakeStore is an in-memory recordings and tokens Store with the query
// semantics the real stores promise (newest Start first, then ID
// descending, keyset cursor), so tests can inject failures and see the
// queries. The directory (orgs, people, accounts, audit) is a real SQLite
// store (newEnv), since access to recordings is decided from it.
type fakeStore struct {
	directory.Store
	mu      sync.Mutex
	recs    map[string]callrec.Recording
	tokens  map[string]callrec.Token // by hash
	queries []callrec.RecordingQuery
	updates int

	errGet, errList, errUpdate, errToken error
	panicGet                             bool
}

func newFakeStore() *fakeStore {
	return &fakeStore{recs: map[string]callrec.Recording{}, tokens: map[string]callrec.Token{}}
}

// hashToken is the hash a token is stored under.
func hashToken(v string) string { return sqlitetest.HashToken(v) }

func (f *fakeStore) addToken(value string, tok callrec.Token) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok.Hash = hashToken(value)
	f.tokens[tok.Hash] = tok
}

func (f *fakeStore) put(recs ...callrec.Recording) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range recs {
		f.recs[r.ID] = r
	}
}

func (f *fakeStore) get(t *testing.T, id string) callrec.Recording {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[id]
	if !ok {
		t.Fatalf("store has no recording %q", id)
	}
	return r
}

func (f *fakeStore) lastQuery(t *testing.T) callrec.RecordingQuery {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) == 0 {
		t.Fatal("store was not queried")
	}
	return f.queries[len(f.queries)-1]
}

func (f *fakeStore) GetRecording(_ context.Context, id string) (*callrec.Recording, error) {
	if f.panicGet {
		panic("fake store exploded")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errGet != nil {
		return nil, f.errGet
	}
	r, ok := f.recs[id]
	if !ok {
		return nil, fmt.Errorf("fake: recording %s: %w", id, callrec.ErrNotFound)
	}
	return &r, nil
}

func (f *fakeStore) ListRecordings(_ context.Context, q callrec.RecordingQuery) ([]callrec.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if f.errList != nil {
		return nil, f.errList
	}
	var out []callrec.Recording
	for _, r := range f.recs {
		switch {
		case q.OrgID != "" && r.OrgID != q.OrgID,
			q.OwnerID != "" && r.OwnerID != q.OwnerID,
			q.OwnerEmail != "" && r.OwnerEmail != q.OwnerEmail,
			q.OwnerType != "" && r.OwnerType != q.OwnerType,
			len(q.Statuses) > 0 && !slices.Contains(q.Statuses, r.Status),
			!q.From.IsZero() && r.Start.Before(q.From),
			!q.To.IsZero() && !r.Start.Before(q.To),
			q.Topic != "" && !strings.Contains(strings.ToLower(r.Topic), strings.ToLower(q.Topic)):
			continue
		}
		if !q.BeforeStart.IsZero() || q.BeforeID != "" {
			older := r.Start.Before(q.BeforeStart) || (r.Start.Equal(q.BeforeStart) && r.ID < q.BeforeID)
			if !older {
				continue
			}
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b callrec.Recording) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (f *fakeStore) UpdateRecording(_ context.Context, r *callrec.Recording) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errUpdate != nil {
		return f.errUpdate
	}
	if _, ok := f.recs[r.ID]; !ok {
		return fmt.Errorf("fake: update %s: %w", r.ID, callrec.ErrNotFound)
	}
	f.recs[r.ID] = *r
	f.updates++
	return nil
}

func (f *fakeStore) CreateToken(_ context.Context, t *callrec.Token) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[t.Hash] = *t
	return nil
}

func (f *fakeStore) ListTokens(_ context.Context, orgID, partnerID string) ([]callrec.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []callrec.Token
	for _, t := range f.tokens {
		if (orgID == "" || t.OrgID == orgID) && (partnerID == "" || t.PartnerID == partnerID) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fakeStore) DeleteToken(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for h, t := range f.tokens {
		if t.ID == id {
			delete(f.tokens, h)
			return nil
		}
	}
	return fmt.Errorf("fake: token %s: %w", id, callrec.ErrNotFound)
}

func (f *fakeStore) DeleteTokensOfPerson(_ context.Context, personID string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for h, t := range f.tokens {
		if t.PersonID == personID {
			delete(f.tokens, h)
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) SetRecordingOwner(_ context.Context, id, ownerType, ownerID, ownerEmail, locationID string, expiresAt time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errUpdate != nil {
		return f.errUpdate
	}
	r, ok := f.recs[id]
	if !ok {
		return fmt.Errorf("fake: set owner %s: %w", id, callrec.ErrNotFound)
	}
	r.OwnerType, r.OwnerID, r.OwnerEmail, r.LocationID, r.ExpiresAt = ownerType, ownerID, ownerEmail, locationID, expiresAt
	f.recs[id] = r
	f.updates++
	return nil
}

func (f *fakeStore) TokenByHash(_ context.Context, hash string) (*callrec.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errToken != nil {
		return nil, f.errToken
	}
	t, ok := f.tokens[hash]
	if !ok {
		return nil, fmt.Errorf("fake: token: %w", callrec.ErrNotFound)
	}
	return &t, nil
}

// fakeBlobs is an in-memory Blobs.
type fakeBlobs struct {
	mu        sync.Mutex
	data      map[string][]byte
	mod       time.Time
	errDelete error
}

func newFakeBlobs() *fakeBlobs { return &fakeBlobs{data: map[string][]byte{}} }

func (b *fakeBlobs) put(key string, data []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data[key] = data
}

func (b *fakeBlobs) has(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.data[key]
	return ok
}

type fakeObject struct {
	*bytes.Reader
	size int64
	mod  time.Time
}

func (o *fakeObject) Close() error       { return nil }
func (o *fakeObject) Size() int64        { return o.size }
func (o *fakeObject) ModTime() time.Time { return o.mod }

func (b *fakeBlobs) Open(_ context.Context, key string) (Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.data[key]
	if !ok {
		return nil, fmt.Errorf("fake: blob %s: %w", key, callrec.ErrNotFound)
	}
	return &fakeObject{Reader: bytes.NewReader(d), size: int64(len(d)), mod: b.mod}, nil
}

func (b *fakeBlobs) Delete(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.errDelete != nil {
		return b.errDelete
	}
	if _, ok := b.data[key]; !ok {
		return fmt.Errorf("fake: blob %s: %w", key, callrec.ErrNotFound)
	}
	delete(b.data, key)
	return nil
}

func (b *fakeBlobs) Put(_ context.Context, key string, r io.Reader) (int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	b.put(key, data)
	return int64(len(data)), nil
}

// Tokens of the test environment.
const (
	adminToken  = "partner-admin-secret"     // the bootstrap partner admin
	coToken     = "compliance-officer-org-b" // compliance officer of recOrgB
	viewerToken = "viewer-token"             // a role callrec does not know, in recOrgA
	publicURL   = "http://rec.example.test:8080"
)

// Orgs of the recordings tests (documents in the directory).
const (
	recOrgA = "0a0a0a0a-0000-4000-8000-00000000000a"
	recOrgB = "0b0b0b0b-0000-4000-8000-00000000000b"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// env is one API under test with its fakes.
type env struct {
	t      testing.TB
	h      http.Handler
	srv    *server
	store  *fakeStore
	dir    *sqlite.Store // the directory behind store
	blobs  *fakeBlobs
	reg    *prometheus.Registry
	logs   *syncBuffer
	now    time.Time
	nowMu  sync.Mutex
	ready  error
	readyM sync.Mutex
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openRecDirectory opens a migrated SQLite store with the documents of
// recOrgA (partner root) and recOrgB (partner acme), both on the
// built-in provider.
func openRecDirectory(t testing.TB) *sqlite.Store {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.New(t)
	sqlitetest.Update(t, st, func(tx directory.Tx) error {
		if err := directory.Providers.Put(ctx, tx, &callrec.Provider{ID: callrec.BuiltInProviderID, Name: "callrec", BuiltIn: true,
			Plans: []string{callrec.PlanGo, callrec.PlanTeam, callrec.PlanPremier}}); err != nil {
			return err
		}
		for id, partner := range map[string]string{recOrgA: callrec.RootPartner, recOrgB: "acme"} {
			org := &callrec.Org{ID: id, Name: "Org " + id[len(id)-1:], Created: testNow.Add(-24 * time.Hour), PartnerID: partner,
				Region: "US", Language: "en_US", Recording: callrec.DefaultOrgRecording()}
			if err := directory.Orgs.Put(ctx, tx, org); err != nil {
				return err
			}
		}
		return nil
	})
	return st
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOn(t, openRecDirectory(t))
}

// newEnvOn is newEnv over an existing directory (fuzz targets share one
// across iterations: opening and migrating SQLite costs more than a run).
func newEnvOn(t *testing.T, dir *sqlite.Store) *env {
	t.Helper()
	e := &env{t: t, store: newFakeStore(), blobs: newFakeBlobs(), reg: prometheus.NewRegistry(), logs: &syncBuffer{}, now: testNow}
	e.dir = dir
	e.store.Store = e.dir
	e.blobs.mod = testNow.Add(-time.Hour)
	e.store.addToken(adminToken, callrec.Token{ID: "tok-admin", Name: "bootstrap", Role: callrec.RolePartnerAdmin, PartnerID: callrec.RootPartner,
		Email: "root@partner.example"})
	e.store.addToken(coToken, callrec.Token{ID: "tok-co", Name: "co", Role: callrec.RoleComplianceOfficer, OrgID: recOrgB, Email: "co@b.example"})
	e.store.addToken(viewerToken, callrec.Token{ID: "tok-viewer", Name: "viewer", Role: "viewer", OrgID: recOrgA})
	h, err := New(Config{
		PublicURL:  publicURL + "/",
		SigningKey: []byte("0123456789abcdef0123456789abcdef"),
		Version:    "test",
		Logger:     slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registry:   e.reg,
		Ready: func(context.Context) error {
			e.readyM.Lock()
			defer e.readyM.Unlock()
			return e.ready
		},
		Now: e.clock,
	}, e.store, e.blobs)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.h = h
	e.srv = h.(*server)
	return e
}

func (e *env) clock() time.Time {
	e.nowMu.Lock()
	defer e.nowMu.Unlock()
	return e.now
}

func (e *env) setNow(t time.Time) {
	e.nowMu.Lock()
	defer e.nowMu.Unlock()
	e.now = t
}

// do serves one request. hdr holds header name/value pairs.
func (e *env) do(method, target, token, body string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// recording makes an available recording of recOrgA with audio in the blobs.
func (e *env) recording(id string, start time.Time, mods ...func(*callrec.Recording)) callrec.Recording {
	r := callrec.Recording{
		ID: id, OrgID: recOrgA, SIPCallID: "rs-" + id + "@src.example", Status: callrec.StatusAvailable,
		Topic: "Call " + id, OwnerType: callrec.OwnerOrg, Start: start, Stop: start.Add(90 * time.Second),
		Created: start.Add(91 * time.Second), DurationMS: 90_000, SizeBytes: 64, SampleRate: 8000, Channels: 2,
		Format: "WAV", EndReason: callrec.EndBye, BlobKey: "audio/" + id + ".wav",
	}
	for _, m := range mods {
		m(&r)
	}
	e.store.put(r)
	if r.BlobKey != "" {
		data := make([]byte, r.SizeBytes)
		for i := range data {
			data[i] = byte(i)
		}
		e.blobs.put(r.BlobKey, data)
	}
	return r
}

// webexError decodes an error body and checks the trackingId header
// matches the body's.
func webexError(t *testing.T, w *httptest.ResponseRecorder) errorBody {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		t.Errorf("Content-Type = %q, want application/json;charset=UTF-8", ct)
	}
	var b errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	if b.TrackingID == "" || b.TrackingID != w.Header().Get("trackingId") {
		t.Errorf("trackingId body %q, header %q: want equal and set", b.TrackingID, w.Header().Get("trackingId"))
	}
	if len(b.Errors) == 0 {
		t.Errorf("error body has no errors[]: %s", w.Body.String())
	}
	return b
}

// wantErrorMessage checks status and the exact message of a Webex error
// body (webexError's checks included) and returns the body.
func wantErrorMessage(t *testing.T, w *httptest.ResponseRecorder, status int, msg string) errorBody {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body.String())
	}
	b := webexError(t, w)
	if b.Message != msg {
		t.Errorf("message = %q\n      want %q", b.Message, msg)
	}
	return b
}

// wantRecError checks status and the exact message of a Webex error body,
// and that errors[0] is part of the message.
func wantRecError(t *testing.T, w *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	if b := wantErrorMessage(t, w, status, msg); len(b.Errors) > 0 && !strings.Contains(msg, b.Errors[0].Description) {
		t.Errorf("errors[0].description %q is not part of the message %q", b.Errors[0].Description, msg)
	}
}

var trackingRE = regexp.MustCompile(`^CALLREC_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Ids of the people, lines and location of the access fixture.
const (
	recLoc      = "1a000000-0000-4000-8000-000000000001"
	recAlice    = "2a000000-0000-4000-8000-000000000001" // go member
	recBob      = "2a000000-0000-4000-8000-000000000002" // team member
	recCarol    = "2a000000-0000-4000-8000-000000000003" // not provisioned; listens to recSales
	recDave     = "2a000000-0000-4000-8000-000000000004" // provider admin (R11), not a member
	recRoom     = "2a000000-0000-4000-8000-000000000005" // workspace
	recOrgBUser = "2b000000-0000-4000-8000-000000000001" // a person of recOrgB
	recSales    = "3a000000-0000-4000-8000-000000000001" // virtual line on team
)

// Bearer values of the access fixture's tokens (see withPeople).
const (
	aliceToken    = "alice-user"
	bobToken      = "bob-user"
	carolToken    = "carol-user"
	daveToken     = "dave-provider-admin"
	fullToken     = "org-a-full-admin"
	roToken       = "org-a-read-only-admin"
	locToken      = "org-a-location-admin"
	coAToken      = "compliance-officer-org-a"
	acmeToken     = "acme-partner-admin" // manages recOrgB only
	orgBFullToken = "org-b-full-admin"
)

// withPeople adds the access fixture to the directory: a location of
// recOrgA; alice (go), bob (team), carol (listener of the sales line,
// not provisioned), dave (provider admin) and a workspace; the sales
// virtual line (team); a person of recOrgB; the built-in provider
// account of recOrgA; and a token for each role.
func (e *env) withPeople() *env {
	e.t.Helper()
	ctx := e.t.Context()
	err := e.dir.Update(ctx, func(tx directory.Tx) error {
		if err := directory.Locations.Put(ctx, tx, &callrec.Location{ID: recLoc, OrgID: recOrgA, Name: "HQ", TimeZone: "Europe/Copenhagen"}); err != nil {
			return err
		}
		people := []callrec.Person{
			{ID: recAlice, OrgID: recOrgA, LocationID: recLoc, Emails: []string{"alice@a.example"}, License: callrec.LicenseProfessional, Extension: "1001"},
			{ID: recBob, OrgID: recOrgA, LocationID: recLoc, Emails: []string{"bob@a.example", "robert@a.example"}, License: callrec.LicenseProfessional, Extension: "1002"},
			{ID: recCarol, OrgID: recOrgA, LocationID: recLoc, Emails: []string{"carol@a.example"}, License: callrec.LicenseBasic, Extension: "1003"},
			{ID: recDave, OrgID: recOrgA, LocationID: recLoc, Emails: []string{"dave@a.example"}, License: callrec.LicenseProfessional, Extension: "1004"},
			{ID: recRoom, OrgID: recOrgA, LocationID: recLoc, Emails: []string{"room@a.example"}, License: callrec.LicenseWorkspace, Extension: "1005"},
			{ID: recOrgBUser, OrgID: recOrgB, Emails: []string{"bea@b.example"}, License: callrec.LicenseProfessional, Extension: "1001"},
		}
		for i := range people {
			if err := directory.People.Put(ctx, tx, &people[i]); err != nil {
				return err
			}
		}
		if err := directory.VirtualLines.Put(ctx, tx, &callrec.VirtualLine{ID: recSales, OrgID: recOrgA, LocationID: recLoc, Extension: "1500",
			Listeners: []string{recCarol}}); err != nil {
			return err
		}
		return directory.Accounts.Put(ctx, tx, &callrec.ProviderAccount{OrgID: recOrgA, ProviderID: callrec.BuiltInProviderID,
			Admins: []string{"Dave@A.example"}, Members: []callrec.AccountMember{
				{ID: recAlice, Type: "PEOPLE", Plan: callrec.PlanGo},
				{ID: recBob, Type: "PEOPLE", Plan: callrec.PlanTeam},
				{ID: recSales, Type: "VIRTUAL_LINE", Plan: callrec.PlanTeam},
			}})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	for value, tok := range map[string]callrec.Token{
		aliceToken:    {ID: "tok-alice", Role: callrec.RoleUser, OrgID: recOrgA, PersonID: recAlice, Email: "alice@a.example"},
		bobToken:      {ID: "tok-bob", Role: callrec.RoleUser, OrgID: recOrgA, PersonID: recBob, Email: "bob@a.example"},
		carolToken:    {ID: "tok-carol", Role: callrec.RoleUser, OrgID: recOrgA, PersonID: recCarol, Email: "carol@a.example"},
		daveToken:     {ID: "tok-dave", Role: callrec.RoleUser, OrgID: recOrgA, PersonID: recDave, Email: "dave@a.example"},
		fullToken:     {ID: "tok-full", Role: callrec.RoleFullAdmin, OrgID: recOrgA, Email: "admin@a.example"},
		roToken:       {ID: "tok-ro", Role: callrec.RoleReadOnlyAdmin, OrgID: recOrgA, Email: "ro@a.example"},
		locToken:      {ID: "tok-loc", Role: callrec.RoleLocationAdmin, OrgID: recOrgA, LocationIDs: []string{recLoc}, Email: "loc@a.example"},
		coAToken:      {ID: "tok-co-a", Role: callrec.RoleComplianceOfficer, OrgID: recOrgA, Email: "co@a.example"},
		acmeToken:     {ID: "tok-acme", Role: callrec.RolePartnerAdmin, PartnerID: "acme", Email: "admin@acme.example"},
		orgBFullToken: {ID: "tok-b-full", Role: callrec.RoleFullAdmin, OrgID: recOrgB, Email: "admin@b.example"},
	} {
		e.store.addToken(value, tok)
	}
	return e
}

// owned sets a recording's owner.
func owned(typ, id, email string) func(*callrec.Recording) {
	return func(r *callrec.Recording) {
		r.OwnerType, r.OwnerID, r.OwnerEmail, r.LocationID = typ, id, email, recLoc
	}
}

// audits returns the audit entries about recording id, newest first.
func (e *env) audits(id string) []callrec.AuditEntry {
	e.t.Helper()
	var out []callrec.AuditEntry
	err := e.dir.View(e.t.Context(), func(tx directory.Tx) error {
		var err error
		out, err = tx.ListAudit(e.t.Context(), directory.AuditQuery{ObjectType: "recording", ObjectID: id})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// actions lists the actions of entries, oldest first.
func actions(entries []callrec.AuditEntry) []string {
	out := make([]string, len(entries))
	for i, en := range entries {
		out[len(entries)-1-i] = en.Action
	}
	return out
}
