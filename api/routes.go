package api

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/callrec/callrec"
)

// Route patterns (Go 1.22 ServeMux). A GET pattern also serves HEAD.
const (
	routeHealth     = "GET /healthz"
	routeReady      = "GET /readyz"
	routeMetrics    = "GET /metrics"
	routePprof      = "/debug/pprof/"
	routeList       = "GET /v1/convergedRecordings"
	routeAdminList  = "GET /v1/admin/convergedRecordings"
	routeGet        = "GET /v1/convergedRecordings/{id}"
	routeMetadata   = "GET /v1/convergedRecordings/{id}/metadata"
	routeAudio      = "GET /v1/convergedRecordings/{id}/audio"
	routeDelete     = "DELETE /v1/convergedRecordings/{id}"
	routeSoftDelete = "POST /v1/convergedRecordings/softDelete"
	routeRestore    = "POST /v1/convergedRecordings/restore"
	routePurge      = "POST /v1/convergedRecordings/purge"
	routeReassign   = "POST /v1/convergedRecordings/reassign"

	// routeUnmatched labels requests that matched no pattern (404, 405).
	routeUnmatched = "unmatched"
)

// routes registers every handler on a fresh mux.
func (s *server) routes() {
	m := http.NewServeMux()
	m.HandleFunc(routeHealth, s.healthz)
	m.HandleFunc(routeReady, s.readyz)
	m.Handle(routeMetrics, promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	m.Handle(routePprof, s.handle(s.pprof))

	m.Handle(routeList, s.authed(s.listUser))
	m.Handle(routeAdminList, s.authed(s.listAdmin))
	m.Handle(routeGet, s.authed(s.getRecording))
	m.Handle(routeMetadata, s.authed(s.getMetadata))
	m.Handle(routeDelete, s.authed(s.deleteRecording))
	m.Handle(routeSoftDelete, s.authed(s.softDelete))
	m.Handle(routeRestore, s.authed(s.restore))
	m.Handle(routePurge, s.authed(s.purge))
	m.Handle(routeReassign, s.authed(s.reassign))
	m.Handle(routeAudio, s.handle(s.audio)) // the signed link is the credential
	s.mux = m
}

// requestInfo is what the access log learns while a request is served.
type requestInfo struct {
	trackingID string
	tokenID    string
}

type ctxKey struct{}

// info returns the request's requestInfo; never nil.
func info(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(ctxKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// ServeHTTP is the outer layer of every request: trackingId, body limit,
// panic recovery, routing with Webex-shaped 404/405 under /v1, metrics and
// the access log.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ri := &requestInfo{trackingID: trackingID(r.Header.Get("trackingId"))}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
	w.Header().Set("trackingId", ri.trackingID)
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	}
	sw := &statusWriter{ResponseWriter: w}
	route := s.dispatch(sw, r)
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	elapsed := time.Since(start)
	s.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	s.latency.WithLabelValues(route).Observe(elapsed.Seconds())

	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelWarn
	case status < 400 && (route == routeHealth || route == routeReady || route == routeMetrics):
		level = slog.LevelDebug // probes and scrapes would drown the log
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.String("path", r.URL.Path), // never the query: it may hold a link signature
		slog.Int("status", status),
		slog.Duration("duration", elapsed),
		slog.Int64("bytes", sw.bytes),
		slog.String("trackingId", ri.trackingID),
		slog.String("remote", r.RemoteAddr),
	}
	if ri.tokenID != "" {
		attrs = append(attrs, slog.String("token", ri.tokenID))
	}
	s.log.LogAttrs(r.Context(), level, "http request", attrs...)
}

// dispatch routes the request and returns the route label for metrics.
func (s *server) dispatch(w *statusWriter, r *http.Request) (route string) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			route = routeUnmatched
			if r.Pattern != "" {
				route = r.Pattern
			}
			err := fmt.Errorf("api: panic serving %s %s: %v", r.Method, r.URL.Path, v)
			if w.status == 0 {
				s.writeError(w, r, err)
			} else {
				s.log.Error("api: panic after the response started", "err", err, "trackingId", info(r.Context()).trackingID)
			}
		}
	}()
	if _, pattern := s.mux.Handler(r); pattern == "" && isAPIPath(r.URL.Path) {
		s.unmatched(w, r)
		return routeUnmatched
	}
	s.mux.ServeHTTP(w, r)
	if r.Pattern == "" {
		return routeUnmatched
	}
	return r.Pattern
}

// isAPIPath says whether a path belongs to the REST API (Webex error bodies).
func isAPIPath(p string) bool {
	return p == "/v1" || strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/debug/pprof")
}

// unmatched answers a request no pattern matched: 405 with Allow when the
// path exists for other methods, else 404, both with the Webex error body.
func (s *server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r) // the mux's own 404/405 handler: it only sets Allow and a status
	if probe.status == http.StatusMethodNotAllowed {
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		s.writeError(w, r, &apiError{
			status: http.StatusMethodNotAllowed,
			msgs:   []string{fmt.Sprintf("Method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow)},
		})
		return
	}
	s.writeError(w, r, &apiError{status: http.StatusNotFound, msgs: []string{msgNoRoute}})
}

// headerProbe captures what the mux's fallback handler would answer.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

// statusWriter records the status code and body size for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers (pprof trace) flush through the wrapper.
func (w *statusWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// trackingID returns the client's trackingId when it is sane (1..128
// characters of letters, digits and -_.:), else a new CALLREC_<uuid>.
func trackingID(client string) string {
	if n := len(client); n > 0 && n <= 128 {
		ok := true
		for i := 0; i < n && ok; i++ {
			c := client[i]
			ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				c == '-' || c == '_' || c == '.' || c == ':'
		}
		if ok {
			return client
		}
	}
	return "CALLREC_" + newUUID()
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// healthz answers 200 while the process runs.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok"))
}

// readyTimeout bounds one readiness check.
const readyTimeout = 5 * time.Second

// readyz answers 200 when Config.Ready says so, else 503 with its reason.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.ready(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: " + err.Error()))
		return
	}
	_, _ = w.Write([]byte("ok"))
}

// pprof serves net/http/pprof to partner admins only, so a profile can be
// taken under load (architecture.md, "The recorder's hot path").
func (s *server) pprof(w http.ResponseWriter, r *http.Request) error {
	tok, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if tok.Role != callrec.RolePartnerAdmin {
		return forbidden("Profiling needs a partner admin token")
	}
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r)
	}
	return nil
}
