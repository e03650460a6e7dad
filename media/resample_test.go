package media

import (
	"math"
	"testing"

	"github.com/callrec/callrec/media/tone"
)

func sine(n, rate int, f, a float64) []int16 {
	s := make([]int16, n)
	tone.Sine(s, rate, f, a, nil)
	return s
}

func mustResampler(t testing.TB, in, out int) *Resampler {
	t.Helper()
	r, err := NewResampler(in, out)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// settle drops the filter's start-up transient: the first 50 ms.
func settle(s []int16, rate int) []int16 { return s[rate/20:] }

func dB(ratio float64) float64 { return 10 * math.Log10(ratio) }

func TestResampleUpKeepsToneWithoutImages(t *testing.T) {
	const a = 0.5
	for _, tc := range []struct {
		name   string
		out    int
		images []float64 // 1 kHz mirrored around multiples of 8 kHz
	}{
		{"8k to 16k", 16000, []float64{7000, 9000}},
		{"8k to 48k", 48000, []float64{7000, 9000, 15000, 17000, 23000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustResampler(t, 8000, tc.out)
			in := sine(8000, 8000, 1000, a)
			out := r.Process(nil, in)
			if len(out) != len(in)*tc.out/8000 {
				t.Fatalf("%d samples out for %d in", len(out), len(in))
			}
			out = settle(out, tc.out)
			p := tone.Power(out, tc.out, 1000)
			if d := dB(p / (a * a)); math.Abs(d) > 0.1 {
				t.Errorf("1 kHz level off by %.2f dB", d)
			}
			for _, f := range tc.images {
				if ip := tone.Power(out, tc.out, f); dB(ip/p) > -50 {
					t.Errorf("image at %v Hz only %.1f dB below the tone", f, dB(ip/p))
				}
			}
			// Everything that is not the 1 kHz tone is image or noise.
			rms := tone.RMS(out)
			if rest := rms*rms - p/2; dB(rest/(p/2)) > -45 {
				t.Errorf("energy outside the tone %.1f dB", dB(rest/(p/2)))
			}
		})
	}
}

func TestResampleDown(t *testing.T) {
	for _, tc := range []struct {
		name          string
		in, out       int
		pass, reject  float64
		minRejectionB float64
	}{
		{"48k to 8k: 1 kHz passes, 6 kHz rejected", 48000, 8000, 1000, 6000, 40},
		{"48k to 8k: 5 kHz rejected", 48000, 8000, 1000, 5000, 40},
		{"16k to 8k: 5 kHz rejected", 16000, 8000, 1000, 5000, 40},
		{"48k to 16k: 10 kHz rejected", 48000, 16000, 3000, 10000, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const a = 0.5
			r := mustResampler(t, tc.in, tc.out)
			out := r.Process(nil, sine(tc.in, tc.in, tc.pass, a))
			if len(out) != tc.out {
				t.Fatalf("%d samples out of 1 s", len(out))
			}
			if d := dB(tone.Power(settle(out, tc.out), tc.out, tc.pass) / (a * a)); math.Abs(d) > 0.1 {
				t.Errorf("%v Hz level off by %.2f dB", tc.pass, d)
			}
			r = mustResampler(t, tc.in, tc.out)
			out = settle(r.Process(nil, sine(tc.in, tc.in, tc.reject, a)), tc.out)
			in := tone.RMS(sine(tc.in, tc.in, tc.reject, a))
			got := tone.RMS(out)
			if rej := -20 * math.Log10(got/in); rej < tc.minRejectionB {
				t.Errorf("%v Hz suppressed by %.1f dB, want > %v", tc.reject, rej, tc.minRejectionB)
			} else {
				t.Logf("%v Hz suppressed by %.1f dB", tc.reject, rej)
			}
		})
	}
}

// TestResampleChunked feeds a signal in uneven chunks and requires exactly
// the output of one call: the filter state carries across calls.
func TestResampleChunked(t *testing.T) {
	for _, tc := range []struct{ in, out int }{{8000, 16000}, {8000, 48000}, {16000, 48000}, {16000, 8000}, {48000, 8000}, {48000, 16000}, {8000, 8000}} {
		r1 := mustResampler(t, tc.in, tc.out)
		r2 := mustResampler(t, tc.in, tc.out)
		src := sine(4001, tc.in, 440, 0.7)
		whole := r1.Process(nil, src)
		var parts []int16
		for off, step := 0, 1; off < len(src); off, step = off+step, step%97+13 {
			parts = r2.Process(parts, src[off:min(off+step, len(src))])
		}
		if len(whole) != len(parts) {
			t.Fatalf("%d->%d: %d samples in one call, %d in chunks", tc.in, tc.out, len(whole), len(parts))
		}
		for i := range whole {
			if whole[i] != parts[i] {
				t.Fatalf("%d->%d: sample %d differs", tc.in, tc.out, i)
			}
		}
	}
}

