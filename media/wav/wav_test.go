package wav

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Independent readers used here: sox/soxi (Debian package sox) and ffprobe
// (Debian package ffmpeg). The test script installs both.

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed as an independent WAV reader (Debian: apt-get install -y sox ffmpeg): %v", name, err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, stderr.String())
	}
	return string(out)
}

// ramp returns n interleaved frames whose samples are all distinct.
func ramp(frames, channels int, seed int16) []int16 {
	s := make([]int16, frames*channels)
	for i := range s {
		s[i] = seed + int16(i*37)
	}
	return s
}

func writeFile(t *testing.T, path string, rate, channels int, samples []int16) {
	t.Helper()
	w, err := Create(path, rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(samples); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func deinterleave(s []int16, channels int) [][]int16 {
	out := make([][]int16, channels)
	for i, v := range s {
		out[i%channels] = append(out[i%channels], v)
	}
	return out
}

func equalChannels(t *testing.T, got, want [][]int16) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d channels, want %d", len(got), len(want))
	}
	for c := range want {
		if len(got[c]) != len(want[c]) {
			t.Fatalf("channel %d: %d samples, want %d", c, len(got[c]), len(want[c]))
		}
		for i := range want[c] {
			if got[c][i] != want[c][i] {
				t.Fatalf("channel %d sample %d: %d, want %d", c, i, got[c][i], want[c][i])
			}
		}
	}
}

// TestHeaderBytes pins the exact layout of a finished file.
func TestHeaderBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.wav")
	writeFile(t, path, 8000, 2, []int16{1, -1, 0x1234, -32768, 32767, 2})
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"52494646", "54000000", "57415645", // "RIFF", 72+12, "WAVE"
		"4a554e4b", "1c000000", strings.Repeat("00", 28), // "JUNK", 28, zeros
		"666d7420", "10000000", // "fmt ", 16
		"0100", "0200", "401f0000", "007d0000", "0400", "1000", // PCM, 2 ch, 8000 Hz, 32000 B/s, align 4, 16 bits
		"64617461", "0c000000", // "data", 12
		"0100", "ffff", "3412", "0080", "ff7f", "0200",
	}, "")
	if h := hex.EncodeToString(got); h != want {
		t.Fatalf("file bytes\n got %s\nwant %s", h, want)
	}
}

