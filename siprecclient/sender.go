package siprecclient

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/siprec"
)

// Ring geometry. A stream's ring holds the packets Send queued and the
// sender has not sent yet: before the SRS answered, the backlog since the
// recorded party answered (R19, bounded by BacklogLimit); after, the
// packets within the session's constant delay (Session.Delay) plus what
// the sender falls behind. 256 packet slots cover 2.56 s of 10 ms packets;
// the payload arena of 32 KiB covers 4 s of G.711 or G.722 (8 bytes a
// millisecond), so 2 s of backlog plus 2 s of slack. A payload over
// MaxPayload is dropped: 640 bytes cover 40 ms of G.711 or G.722 and any
// narrowband or wideband Opus frame.
const (
	ringSlots  = 256
	arenaBytes = 32 << 10
	MaxPayload = 640 // largest payload Send forwards, in bytes
	rtpHeader  = 12
)

// BacklogLimit bounds what a session keeps before its SRS answered: a
// packet older than this when the next one is queued (or when the SRS
// answers) is dropped and counted as Expired, the oldest first. It also
// bounds the session's delay (Session.Delay).
const BacklogLimit = 2 * time.Second

// Stream states, as seen by Send: packets are queued only while sending.
const (
	stateSending int32 = iota
	statePaused
	stateStopped
)

// slot describes one queued packet; its payload is in the ring's arena at
// off (modulo arenaBytes), contiguous.
type slot struct {
	off uint64 // arena offset (monotonic)
	at  int64  // when Send queued it, ns since the session's epoch
	n   int32
	ts  uint32
}

// ring is a single-consumer queue of packets with a byte arena for their
// payloads. Producers are serialised by mu (the relay normally has one
// per stream; a transfer may briefly bring two). Until live is set there
// is no consumer and producers drop the oldest packet to make room; after,
// the sender is the only consumer and reads without the lock,
// synchronised by head and tail (Go memory model: the atomic store of
// tail publishes the slot and its bytes), and a full ring drops the
// newest packet.
type ring struct {
	mu    sync.Mutex
	live  bool          // guarded by mu: the sender consumes
	woff  uint64        // guarded by mu: next free arena offset
	head  atomic.Uint64 // next slot to read (consumer; producers before live)
	tail  atomic.Uint64 // next slot to write (producers)
	slots [ringSlots]slot
	arena [arenaBytes]byte
}

// room says where a payload of n bytes would go, and whether it fits
// beside the queued ones. Called with mu held.
func (r *ring) room(n int, h, t uint64) (uint64, bool) {
	if t-h >= ringSlots {
		return 0, false
	}
	start := r.woff
	if int(start%arenaBytes)+n > arenaBytes {
		start += arenaBytes - start%arenaBytes // payloads never wrap
	}
	if h == t {
		return start, true
	}
	return start, start+uint64(n)-r.slots[h%ringSlots].off <= arenaBytes
}

// stream is one sendonly m-line of the session.
type stream struct {
	conn  *net.UDPConn
	state atomic.Int32
	ring  ring

	// Counters, read by Stats.
	sent, dropped, skipped, sendErrs, oversize, expired atomic.Uint64

	// Set at answer, read by the sender only.
	route  route
	local  func(pkt []byte, now time.Time) bool // in-process sink of route.dst (Config.Local), or nil
	codec  siprec.Format
	dec    media.Decoder
	enc    media.Encoder
	pcm    []int16
	pkt    [rtpHeader + MaxPayload + 64]byte
	ssrc   uint32
	seq    uint16
	tsBase uint32 // our first timestamp
	inBase uint32 // the relay's first timestamp
	based  bool
	marker bool        // set the marker bit on the next packet (start, resume: RFC 3551 §4.1)
	remark atomic.Bool // Resume asks the sender to set marker
}

// newStream prepares a stream's RTP state (RFC 3550 §5.1: random SSRC,
// sequence number and timestamp origin). Its ring is live: a stream of a
// session that waits for its SRS is made pending by the session.
func newStream(conn *net.UDPConn) *stream {
	st := &stream{
		conn:   conn,
		ssrc:   rand.Uint32(),
		seq:    uint16(rand.Uint32()),
		tsBase: rand.Uint32(),
		marker: true,
	}
	st.ring.live = true
	return st
}

