package relay

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/mix"
)

// TapFunc receives one packet a party sent: the whole RTP datagram as it
// arrived, and when. It runs on the relay's reading goroutine after the
// packet was relayed, so it must not block, and pkt is only valid during
// the call: the callee copies what it keeps.
type TapFunc func(pkt []byte, at time.Time)

// DigitFunc receives one DTMF digit a party sent ("0".."9", "*", "#",
// "A".."D", or "event-N" for other RFC 4733 §3.2 codes). It runs on the
// relay's reading goroutine and must not block.
type DigitFunc func(side Side, digit string)

// HoldFunc decides, at the first packet of each RFC 4733 telephone event a
// party sends, whether every packet of that event (its start, its updates
// and its repeated end packets, which share the event's timestamp, RFC
// 4733 §2.5.1.2) is held back instead of relayed. The B2BUA holds a "*"
// and the digits after it while it collects a feature access code (R35),
// so the other party hears no tone of it: deciding per event, at its
// start, keeps the first packets of the "*" and the last end packets of
// the code's final digit from leaking. It runs on the relay's reading
// goroutine, before DigitFunc is told of the same event, and must not
// block.
type HoldFunc func(side Side, digit string) bool

// ptCN is comfort noise (RFC 3389), static payload type 13 (RFC 3551).
const ptCN = 13

// Bridge relays media between two legs. Build it with NewBridge once both
// legs' codecs are known; its methods are safe for concurrent use.
type Bridge struct {
	legs    [2]*Leg
	dirs    [2]*direction // dirs[s] relays what legs[s] reads to legs[s.Other()]
	digit   atomic.Pointer[DigitFunc]
	hold    atomic.Pointer[HoldFunc]
	mu      sync.Mutex
	detach  bool
	closeMu sync.Once
}

// direction is one way through the bridge. Its fields after the atomics
// are used only by the reading goroutine of from.
type direction struct {
	b        *Bridge
	side     Side
	from, to *Leg
	tap      atomic.Pointer[TapFunc]
	swallow  atomic.Bool
	mute     atomic.Bool // hold: nothing from this side is relayed (hold.go)

	pass            bool  // same codec: no transcoding
	inPT, outPT     uint8 // audio payload types
	inEvPT, outEvPT uint8 // telephone-event payload types, 0 = none
	outClock        int
	tc              *transcoder // when !pass
	hdr             [12]byte    // the original header while it is rewritten
}

// eventState tracks the RFC 4733 events a leg receives (Leg.ev).
type eventState struct {
	haveEv           bool
	lastEvTS, lastEv uint32 // timestamp and SSRC of the last event reported
	haveCur          bool
	curTS, curSSRC   uint32 // timestamp and SSRC of the event being received
	curHeld          bool   // HoldFunc held the event being received
}

// NewBridge connects legs a and b (sides A and B): from now on each
// packet read on one is relayed to the other. Both legs must have a codec
// (Leg.SetCodec) and may not be in another bridge. When the codecs
// differ, both must be ones media can decode and encode.
func NewBridge(a, b *Leg) (*Bridge, error) {
	if a == nil || b == nil || a == b {
		return nil, fmt.Errorf("relay: new bridge: need two distinct legs")
	}
	ca, okA := a.Codec()
	cb, okB := b.Codec()
	if !okA || !okB {
		return nil, fmt.Errorf("relay: new bridge %s-%s: %w", a.local, b.local, ErrNoCodec)
	}
	br := &Bridge{legs: [2]*Leg{a, b}}
	for s, c := range [2][2]Codec{{ca, cb}, {cb, ca}} {
		d, err := newDirection(br, Side(s), br.legs[s], br.legs[1-s], c[0], c[1])
		if err != nil {
			return nil, err
		}
		br.dirs[s] = d
	}
	if !a.sink.CompareAndSwap(nil, br.dirs[A]) {
		return nil, fmt.Errorf("relay: new bridge with %s: %w", a.local, ErrBusy)
	}
	if !b.sink.CompareAndSwap(nil, br.dirs[B]) {
		a.sink.Store(nil)
		return nil, fmt.Errorf("relay: new bridge with %s: %w", b.local, ErrBusy)
	}
	return br, nil
}

func newDirection(br *Bridge, s Side, from, to *Leg, in, out Codec) (*direction, error) {
	d := &direction{b: br, side: s, from: from, to: to, pass: in.sameAs(out),
		inPT: in.PayloadType & 0x7f, outPT: out.PayloadType & 0x7f,
		inEvPT: in.EventPT & 0x7f, outEvPT: out.EventPT & 0x7f, outClock: out.clock()}
	if !d.pass {
		tc, err := newTranscoder(in, out)
		if err != nil {
			return nil, fmt.Errorf("relay: bridge %s to %s: %w", from.local, to.local, err)
		}
		d.tc = tc
	}
	return d, nil
}