// TestSoxReadsOurFiles checks the files with sox, an independent reader:
// format fields, length and every sample.
func TestSoxReadsOurFiles(t *testing.T) {
	for _, tc := range []struct {
		name           string
		rate, channels int
		frames         int
	}{
		{"mono 8 kHz", 8000, 1, 8000},
		{"stereo 16 kHz across buffer boundaries", 16000, 2, 50000},
		{"stereo 48 kHz empty", 48000, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.wav")
			samples := ramp(tc.frames, tc.channels, 5)
			w, err := Create(path, tc.rate, tc.channels)
			if err != nil {
				t.Fatal(err)
			}
			// Write in 20 ms packets, flushing every second, as the
			// recorder does.
			per := tc.rate / 50 * tc.channels
			for off := 0; off < len(samples); off += per {
				if err := w.Write(samples[off:min(off+per, len(samples))]); err != nil {
					t.Fatal(err)
				}
				if (off/per)%50 == 49 {
					if err := w.Flush(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w.Frames() != int64(tc.frames) {
				t.Errorf("Frames() = %d", w.Frames())
			}
			fields := map[string]string{
				"-r": strconv.Itoa(tc.rate),
				"-c": strconv.Itoa(tc.channels),
				"-s": strconv.Itoa(tc.frames),
				"-b": "16",
				"-e": "Signed Integer PCM",
			}
			for flag, want := range fields {
				if got := strings.TrimSpace(run(t, "soxi", flag, path)); got != want {
					t.Errorf("soxi %s = %q, want %q", flag, got, want)
				}
			}
			raw := run(t, "sox", "-D", path, "-t", "raw", "-e", "signed", "-b", "16", "-L", "-")
			if len(raw) != 2*len(samples) {
				t.Fatalf("sox decoded %d bytes, want %d", len(raw), 2*len(samples))
			}
			for i, v := range samples {
				if got := int16(binary.LittleEndian.Uint16([]byte(raw[2*i:]))); got != v {
					t.Fatalf("sox sample %d = %d, want %d", i, got, v)
				}
			}
			info, chans, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := Info{Rate: tc.rate, Channels: tc.channels, Bits: 16, Frames: int64(tc.frames),
				DataOffset: 80, DataBytes: int64(2 * len(samples))}
			if info != want {
				t.Errorf("ReadFile info %+v, want %+v", info, want)
			}
			if tc.frames > 0 {
				equalChannels(t, chans, deinterleave(samples, tc.channels))
			}
		})
	}
}

// TestFlushThenCrash leaves a writer without Close (as a crash would) and
// checks that every frame written before the last Flush survives.
func TestFlushThenCrash(t *testing.T) {
	for _, tc := range []struct {
		name            string
		flushed, after  int // frames before and after the last Flush
		wantAfterRepair int
	}{
		// Unflushed frames below the buffer size never reach the disk.
		{"small tail lost", 4000, 300, 4000},
		// Past 64 KiB the buffer writes itself out: Repair finds those
		// frames too although the header does not count them yet.
		{"full buffer reaches disk", 4000, 20000, 4000 + bufferSize/4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.wav")
			w, err := Create(path, 8000, 2)
			if err != nil {
				t.Fatal(err)
			}
			all := ramp(tc.flushed+tc.after, 2, -100)
			if err := w.Write(all[:2*tc.flushed]); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := w.Write(all[2*tc.flushed:]); err != nil {
				t.Fatal(err)
			}
			// Crash: the process dies; the kernel closes the descriptor.
			w.f.Close()

			info, err := ReadInfo(path)
			if err != nil {
				t.Fatalf("ReadInfo before Repair: %v", err)
			}
			if info.Frames != int64(tc.flushed) {
				t.Errorf("header after Flush counts %d frames, want %d", info.Frames, tc.flushed)
			}
			info, err = Repair(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Frames != int64(tc.wantAfterRepair) {
				t.Fatalf("Repair found %d frames, want %d", info.Frames, tc.wantAfterRepair)
			}
			_, chans, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			equalChannels(t, chans, deinterleave(all[:2*tc.wantAfterRepair], 2))
		})
	}
}

func TestRepair(t *testing.T) {
	t.Run("placeholder header with zero sizes", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "z.wav")
		w, err := Create(path, 16000, 1)
		if err != nil {
			t.Fatal(err)
		}
		samples := ramp(40000, 1, 3) // 80000 bytes: one buffer reaches disk
		if err := w.Write(samples); err != nil {
			t.Fatal(err)
		}
		w.f.Close() // crash before any Flush
		if info, err := ReadInfo(path); err != nil || info.Frames != 0 {
			t.Fatalf("before repair: %+v, %v", info, err)
		}
		info, err := Repair(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Frames != bufferSize/2 {
			t.Fatalf("repaired %d frames, want %d", info.Frames, bufferSize/2)
		}
		_, chans, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		equalChannels(t, chans, [][]int16{samples[:bufferSize/2]})
		if got := strings.TrimSpace(run(t, "soxi", "-s", path)); got != strconv.Itoa(bufferSize/2) {
			t.Errorf("soxi -s = %s", got)
		}
	})
	t.Run("RIFF and data sizes both zero", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "zz.wav")
		samples := ramp(50, 2, 7)
		writeFile(t, path, 8000, 2, samples)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, off := range []int64{4, 76} { // RIFF size, data size
			if _, err := f.WriteAt(make([]byte, 4), off); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		info, err := Repair(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Frames != 50 {
			t.Fatalf("repaired %d frames", info.Frames)
		}
		b, _ := os.ReadFile(path)
		if riff := binary.LittleEndian.Uint32(b[4:]); riff != 72+200 {
			t.Errorf("RIFF size %d", riff)
		}
		_, chans, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		equalChannels(t, chans, deinterleave(samples, 2))
	})
	t.Run("truncated mid-frame", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "t.wav")
		samples := ramp(1000, 2, 9)
		writeFile(t, path, 8000, 2, samples)
		if err := os.Truncate(path, 80+1000*4-3); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadInfo(path); !errors.Is(err, ErrTruncated) {
			t.Fatalf("ReadInfo of truncated file: %v, want ErrTruncated", err)
		}
		info, err := Repair(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Frames != 999 || info.DataBytes != 999*4 {
			t.Fatalf("repaired %+v", info)
		}
		st, _ := os.Stat(path)
		if st.Size() != 80+999*4 {
			t.Errorf("file is %d bytes, want %d", st.Size(), 80+999*4)
		}
		_, chans, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		equalChannels(t, chans, deinterleave(samples[:999*2], 2))
	})
	t.Run("complete file is left as it is", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ok.wav")
		writeFile(t, path, 8000, 1, ramp(100, 1, 0))
		before, _ := os.ReadFile(path)
		if _, err := Repair(path); err != nil {
			t.Fatal(err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Error("Repair changed a complete file")
		}
	})
	t.Run("file shorter than the header", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "short.wav")
		writeFile(t, path, 8000, 1, nil)
		if err := os.Truncate(path, 50); err != nil {
			t.Fatal(err)
		}
		if _, err := Repair(path); !errors.Is(err, ErrFormat) {
			t.Fatalf("Repair: %v, want ErrFormat", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := Repair(filepath.Join(t.TempDir(), "none.wav")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Repair: %v", err)
		}
	})
}

