// Package g711 converts between 16-bit linear PCM and ITU-T G.711 µ-law
// and A-law octets, with lookup tables so that a packet decodes without a
// branch or an allocation per sample.
//
// Linear samples are 16-bit: the 14-bit (µ-law) or 13-bit (A-law) values of
// the Recommendation are left-justified, so µ-law spans ±32124 and A-law
// ±32256. Encoding follows the ITU-T G.191 reference: negative inputs are
// quantised on their ones' complement, so x and ^x map to mirrored codes.
//
// The package does no I/O and must never allocate or panic on any input;
// callers own every buffer.
package g711

import "math/bits"

// The tables are filled once at package initialisation from the formulas of
// ITU-T G.711 (Tables 1 and 2), not typed in by hand.
var (
	ulawDecode [256]int16
	alawDecode [256]int16
	// ulawEncode is indexed by the 14 significant bits of the magnitude
	// (ones' complement for negative input), alawEncode by the 12 bits.
	ulawEncode [1 << 13]byte
	alawEncode [1 << 11]byte
)

func init() {
	for i := range 256 {
		ulawDecode[i] = ulawToLinear(byte(i))
		alawDecode[i] = alawToLinear(byte(i))
	}
	for m := range len(ulawEncode) {
		ulawEncode[m] = ulawCode(m)
	}
	for m := range len(alawEncode) {
		alawEncode[m] = alawCode(m)
	}
}

// ulawToLinear decodes one µ-law octet (G.711 Table 2): the octet is sent
// inverted; bit 7 is the sign (1 = positive), bits 6..4 the segment e and
// bits 3..0 the step m. The 14-bit magnitude is (2m+33)·2^e − 33; shifted
// left by 2 it becomes ((8m+132) << e) − 132.
func ulawToLinear(code byte) int16 {
	u := ^code
	e := uint(u>>4) & 7
	m := int32(u & 0x0f)
	mag := ((m<<3 + 132) << e) - 132
	if u&0x80 != 0 {
		return int16(-mag)
	}
	return int16(mag)
}

// alawToLinear decodes one A-law octet (G.711 Table 1): even bits are
// inverted (XOR 0x55); bit 7 is the sign (1 = positive), bits 6..4 the
// segment e and bits 3..0 the step m. The 13-bit magnitude is 2m+1 in
// segment 0 and (2m+33)·2^(e−1) above; shifted left by 3 it is 16m+8 and
// (16m+264) << (e−1).
func alawToLinear(code byte) int16 {
	a := code ^ 0x55
	e := uint(a>>4) & 7
	m := int32(a & 0x0f)
	var mag int32
	if e == 0 {
		mag = m<<4 + 8
	} else {
		mag = (m<<4 + 264) << (e - 1)
	}
	if a&0x80 != 0 {
		return int16(mag)
	}
	return int16(-mag)
}

// ulawCode returns the 7 magnitude bits of the µ-law code (before sign and
// inversion) for a 13-bit magnitude (|x| >> 2, the 14-bit sample's
// magnitude). Decision levels lie halfway between reconstruction levels.
func ulawCode(mag int) byte {
	// Biased magnitude: segment e covers [32<<e, 64<<e) after adding 33.
	b := mag + 33
	if b > 0x1fff {
		b = 0x1fff
	}
	e := bits.Len(uint(b)) - 6 // 0..7
	m := (b >> (e + 1)) & 0x0f
	return byte(e<<4 | m)
}

// alawCode returns the 7 magnitude bits of the A-law code (before sign and
// even-bit inversion) for a 12-bit magnitude (|x| >> 4).
func alawCode(mag int) byte {
	if mag < 32 {
		// Segments 0 and 1 share one step size, so the code is the
		// magnitude itself (segment 1 starts at 16).
		return byte(mag)
	}
	e := bits.Len(uint(mag)) - 4 // 2..7
	m := (mag >> (e - 1)) & 0x0f
	return byte(e<<4 | m)
}

// DecodeUlaw decodes µ-law octets into 16-bit linear samples, one sample per
// octet. It writes min(len(dst), len(src)) samples; callers give
// len(dst) >= len(src).
func DecodeUlaw(dst []int16, src []byte) {
	if len(dst) > len(src) {
		dst = dst[:len(src)]
	}
	for i := range dst {
		dst[i] = ulawDecode[src[i]]
	}
}

// DecodeAlaw decodes A-law octets into 16-bit linear samples, one sample per
// octet. It writes min(len(dst), len(src)) samples; callers give
// len(dst) >= len(src).
func DecodeAlaw(dst []int16, src []byte) {
	if len(dst) > len(src) {
		dst = dst[:len(src)]
	}
	for i := range dst {
		dst[i] = alawDecode[src[i]]
	}
}

// EncodeUlaw encodes 16-bit linear samples as µ-law octets. It writes
// min(len(dst), len(src)) octets.
func EncodeUlaw(dst []byte, src []int16) {
	if len(src) > len(dst) {
		src = src[:len(dst)]
	}
	for i, x := range src {
		dst[i] = EncodeUlawSample(x)
	}
}

// EncodeAlaw encodes 16-bit linear samples as A-law octets. It writes
// min(len(dst), len(src)) octets.
func EncodeAlaw(dst []byte, src []int16) {
	if len(src) > len(dst) {
		src = src[:len(dst)]
	}
	for i, x := range src {
		dst[i] = EncodeAlawSample(x)
	}
}

// EncodeUlawSample encodes one sample as a µ-law octet.
func EncodeUlawSample(x int16) byte {
	if x >= 0 {
		return ^ulawEncode[x>>2] // sign bit set after inversion
	}
	return ^(ulawEncode[(^x)>>2] | 0x80)
}

// EncodeAlawSample encodes one sample as an A-law octet.
func EncodeAlawSample(x int16) byte {
	if x >= 0 {
		return (alawEncode[x>>4] | 0x80) ^ 0x55
	}
	return alawEncode[(^x)>>4] ^ 0x55
}

// DecodeUlawSample decodes one µ-law octet.
func DecodeUlawSample(b byte) int16 { return ulawDecode[b] }

// DecodeAlawSample decodes one A-law octet.
func DecodeAlawSample(b byte) int16 { return alawDecode[b] }
