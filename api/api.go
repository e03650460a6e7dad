// Package api is callrec's HTTP surface: health and readiness probes,
// Prometheus metrics, pprof behind the partner-admin token, and the REST API
// under /v1 in the shapes of Webex's Converged Recordings API
// (../shared/reference/webex-call-recording-api.md §1 and §10) for the
// recordings the recorder makes.
//
// Handlers return errors; one place (errors.go) maps them to an HTTP status
// and the Webex error body {message, errors:[{description}], trackingId},
// with the same trackingId in a response header. Every request is counted
// by route pattern and status code and logged once, structured, via slog.
//
// Who may read or change configuration is decided in scope.go (roles and
// the acting org, orgId); who may see a recording by policy.RecordingAccess
// (R3, R4), in access.go. Another org's objects answer 404, never 403.
//
// The package must never touch storage directly (it goes through the small
// [Store] and [Blobs] interfaces it declares), never reveal internal error
// text to clients (500 bodies say only that something failed and carry the
// trackingId that the log line also carries), never log bearer tokens or
// download-link signatures, and never be mounted next to
// http.DefaultServeMux (importing net/http/pprof registers unauthenticated
// handlers there).
package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	// Embedded zone data, so the timezone parameter works on hosts without
	// /usr/share/zoneinfo (minimal containers).
	_ "time/tzdata"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// DefaultLinkTTL is how long a download link stays valid when Config.LinkTTL
// is zero: Webex's links expire 3 hours after the API call (§10.5).
const DefaultLinkTTL = 3 * time.Hour

// maxBodyBytes bounds every request body (1 MiB); larger bodies get 413.
const maxBodyBytes = 1 << 20

// minSigningKey is the shortest HMAC key New accepts (128 bits).
const minSigningKey = 16

// Store is what the API needs from the state store: the control plane's
// documents (directory.Store), recordings and tokens.
type Store interface {
	directory.Store
	// GetRecording returns the recording or an error wrapping callrec.ErrNotFound.
	GetRecording(ctx context.Context, id string) (*callrec.Recording, error)
	// ListRecordings returns recordings newest Start first, then ID
	// descending, strictly older than the keyset cursor
	// (BeforeStart, BeforeID) when it is set, at most Limit of them.
	ListRecordings(ctx context.Context, q callrec.RecordingQuery) ([]callrec.Recording, error)
	// UpdateRecording stores the recording's new state.
	UpdateRecording(ctx context.Context, r *callrec.Recording) error
	// TokenByHash returns the token whose hex SHA-256 is hash, or an error
	// wrapping callrec.ErrNotFound.
	TokenByHash(ctx context.Context, hash string) (*callrec.Token, error)
	// CreateToken stores a new token (only its hash).
	CreateToken(ctx context.Context, t *callrec.Token) error
	// ListTokens returns the tokens of an org and/or partner ("" = any).
	ListTokens(ctx context.Context, orgID, partnerID string) ([]callrec.Token, error)
	// DeleteToken revokes a token; a missing one is callrec.ErrNotFound.
	DeleteToken(ctx context.Context, id string) error
	// DeleteTokensOfPerson revokes every token of a person.
	DeleteTokensOfPerson(ctx context.Context, personID string) (int, error)
	// SetRecordingOwner records who a recording belongs to (R3, R4).
	SetRecordingOwner(ctx context.Context, id, ownerType, ownerID, ownerEmail, locationID string, expiresAt time.Time) error
}

// Object is an open audio object: seekable, so Range requests can be
// served. It is an alias of an unnamed interface, so a blob store's Open
// that returns its own alias of the same interface satisfies [Blobs]
// without importing this package.
type Object = interface {
	io.ReadSeekCloser
	// Size is the length of the object in bytes.
	Size() int64
	// ModTime is when the object was last written.
	ModTime() time.Time
}

// Blobs is what the API needs from the audio store.
type Blobs interface {
	// Open opens the object, or returns an error wrapping callrec.ErrNotFound.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes the object; a missing object gives callrec.ErrNotFound.
	Delete(ctx context.Context, key string) error
	// Put stores what r yields under key (uploaded announcements),
	// replacing any object there, and returns its length.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
}

