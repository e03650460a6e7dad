package srcclient

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
)

// Media plane. A few senders (one per core) each own one RTP socket and
// one goroutine that wakes every 20 ms, walks its streams, writes the RTP
// headers of every packet due into a preallocated arena next to the
// pre-encoded payloads, and hands the batch to sendmmsg(2) through
// ipv4.PacketConn.WriteBatch. Nothing is allocated per packet.

const (
	batchMax = 256 // messages per sendmmsg call
	slotSize = 16  // RTP header (12) + room for an RFC 4733 payload (4)
	rtpHdr   = 12

	// srEvery is the RTCP sender-report interval in packets: 5 s, the
	// RFC 3550 §6.2 minimum interval. The first report goes out within the
	// first second (srFirst), so even short calls carry the NTP↔RTP
	// mapping the SRS aligns streams with.
	srEvery = 250
	srFirst = 50
)

// kind classifies a queued message for the counters.
type kind uint8

const (
	kindAudio kind = iota
	kindDTMF
	kindDup
)

// pkt is one RTP packet under construction: header (and the 4-byte
// telephone-event payload when it is DTMF) plus a shared audio payload.
type pkt struct {
	hdr     [slotSize]byte
	hdrLen  int
	payload []byte
	kind    kind
}

// dtmfEvent is a DTMFSpec converted to frame numbers.
type dtmfEvent struct {
	code   uint8
	start  int64 // first frame of the event
	frames int64 // frames it lasts (>= 1)
}

// mstream is one stream being sent. Fields above the line are set before
// the stream is handed to its sender and never change; the rest belong to
// the sender goroutine, except the atomics.
type mstream struct {
	label   string
	dst     *net.UDPAddr
	rtcpDst netip.AddrPort
	frames  [][]byte // shared pre-encoded payloads
	pt      uint8
	eventPT uint8 // 0: no telephone-event negotiated
	tsStep  uint32
	start   time.Time
	end     int64 // frames [0, end) are sent
	rtcp    bool

	dropFrom, dropTo int64
	reorderEvery     uint64
	dupEvery         uint64
	ssrcChangeFrame  int64 // 0: never
	tsJumpFrame      int64 // 0: never
	tsJump           uint32
	dtmf             []dtmfEvent

	paused atomic.Bool
	// resumeFrom is the first frame that may be sent after a pause: frames
	// due while paused are never sent, even by a sender that did not tick
	// during the whole pause and would otherwise catch them up.
	resumeFrom atomic.Int64
	stop       atomic.Bool
	done       chan struct{} // closed by the sender once the stream is finished

	// sender-owned state
	ssrc      uint32
	seq       uint16
	tsBase    uint32
	tsOffset  uint32
	next      int64 // next frame to send
	marker    bool
	gen       uint64 // packets generated (for Reorder/DuplicateEvery)
	dtmfIdx   int
	holding   bool
	hold      pkt
	srPhase   int64  // frame of the first RTCP SR; then every srEvery frames
	srPackets uint32 // RTCP SR sender's packet count (since the SSRC began)
	srOctets  uint32

	// counters, read by the call after done is closed
	sent, dups, dropped, dtmfSent, sendErrs, rtcpSent uint64
}

// newSSRCState draws the random SSRC, sequence and timestamp base that
// RFC 3550 §5.1 asks for.
func (st *mstream) newSSRCState() {
	st.ssrc = rand.Uint32()
	st.seq = uint16(rand.Uint32())
	st.tsBase = rand.Uint32()
	st.tsOffset = 0
	st.srPackets, st.srOctets = 0, 0
	st.marker = true
}

// ts is the RTP timestamp of frame n.
func (st *mstream) ts(n int64) uint32 {
	return st.tsBase + uint32(n)*st.tsStep + st.tsOffset
}

// header writes a 12-byte RTP header (RFC 3550 §5.1) and advances seq.
func (st *mstream) header(b []byte, pt uint8, marker bool, ts uint32) {
	b[0] = 0x80 // V=2, no padding, no extension, no CSRC
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], st.seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], st.ssrc)
	st.seq++
}

