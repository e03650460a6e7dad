package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	w := e.do("GET", "/healthz", "", "")
	if w.Code != 200 || w.Body.String() != "ok" {
		t.Errorf("healthz = %d %q, want 200 ok", w.Code, w.Body.String())
	}
	w = e.do("GET", "/readyz", "", "")
	if w.Code != 200 || w.Body.String() != "ok" {
		t.Errorf("readyz ready = %d %q, want 200 ok", w.Code, w.Body.String())
	}
	e.readyM.Lock()
	e.ready = errors.New("blob store: disk has 10 MiB free, need 1 GiB")
	e.readyM.Unlock()
	w = e.do("GET", "/readyz", "", "")
	if w.Code != 503 || w.Body.String() != "not ready: blob store: disk has 10 MiB free, need 1 GiB" {
		t.Errorf("readyz not ready = %d %q", w.Code, w.Body.String())
	}
	w = e.do("POST", "/healthz", "", "")
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", w.Code)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	key := []byte("0123456789abcdef")
	st, bl := newFakeStore(), newFakeBlobs()
	cases := []struct {
		name  string
		cfg   Config
		store Store
		want  string
	}{
		{"no store", Config{PublicURL: "http://x", SigningKey: key}, nil, "store and blob store are required"},
		{"relative public URL", Config{PublicURL: "/api", SigningKey: key}, st, "must be an absolute http or https URL"},
		{"ftp public URL", Config{PublicURL: "ftp://host", SigningKey: key}, st, "must be an absolute http or https URL"},
		{"public URL with query", Config{PublicURL: "http://host/?a=b", SigningKey: key}, st, "must not have a query"},
		{"short key", Config{PublicURL: "http://host", SigningKey: key[:15]}, st, "signing key has 15 bytes, need at least 16"},
		{"negative TTL", Config{PublicURL: "http://host", SigningKey: key, LinkTTL: -time.Second}, st, "link TTL -1s is negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg, c.store, bl)
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("New error = %v, want ErrInvalid containing %q", err, c.want)
			}
		})
	}
	t.Run("two servers share one registry", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		for i := range 2 {
			if _, err := New(Config{PublicURL: "http://host", SigningKey: key, Registry: reg}, st, bl); err != nil {
				t.Fatalf("New #%d: %v", i, err)
			}
		}
	})
}

func TestUnauthorized(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, auth string
	}{
		{"no header", ""},
		{"basic scheme", "Basic YWRtaW46YWRtaW4="},
		{"bearer without value", "Bearer "},
		{"unknown token", "Bearer not-a-token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do("GET", "/v1/convergedRecordings", "", "", "Authorization", c.auth)
			wantRecError(t, w, 401, msgUnauthorized)
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want Bearer challenge", got)
			}
		})
	}
	t.Run("lower-case scheme is accepted", func(t *testing.T) {
		w := e.do("GET", "/v1/convergedRecordings", "", "", "Authorization", "bearer "+adminToken)
		if w.Code != 200 {
			t.Errorf("status = %d, want 200", w.Code)
		}
	})
	t.Run("token lookup failure is 500 without internals", func(t *testing.T) {
		e.store.errToken = errors.New("sqlite: database is locked at /var/lib/callrec/callrec.db")
		defer func() { e.store.errToken = nil }()
		w := e.do("GET", "/v1/convergedRecordings", adminToken, "")
		wantRecError(t, w, 500, msgInternal)
		if strings.Contains(w.Body.String(), "sqlite") {
			t.Errorf("500 body leaks internals: %s", w.Body.String())
		}
		if !strings.Contains(e.logs.String(), "database is locked") {
			t.Error("the internal error is not in the log")
		}
	})
}

