package prompt

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/callrec/callrec/media"
)

// Ptime is the audio one Player packet carries (RFC 3551 §4.5: 20 ms is
// the default packetisation of every audio codec callrec offers).
const Ptime = 20 * time.Millisecond

// ErrShortBuffer reports a dst passed to Player.Next that cannot hold the
// encoded packet; Player.Err returns it.
var ErrShortBuffer = errors.New("prompt: payload buffer too small")

// Player turns mono PCM into the RTP payloads of one codec, Ptime (20 ms)
// per packet. It has no goroutine and no clock of its own: the relay pulls
// the next payload with Next from its send path, every 20 ms, and writes
// the RTP header itself (advancing the timestamp by TimestampStep). The
// last packet is padded with silence to a whole 20 ms.
//
// When the codec's rate differs from the PCM's, Next resamples one packet
// at a time, so a Player holds only a packet or two of audio beyond the
// caller's samples (a 4 s prompt at 48 kHz would be 384 KB per leg). Next
// allocates nothing. A Player keeps encoder and filter state and is not
// safe for concurrent use: one per leg.
type Player struct {
	codec string
	enc   media.Encoder
	src   []int16 // the caller's samples; never modified
	frame int     // samples per packet at enc.Rate()
	last  []int16 // the zero-padded final frame
	step  uint32
	err   error

	// total is the number of samples the whole audio has at enc.Rate()
	// and sent how many of them went out (without resampling, src[sent:]
	// is what is left). With resampling, src[pos:] is the input not yet
	// resampled, buf holds resampled samples not yet sent, and skip counts
	// leading samples still to drop (the filter's delay).
	pos         int
	rate        int              // the rate of src
	rs          *media.Resampler // rsKept while src needs resampling, else nil
	rsKept      *media.Resampler // the resampler from rate, kept across Load
	buf         []int16
	zeros       []int16 // input that flushes the filter after src ends
	chunk       int     // input samples per packet
	delay, skip int
	total, sent int
}

// NewPlayer returns a Player of pcm, mono 16-bit samples at rate Hz, for
// codec (an SDP encoding name: PCMU, PCMA, G722 or OPUS, any case). It
// encodes with media.NewEncoder; when rate differs from the codec's rate
// (16 kHz for G.722, 48 kHz for Opus, 8 kHz for G.711) the samples are
// resampled with media.Resampler, so one rate must be an integer multiple
// of the other, and the filter's delay is removed so that the audio keeps
// its timing. The Player reads pcm and never modifies it; the caller must
// not modify it while the Player is in use (Get's prompts never are).
//
// Creating a Player costs more than playing it (an Opus encoder is ~300 KB
// of state), so a leg should keep one and Load each new announcement or
// tone into it.
func NewPlayer(pcm []int16, rate int, codec string) (*Player, error) {
	name := strings.ToUpper(strings.TrimSpace(codec))
	clock := media.ClockRate(name)
	if clock == 0 {
		return nil, fmt.Errorf("prompt: player for %q: %w", codec, media.ErrUnsupported)
	}
	enc, err := media.NewEncoder(name, clock, 1)
	if err != nil {
		return nil, fmt.Errorf("prompt: player for %s: %w", name, err)
	}
	frame := enc.SamplesPerFrame(Ptime)
	p := &Player{
		codec: name,
		enc:   enc,
		frame: frame,
		last:  make([]int16, frame),
		step:  uint32(int64(clock) * int64(Ptime) / int64(time.Second)),
	}
	if err := p.Load(pcm, rate); err != nil {
		return nil, err
	}
	if name == media.OPUS {
		// gopus allocates most of its working buffers (~265 KB) in the
		// first frame it encodes. Encode one frame of silence here so that
		// this happens at call setup, not in Next. The receiver never sees
		// it; the encoder state it leaves is that of a stream that began
		// with 20 ms of silence, which is what a fresh decoder assumes.
		// gopus still grows a few buffers (~25 KB in all) the first times
		// it switches mode on real speech; after that Next allocates
		// nothing for Opus either.
		var scratch [maxOpusPayload]byte
		for range opusWarmUp {
			if _, err := enc.Encode(scratch[:0], p.last); err != nil {
				return nil, fmt.Errorf("prompt: player for %s: warm-up: %w", name, err)
			}
		}
	}
	return p, nil
}

// maxOpusPayload bounds one Opus packet (RFC 6716 §3.2.1: 1275 bytes per
// frame).
const maxOpusPayload = 1275

// opusWarmUp is the number of silent frames NewPlayer encodes for Opus:
// one is enough for gopus's big first allocation.
const opusWarmUp = 1

