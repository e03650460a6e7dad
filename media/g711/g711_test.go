package g711

import (
	"math"
	"testing"
)

// Known values, each worked out from the G.711 formulas in the comments
// (µ-law: 14-bit magnitude (2m+33)·2^e − 33; A-law: 13-bit 2m+1 in segment 0,
// (2m+33)·2^(e−1) above), then scaled to 16 bits (×4 and ×8).
func TestDecodeKnownValues(t *testing.T) {
	ulaw := []struct {
		name string
		code byte
		want int16
	}{
		{"0xFF positive zero: e=0 m=0 -> 33-33=0", 0xFF, 0},
		{"0x7F negative zero", 0x7F, 0},
		{"0x00 negative max: e=7 m=15 -> (63<<7)-33=8031 -> x4", 0x00, -32124},
		{"0x80 positive max", 0x80, 32124},
		{"0xFE e=0 m=1 -> 35-33=2 -> x4", 0xFE, 8},
		{"0x7E negative e=0 m=1", 0x7E, -8},
		{"0xF0 e=0 m=15 -> 63-33=30 -> x4", 0xF0, 120},
		{"0xEF e=1 m=0 -> 66-33=33 -> x4", 0xEF, 132},
		{"0x8F e=7 m=0 -> (33<<7)-33=4191 -> x4", 0x8F, 16764},
		{"0x0F negative e=7 m=0", 0x0F, -16764},
	}
	for _, tc := range ulaw {
		t.Run("ulaw "+tc.name, func(t *testing.T) {
			if got := DecodeUlawSample(tc.code); got != tc.want {
				t.Errorf("DecodeUlaw(%#02x) = %d, want %d", tc.code, got, tc.want)
			}
		})
	}
	alaw := []struct {
		name string
		code byte
		want int16
	}{
		{"0xD5 positive smallest: e=0 m=0 -> 1 -> x8", 0xD5, 8},
		{"0x55 negative smallest", 0x55, -8},
		{"0xD4 e=0 m=1 -> 3 -> x8", 0xD4, 24},
		{"0xC5 e=1 m=0 -> 33 -> x8", 0xC5, 264},
		{"0xE5 e=3 m=0 -> 33<<2=132 -> x8", 0xE5, 1056},
		{"0xAA positive max: e=7 m=15 -> 63<<6=4032 -> x8", 0xAA, 32256},
		{"0x2A negative max", 0x2A, -32256},
	}
	for _, tc := range alaw {
		t.Run("alaw "+tc.name, func(t *testing.T) {
			if got := DecodeAlawSample(tc.code); got != tc.want {
				t.Errorf("DecodeAlaw(%#02x) = %d, want %d", tc.code, got, tc.want)
			}
		})
	}
}

// ulawLevel and alawLevel restate Tables 1 and 2 as segment start plus m
// steps, a different form of the same law than the package uses.
func ulawLevel(code byte) int {
	u := ^code
	e, m := int(u>>4&7), int(u&15)
	start := (33 << e) - 33 // 14-bit magnitude of the segment's first level
	v := 4 * (start + m*(2<<e))
	if u&0x80 != 0 {
		return -v
	}
	return v
}

func alawLevel(code byte) int {
	a := code ^ 0x55
	e, m := int(a>>4&7), int(a&15)
	var v int
	if e == 0 {
		v = 8 * (1 + 2*m)
	} else {
		start := 33 << (e - 1) // 13-bit magnitude of the segment's first level
		v = 8 * (start + m*(2<<(e-1)))
	}
	if a&0x80 == 0 {
		return -v
	}
	return v
}

func TestDecodeAllCodesMatchSegmentTables(t *testing.T) {
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i)
	}
	u := make([]int16, 256)
	a := make([]int16, 256)
	DecodeUlaw(u, src)
	DecodeAlaw(a, src)
	for i := range 256 {
		if int(u[i]) != ulawLevel(byte(i)) {
			t.Errorf("ulaw %#02x: got %d, table says %d", i, u[i], ulawLevel(byte(i)))
		}
		if int(a[i]) != alawLevel(byte(i)) {
			t.Errorf("alaw %#02x: got %d, table says %d", i, a[i], alawLevel(byte(i)))
		}
	}
}

