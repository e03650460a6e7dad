// Package media is the codec registry of callrec: it names the RTP audio
// codecs the recorder decodes and the test client encodes (PCMU, PCMA,
// G.722, Opus), builds per-stream decoders that deliver mono PCM at one
// chosen output rate (resampling or decoding straight at that rate), and
// encoders for test traffic. Sub-packages hold the codecs themselves
// (g711, g722), the WAV writer (wav), tone tools (tone) and the RTP
// aligner (mix).
//
// Decoders run on the recorder's per-packet hot path: once dst has
// capacity they must not allocate, and they never block or do I/O. Nothing
// in this package may panic on a malformed payload; bad input is an error.
package media

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/callrec/callrec/media/g711"
	"github.com/callrec/callrec/media/g722"
	"github.com/thesyncim/gopus"
)

// Decoder turns the RTP payloads of one stream into mono PCM. It keeps
// per-stream state (ADPCM predictor, resampler history, Opus state), so
// every stream needs its own.
type Decoder interface {
	// Decode appends the mono PCM at the decoder's output rate for one RTP
	// payload to dst and returns the extended slice.
	Decode(dst []int16, payload []byte) ([]int16, error)
	// Rate returns the output sample rate.
	Rate() int
}

// Encoder turns mono PCM into RTP payloads, one frame per call.
type Encoder interface {
	// Encode appends the payload for one frame of mono PCM at Rate() to
	// dst and returns the extended slice.
	Encode(dst []byte, pcm []int16) ([]byte, error)
	// Rate returns the PCM sample rate the encoder takes.
	Rate() int
	// SamplesPerFrame returns the PCM samples of one frame of ptime.
	SamplesPerFrame(ptime time.Duration) int
}

// Errors returned by the registry. They are wrapped with context; test
// with errors.Is.
var (
	// ErrUnsupported reports a codec name, clock rate or channel count the
	// registry does not handle.
	ErrUnsupported = errors.New("media: unsupported codec")
	// ErrBadRate reports an output rate other than 8000, 16000 or 48000.
	ErrBadRate = errors.New("media: unsupported output rate")
	// ErrBadFrame reports PCM whose length is not a valid frame.
	ErrBadFrame = errors.New("media: invalid frame length")
)

// Codec names as they appear in SDP rtpmap lines (RFC 3551 §6, RFC 7587 §7).
const (
	PCMU = "PCMU"
	PCMA = "PCMA"
	G722 = "G722"
	OPUS = "OPUS"
)

// canonical returns the registry's name for an SDP encoding name.
func canonical(name string) string { return strings.ToUpper(strings.TrimSpace(name)) }

// ClockRate returns the RTP clock rate a codec uses (RFC 3551 §4.5.2: G.722
// keeps an 8000 Hz clock although it samples at 16 kHz; RFC 7587 §4.1: Opus
// always 48000), or 0 for an unknown codec.
func ClockRate(name string) int {
	switch canonical(name) {
	case PCMU, PCMA, G722:
		return 8000
	case OPUS:
		return 48000
	}
	return 0
}

// Supported reports whether the registry decodes and encodes name at the
// RTP clock rate clockRate: PCMU, PCMA and G722 at 8000, OPUS at 48000.
// Names are case-insensitive.
func Supported(name string, clockRate int) bool {
	c := ClockRate(name)
	return c != 0 && c == clockRate
}

// NativeRate returns the sample rate a codec produces before any
// resampling: 8000 for PCMU and PCMA, 16000 for G722, 48000 for OPUS (the
// rate its encoder takes); 0 when Supported(name, clockRate) is false.
func NativeRate(name string, clockRate int) int {
	if !Supported(name, clockRate) {
		return 0
	}
	switch canonical(name) {
	case PCMU, PCMA:
		return 8000
	case G722:
		return 16000
	default:
		return 48000
	}
}

// ValidOutputRate reports whether NewDecoder accepts rate as outRate.
func ValidOutputRate(rate int) bool { return rate == 8000 || rate == 16000 || rate == 48000 }

