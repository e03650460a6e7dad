package prompt

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/tone"
)

var codecs = []string{media.PCMU, media.PCMA, media.G722, media.OPUS}

// sine returns ms milliseconds of a freq Hz sine at rate Hz and amplitude
// 0.5 of full scale.
func sine(rate int, freq float64, ms int) []int16 {
	pcm := make([]int16, rate*ms/1000)
	tone.Sine(pcm, rate, freq, 0.5, nil)
	return pcm
}

// playAll pulls every packet from p, checking the done flag comes with
// the last one, and returns the payloads.
func playAll(t *testing.T, p *Player) [][]byte {
	t.Helper()
	var pkts [][]byte
	buf := make([]byte, 1500)
	for i := 0; ; i++ {
		if i > p.Packets() {
			t.Fatalf("more than Packets() = %d packets", p.Packets())
		}
		n, done := p.Next(buf)
		if n == 0 {
			t.Fatalf("packet %d empty (done %v, err %v)", i, done, p.Err())
		}
		pkts = append(pkts, slices.Clone(buf[:n]))
		if done {
			break
		}
	}
	if n, done := p.Next(buf); n != 0 || !done {
		t.Errorf("Next after the end = (%d, %v), want (0, true)", n, done)
	}
	if err := p.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}
	return pkts
}

// decodeAll decodes payloads of codec with the registry's decoder to PCM
// at outRate.
func decodeAll(t *testing.T, codec string, pkts [][]byte, outRate int) []int16 {
	t.Helper()
	dec, err := media.NewDecoder(codec, media.ClockRate(codec), 1, outRate)
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	for i, pl := range pkts {
		if out, err = dec.Decode(out, pl); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	return out
}

// TestPlayerSineRoundTrip: a sine played through each codec, from each
// input rate, decodes back to the same frequency at about the same level,
// in as many 20 ms packets as its duration needs (the last one padded).
func TestPlayerSineRoundTrip(t *testing.T) {
	freqs := []float64{440, 1000, 1400, 620}
	cands := []float64{350, 440, 620, 1000, 1400, 2000, 3000}
	for ci, codec := range codecs {
		for ri, rate := range []int{8000, 16000, 48000} {
			freq := freqs[(ci+ri)%len(freqs)]
			t.Run(fmt.Sprintf("%s/from_%dHz/%gHz", codec, rate, freq), func(t *testing.T) {
				in := sine(rate, freq, 1010) // 50.5 packets: 51
				p, err := NewPlayer(in, rate, codec)
				if err != nil {
					t.Fatal(err)
				}
				if p.Packets() != 51 {
					t.Errorf("Packets() = %d, want 51", p.Packets())
				}
				pkts := playAll(t, p)
				if len(pkts) != 51 {
					t.Fatalf("%d packets, want 51", len(pkts))
				}
				if codec != media.OPUS {
					for i, pl := range pkts {
						if len(pl) != 160 {
							t.Fatalf("packet %d has %d bytes, want 160", i, len(pl))
						}
					}
				}
				out := decodeAll(t, codec, pkts, 8000)
				if len(out) != 51*160 {
					t.Fatalf("decoded %d samples, want %d", len(out), 51*160)
				}
				// Skip the first 100 ms (codec and resampler start-up).
				mid := out[800:8000]
				f, ratio := tone.Dominant(mid, 8000, cands)
				if f != freq || ratio < 20 {
					t.Errorf("dominant %.0f Hz (ratio %.1f), want %.0f Hz", f, ratio, freq)
				}
				want := 0.5 / math.Sqrt2
				tol := 0.1 // ±10 % (about 1 dB) for waveform codecs
				if codec == media.OPUS {
					tol = 0.3
				}
				if r := tone.RMS(mid); math.Abs(r-want) > tol*want {
					t.Errorf("RMS %.3f, want %.3f ±%.0f%%", r, want, tol*100)
				}
				// The padding after 1010 ms is silence (G.711 and G.722
				// reproduce it; Opus may ring briefly).
				if codec != media.OPUS {
					if r := tone.RMS(out[8080+40:]); r > 0.01 {
						t.Errorf("padding RMS %.4f, want silence", r)
					}
				}
			})
		}
	}
}

// TestPlayerKeepsTiming: a tone that starts 200 ms into the input starts
// 200 ms into the output whatever resampling lies between (the filter's
// delay is removed).
func TestPlayerKeepsTiming(t *testing.T) {
	// G.722's QMF analysis and synthesis filters (24 taps each at 16 kHz)
	// delay the audio by 23 samples, 1.44 ms, of their own.
	const qmfDelay = 23.0 / 16
	cases := []struct {
		codec         string
		rate, outRate int
		codecDelay    float64 // ms
	}{
		{media.PCMU, 48000, 8000, 0},
		{media.PCMA, 16000, 8000, 0},
		{media.PCMU, 8000, 8000, 0},
		{media.G722, 8000, 16000, qmfDelay},
		{media.G722, 48000, 16000, qmfDelay},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s_from_%dHz", tc.codec, tc.rate), func(t *testing.T) {
			in := make([]int16, tc.rate/2) // 500 ms
			copy(in[tc.rate/5:], sine(tc.rate, 1000, 300))
			p, err := NewPlayer(in, tc.rate, tc.codec)
			if err != nil {
				t.Fatal(err)
			}
			out := decodeAll(t, tc.codec, playAll(t, p), tc.outRate)
			onset := slices.IndexFunc(out, func(v int16) bool { return v > 4000 || v < -4000 })
			ms := float64(onset) * 1000 / float64(tc.outRate)
			// The threshold is crossed within 0.2 ms of the sine's start;
			// an uncompensated resampler would add 1.5 ms.
			want := 200 + tc.codecDelay
			if onset < 0 || ms < want-0.1 || ms > want+0.4 {
				t.Errorf("tone starts at %.3f ms, want %.3f ms", ms, want)
			}
		})
	}
}

