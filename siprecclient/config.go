// Package siprecclient is the SIPREC recording client (SRC, RFC 7866) of
// callrec's call plane. The B2BUA opens one recording session (RS) per
// recorded party once that party has answered (R19); the session
// forks two sendonly streams to the provider's SRS (R36): stream 0 carries
// what the recorded party says, stream 1 what the other side says. It sends
// RFC 7865 metadata naming the participants, the recorded party (callrec's
// own <callrec:recorded userId> mark, siprec.CallrecNamespace), and later
// partial updates for announcements (R22, R37) and transfers (RFC 7866
// §6.3); it pauses and resumes with a=inactive / a=sendonly re-INVITEs
// (RFC 7866 §8.1.2) and tries the backup target when the primary refuses or
// does not answer (X1).
//
// Media enters through Session.Send from the relay's tap: Send copies the
// payload into a per-stream ring and returns at once; one sender goroutine
// per session packetises it with the session's own SSRC and sequence
// numbers and sends it (no jitter buffer, R38). The session exists from
// the recorded party's answer (New, R19), before its SRS answers (Start):
// meanwhile Send keeps a backlog of up to BacklogLimit per stream, so no
// audio after the answer is lost. Once the SRS answered, every packet
// leaves the same constant delay after its Send (the time the SRS took;
// zero when nothing was waiting): the backlog first, live packets behind
// it, at the real-time pace an SRS that places audio by arrival expects,
// both streams aligned. When the SRS is slow or gone mid-call, packets are
// dropped and counted.
//
// The package must never block, delay or alter the call it records: no
// method the relay calls waits on the network, a failed or stopped
// recording only reports through Session.Failed, and what the B2BUA does
// about it (X1 failure behaviour) is the B2BUA's decision. It never plays
// prompts, never decides policy and never records announcements (R22): it
// only sends what it is given.
package siprecclient

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/rtpport"
	"github.com/callrec/callrec/siprec"
)

// Default timeouts.
const (
	// DefaultInviteTimeout bounds the wait for a final answer from one
	// target. An SRS answers at once or not at all; 4 s leaves the
	// backup target time to answer before a caller notices (X1), and is
	// well under RFC 3261 Timer B (32 s).
	DefaultInviteTimeout = 4 * time.Second
	// DefaultRequestTimeout bounds an in-dialog request (re-INVITE,
	// UPDATE, BYE).
	DefaultRequestTimeout = 5 * time.Second
)

// Transports for Config.Transport.
const (
	// TransportAuto sends over UDP unless the INVITE would exceed the
	// safe UDP size (RFC 3261 §18.1.1: within 200 bytes of the path MTU),
	// in which case it uses TCP. The target URI's ;transport= wins.
	TransportAuto = ""
	// TransportUDP always sends over UDP; sipgo refuses a message over
	// 1300 bytes (sip.UDPMTUSize - 200), so a large INVITE then fails.
	TransportUDP = "udp"
	// TransportTCP always sends over TCP.
	TransportTCP = "tcp"
)

// UDPSizeLimit is the largest SIP message sent over UDP in TransportAuto:
// RFC 3261 §18.1.1 asks for TCP when a request is within 200 bytes of the
// path MTU (1500 bytes), which is also sipgo's own UDP limit.
const UDPSizeLimit = 1300

