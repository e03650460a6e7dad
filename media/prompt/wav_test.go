package prompt

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/callrec/callrec/media/g711"
	"github.com/callrec/callrec/media/wav"
)

// chunk is one RIFF chunk for building test files.
type chunk struct {
	id   string
	body []byte
}

// riff builds a RIFF WAVE file of the given chunks, padding odd chunks.
func riff(chunks ...chunk) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		b = append(b, c.id...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(c.body)))
		b = append(b, c.body...)
		if len(c.body)%2 == 1 {
			b = append(b, 0)
		}
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// fmtChunk returns a 16-byte fmt chunk (WAVEFORMAT/PCMWAVEFORMAT).
func fmtChunk(tag, channels, rate, bits int) chunk {
	block := channels * bits / 8
	b := binary.LittleEndian.AppendUint16(nil, uint16(tag))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*block))
	b = binary.LittleEndian.AppendUint16(b, uint16(block))
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	return chunk{"fmt ", b}
}

// extensibleChunk returns a 40-byte WAVEFORMATEXTENSIBLE fmt chunk whose
// sub-format GUID starts with subTag.
func extensibleChunk(subTag, channels, rate, bits int) chunk {
	c := fmtChunk(0xFFFE, channels, rate, bits)
	b := binary.LittleEndian.AppendUint16(c.body, 22) // cbSize
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	b = binary.LittleEndian.AppendUint32(b, 0x4) // front centre
	b = binary.LittleEndian.AppendUint16(b, uint16(subTag))
	b = append(b, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
	return chunk{"fmt ", b}
}

func le16(s ...int16) []byte {
	var b []byte
	for _, v := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

func TestParseWAV(t *testing.T) {
	ramp := []int16{0, 1000, -1000, 32767, -32768, 12345}
	ulaw := make([]byte, len(ramp))
	g711.EncodeUlaw(ulaw, ramp)
	ulawPCM := make([]int16, len(ramp))
	g711.DecodeUlaw(ulawPCM, ulaw)
	alaw := make([]byte, len(ramp))
	g711.EncodeAlaw(alaw, ramp)
	alawPCM := make([]int16, len(ramp))
	g711.DecodeAlaw(alawPCM, alaw)
	cases := []struct {
		name     string
		file     []byte
		wantPCM  []int16
		wantRate int
	}{
		{"16-bit mono", riff(fmtChunk(1, 1, 8000, 16), chunk{"data", le16(ramp...)}), ramp, 8000},
		{"16-bit stereo mixed to mean", riff(fmtChunk(1, 2, 16000, 16), chunk{"data", le16(100, 300, -32768, -32768, 32767, -32767)}), []int16{200, -32768, 0}, 16000},
		{"mu-law", riff(fmtChunk(7, 1, 8000, 8), chunk{"fact", []byte{6, 0, 0, 0}}, chunk{"data", ulaw}), ulawPCM, 8000},
		{"A-law", riff(fmtChunk(6, 1, 8000, 8), chunk{"data", alaw}), alawPCM, 8000},
		{"8-bit unsigned", riff(fmtChunk(1, 1, 11025, 8), chunk{"data", []byte{128, 255, 0, 129}}), []int16{0, 127 << 8, -128 << 8, 1 << 8}, 11025},
		{"extensible PCM", riff(extensibleChunk(1, 1, 48000, 16), chunk{"data", le16(ramp...)}), ramp, 48000},
		{"odd LIST chunk before data is skipped with its pad byte", riff(fmtChunk(1, 1, 8000, 16), chunk{"LIST", []byte("INFOISFT\x03\x00\x00\x00ab\x00")}, chunk{"data", le16(7, 8)}), []int16{7, 8}, 8000},
		{"data claims more than the file holds", func() []byte {
			b := riff(fmtChunk(1, 1, 8000, 16), chunk{"data", le16(1, 2, 3)})
			binary.LittleEndian.PutUint32(b[len(b)-10:], 1<<30)
			return b
		}(), []int16{1, 2, 3}, 8000},
		{"trailing half sample dropped", riff(fmtChunk(1, 1, 8000, 16), chunk{"data", []byte{1, 0, 2, 0, 3}}), []int16{1, 2}, 8000},
		{"empty data", riff(fmtChunk(1, 1, 8000, 16), chunk{"data", nil}), []int16{}, 8000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pcm, rate, err := ParseWAV(tc.file)
			if err != nil {
				t.Fatalf("ParseWAV: %v", err)
			}
			if rate != tc.wantRate || !slices.Equal(pcm, tc.wantPCM) {
				t.Errorf("got %v at %d Hz, want %v at %d Hz", pcm, rate, tc.wantPCM, tc.wantRate)
			}
		})
	}
}

func TestParseWAVErrors(t *testing.T) {
	data := chunk{"data", le16(1, 2)}
	cases := []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"short header", []byte("RIFF\x04\x00\x00\x00WAV")},
		{"not RIFF", append([]byte("RIFX"), riff(fmtChunk(1, 1, 8000, 16), data)[4:]...)},
		{"not WAVE", append([]byte("RIFF\x00\x00\x00\x00AVI "), riff(fmtChunk(1, 1, 8000, 16), data)[12:]...)},
		{"no data chunk", riff(fmtChunk(1, 1, 8000, 16))},
		{"data before fmt", riff(data, fmtChunk(1, 1, 8000, 16))},
		{"fmt too short", riff(chunk{"fmt ", []byte{1, 0, 1, 0, 0x40, 0x1f, 0, 0}}, data)},
		{"IEEE float", riff(fmtChunk(3, 1, 8000, 32), data)},
		{"24-bit PCM", riff(fmtChunk(1, 1, 8000, 24), data)},
		{"16-bit mu-law", riff(fmtChunk(7, 1, 8000, 16), data)},
		{"three channels", riff(fmtChunk(1, 3, 8000, 16), data)},
		{"zero channels", riff(fmtChunk(1, 0, 8000, 16), data)},
		{"zero rate", riff(fmtChunk(1, 1, 0, 16), data)},
		{"absurd rate", riff(fmtChunk(1, 1, 1<<30, 16), data)},
		{"short extensible", riff(chunk{"fmt ", fmtChunk(0xFFFE, 1, 8000, 16).body}, data)},
		{"extensible float", riff(extensibleChunk(3, 1, 8000, 32), data)},
		{"chunk overruns file", func() []byte {
			b := riff(fmtChunk(1, 1, 8000, 16), chunk{"LIST", []byte("abcd")}, data)
			binary.LittleEndian.PutUint32(b[12+8+16+4:], 1<<31)
			return b
		}()},
		{"truncated chunk header", riff(fmtChunk(1, 1, 8000, 16), data)[:40]},
		{"too many chunks", func() []byte {
			cs := []chunk{fmtChunk(1, 1, 8000, 16)}
			for range maxWAVChunks {
				cs = append(cs, chunk{"JUNK", nil})
			}
			return riff(append(cs, data)...)
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pcm, rate, err := ParseWAV(tc.file)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
			if pcm != nil || rate != 0 {
				t.Errorf("got %d samples at %d Hz with an error", len(pcm), rate)
			}
		})
	}
}