// NewDecoder returns a decoder for one stream of codec name at RTP clock
// rate clockRate with the given SDP channel count (0 means 1), producing
// mono PCM at outRate (8000, 16000 or 48000). PCMU, PCMA and G722 are
// resampled by an integer ratio with a polyphase low-pass filter whose
// state carries across packets (Resampler); Opus decodes straight at
// outRate and downmixes a stereo stream to mono.
func NewDecoder(name string, clockRate, channels, outRate int) (Decoder, error) {
	if !Supported(name, clockRate) {
		return nil, fmt.Errorf("media: decoder %s/%d: %w", name, clockRate, ErrUnsupported)
	}
	if !ValidOutputRate(outRate) {
		return nil, fmt.Errorf("media: decoder %s/%d to %d Hz: %w", name, clockRate, outRate, ErrBadRate)
	}
	codec := canonical(name)
	if err := checkChannels(codec, channels); err != nil {
		return nil, err
	}
	switch codec {
	case PCMU, PCMA:
		rs, err := NewResampler(8000, outRate)
		if err != nil {
			return nil, err
		}
		return &g711Decoder{alaw: codec == PCMA, rs: rs, rate: outRate}, nil
	case G722:
		rs, err := NewResampler(16000, outRate)
		if err != nil {
			return nil, err
		}
		return &g722Decoder{dec: g722.NewDecoder(), rs: rs, rate: outRate}, nil
	default:
		return newOpusDecoder(outRate)
	}
}

// NewEncoder returns an encoder of codec name at RTP clock rate clockRate
// for mono PCM at its native rate (NativeRate). For OPUS, channels may be
// 1 or 2 (SDP always says 2, RFC 7587 §7); the stream is mono either way.
// Opus uses gopus in its VoIP application mode.
func NewEncoder(name string, clockRate, channels int) (Encoder, error) {
	if !Supported(name, clockRate) {
		return nil, fmt.Errorf("media: encoder %s/%d: %w", name, clockRate, ErrUnsupported)
	}
	codec := canonical(name)
	if err := checkChannels(codec, channels); err != nil {
		return nil, err
	}
	switch codec {
	case PCMU, PCMA:
		return &g711Encoder{alaw: codec == PCMA}, nil
	case G722:
		return &g722Encoder{enc: g722.NewEncoder()}, nil
	default:
		return newOpusEncoder()
	}
}

func checkChannels(codec string, channels int) error {
	maxCh := 1
	if codec == OPUS {
		maxCh = 2
	}
	if channels < 0 || channels > maxCh {
		return fmt.Errorf("media: %s with %d channels: %w", codec, channels, ErrUnsupported)
	}
	return nil
}

// Compile-time checks that every codec satisfies the interfaces.
var (
	_ Decoder = (*g711Decoder)(nil)
	_ Decoder = (*g722Decoder)(nil)
	_ Decoder = (*opusDecoder)(nil)
	_ Encoder = (*g711Encoder)(nil)
	_ Encoder = (*g722Encoder)(nil)
	_ Encoder = (*opusEncoder)(nil)
)

// grow extends dst by n samples and returns the whole slice and the new
// tail; it allocates only when dst lacks capacity.
func grow(dst []int16, n int) (all, tail []int16) {
	l := len(dst)
	dst = slices.Grow(dst, n)[:l+n]
	return dst, dst[l:]
}

// g711Decoder decodes PCMU or PCMA, resampling 8 kHz to the output rate.
type g711Decoder struct {
	alaw    bool
	rs      *Resampler
	rate    int
	scratch []int16
}

func (d *g711Decoder) Rate() int { return d.rate }

func (d *g711Decoder) Decode(dst []int16, payload []byte) ([]int16, error) {
	if d.rate == 8000 {
		all, tail := grow(dst, len(payload))
		d.decode(tail, payload)
		return all, nil
	}
	if cap(d.scratch) < len(payload) {
		d.scratch = make([]int16, len(payload))
	}
	pcm := d.scratch[:len(payload)]
	d.decode(pcm, payload)
	return d.rs.Process(dst, pcm), nil
}

func (d *g711Decoder) decode(dst []int16, payload []byte) {
	if d.alaw {
		g711.DecodeAlaw(dst, payload)
	} else {
		g711.DecodeUlaw(dst, payload)
	}
}

// g722Decoder decodes G.722 at 16 kHz and resamples to the output rate.
type g722Decoder struct {
	dec     *g722.Decoder
	rs      *Resampler
	rate    int
	scratch []int16
}

func (d *g722Decoder) Rate() int { return d.rate }

func (d *g722Decoder) Decode(dst []int16, payload []byte) ([]int16, error) {
	n := 2 * len(payload)
	if d.rate == 16000 {
		all, tail := grow(dst, n)
		d.dec.Decode(tail, payload)
		return all, nil
	}
	if cap(d.scratch) < n {
		d.scratch = make([]int16, n)
	}
	pcm := d.scratch[:n]
	d.dec.Decode(pcm, payload)
	return d.rs.Process(dst, pcm), nil
}

// maxOpusFrame is the longest Opus packet duration (RFC 6716 §3.2.5).
const maxOpusFrame = 120 * time.Millisecond