// TestPlayerPromptThroughPCMUIsExact: the prompts are stored as µ-law, so
// a PCMU leg hears exactly the stored samples.
func TestPlayerPromptThroughPCMUIsExact(t *testing.T) {
	pcm, _, err := Get(Compliance, "de_DE")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlayer(pcm, Rate, "pcmu")
	if err != nil {
		t.Fatal(err)
	}
	out := decodeAll(t, media.PCMU, playAll(t, p), 8000)
	if !slices.Equal(out[:len(pcm)], pcm) {
		t.Error("decoded audio differs from the prompt")
	}
	if tone.RMS(out[len(pcm):]) != 0 {
		t.Error("padding is not digital silence")
	}
	if len(out) != p.Packets()*160 || len(out)-len(pcm) >= 160 {
		t.Errorf("%d samples for a %d-sample prompt", len(out), len(pcm))
	}
}

// TestPlayerReset: after Reset, at the end or midway, the same audio plays
// again packet for packet, also when it is resampled on the way (the
// filter restarts).
func TestPlayerReset(t *testing.T) {
	cases := []struct {
		name  string
		rate  int
		codec string
	}{
		{"PCMA without resampling", 8000, media.PCMA},
		{"PCMU from 48 kHz", 48000, media.PCMU},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlayer(RepeatTone(tc.rate), tc.rate, tc.codec)
			if err != nil {
				t.Fatal(err)
			}
			first := playAll(t, p)
			if len(first) != 25 {
				t.Fatalf("repeat tone in %d packets, want 25 (500 ms)", len(first))
			}
			// Reset in the middle of the tone, where the filter and the
			// pending samples are not empty.
			p.Reset()
			buf := make([]byte, 1500)
			for range 3 {
				p.Next(buf)
			}
			p.Reset()
			second := playAll(t, p)
			if !slices.EqualFunc(first, second, slices.Equal) {
				t.Error("replay after Reset differs")
			}
		})
	}
}

func TestPlayerEmpty(t *testing.T) {
	p, err := NewPlayer(nil, 8000, media.OPUS)
	if err != nil {
		t.Fatal(err)
	}
	if p.Packets() != 0 {
		t.Errorf("Packets() = %d", p.Packets())
	}
	if n, done := p.Next(make([]byte, 1500)); n != 0 || !done {
		t.Errorf("Next = (%d, %v), want (0, true)", n, done)
	}
}

func TestPlayerShortBuffer(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			p, err := NewPlayer(sine(8000, 1000, 100), 8000, codec)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1)
			if n, done := p.Next(buf); n != 0 || !done {
				t.Errorf("Next = (%d, %v), want (0, true)", n, done)
			}
			if !errors.Is(p.Err(), ErrShortBuffer) {
				t.Errorf("Err() = %v, want ErrShortBuffer", p.Err())
			}
			if n, done := p.Next(make([]byte, 1500)); n != 0 || !done {
				t.Errorf("Next after an error = (%d, %v), want (0, true)", n, done)
			}
			p.Reset()
			if n, _ := p.Next(make([]byte, 1500)); n == 0 || p.Err() != nil {
				t.Errorf("after Reset: n = %d, err %v", n, p.Err())
			}
		})
	}
}

