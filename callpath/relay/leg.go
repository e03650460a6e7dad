package relay

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callrec/callrec/internal/udpread"
	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/mix"
)

// Side names one leg of a Bridge.
type Side int

// The two sides of a bridge: by convention A is the caller's leg and B
// the callee's, but the bridge treats them alike.
const (
	A Side = 0
	B Side = 1
)

// String returns "A" or "B".
func (s Side) String() string {
	if s == A {
		return "A"
	}
	return "B"
}

// Other returns the opposite side.
func (s Side) Other() Side { return 1 - s }

// Codec is what SDP negotiated for one leg: one audio codec and,
// optionally, RFC 4733 telephone-events.
type Codec struct {
	// Name is the rtpmap encoding name: media.PCMU, PCMA, G722 or OPUS
	// (any name passes through when both legs use it; transcoding needs
	// one media knows).
	Name string
	// PayloadType is the audio payload type on this leg.
	PayloadType uint8
	// ClockRate is the RTP clock; 0 means media.ClockRate(Name).
	ClockRate int
	// Channels is the SDP channel count (Opus says 2); 0 means 1.
	Channels int
	// EventPT is the telephone-event payload type (RFC 4733 §7.1.1), 0
	// when none was negotiated (it is always dynamic, 96..127). Its clock
	// is the audio clock.
	EventPT uint8
}

func (c Codec) clock() int {
	if c.ClockRate != 0 {
		return c.ClockRate
	}
	if r := media.ClockRate(c.Name); r != 0 {
		return r
	}
	return 8000
}

// sameAs reports whether two legs' codecs need no transcoding.
func (c Codec) sameAs(o Codec) bool {
	return normName(c.Name) == normName(o.Name) && c.clock() == o.clock()
}

// Errors of this package; they are wrapped with context, test with errors.Is.
var (
	// ErrNoCodec means a leg's codec was not set before it was bridged or
	// asked to play.
	ErrNoCodec = errors.New("relay: leg has no codec")
	// ErrClosed means the leg or bridge is closed.
	ErrClosed = errors.New("relay: closed")
	// ErrBusy means a leg is already part of another bridge.
	ErrBusy = errors.New("relay: leg already bridged")
)

// maxDatagram bounds one RTP or RTCP datagram read; longer ones are
// truncated by the kernel and then fail to parse.
const maxDatagram = 1500

// ptime is the packet interval of prompts, and the least time a relayed
// packet is assumed to cover when timestamps are re-anchored.
const ptime = 20 * time.Millisecond

// maxBindAttempts bounds how many ports NewLeg tries when other programs
// hold some of the allocator's ports.
const maxBindAttempts = 32

// LegConfig configures NewLeg.
type LegConfig struct {
	// IP is the local address to bind (the one the SDP will carry).
	IP netip.Addr
	// Ports hands out the RTP/RTCP port pair.
	Ports PortAllocator
	// Codec, when known already; SetCodec sets or changes it later.
	Codec *Codec
}

// remote is the peer as SDP describes it. A new value (not an equal one)
// reopens latching.
type remote struct {
	rtp, rtcp      netip.AddrPort
	anyRTP, anyRTC bool // any source may latch (address unknown or private)
}

// latch is the source a socket latched to under one remote.
type latch struct {
	r    *remote
	addr netip.AddrPort
}

// counters are a leg's statistics, updated per packet with atomics.
type counters struct {
	in, bytesIn, out, bytesOut, injected     atomic.Uint64
	malformed, foreign, dropped, held, swall atomic.Uint64
	rtcpIn, rtcpOut                          atomic.Uint64
	muted                                    atomic.Uint64
}

// Stats is a snapshot of a leg's counters.
type Stats struct {
	Local       netip.AddrPort // the leg's RTP socket address
	Latched     netip.AddrPort // RTP source latched to; zero until then
	LatchedRTCP netip.AddrPort // RTCP source latched to; zero until then
	PacketsIn   uint64         // RTP datagrams read
	BytesIn     uint64         // their bytes
	PacketsOut  uint64         // RTP datagrams sent (relayed and injected)
	BytesOut    uint64         // their bytes
	Injected    uint64         // of PacketsOut, prompt packets
	Malformed   uint64         // datagrams read that are not RTP (or RTCP on the RTCP port)
	Foreign     uint64         // datagrams read from a source the latch refuses
	Dropped     uint64         // datagrams read and not relayed for a fault: malformed, foreign, unknown payload type, undecodable, not bridged, no destination or a send error on the other leg
	Held        uint64         // packets read and not relayed because a prompt played toward the other leg
	Swallowed   uint64         // telephone-event packets held back by Swallow
	RTCPIn      uint64         // RTCP datagrams read (RTCP socket and rtcp-mux)
	RTCPOut     uint64         // RTCP datagrams sent
	Muted       uint64         // packets read and not relayed because the bridge muted this side (hold, Bridge.Mute)
}

