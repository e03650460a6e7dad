// Package recorder is the SIPREC recording server (SRS, RFC 7866): it takes
// recording sessions over SIP (UDP and TCP, sipgo), binds one RTP/RTCP
// socket pair per offered stream, hands the packets to the aligner
// (media/mix) and writes one WAV file per session, which it finalises and
// hands to the blob store. Each session belongs to the org its source is
// bound to (source networks, --siprec-allow, or RFC 7616 digest
// credentials: sources.go), and each recording to an owner matched in
// that org's directory, with the expiry of the owner's plan (owners.go).
// It never serves HTTP and never decides policy (retention comes from
// policy.Expiry), and it never touches the directory on the per-packet
// path: sources are cached, owners are looked up at INVITE and at the end.
package recorder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/rtpport"
	"github.com/callrec/callrec/sipdigest"
	"github.com/callrec/callrec/siplog"
)

// Store is what the recorder needs of the state store.
type Store interface {
	CreateRecording(ctx context.Context, r *callrec.Recording) error
	UpdateRecording(ctx context.Context, r *callrec.Recording) error
	ListRecordings(ctx context.Context, q callrec.RecordingQuery) ([]callrec.Recording, error)
}

// Blobs is what the recorder needs of the audio store.
type Blobs interface {
	// PutFile moves a finished local file into the store under key.
	PutFile(ctx context.Context, key, localPath string) error
}

// Config configures the recording server.
type Config struct {
	Listen   string     // host:port for SIP over UDP and TCP
	PublicIP netip.Addr // address for SDP and Contact; zero: the local address facing the peer
	RTPMin   int        // media port range (when Ports is nil)
	RTPMax   int        //
	// Ports hands out the RTP/RTCP pairs when the recorder shares one
	// range with other parts of the process (nil: RTPMin..RTPMax).
	Ports        *rtpport.Range
	MediaTimeout time.Duration  // end sessions whose active streams are silent this long
	Allow        []netip.Prefix // accepted source networks
	SpoolDir     string         // where files are written while recording
	OrgID        string         // org that owns recordings from allowed sources
	MinFreeDisk  uint64         // refuse new sessions below this many free bytes
	FreeBytes    func() (uint64, error)
	Logger       *slog.Logger
	Registry     prometheus.Registerer
	// FlushInterval is how often audio is written to the spool file;
	// default 1 s (interfaces.md: flushed at least every second).
	FlushInterval time.Duration
	// Now returns the wall clock; nil means time.Now.
	Now func() time.Time
	// Sources binds SIPREC clients to orgs by network or digest
	// credentials (see Server.admit); nil: only Allow, for OrgID.
	Sources Sources
	// SourceRefresh is how often Sources is reloaded; zero means
	// DefaultSourceRefresh.
	SourceRefresh time.Duration
	// Owners matches each recording's owner within its org; nil: every
	// recording belongs to its org (ownerType org), kept without limit.
	Owners Owners
	// OrgClaimKey verifies the org claim (package srcclaim) that
	// callrec's own call plane puts on its SIPREC INVITEs: a genuine
	// claim decides the org before any source binding. Nil: claims are
	// ignored.
	OrgClaimKey []byte
}

// Server is a running SIPREC recording server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  Store
	blobs  Blobs
	ports  *portPool
	met    *metrics
	now    func() time.Time
	bindIP netip.Addr

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	udp    net.PacketConn
	tcp    net.Listener

	mu       sync.Mutex
	sessions map[string]*session // by SIP Call-ID
	draining atomic.Bool
	udpUp    atomic.Bool
	tcpUp    atomic.Bool

	stop      context.CancelFunc
	loopDone  chan struct{}
	listeners sync.WaitGroup // the two SIP listener goroutines
	// finalising counts sessions being finalised (guarded by mu); idle is
	// signalled when it drops to zero. A WaitGroup would not do: a BYE may
	// start a finalisation while Shutdown already waits.
	finalising int
	idle       *sync.Cond
	localIPs   sync.Map // peer IP -> local IP facing it
	localMu    sync.Mutex
	local      localStreams // live streams by RTP port, for LocalSink

	sources atomic.Pointer[sourceTable] // the last loaded SIPREC sources
	// sourcesLoaded is when sources was last loaded (Unix ns), also
	// claimed by admit before an on-demand reload.
	sourcesLoaded atomic.Int64
	nonces        sipdigest.Nonces // digest challenges (RFC 7616)
	srcDone       chan struct{}    // closed when sourceLoop has returned
	badMu         sync.Mutex
	badNets       string // the invalid source networks last reported
}