func TestNewPlayerErrors(t *testing.T) {
	cases := []struct {
		name  string
		rate  int
		codec string
		want  error
	}{
		{"unknown codec", 8000, "GSM", media.ErrUnsupported},
		{"empty codec", 8000, "", media.ErrUnsupported},
		{"zero rate", 0, media.PCMU, media.ErrBadRate},
		{"negative rate", -8000, media.OPUS, media.ErrBadRate},
		{"non-integer ratio", 44100, media.PCMU, nil},
		{"non-integer ratio to 16k", 11025, media.G722, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlayer(sine(8000, 440, 20), tc.rate, tc.codec)
			if err == nil || p != nil {
				t.Fatalf("NewPlayer = %v, %v; want an error", p, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPlayerTimestampStep(t *testing.T) {
	want := map[string]uint32{media.PCMU: 160, media.PCMA: 160, media.G722: 160, media.OPUS: 960}
	for _, codec := range codecs {
		p, err := NewPlayer(nil, 8000, codec)
		if err != nil {
			t.Fatal(err)
		}
		if p.TimestampStep() != want[codec] || p.Codec() != codec {
			t.Errorf("%s: step %d codec %q, want %d", codec, p.TimestampStep(), p.Codec(), want[codec])
		}
	}
}

// mallocs returns the heap allocations f makes.
func mallocs(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}

// TestPlayerNextDoesNotAllocate: Next runs in the relay's send path. Every
// packet counts, the first ones included, and so does a Load of another
// sound at the same rate. gopus grows a few buffers the first times its
// encoder switches mode on speech (NewPlayer takes its big first
// allocation out of Next), so for Opus the Player first plays two other
// prompts.
func TestPlayerNextDoesNotAllocate(t *testing.T) {
	prompt, _, err := Get(Compliance, "fr_FR")
	if err != nil {
		t.Fatal(err)
	}
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			p, err := NewPlayer(prompt, Rate, codec)
			if err != nil {
				t.Fatal(err)
			}
			beep := Beep(Rate)
			buf := make([]byte, 1500)
			if codec == media.OPUS {
				for _, lang := range []string{"en_US", "de_DE"} {
					warm, _, _ := Get(FailureEnd, lang)
					if err := p.Load(warm, Rate); err != nil {
						t.Fatal(err)
					}
					playAll(t, p)
				}
				if err := p.Load(prompt, Rate); err != nil {
					t.Fatal(err)
				}
			}
			packets := 0
			n := mallocs(func() {
				for {
					packets++
					if _, done := p.Next(buf); done {
						break
					}
				}
				if err := p.Load(beep, Rate); err != nil {
					panic(err)
				}
				for {
					packets++
					if _, done := p.Next(buf); done {
						break
					}
				}
			})
			if n != 0 {
				t.Errorf("%d allocations in %d packets", n, packets)
			}
			if p.Err() != nil {
				t.Error(p.Err())
			}
		})
	}
}

// TestPlayerLoad: one Player plays an announcement, then a tone, then
// audio at another rate, each in full and in order.
func TestPlayerLoad(t *testing.T) {
	cands := []float64{440, 1000, 1400}
	p, err := NewPlayer(sine(8000, 440, 100), 8000, media.G722)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		pcm     []int16
		rate    int
		freq    float64
		packets int
	}{
		{"sine at 8 kHz", sine(8000, 440, 100), 8000, 440, 5},
		{"beep at 8 kHz", Beep(8000), 8000, 1400, 10},
		{"sine at 48 kHz", sine(48000, 1000, 300), 48000, 1000, 15},
		{"sine at the codec's own 16 kHz", sine(16000, 440, 60), 16000, 440, 3},
	}
	for i, st := range steps {
		if i > 0 {
			if err := p.Load(st.pcm, st.rate); err != nil {
				t.Fatalf("%s: Load: %v", st.name, err)
			}
		}
		if p.Packets() != st.packets {
			t.Errorf("%s: Packets() = %d, want %d", st.name, p.Packets(), st.packets)
		}
		out := decodeAll(t, media.G722, playAll(t, p), 8000)
		if len(out) != st.packets*160 {
			t.Errorf("%s: %d samples, want %d", st.name, len(out), st.packets*160)
		}
		if f, ratio := tone.Dominant(out[80:], 8000, cands); f != st.freq || ratio < 10 {
			t.Errorf("%s: dominant %.0f Hz (ratio %.1f), want %.0f Hz", st.name, f, ratio, st.freq)
		}
	}
	// A bad rate leaves the Player silent, not playing the old audio.
	if err := p.Load(sine(8000, 440, 100), 44100); err == nil {
		t.Fatal("Load at 44100 Hz into G.722: no error")
	}
	if n, done := p.Next(make([]byte, 1500)); n != 0 || !done || p.Packets() != 0 {
		t.Errorf("after a failed Load: Next = (%d, %v), Packets() = %d", n, done, p.Packets())
	}
	if err := p.Load(nil, 0); !errors.Is(err, media.ErrBadRate) {
		t.Errorf("Load at 0 Hz: err = %v, want ErrBadRate", err)
	}
}

func benchmarkNext(b *testing.B, codec string) {
	pcm, _, err := Get(Compliance, "en_US")
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewPlayer(pcm, Rate, codec)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1500)
	b.ReportAllocs()
	for b.Loop() {
		if _, done := p.Next(buf); done {
			p.Reset()
		}
	}
}

// BenchmarkPlayerNext measures one 20 ms packet of a prompt.
func BenchmarkPlayerNext(b *testing.B) {
	for _, codec := range codecs {
		b.Run(codec, func(b *testing.B) { benchmarkNext(b, codec) })
	}
}