// sender owns one RTP socket (and its RTCP neighbour) and the streams
// assigned to it.
type sender struct {
	conn     *net.UDPConn
	rtcpConn *net.UDPConn
	pc       *ipv4.PacketConn
	port     int

	mu       sync.Mutex
	closed   bool
	adds     []*mstream
	barriers []chan struct{}

	// loop-owned
	streams  []*mstream
	spare    []chan struct{}
	msgs     []ipv4.Message
	bufs     [][2][]byte
	arena    []byte
	owners   []*mstream
	kinds    []kind
	n        int
	srBuf    [28]byte
	lastTick time.Time
	tickLate uint64

	// statistics, read by Client.Stats
	lastErr    atomic.Value // error
	sendErrs   atomic.Uint64
	packets    atomic.Uint64
	lateFrames atomic.Uint64
	maxGap     atomic.Int64 // longest time between two ticks, ns
}

func newSender(conn, rtcpConn *net.UDPConn) *sender {
	s := &sender{
		conn:     conn,
		rtcpConn: rtcpConn,
		pc:       ipv4.NewPacketConn(conn),
		port:     conn.LocalAddr().(*net.UDPAddr).Port,
		msgs:     make([]ipv4.Message, batchMax),
		bufs:     make([][2][]byte, batchMax),
		arena:    make([]byte, batchMax*slotSize),
		owners:   make([]*mstream, batchMax),
		kinds:    make([]kind, batchMax),
	}
	return s
}

// errSenderClosed is returned when media is started on a closed client.
var errSenderClosed = errors.New("srcclient: client closed")

// add hands a stream to the sender; it starts at the next tick.
func (s *sender) add(st *mstream) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errSenderClosed
	}
	s.adds = append(s.adds, st)
	return nil
}