// Config is how the B2BUA reaches the provider's SRS. One Config serves
// many sessions; it is read, never modified.
type Config struct {
	// Targets are the SRS URIs, primary first, then backups (X1): a
	// target that refuses (any non-2xx), does not answer within
	// InviteTimeout, or answers with unusable SDP is followed by the next.
	Targets []string
	// Transport is TransportAuto (default), TransportUDP or TransportTCP.
	Transport string
	// Headers, when set, returns extra headers for the INVITE of the
	// session with the given Call-ID (e.g. the org claim of package
	// srcclaim that callrec's own recorder trusts).
	Headers func(callID string) []sip.Header
	// Client sends the requests: the B2BUA's sipgo client.
	Client *sipgo.Client
	// Dialogs routes the SRS's in-dialog requests (BYE, re-INVITE, UPDATE)
	// to the sessions; the B2BUA's SIP server hands them to
	// Dialogs.Handle.
	Dialogs *Dialogs
	// Contact is where the SRS sends in-dialog requests: the B2BUA's SIP
	// listener (UDP and TCP on one port).
	Contact netip.AddrPort
	// LocalIP is the media address written into SDP and bound for RTP
	// (never 0.0.0.0, which SRSs read as a pause).
	LocalIP netip.Addr
	// Ports hands out the RTP sockets; nil binds ephemeral ports.
	Ports PortAllocator
	// Codecs are the relay's codecs of stream 0 (the recorded party) and
	// stream 1 (the other side): what Send is given. Each is offered
	// first and PCMU/8000 after it; when the SRS takes only PCMU, the
	// session transcodes. A zero Format means PCMU.
	Codecs [2]siprec.Format
	// Username and Password answer a digest challenge of the SRS
	// (RFC 3261 §22.2); empty Password: challenges are not answered.
	Username, Password string
	// InviteTimeout and RequestTimeout default to DefaultInviteTimeout
	// and DefaultRequestTimeout.
	InviteTimeout, RequestTimeout time.Duration
	// Logger receives per-session logs (never per packet); nil discards.
	Logger *slog.Logger
	// Local, when set, is asked once per stream, when the SRS has
	// answered, for an in-process sink of the stream's RTP destination
	// (recorder.Server.LocalSink: callrec's own recorder in the same
	// process). When it finds one, the stream's packets are handed to it
	// instead of being sent from the stream's socket, which stays bound
	// (its port is in the SDP) but sends nothing; when it does not, the
	// stream sends over UDP as usual. SIPREC signalling is unchanged
	// either way. The sink is called by the session's sender goroutine
	// only, must not block or keep pkt, and returns false once the
	// recorder's stream has ended (the packet is then counted in Errors).
	// Set it only for targets that are that recorder.
	Local LocalFunc
}

// LocalFunc finds an in-process sink for RTP sent to dst (see
// Config.Local); ok is false when there is none.
type LocalFunc func(dst netip.AddrPort) (sink func(pkt []byte, now time.Time) bool, ok bool)

// Participant is one party of the communication session (RFC 7865 §6.4).
type Participant struct {
	Name string // display name, may be empty
	AOR  string // SIP URI or tel: number, e.g. "sip:1001@pbx.example" or "tel:+4535351001"
	// UserID is the callrec person (or virtual line) id of a recorded
	// party: written as <callrec:recorded userId="..."/> so the recorder
	// files the recording under its owner. Empty for the other side.
	UserID string
}

// Directions of the communication session, written in callrec's session
// extension.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
	DirectionInternal = "internal"
)

// CallInfo describes the communication session being recorded.
type CallInfo struct {
	// CallID is the SIP Call-ID of the recorded party's leg (kept in
	// callrec's session extension for support).
	CallID string
	// SessionID and RemoteSessionID are the RFC 7989 Session-ID values of
	// the call (32 hex digits); sent as <sipSessionID> and the RS's
	// Session-ID header. Empty: generated.
	SessionID, RemoteSessionID string
	// Recorded is the recorded party (sends stream 0); Other is the other
	// side (sends stream 1).
	Recorded, Other Participant
	// Direction is DirectionInbound, DirectionOutbound or
	// DirectionInternal, seen from the recorded party.
	Direction string
	// Start is when the call started; zero means now.
	Start time.Time
}

// PortAllocator hands out local UDP sockets for the RTP streams.
type PortAllocator interface {
	// Listen returns a UDP socket bound on ip.
	Listen(ip netip.Addr) (*net.UDPConn, error)
	// Release closes the socket and makes its port available again.
	Release(c *net.UDPConn)
}

// PortRange is a PortAllocator over the even ports of [Min, Max] (RFC 3550
// §11: RTP on an even port, RTCP on the one above, which it keeps free);
// package rtpport hands the pairs out.
type PortRange struct {
	Min, Max int
	// Range, when set, hands out the ports instead of Min..Max: a range
	// shared with the other media sockets of the process.
	Range *rtpport.Range

	once sync.Once
	r    *rtpport.Range
	err  error
}

