package mix

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"
)

// t0 is the session start used by the tests.
var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// l16 is a fake decoder: big-endian 16-bit linear PCM at rate, one sample
// per two bytes, so tests can put exact sample values on the wire.
type l16 struct{ rate int }

func (d l16) Rate() int { return d.rate }
func (d l16) Decode(dst []int16, p []byte) ([]int16, error) {
	if len(p)%2 != 0 {
		return dst, errors.New("l16: odd payload")
	}
	for i := 0; i+1 < len(p); i += 2 {
		dst = append(dst, int16(binary.BigEndian.Uint16(p[i:])))
	}
	return dst, nil
}

// byteDec is a fake G.711: one byte to one sample through a table, at rate.
type byteDec struct {
	rate  int
	table *[256]int16
}

func (d byteDec) Rate() int { return d.rate }
func (d byteDec) Decode(dst []int16, p []byte) ([]int16, error) {
	for _, b := range p {
		dst = append(dst, d.table[b])
	}
	return dst, nil
}

// linearTable maps byte b to scale*int(b).
func linearTable(scale int) *[256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = int16(i * scale)
	}
	return &t
}

// twiceDec is a fake G.722: one byte to two samples at 16 kHz.
type twiceDec struct{}

func (twiceDec) Rate() int { return 16000 }
func (twiceDec) Decode(dst []int16, p []byte) ([]int16, error) {
	for _, b := range p {
		dst = append(dst, int16(b)*10, int16(b)*10)
	}
	return dst, nil
}

const (
	ptL16  = 96
	ptDTMF = 101
)

// stdCodecs are the payload types most tests use: L16/8000 and telephone-event/8000.
func stdCodecs(rate int) map[uint8]Codec {
	return map[uint8]Codec{
		ptL16:  {Decoder: l16{rate}, ClockRate: rate},
		ptDTMF: {ClockRate: 8000, DTMF: true},
	}
}

// rtpPacket builds an RTP datagram without CSRCs, extension or padding.
func rtpPacket(pt uint8, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

// constL16 is n samples of value v as an L16 payload.
func constL16(n int, v int16) []byte {
	p := make([]byte, 2*n)
	for i := range n {
		binary.BigEndian.PutUint16(p[2*i:], uint16(v))
	}
	return p
}

// eventPayload is an RFC 4733 telephone-event payload.
func eventPayload(code uint8, end bool, dur uint16) []byte {
	p := []byte{code, 10, 0, 0}
	if end {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], dur)
	return p
}

// action is something that happens at a moment of the simulated call.
type action struct {
	at time.Time
	do func()
}

// sim plays actions in time order, calling Read every 100 ms of simulated
// time as the recorder's flusher would, and Drains at end. It returns the
// whole output.
func sim(t *testing.T, m *Mixer, acts []action, end time.Time) []int16 {
	t.Helper()
	slices.SortStableFunc(acts, func(a, b action) int { return a.at.Compare(b.at) })
	var out []int16
	var err error
	last := t0
	flushTo := func(at time.Time) {
		for !last.Add(100 * time.Millisecond).After(at) {
			last = last.Add(100 * time.Millisecond)
			if out, err = m.Read(last, out); err != nil {
				t.Fatalf("Read(%v): %v", last, err)
			}
		}
	}
	for _, a := range acts {
		flushTo(a.at)
		a.do()
	}
	flushTo(end)
	out = m.Drain(end, out)
	if got, want := int64(len(out)), m.Frames()*int64(m.Channels()); got != want {
		t.Fatalf("output has %d samples, Frames()*Channels() = %d", got, want)
	}
	return out
}

// sender generates one RTP stream: 20 ms packets of 160 samples at 8 kHz.
type sender struct {
	s    *Stream
	pt   uint8
	ssrc uint32
	seq  uint16
	ts   uint32
}

// push returns the action that pushes packet with payload at arrival, and
// advances seq and ts by one 20 ms packet.
func (g *sender) push(arrival time.Time, payload []byte) action {
	b := rtpPacket(g.pt, false, g.seq, g.ts, g.ssrc, payload)
	g.seq++
	g.ts += 160
	s := g.s
	return action{arrival, func() { s.Push(b, arrival) }}
}

// talk returns n packets of constant-value L16 audio, the k-th valued
// value(k) and arriving at start + 20 ms*k + jitter(k).
func (g *sender) talk(start time.Time, n int, value func(k int) int16, jitter func(k int) time.Duration) []action {
	var acts []action
	for k := range n {
		at := start.Add(time.Duration(k) * 20 * time.Millisecond)
		if jitter != nil {
			at = at.Add(jitter(k))
		}
		acts = append(acts, g.push(at, constL16(160, value(k))))
	}
	return acts
}

// channel extracts channel ch of interleaved output with c channels.
func channel(out []int16, c, ch int) []int16 {
	r := make([]int16, 0, len(out)/c)
	for i := ch; i < len(out); i += c {
		r = append(r, out[i])
	}
	return r
}

// checkRuns asserts that x[from:from+n] all equal v.
func checkRun(t *testing.T, what string, x []int16, from, n int, v int16) {
	t.Helper()
	if from+n > len(x) {
		t.Fatalf("%s: want %d samples from %d, output has %d", what, n, from, len(x))
	}
	for i := from; i < from+n; i++ {
		if x[i] != v {
			t.Fatalf("%s: sample %d = %d, want %d", what, i, x[i], v)
		}
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func newMixer(t testing.TB, rate, channels int) *Mixer {
	t.Helper()
	m, err := New(Config{Rate: rate, Channels: channels, Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
