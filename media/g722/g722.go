// Package g722 implements the ITU-T G.722 (09/2012) 64 kbit/s sub-band
// ADPCM codec for 16 kHz wideband speech: a 24-tap quadrature mirror filter
// (QMF) splits the signal into two 8 kHz bands, the lower band is coded with
// 6-bit embedded ADPCM and the higher band with 2-bit ADPCM; one octet
// carries both codes (higher band in bits 7..6, lower band in bits 5..0).
//
// It follows the fixed-point description of the Recommendation (blocks
// 1L..6L, 1H..6H and the QMF of §3 and §4, with the saturating 16-bit
// arithmetic of the ITU-T reference operators). The tests compare it
// sample for sample with FFmpeg's independent encoder and decoder, which
// agree except in two documented corners where FFmpeg departs from the
// reference arithmetic: its encoder does not limit the QMF outputs to 15
// bits (input near full scale), and its decoder does not saturate the
// predictor sums (bit streams that drive the predictor into overflow).
// Only the 64 kbit/s mode is implemented: in RTP (RFC 3551 §4.5.2) G.722
// always carries all eight bits.
//
// Samples are 16-bit linear PCM at 16 kHz. Encoder and Decoder are stateful
// per stream and not safe for concurrent use. The package does no I/O and
// must never allocate or panic on any input.
package g722

// Tables of ITU-T G.722. Each is a constant of the Recommendation; the tests
// check their internal consistency (reconstruction levels inside their
// decision intervals, the scale-factor table against 2^(i/32)).
var (
	// q6 holds the decision levels of the 6-bit lower-band quantizer
	// (QUANTL), in units where mult(q6[i]<<3, det) scales them to the
	// signal: interval m (1..30) is [q6[m-1], q6[m]).
	q6 = [31]int32{
		0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587,
		650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765,
		1980, 2195, 2557, 2919, 3200,
	}
	// oq6 holds the output level of each 6-bit interval m (INVQBL).
	oq6 = [31]int32{
		0, 17, 54, 91, 130, 170, 211, 254, 300, 347, 396, 447, 501, 558,
		618, 682, 750, 822, 899, 982, 1072, 1170, 1279, 1399, 1535, 1689,
		1873, 2088, 2376, 2738, 3101,
	}
	// oq4 holds the output levels of the 4-bit quantizer that the
	// predictor adapts on (INVQAL): the 6-bit code without its two least
	// significant bits, so a decoder dropping them stays in step.
	oq4 = [8]int32{0, 150, 323, 530, 786, 1121, 1612, 2557}
	// oq2 holds the higher-band output levels (INVQAH); 564 is the single
	// decision level of the 2-bit quantizer (QUANTH).
	oq2 = [3]int32{0, 202, 926}
	// wl and wh are the log scale-factor multipliers (LOGSCL, LOGSCH).
	wl = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	wh = [3]int32{0, -214, 798}
	// ilb is the antilog table of SCALEL/SCALEH: 2048·2^(i/32), rounded.
	ilb = [32]int32{
		2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543,
		2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228,
		3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
	}
	// qmf holds the even-indexed QMF coefficients h(0), h(2), ... h(22);
	// the filter is symmetric, h(2i+1) = h(22-2i). They sum to 4096, so
	// each polyphase half has a gain of 2^12.
	qmf = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}
)

const (
	q2Level   = 564   // QUANTH decision level
	nblMax    = 18432 // LOGSCL upper limit of the lower-band log factor
	nbhMax    = 22528 // LOGSCH upper limit of the higher-band log factor
	detlReset = 32    // lower-band scale factor after reset (nbl = 0)
	dethReset = 8     // higher-band scale factor after reset (nbh = 0)
)