func TestResampleDelayAndDCGain(t *testing.T) {
	for _, tc := range []struct{ in, out int }{{8000, 16000}, {8000, 48000}, {16000, 48000}, {16000, 8000}, {48000, 8000}} {
		r := mustResampler(t, tc.in, tc.out)
		imp := make([]int16, 200)
		imp[0] = 16000
		out := r.Process(nil, imp)
		peak := 0
		for i, v := range out {
			if v > out[peak] {
				peak = i
			}
		}
		if d := r.Delay(); math.Abs(float64(peak)-d) > 0.5 {
			t.Errorf("%d->%d: impulse peaks at %d, Delay() = %v", tc.in, tc.out, peak, d)
		}
		r.Reset()
		dc := make([]int16, 2000)
		for i := range dc {
			dc[i] = 10000
		}
		out = r.Process(nil, dc)
		for _, v := range out[len(out)/2:] {
			if v < 9998 || v > 10002 {
				t.Fatalf("%d->%d: DC 10000 comes out as %d", tc.in, tc.out, v)
			}
		}
	}
}

// TestUpsamplerPassesInputSamples checks the pure-delay branch: one output
// in every `up` is the input sample itself, delayed by Delay().
func TestUpsamplerPassesInputSamples(t *testing.T) {
	for _, tc := range []struct{ in, out int }{{8000, 16000}, {16000, 48000}, {8000, 48000}} {
		r := mustResampler(t, tc.in, tc.out)
		if r.copyBranch < 0 {
			t.Fatalf("%d->%d: no pure-delay branch found", tc.in, tc.out)
		}
		src := sine(1000, tc.in, 1234, 0.9)
		out := r.Process(nil, src)
		up, _ := r.Ratio()
		d := int(r.Delay())
		if (d-r.copyBranch)%up != 0 {
			t.Fatalf("%d->%d: delay %d not on branch %d", tc.in, tc.out, d, r.copyBranch)
		}
		for n := d / up; n < len(src); n++ {
			if got := out[n*up+r.copyBranch]; got != src[n-d/up] {
				t.Fatalf("%d->%d: output %d = %d, input %d = %d", tc.in, tc.out, n*up+r.copyBranch, got, n-d/up, src[n-d/up])
			}
		}
	}
}

func TestResamplerFullScaleDoesNotWrap(t *testing.T) {
	// A full-scale square wave overshoots (Gibbs); the output must clip,
	// not wrap around.
	r := mustResampler(t, 8000, 48000)
	sq := make([]int16, 800)
	for i := range sq {
		sq[i] = 32767
		if (i/4)%2 == 1 {
			sq[i] = -32768
		}
	}
	out := r.Process(nil, sq)
	for i := 1; i < len(out); i++ {
		if d := int(out[i]) - int(out[i-1]); d > 40000 || d < -40000 {
			t.Fatalf("jump of %d at %d: wrapped", d, i)
		}
	}
}

func TestNewResamplerErrors(t *testing.T) {
	for _, tc := range []struct{ in, out int }{{8000, 12000}, {44100, 48000}, {0, 8000}, {8000, -1}} {
		if _, err := NewResampler(tc.in, tc.out); err == nil {
			t.Errorf("NewResampler(%d, %d) succeeded", tc.in, tc.out)
		}
	}
	r := mustResampler(t, 16000, 16000)
	if got := r.Process([]int16{1}, []int16{2, 3}); len(got) != 3 || got[2] != 3 {
		t.Errorf("equal rates: %v", got)
	}
}

func BenchmarkResample8kTo16k(b *testing.B) {
	r := mustResampler(b, 8000, 16000)
	src := sine(160, 8000, 1000, 0.5)
	dst := make([]int16, 0, 320)
	b.ReportAllocs()
	for b.Loop() {
		dst = r.Process(dst[:0], src)
	}
}

func BenchmarkResample8kTo48k(b *testing.B) {
	r := mustResampler(b, 8000, 48000)
	src := sine(160, 8000, 1000, 0.5)
	dst := make([]int16, 0, 960)
	b.ReportAllocs()
	for b.Loop() {
		dst = r.Process(dst[:0], src)
	}
}