// setRoute applies the answer; a transcoded stream gets its codecs.
func (st *stream) setRoute(r route, codec siprec.Format) error {
	st.route, st.codec = r, codec
	if !r.transcode || !r.dst.IsValid() {
		return nil
	}
	dec, err := media.NewDecoder(codec.Name, codec.ClockRate, codec.Channels, 8000)
	if err != nil {
		return fmt.Errorf("siprecclient: transcoding %s to PCMU: %w", rtpmapName(codec), err)
	}
	enc, err := media.NewEncoder(pcmu.Name, pcmu.ClockRate, 1)
	if err != nil {
		return fmt.Errorf("siprecclient: PCMU encoder: %w", err)
	}
	st.dec, st.enc = dec, enc
	st.pcm = make([]int16, 0, 2*MaxPayload)
	return nil
}

// push copies one payload, queued at now (ns since the session's epoch),
// into the ring; it never blocks on the network and never allocates. It
// reports whether the packet was queued and whether the ring was empty
// before it. Before the ring is live (the SRS has not answered), packets
// older than BacklogLimit, and the oldest when the ring is full, are
// dropped as Expired; after, a full ring drops the new packet (Dropped).
func (st *stream) push(payload []byte, ts uint32, now int64) (queued, first bool) {
	switch {
	case st.state.Load() != stateSending:
		st.skipped.Add(1)
		return false, false
	case len(payload) == 0 || len(payload) > MaxPayload:
		st.oversize.Add(1)
		return false, false
	}
	r := &st.ring
	r.mu.Lock()
	t, h := r.tail.Load(), r.head.Load()
	if !r.live {
		h = st.expire(h, t, now)
	}
	start, ok := r.room(len(payload), h, t)
	for !ok && !r.live && h != t {
		h++ // the backlog is full: the oldest goes (no consumer yet)
		r.head.Store(h)
		st.expired.Add(1)
		start, ok = r.room(len(payload), h, t)
	}
	if !ok {
		r.mu.Unlock()
		st.dropped.Add(1) // the sender is behind: drop, never wait
		return false, false
	}
	s := &r.slots[t%ringSlots]
	i := start % arenaBytes
	s.n = int32(copy(r.arena[i:i+uint64(len(payload))], payload))
	s.off, s.at, s.ts = start, now, ts
	r.woff = start + uint64(len(payload))
	r.tail.Store(t + 1)
	r.mu.Unlock()
	return true, h == t
}

// expire drops the backlog's packets queued more than BacklogLimit before
// now and returns the new head. Called with mu held, before the ring is
// live.
func (st *stream) expire(h, t uint64, now int64) uint64 {
	r := &st.ring
	n := h
	for n != t && now-r.slots[n%ringSlots].at > int64(BacklogLimit) {
		n++
	}
	if n != h {
		r.head.Store(n)
		st.expired.Add(n - h)
	}
	return n
}

// oldest returns when the oldest queued packet was queued. Called with
// mu held.
func (st *stream) oldest() (int64, bool) {
	r := &st.ring
	h, t := r.head.Load(), r.tail.Load()
	if h == t {
		return 0, false
	}
	return r.slots[h%ringSlots].at, true
}

// sendDue sends, in order, every queued packet whose time has come (its
// queue time plus delay is not after now; sender goroutine only). It
// returns when the next one is due, if any. When hold is set (a pause was
// signalled) or the SRS rejected the stream, queued packets are discarded
// instead (siprec-interop.md §3.3: no media once the pause is signalled).
func (st *stream) sendDue(now, delay int64, hold bool) (next int64, more bool) {
	r := &st.ring
	h, t := r.head.Load(), r.tail.Load()
	sending := !hold && st.route.dst.IsValid()
	for ; h != t; h++ {
		s := &r.slots[h%ringSlots]
		if due := s.at + delay; due > now {
			r.head.Store(h)
			return due, true
		}
		if sending {
			i := s.off % arenaBytes
			st.send(r.arena[i:i+uint64(s.n)], s.ts)
		} else {
			st.skipped.Add(1)
		}
		r.head.Store(h + 1) // the slot is free for producers at once
	}
	return 0, false
}