// Signed, pre-shifted level tables indexed by code, derived at init from the
// code assignment of the Recommendation (see buildTables).
var (
	lowLevel6 [64]int32 // 6-bit code -> ±oq6<<3
	lowLevel4 [16]int32 // 4-bit code -> ±oq4<<3
	lowStep4  [16]int32 // 4-bit code -> wl multiplier
	highLevel [4]int32  // 2-bit code -> ±oq2<<3
	highStep  [4]int32  // 2-bit code -> wh multiplier
	// lowCode maps the interval m (1..30) to its 6-bit code, for negative
	// (index 0) and positive (index 1) differences.
	lowCode [2][31]byte
)

func init() { buildTables() }

// buildTables derives the per-code tables from the code assignment of the
// lower-band quantizer: a positive difference in interval m is sent as
// 62−m (61..32); a negative one as 63, 62 for m = 1, 2 and 34−m (31..4)
// above. Codes 0..3 are never sent; a decoder reads them as the smallest
// negative level.
func buildTables() {
	for m := 1; m <= 30; m++ {
		lowCode[1][m] = byte(62 - m)
		switch m {
		case 1:
			lowCode[0][m] = 63
		case 2:
			lowCode[0][m] = 62
		default:
			lowCode[0][m] = byte(34 - m)
		}
	}
	for c := range 64 {
		neg, m := lowInterval(c)
		v := oq6[m] << 3
		if neg {
			v = -v
		}
		lowLevel6[c] = v
	}
	// The 4-bit code is the 6-bit code >> 2. Positive codes 8..14 and
	// negative codes 1..7 select oq4 levels 7..1; codes 0 and 15 (the
	// smallest differences of either sign) are zero.
	for c := range 16 {
		var lvl int32
		var idx int
		switch {
		case c >= 8 && c <= 14:
			idx = 15 - c
			lvl = oq4[idx] << 3
		case c >= 1 && c <= 7:
			idx = 8 - c
			lvl = -(oq4[idx] << 3)
		}
		lowLevel4[c] = lvl
		lowStep4[c] = wl[idx]
	}
	// Higher band: codes 3 and 2 are the small and large positive levels,
	// 1 and 0 the small and large negative ones.
	highLevel = [4]int32{-oq2[2] << 3, -oq2[1] << 3, oq2[2] << 3, oq2[1] << 3}
	highStep = [4]int32{wh[2], wh[1], wh[2], wh[1]}
}

// lowInterval returns the sign and the quantizer interval of a 6-bit code.
func lowInterval(c int) (neg bool, m int) {
	switch {
	case c >= 32 && c <= 61:
		return false, 62 - c
	case c >= 4 && c <= 31:
		return true, 34 - c
	case c == 62:
		return true, 2
	default: // 63, and the unused codes 0..3
		return true, 1
	}
}

// sat16 limits x to the 16-bit range, as the reference operators do.
func sat16(x int32) int32 { return min(max(x, -32768), 32767) }

// add is the saturating 16-bit addition of the reference operators.
func add(a, b int32) int32 { return sat16(a + b) }

// mult is the 16-bit fractional multiplication (a·b)>>15, saturated.
func mult(a, b int32) int32 { return sat16((a * b) >> 15) }

// limit clips a reconstructed sub-band sample to 15 bits (LIMIT).
func limit(x int32) int32 { return min(max(x, -16384), 16383) }

// band is the state of one sub-band ADPCM coder: the adaptive predictor
// (block 4) and the quantizer scale factor (block 3).
type band struct {
	s   int32    // predictor output for the next sample (PREDIC)
	sz  int32    // zero-section output for the next sample (FILTEZ)
	r   [3]int32 // r[1], r[2]: past reconstructed signals
	p   [3]int32 // p[1], p[2]: past partially reconstructed signals
	a   [3]int32 // a[1], a[2]: pole coefficients
	b   [7]int32 // b[1]..b[6]: zero coefficients
	d   [7]int32 // d[1]..d[6]: past quantized differences
	nb  int32    // log scale factor (NBL, NBH)
	det int32    // scale factor (DETL, DETH)
}

