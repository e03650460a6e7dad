package audiofile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/media/g711"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/media/tone"
)

// wavFile builds a RIFF WAVE file with the given fmt fields and data,
// the way common tools (sox, Audacity) lay them out: RIFF, fmt, extra
// chunks, data.
func wavFile(tag uint16, channels, rate, bits int, data []byte, extra ...[]byte) []byte {
	le := binary.LittleEndian
	fmtBody := make([]byte, 16)
	le.PutUint16(fmtBody[0:], tag)
	le.PutUint16(fmtBody[2:], uint16(channels))
	le.PutUint32(fmtBody[4:], uint32(rate))
	le.PutUint32(fmtBody[8:], uint32(rate*channels*bits/8))
	le.PutUint16(fmtBody[12:], uint16(channels*bits/8))
	le.PutUint16(fmtBody[14:], uint16(bits))
	var b bytes.Buffer
	chunk := func(id string, body []byte) {
		b.WriteString(id)
		_ = binary.Write(&b, le, uint32(len(body)))
		b.Write(body)
		if len(body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	chunk("fmt ", fmtBody)
	for _, e := range extra {
		chunk(string(e[:4]), e[4:])
	}
	chunk("data", data)
	out := append([]byte("RIFF\x00\x00\x00\x00WAVE"), b.Bytes()...)
	le.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// sine returns n samples of freq Hz at rate, amplitude 0.5 of full scale.
func sine(n, rate int, freq float64) []int16 {
	pcm := make([]int16, n)
	var ph float64
	tone.Sine(pcm, rate, freq, 0.5, &ph)
	return pcm
}

func pcmBytes(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

func ulawBytes(pcm []int16) []byte {
	b := make([]byte, len(pcm))
	for i, s := range pcm {
		b[i] = g711.EncodeUlawSample(s)
	}
	return b
}

func alawBytes(pcm []int16) []byte {
	b := make([]byte, len(pcm))
	for i, s := range pcm {
		b[i] = g711.EncodeAlawSample(s)
	}
	return b
}

// extensible is a WAVE_FORMAT_EXTENSIBLE fmt of 16-bit PCM, mono.
func extensible(rate int, data []byte) []byte {
	f := wavFile(tagExtensible, 1, rate, 16, data)
	// Rebuild with a 40-byte fmt chunk: cbSize 22, valid bits, mask, GUID.
	le := binary.LittleEndian
	body := make([]byte, 40)
	copy(body, f[20:36])
	le.PutUint16(body[16:], 22)
	le.PutUint16(body[18:], 16)
	le.PutUint32(body[20:], 4) // front centre
	le.PutUint16(body[24:], tagPCM)
	copy(body[26:], "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
	var b bytes.Buffer
	b.WriteString("RIFF\x00\x00\x00\x00WAVEfmt ")
	_ = binary.Write(&b, le, uint32(40))
	b.Write(body)
	b.WriteString("data")
	_ = binary.Write(&b, le, uint32(len(data)))
	b.Write(data)
	out := b.Bytes()
	le.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func TestCheck(t *testing.T) {
	tone8 := sine(8000, 8000, 1000)
	list := append([]byte("LIST"), []byte("INFOISFT\x06\x00\x00\x00Lavf6\x00")...)
	tests := []struct {
		name      string
		data      []byte
		want      Info
		wantField string // "" = accepted
		wantText  string
	}{
		{"16-bit PCM 8 kHz", wavFile(tagPCM, 1, 8000, 16, pcmBytes(tone8)), Info{EncodingPCM16, 8000, 8000}, "", ""},
		{"16-bit PCM 16 kHz with a LIST chunk", wavFile(tagPCM, 1, 16000, 16, pcmBytes(sine(16000, 16000, 1000)), list), Info{EncodingPCM16, 16000, 16000}, "", ""},
		{"G.711 µ-law 8 kHz", wavFile(tagMuLaw, 1, 8000, 8, ulawBytes(tone8)), Info{EncodingULaw, 8000, 8000}, "", ""},
		{"G.711 A-law 8 kHz", wavFile(tagALaw, 1, 8000, 8, alawBytes(tone8)), Info{EncodingALaw, 8000, 8000}, "", ""},
		{"extensible 16-bit PCM", extensible(8000, pcmBytes(tone8)), Info{EncodingPCM16, 8000, 8000}, "", ""},
		{"stereo", wavFile(tagPCM, 2, 8000, 16, pcmBytes(tone8)), Info{}, "channels", "has 2 channels; announcements must be mono"},
		{"44.1 kHz", wavFile(tagPCM, 1, 44100, 16, pcmBytes(tone8)), Info{}, "rate", "sampled at 44100 Hz; announcements must be 8000 or 16000 Hz"},
		{"8-bit PCM", wavFile(tagPCM, 1, 8000, 8, ulawBytes(tone8)), Info{}, "encoding", "8-bit PCM"},
		{"32-bit float", wavFile(0x0003, 1, 8000, 32, pcmBytes(tone8)), Info{}, "encoding", "format tag 0x0003"},
		{"MP3 bytes", []byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00"), Info{}, "format", "not a WAV file"},
		{"empty", nil, Info{}, "format", "not a WAV file"},
		{"no data chunk", wavFile(tagPCM, 1, 8000, 16, nil)[:36], Info{}, "data", "no data chunk"},
		{"empty data chunk", wavFile(tagPCM, 1, 8000, 16, nil), Info{}, "data", "holds no audio"},
		{"truncated data", wavFile(tagPCM, 1, 8000, 16, pcmBytes(tone8))[:1000], Info{}, "data", "claims 16000 bytes but only 956 follow"},
		{"data before fmt", append([]byte("RIFF\x10\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x02"), []byte{}...), Info{}, "format", "data chunk comes before its fmt chunk"},
		{"short fmt", []byte("RIFF\x14\x00\x00\x00WAVEfmt \x04\x00\x00\x00\x01\x00\x01\x00"), Info{}, "format", "fmt chunk has 4 bytes"},
		{"too large", wavFile(tagPCM, 1, 8000, 16, make([]byte, MaxAnnouncementBytes)), Info{}, "size", "at most 8388608 (8 MiB)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Check(tc.data)
			if tc.wantField == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Check = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Field != tc.wantField || !bytes.Contains([]byte(fe.Msg), []byte(tc.wantText)) {
				t.Fatalf("Check error = %v; want a %s error containing %q", err, tc.wantField, tc.wantText)
			}
			if !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("error %v does not match callrec.ErrInvalid", err)
			}
		})
	}
}

func TestInfoDuration(t *testing.T) {
	if d := (Info{Rate: 16000, Samples: 24000}).Duration().Seconds(); d != 1.5 {
		t.Errorf("duration %v s, want 1.5", d)
	}
}

func TestDecode(t *testing.T) {
	tone8 := sine(8000, 8000, 1000)
	tests := []struct {
		name string
		data []byte
		n    int // samples at 8 kHz
	}{
		{"PCM 8 kHz", wavFile(tagPCM, 1, 8000, 16, pcmBytes(tone8)), 8000},
		{"PCM 16 kHz resampled", wavFile(tagPCM, 1, 16000, 16, pcmBytes(sine(16000, 16000, 1000))), 8000},
		{"µ-law", wavFile(tagMuLaw, 1, 8000, 8, ulawBytes(tone8)), 8000},
		{"A-law", wavFile(tagALaw, 1, 8000, 8, alawBytes(tone8)), 8000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pcm, err := Decode(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(pcm) != tc.n {
				t.Fatalf("%d samples, want %d", len(pcm), tc.n)
			}
			if f, ratio := tone.Dominant(pcm[400:7600], prompt.Rate, []float64{440, 1000, 2000, 3000}); f != 1000 || ratio < 100 {
				t.Errorf("dominant %v Hz (ratio %.0f), want 1000 Hz", f, ratio)
			}
			// Amplitude 0.5 of full scale: RMS 0.5/√2, kept by the resampler
			// and G.711 within a few percent, up to the last samples.
			if rms := tone.RMS(pcm[400:]); math.Abs(rms-0.5/math.Sqrt2) > 0.02 {
				t.Errorf("RMS %.3f, want %.3f", rms, 0.5/math.Sqrt2)
			}
			if rms := tone.RMS(pcm[len(pcm)-80:]); rms < 0.3 {
				t.Errorf("last 10 ms RMS %.3f: the end of the file was cut", rms)
			}
		})
	}
	if _, err := Decode(wavFile(tagPCM, 2, 8000, 16, pcmBytes(tone8))); !errors.Is(err, callrec.ErrInvalid) {
		t.Errorf("stereo decoded: %v", err)
	}
}

func TestEncodeWAV(t *testing.T) {
	pcm := sine(800, 8000, 1000)
	b, err := EncodeWAV(pcm, 8000)
	if err != nil {
		t.Fatal(err)
	}
	// RIFF size 36 + 1600, fmt: PCM, mono, 8000 Hz, 16000 B/s, align 2, 16 bits; data 1600 bytes.
	want := "RIFF" + string([]byte{0x64, 0x06, 0, 0}) + "WAVEfmt " + "\x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00" + "data\x40\x06\x00\x00"
	if string(b[:44]) != want {
		t.Errorf("header %q, want %q", b[:44], want)
	}
	info, err := Check(b)
	if err != nil || info != (Info{EncodingPCM16, 8000, 800}) {
		t.Errorf("Check(EncodeWAV) = %+v, %v", info, err)
	}
	back, rate, err := prompt.ParseWAV(b)
	if err != nil || rate != 8000 || !slicesEqual(back, pcm) {
		t.Errorf("round trip: rate %d, %d samples, err %v", rate, len(back), err)
	}
	if _, err := EncodeWAV(pcm, 0); !errors.Is(err, callrec.ErrInvalid) {
		t.Errorf("rate 0: %v", err)
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzCheck feeds Check and Decode arbitrary bytes: they never panic, an
// accepted file decodes, and its 8 kHz audio has the length Check
// promised.
func FuzzCheck(f *testing.F) {
	tone8 := sine(400, 8000, 1000)
	f.Add(wavFile(tagPCM, 1, 8000, 16, pcmBytes(tone8)))
	f.Add(wavFile(tagPCM, 1, 16000, 16, pcmBytes(sine(800, 16000, 1000)), append([]byte("LIST"), "INFOISFT\x04\x00\x00\x00sox\x00"...)))
	f.Add(wavFile(tagMuLaw, 1, 8000, 8, ulawBytes(tone8)))
	f.Add(wavFile(tagALaw, 1, 8000, 8, alawBytes(tone8)))
	f.Add(extensible(16000, pcmBytes(tone8)))
	f.Add(wavFile(tagPCM, 2, 44100, 16, pcmBytes(tone8)))
	f.Add([]byte("RIFF\x10\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x02"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Check(data)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Msg == "" {
				t.Fatalf("Check error %v is not a FormatError with a message", err)
			}
			return
		}
		pcm, err := Decode(data)
		if err != nil {
			t.Fatalf("Check accepted %+v but Decode failed: %v", info, err)
		}
		want := info.Samples
		if info.Rate == 16000 {
			want /= 2
		}
		if len(pcm) != want {
			t.Fatalf("Decode gave %d samples, want %d for %+v", len(pcm), want, info)
		}
	})
}
