// Package srcclient is callrec's own SIPREC recording client (SRC, RFC 7866)
// for tests and benchmarks: it opens recording sessions against an SRS with
// a multipart INVITE (SDP offer + RFC 7865 metadata) in one of several
// vendor dialects, streams pre-encoded test tones as RTP on every m-line,
// and can pause, resume, update metadata, send RFC 4733 DTMF, impair the
// media (loss, reordering, duplication, SSRC changes, timestamp jumps),
// CANCEL, and BYE.
//
// One Client serves many concurrent calls: one sipgo user agent, and one
// media sender goroutine per core that sends every stream's packets with
// sendmmsg(2) from a few shared sockets, without allocating per packet.
//
// It is test equipment. It must never be used to record or relay real
// calls, never send to anything but the SRS it is pointed at, and never
// decode or keep audio.
package srcclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Default configuration values.
const (
	// DefaultMediaPortMin and DefaultMediaPortMax bound the local RTP
	// ports: outside callrec's default --rtp-ports 20000-39999 so a test
	// SRC and the server on one host never compete for a port.
	DefaultMediaPortMin = 42000
	DefaultMediaPortMax = 42999
)

// Config configures a Client.
type Config struct {
	Target     string // SRS URI, e.g. "sip:srs@127.0.0.1:5070"
	Transport  string // "tcp" (default) or "udp"
	LocalIP    string // address for SIP and RTP; default 127.0.0.1
	MediaPorts [2]int // local UDP port range for RTP sockets; default 42000-42999

	// Senders is the number of media sender goroutines (each with its own
	// socket pair); default GOMAXPROCS.
	Senders int
	// NoRTCP turns off the RTCP sender reports (RFC 3550 §6.4.1) each
	// stream sends every 5 s to the answered port + 1.
	NoRTCP bool
	// Logger receives sipgo's and the client's logs; default: a logger
	// that keeps warnings and errors of slog.Default().
	Logger *slog.Logger

	// Username and Password answer a 401 or 407 digest challenge to the
	// INVITE (RFC 3261 §22.2, RFC 7616 digest with MD5 or SHA-256 as
	// RFC 8760 adds to SIP): the INVITE is sent again with the
	// credentials. Empty Password: challenges are not answered and the
	// 401 is the call's final status.
	Username string
	Password string
}

// Client is a SIPREC SRC able to run many calls at once. Close it when done.
type Client struct {
	cfg       Config
	target    sip.Uri
	transport string // "TCP" or "UDP"
	log       *slog.Logger

	ua  *sipgo.UserAgent
	sc  *sipgo.Client
	srv *sipgo.Server
	dua *sipgo.DialogUA

	senders []*sender
	rr      atomic.Uint32
	tones   toneCache

	mu    sync.Mutex
	calls map[string]*call // by Call-ID

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// LiftUDPLimit lets sipgo send SIP messages over UDP up to 64 KiB. sipgo
// refuses UDP messages over sip.UDPMTUSize-200 = 1300 bytes
// (dependencies.md §4.1) and a SIPREC INVITE is 1.5-4 KB; real SRCs send it
// over UDP anyway (IP fragments it), so a test SRC on UDP must too.
//
// It changes a sipgo package variable for the whole process: call it once
// at program start, before any SIP traffic (a CLI's main, a TestMain).
// Without it, Call over UDP fails with sipgo's ErrUDPMTUCongestion.
func LiftUDPLimit() { sip.UDPMTUSize = 65535 }

// New validates cfg, binds the media sockets and starts the senders.
func New(cfg Config) (*Client, error) {
	if cfg.Target == "" {
		return nil, errors.New("srcclient: Config.Target is required (e.g. sip:srs@127.0.0.1:5070)")
	}
	target := sip.Uri{}
	if err := sip.ParseUri(cfg.Target, &target); err != nil {
		return nil, fmt.Errorf("srcclient: target %q: %w", cfg.Target, err)
	}
	if target.Host == "" {
		return nil, fmt.Errorf("srcclient: target %q has no host", cfg.Target)
	}
	switch strings.ToLower(cfg.Transport) {
	case "", "tcp":
		cfg.Transport = "tcp"
	case "udp":
		cfg.Transport = "udp"
	default:
		return nil, fmt.Errorf("srcclient: transport %q (want tcp or udp)", cfg.Transport)
	}
	if cfg.LocalIP == "" {
		cfg.LocalIP = "127.0.0.1"
	}
	ip := net.ParseIP(cfg.LocalIP).To4()
	if ip == nil {
		return nil, fmt.Errorf("srcclient: local IP %q is not an IPv4 address", cfg.LocalIP)
	}
	if cfg.MediaPorts == [2]int{} {
		cfg.MediaPorts = [2]int{DefaultMediaPortMin, DefaultMediaPortMax}
	}
	if cfg.MediaPorts[0] < 1024 || cfg.MediaPorts[1] > 65535 || cfg.MediaPorts[1] <= cfg.MediaPorts[0] {
		return nil, fmt.Errorf("srcclient: media port range %d-%d invalid", cfg.MediaPorts[0], cfg.MediaPorts[1])
	}
	if cfg.Senders <= 0 {
		cfg.Senders = runtime.GOMAXPROCS(0)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(warnOnly{slog.Default().Handler()})
	}
	if target.UriParams == nil {
		target.UriParams = sip.NewParams()
	}
	target.UriParams.Add("transport", cfg.Transport)
	c := &Client{
		cfg:       cfg,
		target:    target,
		transport: strings.ToUpper(cfg.Transport),
		log:       cfg.Logger,
		calls:     map[string]*call{},
		stop:      make(chan struct{}),
	}
	if err := c.startMedia(ip); err != nil {
		c.closeSockets()
		return nil, err
	}
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("callrec-srcclient"),
		sipgo.WithUserAgentHostname(cfg.LocalIP),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(c.log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(c.log)),
	)
	if err != nil {
		c.closeSockets()
		return nil, fmt.Errorf("srcclient: sip user agent: %w", err)
	}
	c.ua = ua
	// The connection is bound to LocalIP, so an SRS sees the INVITE come
	// from it (SIPREC sources are bound to orgs by source address).
	c.sc, err = sipgo.NewClient(ua, sipgo.WithClientHostname(cfg.LocalIP), sipgo.WithClientLogger(c.log),
		sipgo.WithClientConnectionAddr(net.JoinHostPort(cfg.LocalIP, "0")))
	if err == nil {
		c.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(c.log))
	}
	if err != nil {
		_ = ua.Close()
		c.closeSockets()
		return nil, fmt.Errorf("srcclient: sip client: %w", err)
	}
	c.dua = &sipgo.DialogUA{Client: c.sc}
	c.srv.OnBye(c.onBye)
	c.srv.OnInvite(c.onInvite)
	c.srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	c.srv.OnOptions(c.respondOK)
	c.srv.OnUpdate(c.respondOK)
	c.srv.OnInfo(c.respondOK)

	for _, s := range c.senders {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			s.run(c.stop)
		}()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			drainRTCP(s.rtcpConn)
		}()
	}
	return c, nil
}