// adapt runs block 4 for the quantized difference dq of the current sample:
// it updates the predictor coefficients and computes the prediction for the
// next sample.
//
// The reference saturates every 16-bit operation. Where an operation
// provably cannot leave the 16-bit range it is written without saturation,
// with the bound in a comment: |dq| <= 10228 (det <= 16384, level <= 20456),
// |a1| <= 27648, |a2| <= 12288 and b_i in [-32768, 32767].
func (bd *band) adapt(dq int32) {
	// PARREC and RECONS. p is only ever used for its sign, and r only
	// doubled and saturated (FILTEP), so neither needs saturating here:
	// clamping preserves the sign, and sat16(2·sat16(r)) = sat16(2·r).
	p0 := dq + bd.sz
	r0 := bd.s + dq

	// UPZERO: b_i += ±2^-7 by the sign agreement of d(n) and d(n-i)
	// (nothing when d(n) = 0), with leakage 1-2^-8; then shift d.
	// b*32640>>15 lies in [-32640, 32639], so ±128 stays in range.
	// FILTEZ, the sixth-order zero section, runs in the same pass: term i
	// needs only the new b_i and the shifted d_i. 2·d_i and the products
	// fit in 16 bits. The reference saturates the running sum at each
	// step (i = 6 down to 1); when the terms' magnitudes add up to no more
	// than 32767 no partial sum can overflow and the plain sum is the
	// same.
	gain := int32(128)
	if dq == 0 {
		gain = 0
	}
	bd.d[0] = dq
	var t [7]int32
	var sz, mag int32
	for i := 6; i > 0; i-- {
		differ := (bd.d[i] ^ dq) >> 31 // -1 when the signs differ
		b := (gain ^ differ) - differ + (bd.b[i]*32640)>>15
		d := bd.d[i-1]
		bd.b[i], bd.d[i] = b, d
		v := (2 * d * b) >> 15
		t[i] = v
		sz += v
		mag += (v ^ v>>31) - v>>31
	}
	if mag > 32767 {
		sz = 0
		for i := 6; i > 0; i-- {
			sz = add(sz, t[i])
		}
	}
	bd.sz = sz

	// UPPOL2: a2 = (1-2^-7)a2 + 2^-7·sgn(p0·p2) - 2^-7·f(a1)·sgn(p0·p1),
	// limited to ±0.75 (±12288). The sum before the limit is within
	// ±(256+128+12192).
	// Signs as 0 or -1: p is not limited to 16 bits here, so take the
	// sign bit of the int32 (>>31), not bit 15.
	sgp, sg1, sg2 := p0>>31, bd.p[1]>>31, bd.p[2]>>31
	wd1 := sat16(bd.a[1] << 2)
	wd2 := wd1
	if sgp == sg1 {
		wd2 = sat16(-wd1)
	}
	wd3 := int32(-128)
	if sgp == sg2 {
		wd3 = 128
	}
	a2 := wd2>>7 + wd3 + (bd.a[2]*32512)>>15
	a2 = min(max(a2, -12288), 12288)

	// UPPOL1: a1 = (1-2^-8)a1 + 3·2^-8·sgn(p0·p1), limited to
	// ±(1 - 2^-4 - a2) (15360 - a2).
	w := int32(-192)
	if sgp == sg1 {
		w = 192
	}
	a1 := w + (bd.a[1]*32640)>>15
	lim := 15360 - a2
	a1 = min(max(a1, -lim), lim)
	bd.a[1], bd.a[2] = a1, a2
	bd.p[2], bd.p[1] = bd.p[1], p0

	// FILTEP: the second-order pole section; then PREDIC.
	bd.r[2], bd.r[1] = bd.r[1], r0
	sp := add((a1*sat16(2*bd.r[1]))>>15, (a2*sat16(2*bd.r[2]))>>15)
	bd.s = add(sp, sz)
}

// scale converts the log scale factor to the linear one (SCALEL with
// shift 8, SCALEH with shift 10): det = (ilb[(nb>>6)&31] >> (shift -
// nb>>11)) << 2.
func scale(nb int32, shift int32) int32 {
	w := ilb[(nb>>6)&31]
	sh := shift - nb>>11
	if sh < 0 {
		w <<= -sh
	} else {
		w >>= sh
	}
	return w << 2
}

