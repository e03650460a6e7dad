package g722

import (
	"math/rand/v2"
	"testing"
)

// refDecoder is a deliberately plain second implementation of the G.722
// decoder: block by block, every operation through the 16-bit saturating
// operators of the ITU-T reference (add, sub, mult, shl, negate), with none
// of the shortcuts of Decoder. It is the oracle for inputs that drive the
// predictor into saturation.
//
// With ffmpegArith set it reproduces the two places where FFmpeg's decoder
// departs from the reference arithmetic: FFmpeg sums the zero section
// (FILTEZ) without saturating the partial sums, and adds the zero and pole
// sections (FILTEP, PREDIC) in one sum clipped once.
type refDecoder struct {
	low, high refBand
	x         [24]int32
}

type refBand struct {
	a, p, r     [3]int32
	b, d        [7]int32
	s, sp       int32
	sz, nb      int32
	det         int32
	ffmpegArith bool
}

func opAdd(a, b int32) int32  { return sat16(a + b) }
func opSub(a, b int32) int32  { return sat16(a - b) }
func opMult(a, b int32) int32 { return sat16((a * b) >> 15) }
func opShl(a int32, n uint) int32 {
	return sat16(a << n)
}
func opNeg(a int32) int32 { return sat16(-a) }

func newRefDecoder(ffmpegArith bool) *refDecoder {
	d := &refDecoder{}
	d.low.det, d.high.det = 32, 8
	d.low.ffmpegArith, d.high.ffmpegArith = ffmpegArith, ffmpegArith
	return d
}

// block4 is PARREC, RECONS, UPZERO, UPPOL2, UPPOL1, FILTEZ, FILTEP, PREDIC.
func (b *refBand) block4(dq int32) {
	b.d[0] = dq
	b.p[0] = opAdd(dq, b.sz)
	if b.ffmpegArith { // sz may exceed 16 bits; only the sign matters
		b.p[0] = min(max(dq+b.sz, -1), 0)
	}
	b.r[0] = opAdd(b.s, dq)
	// UPZERO
	wd1 := int32(128)
	if dq == 0 {
		wd1 = 0
	}
	sg0 := dq >> 15
	for i := 6; i > 0; i-- {
		wd2 := opSub(0, wd1)
		if b.d[i]>>15 == sg0 {
			wd2 = wd1
		}
		b.b[i] = opAdd(wd2, opMult(b.b[i], 32640))
		b.d[i] = b.d[i-1]
	}
	// UPPOL2
	s0, s1, s2 := b.p[0]>>15, b.p[1]>>15, b.p[2]>>15
	w1 := opShl(b.a[1], 2)
	w2 := w1
	if s0 == s1 {
		w2 = opSub(0, w1)
	}
	w2 >>= 7
	w3 := int32(-128)
	if s0 == s2 {
		w3 = 128
	}
	a2 := opAdd(opAdd(w2, w3), opMult(b.a[2], 32512))
	a2 = min(max(a2, -12288), 12288)
	b.a[2] = a2
	// UPPOL1
	w := int32(-192)
	if s0 == s1 {
		w = 192
	}
	a1 := opAdd(w, opMult(b.a[1], 32640))
	lim := opSub(15360, a2)
	if a1 > lim {
		a1 = lim
	} else if opAdd(a1, lim) < 0 {
		a1 = opNeg(lim)
	}
	b.p[2], b.p[1] = b.p[1], b.p[0]
	b.a[1] = a1
	// FILTEZ
	var sz int32
	for i := 6; i > 0; i-- {
		if b.ffmpegArith {
			sz += opMult(opAdd(b.d[i], b.d[i]), b.b[i])
		} else {
			sz = opAdd(sz, opMult(opAdd(b.d[i], b.d[i]), b.b[i]))
		}
	}
	b.sz = sz
	// FILTEP
	b.r[2], b.r[1] = b.r[1], b.r[0]
	if b.ffmpegArith {
		b.s = sat16(sz + opMult(b.a[1], opAdd(b.r[1], b.r[1])) + opMult(b.a[2], opAdd(b.r[2], b.r[2])))
		return
	}
	b.sp = opAdd(opMult(b.a[1], opAdd(b.r[1], b.r[1])), opMult(b.a[2], opAdd(b.r[2], b.r[2])))
	// PREDIC
	b.s = opAdd(b.sp, b.sz)
}

