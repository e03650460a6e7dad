package media

import (
	"fmt"
	"math"
	"slices"
)

// Resampler filter design. A Kaiser-windowed sinc with resamplerTaps taps
// per polyphase branch gives a transition band about 0.15·Fl wide
// (0.425..0.575 of the lower rate Fl) with about 60 dB stopband
// attenuation: speech up to 3.4 kHz passes at 8 kHz, and the images or
// aliases of it land in the stopband. 24 taps per output sample keeps the
// 8→16 kHz upsampler near 24 multiply-adds per output sample.
const (
	resamplerTaps = 24
	kaiserBeta    = 5.65 // ≈ 0.1102·(60 − 8.7): 60 dB sidelobes
	coefShift     = 14   // coefficients in Q14; see NewResampler for the bound
)

// Resampler converts mono 16-bit PCM between two rates whose ratio is an
// integer (up or down) with a linear-phase windowed-sinc low-pass filter.
// It keeps its filter history across calls, so a stream fed packet by
// packet comes out as if resampled in one piece. The zero value is not
// usable; call NewResampler. A Resampler is not safe for concurrent use.
type Resampler struct {
	up, down int     // exactly one of them is 1 (both for equal rates)
	n        int     // taps of the prototype filter (a multiple of up·down)
	coef     []int32 // upsampling: branch p at [p·k, (p+1)·k), time-reversed
	k        int     // taps per output sample
	work     []int16 // history (k−1 or n−1 samples) followed by new input
	hist     int     // samples of history at the start of work
	next     int     // downsampling: index in work of the next output's newest input
	// copyBranch is the upsampling branch that is a pure delay (its only
	// tap, copyTap, is 1.0), or −1.
	copyBranch, copyTap int
}

// NewResampler returns a resampler from inRate to outRate. One rate must be
// an integer multiple of the other.
func NewResampler(inRate, outRate int) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 {
		return nil, fmt.Errorf("media: resample %d Hz to %d Hz: rates must be positive", inRate, outRate)
	}
	r := &Resampler{up: 1, down: 1, copyBranch: -1}
	switch {
	case outRate >= inRate && outRate%inRate == 0:
		r.up = outRate / inRate
	case inRate > outRate && inRate%outRate == 0:
		r.down = inRate / outRate
	default:
		return nil, fmt.Errorf("media: resample %d Hz to %d Hz: not an integer ratio", inRate, outRate)
	}
	ratio := r.up * r.down
	if ratio == 1 {
		return r, nil
	}
	// Prototype at the higher rate: n−1 taps (odd, so the delay is a whole
	// number of high-rate samples) plus one zero tap to fill the branches.
	r.n = resamplerTaps * ratio
	proto := make([]float64, r.n)
	c := float64(r.n-2) / 2 // centre of the n−1 real taps
	var sum float64
	for j := 0; j < r.n-1; j++ {
		x := (float64(j) - c) / float64(ratio) // cutoff at half the lower rate
		s := 1.0
		if x != 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		u := (float64(j) - c) / c
		w := bessel0(kaiserBeta*math.Sqrt(max(0, 1-u*u))) / bessel0(kaiserBeta)
		proto[j] = s * w
		sum += proto[j]
	}
	if r.up > 1 {
		// Branch p produces output phase p from input samples n, n−1, ...:
		// y[nL+p] = Σ_i h[p+iL]·x[n−i]. Stored time-reversed so that each
		// output is a dot product with the window oldest-first. Each branch
		// is normalised to a DC gain of exactly 1. The branch holding the
		// centre tap has zeros at every other tap (the sinc's zero
		// crossings): it is a pure delay and is copied, not filtered.
		r.k = resamplerTaps
		r.coef = make([]int32, r.up*r.k)
		r.copyBranch, r.copyTap = -1, -1
		for p := range r.up {
			var bsum float64
			for i := range r.k {
				bsum += proto[p+i*r.up]
			}
			br := r.coef[p*r.k : (p+1)*r.k]
			nonzero, at := 0, 0
			for i := range r.k {
				br[r.k-1-i] = quantCoef(proto[p+i*r.up] / bsum)
				if br[r.k-1-i] != 0 {
					nonzero, at = nonzero+1, r.k-1-i
				}
			}
			if nonzero == 1 && br[at] == 1<<coefShift {
				r.copyBranch, r.copyTap = p, at
			}
		}
	} else {
		// DC gain 1.
		r.k = r.n
		r.coef = make([]int32, r.n)
		for j := range r.n {
			r.coef[r.n-1-j] = quantCoef(proto[j] / sum)
		}
	}
	// The accumulator is int32: |Σ coef·x| <= Σ|coef|·32768 must stay
	// below 2^31, i.e. Σ|coef| per output below 4.0 in Q14. The sinc's
	// absolute sum is about 1.3; check it rather than trust it.
	for p := 0; p < len(r.coef); p += r.k {
		var abs int64
		for _, v := range r.coef[p : p+r.k] {
			abs += int64(max(v, -v))
		}
		if abs >= 4<<coefShift {
			return nil, fmt.Errorf("media: resampler %d->%d: filter gain %d too large", inRate, outRate, abs)
		}
	}
	r.Reset()
	return r, nil
}

