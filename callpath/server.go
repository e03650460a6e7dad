package callpath

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/callpath/registrar"
	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/sipdigest"
	"github.com/callrec/callrec/siplog"
	"github.com/callrec/callrec/siprecclient"
)

// DefaultRingTimeout is how long the callee's devices ring before the
// caller gets 480 Temporarily Unavailable: a minute, as most PBXs ring
// before voicemail would take over.
const DefaultRingTimeout = 60 * time.Second

// Config configures a Server.
type Config struct {
	// Listen is the --sip address, served over UDP and TCP on the same
	// port. Port 0 picks a free port (tests); Addr tells which.
	Listen netip.AddrPort
	// MediaIP is the address of the relay's RTP sockets and the SDP
	// (zero = Listen's address; never 0.0.0.0).
	MediaIP netip.Addr
	// RTPPorts hands out the relay legs' RTP/RTCP port pairs (required).
	RTPPorts relay.PortAllocator
	// SIPRECPorts hands out the SIPREC client's RTP sockets (nil =
	// ephemeral ports).
	SIPRECPorts siprecclient.PortAllocator
	// BuiltInTarget is the SIPREC URI of callrec's own recorder (its
	// --siprec address, e.g. "sip:srs@127.0.0.1:5070"): the target of
	// the built-in provider, whose Decision.Target is "".
	BuiltInTarget string
	// OrgClaimKey signs the org claim (package srcclaim) put on SIPREC
	// INVITEs to the built-in recorder, whose Config.OrgClaimKey must be
	// the same key; nil: no claim (the recorder then decides the org by
	// the session's source).
	OrgClaimKey []byte
	// SIPRECTransport is the siprecclient transport (TransportAuto
	// when "").
	SIPRECTransport string
	// SIPRECLocal hands the RTP of recordings on the built-in target to
	// callrec's own recorder in this process (recorder.Server.LocalSink)
	// instead of sending it over loopback UDP (siprecclient.Config.Local;
	// issue 5 point 8). Nil: every recording's RTP goes over UDP.
	SIPRECLocal siprecclient.LocalFunc
	// SRSInviteTimeout bounds the wait for each SRS target's answer (0 =
	// siprecclient.DefaultInviteTimeout).
	SRSInviteTimeout time.Duration
	// RingTimeout is how long a callee is rung (0 = DefaultRingTimeout).
	RingTimeout time.Duration
	// SessionExpires is the session interval we offer callees and give
	// callers that support timers without asking for one (RFC 4028; 0 =
	// DefaultSessionExpires). Tests shorten it to seconds.
	SessionExpires time.Duration
	// MinSE is the least session interval we take: a shorter one gets
	// 422 (RFC 4028 §8.1; 0 = DefaultMinSE, 90 s).
	MinSE time.Duration
	// Nonces issues the 407 challenges of INVITEs from devices (nil = a
	// new one in realm sipdigest.DefaultRealm). Share the registrar's so
	// that a device sees one realm.
	Nonces *sipdigest.Nonces
	// OnRecordingEvent is told of every change of a call's recording
	// state (R34); it must not block. nil: nobody is told.
	OnRecordingEvent func(Event)
	// Logger gets one line per call and per failure, never per packet
	// (nil = slog.Default()).
	Logger *slog.Logger
	// Now is the clock (nil = time.Now).
	Now func() time.Time
}

// Deps are what the Server reads and shares with the rest of callrec.
type Deps struct {
	// Store is the directory: people, trunks, the org's policy snapshot.
	Store directory.Store
	// Registrar answers REGISTER and knows where each person's devices
	// are (required).
	Registrar *registrar.Registrar
	// Credentials find the account of an INVITE's digest user name (nil
	// = registrar.NewDirectoryCredentials(Store)).
	Credentials registrar.Credentials
	// Files plays custom announcements (nil: the default prompts play).
	Files AnnouncementFiles
	// Mailbox takes voicemail messages (nil: no voicemail).
	Mailbox Mailbox
}

// Event is one change of the recording state of a call (R34), for the
// webhooks and event stream of events/.
type Event struct {
	CallID   string    // the SIP Call-ID of the call's caller leg
	OrgID    string    // the recorded person's org
	PersonID string    // the recorded person, or virtual line (R31)
	State    string    // one of the State* constants
	Reason   string    // why it failed (State failed), else ""
	Time     time.Time // when it happened
}