// Leg returns the leg on side s.
func (br *Bridge) Leg(s Side) *Leg { return br.legs[s&1] }

// Transcoding reports whether the legs' codecs differ, so audio is
// decoded and encoded again on its way through.
func (br *Bridge) Transcoding() bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	return !br.dirs[A].pass
}

// Play plays src toward the party on side toward, replacing the audio
// relayed to it for the prompt's duration (Leg.Play). The payloads must
// be in that leg's codec.
func (br *Bridge) Play(toward Side, src Source) (*Playback, error) {
	return br.legs[toward&1].Play(src)
}

// Tap sets the function that sees every packet the party on side s sends
// (nil removes it): each RTP datagram read from that leg and admitted by
// its latch, with a payload type of its codec, comfort noise or
// telephone-event, as received (before any rewrite), including those held
// back while a prompt plays toward the other party; not swallowed digits.
// Prompts never reach a tap (R22).
func (br *Bridge) Tap(s Side, fn TapFunc) {
	br.mu.Lock()
	defer br.mu.Unlock()
	if fn == nil {
		br.dirs[s&1].tap.Store(nil)
		return
	}
	br.dirs[s&1].tap.Store(&fn)
}

// OnDigit sets the function told of each DTMF digit either party sends as
// RFC 4733 telephone-events, once per event when its end arrives (nil
// removes it).
func (br *Bridge) OnDigit(fn DigitFunc) {
	if fn == nil {
		br.digit.Store(nil)
		return
	}
	br.digit.Store(&fn)
}

// Swallow sets whether telephone-event packets from side s are held back
// instead of relayed (their digits are still reported through OnDigit).
// The B2BUA turns it on while it collects a feature access code such as
// *44 (R35) and off to let digits through again.
func (br *Bridge) Swallow(s Side, on bool) {
	br.mu.Lock()
	br.dirs[s&1].swallow.Store(on)
	br.mu.Unlock()
}

// HoldDigits sets the function asked, at the first packet of each
// telephone event either party sends, whether that whole event is held
// back (nil removes it). Held events are still reported through OnDigit,
// count as swallowed, and never reach a tap.
func (br *Bridge) HoldDigits(fn HoldFunc) {
	if fn == nil {
		br.hold.Store(nil)
		return
	}
	br.hold.Store(&fn)
}

// Detach disconnects the legs without closing them, so they can be
// bridged again (to a new party after a transfer, or with new codecs
// after a re-INVITE). Packets read meanwhile are dropped and counted.
func (br *Bridge) Detach() {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.detach {
		return
	}
	br.detach = true
	br.legs[A].sink.CompareAndSwap(br.dirs[A], nil)
	br.legs[B].sink.CompareAndSwap(br.dirs[B], nil)
}

// Close detaches and closes both legs: their readers and prompts stop and
// their ports return to the allocator.
func (br *Bridge) Close() error {
	br.Detach()
	br.closeMu.Do(func() {
		br.legs[A].Close()
		br.legs[B].Close()
	})
	return nil
}

// relay handles one admitted RTP packet read on d.from; h and payload
// come from mix.ParseRTP(pkt).
func (d *direction) relay(h *mix.Header, payload, pkt []byte, now time.Time) {
	if d.mute.Load() {
		d.from.st.muted.Add(1)
		return
	}
	switch pt := h.PayloadType; {
	case d.inEvPT != 0 && pt == d.inEvPT:
		if !d.event(h, payload, pkt, now) {
			return
		}
	case pt == d.inPT:
		if d.pass {
			d.forward(pkt, d.outPT, now)
		} else {
			d.transcode(h, payload, pkt, now)
		}
	case pt == ptCN && d.pass:
		d.forward(pkt, ptCN, now)
	default:
		d.from.st.dropped.Add(1)
		return
	}
	if tap := d.tap.Load(); tap != nil {
		(*tap)(pkt, now)
	}
}

// forward sends pkt with payload type pt, rewriting its header in place
// and restoring it afterwards for the tap.
func (d *direction) forward(pkt []byte, pt uint8, now time.Time) {
	copy(d.hdr[:], pkt[:12])
	pkt[1] = pkt[1]&0x80 | pt
	d.account(d.to.sendRelayed(pkt, d.outClock, now))
	copy(pkt[:12], d.hdr[:])
}

func (d *direction) account(r sendResult) {
	switch r {
	case held:
		d.from.st.held.Add(1)
	case failed:
		d.from.st.dropped.Add(1)
	}
}