// New validates cfg and prepares a server; Start binds the sockets.
func New(cfg Config, store Store, blobs Blobs) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MediaTimeout <= 0 {
		cfg.MediaTimeout = 60 * time.Second
	}
	if cfg.SourceRefresh <= 0 {
		cfg.SourceRefresh = DefaultSourceRefresh
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("recorder: listen address %q: %w", cfg.Listen, err)
	}
	bindIP := netip.IPv4Unspecified()
	if host != "" {
		if host == "localhost" {
			host = "127.0.0.1"
		}
		if bindIP, err = netip.ParseAddr(host); err != nil {
			return nil, fmt.Errorf("recorder: listen address %q: %w", cfg.Listen, err)
		}
	}
	if err := os.MkdirAll(cfg.SpoolDir, 0o750); err != nil {
		return nil, fmt.Errorf("recorder: spool dir: %w", err)
	}
	ports, err := newPortPool(cfg.Ports, cfg.RTPMin, cfg.RTPMax)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "recorder"),
		store:    store,
		blobs:    blobs,
		ports:    ports,
		now:      cfg.Now,
		bindIP:   bindIP,
		sessions: map[string]*session{},
	}
	s.idle = sync.NewCond(&s.mu)
	s.met = newMetrics(s)
	if cfg.Registry != nil {
		if err := s.met.register(cfg.Registry); err != nil {
			return nil, fmt.Errorf("recorder: metrics: %w", err)
		}
	}
	return s, nil
}

// Start binds the SIP listeners (UDP and TCP) and starts the housekeeping
// loop. It returns once both listeners are bound.
func (s *Server) Start(ctx context.Context) error {
	// The SIP stack logs through a rate limit: peers decide how often it
	// has something to say.
	sipLog := siplog.Logger(s.log.Handler(), &s.met.parseErrors)
	ua, err := siplog.NewUA("callrec-srs", "", sipLog)
	if err != nil {
		return fmt.Errorf("recorder: sip user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		return fmt.Errorf("recorder: sip server: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(sipLog))
	if err != nil {
		return fmt.Errorf("recorder: sip client: %w", err)
	}
	s.ua, s.srv, s.client = ua, srv, client
	if err := s.ReloadSources(ctx); err != nil {
		// Allow-listed sources still work; the reload loop keeps trying.
		s.log.Warn("loading SIPREC sources failed; only --siprec-allow applies until a reload succeeds", "err", err)
	}
	srv.OnInvite(s.onInvite)
	srv.OnAck(s.onAck)
	srv.OnBye(s.onBye)
	srv.OnCancel(s.onCancel)
	srv.OnUpdate(s.onUpdate)
	srv.OnOptions(s.onOptions)
	srv.OnInfo(s.onInDialogOK)
	srv.OnNoRoute(s.onNoRoute)

	udp, err := net.ListenPacket("udp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("recorder: listen udp %s: %w", s.cfg.Listen, err)
	}
	tcp, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		udp.Close()
		return fmt.Errorf("recorder: listen tcp %s: %w", s.cfg.Listen, err)
	}
	s.udp, s.tcp = udp, tcp
	loopCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.loopDone = make(chan struct{})
	s.listeners.Add(2)
	s.udpUp.Store(true)
	s.tcpUp.Store(true)
	go func() {
		defer s.listeners.Done()
		err := srv.ServeUDP(udp)
		s.udpUp.Store(false)
		if err != nil && !s.draining.Load() {
			s.log.Error("sip udp listener stopped", "err", err)
		}
	}()
	go func() {
		defer s.listeners.Done()
		err := srv.ServeTCP(tcp)
		s.tcpUp.Store(false)
		if err != nil && !s.draining.Load() {
			s.log.Error("sip tcp listener stopped", "err", err)
		}
	}()
	go s.loop(loopCtx)
	s.srcDone = make(chan struct{})
	if s.cfg.Sources != nil {
		go s.sourceLoop(loopCtx, s.srcDone)
	} else {
		close(s.srcDone)
	}
	return nil
}