func TestEncodeKnownValues(t *testing.T) {
	tests := []struct {
		name       string
		in         int16
		ulaw, alaw byte
	}{
		{"zero", 0, 0xFF, 0xD5},
		{"minus one is ones-complement zero", -1, 0x7F, 0x55},
		{"positive full scale clips to max code", 32767, 0x80, 0xAA},
		{"negative full scale clips to max code", -32768, 0x00, 0x2A},
		{"exact ulaw level 8 and alaw step", 8, 0xFE, 0xD5},
		{"exact level 132 (ulaw e=1 m=0; alaw m=8 of segment 0)", 132, 0xEF, 0xDD},
		{"exact level 264 (alaw e=1 m=0)", 264, 0xE7, 0xC5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := EncodeUlawSample(tc.in); got != tc.ulaw {
				t.Errorf("EncodeUlaw(%d) = %#02x, want %#02x", tc.in, got, tc.ulaw)
			}
			if got := EncodeAlawSample(tc.in); got != tc.alaw {
				t.Errorf("EncodeAlaw(%d) = %#02x, want %#02x", tc.in, got, tc.alaw)
			}
		})
	}
}

func TestRoundTripCodes(t *testing.T) {
	t.Run("ulaw every code except negative zero", func(t *testing.T) {
		for i := range 256 {
			c := byte(i)
			got := EncodeUlawSample(DecodeUlawSample(c))
			want := c
			if c == 0x7F {
				want = 0xFF // -0 decodes to 0, which encodes as +0
			}
			if got != want {
				t.Errorf("encode(decode(%#02x)) = %#02x", c, got)
			}
		}
	})
	t.Run("alaw every code", func(t *testing.T) {
		for i := range 256 {
			c := byte(i)
			if got := EncodeAlawSample(DecodeAlawSample(c)); got != c {
				t.Errorf("encode(decode(%#02x)) = %#02x", c, got)
			}
		}
	})
}

// TestQuantisationError checks every 16-bit input: the decoded value is
// monotonic in the input and within half a step (plus the truncation of the
// low bits) of it, except above the largest level where it clips.
func TestQuantisationError(t *testing.T) {
	laws := []struct {
		name  string
		enc   func(int16) byte
		dec   func(byte) int16
		max   int
		trunc int // bits dropped before quantising
		step  func(code byte) int
	}{
		{"ulaw", EncodeUlawSample, DecodeUlawSample, 32124, 2,
			func(c byte) int { return 8 << (^c >> 4 & 7) }},
		{"alaw", EncodeAlawSample, DecodeAlawSample, 32256, 3,
			func(c byte) int {
				e := (c ^ 0x55) >> 4 & 7
				if e == 0 {
					return 16
				}
				return 16 << (e - 1)
			}},
	}
	for _, law := range laws {
		t.Run(law.name, func(t *testing.T) {
			prev := math.MinInt
			for x := math.MinInt16; x <= math.MaxInt16; x++ {
				c := law.enc(int16(x))
				y := int(law.dec(c))
				if y < prev {
					t.Fatalf("not monotonic at %d: %d after %d", x, y, prev)
				}
				prev = y
				err := y - x
				if err < 0 {
					err = -err
				}
				limit := law.step(c)/2 + 1<<law.trunc
				if x > law.max || x < -law.max {
					limit = max(-x, x) - law.max
				}
				if err > limit {
					t.Fatalf("x=%d: code %#02x decodes to %d, error %d > %d", x, c, y, err, limit)
				}
			}
		})
	}
}

func TestShortBuffers(t *testing.T) {
	src := []byte{0xFF, 0x00, 0x80}
	dst := make([]int16, 2)
	DecodeUlaw(dst, src) // must not panic; writes what fits
	if dst[0] != 0 || dst[1] != -32124 {
		t.Errorf("got %v", dst)
	}
	out := make([]byte, 1)
	EncodeAlaw(out, []int16{0, 100})
	if out[0] != 0xD5 {
		t.Errorf("got %#02x", out[0])
	}
}

func BenchmarkDecodeUlaw160(b *testing.B) {
	src := make([]byte, 160)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]int16, 160)
	b.ReportAllocs()
	b.SetBytes(160)
	for b.Loop() {
		DecodeUlaw(dst, src)
	}
}

func BenchmarkDecodeAlaw160(b *testing.B) {
	src := make([]byte, 160)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]int16, 160)
	b.ReportAllocs()
	b.SetBytes(160)
	for b.Loop() {
		DecodeAlaw(dst, src)
	}
}

func BenchmarkEncodeUlaw160(b *testing.B) {
	src := make([]int16, 160)
	for i := range src {
		src[i] = int16(i * 401)
	}
	dst := make([]byte, 160)
	b.ReportAllocs()
	b.SetBytes(160)
	for b.Loop() {
		EncodeUlaw(dst, src)
	}
}