// outState is a leg's outgoing RTP stream (guarded by Leg.mu).
type outState struct {
	started  bool      // a packet went out
	rewrite  bool      // a prompt played: relayed packets get offsets
	anchored bool      // seqOff/tsOff are valid for inSSRC
	mark     bool      // set the marker bit on the next relayed packet
	ssrc     uint32    // SSRC of the stream
	seq      uint16    // highest sequence number sent
	ts       uint32    // timestamp sent with seq
	at       time.Time // when seq was sent
	inSSRC   uint32    // relayed source the offsets belong to
	seqOff   uint16
	tsOff    uint32
}

// Leg is one side of a call's media: an RTP and an RTCP socket, the peer
// from SDP with latching, and the outgoing stream (relayed packets and
// prompts). Methods are safe for concurrent use.
type Leg struct {
	ports     PortAllocator
	port      int
	rtp, rtcp *net.UDPConn
	local     netip.AddrPort

	remote    atomic.Pointer[remote]
	rtpLatch  atomic.Pointer[latch]
	rtcpLatch atomic.Pointer[latch]
	codec     atomic.Pointer[Codec]
	sink      atomic.Pointer[direction] // the bridge direction this leg feeds
	// ev is the telephone-event state of what this leg receives, used
	// only by the leg's reader (direction.event). It belongs to the leg,
	// not to a bridge, so that an event that began on one bridge is still
	// held, and reported once, when a new bridge takes the leg mid-event
	// (an auto attendant connecting the caller while the end packets of
	// the menu digit still arrive, RFC 4733 §2.5.1.4).
	ev eventState

	mu     sync.Mutex // guards out, play and closed
	out    outState
	play   *Playback
	closed bool

	st        counters
	closing   chan struct{}
	readers   sync.WaitGroup
	plays     sync.WaitGroup
	closeOnce sync.Once
}

// NewLeg binds an RTP socket on an even port from cfg.Ports and an RTCP
// socket on the port above, on cfg.IP, and starts reading both. Call it
// before sending the SDP that carries LocalRTP. Ports other programs hold
// are skipped (and released back to the allocator).
func NewLeg(cfg LegConfig) (*Leg, error) {
	if !cfg.IP.IsValid() {
		return nil, fmt.Errorf("relay: new leg: no local IP")
	}
	if cfg.Ports == nil {
		return nil, fmt.Errorf("relay: new leg: no port allocator")
	}
	ip := cfg.IP.Unmap()
	var lastErr error
	for range maxBindAttempts {
		port, err := cfg.Ports.Acquire()
		if err != nil {
			return nil, fmt.Errorf("relay: new leg on %s: %w", ip, err)
		}
		if port <= 0 || port%2 != 0 || port >= 65535 {
			cfg.Ports.Release(port)
			return nil, fmt.Errorf("relay: new leg: allocator gave port %d, want an even port below 65535", port)
		}
		rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			cfg.Ports.Release(port)
			lastErr = err
			continue
		}
		rtcp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1))))
		if err != nil {
			rtp.Close()
			cfg.Ports.Release(port)
			lastErr = err
			continue
		}
		l := &Leg{ports: cfg.Ports, port: port, rtp: rtp, rtcp: rtcp,
			local: netip.AddrPortFrom(ip, uint16(port)), closing: make(chan struct{})}
		l.remote.Store(&remote{anyRTP: true, anyRTC: true})
		if cfg.Codec != nil {
			l.SetCodec(*cfg.Codec)
		}
		l.readers.Add(2)
		go l.readRTP()
		go l.readRTCP()
		return l, nil
	}
	return nil, fmt.Errorf("relay: new leg on %s: no bindable port in %d attempts: %w", ip, maxBindAttempts, lastErr)
}

// LocalRTP returns the address of the RTP socket, for the SDP (the RTCP
// port is one above).
func (l *Leg) LocalRTP() netip.AddrPort { return l.local }