func TestUnknownRouteAndMethod(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, method, path string
		status             int
		msg, allow         string
	}{
		{"unknown path", "GET", "/v1/meetings", 404, msgNoRoute, ""},
		{"unknown sub path", "GET", "/v1/convergedRecordings/x/y/z", 404, msgNoRoute, ""},
		{"v1 root", "GET", "/v1", 404, msgNoRoute, ""},
		{"PUT on the list", "PUT", "/v1/convergedRecordings", 405,
			"Method PUT is not allowed on /v1/convergedRecordings; allowed: GET, HEAD", "GET, HEAD"},
		{"PATCH on a recording", "PATCH", "/v1/convergedRecordings/abc", 405,
			"Method PATCH is not allowed on /v1/convergedRecordings/abc; allowed: DELETE, GET, HEAD", "DELETE, GET, HEAD"},
		{"PUT on softDelete", "PUT", "/v1/convergedRecordings/softDelete", 405,
			"Method PUT is not allowed on /v1/convergedRecordings/softDelete; allowed: DELETE, GET, HEAD, POST", "DELETE, GET, HEAD, POST"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(c.method, c.path, adminToken, "")
			wantRecError(t, w, c.status, c.msg)
			if got := w.Header().Get("Allow"); got != c.allow {
				t.Errorf("Allow = %q, want %q", got, c.allow)
			}
		})
	}
}

func TestTrackingID(t *testing.T) {
	e := newEnv(t)
	t.Run("generated per request, header equals body", func(t *testing.T) {
		w1 := e.do("GET", "/v1/nope", "", "")
		w2 := e.do("GET", "/v1/nope", "", "")
		id1, id2 := webexError(t, w1).TrackingID, webexError(t, w2).TrackingID
		if !trackingRE.MatchString(id1) || id1 == id2 {
			t.Errorf("tracking ids %q, %q: want distinct CALLREC_<uuid>", id1, id2)
		}
	})
	t.Run("client value is echoed", func(t *testing.T) {
		w := e.do("GET", "/v1/nope", "", "", "trackingId", "ROUTER_6528F8C3-1234")
		if got := webexError(t, w).TrackingID; got != "ROUTER_6528F8C3-1234" {
			t.Errorf("trackingId = %q, want the client's", got)
		}
	})
	t.Run("unsafe client value is replaced", func(t *testing.T) {
		w := e.do("GET", "/v1/nope", "", "", "trackingId", "a b<script>")
		if got := webexError(t, w).TrackingID; !trackingRE.MatchString(got) {
			t.Errorf("trackingId = %q, want a generated one", got)
		}
	})
	t.Run("set on success too", func(t *testing.T) {
		w := e.do("GET", "/v1/convergedRecordings", adminToken, "")
		if !trackingRE.MatchString(w.Header().Get("trackingId")) {
			t.Errorf("trackingId header = %q", w.Header().Get("trackingId"))
		}
	})
}

func TestPprofNeedsPartnerAdmin(t *testing.T) {
	e := newEnv(t)
	wantRecError(t, e.do("GET", "/debug/pprof/", "", ""), 401, msgUnauthorized)
	wantRecError(t, e.do("GET", "/debug/pprof/", coToken, ""), 403, "Profiling needs a partner admin token")
	wantRecError(t, e.do("GET", "/debug/pprof/goroutine?debug=1", viewerToken, ""), 403, "Profiling needs a partner admin token")
	w := e.do("GET", "/debug/pprof/", adminToken, "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "goroutine") {
		t.Errorf("pprof index with admin = %d, body lacks goroutine", w.Code)
	}
	w = e.do("GET", "/debug/pprof/goroutine?debug=1", adminToken, "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "goroutine profile") {
		t.Errorf("goroutine profile = %d %.80q", w.Code, w.Body.String())
	}
	w = e.do("GET", "/debug/pprof/cmdline", adminToken, "")
	if w.Code != 200 || w.Body.Len() == 0 {
		t.Errorf("cmdline = %d, %d bytes", w.Code, w.Body.Len())
	}
}