// Ready returns nil when the SIP listeners are up, not draining, and the
// disk has room; otherwise the reason.
func (s *Server) Ready() error {
	switch {
	case s.draining.Load():
		return errors.New("recorder is draining")
	case !s.udpUp.Load() || !s.tcpUp.Load():
		return errors.New("SIPREC listeners are not up")
	}
	return s.checkDisk()
}

func (s *Server) checkDisk() error {
	if s.cfg.FreeBytes == nil || s.cfg.MinFreeDisk == 0 {
		return nil
	}
	free, err := s.cfg.FreeBytes()
	if err != nil {
		return fmt.Errorf("free disk space unknown: %w", err)
	}
	if free < s.cfg.MinFreeDisk {
		return fmt.Errorf("free disk space %d bytes is below --min-free-disk %d", free, s.cfg.MinFreeDisk)
	}
	return nil
}

// Shutdown stops taking new sessions, ends every active session with a BYE
// (endReason shutdown) once ctx is done or they have all ended, finalises
// every file and closes the listeners.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	// Give active calls until ctx is done to end by themselves.
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for s.activeCount() > 0 {
		select {
		case <-ctx.Done():
		case <-t.C:
			continue
		}
		break
	}
	s.mu.Lock()
	active := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		active = append(active, ss)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, ss := range active {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.endSession(ss, callrec.EndShutdown, true)
		}()
	}
	wg.Wait()
	if s.stop != nil {
		s.stop()
		<-s.loopDone
		<-s.srcDone
	}
	// sipgo does not close listeners handed to Serve*: close them here.
	if s.udp != nil {
		s.udp.Close()
		s.tcp.Close()
	}
	if s.srv != nil {
		s.srv.Close()
	}
	if s.ua != nil {
		s.ua.Close()
	}
	s.listeners.Wait()
	s.mu.Lock()
	for s.finalising > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	return nil
}

func (s *Server) activeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// loop is the one housekeeping goroutine: it enforces the media timeout
// and session timers for all sessions from the streams' atomic
// last-packet times, so nothing per packet needs a timer. Audio is
// written by each session's own flusher (session.flushLoop).
func (s *Server) loop(ctx context.Context) {
	defer close(s.loopDone)
	t := time.NewTicker(s.cfg.FlushInterval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.now()
		s.mu.Lock()
		list := make([]*session, 0, len(s.sessions))
		for _, ss := range s.sessions {
			list = append(list, ss)
		}
		s.mu.Unlock()
		for _, ss := range list {
			if reason, why := ss.expired(now, s.cfg.MediaTimeout); reason != "" {
				ss.log.Info("ending session", "reason", reason, "why", why)
				go s.endSession(ss, reason, true)
			}
		}
	}
}

// localIPFor returns the address to put in SDP and Contact for a peer.
func (s *Server) localIPFor(peer netip.Addr) netip.Addr {
	if s.cfg.PublicIP.IsValid() {
		return s.cfg.PublicIP
	}
	if !s.bindIP.IsUnspecified() {
		return s.bindIP
	}
	if v, ok := s.localIPs.Load(peer); ok {
		return v.(netip.Addr)
	}
	ip := netip.MustParseAddr("127.0.0.1")
	// A connected UDP socket sends nothing but tells which local address
	// routes to the peer.
	if c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer, 9))); err == nil {
		if la, ok := c.LocalAddr().(*net.UDPAddr); ok {
			ip = la.AddrPort().Addr().Unmap()
		}
		c.Close()
	}
	s.localIPs.Store(peer, ip)
	return ip
}

func (s *Server) allowed(src netip.Addr) bool {
	for _, p := range s.cfg.Allow {
		if p.Contains(src) {
			return true
		}
	}
	return false
}

