// Package mix turns the RTP packets of one recording's streams into aligned,
// interleaved 16-bit PCM frames for the WAV writer. It is the recorder's
// per-packet hot path (architecture.md, "The recorder's hot path").
//
// Each Stream owns a ring of PCM at the output rate, indexed by output
// sample position. Push parses a datagram (RFC 3550), places it on the
// output timeline by its RTP timestamp, decodes it into the ring and counts
// it; Read, called by a flusher about twice a second, hands out every frame
// older than the reorder window, mixing the streams of a channel with
// saturation and interleaving the channels.
//
// Timeline. Output sample 0 is Config.Start. The first packet of an SSRC
// anchors its RTP timestamp to its arrival: pos(ts) = (arrival-Start)*Rate +
// (ts-ts0)*Rate/ClockRate. Later packets are placed by timestamp, so jitter
// and reordering do not move audio. A packet whose timestamp position is
// more than 1 s from its arrival position re-anchors (a timestamp jump),
// as do a new SSRC and a change of RTP clock rate.
//
// Drift. The anchor follows the sender's clock gently: over windows of 2 s
// of arrivals the mixer takes the minimum of (arrival position - timestamp
// position) over in-order packets, which is the offset seen by the
// least-delayed packet and therefore free of queueing jitter. When that
// minimum exceeds ±10 ms the anchor moves by it, at most 20 ms per window
// (the first window after an anchor may move it back by up to 1 s, since
// one packet's arrival is a poor anchor and no packet arrives before it is
// sent). A later move leaves a hole that is bridged by a linear ramp, an
// earlier move overwrites the overlap. A ±0.1 % sender clock (3.6 s an hour)
// thus stays within about 12 ms of the wall clock, and two channels within
// about 25 ms of each other.
//
// Ring. Each stream's ring holds at least ReorderWindow + 1.5 s of samples
// ahead of the read position (rounded up to a power of two): the reorder
// window, one flusher period of 500 ms, and the 1 s a timestamp may lead
// its arrival before it counts as a jump. Audio that would land beyond the
// ring re-anchors at its arrival if that fits, else it is dropped and
// counted; it never overwrites samples that have not been read.
//
// Gaps. A stream's ring also keeps one bit per sample saying whether the
// sender covered it: with audio, with a telephone event, or with deliberate
// silence (a hole between two consecutive sequence numbers, i.e. silence
// suppression or hold, is covered). A run of uncovered samples between two
// covered ones in active (non-paused) time is one gap. Silence before the
// first or after the last packet, and around a pause, is not a gap.
//
// This package must never do I/O, log, block on anything but a stream's own
// short mutex, allocate per packet, or panic on any input.
package mix

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callrec/callrec"
)

// DefaultReorderWindow is the reorder window when Config.ReorderWindow is 0.
const DefaultReorderWindow = 200 * time.Millisecond

// MaxReorderWindow bounds Config.ReorderWindow (and with it ring memory).
const MaxReorderWindow = 10 * time.Second

// ErrDrained is returned by Read after Drain.
var ErrDrained = errors.New("mix: mixer already drained")

// Decoder decodes one RTP payload to mono PCM at Rate() (the mixer's rate).
// The mixer passes a reused buffer of length 0 and ample capacity as dst and
// uses the returned slice; appending to dst keeps Push allocation-free.
// Each stream needs its own Decoder when the codec keeps state (G.722).
type Decoder interface {
	Decode(dst []int16, payload []byte) ([]int16, error)
	Rate() int
}

// Config configures a Mixer.
type Config struct {
	Rate          int           // output sample rate (8000, 16000, 48000)
	Channels      int           // 1 (mono, one mixed stream) or 2 (stereo)
	Start         time.Time     // wall clock of output sample 0 (the moment the session was answered)
	ReorderWindow time.Duration // how long to wait for late packets before a span is written; default 200 ms
}

// Codec describes one payload type of a stream.
type Codec struct {
	Decoder   Decoder // nil for telephone-event
	ClockRate int     // RTP clock rate of the payload type (G.722: 8000 although audio is 16 kHz; Opus 48000)
	DTMF      bool    // RFC 4733 telephone-event
}