// Load replaces the audio with pcm, mono 16-bit samples at rate Hz (the
// same rules as NewPlayer), and rewinds the Player to its first packet.
// The encoder and its state are kept, as on a continuing RTP stream, so
// one Player per leg can play every announcement and tone of a call.
// Load allocates only when the rate differs from the previous one. On
// error the Player is left with no audio.
func (p *Player) Load(pcm []int16, rate int) error {
	p.src, p.total, p.rs = nil, 0, nil
	p.Reset()
	if rate <= 0 {
		return fmt.Errorf("prompt: player for %s: sample rate %d Hz: %w", p.codec, rate, media.ErrBadRate)
	}
	native := p.enc.Rate()
	if rate != native && (p.rate != rate || p.rsKept == nil) {
		rs, err := media.NewResampler(rate, native)
		if err != nil {
			return fmt.Errorf("prompt: player for %s: %w", p.codec, err)
		}
		up, down := rs.Ratio()
		p.chunk = p.frame * down / up
		p.delay = int(math.Round(rs.Delay())) // in output samples
		// Before a chunk is resampled buf holds less than a frame; a chunk
		// adds a frame (downsampling: one more for the carried remainder).
		p.buf = make([]int16, 0, 2*p.frame+p.delay+up+1)
		p.zeros = make([]int16, p.chunk)
		// Let the resampler size its work buffer now, not in Next.
		rs.Process(p.buf, p.zeros)
		p.rsKept = rs
	}
	p.rate, p.src, p.total = rate, pcm, len(pcm)
	if rate != native {
		p.rs = p.rsKept
		up, down := p.rs.Ratio()
		p.total = len(pcm) * up / down
	}
	p.Reset()
	return nil
}

// Next writes the payload of the next packet into dst and returns its
// length; done is true when that packet is the last one (or when nothing
// is left, then n is 0). dst must hold a whole payload: 160 bytes for
// PCMU, PCMA and G.722, up to 1275 for Opus (RFC 6716 §3.2.1); 1500 bytes
// is always enough. When it cannot, or when encoding fails, Next returns
// (0, true) and Err says why: the announcement ends early, never the call.
// Next does not allocate (for Opus: once gopus has grown its buffers, see
// NewPlayer).
func (p *Player) Next(dst []byte) (n int, done bool) {
	if p.err != nil || p.sent >= p.total {
		return 0, true
	}
	need := min(p.frame, p.total-p.sent)
	var frame []int16
	if p.rs == nil {
		frame = p.src[p.sent : p.sent+need]
	} else {
		frame = p.fill(need)
	}
	if len(frame) < p.frame {
		copy(p.last, frame)
		clear(p.last[len(frame):])
		frame = p.last
	}
	out, err := p.enc.Encode(dst[:0:len(dst)], frame)
	switch {
	case err != nil:
		p.err = fmt.Errorf("prompt: %s packet at sample %d: %w", p.codec, p.sent, err)
		return 0, true
	case len(out) > len(dst): // the encoder had to grow dst, so it did not fit
		p.err = fmt.Errorf("prompt: %s packet of %d bytes in a %d-byte buffer: %w", p.codec, len(out), len(dst), ErrShortBuffer)
		return 0, true
	}
	if p.rs != nil {
		p.buf = p.buf[:copy(p.buf, p.buf[need:])]
	}
	p.sent += need
	return len(out), p.sent >= p.total
}

// fill resamples input until buf holds need samples and returns them; the
// caller drops them from buf once they are encoded.
func (p *Player) fill(need int) []int16 {
	for len(p.buf) < need {
		in := p.zeros
		if p.pos < len(p.src) {
			end := min(p.pos+p.chunk, len(p.src))
			in, p.pos = p.src[p.pos:end], end
		}
		p.buf = p.rs.Process(p.buf, in)
		if p.skip > 0 {
			k := min(p.skip, len(p.buf))
			p.buf = p.buf[:copy(p.buf, p.buf[k:])]
			p.skip -= k
		}
	}
	return p.buf[:need]
}

// Err returns the error that stopped the Player early, or nil.
func (p *Player) Err() error { return p.err }

// Reset rewinds the Player to its first packet and clears Err, to play
// the same audio again (a repeat tone every interval). Encoder state is
// kept, as it is on a continuing RTP stream.
func (p *Player) Reset() {
	p.pos, p.sent, p.err = 0, 0, nil
	if p.rs != nil {
		p.rs.Reset()
		p.buf = p.buf[:0]
		p.skip = p.delay
	}
}

// Packets returns the number of packets the whole audio takes: its
// duration divided by Ptime, rounded up.
func (p *Player) Packets() int { return (p.total + p.frame - 1) / p.frame }

// TimestampStep returns how far the RTP timestamp advances per packet, in
// the codec's RTP clock: 160 for PCMU, PCMA and G.722 (whose clock is 8000
// Hz although it samples at 16 kHz, RFC 3551 §4.5.2), 960 for Opus (RFC
// 7587 §4.1).
func (p *Player) TimestampStep() uint32 { return p.step }

// Codec returns the codec's name as the registry spells it (e.g. "PCMU").
func (p *Player) Codec() string { return p.codec }