// ErrNoPorts means every port of a PortRange is in use.
var ErrNoPorts = rtpport.ErrNoPorts

// Listen binds the next free even port of the range on ip; ports taken by
// other programs are skipped.
func (r *PortRange) Listen(ip netip.Addr) (*net.UDPConn, error) {
	r.once.Do(func() {
		if r.r = r.Range; r.r == nil {
			r.r, r.err = rtpport.NewRange(r.Min, r.Max)
		}
	})
	if r.err != nil {
		return nil, fmt.Errorf("siprecclient: %w", r.err)
	}
	for range r.r.Pairs() {
		p, err := r.r.Acquire()
		if err != nil {
			break
		}
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(p))))
		if err != nil {
			r.r.Release(p) // taken by someone else: try the next
			continue
		}
		return c, nil
	}
	return nil, fmt.Errorf("siprecclient: ports %s on %s: %w", r.r, ip, ErrNoPorts)
}

// Release closes c and frees its port.
func (r *PortRange) Release(c *net.UDPConn) {
	if c == nil {
		return
	}
	port := 0
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
		port = a.Port
	}
	_ = c.Close()
	if r.r != nil {
		r.r.Release(port)
	}
}

// ephemeral binds OS-chosen ports.
type ephemeral struct{}

func (ephemeral) Listen(ip netip.Addr) (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return nil, fmt.Errorf("siprecclient: bind RTP on %s: %w", ip, err)
	}
	return c, nil
}

func (ephemeral) Release(c *net.UDPConn) {
	if c != nil {
		_ = c.Close()
	}
}

// pcmu is the fallback format every SRS decodes (RFC 3551 static type 0).
var pcmu = siprec.Format{PT: 0, Name: "PCMU", ClockRate: 8000, Channels: 1}

// normalise validates cfg and fills its defaults into a copy.
func normalise(cfg Config) (Config, error) {
	if len(cfg.Targets) == 0 {
		return cfg, errors.New("siprecclient: Config.Targets is empty")
	}
	if cfg.Client == nil {
		return cfg, errors.New("siprecclient: Config.Client is nil")
	}
	if cfg.Dialogs == nil {
		return cfg, errors.New("siprecclient: Config.Dialogs is nil")
	}
	if !cfg.LocalIP.IsValid() || cfg.LocalIP.IsUnspecified() {
		return cfg, fmt.Errorf("siprecclient: Config.LocalIP %q must be a concrete address", cfg.LocalIP)
	}
	if !cfg.Contact.IsValid() || cfg.Contact.Port() == 0 || cfg.Contact.Addr().IsUnspecified() {
		return cfg, fmt.Errorf("siprecclient: Config.Contact %q must be a concrete host:port", cfg.Contact)
	}
	switch strings.ToLower(cfg.Transport) {
	case TransportAuto, TransportUDP, TransportTCP:
		cfg.Transport = strings.ToLower(cfg.Transport)
	default:
		return cfg, fmt.Errorf("siprecclient: Config.Transport %q (want \"\", udp or tcp)", cfg.Transport)
	}
	for i := range cfg.Codecs {
		c := &cfg.Codecs[i]
		if c.Name == "" {
			*c = pcmu
			continue
		}
		c.Name = strings.ToUpper(c.Name)
		if c.ClockRate <= 0 {
			return cfg, fmt.Errorf("siprecclient: codec %d %s has no clock rate", i, c.Name)
		}
		if c.PT > 127 {
			return cfg, fmt.Errorf("siprecclient: codec %d %s payload type %d", i, c.Name, c.PT)
		}
		if c.Channels == 0 {
			c.Channels = 1
		}
	}
	if cfg.Ports == nil {
		cfg.Ports = ephemeral{}
	}
	if cfg.InviteTimeout <= 0 {
		cfg.InviteTimeout = DefaultInviteTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}