func TestMetricsCountRequests(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/healthz", "", "")
	e.do("GET", "/healthz", "", "")
	e.do("GET", "/v1/convergedRecordings", "", "")
	e.do("GET", "/v1/nothing", "", "")
	w := e.do("GET", "/metrics", "", "")
	if w.Code != 200 {
		t.Fatalf("metrics = %d", w.Code)
	}
	body := w.Body.String()
	for _, line := range []string{
		`callrec_http_requests_total{code="200",route="GET /healthz"} 2`,
		`callrec_http_requests_total{code="401",route="GET /v1/convergedRecordings"} 1`,
		`callrec_http_requests_total{code="404",route="unmatched"} 1`,
		`callrec_http_request_duration_seconds_count{route="GET /healthz"} 2`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
}

func TestAccessLog(t *testing.T) {
	e := newEnv(t)
	e.recording("r1", testNow.Add(-time.Hour))
	w := e.do("GET", "/v1/convergedRecordings/r1", adminToken, "", "trackingId", "T-1")
	var link struct {
		Links linksJSON `json:"temporaryDirectDownloadLinks"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &link); err != nil {
		t.Fatal(err)
	}
	e.do("GET", strings.TrimPrefix(link.Links.AudioDownloadLink, publicURL), "", "", "trackingId", "T-2")
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "http request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("got %d access log lines, want 2: %s", len(lines), e.logs.String())
	}
	first := lines[0]
	for k, v := range map[string]any{"method": "GET", "route": routeGet, "path": "/v1/convergedRecordings/r1",
		"status": float64(200), "trackingId": "T-1", "token": "tok-admin"} {
		if first[k] != v {
			t.Errorf("log %s = %v, want %v", k, first[k], v)
		}
	}
	if _, ok := first["duration"]; !ok {
		t.Error("log line has no duration")
	}
	if lines[1]["route"] != routeAudio || lines[1]["status"] != float64(200) {
		t.Errorf("audio log line = %v", lines[1])
	}
	if strings.Contains(e.logs.String(), "signature") || strings.Contains(e.logs.String(), adminToken) {
		t.Error("the log holds a link signature or a bearer token")
	}
}

func TestPanicBecomes500(t *testing.T) {
	e := newEnv(t)
	e.store.panicGet = true
	w := e.do("GET", "/v1/convergedRecordings/r1", adminToken, "")
	wantRecError(t, w, 500, msgInternal)
	if !strings.Contains(e.logs.String(), "fake store exploded") {
		t.Error("panic not logged")
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"not found", fmt.Errorf("store: get x: %w", callrec.ErrNotFound), 404, msgNotFound},
		{"invalid", fmt.Errorf("store: %w", callrec.ErrInvalid), 400, msgInvalid},
		{"conflict", fmt.Errorf("store: %w", callrec.ErrConflict), 409, msgConflict},
		{"forbidden", fmt.Errorf("store: %w", callrec.ErrForbidden), 403, msgForbidden},
		{"unavailable", fmt.Errorf("blob: disk full: %w", callrec.ErrUnavailable), 503, msgUnavailable},
		{"other", errors.New("sql: connection refused 10.0.0.5"), 500, msgInternal},
		{"too large", &http.MaxBytesError{Limit: maxBodyBytes}, 413, msgTooLarge},
		{"public message", badRequest("max must be an integer from 1 to 100"), 400, "max must be an integer from 1 to 100"},
		{"wrapped public message", fmt.Errorf("ctx: %w", conflictf("Recording %s is purged", quote("a"))), 409, `Recording "a" is purged`},
		{"explicit status", &apiError{status: 410, msgs: []string{"gone"}}, 410, "gone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, msgs := classify(c.err)
			if status != c.status || strings.Join(msgs, "; ") != c.msg {
				t.Errorf("classify = %d %q, want %d %q", status, msgs, c.status, c.msg)
			}
		})
	}
}

// TestR3_R4_RecordingAccess checks the inputs the API builds for
// policy.RecordingAccess from tokens and the directory: roles in the
// recording's org, the bootstrap partner admin, partner scoping, provider
// admins by email (R11), listeners of virtual lines (R32) and the owner's
// plan (R3 go, R4 team).
func TestR3_R4_RecordingAccess(t *testing.T) {
	e := newEnv(t).withPeople()
	rec := func(org, status string, mod func(*callrec.Recording)) *callrec.Recording {
		r := &callrec.Recording{ID: "r", OrgID: org, Status: status, OwnerType: callrec.OwnerOrg, OwnerID: org}
		if mod != nil {
			mod(r)
		}
		return r
	}
	aliceGo := owned(callrec.OwnerUser, recAlice, "alice@a.example")
	bobTeam := owned(callrec.OwnerUser, recBob, "bob@a.example")
	salesTeam := owned(callrec.OwnerVirtualLine, recSales, "")
	bOwned := func(r *callrec.Recording) { r.OwnerType, r.OwnerID = callrec.OwnerUser, recOrgBUser }
	type acc = policy.Access
	all := acc{List: true, Read: true, Download: true, Delete: true, Reassign: true}
	own := acc{List: true, Read: true, Download: true, Delete: true}
	listen := acc{List: true, Read: true, Download: true}
	readOnly := acc{List: true, Read: true}
	manage := acc{List: true, Read: true, Reassign: true}
	cases := []struct {
		name  string
		token string
		rec   *callrec.Recording
		want  policy.Access
	}{
		{"bootstrap partner admin: everything in any org", adminToken, rec(recOrgB, callrec.StatusAvailable, bOwned), all},
		{"bootstrap partner admin: a go user's recording too", adminToken, rec(recOrgA, callrec.StatusAvailable, aliceGo), all},
		{"bootstrap partner admin: purged is read only", adminToken, rec(recOrgA, callrec.StatusPurged, bobTeam), readOnly},
		{"bootstrap partner admin: an org with no document", adminToken, rec("9f000000-0000-4000-8000-000000000000", callrec.StatusAvailable, nil), all},
		{"nobody sees a running recording", adminToken, rec(recOrgA, callrec.StatusRecording, nil), acc{}},
		{"compliance officer: its org, any plan", coAToken, rec(recOrgA, callrec.StatusAvailable, aliceGo), all},
		{"compliance officer: another org is nothing", coToken, rec(recOrgA, callrec.StatusAvailable, bobTeam), acc{}},
		{"R3 owner on go", aliceToken, rec(recOrgA, callrec.StatusAvailable, aliceGo), own},
		{"R3 another user's go recording", bobToken, rec(recOrgA, callrec.StatusAvailable, aliceGo), acc{}},
		{"R3 owner: not purged", aliceToken, rec(recOrgA, callrec.StatusPurged, aliceGo), acc{}},
		{"R3 full admin: nothing on go", fullToken, rec(recOrgA, callrec.StatusAvailable, aliceGo), acc{}},
		{"R3 provider admin: nothing on go", daveToken, rec(recOrgA, callrec.StatusAvailable, aliceGo), acc{}},
		{"R4 provider admin by email, any case: paid", daveToken, rec(recOrgA, callrec.StatusAvailable, bobTeam), own},
		{"R4 full admin on paid: list, read, reassign; no download (§10.5)", fullToken, rec(recOrgA, callrec.StatusAvailable, bobTeam), manage},
		{"R4 read-only admin on paid", roToken, rec(recOrgA, callrec.StatusAvailable, bobTeam), readOnly},
		{"location admin: no recording rights", locToken, rec(recOrgA, callrec.StatusAvailable, bobTeam), acc{}},
		{"R32 listener of the virtual line", carolToken, rec(recOrgA, callrec.StatusAvailable, salesTeam), listen},
		{"R32 a non-listener", aliceToken, rec(recOrgA, callrec.StatusAvailable, salesTeam), acc{}},
		{"unmatched (org) recording: admins", fullToken, rec(recOrgA, callrec.StatusAvailable, nil), manage},
		{"unmatched (org) recording: not users", aliceToken, rec(recOrgA, callrec.StatusAvailable, nil), acc{}},
		{"partner admin of the managing partner: org admin rights", acmeToken, rec(recOrgB, callrec.StatusAvailable, nil), manage},
		{"partner admin of another partner: nothing", acmeToken, rec(recOrgA, callrec.StatusAvailable, nil), acc{}},
		{"full admin of another org: nothing", orgBFullToken, rec(recOrgA, callrec.StatusAvailable, bobTeam), acc{}},
		{"unknown role", viewerToken, rec(recOrgA, callrec.StatusAvailable, nil), acc{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := e.store.TokenByHash(t.Context(), hashToken(c.token))
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.srv.accessFor(tok).of(t.Context(), c.rec)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("access = %+v, want %+v", got, c.want)
			}
		})
	}
	t.Run("nil recording", func(t *testing.T) {
		tok, _ := e.store.TokenByHash(t.Context(), hashToken(adminToken))
		if got, err := e.srv.accessFor(tok).of(t.Context(), nil); got != (policy.Access{}) || err != nil {
			t.Errorf("access = %+v, %v", got, err)
		}
	})
}