func quantCoef(v float64) int32 { return int32(math.Round(v * (1 << coefShift))) }

// bessel0 is the zeroth-order modified Bessel function of the first kind
// (power series), for the Kaiser window.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}

// Reset clears the filter history, as for a new stream.
func (r *Resampler) Reset() {
	if r.k == 0 {
		return
	}
	r.hist = r.k - 1
	if cap(r.work) < r.hist {
		r.work = make([]int16, r.hist, r.hist+960)
	}
	r.work = r.work[:r.hist]
	clear(r.work)
	r.next = r.hist
}

// Ratio returns the up and down factors (one of them is 1).
func (r *Resampler) Ratio() (up, down int) { return r.up, r.down }

// Delay returns the group delay of the filter in output samples: an input
// impulse at sample 0 peaks at this output position.
func (r *Resampler) Delay() float64 {
	if r.k == 0 {
		return 0
	}
	return float64(r.n-2) / 2 / float64(r.down)
}

// Process resamples src, appends the output to dst and returns it. For an
// upsampler every input sample yields exactly up output samples; a
// downsampler yields one output per down input samples, carrying the
// remainder to the next call. It allocates only when dst or its own work
// buffer lacks capacity (the work buffer grows once to the largest input).
func (r *Resampler) Process(dst, src []int16) []int16 {
	if r.k == 0 {
		return append(dst, src...)
	}
	r.work = append(r.work, src...)
	w := r.work
	k := r.k
	if r.up > 1 {
		base := len(dst)
		dst = slices.Grow(dst, len(src)*r.up)[:base+len(src)*r.up]
		out := dst[base:]
		for i := range src {
			win := w[i : i+k]
			o := out[i*r.up : (i+1)*r.up]
			for p := range o {
				if p == r.copyBranch {
					o[p] = win[r.copyTap]
				} else {
					o[p] = dot24((*[resamplerTaps]int32)(r.coef[p*k:(p+1)*k]), (*[resamplerTaps]int16)(win))
				}
			}
		}
	} else {
		pos := r.next
		if cnt := (len(w) - pos + r.down - 1) / r.down; cnt > 0 {
			dst = slices.Grow(dst, cnt)
		}
		for ; pos < len(w); pos += r.down {
			dst = append(dst, dot(r.coef, w[pos-k+1:pos+1]))
		}
		r.next = pos - (len(w) - r.hist)
	}
	// Keep the last hist samples as the history of the next call.
	copy(w, w[len(w)-r.hist:])
	r.work = w[:r.hist]
	return dst
}

// dot24 is dot for the 24 taps of an upsampling branch, unrolled.
func dot24(c *[resamplerTaps]int32, x *[resamplerTaps]int16) int16 {
	a0 := c[0]*int32(x[0]) + c[1]*int32(x[1]) + c[2]*int32(x[2]) + c[3]*int32(x[3])
	a1 := c[4]*int32(x[4]) + c[5]*int32(x[5]) + c[6]*int32(x[6]) + c[7]*int32(x[7])
	a2 := c[8]*int32(x[8]) + c[9]*int32(x[9]) + c[10]*int32(x[10]) + c[11]*int32(x[11])
	a3 := c[12]*int32(x[12]) + c[13]*int32(x[13]) + c[14]*int32(x[14]) + c[15]*int32(x[15])
	a4 := c[16]*int32(x[16]) + c[17]*int32(x[17]) + c[18]*int32(x[18]) + c[19]*int32(x[19])
	a5 := c[20]*int32(x[20]) + c[21]*int32(x[21]) + c[22]*int32(x[22]) + c[23]*int32(x[23])
	v := ((a0 + a1) + (a2 + a3) + (a4 + a5) + 1<<(coefShift-1)) >> coefShift
	return int16(min(max(v, -32768), 32767))
}

// dot returns the rounded, saturated Q14 dot product of coef and x
// (len(x) >= len(coef)).
func dot(coef []int32, x []int16) int16 {
	x = x[:len(coef)]
	var a0, a1 int32
	for len(coef) >= 4 && len(x) >= 4 {
		c, v := coef[:4:4], x[:4:4]
		a0 += c[0]*int32(v[0]) + c[1]*int32(v[1])
		a1 += c[2]*int32(v[2]) + c[3]*int32(v[3])
		coef, x = coef[4:], x[4:]
	}
	for i, c := range coef {
		a0 += c * int32(x[i])
	}
	v := (a0 + a1 + 1<<(coefShift-1)) >> coefShift
	return int16(min(max(v, -32768), 32767))
}