// SetCodec sets the codec SDP negotiated for this leg. A bridge reads it
// when it is built: change codecs of bridged legs with Bridge.Detach and
// a new bridge.
func (l *Leg) SetCodec(c Codec) {
	c.ClockRate = c.clock()
	l.codec.Store(&c)
}

// Codec returns the leg's codec and whether it is set.
func (l *Leg) Codec() (Codec, bool) {
	c := l.codec.Load()
	if c == nil {
		return Codec{}, false
	}
	return *c, true
}

// SetRemote sets the peer's RTP and RTCP addresses from SDP (RFC 4566
// c= and m= lines; rtcp from RFC 3605 a=rtcp, or the zero AddrPort for
// the RTP port plus one). An unspecified or private address lets any
// source latch (see the package doc). A change reopens latching; the same
// addresses again change nothing.
func (l *Leg) SetRemote(rtp, rtcp netip.AddrPort) {
	rtp = unmap(rtp)
	rtcp = unmap(rtcp)
	if !rtcp.IsValid() && rtp.IsValid() && rtp.Port() != 0 && rtp.Port() < 65535 {
		rtcp = netip.AddrPortFrom(rtp.Addr(), rtp.Port()+1)
	}
	if old := l.remote.Load(); old != nil && old.rtp == rtp && old.rtcp == rtcp {
		return
	}
	l.remote.Store(&remote{rtp: rtp, rtcp: rtcp, anyRTP: anySource(rtp.Addr()), anyRTC: anySource(rtcp.Addr())})
}

// shared is RFC 6598's shared address space (carrier-grade NAT).
var shared = netip.MustParsePrefix("100.64.0.0/10")

// anySource reports whether an SDP address says nothing about where
// packets come from: unknown, unspecified, private, shared or link-local.
func anySource(ip netip.Addr) bool {
	return !ip.IsValid() || ip.IsUnspecified() || ip.IsPrivate() || shared.Contains(ip) ||
		ip.IsLinkLocalUnicast()
}

