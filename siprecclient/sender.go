package siprecclient

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/siprec"
)

// Ring geometry. 32 slots hold 640 ms of 20 ms packets: enough for the
// sender goroutine to be descheduled for a while, small enough (20 KiB a
// stream) for a thousand recorded calls. A payload over MaxPayload is
// dropped: 640 bytes cover 40 ms of G.711 or G.722 and any narrowband or
// wideband Opus frame.
const (
	ringSlots  = 32
	MaxPayload = 640 // largest payload Send forwards, in bytes
	rtpHeader  = 12
)

// Stream states.
const (
	stateSending int32 = iota
	statePaused
	stateStopped
)

type slot struct {
	n   int
	ts  uint32
	buf [MaxPayload]byte
}

// ring is a single-consumer ring of packets. Producers are serialised by
// mu (the relay normally has one per stream; a transfer may briefly bring
// two); the consumer reads without the lock, synchronised by head and
// tail (RFC-free, Go memory model: the atomic store of tail publishes the
// slot).
type ring struct {
	mu    sync.Mutex
	head  atomic.Uint64 // next slot to read (consumer)
	tail  atomic.Uint64 // next slot to write (producers)
	slots [ringSlots]slot
}

// stream is one sendonly m-line of the session.
type stream struct {
	conn  *net.UDPConn
	state atomic.Int32
	ring  ring

	// Counters, read by Stats.
	sent, dropped, skipped, sendErrs, oversize atomic.Uint64

	// Set at answer, read by the sender only.
	route  route
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
// sequence number and timestamp origin).
func newStream(conn *net.UDPConn) *stream {
	return &stream{
		conn:   conn,
		ssrc:   rand.Uint32(),
		seq:    uint16(rand.Uint32()),
		tsBase: rand.Uint32(),
		marker: true,
	}
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

// push copies one payload into the ring; it never blocks on the network
// and never allocates. It reports whether the packet was queued.
func (st *stream) push(payload []byte, ts uint32) bool {
	switch {
	case st.state.Load() != stateSending:
		st.skipped.Add(1)
		return false
	case len(payload) == 0 || len(payload) > MaxPayload:
		st.oversize.Add(1)
		return false
	}
	r := &st.ring
	r.mu.Lock()
	t := r.tail.Load()
	if t-r.head.Load() >= ringSlots {
		r.mu.Unlock()
		st.dropped.Add(1) // the sender is behind: drop, never wait
		return false
	}
	s := &r.slots[t%ringSlots]
	s.n = copy(s.buf[:], payload)
	s.ts = ts
	r.tail.Store(t + 1)
	r.mu.Unlock()
	return true
}

// drain sends every queued packet (sender goroutine only). Packets queued
// before a pause are discarded rather than sent after it
// (siprec-interop.md §3.3: no media once the pause is signalled).
func (st *stream) drain() {
	r := &st.ring
	h, t := r.head.Load(), r.tail.Load()
	sending := st.state.Load() == stateSending && st.route.dst.IsValid()
	for ; h != t; h++ {
		if sending {
			s := &r.slots[h%ringSlots]
			st.send(s.buf[:s.n], s.ts)
		} else {
			st.skipped.Add(1)
		}
	}
	r.head.Store(h)
}

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
	Sent     uint64 // RTP packets written to the socket
	Dropped  uint64 // packets dropped because the sender was behind (ring full)
	Skipped  uint64 // packets not sent because the stream was paused or stopped
	Oversize uint64 // empty payloads or payloads over MaxPayload
	Errors   uint64 // write or transcoding failures
	// Destination is the SRS's RTP address; invalid when the SRS rejected
	// the stream.
	Destination netip.AddrPort
	// Transcoded is true when the SRS took only PCMU and the session
	// transcodes the relay's codec.
	Transcoded bool
}

func (st *stream) stats() StreamStats {
	return StreamStats{
		Sent: st.sent.Load(), Dropped: st.dropped.Load(), Skipped: st.skipped.Load(),
		Oversize: st.oversize.Load(), Errors: st.sendErrs.Load(),
		Destination: st.route.dst, Transcoded: st.route.transcode,
	}
}