// startMedia binds one RTP/RTCP socket pair per sender.
func (c *Client) startMedia(ip net.IP) error {
	lo, hi := c.cfg.MediaPorts[0], c.cfg.MediaPorts[1]
	from := lo
	for range c.cfg.Senders {
		rtp, rtcp, p, err := bindPair(ip, lo, hi, from)
		if err != nil {
			return err
		}
		// Room for a few ticks of packets so a late tick never blocks.
		_ = rtp.SetWriteBuffer(4 << 20)
		c.senders = append(c.senders, newSender(rtp, rtcp))
		from = p + 2
	}
	return nil
}

func (c *Client) closeSockets() {
	for _, s := range c.senders {
		_ = s.conn.Close()
		_ = s.rtcpConn.Close()
	}
}

// Close stops the senders (ending any stream still running), closes the
// sockets and the SIP user agent. Calls in progress fail.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.stop)
		c.closeSockets()
		c.wg.Wait()
		if c.ua != nil {
			err = c.ua.Close()
		}
	})
	return err
}

// MediaPorts returns the local RTP ports of the senders.
func (c *Client) MediaPorts() []int {
	ports := make([]int, len(c.senders))
	for i, s := range c.senders {
		ports[i] = s.port
	}
	return ports
}

// MediaStats are the client-wide counters of the media senders.
type MediaStats struct {
	Packets    uint64        // RTP packets handed to the kernel (duplicates included)
	LateFrames uint64        // packets sent one tick or more after they were due (the sender fell behind)
	MaxTickGap time.Duration // longest interval between two sender ticks (nominally 20 ms)
	SendErrors uint64        // sendmmsg calls that failed
	LastError  error         // the last of those failures
}

// Stats returns the media counters summed over the senders; it is safe to
// call while calls run.
func (c *Client) Stats() MediaStats {
	var m MediaStats
	for _, s := range c.senders {
		m.Packets += s.packets.Load()
		m.LateFrames += s.lateFrames.Load()
		m.SendErrors += s.sendErrs.Load()
		m.MaxTickGap = max(m.MaxTickGap, time.Duration(s.maxGap.Load()))
		if e, ok := s.lastErr.Load().(error); ok {
			m.LastError = e
		}
	}
	return m
}

// nextSender picks senders round robin so a call's streams land on
// different sockets (and different offered ports).
func (c *Client) nextSender() *sender {
	return c.senders[int(c.rr.Add(1)-1)%len(c.senders)]
}

func (c *Client) register(cl *call) {
	c.mu.Lock()
	c.calls[cl.callID] = cl
	c.mu.Unlock()
}

func (c *Client) unregister(cl *call) {
	c.mu.Lock()
	delete(c.calls, cl.callID)
	c.mu.Unlock()
}

func (c *Client) lookup(req *sip.Request) *call {
	id := req.CallID()
	if id == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id.Value()]
}

// onBye handles a BYE from the SRS (it may end the session, e.g. on its
// media timeout or at shutdown).
func (c *Client) onBye(req *sip.Request, tx sip.ServerTransaction) {
	cl := c.lookup(req)
	if cl == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	cl.remoteBye(req, tx)
}

// onInvite answers a re-INVITE from the SRS with our current offer
// (RFC 3264 §8: the SRC's streams do not change because the SRS asks); a
// new dialog is refused, since this client only originates sessions.
func (c *Client) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	cl := c.lookup(req)
	if cl == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", []byte(cl.currentSDP()))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(cl.contactHeader())
	_ = tx.Respond(res)
}

func (c *Client) respondOK(req *sip.Request, tx sip.ServerTransaction) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
}

// warnOnly is a slog handler that drops records below Warn: sipgo logs a
// line per transaction at Info/Debug, which would drown a 2,000-call run.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnOnly) WithAttrs(a []slog.Attr) slog.Handler { return warnOnly{w.Handler.WithAttrs(a)} }
func (w warnOnly) WithGroup(g string) slog.Handler      { return warnOnly{w.Handler.WithGroup(g)} }