func (d *refDecoder) decode(dst []int16, src []byte) {
	for i, code := range src {
		il, ih := int32(code&0x3f), int32(code>>6)
		// Lower band.
		neg, m := lowInterval(int(il))
		lvl := oq6[m] << 3
		if neg {
			lvl = opNeg(lvl)
		}
		yl := limit(opAdd(d.low.s, opMult(d.low.det, lvl)))
		c4 := il >> 2
		dl := opMult(d.low.det, lowLevel4[c4])
		nb := opAdd(opMult(d.low.nb, 32512), lowStep4[c4])
		d.low.nb = min(max(nb, 0), 18432)
		d.low.det = scale(d.low.nb, 8)
		d.low.block4(dl)
		// Higher band.
		dh := opMult(highLevel[ih], d.high.det)
		nb = opAdd(opMult(d.high.nb, 32512), highStep[ih])
		d.high.nb = min(max(nb, 0), 22528)
		d.high.det = scale(d.high.nb, 10)
		d.high.block4(dh)
		yh := limit(d.high.r[1])
		// Receive QMF.
		copy(d.x[:], d.x[2:])
		d.x[22], d.x[23] = opAdd(yl, yh), opSub(yl, yh)
		var xa, xb int32
		for k := range 12 {
			xa += d.x[2*k+1] * qmf[11-k]
			xb += d.x[2*k] * qmf[k]
		}
		dst[2*i], dst[2*i+1] = int16(sat16(xa>>11)), int16(sat16(xb>>11))
	}
}

// saturatingRuns returns octets in runs of the largest codes of one sign,
// which drive the zero predictor into saturation (and the partially
// reconstructed signal past 16 bits); switching sign then exercises the
// sign logic.
func saturatingRuns(r *rand.Rand, n int) []byte {
	src := make([]byte, n)
	var code byte
	left := 0
	for i := range src {
		if left == 0 {
			left = 1 + r.IntN(60)
			code = []byte{0x04, 0x05, 0x20, 0x21, 0x3F, 0x1F}[r.IntN(6)] | byte(r.IntN(4))<<6
		}
		left--
		src[i] = code
	}
	return src
}

// TestDecoderMatchesReferenceArithmetic compares Decoder with the plain
// reference-arithmetic decoder, in particular where Decoder leaves out
// saturations it has shown to be unreachable.
func TestDecoderMatchesReferenceArithmetic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	uniform := make([]byte, 50000)
	for i := range uniform {
		uniform[i] = byte(r.Uint32())
	}
	for name, src := range map[string][]byte{
		"saturating runs": saturatingRuns(r, 100000),
		"uniform octets":  uniform,
	} {
		t.Run(name, func(t *testing.T) {
			got := make([]int16, 2*len(src))
			want := make([]int16, 2*len(src))
			NewDecoder().Decode(got, src)
			newRefDecoder(false).decode(want, src)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("sample %d: got %d, reference %d", i, got[i], want[i])
			}
		})
	}
}

// TestFFmpegDiffersOnlyInSaturation decodes octets that saturate the
// predictor. FFmpeg's output differs from the reference there, and equals
// the reference decoder run with FFmpeg's arithmetic, so the two
// documented details are the whole difference.
func TestFFmpegDiffersOnlyInSaturation(t *testing.T) {
	src := saturatingRuns(rand.New(rand.NewPCG(7, 7)), 50000)
	ff := ffmpegDecode(t, src)
	ours := make([]int16, 2*len(src))
	NewDecoder().Decode(ours, src)
	mimic := make([]int16, 2*len(src))
	newRefDecoder(true).decode(mimic, src)
	if i := firstDiff(ff, mimic); i >= 0 {
		t.Fatalf("sample %d: ffmpeg %d, reference with ffmpeg arithmetic %d", i, ff[i], mimic[i])
	}
	i := firstDiff(ff, ours)
	if i < 0 {
		t.Fatal("the input never reached saturation: it does not test what it claims")
	}
	t.Logf("first difference from ffmpeg at sample %d of %d", i, len(ours))
}