// Recording states of an Event.
const (
	StateStarted = "started"
	StatePaused  = "paused"
	StateResumed = "resumed"
	StateStopped = "stopped"
	StateFailed  = "failed"
)

// Server is the B2BUA. Build it with New, run it with Start, stop it with
// Shutdown.
type Server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	ua        *sipgo.UserAgent
	srv       *sipgo.Server
	udpClient *sipgo.Client
	tcpClient *sipgo.Client
	dialogs   *siprecclient.Dialogs
	udp       net.PacketConn
	tcp       net.Listener
	addr      netip.AddrPort
	serving   sync.WaitGroup

	ready   atomic.Bool
	closing atomic.Bool
	calls   sync.WaitGroup // INVITE handlers and live calls

	// repeatEvery maps Decision.Repeat to the repeat tone's period (nil:
	// as is); tests shorten the policy's 10..90 s with it (R29).
	repeatEvery func(time.Duration) time.Duration
	// reackT1 is T1 for our 2xx retransmissions to re-INVITEs (0:
	// sip.T1); tests shorten it (reack.go).
	reackT1 time.Duration

	mu    sync.Mutex
	byID  map[string]*call // by the dialog id of either leg
	live  map[*call]struct{}
	seqID atomic.Uint64
}

// New validates cfg and deps and returns a Server that is not yet
// listening.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.RTPPorts == nil {
		return nil, errors.New("callpath: Config.RTPPorts is required")
	}
	if deps.Store == nil || deps.Registrar == nil {
		return nil, errors.New("callpath: Deps.Store and Deps.Registrar are required")
	}
	if !cfg.Listen.Addr().IsValid() || cfg.Listen.Addr().IsUnspecified() && !cfg.MediaIP.IsValid() {
		return nil, fmt.Errorf("callpath: listen address %q needs a MediaIP", cfg.Listen)
	}
	if !cfg.MediaIP.IsValid() {
		cfg.MediaIP = cfg.Listen.Addr()
	}
	if cfg.MediaIP.IsUnspecified() {
		return nil, fmt.Errorf("callpath: media address %s is unspecified", cfg.MediaIP)
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = DefaultRingTimeout
	}
	if cfg.MinSE <= 0 {
		cfg.MinSE = DefaultMinSE
	}
	if cfg.SessionExpires <= 0 {
		cfg.SessionExpires = max(DefaultSessionExpires, cfg.MinSE)
	}
	if cfg.Nonces == nil {
		cfg.Nonces = &sipdigest.Nonces{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if deps.Credentials == nil {
		deps.Credentials = registrar.NewDirectoryCredentials(deps.Store)
	}
	return &Server{cfg: cfg, deps: deps, log: cfg.Logger, dialogs: siprecclient.NewDialogs(),
		byID: map[string]*call{}, live: map[*call]struct{}{}}, nil
}

// Start listens on Config.Listen (UDP and TCP) and serves until Shutdown.
func (s *Server) Start(ctx context.Context) error {
	host := s.cfg.Listen.Addr().String()
	// The SIP stack logs through a rate limit: peers decide how often it
	// has something to say (a malformed-datagram flood).
	log := siplog.Logger(s.log.Handler(), nil)
	ua, err := siplog.NewUA("callrec", host, log)
	if err != nil {
		return fmt.Errorf("callpath: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		_ = ua.Close()
		return fmt.Errorf("callpath: server: %w", err)
	}
	udp, tcp, err := listenUDPAndTCP(ctx, s.cfg.Listen)
	if err != nil {
		_ = ua.Close()
		return err
	}
	port := udp.LocalAddr().(*net.UDPAddr).Port
	tcpAddr := tcp.Addr().String()
	s.addr = netip.AddrPortFrom(s.cfg.Listen.Addr(), uint16(port))
	// Over UDP we send from the listening socket, so that a device behind
	// NAT gets our requests through the binding its REGISTER opened
	// (RFC 3581); over TCP the device's own connection is reused.
	udpClient, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientLogger(log),
		sipgo.WithClientConnectionAddr(s.addr.String()))
	if err != nil {
		_ = udp.Close()
		_ = tcp.Close()
		_ = ua.Close()
		return fmt.Errorf("callpath: client: %w", err)
	}
	tcpClient, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientLogger(log),
		sipgo.WithClientPort(port))
	if err != nil {
		_ = udp.Close()
		_ = tcp.Close()
		_ = ua.Close()
		return fmt.Errorf("callpath: client: %w", err)
	}
	s.ua, s.srv, s.udp, s.tcp, s.udpClient, s.tcpClient = ua, srv, udp, tcp, udpClient, tcpClient
	srv.OnRegister(s.deps.Registrar.HandleRegister)
	srv.OnInvite(s.handleInvite)
	srv.OnAck(s.handleAck)
	srv.OnBye(s.handleBye)
	srv.OnUpdate(s.handleUpdate)
	srv.OnInfo(s.handleInfo)
	srv.OnRefer(s.handleRefer)
	srv.OnOptions(s.handleOptions)
	srv.OnNoRoute(s.handleOther)
	s.serving.Add(2)
	go func() { defer s.serving.Done(); _ = srv.ServeUDP(udp) }()
	go func() { defer s.serving.Done(); _ = srv.ServeTCP(tcp) }()
	if err := waitListener(ctx, ua, s.addr.String()); err != nil {
		_ = s.srv.Close()
		_ = udp.Close()
		_ = tcp.Close()
		_ = ua.Close()
		s.serving.Wait()
		return err
	}
	s.ready.Store(true)
	s.log.Info("callpath: serving SIP", "udp", s.addr, "tcp", tcpAddr)
	return nil
}

