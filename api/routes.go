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

// Route patterns of the probes and of routes tests refer to (Go 1.22
// ServeMux). A GET pattern also serves HEAD.
const (
	routeHealth  = "GET /healthz"
	routeReady   = "GET /readyz"
	routeMetrics = "GET /metrics"
	routePprof   = "/debug/pprof/"
	routeGet     = "GET /v1/convergedRecordings/{id}"
	routeAudio   = "GET /v1/convergedRecordings/{id}/audio"

	// routeUnmatched labels requests that matched no pattern (404, 405).
	routeUnmatched = "unmatched"
)

// Access descriptions shared by many operations.
const (
	accessRecordings = "the owner; provider admins and org admins on paid plans (R3, R4); compliance officers"
	accessOfficer    = "compliance officers, and the recording's owner for their own"
)

// routes registers every handler on a fresh mux and builds the OpenAPI
// document from them.
func (s *server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc(routeHealth, s.healthz)
	s.mux.HandleFunc(routeReady, s.readyz)
	s.mux.Handle(routeMetrics, promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	s.mux.Handle(routePprof, s.handle(s.pprof))

	s.register(op{Method: "GET", Path: "/v1/openapi.json", Summary: "The OpenAPI document of this API", Tag: "Meta", Public: true,
		Resp: map[string]any{}, Handler: s.handle(s.serveOpenAPI)})
	s.recordingRoutes()
	s.directoryRoutes()
	s.callRecordingRoutes()
	s.providerRoutes()
	s.auditRoutes()
	s.webhookRoutes(s.events)
	s.callRoutes()
	s.announcementRoutes()
	s.voiceMessageRoutes()
	s.doc = s.openAPI()
}

// recordingRoutes registers the Converged Recordings API (§10).
func (s *server) recordingRoutes() {
	const tag = "Converged Recordings"
	listQuery := []param{qMax,
		{"from", "string", "ISO 8601 start of the window (inclusive)"},
		{"to", "string", "ISO 8601 end of the window (exclusive)"},
		{"status", "string", "available or deleted (admins: also purged)"},
		{"serviceType", "string", "calling or customerAssist"},
		{"format", "string", "WAV (MP3 matches nothing)"},
		{"ownerType", "string", "user, place, virtualLine, callQueue or org"},
		{"storageRegion", "string", "region code"},
		{"locationId", "string", "recordings of a location"},
		{"topic", "string", "case-insensitive substring of the topic"},
		{"timezone", "string", "IANA time zone of the rendered times (also a header)"},
	}
	adminQuery := append(append([]param{}, listQuery...), param{"ownerId", "string", "owner id"}, param{"ownerEmail", "string", "owner email"})
	s.register(op{Method: "GET", Path: "/v1/convergedRecordings", Summary: "List the caller's own recordings", Tag: tag,
		Access: "any user: their own recordings", Query: listQuery, Resp: listJSON{}, Handler: s.authed(s.listUser)})
	s.register(op{Method: "GET", Path: "/v1/admin/convergedRecordings", Summary: "List recordings for an admin or compliance officer", Tag: tag,
		Access: accessRecordings, Query: adminQuery, Resp: listJSON{}, Handler: s.authed(s.listAdmin)})
	s.register(op{Method: "GET", Path: "/v1/convergedRecordings/{id}", Summary: "Get recording details with a temporary download link", Tag: tag,
		Access: accessRecordings, Query: []param{{"timezone", "string", "IANA time zone"}}, Resp: recordingJSON{}, Handler: s.authed(s.getRecording)})
	s.register(op{Method: "GET", Path: "/v1/convergedRecordings/{id}/metadata", Summary: "Get recording metadata", Tag: tag,
		Access: accessRecordings, Query: []param{{"showAllTypes", "boolean", "include media streams and participants"}, {"timezone", "string", "IANA time zone"}},
		Resp: metadataJSON{}, Handler: s.authed(s.getMetadata)})
	s.register(op{Method: "GET", Path: "/v1/convergedRecordings/{id}/audio", Summary: "Download the audio (WAV) through a signed link; HTTP Range supported", Tag: tag,
		Access: "anyone holding a valid signed link", Public: true, Status: http.StatusOK,
		Query: []param{{"expires", "integer", "Unix expiry of the link"}, {"signature", "string", "HMAC of the link"}}, Handler: s.handle(s.audio)})
	s.register(op{Method: "DELETE", Path: "/v1/convergedRecordings/{id}", Summary: "Delete a recording for good (purge)", Tag: tag,
		Access: accessOfficer, Body: deleteBody{}, Handler: s.authed(s.deleteRecording)})
	s.register(op{Method: "POST", Path: "/v1/convergedRecordings/softDelete", Summary: "Move recordings into the recycle bin", Tag: tag,
		Access: accessRecordings, Body: bulkBody{}, Handler: s.authed(s.softDelete)})
	s.register(op{Method: "POST", Path: "/v1/convergedRecordings/restore", Summary: "Restore recordings from the recycle bin", Tag: tag,
		Access: accessRecordings, Body: bulkBody{}, Handler: s.authed(s.restore)})
	s.register(op{Method: "POST", Path: "/v1/convergedRecordings/purge", Summary: "Purge recordings from the recycle bin", Tag: tag,
		Access: accessRecordings, Body: bulkBody{}, Handler: s.authed(s.purge)})
	s.register(op{Method: "POST", Path: "/v1/convergedRecordings/reassign", Summary: "Reassign recordings to another owner", Tag: tag,
		Access: "org admins and compliance officers", Body: reassignBody{}, Handler: s.authed(s.reassign)})
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
		r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(r))
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
