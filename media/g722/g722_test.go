package g722

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The reference for these tests is FFmpeg's G.722 encoder and decoder
// (libavcodec g722enc.c/g722dec.c), an independent implementation that
// states bit-exactness with the ITU-T test sequences. Debian package:
// ffmpeg (the test script installs it).

const rate = 16000

// testSignals returns 16 kHz test signals, each a whole number of 20 ms
// frames (FFmpeg's encoder works in 320-sample frames).
func testSignals() map[string][]int16 {
	const n = 2 * rate // 2 s
	sig := map[string][]int16{}

	tone := make([]int16, n)
	for i := range tone {
		tone[i] = int16(0.5 * 32767 * math.Sin(2*math.Pi*1000*float64(i)/rate))
	}
	sig["tone 1 kHz"] = tone

	// Linear chirp 50 Hz -> 7.5 kHz: exercises both bands and the QMF
	// transition region.
	chirp := make([]int16, n)
	f0, f1 := 50.0, 7500.0
	T := float64(n) / rate
	for i := range chirp {
		t := float64(i) / rate
		ph := 2 * math.Pi * (f0*t + (f1-f0)*t*t/(2*T))
		chirp[i] = int16(0.4 * 32767 * math.Sin(ph))
	}
	sig["chirp 50 Hz to 7.5 kHz"] = chirp

	// Speech-like: a 120 Hz glottal pulse train with harmonics shaped by
	// two moving formants, syllable-rate amplitude modulation, fricative
	// noise bursts and pauses.
	speech := make([]int16, n)
	r := rand.New(rand.NewPCG(1, 2))
	var phi float64 // phase of the fundamental, integrated
	for i := range speech {
		t := float64(i) / rate
		f0 := 120 + 20*math.Sin(2*math.Pi*3*t)
		phi += 2 * math.Pi * f0 / rate
		f1 := 500 + 300*math.Sin(2*math.Pi*1.3*t)
		f2 := 1500 + 700*math.Sin(2*math.Pi*0.7*t)
		var v float64
		for h := 1; float64(h)*f0 < 7000; h++ {
			fh := float64(h) * f0
			g := math.Exp(-math.Pow((fh-f1)/200, 2)) + 0.6*math.Exp(-math.Pow((fh-f2)/300, 2)) + 0.02
			v += g * math.Sin(float64(h)*phi+float64(h))
		}
		env := math.Max(0, math.Sin(2*math.Pi*4*t))
		if math.Mod(t, 0.5) > 0.4 { // fricative
			v = 2 * (r.Float64() - 0.5)
			env = 0.1 // fricatives are far weaker than vowels
		}
		if t > 1.2 && t < 1.4 { // pause
			env = 0
		}
		speech[i] = int16(0.25 * 32767 * env * v / 3)
	}
	sig["speech-like"] = speech

	noise := make([]int16, n)
	for i := range noise {
		noise[i] = int16(r.NormFloat64() * 3000)
	}
	sig["white noise"] = noise

	// Loud square wave with silence: large steps drive the scale factors
	// and predictor to their limits.
	square := make([]int16, n)
	for i := range square {
		if (i/40)%2 == 0 {
			square[i] = 14000
		} else {
			square[i] = -14000
		}
		if i > n/2 && i < n/2+3200 {
			square[i] = 0
		}
	}
	sig["square and silence"] = square
	return sig
}

func ffmpegPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is needed as the independent G.722 reference (Debian: apt-get install -y ffmpeg): %v", err)
	}
	return p
}