// Addr is the address the server listens on (UDP and TCP), valid after
// Start.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Ready reports nil when the server takes calls, else why not.
func (s *Server) Ready() error {
	switch {
	case s.closing.Load():
		return errors.New("callpath: shutting down")
	case !s.ready.Load():
		return errors.New("callpath: not started")
	}
	return nil
}

// ActiveCalls is the number of calls set up or being set up.
func (s *Server) ActiveCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Shutdown stops taking calls (new INVITEs get 503), ends every active
// call with BYE on both legs (stopping their recordings), then closes the
// listeners. It returns ctx's error when calls did not end in time.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.ready.Load() || s.closing.Swap(true) {
		return nil
	}
	s.mu.Lock()
	calls := make([]*call, 0, len(s.live))
	for c := range s.live {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	for _, c := range calls {
		go c.hangup(-1, "shutdown")
	}
	done := make(chan struct{})
	go func() { s.calls.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("callpath: shutdown: %w", ctx.Err())
	}
	_ = s.srv.Close()
	_ = s.udp.Close()
	_ = s.tcp.Close()
	_ = s.ua.Close()
	s.serving.Wait()
	s.ready.Store(false)
	return err
}

// client returns the sipgo client for a transport ("UDP", "TCP", ...).
func (s *Server) client(transport string) *sipgo.Client {
	if sip.NetworkToLower(transport) == "tcp" {
		return s.tcpClient
	}
	return s.udpClient
}

// contact is our Contact header for a transport (RFC 3261 §8.1.1.8).
func (s *Server) contact(transport string) sip.ContactHeader {
	u := sip.Uri{Scheme: "sip", User: "callrec", Host: s.addr.Addr().String(), Port: int(s.addr.Port())}
	if sip.NetworkToLower(transport) == "tcp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", "tcp")
	}
	return sip.ContactHeader{Address: u}
}

// register and forget keep the dialog id index of calls.
func (s *Server) register(id string, c *call) {
	s.mu.Lock()
	s.byID[id] = c
	s.live[c] = struct{}{}
	s.mu.Unlock()
}

func (s *Server) forget(c *call, ids ...string) {
	s.mu.Lock()
	for _, id := range ids {
		if s.byID[id] == c {
			delete(s.byID, id)
		}
	}
	delete(s.live, c)
	s.mu.Unlock()
}

func (s *Server) lookup(id string) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id]
}

// findCall returns the call an in-dialog request belongs to and the side
// that sent it: A when it came on the caller's dialog (we are its UAS),
// B on a callee's (we were its UAC).
func (s *Server) findCall(req *sip.Request) (*call, relay.Side, bool) {
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if c := s.lookup(id); c != nil {
			if side, ok := c.sideOf(id, relay.A); ok {
				return c, side, true
			}
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if c := s.lookup(id); c != nil {
			if side, ok := c.sideOf(id, relay.B); ok {
				return c, side, true
			}
		}
	}
	return nil, 0, false
}