// adaptLowScale runs LOGSCL and SCALEL for the 4-bit code c. With
// 0 <= nb <= 22528 the leak and step cannot leave 16 bits.
func (bd *band) adaptLowScale(c int32) {
	nb := (bd.nb*32512)>>15 + lowStep4[c]
	bd.nb = min(max(nb, 0), nblMax)
	bd.det = scale(bd.nb, 8)
}

// adaptHighScale runs LOGSCH and SCALEH for the 2-bit code c.
func (bd *band) adaptHighScale(c int32) {
	nb := (bd.nb*32512)>>15 + highStep[c]
	bd.nb = min(max(nb, 0), nbhMax)
	bd.det = scale(bd.nb, 10)
}

// state is what an encoder and a decoder keep between octets: the two
// sub-band ADPCM states and the QMF delay line (transmit or receive).
type state struct {
	low, high band
	x         qmfLine
}

// reset puts the state in the reset state of the Recommendation.
func (st *state) reset() {
	*st = state{}
	st.low.det = detlReset
	st.high.det = dethReset
}

// Decoder decodes a G.722 stream at 64 kbit/s into 16 kHz PCM. The zero
// value is not ready for use; call NewDecoder.
type Decoder struct {
	state // x is the receive QMF delay line; each octet appends rl+rh, rl-rh
}

// NewDecoder returns a decoder in the reset state of the Recommendation.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.Reset()
	return d
}

// Reset returns the decoder to its initial state, as at the start of a
// stream (for instance after an SSRC change).
func (d *Decoder) Reset() { d.reset() }

// Decode decodes the octets of src into dst, two samples per octet, and
// returns the number of samples written. It decodes min(len(src),
// len(dst)/2) octets; callers give len(dst) >= 2*len(src).
func (d *Decoder) Decode(dst []int16, src []byte) int {
	n := min(len(src), len(dst)/2)
	dst = dst[:2*n]
	for i, code := range src[:n] {
		il := int32(code & 0x3f)
		ih := int32(code >> 6)

		// Lower band: INVQBL with the full 6 bits for the output, the
		// 4-bit code for adaptation (INVQAL, LOGSCL, SCALEL, block 4).
		// det <= 16384 and |level| <= 24808: the products fit 16 bits,
		// and limit() after an unsaturated add equals it after a
		// saturated one.
		rl := limit(d.low.s + (d.low.det*lowLevel6[il])>>15)
		c4 := il >> 2
		dl := (d.low.det * lowLevel4[c4]) >> 15
		d.low.adaptLowScale(c4)
		d.low.adapt(dl)

		// Higher band: INVQAH, LOGSCH, SCALEH, block 4.
		dh := (d.high.det * highLevel[ih]) >> 15
		rh := limit(d.high.s + dh)
		d.high.adaptHighScale(ih)
		d.high.adapt(dh)

		// Receive QMF: interpolate both bands back to 16 kHz.
		xa, xb := d.x.push(rl+rh, rl-rh).filter()
		dst[2*i] = int16(sat16(xa >> 11))
		dst[2*i+1] = int16(sat16(xb >> 11))
	}
	return 2 * n
}

// Encoder encodes 16 kHz PCM as a G.722 stream at 64 kbit/s. The zero value
// is not ready for use; call NewEncoder.
type Encoder struct {
	state // x is the transmit QMF delay line
}

// NewEncoder returns an encoder in the reset state of the Recommendation.
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.Reset()
	return e
}

// Reset returns the encoder to its initial state.
func (e *Encoder) Reset() { e.reset() }

