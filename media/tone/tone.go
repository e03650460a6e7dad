// Package tone makes test tones and measures them: sine generation, the
// power of one frequency (Goertzel), the dominant frequency among
// candidates, RMS level and silence detection. Tests, the SIPREC test client
// and the benchmarks use it to check that audio arrived where it should.
//
// Levels are normalised to 16-bit full scale: a sample of 32768 is 1.0.
// The package does no I/O, keeps no global state and must never panic on
// any input (empty slices, zero or negative rates give zero results).
package tone

import (
	"math"
	"time"
)

const fullScale = 32768.0

// Sine fills dst with a sine of freq Hz at the given sample rate and
// amplitude (a fraction of full scale, 1.0 = 32767), starting at *phase
// (radians) and leaving *phase where the next sample continues, so
// successive calls make one continuous tone. A nil phase starts at 0.
// Samples are rounded and clipped to the 16-bit range.
func Sine(dst []int16, rate int, freq float64, amplitude float64, phase *float64) {
	var ph float64
	if phase != nil {
		ph = *phase
	}
	if rate <= 0 {
		clear(dst)
		return
	}
	step := 2 * math.Pi * freq / float64(rate)
	a := amplitude * 32767
	for i := range dst {
		v := math.Round(a * math.Sin(ph))
		dst[i] = int16(max(min(v, 32767), -32768))
		ph += step
		if ph >= 2*math.Pi || ph <= -2*math.Pi {
			ph = math.Mod(ph, 2*math.Pi)
		}
	}
	if phase != nil {
		*phase = ph
	}
}

// Power returns the power of samples at freq Hz, measured with the
// Goertzel algorithm over a Hann window and normalised so that a sine of
// amplitude A (fraction of full scale) at freq gives about A² whatever the
// length: a full-scale sine gives ~1.0. Frequencies far from freq (more
// than about 4·rate/len(samples) away) contribute almost nothing.
func Power(samples []int16, rate int, freq float64) float64 {
	n := len(samples)
	if n == 0 || rate <= 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2, wsum float64
	// Hann window: w[i] = 0.5 - 0.5 cos(2πi/(n-1)), computed by a
	// rotation to avoid a cosine per sample.
	var cr, ci float64 = 1, 0
	dr, di := 1.0, 0.0
	if n > 1 {
		dr, di = math.Cos(2*math.Pi/float64(n-1)), math.Sin(2*math.Pi/float64(n-1))
	}
	for _, x := range samples {
		win := 0.5 - 0.5*cr
		if n == 1 {
			win = 1
		}
		wsum += win
		s := win*float64(x)/fullScale + coeff*s1 - s2
		s2, s1 = s1, s
		cr, ci = cr*dr-ci*di, cr*di+ci*dr
	}
	if wsum == 0 {
		return 0
	}
	// |X(f)|² = s1² + s2² − coeff·s1·s2; a sine of amplitude A gives
	// |X| ≈ A·Σw/2.
	mag2 := s1*s1 + s2*s2 - coeff*s1*s2
	return 4 * mag2 / (wsum * wsum)
}

// Dominant returns the candidate frequency with the most power in samples
// and the ratio of its power to that of the next strongest candidate
// (+Inf when that one is silent or there is no other candidate; 0 when
// there are no candidates or no signal).
func Dominant(samples []int16, rate int, candidates []float64) (freq float64, ratio float64) {
	if len(candidates) == 0 {
		return 0, 0
	}
	best, second := -1.0, -1.0
	for _, f := range candidates {
		p := Power(samples, rate, f)
		switch {
		case p > best:
			second = best
			best, freq = p, f
		case p > second:
			second = p
		}
	}
	if best <= 0 {
		return freq, 0
	}
	if second <= 0 {
		return freq, math.Inf(1)
	}
	return freq, best / second
}

// RMS returns the root mean square of samples normalised to full scale: a
// full-scale square wave gives 1.0, a full-scale sine about 0.707.
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, x := range samples {
		v := float64(x)
		sum += v * v
	}
	return math.Sqrt(sum/float64(len(samples))) / fullScale
}

// Span is a run of samples [Start, End).
type Span struct{ Start, End int }

// Len returns the number of samples in the span.
func (s Span) Len() int { return s.End - s.Start }

// SilentRuns returns the runs of samples whose RMS, measured over
// consecutive 10 ms windows, stays below threshold (normalised, see RMS)
// for at least minLen. Runs are made of whole windows; a trailing partial
// window counts as a window of its own.
func SilentRuns(samples []int16, rate int, threshold float64, minLen time.Duration) []Span {
	if rate <= 0 || len(samples) == 0 {
		return nil
	}
	win := max(rate/100, 1)
	minSamples := int(minLen.Seconds()*float64(rate) + 0.5)
	var runs []Span
	start := -1
	flush := func(end int) {
		if start >= 0 && end-start >= minSamples && end > start {
			runs = append(runs, Span{start, end})
		}
		start = -1
	}
	for off := 0; off < len(samples); off += win {
		end := min(off+win, len(samples))
		if RMS(samples[off:end]) < threshold {
			if start < 0 {
				start = off
			}
		} else {
			flush(off)
		}
	}
	flush(len(samples))
	return runs
}