func (s *Server) handleAck(req *sip.Request, tx sip.ServerTransaction) {
	if s.dialogs.Handle(req, tx) {
		return
	}
	if c, side, ok := s.findCall(req); ok {
		c.acked(side, req) // stops our 2xx retransmissions (reack.go)
		if side == relay.A {
			c.ack(req, tx)
		}
	}
}

// callOfRequest returns the call an in-dialog request belongs to and the
// side that sent it. Requests of SIPREC recording sessions go to the
// SIPREC client, those of no known dialog get 481 (RFC 3261 §12.2.2);
// ok is false in both cases: the request is answered.
func (s *Server) callOfRequest(req *sip.Request, tx sip.ServerTransaction) (*call, relay.Side, bool) {
	if s.dialogs.Handle(req, tx) {
		return nil, 0, false
	}
	c, side, ok := s.findCall(req)
	if !ok {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	}
	return c, side, ok
}

func (s *Server) handleBye(req *sip.Request, tx sip.ServerTransaction) {
	if s.dialogs.Handle(req, tx) || s.departedBye(req, tx) {
		return
	}
	c, side, ok := s.findCall(req)
	if !ok {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	respond(tx, req, sip.StatusOK, "OK")
	c.hangup(side, "bye")
}

// handleOther answers UPDATE, INFO and other in-dialog requests: those of
// recording sessions go to the SIPREC client; those of calls get 200
// (session timers, SIP INFO DTMF and UPDATE offers are not handled yet);
// anything else 481.
func (s *Server) handleOther(req *sip.Request, tx sip.ServerTransaction) {
	if s.dialogs.Handle(req, tx) {
		return
	}
	if _, _, ok := s.findCall(req); ok && req.Body() == nil {
		respond(tx, req, sip.StatusOK, "OK")
		return
	}
	if _, _, ok := s.findCall(req); ok {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	if req.To() != nil {
		if _, ok := req.To().Params.Get("tag"); !ok {
			respond(tx, req, sip.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
	}
	respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
}

func (s *Server) handleOptions(req *sip.Request, tx sip.ServerTransaction) {
	if s.dialogs.Handle(req, tx) {
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, REFER, NOTIFY"))
	_ = tx.Respond(res)
}

// respond answers req with a bodiless response.
func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// nextID is a process-unique number for SDP session ids.
func (s *Server) nextID() uint64 {
	return uint64(s.cfg.Now().UnixNano())/1000 + s.seqID.Add(1)
}

// waitListener waits until sipgo has registered the UDP listener at addr,
// so that requests sent from it (WithClientConnectionAddr) reuse it
// instead of binding the port a second time.
func waitListener(ctx context.Context, ua *sipgo.UserAgent, addr string) error {
	for i := 0; ; i++ {
		if c, err := ua.TransportLayer().GetConnection("udp", addr); err == nil && c != nil {
			return nil
		}
		if i > 1000 {
			return fmt.Errorf("callpath: udp listener %s did not start", addr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("callpath: start: %w", ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// listenUDPAndTCP listens on addr over UDP and TCP on the same port. With
// port 0 the UDP socket picks a port; when another socket holds that port
// for TCP meanwhile, it tries another one.
func listenUDPAndTCP(ctx context.Context, addr netip.AddrPort) (net.PacketConn, net.Listener, error) {
	lc := net.ListenConfig{}
	attempts := 1
	if addr.Port() == 0 {
		attempts = 20
	}
	var lastErr error
	for range attempts {
		udp, err := lc.ListenPacket(ctx, "udp", addr.String())
		if err != nil {
			return nil, nil, fmt.Errorf("callpath: listen udp %s: %w", addr, err)
		}
		tcpAddr := netip.AddrPortFrom(addr.Addr(), uint16(udp.LocalAddr().(*net.UDPAddr).Port)).String()
		tcp, err := lc.Listen(ctx, "tcp", tcpAddr)
		if err == nil {
			return udp, tcp, nil
		}
		_ = udp.Close()
		lastErr = fmt.Errorf("callpath: listen tcp %s: %w", tcpAddr, err)
	}
	return nil, nil, lastErr
}