// Encode encodes pairs of samples of src into one octet each and returns
// the number of octets written: min(len(src)/2, len(dst)). A trailing odd
// sample is not consumed; callers give an even len(src).
func (e *Encoder) Encode(dst []byte, src []int16) int {
	n := min(len(src)/2, len(dst))
	for i := range n {
		// The reference limits the sub-band signals to 15 bits (as the
		// ITU-T reference code does). FFmpeg omits this limit, so the two
		// encoders part ways only for input near full scale.
		xl, xh := e.split(src[2*i], src[2*i+1])
		xl, xh = limit(xl), limit(xh)

		// Lower band: SUBTRA, QUANTL, INVQAL, LOGSCL, SCALEL, block 4.
		el := add(xl, -e.low.s)
		il := quantLow(el, e.low.det)
		c4 := il >> 2
		dl := mult(e.low.det, lowLevel4[c4])
		e.low.adaptLowScale(c4)
		e.low.adapt(dl)

		// Higher band: SUBTRA, QUANTH, INVQAH, LOGSCH, SCALEH, block 4.
		eh := add(xh, -e.high.s)
		ih := quantHigh(eh, e.high.det)
		dh := mult(e.high.det, highLevel[ih])
		e.high.adaptHighScale(ih)
		e.high.adapt(dh)

		dst[i] = byte(ih<<6 | il)
	}
	return n
}

// split runs the transmit QMF for the next two input samples (s0 first)
// and returns the lower and higher sub-band samples before limiting.
func (e *Encoder) split(s0, s1 int16) (xl, xh int32) {
	xa, xb := e.x.push(int32(s0), int32(s1)).filter()
	return (xa + xb) >> 14, (xa - xb) >> 14
}

// qmfLine is the 24-sample delay line of a QMF, kept twice over so that
// the current window is always one contiguous slice (no shifting).
type qmfLine struct {
	buf [48]int32
	h   int // where the next pair goes: 0, 2, ... 22
}

// push appends two samples, older first, and returns the window of the
// last 24 samples, oldest first.
func (q *qmfLine) push(older, newer int32) *qmfWindow {
	h := q.h
	q.buf[h], q.buf[h+1] = older, newer
	q.buf[h+24], q.buf[h+25] = older, newer
	h += 2
	if h == 24 {
		h = 0
	}
	q.h = h
	return (*qmfWindow)(q.buf[h : h+24])
}

// qmfWindow is the QMF delay line, oldest sample first.
type qmfWindow [24]int32

// filter returns the two polyphase sums of the window: xa weights the
// newest sample by h(0) (the odd positions, h(2i) from the newest down),
// xb the older sample of each pair by h(1) = h(22)... (the even positions).
// With 16-bit inputs the sums stay below 2^28.
func (w *qmfWindow) filter() (xa, xb int32) {
	// Written out for instruction-level parallelism; equal to
	// xa = Σ_k w[2k+1]·qmf[11−k], xb = Σ_k w[2k]·qmf[k].
	// The constants are the qmf table (TestQMFUnrolled checks them).
	xa = (w[1]*-11 + w[3]*53 + w[5]*-156 + w[7]*362) +
		(w[9]*-805 + w[11]*3876 + w[13]*951 + w[15]*-210) +
		(w[17]*32 + w[19]*12 + w[21]*-11 + w[23]*3)
	xb = (w[0]*3 + w[2]*-11 + w[4]*12 + w[6]*32) +
		(w[8]*-210 + w[10]*951 + w[12]*3876 + w[14]*-805) +
		(w[16]*362 + w[18]*-156 + w[20]*53 + w[22]*-11)
	return xa, xb
}

// quantLow is QUANTL: the 6-bit code of the difference el for scale det.
func quantLow(el, det int32) int32 {
	wd := el
	sign := 1
	if el < 0 {
		wd = ^el // magnitude as in the reference: -(el+1)
		sign = 0
	}
	m := 1
	for m < 30 && mult(q6[m]<<3, det) <= wd {
		m++
	}
	return int32(lowCode[sign][m])
}

// quantHigh is QUANTH: the 2-bit code of the difference eh for scale det.
func quantHigh(eh, det int32) int32 {
	wd := eh
	if eh < 0 {
		wd = ^eh
	}
	large := wd >= mult(q2Level<<3, det)
	switch {
	case eh >= 0 && large:
		return 2
	case eh >= 0:
		return 3
	case large:
		return 0
	default:
		return 1
	}
}