// Config configures the HTTP surface.
type Config struct {
	// PublicURL is the base of links handed out, e.g. http://127.0.0.1:8080.
	PublicURL string
	// SigningKey is the HMAC key of download links (at least 16 bytes);
	// the caller persists it so links survive restarts.
	SigningKey []byte
	// LinkTTL is how long a download link is valid; zero means DefaultLinkTTL.
	LinkTTL time.Duration
	// Version is the program version (logged; reserved for a version endpoint).
	Version string
	// Logger receives the access log and internal errors; nil discards.
	Logger *slog.Logger
	// Registry is served at /metrics; the HTTP metrics are registered in it.
	// Nil means a private registry holding only the HTTP metrics.
	Registry *prometheus.Registry
	// Ready reports readiness for /readyz: nil error means ready, otherwise
	// the error's message is the 503 reason. Nil means always ready.
	Ready func(ctx context.Context) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SourcesChanged is called after a SIPREC source was created, changed
	// or deleted, so the recorder reloads its source table at once; nil
	// means the recorder's periodic reload picks the change up.
	SourcesChanged func(ctx context.Context)
	// Events is the recording state events hub behind the event stream
	// (GET /v1/telephony/calls/events); nil: the stream answers 503.
	Events EventHub
	// Calls is the call plane behind the call control routes
	// (/v1/telephony/calls...); nil: they answer 503.
	Calls CallPlane
}

// server holds the handler's dependencies. It has no mutable state besides
// the metrics and the time-zone cache, so it serves requests concurrently.
type server struct {
	publicURL string
	key       []byte
	linkTTL   time.Duration
	version   string
	log       *slog.Logger
	registry  *prometheus.Registry
	ready     func(ctx context.Context) error
	now       func() time.Time
	// sourcesChanged is Config.SourcesChanged.
	sourcesChanged func(ctx context.Context)
	// events is Config.Events.
	events EventHub
	// calls is Config.Calls.
	calls CallPlane

	store Store
	blobs Blobs

	mux      *http.ServeMux
	ops      []op
	doc      map[string]any
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	zones    sync.Map // IANA name -> *time.Location
}

// New validates cfg and returns the handler that serves every route of
// the package (see routes).
func New(cfg Config, store Store, blobs Blobs) (http.Handler, error) {
	if store == nil || blobs == nil {
		return nil, fmt.Errorf("api: new: store and blob store are required: %w", callrec.ErrInvalid)
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("api: new: public URL %q must be an absolute http or https URL: %w", cfg.PublicURL, callrec.ErrInvalid)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("api: new: public URL %q must not have a query or fragment: %w", cfg.PublicURL, callrec.ErrInvalid)
	}
	if len(cfg.SigningKey) < minSigningKey {
		return nil, fmt.Errorf("api: new: signing key has %d bytes, need at least %d: %w", len(cfg.SigningKey), minSigningKey, callrec.ErrInvalid)
	}
	if cfg.LinkTTL < 0 {
		return nil, fmt.Errorf("api: new: link TTL %v is negative: %w", cfg.LinkTTL, callrec.ErrInvalid)
	}
	s := &server{
		publicURL:      strings.TrimRight(cfg.PublicURL, "/"),
		key:            append([]byte(nil), cfg.SigningKey...),
		linkTTL:        cfg.LinkTTL,
		version:        cfg.Version,
		log:            cfg.Logger,
		registry:       cfg.Registry,
		ready:          cfg.Ready,
		now:            cfg.Now,
		sourcesChanged: cfg.SourcesChanged,
		events:         cfg.Events,
		calls:          cfg.Calls,
		store:          store,
		blobs:          blobs,
	}
	if s.linkTTL == 0 {
		s.linkTTL = DefaultLinkTTL
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// registerMetrics registers the HTTP metrics, reusing collectors already
// registered by an earlier New on the same registry.
func (s *server) registerMetrics() error {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "callrec_http_requests_total",
		Help: "HTTP requests served, by route pattern and status code.",
	}, []string{"route", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "callrec_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	var err error
	if s.requests, err = register(s.registry, requests); err != nil {
		return err
	}
	if s.latency, err = register(s.registry, latency); err != nil {
		return err
	}
	return nil
}

// register registers c, or returns the identical collector already there.
func register[C prometheus.Collector](reg *prometheus.Registry, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	var zero C
	return zero, fmt.Errorf("api: register metrics: %w", err)
}