// barrier returns once the sender has completed a full pass that started
// after the call: every flag set before barrier was called has been seen.
func (s *sender) barrier(ctx context.Context) error {
	ch := make(chan struct{})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errSenderClosed
	}
	s.barriers = append(s.barriers, ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run ticks every Ptime until stop is closed.
func (s *sender) run(stop <-chan struct{}) {
	t := time.NewTicker(Ptime)
	defer t.Stop()
	for {
		select {
		case <-stop:
			s.shutdown()
			return
		case <-t.C:
			s.tick(time.Now())
		}
	}
}

// shutdown finishes every stream and releases every waiter.
func (s *sender) shutdown() {
	s.mu.Lock()
	s.closed = true
	s.streams = append(s.streams, s.adds...)
	s.adds = nil
	barriers := s.barriers
	s.barriers = nil
	s.mu.Unlock()
	for _, st := range s.streams {
		close(st.done)
	}
	s.streams = nil
	for _, b := range barriers {
		close(b)
	}
}

// tick sends everything due at now.
func (s *sender) tick(now time.Time) {
	s.mu.Lock()
	s.streams = append(s.streams, s.adds...)
	clear(s.adds)
	s.adds = s.adds[:0]
	barriers := s.barriers
	s.barriers = s.spare[:0]
	s.mu.Unlock()

	if !s.lastTick.IsZero() {
		if gap := int64(now.Sub(s.lastTick)); gap > s.maxGap.Load() {
			s.maxGap.Store(gap)
		}
	}
	s.lastTick = now
	s.tickLate = 0
	j := 0
	for _, st := range s.streams {
		if s.produce(st, now) {
			s.streams[j] = st
			j++
			continue
		}
		// Finished: its packets must be on the wire before done closes.
		s.flush()
		close(st.done)
	}
	clear(s.streams[j:])
	s.streams = s.streams[:j]
	s.flush()
	if s.tickLate > 0 {
		s.lateFrames.Add(s.tickLate)
	}

	for _, b := range barriers {
		close(b)
	}
	clear(barriers)
	s.spare = barriers[:0]
}

// produce queues the frames of st due at now; it reports false when the
// stream is finished.
func (s *sender) produce(st *mstream, now time.Time) bool {
	if st.stop.Load() {
		return false
	}
	due := int64(now.Sub(st.start)/Ptime) + 1
	if due > st.end {
		due = st.end
	}
	if st.paused.Load() {
		if st.holding {
			// The reordered packet would arrive after the pause was
			// signalled: count it as lost instead.
			st.holding = false
			st.dropped++
		}
		if due > st.next {
			st.next = due
		}
		st.marker = true
		return st.next < st.end
	}
	if rf := st.resumeFrom.Load(); st.next < rf {
		st.next = min(rf, st.end)
	}
	if d := due - st.next; d > 1 {
		s.tickLate += uint64(d - 1) // frames that should have left at an earlier tick
	}
	for st.next < due {
		s.frame(st, st.next)
		st.next++
	}
	if st.next >= st.end {
		if st.holding {
			st.holding = false
			s.put(st, &st.hold)
		}
		return false
	}
	return true
}

// frame queues what frame n of st carries: audio, a telephone event, or
// both while the end of an event is retransmitted.
func (s *sender) frame(st *mstream, n int64) {
	if n == st.ssrcChangeFrame && n > 0 {
		st.newSSRCState()
	}
	if n == st.tsJumpFrame && n > 0 {
		st.tsOffset += st.tsJump
		st.marker = true
	}
	audio := true
	if st.eventPT != 0 {
		for st.dtmfIdx < len(st.dtmf) && n >= st.dtmf[st.dtmfIdx].start+st.dtmf[st.dtmfIdx].frames+2 {
			st.dtmfIdx++
		}
		if st.dtmfIdx < len(st.dtmf) {
			ev := &st.dtmf[st.dtmfIdx]
			if j := n - ev.start; j >= 0 {
				// RFC 4733 §2.5.1: one timestamp (the event start) for
				// all packets of the event, duration growing by one
				// frame per update, the marker on the first packet, and
				// the final packet (E bit) sent three times in a row
				// (§2.5.1.4), each with its own sequence number. The
				// two retransmissions follow the audio that resumes.
				if j >= ev.frames {
					s.audio(st, n)
				}
				audio = false
				var p pkt
				st.header(p.hdr[:], st.eventPT, j == 0, st.ts(ev.start))
				p.hdr[12] = ev.code
				p.hdr[13] = 10 // volume: -10 dBm0
				if j >= ev.frames-1 {
					p.hdr[13] |= 0x80 // E: end of event
				}
				binary.BigEndian.PutUint16(p.hdr[14:], uint16(uint32(min(j+1, ev.frames))*st.tsStep))
				p.hdrLen = 16
				p.kind = kindDTMF
				s.emit(st, n, &p)
			}
		}
	}
	if audio {
		s.audio(st, n)
	}
	if st.rtcp && n >= st.srPhase && (n-st.srPhase)%srEvery == 0 && st.srPackets > 0 {
		s.senderReport(st, n)
	}
}

// audio queues the audio packet of frame n.
func (s *sender) audio(st *mstream, n int64) {
	var p pkt
	st.header(p.hdr[:], st.pt, st.marker, st.ts(n))
	st.marker = false
	p.hdrLen = rtpHdr
	p.payload = st.frames[n%int64(len(st.frames))]
	p.kind = kindAudio
	s.emit(st, n, &p)
}

// emit applies the impairments and queues the packet.
func (s *sender) emit(st *mstream, n int64, p *pkt) {
	st.gen++
	if n >= st.dropFrom && n < st.dropTo {
		st.dropped++
		return
	}
	st.srPackets++
	st.srOctets += uint32(p.hdrLen - rtpHdr + len(p.payload))
	if st.reorderEvery > 0 && st.gen%st.reorderEvery == 0 && !st.holding {
		st.hold = *p
		st.holding = true
		return
	}
	s.put(st, p)
	if st.dupEvery > 0 && st.gen%st.dupEvery == 0 {
		k := p.kind
		p.kind = kindDup
		s.put(st, p)
		p.kind = k
	}
	if st.holding {
		st.holding = false
		s.put(st, &st.hold)
	}
}

// put copies the packet into the next batch slot.
func (s *sender) put(st *mstream, p *pkt) {
	if s.n == batchMax {
		s.flush()
	}
	i := s.n
	s.n++
	slot := s.arena[i*slotSize : i*slotSize+p.hdrLen]
	copy(slot, p.hdr[:p.hdrLen])
	b := &s.bufs[i]
	b[0] = slot
	b[1] = p.payload
	m := &s.msgs[i]
	m.Buffers = b[:]
	m.Addr = st.dst
	s.owners[i] = st
	s.kinds[i] = p.kind
}

// flush sends the queued batch, resuming after partial writes and skipping
// a message the kernel refuses.
func (s *sender) flush() {
	off := 0
	for off < s.n {
		k, err := s.pc.WriteBatch(s.msgs[off:s.n], 0)
		if k < 0 {
			k = 0
		}
		for i := off; i < off+k; i++ {
			st := s.owners[i]
			switch s.kinds[i] {
			case kindAudio:
				st.sent++
			case kindDTMF:
				st.sent++
				st.dtmfSent++
			case kindDup:
				st.dups++
			}
		}
		s.packets.Add(uint64(k))
		off += k
		if err != nil {
			s.lastErr.Store(err)
			s.sendErrs.Add(1)
			if off < s.n {
				s.owners[off].sendErrs++
				off++
			}
		}
	}
	for i := 0; i < s.n; i++ {
		s.msgs[i].Buffers = nil
		s.msgs[i].Addr = nil
		s.bufs[i] = [2][]byte{}
		s.owners[i] = nil
	}
	s.n = 0
}

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// senderReport sends an RTCP SR (RFC 3550 §6.4.1) for st at frame n: the
// NTP time is the frame's due time, the RTP timestamp that frame's, so the
// SRS can align the streams on the wall clock (siprec-interop.md §3.5).
// One small send every 5 s per stream; not batched.
func (s *sender) senderReport(st *mstream, n int64) {
	b := s.srBuf[:]
	b[0] = 0x80 // V=2, RC=0
	b[1] = 200  // SR
	binary.BigEndian.PutUint16(b[2:], 6)
	binary.BigEndian.PutUint32(b[4:], st.ssrc)
	due := st.start.Add(time.Duration(n) * Ptime)
	sec := uint64(due.Unix()) + ntpEpochOffset
	frac := uint64(due.Nanosecond()) << 32 / 1e9
	binary.BigEndian.PutUint32(b[8:], uint32(sec))
	binary.BigEndian.PutUint32(b[12:], uint32(frac))
	binary.BigEndian.PutUint32(b[16:], st.ts(n))
	binary.BigEndian.PutUint32(b[20:], st.srPackets)
	binary.BigEndian.PutUint32(b[24:], st.srOctets)
	if _, err := s.rtcpConn.WriteToUDPAddrPort(b, st.rtcpDst); err == nil {
		st.rtcpSent++
	}
}

// drainRTCP reads and discards what arrives on the RTCP socket (receiver
// reports from the SRS) until the socket is closed.
func drainRTCP(c *net.UDPConn) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			return
		}
	}
}

// bindPair binds an even RTP port and the RTCP port above it (RFC 3550
// §11) inside [lo, hi], starting the search at from.
func bindPair(ip net.IP, lo, hi, from int) (*net.UDPConn, *net.UDPConn, int, error) {
	if lo%2 == 1 {
		lo++
	}
	if from < lo || from > hi {
		from = lo
	}
	if from%2 == 1 {
		from++
	}
	span := (hi - lo + 1) / 2
	for i := 0; i < span; i++ {
		p := lo + ((from-lo)/2+i)%span*2
		if p+1 > hi {
			continue
		}
		rtp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: p})
		if err != nil {
			continue
		}
		rtcp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: p + 1})
		if err != nil {
			rtp.Close()
			continue
		}
		return rtp, rtcp, p, nil
	}
	return nil, nil, 0, fmt.Errorf("srcclient: no free RTP port pair in %d-%d on %s", lo, hi, ip)
}
