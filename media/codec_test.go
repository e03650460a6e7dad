package media

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/callrec/callrec/media/tone"
	"github.com/thesyncim/gopus"
)

func TestSupportedAndNativeRate(t *testing.T) {
	tests := []struct {
		name   string
		clock  int
		ok     bool
		native int
	}{
		{"PCMU", 8000, true, 8000},
		{"pcmu", 8000, true, 8000},
		{"PCMA", 8000, true, 8000},
		{"G722", 8000, true, 16000},
		{"g722", 8000, true, 16000},
		{"G722", 16000, false, 0}, // RFC 3551: the RTP clock is 8000
		{"opus", 48000, true, 48000},
		{"OPUS", 48000, true, 48000},
		{"opus", 16000, false, 0},
		{"PCMU", 16000, false, 0},
		{"G729", 8000, false, 0},
		{"telephone-event", 8000, false, 0},
		{"", 0, false, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%d", tc.name, tc.clock), func(t *testing.T) {
			if got := Supported(tc.name, tc.clock); got != tc.ok {
				t.Errorf("Supported = %v, want %v", got, tc.ok)
			}
			if got := NativeRate(tc.name, tc.clock); got != tc.native {
				t.Errorf("NativeRate = %d, want %d", got, tc.native)
			}
		})
	}
}