func runFFmpeg(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(ffmpegPath(t), append([]string{"-hide_banner", "-loglevel", "error", "-nostdin"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v: %s", args, err, stderr.String())
	}
	return out
}

func pcmBytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func pcmSamples(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// ffmpegEncode encodes 16 kHz PCM to raw G.722 with FFmpeg.
func ffmpegEncode(t *testing.T, pcm []int16) []byte {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.raw")
	out := filepath.Join(dir, "out.g722")
	if err := os.WriteFile(in, pcmBytes(pcm), 0o600); err != nil {
		t.Fatal(err)
	}
	runFFmpeg(t, "-f", "s16le", "-ar", "16000", "-ac", "1", "-i", in, "-acodec", "g722", "-f", "g722", "-y", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ffmpegDecode decodes raw G.722 to 16 kHz PCM with FFmpeg.
func ffmpegDecode(t *testing.T, g722 []byte) []int16 {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in.g722")
	if err := os.WriteFile(in, g722, 0o600); err != nil {
		t.Fatal(err)
	}
	return pcmSamples(runFFmpeg(t, "-f", "g722", "-i", in, "-acodec", "pcm_s16le", "-f", "s16le", "-"))
}

func firstDiff[T comparable](a, b []T) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestMatchesFFmpeg encodes each signal with FFmpeg, decodes the octets
// with our Decoder and with FFmpeg and requires identical samples; and
// requires our Encoder to produce FFmpeg's octets exactly.
func TestMatchesFFmpeg(t *testing.T) {
	for name, pcm := range testSignals() {
		t.Run(name, func(t *testing.T) {
			ref := ffmpegEncode(t, pcm)
			if len(ref) != len(pcm)/2 {
				t.Fatalf("ffmpeg wrote %d octets for %d samples", len(ref), len(pcm))
			}

			t.Run("decoder bit-exact", func(t *testing.T) {
				want := ffmpegDecode(t, ref)
				got := make([]int16, 2*len(ref))
				d := NewDecoder()
				// Decode in 20 ms packets, as from RTP.
				n := 0
				for off := 0; off < len(ref); off += 160 {
					n += d.Decode(got[n:], ref[off:min(off+160, len(ref))])
				}
				if n != len(want) {
					t.Fatalf("decoded %d samples, ffmpeg %d", n, len(want))
				}
				if i := firstDiff(got, want); i >= 0 {
					t.Fatalf("sample %d: got %d, ffmpeg %d", i, got[i], want[i])
				}
			})

			t.Run("encoder bit-exact", func(t *testing.T) {
				got := make([]byte, len(pcm)/2)
				e := NewEncoder()
				n := 0
				for off := 0; off < len(pcm); off += 320 {
					n += e.Encode(got[n:], pcm[off:off+320])
				}
				if n != len(ref) {
					t.Fatalf("encoded %d octets, ffmpeg %d", n, len(ref))
				}
				if i := firstDiff(got, ref); i >= 0 {
					t.Fatalf("octet %d: got %#02x, ffmpeg %#02x", i, got[i], ref[i])
				}
			})
		})
	}
}

// TestEncoderSNR decodes our Encoder's output with FFmpeg and requires the
// signal back at more than 20 dB SNR, after removing the codec delay
// (the two QMFs delay the signal by 22 samples).
func TestEncoderSNR(t *testing.T) {
	for _, name := range []string{"tone 1 kHz", "chirp 50 Hz to 7.5 kHz", "speech-like"} {
		pcm := testSignals()[name]
		t.Run(name, func(t *testing.T) {
			enc := make([]byte, len(pcm)/2)
			NewEncoder().Encode(enc, pcm)
			out := ffmpegDecode(t, enc)
			snr, delay := bestSNR(pcm, out, 40)
			t.Logf("SNR %.1f dB at delay %d samples", snr, delay)
			// A pure tone repeats every 16 samples, so only the other
			// signals pin the delay down.
			if name != "tone 1 kHz" && delay != 22 {
				t.Errorf("delay %d samples, want 22 (QMF analysis + synthesis)", delay)
			}
			if snr < 20 {
				t.Errorf("SNR %.1f dB, want > 20 dB", snr)
			}
		})
	}
}

// TestEncoderFullScale covers the one place where the ITU-T reference and
// FFmpeg's encoder differ: the reference limits the transmit-QMF outputs to
// 15 bits, FFmpeg does not. Near full scale the octets may then differ, but
// never before the first sub-band sample that exceeds the limit, and the
// quality is the same.
func TestEncoderFullScale(t *testing.T) {
	const n = 2 * rate
	pcm := make([]int16, n)
	for i := range pcm {
		ti := float64(i) / rate
		pcm[i] = int16(32767 * math.Sin(2*math.Pi*(50*ti+1500*ti*ti)))
	}
	// First octet whose sub-band input exceeds 15 bits.
	probe := NewEncoder()
	firstOver := -1
	for i := 0; i < n/2 && firstOver < 0; i++ {
		xl, xh := probe.split(pcm[2*i], pcm[2*i+1])
		if xl != limit(xl) || xh != limit(xh) {
			firstOver = i
		}
	}
	if firstOver < 0 {
		t.Fatal("test signal never exceeds the 15-bit sub-band range")
	}
	ref := ffmpegEncode(t, pcm)
	got := make([]byte, n/2)
	NewEncoder().Encode(got, pcm)
	if i := firstDiff(got, ref); i >= 0 && i < firstOver {
		t.Fatalf("octet %d differs from ffmpeg before the first limited sample %d", i, firstOver)
	}
	ours, _ := bestSNR(pcm, ffmpegDecode(t, got), 40)
	theirs, _ := bestSNR(pcm, ffmpegDecode(t, ref), 40)
	t.Logf("first limited sample at octet %d; SNR ours %.2f dB, ffmpeg's %.2f dB", firstOver, ours, theirs)
	if ours < theirs-0.5 || ours < 20 {
		t.Errorf("SNR %.2f dB, ffmpeg's encoder %.2f dB", ours, theirs)
	}
}

// bestSNR returns the SNR of out against in over the delays 0..maxDelay and
// the delay at which it is best.
func bestSNR(in, out []int16, maxDelay int) (float64, int) {
	best, bestD := math.Inf(-1), 0
	for d := 0; d <= maxDelay; d++ {
		var sig, noise float64
		for i := 0; i+d < len(out) && i < len(in); i++ {
			s := float64(in[i])
			e := float64(out[i+d]) - s
			sig += s * s
			noise += e * e
		}
		snr := 10 * math.Log10(sig/noise)
		if snr > best {
			best, bestD = snr, d
		}
	}
	return best, bestD
}

// TestDecodeRandomOctetsMatchesFFmpeg feeds arbitrary octets, including
// the codes 0..3 that no encoder sends, to both decoders.
func TestDecodeRandomOctetsMatchesFFmpeg(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct {
		name string
		gen  func() byte
	}{
		{"uniform octets", func() byte { return byte(r.Uint32()) }},
		{"large codes only", func() byte { return byte(r.IntN(4))<<6 | byte(4+r.IntN(2)) }},
		{"unused low codes", func() byte { return byte(r.IntN(256)) & 0xC3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := make([]byte, 16000)
			for i := range src {
				src[i] = tc.gen()
			}
			want := ffmpegDecode(t, src)
			got := make([]int16, 2*len(src))
			NewDecoder().Decode(got, src)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("sample %d: got %d, ffmpeg %d", i, got[i], want[i])
			}
		})
	}
}

func TestDecodeShortDst(t *testing.T) {
	src := []byte{0xFF, 0x7F, 0x3F}
	dst := make([]int16, 5) // room for two octets only
	if n := NewDecoder().Decode(dst, src); n != 4 {
		t.Fatalf("Decode wrote %d samples, want 4", n)
	}
	e := NewEncoder()
	out := make([]byte, 4)
	if n := e.Encode(out, make([]int16, 7)); n != 3 {
		t.Fatalf("Encode of 7 samples wrote %d octets, want 3", n)
	}
}

func TestResetRestartsStream(t *testing.T) {
	pcm := testSignals()["speech-like"][:3200]
	e := NewEncoder()
	a := make([]byte, 1600)
	e.Encode(a, pcm)
	e.Encode(a, pcm) // state now differs from fresh
	e.Reset()
	b := make([]byte, 1600)
	e.Encode(b, pcm)
	c := make([]byte, 1600)
	NewEncoder().Encode(c, pcm)
	if !bytes.Equal(b, c) {
		t.Fatal("encoder output after Reset differs from a new encoder")
	}
	d := NewDecoder()
	x := make([]int16, 3200)
	d.Decode(x, c)
	d.Reset()
	y := make([]int16, 3200)
	d.Decode(y, c)
	z := make([]int16, 3200)
	NewDecoder().Decode(z, c)
	if firstDiff(y, z) >= 0 {
		t.Fatal("decoder output after Reset differs from a new decoder")
	}
}

// TestTables checks the constants against each other: every output level
// lies inside its decision interval, the 4-bit levels are 6-bit decision
// levels, and ilb is 2048·2^(i/32).
func TestTables(t *testing.T) {
	for m := 1; m <= 29; m++ {
		if oq6[m] < q6[m-1] || oq6[m] >= q6[m] {
			t.Errorf("oq6[%d]=%d outside [%d,%d)", m, oq6[m], q6[m-1], q6[m])
		}
	}
	if oq6[30] < q6[29] {
		t.Errorf("oq6[30]=%d below q6[29]=%d", oq6[30], q6[29])
	}
	for i, v := range ilb {
		want := int32(math.Round(2048 * math.Pow(2, float64(i)/32)))
		if v != want {
			t.Errorf("ilb[%d]=%d, want %d", i, v, want)
		}
	}
	// Embedded ADPCM: a 4-bit code groups four 6-bit intervals, and its
	// output level is the decision level in the middle of the group.
	for k := 1; k < len(oq4); k++ {
		if oq4[k] != q6[4*k] {
			t.Errorf("oq4[%d]=%d, want q6[%d]=%d", k, oq4[k], 4*k, q6[4*k])
		}
	}
	for c := range 64 {
		neg, m := lowInterval(c)
		if c >= 4 {
			if lowCode[boolToInt(!neg)][m] != byte(c) {
				t.Errorf("code %d -> interval (%v,%d) -> code %d", c, neg, m, lowCode[boolToInt(!neg)][m])
			}
		}
	}
}

// TestQMFUnrolled checks the written-out QMF against the coefficient table.
func TestQMFUnrolled(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for range 100 {
		var w qmfWindow
		for i := range w {
			w[i] = int32(r.IntN(65536) - 32768)
		}
		xa, xb := w.filter()
		var wa, wb int32
		for k := range 12 {
			wa += w[2*k+1] * qmf[11-k]
			wb += w[2*k] * qmf[k]
		}
		if xa != wa || xb != wb {
			t.Fatalf("filter = (%d,%d), table gives (%d,%d)", xa, xb, wa, wb)
		}
	}
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xFF, 0xFE, 0x7F, 0x00, 0x3F, 0xC0})
	enc := make([]byte, 320)
	NewEncoder().Encode(enc, testSignals()["speech-like"][:640])
	f.Add(enc)
	f.Add(bytes.Repeat([]byte{0x04}, 400))
	f.Add(saturatingRuns(rand.New(rand.NewPCG(1, 1)), 2000))
	f.Fuzz(func(t *testing.T, src []byte) {
		d := NewDecoder()
		dst := make([]int16, 2*len(src))
		if n := d.Decode(dst, src); n != 2*len(src) {
			t.Fatalf("Decode returned %d for %d octets", n, len(src))
		}
		// Splitting the input must not change the output: the decoder
		// carries all its state across calls.
		half := len(src) / 2
		d2 := NewDecoder()
		dst2 := make([]int16, 2*len(src))
		n := d2.Decode(dst2, src[:half])
		n += d2.Decode(dst2[n:], src[half:])
		if n != 2*len(src) {
			t.Fatalf("split decode returned %d", n)
		}
		if i := firstDiff(dst, dst2); i >= 0 {
			t.Fatalf("split decode differs at %d", i)
		}
		// Decoder equals the plain reference-arithmetic decoder.
		ref := make([]int16, 2*len(src))
		newRefDecoder(false).decode(ref, src)
		if i := firstDiff(dst, ref); i >= 0 {
			t.Fatalf("sample %d: %d, reference arithmetic %d", i, dst[i], ref[i])
		}
		// Short dst: decodes what fits and never writes past it.
		short := make([]int16, len(src))
		if n := NewDecoder().Decode(short, src); n != 2*(len(src)/2) {
			t.Fatalf("short dst: %d", n)
		}
	})
}

func BenchmarkDecode160(b *testing.B) {
	src := make([]byte, 160)
	NewEncoder().Encode(src, testSignals()["speech-like"][:320])
	dst := make([]int16, 320)
	d := NewDecoder()
	b.ReportAllocs()
	b.SetBytes(160)
	for b.Loop() {
		d.Decode(dst, src)
	}
}

func BenchmarkEncode320(b *testing.B) {
	src := testSignals()["speech-like"][:320]
	dst := make([]byte, 160)
	e := NewEncoder()
	b.ReportAllocs()
	for b.Loop() {
		e.Encode(dst, src)
	}
}

func ExampleDecoder() {
	enc := NewEncoder()
	pcm := make([]int16, 320) // 20 ms of silence at 16 kHz
	payload := make([]byte, 160)
	n := enc.Encode(payload, pcm)
	out := make([]int16, 2*n)
	fmt.Println(NewDecoder().Decode(out, payload[:n]))
	// Output: 320
}