// event handles an RFC 4733 telephone-event packet: it asks HoldFunc at
// the event's first packet whether to hold the whole event, reports the
// digit once per event (on its first end packet; an event's packets share one
// timestamp, §2.5.1.2, and the end packet is sent three times, §2.5.1.4)
// and relays the packet unless held or swallowed. It reports whether the packet
// goes to the tap.
func (d *direction) event(h *mix.Header, payload, pkt []byte, now time.Time) bool {
	ev, err := mix.ParseTelephoneEvent(payload)
	if err != nil {
		d.from.st.malformed.Add(1)
		d.from.st.dropped.Add(1)
		return false
	}
	st := &d.from.ev
	if !st.haveCur || h.Timestamp != st.curTS || h.SSRC != st.curSSRC {
		st.haveCur, st.curTS, st.curSSRC, st.curHeld = true, h.Timestamp, h.SSRC, false
		if fn := d.b.hold.Load(); fn != nil {
			st.curHeld = (*fn)(d.side, mix.DigitName(ev.Event))
		}
	}
	if ev.End && (!st.haveEv || h.Timestamp != st.lastEvTS || h.SSRC != st.lastEv) {
		st.haveEv, st.lastEvTS, st.lastEv = true, h.Timestamp, h.SSRC
		if fn := d.b.digit.Load(); fn != nil {
			(*fn)(d.side, mix.DigitName(ev.Event))
		}
	}
	if st.curHeld || d.swallow.Load() {
		d.from.st.swall.Add(1)
		return false
	}
	switch {
	case d.outEvPT == 0:
		d.from.st.dropped.Add(1) // the other leg negotiated no telephone-event
	case d.pass:
		d.forward(pkt, d.outEvPT, now)
	default:
		d.account(d.tc.event(d, h, payload, pkt, now))
	}
	return true
}

// transcode decodes one audio packet and relays it encoded in the other
// leg's codec with the same duration, sequence number and SSRC.
func (d *direction) transcode(h *mix.Header, payload, pkt []byte, now time.Time) {
	r := d.tc.audio(d, h, payload, pkt, now)
	d.account(r)
}

func normName(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// transcoder converts one direction's audio between two codecs.
type transcoder struct {
	dec      media.Decoder
	enc      media.Encoder
	pcm      []int16
	out      []byte
	num, den int64 // output clock / input clock
	based    bool
	inBase   uint32
	outBase  uint32
}

func newTranscoder(in, out Codec) (*transcoder, error) {
	rate := media.NativeRate(out.Name, out.clock())
	if rate == 0 {
		return nil, fmt.Errorf("transcode to %s/%d: %w", out.Name, out.clock(), media.ErrUnsupported)
	}
	dec, err := media.NewDecoder(in.Name, in.clock(), in.Channels, rate)
	if err != nil {
		return nil, err
	}
	enc, err := media.NewEncoder(out.Name, out.clock(), out.Channels)
	if err != nil {
		return nil, err
	}
	return &transcoder{dec: dec, enc: enc, pcm: make([]int16, 0, 48000*120/1000),
		out: make([]byte, 0, 4096), num: int64(out.clock()), den: int64(in.clock())}, nil
}

// ts maps an input timestamp to the output clock, following the signed
// distance from the previous one so that wrap-around stays continuous.
func (t *transcoder) ts(in uint32) uint32 {
	if t.num == t.den {
		return in
	}
	if !t.based {
		t.based, t.inBase, t.outBase = true, in, uint32(int64(in)*t.num/t.den)
		return t.outBase
	}
	out := t.outBase + uint32(int64(int32(in-t.inBase))*t.num/t.den)
	t.inBase, t.outBase = in, out
	return out
}

func (t *transcoder) header(b []byte, h *mix.Header, pt uint8) {
	b[0] = 0x80
	b[1] = pt
	if h.Marker {
		b[1] |= 0x80
	}
	put16(b[2:], h.SequenceNumber)
	put32(b[4:], t.ts(h.Timestamp))
	put32(b[8:], h.SSRC)
}

func (t *transcoder) audio(d *direction, h *mix.Header, payload, pkt []byte, now time.Time) sendResult {
	pcm, err := t.dec.Decode(t.pcm[:0], payload)
	if cap(pcm) > cap(t.pcm) {
		t.pcm = pcm[:0]
	}
	if err != nil || len(pcm) == 0 {
		return failed
	}
	out, err := t.enc.Encode(t.out[:12], pcm)
	if cap(out) > cap(t.out) {
		t.out = out[:0]
	}
	if err != nil {
		return failed
	}
	t.header(out, h, d.outPT)
	return d.to.sendRelayed(out, d.outClock, now)
}

// event relays a telephone-event between legs whose codecs differ; when
// their clocks differ the timestamp and the duration field are scaled.
func (t *transcoder) event(d *direction, h *mix.Header, payload, pkt []byte, now time.Time) sendResult {
	out := append(t.out[:12], payload...)
	t.header(out, h, d.outEvPT)
	if t.num != t.den && len(payload) >= 4 {
		dur := int64(be16(payload[2:])) * t.num / t.den
		put16(out[12+2:], uint16(min(dur, 0xffff)))
	}
	return d.to.sendRelayed(out, d.outClock, now)
}