func TestConstructorErrors(t *testing.T) {
	tests := []struct {
		name            string
		codec           string
		clock, ch, rate int
		want            error
	}{
		{"unknown codec", "G729", 8000, 1, 8000, ErrUnsupported},
		{"wrong clock", "PCMU", 48000, 1, 8000, ErrUnsupported},
		{"stereo G.711", "PCMA", 8000, 2, 8000, ErrUnsupported},
		{"three-channel opus", "opus", 48000, 3, 48000, ErrUnsupported},
		{"44.1 kHz output", "PCMU", 8000, 1, 44100, ErrBadRate},
		{"12 kHz output", "opus", 48000, 2, 12000, ErrBadRate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewDecoder(tc.codec, tc.clock, tc.ch, tc.rate); !errors.Is(err, tc.want) {
				t.Errorf("NewDecoder error %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := NewEncoder("G729", 8000, 1); !errors.Is(err, ErrUnsupported) {
		t.Errorf("NewEncoder(G729) error %v", err)
	}
}

func TestSamplesPerFrame(t *testing.T) {
	for _, tc := range []struct {
		codec string
		clock int
		ptime time.Duration
		want  int
	}{
		{"PCMU", 8000, 20 * time.Millisecond, 160},
		{"PCMA", 8000, 30 * time.Millisecond, 240},
		{"G722", 8000, 20 * time.Millisecond, 320},
		{"OPUS", 48000, 20 * time.Millisecond, 960},
		{"OPUS", 48000, 10 * time.Millisecond, 480},
	} {
		e, err := NewEncoder(tc.codec, tc.clock, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.SamplesPerFrame(tc.ptime); got != tc.want {
			t.Errorf("%s %v: %d samples, want %d", tc.codec, tc.ptime, got, tc.want)
		}
	}
}

// TestRoundTripTone encodes a tone with each encoder in 20 ms frames,
// decodes it at each output rate and checks that the tone arrives at the
// right frequency and level, with nothing else of note.
func TestRoundTripTone(t *testing.T) {
	const (
		freq = 1000.0
		amp  = 0.5
	)
	candidates := []float64{300, 700, 1000, 1400, 2000, 3000}
	codecs := []struct {
		name  string
		clock int
		tolDB float64 // level tolerance
	}{
		{"PCMU", 8000, 0.2},
		{"PCMA", 8000, 0.2},
		{"G722", 8000, 0.5},
		{"OPUS", 48000, 1.5},
	}
	for _, c := range codecs {
		for _, outRate := range []int{8000, 16000, 48000} {
			t.Run(fmt.Sprintf("%s to %d Hz", c.name, outRate), func(t *testing.T) {
				enc, err := NewEncoder(c.name, c.clock, 1)
				if err != nil {
					t.Fatal(err)
				}
				dec, err := NewDecoder(c.name, c.clock, 1, outRate)
				if err != nil {
					t.Fatal(err)
				}
				if dec.Rate() != outRate {
					t.Fatalf("Rate() = %d", dec.Rate())
				}
				spf := enc.SamplesPerFrame(20 * time.Millisecond)
				pcm := make([]int16, spf)
				var phase float64
				var out []int16
				var payload []byte
				const frames = 50
				for range frames {
					tone.Sine(pcm, enc.Rate(), freq, amp, &phase)
					payload, err = enc.Encode(payload[:0], pcm)
					if err != nil {
						t.Fatal(err)
					}
					out, err = dec.Decode(out, payload)
					if err != nil {
						t.Fatal(err)
					}
				}
				if want := frames * outRate / 50; len(out) != want {
					t.Fatalf("decoded %d samples, want %d", len(out), want)
				}
				steady := out[outRate/5:] // after 200 ms
				f, ratio := tone.Dominant(steady, outRate, candidates)
				if f != freq || ratio < 100 {
					t.Errorf("dominant %v Hz, %.1f dB over the next; want %v Hz by 20 dB", f, dB(ratio), freq)
				}
				p := tone.Power(steady, outRate, freq)
				if d := dB(p / (amp * amp)); math.Abs(d) > c.tolDB {
					t.Errorf("tone level off by %.2f dB (tolerance %.1f)", d, c.tolDB)
				}
			})
		}
	}
}

// TestG722HighBand checks that a 5 kHz tone, which only the G.722 higher
// band carries, survives decoding at 16 and 48 kHz, and is removed (not
// aliased to 3 kHz) at 8 kHz.
func TestG722HighBand(t *testing.T) {
	enc, _ := NewEncoder("G722", 8000, 1)
	pcm := sine(16000, 16000, 5000, 0.4)
	payload, _ := enc.Encode(nil, pcm)
	for _, outRate := range []int{16000, 48000, 8000} {
		dec, err := NewDecoder("G722", 8000, 1, outRate)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := dec.Decode(nil, payload)
		steady := out[outRate/5:]
		p5 := tone.Power(steady, outRate, 5000)
		if outRate == 8000 {
			// The 5 kHz tone would alias to 3 kHz. What remains below
			// 4 kHz is the low band's coding noise.
			alias := tone.Power(steady, outRate, 3000)
			rms := tone.RMS(steady)
			t.Logf("8 kHz output: 3 kHz alias %.1f dB, total %.1f dB below the tone", dB(alias/0.16), dB(rms*rms/0.08))
			if dB(alias/0.16) > -50 || dB(rms*rms/0.08) > -30 {
				t.Errorf("8 kHz output keeps too much of a 5 kHz tone")
			}
			continue
		}
		if d := dB(p5 / 0.16); math.Abs(d) > 1.5 {
			t.Errorf("%d Hz: 5 kHz level off by %.1f dB", outRate, d)
		}
	}
}

// TestOpusStereoDownmix sends a stereo Opus stream with different tones
// left and right; the mono output must carry both.
func TestOpusStereoDownmix(t *testing.T) {
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: 48000, Channels: 2, Application: gopus.ApplicationAudio})
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.SetBitrate(96000); err != nil {
		t.Fatal(err)
	}
	for _, outRate := range []int{8000, 16000, 48000} {
		dec, err := NewDecoder("opus", 48000, 2, outRate)
		if err != nil {
			t.Fatal(err)
		}
		var phL, phR float64
		left, right := make([]int16, 960), make([]int16, 960)
		inter := make([]int16, 1920)
		pkt := make([]byte, 4000)
		var out []int16
		for range 50 {
			tone.Sine(left, 48000, 700, 0.4, &phL)
			tone.Sine(right, 48000, 1500, 0.4, &phR)
			for i := range left {
				inter[2*i], inter[2*i+1] = left[i], right[i]
			}
			n, err := enc.EncodeInt16(inter, pkt)
			if err != nil {
				t.Fatal(err)
			}
			if out, err = dec.Decode(out, pkt[:n]); err != nil {
				t.Fatal(err)
			}
		}
		steady := out[outRate/5:]
		pl, pr := tone.Power(steady, outRate, 700), tone.Power(steady, outRate, 1500)
		// Mid downmix (L+R)/2: each tone at half amplitude, power 0.04.
		for _, p := range []float64{pl, pr} {
			if d := dB(p / 0.04); math.Abs(d) > 3 {
				t.Errorf("%d Hz: tone power %.4f, want about 0.04 (%.1f dB off)", outRate, p, d)
			}
		}
	}
}

func TestEncoderErrors(t *testing.T) {
	g, _ := NewEncoder("G722", 8000, 1)
	if _, err := g.Encode(nil, make([]int16, 321)); !errors.Is(err, ErrBadFrame) {
		t.Errorf("odd G722 frame: %v", err)
	}
	o, err := NewEncoder("OPUS", 48000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Encode(nil, make([]int16, 1000)); !errors.Is(err, ErrBadFrame) {
		t.Errorf("1000-sample opus frame: %v", err)
	}
	// A valid size after an invalid one still works.
	if p, err := o.Encode(nil, make([]int16, 480)); err != nil || len(p) == 0 {
		t.Errorf("10 ms opus frame: %d bytes, %v", len(p), err)
	}
}

func TestOpusDecodeGarbage(t *testing.T) {
	dec, err := NewDecoder("opus", 48000, 2, 16000)
	if err != nil {
		t.Fatal(err)
	}
	// TOC code 3 with a frame count of 0 is invalid (RFC 6716 §3.2.5).
	out, err := dec.Decode(make([]int16, 3), []byte{0x03, 0x00})
	if err == nil {
		t.Fatal("want an error for a malformed packet")
	}
	if len(out) != 3 {
		t.Errorf("dst changed on error: len %d", len(out))
	}
	if out, err := dec.Decode(nil, nil); err != nil || len(out) != 0 {
		t.Errorf("empty payload: %d samples, %v", len(out), err)
	}
}

// TestDecodeAllocations requires decoders not to allocate per packet once
// dst has capacity.
func TestDecodeAllocations(t *testing.T) {
	for _, tc := range []struct {
		codec   string
		clock   int
		outRate int
	}{
		{"PCMU", 8000, 8000}, {"PCMU", 8000, 16000}, {"PCMA", 8000, 48000},
		{"G722", 8000, 16000}, {"G722", 8000, 8000}, {"G722", 8000, 48000},
		{"OPUS", 48000, 48000}, {"OPUS", 48000, 16000}, {"OPUS", 48000, 8000},
	} {
		t.Run(fmt.Sprintf("%s to %d", tc.codec, tc.outRate), func(t *testing.T) {
			payload := encodedFrame(t, tc.codec, tc.clock)
			dec, err := NewDecoder(tc.codec, tc.clock, 1, tc.outRate)
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]int16, 0, 2000)
			if _, err := dec.Decode(dst, payload); err != nil { // warm-up
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := dec.Decode(dst[:0], payload); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per packet", allocs)
			}
		})
	}
}

// encodedFrame returns one 20 ms frame of a 1 kHz tone in the codec.
func encodedFrame(t testing.TB, codec string, clock int) []byte {
	t.Helper()
	enc, err := NewEncoder(codec, clock, 1)
	if err != nil {
		t.Fatal(err)
	}
	pcm := sine(enc.SamplesPerFrame(20*time.Millisecond), enc.Rate(), 1000, 0.5)
	var p []byte
	for range 5 { // let stateful encoders settle
		if p, err = enc.Encode(p[:0], pcm); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// FuzzDecode feeds arbitrary payloads to every decoder: no panic, and the
// sample count of the fixed-rate codecs follows from the payload length.
func FuzzDecode(f *testing.F) {
	f.Add(uint8(0), []byte{0xFF, 0x7F, 0x00})
	f.Add(uint8(2), []byte{0x3F, 0xC0, 0x12})
	f.Add(uint8(3), []byte{0xFC, 0xFF, 0xFE})
	f.Add(uint8(3), []byte{0x03, 0x00})
	for _, c := range []struct {
		i     uint8
		codec string
		clock int
	}{{0, "PCMU", 8000}, {2, "G722", 8000}, {3, "OPUS", 48000}} {
		f.Add(c.i, encodedFrame(f, c.codec, c.clock))
	}
	codecs := []struct {
		name  string
		clock int
	}{{"PCMU", 8000}, {"PCMA", 8000}, {"G722", 8000}, {"OPUS", 48000}}
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		c := codecs[int(which)%len(codecs)]
		for _, rate := range []int{8000, 16000, 48000} {
			dec, err := NewDecoder(c.name, c.clock, 1, rate)
			if err != nil {
				t.Fatal(err)
			}
			out, err := dec.Decode(nil, payload)
			out, err2 := dec.Decode(out, payload)
			switch c.name {
			case "PCMU", "PCMA":
				if err != nil || err2 != nil || len(out) != 2*len(payload)*rate/8000 {
					t.Fatalf("%s at %d: %d samples for 2×%d bytes, %v %v", c.name, rate, len(out), len(payload), err, err2)
				}
			case "G722":
				// 16 kHz to 8 kHz halves an even count exactly.
				if err != nil || err2 != nil || len(out) != 2*2*len(payload)*rate/16000 {
					t.Fatalf("G722 at %d: %d samples for 2×%d bytes, %v %v", rate, len(out), len(payload), err, err2)
				}
			default:
				if err == nil && len(out) > 2*rate*120/1000 {
					t.Fatalf("opus: %d samples from two packets", len(out))
				}
			}
		}
	})
}

func benchDecode(b *testing.B, codec string, clock, outRate int) {
	payload := encodedFrame(b, codec, clock)
	dec, err := NewDecoder(codec, clock, 1, outRate)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]int16, 0, 2000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(dst[:0], payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePCMUTo8k(b *testing.B)  { benchDecode(b, "PCMU", 8000, 8000) }
func BenchmarkDecodePCMUTo16k(b *testing.B) { benchDecode(b, "PCMU", 8000, 16000) }
func BenchmarkDecodePCMUTo48k(b *testing.B) { benchDecode(b, "PCMU", 8000, 48000) }
func BenchmarkDecodeG722To16k(b *testing.B) { benchDecode(b, "G722", 8000, 16000) }
func BenchmarkDecodeOpusTo48k(b *testing.B) { benchDecode(b, "OPUS", 48000, 48000) }
func BenchmarkDecodeOpusTo16k(b *testing.B) { benchDecode(b, "OPUS", 48000, 16000) }