// Validate reports why a mixer running at rate would ignore c: a clock rate
// outside 1000..192000 Hz, an audio codec without a decoder, or a decoder
// whose Rate differs from the mixer's.
func (c Codec) Validate(rate int) error {
	if c.ClockRate < 1000 || c.ClockRate > 192000 {
		return fmt.Errorf("mix: codec clock rate %d outside 1000..192000: %w", c.ClockRate, callrec.ErrInvalid)
	}
	if c.DTMF {
		return nil
	}
	if c.Decoder == nil {
		return fmt.Errorf("mix: audio codec without decoder: %w", callrec.ErrInvalid)
	}
	if r := c.Decoder.Rate(); r != rate {
		return fmt.Errorf("mix: decoder rate %d differs from mixer rate %d: %w", r, rate, callrec.ErrInvalid)
	}
	return nil
}

// timeline converts between wall-clock times and output sample positions.
type timeline struct {
	start time.Time
	rate  int64
}

// pos returns the output sample position of t, rounded down.
func (tl *timeline) pos(t time.Time) int64 {
	d := int64(t.Sub(tl.start))
	q, r := d/int64(time.Second), d%int64(time.Second)
	if r < 0 {
		q, r = q-1, r+int64(time.Second)
	}
	return q*tl.rate + r*tl.rate/int64(time.Second)
}

// time returns the wall-clock time of output sample position p.
func (tl *timeline) time(p int64) time.Time {
	q, r := floorDiv(p, tl.rate), p-floorDiv(p, tl.rate)*tl.rate
	return tl.start.Add(time.Duration(q)*time.Second + time.Duration(r*int64(time.Second)/tl.rate))
}

// ms converts a number of samples to milliseconds.
func (tl *timeline) ms(n int64) int64 { return floorDiv(n*1000, tl.rate) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Mixer aligns the streams of one recording and produces interleaved PCM.
// Push runs on each stream's reader goroutine; Read, Drain, Stats and DTMF
// may run on others.
type Mixer struct {
	tl       timeline
	channels int
	window   time.Duration
	capacity int64 // ring samples per stream, a power of two

	frames atomic.Int64 // frames handed out, readable without mu

	mu      sync.Mutex // guards everything below; held by Read, Drain, AddStream, DTMF
	readPos int64
	drained bool
	streams []*Stream
	byChan  [][]*Stream
}

// New validates cfg and returns a Mixer. Rate must be 8000..192000 Hz,
// Channels 1 or 2, Start set, ReorderWindow 0 (200 ms) up to 10 s.
func New(cfg Config) (*Mixer, error) {
	if cfg.Rate < 8000 || cfg.Rate > 192000 {
		return nil, fmt.Errorf("mix: config: rate %d outside 8000..192000: %w", cfg.Rate, callrec.ErrInvalid)
	}
	if cfg.Channels != 1 && cfg.Channels != 2 {
		return nil, fmt.Errorf("mix: config: %d channels, want 1 or 2: %w", cfg.Channels, callrec.ErrInvalid)
	}
	if cfg.Start.IsZero() {
		return nil, fmt.Errorf("mix: config: start time not set: %w", callrec.ErrInvalid)
	}
	if cfg.ReorderWindow == 0 {
		cfg.ReorderWindow = DefaultReorderWindow
	}
	if cfg.ReorderWindow < 0 || cfg.ReorderWindow > MaxReorderWindow {
		return nil, fmt.Errorf("mix: config: reorder window %v outside 0..%v: %w", cfg.ReorderWindow, MaxReorderWindow, callrec.ErrInvalid)
	}
	need := (int64(cfg.ReorderWindow) + int64(1500*time.Millisecond)) * int64(cfg.Rate) / int64(time.Second)
	capacity := int64(1) << bits.Len64(uint64(need-1))
	capacity = max(capacity, 64)
	return &Mixer{
		tl:       timeline{start: cfg.Start, rate: int64(cfg.Rate)},
		channels: cfg.Channels,
		window:   cfg.ReorderWindow,
		capacity: capacity,
		byChan:   make([][]*Stream, cfg.Channels),
	}, nil
}

// Rate returns the output sample rate.
func (m *Mixer) Rate() int { return int(m.tl.rate) }

// Channels returns the number of output channels.
func (m *Mixer) Channels() int { return m.channels }

// RingSamples returns the capacity of each stream's ring, in samples.
func (m *Mixer) RingSamples() int { return int(m.capacity) }

// AddStream adds a stream written to channel (0-based). Several streams on
// one channel are summed with saturation. With one output channel every
// stream is mixed into it; in stereo a channel above 1 is mixed into
// channel 1 and a negative one into channel 0. A stream added mid-call
// starts at the current read position.
func (m *Mixer) AddStream(label string, channel int) *Stream {
	channel = min(max(channel, 0), m.channels-1)
	s := newStream(m, label, channel)
	m.mu.Lock()
	s.readPos = m.readPos
	m.streams = append(m.streams, s)
	m.byChan[channel] = append(m.byChan[channel], s)
	m.mu.Unlock()
	return s
}

// Read appends every interleaved frame that ends at or before
// now - ReorderWindow and has not been read yet. It returns ErrDrained
// after Drain.
func (m *Mixer) Read(now time.Time, dst []int16) ([]int16, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.drained {
		return dst, ErrDrained
	}
	return m.readTo(m.tl.pos(now.Add(-m.window)), dst), nil
}

// Drain appends every frame up to end (the end of the session; the streams
// have stopped and Push is no longer called), settles pending telephone
// events and the loss counts, and closes the mixer. Silence after a
// stream's last packet is not counted as a gap. Calls after the first
// return dst unchanged.
func (m *Mixer) Drain(end time.Time, dst []int16) []int16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.drained {
		return dst
	}
	dst = m.readTo(m.tl.pos(end), dst)
	for _, s := range m.streams {
		s.mu.Lock()
		s.finish()
		s.mu.Unlock()
	}
	m.drained = true
	return dst
}

