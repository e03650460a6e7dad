package tone

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func sine(n, rate int, f, a float64) []int16 {
	s := make([]int16, n)
	Sine(s, rate, f, a, nil)
	return s
}

func mix(sigs ...[]int16) []int16 {
	out := make([]int16, len(sigs[0]))
	for _, s := range sigs {
		for i, v := range s {
			out[i] += v
		}
	}
	return out
}

func TestSine(t *testing.T) {
	t.Run("samples follow A·sin(2πft/rate)", func(t *testing.T) {
		s := sine(80, 8000, 1000, 0.5)
		for i, v := range s {
			want := math.Round(0.5 * 32767 * math.Sin(2*math.Pi*1000*float64(i)/8000))
			if float64(v) != want {
				t.Fatalf("sample %d = %d, want %v", i, v, want)
			}
		}
	})
	t.Run("phase continues across calls", func(t *testing.T) {
		whole := sine(1000, 16000, 437, 0.8)
		var ph float64
		parts := make([]int16, 1000)
		Sine(parts[:333], 16000, 437, 0.8, &ph)
		Sine(parts[333:], 16000, 437, 0.8, &ph)
		for i := range whole {
			if d := int(whole[i]) - int(parts[i]); d < -1 || d > 1 {
				t.Fatalf("sample %d: one call %d, two calls %d", i, whole[i], parts[i])
			}
		}
	})
	t.Run("amplitude above full scale clips", func(t *testing.T) {
		s := sine(100, 8000, 200, 2)
		for _, v := range s {
			if v == 32767 || v == -32768 {
				return
			}
		}
		t.Fatal("no clipped sample")
	})
	t.Run("zero rate gives silence", func(t *testing.T) {
		s := []int16{1, 2, 3}
		Sine(s, 0, 1000, 1, nil)
		if s[0] != 0 || s[2] != 0 {
			t.Fatalf("got %v", s)
		}
	})
}

func TestPower(t *testing.T) {
	tests := []struct {
		name      string
		n, rate   int
		f, a      float64
		probe     float64
		want, tol float64
	}{
		{"full-scale 1 kHz, 1 s at 8 kHz", 8000, 8000, 1000, 1, 1000, 1, 0.01},
		{"full-scale 1 kHz, 20 ms at 8 kHz", 160, 8000, 1000, 1, 1000, 1, 0.02},
		{"off-bin 1003 Hz, 20 ms", 160, 8000, 1003, 1, 1003, 1, 0.02},
		{"quarter amplitude gives 1/16", 4000, 16000, 2500, 0.25, 2500, 0.0625, 0.001},
		{"odd length 777 samples", 777, 48000, 440, 0.5, 440, 0.25, 0.005},
		{"distant frequency is near zero", 8000, 8000, 1000, 1, 3000, 0, 1e-6},
		{"neighbour 200 Hz away, 20 ms", 160, 8000, 1000, 1, 1200, 0, 1e-3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sine(tc.n, tc.rate, tc.f, tc.a)
			got := Power(s, tc.rate, tc.probe)
			if math.Abs(got-tc.want) > tc.tol {
				t.Errorf("Power = %.6f, want %.6f ± %g", got, tc.want, tc.tol)
			}
		})
	}
	t.Run("mixed signal: each component keeps its own power", func(t *testing.T) {
		s := mix(sine(8000, 8000, 1000, 0.5), sine(8000, 8000, 2500, 0.25))
		if p := Power(s, 8000, 1000); math.Abs(p-0.25) > 0.003 {
			t.Errorf("1 kHz power %.4f, want 0.25", p)
		}
		if p := Power(s, 8000, 2500); math.Abs(p-0.0625) > 0.002 {
			t.Errorf("2.5 kHz power %.4f, want 0.0625", p)
		}
		if p := Power(s, 8000, 1700); p > 1e-4 {
			t.Errorf("1.7 kHz power %.6f, want ~0", p)
		}
	})
	t.Run("empty and bad rate", func(t *testing.T) {
		if Power(nil, 8000, 1000) != 0 || Power([]int16{1}, 0, 1) != 0 {
			t.Error("want 0")
		}
	})
}

