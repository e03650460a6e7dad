package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
)

// fakeStore is an in-memory Store with the query semantics the real
// stores promise (newest Start first, then ID descending, keyset cursor).
type fakeStore struct {
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

func hashToken(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

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

// Tokens of the test environment.
const (
	adminToken  = "partner-admin-secret"
	coToken     = "compliance-officer-org-b"
	viewerToken = "viewer-token"
	publicURL   = "http://rec.example.test:8080"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// env is one API under test with its fakes.
type env struct {
	t      *testing.T
	h      http.Handler
	srv    *server
	store  *fakeStore
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

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, store: newFakeStore(), blobs: newFakeBlobs(), reg: prometheus.NewRegistry(), logs: &syncBuffer{}, now: testNow}
	e.blobs.mod = testNow.Add(-time.Hour)
	e.store.addToken(adminToken, callrec.Token{ID: "tok-admin", Name: "bootstrap", Role: callrec.RolePartnerAdmin})
	e.store.addToken(coToken, callrec.Token{ID: "tok-co", Name: "co", Role: callrec.RoleComplianceOfficer, OrgID: "org-b"})
	e.store.addToken(viewerToken, callrec.Token{ID: "tok-viewer", Name: "viewer", Role: "viewer", OrgID: "org-a"})
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

// recording makes an available recording of org-a with audio in the blobs.
func (e *env) recording(id string, start time.Time, mods ...func(*callrec.Recording)) callrec.Recording {
	r := callrec.Recording{
		ID: id, OrgID: "org-a", SIPCallID: "rs-" + id + "@src.example", Status: callrec.StatusAvailable,
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

// wantError checks status and the exact message of a Webex error body.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body.String())
	}
	b := webexError(t, w)
	if b.Message != msg {
		t.Errorf("message = %q\n      want %q", b.Message, msg)
	}
	if len(b.Errors) > 0 && !strings.Contains(msg, b.Errors[0].Description) {
		t.Errorf("errors[0].description %q is not part of the message %q", b.Errors[0].Description, msg)
	}
}

var trackingRE = regexp.MustCompile(`^CALLREC_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