// Frames returns the number of frames handed out so far.
func (m *Mixer) Frames() int64 { return m.frames.Load() }

// DTMF returns the telephone events of every stream so far, in time order.
// An event is reported once its end packet arrives (or at Drain).
func (m *Mixer) DTMF() []callrec.DTMFEvent {
	m.mu.Lock()
	streams := slices.Clone(m.streams)
	m.mu.Unlock()
	var out []callrec.DTMFEvent
	for _, s := range streams {
		s.mu.Lock()
		out = append(out, s.events...)
		s.mu.Unlock()
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// readTo reads frames [m.readPos, end) in chunks no longer than a ring.
func (m *Mixer) readTo(end int64, dst []int16) []int16 {
	for m.readPos < end {
		n := min(end-m.readPos, m.capacity)
		dst = m.readChunk(m.readPos, n, dst)
		m.readPos += n
		m.frames.Store(m.readPos)
	}
	return dst
}

func (m *Mixer) readChunk(a, n int64, dst []int16) []int16 {
	c := m.channels
	base := len(dst)
	dst = slices.Grow(dst, int(n)*c)[:base+int(n)*c]
	out := dst[base:]
	if c == 2 && len(m.byChan[0]) == 1 && len(m.byChan[1]) == 1 {
		// The usual stereo call: one stream per channel. Interleave both
		// rings in one pass when neither has a pause to honour.
		l, r := m.byChan[0][0], m.byChan[1][0]
		l.mu.Lock()
		r.mu.Lock()
		fast := len(l.pauses) == 0 && len(r.pauses) == 0
		if fast {
			i := a & (m.capacity - 1)
			for o, left := out, n; left > 0; {
				seg := min(left, m.capacity-i)
				interleave(o, l.ring[i:i+seg], r.ring[i:i+seg])
				o = o[2*seg:]
				left -= seg
				i = 0
			}
			l.readInto(a, n, nil, 0, c, true)
			r.readInto(a, n, nil, 1, c, true)
		}
		r.mu.Unlock()
		l.mu.Unlock()
		if fast {
			return dst
		}
	}
	clear(out)
	for ch, list := range m.byChan {
		solo := len(list) == 1
		for _, s := range list {
			s.mu.Lock()
			s.readInto(a, n, out, ch, c, solo)
			s.mu.Unlock()
		}
	}
	return dst
}

// interleave writes l and r (of equal length) as stereo frames to o.
func interleave(o, l, r []int16) {
	o = o[:2*len(l)]
	r = r[:len(l)]
	for i, v := range l {
		o[2*i] = v
		o[2*i+1] = r[i]
	}
}