// drain sends every queued packet now, due or not (sender goroutine, or
// the goroutine that stopped it).
func (st *stream) drain() { st.sendDue(math.MaxInt64, 0, false) }

// empty reports whether nothing is queued.
func (st *stream) empty() bool { return st.ring.head.Load() == st.ring.tail.Load() }

// send packetises one payload (RFC 3550 §5.1) and writes it.
func (st *stream) send(payload []byte, ts uint32) {
	if !st.based {
		st.inBase, st.based = ts, true
	}
	out := st.pkt[rtpHeader:rtpHeader]
	outTS := st.tsBase + (ts - st.inBase)
	if st.route.transcode {
		var err error
		if st.pcm, err = st.dec.Decode(st.pcm[:0], payload); err != nil {
			st.sendErrs.Add(1)
			return
		}
		if len(st.pcm) > MaxPayload+64 {
			st.oversize.Add(1)
			return
		}
		if out, err = st.enc.Encode(out, st.pcm); err != nil {
			st.sendErrs.Add(1)
			return
		}
		// The relay's clock, rescaled to PCMU's 8 kHz (RFC 3551 §4.5.14).
		outTS = st.tsBase + uint32(uint64(ts-st.inBase)*8000/uint64(st.codec.ClockRate))
	} else {
		out = append(out, payload...)
	}
	h := st.pkt[:rtpHeader]
	h[0] = 0x80 // version 2, no padding, no extension, no CSRC
	h[1] = st.route.pt & 0x7f
	if st.marker {
		h[1] |= 0x80
		st.marker = false
	}
	binary.BigEndian.PutUint16(h[2:], st.seq)
	binary.BigEndian.PutUint32(h[4:], outTS)
	binary.BigEndian.PutUint32(h[8:], st.ssrc)
	st.seq++
	n := rtpHeader + len(out)
	if st.local != nil {
		// The recorder is in this process: no second trip through the
		// kernel (Config.Local).
		if !st.local(st.pkt[:n], time.Now()) {
			st.sendErrs.Add(1)
			return
		}
		st.sent.Add(1)
		return
	}
	if _, err := st.conn.WriteToUDPAddrPort(st.pkt[:n], st.route.dst); err != nil {
		st.sendErrs.Add(1)
		return
	}
	st.sent.Add(1)
}

// localPort is the port of the stream's socket.
func (st *stream) localPort() int {
	if a, ok := st.conn.LocalAddr().(*net.UDPAddr); ok {
		return a.Port
	}
	return 0
}

// StreamStats are the counters of one stream.
type StreamStats struct {
	Sent     uint64 // RTP packets written to the socket (or handed to the Local sink)
	Dropped  uint64 // packets dropped because the sender was behind (ring full)
	Skipped  uint64 // packets not sent because the stream was paused or stopped
	Oversize uint64 // empty payloads or payloads over MaxPayload
	// Expired counts packets dropped from the backlog kept before the SRS
	// answered: older than BacklogLimit, or the oldest when it was full.
	Expired uint64
	Errors  uint64 // write or transcoding failures
	// Destination is the SRS's RTP address; invalid when the SRS rejected
	// the stream.
	Destination netip.AddrPort
	// Transcoded is true when the SRS took only PCMU and the session
	// transcodes the relay's codec.
	Transcoded bool
	// Local is true when the stream's packets go to an in-process sink
	// (Config.Local) instead of the socket.
	Local bool
}

func (st *stream) stats() StreamStats {
	return StreamStats{
		Sent: st.sent.Load(), Dropped: st.dropped.Load(), Skipped: st.skipped.Load(),
		Oversize: st.oversize.Load(), Errors: st.sendErrs.Load(), Expired: st.expired.Load(),
		Destination: st.route.dst, Transcoded: st.route.transcode, Local: st.local != nil,
	}
}

// setLocal asks local (Config.Local) once for an in-process sink of the
// stream's destination; without one the stream keeps sending over UDP.
// Called with the answer, before the sender starts.
func (st *stream) setLocal(local LocalFunc) {
	st.local = nil
	if local == nil || !st.route.dst.IsValid() {
		return
	}
	if sink, ok := local(st.route.dst); ok && sink != nil {
		st.local = sink
	}
}