func unmap(a netip.AddrPort) netip.AddrPort {
	if a.Addr().Is4In6() {
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	return a
}

// admit applies the latching rule (package doc) to a datagram from from.
// With mayLatch it latches the first acceptable source.
func admit(lp *atomic.Pointer[latch], r *remote, from netip.AddrPort, expect netip.Addr, any, mayLatch bool) bool {
	if lt := lp.Load(); lt != nil && lt.r == r {
		return from == lt.addr
	}
	if !any && from.Addr() != expect {
		return false
	}
	if mayLatch {
		lp.Store(&latch{r: r, addr: from})
	}
	return true
}

// destRTP returns where RTP for the peer goes: the latched source, else
// the SDP address, else the zero AddrPort.
func (l *Leg) destRTP() netip.AddrPort {
	r := l.remote.Load()
	if lt := l.rtpLatch.Load(); lt != nil && lt.r == r {
		return lt.addr
	}
	if usable(r.rtp) {
		return r.rtp
	}
	return netip.AddrPort{}
}

func (l *Leg) destRTCP() netip.AddrPort {
	r := l.remote.Load()
	if lt := l.rtcpLatch.Load(); lt != nil && lt.r == r {
		return lt.addr
	}
	if usable(r.rtcp) {
		return r.rtcp
	}
	return netip.AddrPort{}
}

func usable(a netip.AddrPort) bool {
	return a.Addr().IsValid() && !a.Addr().IsUnspecified() && a.Port() != 0
}

// Stats returns a snapshot of the leg's counters.
func (l *Leg) Stats() Stats {
	s := Stats{
		Local:      l.local,
		PacketsIn:  l.st.in.Load(),
		BytesIn:    l.st.bytesIn.Load(),
		PacketsOut: l.st.out.Load(),
		BytesOut:   l.st.bytesOut.Load(),
		Injected:   l.st.injected.Load(),
		Malformed:  l.st.malformed.Load(),
		Foreign:    l.st.foreign.Load(),
		Dropped:    l.st.dropped.Load(),
		Held:       l.st.held.Load(),
		Swallowed:  l.st.swall.Load(),
		RTCPIn:     l.st.rtcpIn.Load(),
		RTCPOut:    l.st.rtcpOut.Load(),
		Muted:      l.st.muted.Load(),
	}
	r := l.remote.Load()
	if lt := l.rtpLatch.Load(); lt != nil && lt.r == r {
		s.Latched = lt.addr
	}
	if lt := l.rtcpLatch.Load(); lt != nil && lt.r == r {
		s.LatchedRTCP = lt.addr
	}
	return s
}

// readBatch is how many datagrams one read of a leg's RTP socket may
// return: one arrives per 20 ms, more only after a scheduling delay.
const readBatch = 4

// readRTP is the leg's RTP reader: the shared reader (internal/udpread,
// one recvmmsg(2) per wake-up on Linux) hands each datagram to handleRTP;
// no deadline, no allocation per packet; closing the socket ends it.
func (l *Leg) readRTP() {
	defer l.readers.Done()
	l.readLoop(l.rtp, readBatch, l.handleRTP)
}

// readRTCP is the leg's RTCP reader (one datagram every few seconds: no
// batching).
func (l *Leg) readRTCP() {
	defer l.readers.Done()
	l.readLoop(l.rtcp, 1, func(pkt []byte, from netip.AddrPort, _ time.Time) {
		l.handleRTCP(pkt, from, false)
	})
}

// readLoop reads c until the leg closes it; a read error that is not the
// close is skipped, as a failed read of one datagram.
func (l *Leg) readLoop(c *net.UDPConn, batch int, h udpread.Handler) {
	for {
		if err := udpread.Loop(c, batch, h); err == nil || l.isClosing() {
			return
		}
	}
}

func (l *Leg) isClosing() bool {
	select {
	case <-l.closing:
		return true
	default:
		return false
	}
}

// handleRTP is the per-packet path of one datagram read on the RTP socket.
func (l *Leg) handleRTP(pkt []byte, from netip.AddrPort, now time.Time) {
	from = unmap(from)
	h, payload, err := mix.ParseRTP(pkt)
	if err == mix.ErrRTCP {
		// RFC 5761 §4: RTCP multiplexed on the RTP port.
		l.handleRTCP(pkt, from, true)
		return
	}
	l.st.in.Add(1)
	l.st.bytesIn.Add(uint64(len(pkt)))
	if err != nil {
		l.st.malformed.Add(1)
		l.st.dropped.Add(1)
		return
	}
	r := l.remote.Load()
	if !admit(&l.rtpLatch, r, from, r.rtp.Addr(), r.anyRTP, true) {
		l.st.foreign.Add(1)
		l.st.dropped.Add(1)
		return
	}
	d := l.sink.Load()
	if d == nil {
		l.st.dropped.Add(1)
		return
	}
	d.relay(&h, payload, pkt, now)
}

// handleRTCP relays one RTCP datagram (compound packet) read on the RTCP
// socket, or on the RTP socket when muxed (then it does not latch).
func (l *Leg) handleRTCP(pkt []byte, from netip.AddrPort, muxed bool) {
	l.st.rtcpIn.Add(1)
	from = unmap(from)
	if !validRTCP(pkt) {
		l.st.malformed.Add(1)
		l.st.dropped.Add(1)
		return
	}
	r := l.remote.Load()
	var ok bool
	if muxed {
		ok = admit(&l.rtpLatch, r, from, r.rtp.Addr(), r.anyRTP, false)
	} else {
		ok = admit(&l.rtcpLatch, r, from, r.rtcp.Addr(), r.anyRTC, true)
	}
	if !ok {
		l.st.foreign.Add(1)
		l.st.dropped.Add(1)
		return
	}
	d := l.sink.Load()
	if d == nil || !d.to.sendRTCP(translateRTCP(pkt, l, d.to, time.Now())) {
		l.st.dropped.Add(1)
	}
}

// validRTCP checks an RTCP compound packet (RFC 3550 §6.1, A.2): every
// packet has version 2, a packet type in 192..223 (RFC 5761 §4) and a
// length that fits, and together they fill the datagram exactly.
func validRTCP(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	for len(b) > 0 {
		if len(b) < 4 || b[0]>>6 != 2 || b[1] < 192 || b[1] > 223 {
			return false
		}
		n := 4 * (int(b[2])<<8 | int(b[3]) + 1)
		if n > len(b) {
			return false
		}
		b = b[n:]
	}
	return true
}

// sendRTCP writes one relayed RTCP datagram toward the peer.
func (l *Leg) sendRTCP(pkt []byte) bool {
	dest := l.destRTCP()
	if !dest.IsValid() {
		return false
	}
	if _, err := l.rtcp.WriteToUDPAddrPort(pkt, dest); err != nil {
		return false
	}
	l.st.rtcpOut.Add(1)
	return true
}

// sendResult says what became of a relayed packet.
type sendResult uint8

const (
	sent   sendResult = iota
	held              // a prompt plays toward this leg
	failed            // no destination, or the send failed
)

// sendRelayed writes one relayed RTP packet (a whole datagram with at
// least the 12-byte fixed header) toward the peer. Once a prompt has
// played on this leg it rewrites SSRC, sequence number and timestamp in
// pkt's header, in place, to continue the leg's outgoing stream.
func (l *Leg) sendRelayed(pkt []byte, clock int, now time.Time) sendResult {
	l.mu.Lock()
	if l.play != nil {
		l.mu.Unlock()
		return held
	}
	dest := l.destRTP()
	if !dest.IsValid() {
		l.mu.Unlock()
		return failed
	}
	o := &l.out
	seq := be16(pkt[2:])
	ts := be32(pkt[4:])
	ssrc := be32(pkt[8:])
	if o.rewrite {
		if !o.anchored || ssrc != o.inSSRC {
			// Continue after the last packet sent (RFC 3550 §5.1: the
			// timestamp advances with the sampling clock).
			o.seqOff = o.seq + 1 - seq
			o.tsOff = o.ts + ticksSince(o.at, now, clock) - ts
			o.inSSRC = ssrc
			o.anchored = true
			o.mark = true
		}
		seq += o.seqOff
		ts += o.tsOff
		ssrc = o.ssrc
		put16(pkt[2:], seq)
		put32(pkt[4:], ts)
		put32(pkt[8:], ssrc)
		if o.mark {
			pkt[1] |= 0x80 // RFC 3551 §4.1: first packet of a talkspurt
			o.mark = false
		}
	}
	if _, err := l.rtp.WriteToUDPAddrPort(pkt, dest); err != nil {
		l.mu.Unlock()
		return failed
	}
	if !o.started || int16(seq-o.seq) > 0 || ssrc != o.ssrc {
		o.seq, o.ts, o.at = seq, ts, now
	}
	o.started = true
	o.ssrc = ssrc
	l.mu.Unlock()
	l.st.out.Add(1)
	l.st.bytesOut.Add(uint64(len(pkt)))
	return sent
}

// sendInjected writes one prompt packet: pkt holds 12 bytes of room for
// the header followed by the payload. It reports false when p is no
// longer the leg's current prompt.
func (l *Leg) sendInjected(p *Playback, pkt []byte, first bool, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.play != p {
		return false
	}
	o := &l.out
	frame := uint32(p.clock / int(time.Second/ptime))
	switch {
	case !o.started:
		o.ssrc = rand.Uint32()
		o.seq = uint16(rand.Uint32())
		o.ts = rand.Uint32()
	case first:
		o.seq++
		o.ts += max(ticksSince(o.at, now, p.clock), frame)
	default:
		o.seq++
		o.ts += frame
	}
	pkt[0] = 0x80
	pkt[1] = p.pt
	if first {
		pkt[1] |= 0x80
	}
	put16(pkt[2:], o.seq)
	put32(pkt[4:], o.ts)
	put32(pkt[8:], o.ssrc)
	o.started, o.rewrite, o.anchored, o.at = true, true, false, now
	dest := l.destRTP()
	if !dest.IsValid() {
		return true // nobody to hear it yet; the stream still advances
	}
	if _, err := l.rtp.WriteToUDPAddrPort(pkt, dest); err == nil {
		l.st.out.Add(1)
		l.st.bytesOut.Add(uint64(len(pkt)))
		l.st.injected.Add(1)
	}
	return true
}

// ticksSince returns the RTP clock ticks from then to now, at least one
// ptime's worth.
func ticksSince(then, now time.Time, clock int) uint32 {
	frame := uint32(clock / int(time.Second/ptime))
	d := now.Sub(then)
	if d <= 0 {
		return frame
	}
	t := uint64(d) * uint64(clock) / uint64(time.Second)
	if t > 1<<31 {
		t = 1 << 31
	}
	return max(uint32(t), frame)
}

// Close stops any prompt, closes both sockets, waits for the readers and
// returns the port to the allocator. A bridged leg leaves its bridge.
func (l *Leg) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		p := l.play
		l.play = nil
		l.mu.Unlock()
		if p != nil {
			p.Stop()
		}
		close(l.closing)
		l.rtp.Close()
		l.rtcp.Close()
		l.readers.Wait()
		l.plays.Wait()
		l.ports.Release(l.port)
	})
	return nil
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
func put16(b []byte, v uint16) { b[0], b[1] = byte(v>>8), byte(v) }
func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}