// TestParseWAVReadsOurWriter: files from media/wav's writer (what the
// recorder writes) parse back to the samples written.
func TestParseWAVReadsOurWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.wav")
	w, err := wav.Create(path, 16000, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := sine(16000, 700, 250)
	if err := w.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, rate, err := ParseWAV(b)
	if err != nil || rate != 16000 || !slices.Equal(got, want) {
		t.Errorf("got %d samples at %d Hz (err %v), want the %d written at 16000 Hz", len(got), rate, err, len(want))
	}
}

// FuzzParseWAV: no input panics; what parses is bounded by the input.
func FuzzParseWAV(f *testing.F) {
	for _, p := range []string{"audio/en_US/stop.wav", "audio/da_DK/compliance.wav"} {
		b, err := audioFS.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 600)])
	}
	f.Add(riff(fmtChunk(1, 2, 16000, 16), chunk{"LIST", []byte("INFOx")}, chunk{"data", le16(1, 2, 3, 4)}))
	f.Add(riff(extensibleChunk(1, 1, 48000, 16), chunk{"data", le16(5, 6)}))
	f.Add(riff(fmtChunk(6, 1, 8000, 8), chunk{"data", []byte{0xd5, 0x55}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm, rate, err := ParseWAV(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if rate < 1000 || rate > 192000 || len(pcm) > len(b) {
			t.Fatalf("%d samples at %d Hz from %d bytes", len(pcm), rate, len(b))
		}
	})
}