// sourceAddr parses a request's transport source ("host:port").
func sourceAddr(req *sip.Request) netip.AddrPort {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func (s *Server) lookup(callID string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[callID]
}

func callIDOf(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if s.draining.Load() {
		respond(tx, req, 503, "Draining", nil, sip.NewHeader("Retry-After", "30"))
		return
	}
	if err := s.capacity(); err != nil {
		respond(tx, req, 503, "Over Capacity", nil, sip.NewHeader("Retry-After", "30"))
		return
	}
	respond(tx, req, 200, "OK", nil,
		sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"),
		sip.NewHeader("Supported", "siprec, timer"),
		sip.NewHeader("Accept", "application/sdp, application/rs-metadata+xml, application/rs-metadata"))
}

// capacity reports why a new session cannot be taken now, or nil.
func (s *Server) capacity() error {
	if err := s.checkDisk(); err != nil {
		return err
	}
	if s.ports.free() < 1 {
		return errNoPorts
	}
	return nil
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if ss := s.lookup(callIDOf(req)); ss != nil {
		ss.ack(req, tx)
	}
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	ss := s.lookup(callIDOf(req))
	if ss == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	respond(tx, req, 200, "OK", nil)
	s.endSession(ss, callrec.EndBye, false)
}

func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	// sipgo matches a CANCEL to its INVITE transaction itself and answers
	// it; a CANCEL that reaches us matched nothing.
	respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
}

func (s *Server) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	respond(tx, req, 405, "Method Not Allowed", nil, sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"))
}

// onInDialogOK answers requests that need no action (INFO) in a session.
func (s *Server) onInDialogOK(req *sip.Request, tx sip.ServerTransaction) {
	if s.lookup(callIDOf(req)) == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	respond(tx, req, 200, "OK", nil)
}

func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	ss := s.lookup(callIDOf(req))
	if ss == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	ss.update(req, tx, "update")
}

// isRecordingSession applies interfaces.md: an INVITE is a recording
// session when it has Require: siprec, an rs-metadata body part, or a
// +sip.src / ;src Contact (BroadWorks omits Require).
func isRecordingSession(req *sip.Request) bool {
	for _, h := range req.GetHeaders("Require") {
		if hasToken(h.Value(), "siprec") {
			return true
		}
	}
	if ct := req.ContentType(); ct != nil && strings.Contains(strings.ToLower(ct.Value()), "multipart/") &&
		strings.Contains(strings.ToLower(string(req.Body())), "rs-metadata") {
		return true
	}
	if ct := req.ContentType(); ct != nil && strings.Contains(strings.ToLower(ct.Value()), "rs-metadata") {
		return true
	}
	for _, h := range req.GetHeaders("Contact") {
		v := strings.ToLower(h.Value())
		if strings.Contains(v, "+sip.src") || strings.Contains(v, ";src>") || strings.HasSuffix(v, ";src") ||
			strings.Contains(v, ";src;") || strings.Contains(v, ";src ") {
			return true
		}
	}
	return false
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(f), tok) {
			return true
		}
	}
	return false
}

func (s *Server) contactHeader(local netip.Addr, transport string) *sip.ContactHeader {
	_, portStr, _ := net.SplitHostPort(s.cfg.Listen)
	port := 0
	fmt.Sscanf(portStr, "%d", &port)
	uri := sip.Uri{User: "srs", Host: local.String(), Port: port, UriParams: sip.NewParams()}
	if strings.EqualFold(transport, "tcp") {
		uri.UriParams.Add("transport", "tcp")
	}
	params := sip.NewParams()
	params.Add("+sip.srs", "")
	return &sip.ContactHeader{Address: uri, Params: params}
}

// spoolPath is where a recording's file lives while the call runs.
func (s *Server) spoolPath(id string) string {
	return filepath.Join(s.cfg.SpoolDir, id+".wav")
}

// blobKey is the recording's key in the blob store.
func blobKey(r *callrec.Recording) string {
	return fmt.Sprintf("%s/%s/%s.wav", r.OrgID, r.Start.UTC().Format("2006/01/02"), r.ID)
}