// opusDecoder decodes Opus at the output rate with a mono decoder. Opus
// decoders may output fewer channels than a stream carries; a mono decoder
// mixes a stereo packet down (mid channel, (L+R)/2), which is what the
// recorder wants and costs less than decoding stereo and mixing after.
type opusDecoder struct {
	dec     *gopus.Decoder
	rate    int
	scratch []int16
}

func newOpusDecoder(outRate int) (*opusDecoder, error) {
	maxSamples := int(int64(outRate) * int64(maxOpusFrame) / int64(time.Second))
	cfg := gopus.DefaultDecoderConfig(outRate, 1)
	dec, err := gopus.NewDecoder(cfg)
	if err != nil {
		return nil, fmt.Errorf("media: opus decoder at %d Hz: %w", outRate, err)
	}
	return &opusDecoder{dec: dec, rate: outRate, scratch: make([]int16, maxSamples)}, nil
}

func (d *opusDecoder) Rate() int { return d.rate }

// Decode decodes one Opus packet. An empty payload yields no samples (gaps
// are filled by the caller); it does not run loss concealment.
func (d *opusDecoder) Decode(dst []int16, payload []byte) ([]int16, error) {
	if len(payload) == 0 {
		return dst, nil
	}
	n, err := d.dec.DecodeInt16(payload, d.scratch)
	if err != nil {
		return dst, fmt.Errorf("media: opus decode %d bytes: %w", len(payload), err)
	}
	return append(dst, d.scratch[:n]...), nil
}

// g711Encoder encodes 8 kHz PCM as PCMU or PCMA.
type g711Encoder struct{ alaw bool }

func (e *g711Encoder) Rate() int { return 8000 }

func (e *g711Encoder) SamplesPerFrame(ptime time.Duration) int { return samplesPer(8000, ptime) }

func (e *g711Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	l := len(dst)
	dst = slices.Grow(dst, len(pcm))[:l+len(pcm)]
	if e.alaw {
		g711.EncodeAlaw(dst[l:], pcm)
	} else {
		g711.EncodeUlaw(dst[l:], pcm)
	}
	return dst, nil
}

// g722Encoder encodes 16 kHz PCM as G.722 at 64 kbit/s.
type g722Encoder struct{ enc *g722.Encoder }

func (e *g722Encoder) Rate() int { return 16000 }

func (e *g722Encoder) SamplesPerFrame(ptime time.Duration) int { return samplesPer(16000, ptime) }

func (e *g722Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm)%2 != 0 {
		return dst, fmt.Errorf("media: G722 frame of %d samples is odd: %w", len(pcm), ErrBadFrame)
	}
	l := len(dst)
	dst = slices.Grow(dst, len(pcm)/2)[:l+len(pcm)/2]
	e.enc.Encode(dst[l:], pcm)
	return dst, nil
}

// opusEncoder encodes 48 kHz mono PCM with gopus in VoIP mode.
type opusEncoder struct {
	enc   *gopus.Encoder
	frame int
	buf   []byte
}

// maxOpusPacket bounds one encoded packet; libopus recommends 4000 bytes.
const maxOpusPacket = 4000

func newOpusEncoder() (*opusEncoder, error) {
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: 48000, Channels: 1, Application: gopus.ApplicationVoIP})
	if err != nil {
		return nil, fmt.Errorf("media: opus encoder: %w", err)
	}
	return &opusEncoder{enc: enc, frame: enc.FrameSize(), buf: make([]byte, maxOpusPacket)}, nil
}

func (e *opusEncoder) Rate() int { return 48000 }

func (e *opusEncoder) SamplesPerFrame(ptime time.Duration) int { return samplesPer(48000, ptime) }

// Encode encodes one frame; its length sets the frame duration (2.5, 5,
// 10, 20, 40 or 60 ms at 48 kHz).
func (e *opusEncoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm) != e.frame {
		if err := e.enc.SetFrameSize(len(pcm)); err != nil {
			return dst, fmt.Errorf("media: opus frame of %d samples: %w: %w", len(pcm), ErrBadFrame, err)
		}
		e.frame = len(pcm)
	}
	n, err := e.enc.EncodeInt16(pcm, e.buf)
	if err != nil {
		return dst, fmt.Errorf("media: opus encode: %w", err)
	}
	return append(dst, e.buf[:n]...), nil
}

func samplesPer(rate int, ptime time.Duration) int {
	if ptime <= 0 {
		return 0
	}
	return int(int64(rate) * int64(ptime) / int64(time.Second))
}