// withThreshold lowers the RF64 switch point for one test.
func withThreshold(t *testing.T, n int64) {
	t.Helper()
	old := rf64Threshold
	rf64Threshold = n
	t.Cleanup(func() { rf64Threshold = old })
}

func TestRF64(t *testing.T) {
	withThreshold(t, 1000)
	path := filepath.Join(t.TempDir(), "big.wav")
	w, err := Create(path, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	samples := ramp(600, 2, 1)
	if err := w.Write(samples[:400]); err != nil { // 200 frames, 800 bytes
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if info, err := ReadInfo(path); err != nil || info.RF64 || info.Frames != 200 {
		t.Fatalf("below the threshold: %+v, %v", info, err)
	}
	if err := w.Write(samples[400:]); err != nil { // 2400 bytes in all
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"52463634", "ffffffff", "57415645", // "RF64", -1, "WAVE"
		"64733634", "1c000000", // "ds64", 28
		"a809000000000000", // RIFF size 72+2400 = 2472
		"6009000000000000", // data size 2400
		"5802000000000000", // sample count 600
		"00000000",         // table length
		"666d7420", "10000000", "0100", "0200", "401f0000", "007d0000", "0400", "1000",
		"64617461", "ffffffff", // "data", -1
	}, "")
	if h := hex.EncodeToString(got[:80]); h != want {
		t.Fatalf("RF64 header\n got %s\nwant %s", h, want)
	}
	info, chans, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !info.RF64 || info.Frames != 600 || info.DataBytes != 2400 {
		t.Fatalf("ReadFile info %+v", info)
	}
	equalChannels(t, chans, deinterleave(samples, 2))

	// Independent readers.
	probe := run(t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels,duration_ts",
		"-of", "default=noprint_wrappers=1", path)
	for _, line := range []string{"codec_name=pcm_s16le", "sample_rate=8000", "channels=2", "duration_ts=600"} {
		if !strings.Contains(probe, line) {
			t.Errorf("ffprobe output lacks %q:\n%s", line, probe)
		}
	}
	raw := run(t, "ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-")
	if len(raw) != 2400 || !bytes.Equal([]byte(raw), got[80:]) {
		t.Errorf("ffmpeg decoded %d bytes, not the 2400 written", len(raw))
	}
	if s := strings.TrimSpace(run(t, "soxi", "-s", path)); s != "600" {
		t.Errorf("soxi -s = %s, want 600", s)
	}
}

func TestRF64Repair(t *testing.T) {
	withThreshold(t, 1000)
	path := filepath.Join(t.TempDir(), "big.wav")
	w, err := Create(path, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	samples := ramp(bufferSize, 1, 1) // two buffers' worth reach the disk
	if err := w.Write(samples); err != nil {
		t.Fatal(err)
	}
	w.f.Close()
	info, err := Repair(path)
	if err != nil {
		t.Fatal(err)
	}
	if !info.RF64 || info.Frames != bufferSize {
		t.Fatalf("repaired %+v", info)
	}
	got, err := ReadInfo(path)
	if err != nil || got != info {
		t.Fatalf("ReadInfo after Repair: %+v, %v; Repair said %+v", got, err, info)
	}
	if d := strings.TrimSpace(run(t, "ffprobe", "-v", "error", "-show_entries", "stream=duration_ts",
		"-of", "default=noprint_wrappers=1:nokey=1", path)); d != strconv.Itoa(bufferSize) {
		t.Errorf("ffprobe duration_ts = %s", d)
	}

	// Shrinking below the threshold turns it back into RIFF.
	if err := os.Truncate(path, 80+600); err != nil {
		t.Fatal(err)
	}
	info, err = Repair(path)
	if err != nil || info.RF64 || info.Frames != 300 {
		t.Fatalf("repaired %+v, %v", info, err)
	}
	if s := strings.TrimSpace(run(t, "soxi", "-s", path)); s != "300" {
		t.Errorf("soxi -s = %s", s)
	}
}

// TestReadForeignFiles reads files written by sox and ffmpeg: WAVE_FORMAT_
// EXTENSIBLE, extra chunks before data, and rejects what is not 16-bit PCM.
func TestReadForeignFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		make     []string
		channels int
		frames   int64
		wantErr  error
	}{
		{"sox extensible 3 channels", []string{"sox", "-n", "-r", "8000", "-c", "3", "-b", "16", "@", "synth", "0.1", "sine", "440"}, 3, 800, nil},
		{"ffmpeg with LIST chunk", []string{"ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:r=16000:d=0.25", "-metadata", "title=x", "-c:a", "pcm_s16le", "@"}, 1, 4000, nil},
		{"8-bit rejected", []string{"sox", "-n", "-r", "8000", "-b", "8", "-e", "unsigned", "@", "synth", "0.1", "sine", "440"}, 0, 0, ErrFormat},
		{"float rejected", []string{"sox", "-n", "-r", "8000", "-b", "32", "-e", "floating-point", "@", "synth", "0.1", "sine", "440"}, 0, 0, ErrFormat},
		{"mu-law rejected", []string{"sox", "-n", "-r", "8000", "-e", "u-law", "@", "synth", "0.1", "sine", "440"}, 0, 0, ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".wav")
			args := make([]string, 0, len(tc.make))
			for _, a := range tc.make[1:] {
				if a == "@" {
					a = path
				}
				args = append(args, a)
			}
			run(t, tc.make[0], args...)
			info, chans, err := ReadFile(path)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ReadFile: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Channels != tc.channels || info.Frames != tc.frames {
				t.Fatalf("info %+v", info)
			}
			raw := run(t, "sox", "-D", path, "-t", "raw", "-e", "signed", "-b", "16", "-L", "-")
			for i := range int(info.Frames) * info.Channels {
				want := int16(binary.LittleEndian.Uint16([]byte(raw[2*i:])))
				if got := chans[i%info.Channels][i/info.Channels]; got != want {
					t.Fatalf("sample %d: %d, sox %d", i, got, want)
				}
			}
		})
	}
}