func TestDominant(t *testing.T) {
	s := mix(sine(1600, 8000, 1000, 0.5), sine(1600, 8000, 2000, 0.25))
	tests := []struct {
		name       string
		samples    []int16
		cands      []float64
		wantF      float64
		minR, maxR float64
	}{
		{"1 kHz over 2 kHz by 4x", s, []float64{500, 1000, 2000}, 1000, 3.8, 4.2},
		{"order of candidates does not matter", s, []float64{2000, 500, 1000}, 1000, 3.8, 4.2},
		{"single candidate: infinite ratio", s, []float64{1000}, 1000, math.Inf(1), math.Inf(1)},
		{"silence", make([]int16, 800), []float64{1000, 2000}, 1000, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, r := Dominant(tc.samples, 8000, tc.cands)
			if f != tc.wantF || r < tc.minR || r > tc.maxR {
				t.Errorf("Dominant = (%v, %v), want (%v, [%v,%v])", f, r, tc.wantF, tc.minR, tc.maxR)
			}
		})
	}
	if f, r := Dominant(s, 8000, nil); f != 0 || r != 0 {
		t.Errorf("no candidates: (%v, %v)", f, r)
	}
}

func TestRMS(t *testing.T) {
	square := make([]int16, 100)
	for i := range square {
		square[i] = 32767
		if i%2 == 1 {
			square[i] = -32768
		}
	}
	tests := []struct {
		name      string
		s         []int16
		want, tol float64
	}{
		{"full-scale square", square, 1, 1e-4},
		{"full-scale sine", sine(8000, 8000, 1000, 1), 1 / math.Sqrt2, 1e-3},
		{"half-scale sine", sine(8000, 8000, 1000, 0.5), 0.5 / math.Sqrt2, 1e-3},
		{"silence", make([]int16, 10), 0, 0},
		{"empty", nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RMS(tc.s); math.Abs(got-tc.want) > tc.tol {
				t.Errorf("RMS = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSilentRuns(t *testing.T) {
	const rate = 8000
	ms := func(d int) int { return d * rate / 1000 }
	var s []int16
	s = append(s, sine(ms(1000), rate, 1000, 0.5)...)
	s = append(s, make([]int16, ms(300))...) // long pause
	s = append(s, sine(ms(500), rate, 700, 0.5)...)
	s = append(s, make([]int16, ms(50))...) // short gap: too short
	s = append(s, sine(ms(500), rate, 700, 0.01)...)
	// quiet tone at -43 dBFS RMS: silent at a -40 dB threshold
	s = append(s, sine(ms(200), rate, 700, 0.5)...)
	s = append(s, make([]int16, ms(205))...) // trailing, partial window
	threshold := math.Pow(10, -40.0/20)

	got := SilentRuns(s, rate, threshold, 100*time.Millisecond)
	want := []Span{
		{ms(1000), ms(1300)},
		{ms(1800), ms(2350)}, // 50 ms gap and the quiet tone merge
		{ms(2550), len(s)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SilentRuns = %v, want %v", got, want)
	}
	if got := SilentRuns(s, rate, threshold, 400*time.Millisecond); !reflect.DeepEqual(got, want[1:2]) {
		t.Errorf("minLen 400 ms: %v, want %v", got, want[1:2])
	}
	if got := SilentRuns(s, rate, 0, 0); got != nil {
		t.Errorf("zero threshold: %v", got)
	}
	if got := SilentRuns(nil, rate, 1, 0); got != nil {
		t.Errorf("empty: %v", got)
	}
	if got := SilentRuns(make([]int16, 80), rate, 0.1, 0); !reflect.DeepEqual(got, []Span{{0, 80}}) {
		t.Errorf("all silent: %v", got)
	}
}