func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(filepath.Join(dir, "a.wav"), 0, 1); !errors.Is(err, ErrFormat) {
		t.Errorf("rate 0: %v", err)
	}
	if _, err := Create(filepath.Join(dir, "b.wav"), 8000, 0); !errors.Is(err, ErrFormat) {
		t.Errorf("0 channels: %v", err)
	}
	if _, err := Create(filepath.Join(dir, "no", "c.wav"), 8000, 1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing directory: %v", err)
	}
	w, err := Create(filepath.Join(dir, "d.wav"), 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1, 2, 3}); !errors.Is(err, ErrFormat) {
		t.Errorf("half a frame: %v", err)
	}
	if err := w.Write([]int16{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1, 2}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("flush after close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second close: %v", err)
	}
	if w.Frames() != 1 {
		t.Errorf("Frames after close = %d", w.Frames())
	}
}

// TestWriteNoSyscallPerCall checks the buffering: small writes stay in
// memory until the buffer fills.
func TestWriteNoSyscallPerCall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.wav")
	w, err := Create(path, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pkt := ramp(160, 2, 0) // 20 ms stereo, 640 bytes
	for range 102 {        // 65280 bytes: just under the buffer
		if err := w.Write(pkt); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := os.Stat(path); st.Size() != headerSize {
		t.Fatalf("file grew to %d bytes before the buffer filled", st.Size())
	}
	if err := w.Write(pkt); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Size() != headerSize+bufferSize {
		t.Fatalf("file is %d bytes after the buffer filled, want %d", st.Size(), headerSize+bufferSize)
	}
}

func seedFiles(f *testing.F) {
	dir := f.TempDir()
	for i, tc := range []struct{ rate, ch, frames int }{{8000, 1, 10}, {16000, 2, 3}, {48000, 2, 0}} {
		path := filepath.Join(dir, strconv.Itoa(i)+".wav")
		w, err := Create(path, tc.rate, tc.ch)
		if err != nil {
			f.Fatal(err)
		}
		if err := w.Write(ramp(tc.frames, tc.ch, 1)); err != nil {
			f.Fatal(err)
		}
		if i == 1 {
			w.f.Close() // crashed: placeholder sizes
		} else if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	old := rf64Threshold
	rf64Threshold = 8
	var h [headerSize]byte
	buildHeader(&h, 8000, 2, 16)
	rf64Threshold = old
	f.Add(append(h[:], make([]byte, 16)...))
	// WAVE_FORMAT_EXTENSIBLE header as sox writes it.
	ext, _ := hex.DecodeString("52494646" + "4c000000" + "57415645" + "666d7420" + "28000000" + "feff" + "0300" + "401f0000" +
		"c05d0000" + "0600" + "1000" + "1600" + "1000" + "07000000" + "0100000000001000800000aa00389b71" + "64617461" + "0c000000" +
		"010002000300040005000600")
	f.Add(ext)
}

func FuzzReadInfo(f *testing.F) {
	seedFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := parse(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error not wrapping ErrFormat: %v", err)
			}
			return
		}
		i := l.info
		if i.Channels < 1 || i.Rate < 1 || i.Bits != 16 || i.DataOffset < 12 || i.DataOffset > int64(len(b)) ||
			i.DataBytes < 0 || i.Frames != i.DataBytes/int64(2*i.Channels) {
			t.Fatalf("inconsistent info %+v for %d bytes", i, len(b))
		}
	})
}

func FuzzRepair(f *testing.F) {
	seedFiles(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "f.wav")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		info, err := Repair(path)
		if err != nil {
			return
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() != info.DataOffset+info.DataBytes || info.DataBytes%int64(2*info.Channels) != 0 {
			t.Fatalf("repaired file of %d bytes, info %+v", st.Size(), info)
		}
		again, err := ReadInfo(path)
		if err != nil {
			t.Fatalf("ReadInfo after Repair: %v", err)
		}
		if again != info {
			t.Fatalf("ReadInfo %+v, Repair %+v", again, info)
		}
	})
}

func BenchmarkWrite20msStereo(b *testing.B) {
	w, err := Create(filepath.Join(b.TempDir(), "b.wav"), 8000, 2)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	pkt := ramp(160, 2, 0)
	b.ReportAllocs()
	b.SetBytes(int64(2 * len(pkt)))
	for b.Loop() {
		if err := w.Write(pkt); err != nil {
			b.Fatal(err)
		}
	}
}
