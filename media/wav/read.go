package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxChunks bounds the chunks walked before "data", so a crafted file
// cannot make the reader loop.
const maxChunks = 64

// layout is what the header parser learns about a file.
type layout struct {
	info      Info
	headerLen int64 // the data size recorded in the header (see ds64)
	hasDS64   bool  // a 28-byte JUNK or ds64 chunk sits at offset 12
	ds64Data  int64 // RF64: data size from ds64
}

// parse reads the header of a WAV file of the given size through r. It
// stops at the data chunk; Info.DataBytes is the size the header records
// (for RF64 from ds64), which may be more or less than the file holds.
func parse(r io.ReaderAt, size int64) (layout, error) {
	var l layout
	le := binary.LittleEndian
	var hdr [12]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return l, fmt.Errorf("RIFF header: %w", formatErr(err))
	}
	switch string(hdr[0:4]) {
	case "RIFF":
	case "RF64":
		l.info.RF64 = true
	default:
		return l, fmt.Errorf("no RIFF or RF64 header: %w", ErrFormat)
	}
	if string(hdr[8:12]) != "WAVE" {
		return l, fmt.Errorf("RIFF form is %q, not WAVE: %w", hdr[8:12], ErrFormat)
	}
	haveFmt, haveDS64 := false, false
	off := int64(12)
	for range maxChunks {
		var ch [8]byte
		if off+8 > size {
			return l, fmt.Errorf("no data chunk: %w", ErrFormat)
		}
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return l, fmt.Errorf("chunk header at %d: %w", off, formatErr(err))
		}
		id, csize := string(ch[0:4]), int64(le.Uint32(ch[4:8]))
		body := off + 8
		switch id {
		case "ds64":
			if off != junkOffset || csize < junkSize || body+junkSize > size {
				return l, fmt.Errorf("misplaced or short ds64 chunk: %w", ErrFormat)
			}
			var ds [junkSize]byte
			if _, err := r.ReadAt(ds[:], body); err != nil {
				return l, fmt.Errorf("ds64 chunk: %w", formatErr(err))
			}
			d := le.Uint64(ds[8:16])
			if d > 1<<62 {
				return l, fmt.Errorf("ds64 data size %d: %w", d, ErrFormat)
			}
			l.ds64Data = int64(d)
			haveDS64 = true
			l.hasDS64 = csize == junkSize
		case "JUNK":
			if off == junkOffset && csize == junkSize {
				l.hasDS64 = true
			}
		case "fmt ":
			if err := parseFmt(r, body, csize, size, &l.info); err != nil {
				return l, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return l, fmt.Errorf("data chunk before fmt chunk: %w", ErrFormat)
			}
			l.info.DataOffset = body
			switch {
			case l.info.RF64 && csize == sizeUnknown:
				if !haveDS64 {
					return l, fmt.Errorf("RF64 file without ds64 chunk: %w", ErrFormat)
				}
				l.headerLen = l.ds64Data
			default:
				l.headerLen = csize
			}
			l.info.DataBytes = l.headerLen
			l.info.Frames = l.headerLen / int64(2*l.info.Channels)
			return l, nil
		}
		next := body + csize + csize&1 // chunks are padded to even size
		if next > size {
			return l, fmt.Errorf("chunk %q at %d runs past the end of the file: %w", id, off, ErrFormat)
		}
		off = next
	}
	return l, fmt.Errorf("no data chunk in the first %d chunks: %w", maxChunks, ErrFormat)
}

// parseFmt reads a fmt chunk body and fills the format fields of info.
func parseFmt(r io.ReaderAt, body, csize, size int64, info *Info) error {
	le := binary.LittleEndian
	if csize < 16 || body+16 > size {
		return fmt.Errorf("fmt chunk of %d bytes: %w", csize, ErrFormat)
	}
	var f [40]byte
	n := min(csize, 40, size-body)
	if _, err := r.ReadAt(f[:n], body); err != nil {
		return fmt.Errorf("fmt chunk: %w", formatErr(err))
	}
	tag := le.Uint16(f[0:])
	channels := int(le.Uint16(f[2:]))
	rate := int64(le.Uint32(f[4:]))
	blockAlign := int(le.Uint16(f[12:]))
	bits := int(le.Uint16(f[14:]))
	if tag == formatExtensible {
		// WAVE_FORMAT_EXTENSIBLE: cbSize at 16, sub-format GUID at 24 whose
		// first two bytes are the format tag.
		if n < 40 || le.Uint16(f[16:]) < 22 {
			return fmt.Errorf("short WAVE_FORMAT_EXTENSIBLE fmt chunk: %w", ErrFormat)
		}
		tag = le.Uint16(f[24:])
	}
	switch {
	case tag != formatPCM:
		return fmt.Errorf("format tag %#x is not PCM: %w", tag, ErrFormat)
	case bits != bitsPerSample:
		return fmt.Errorf("%d bits per sample, want 16: %w", bits, ErrFormat)
	case channels < 1:
		return fmt.Errorf("no channels: %w", ErrFormat)
	case blockAlign != 2*channels:
		return fmt.Errorf("block align %d for %d channels: %w", blockAlign, channels, ErrFormat)
	case rate < 1 || rate > 1_000_000:
		return fmt.Errorf("sample rate %d: %w", rate, ErrFormat)
	}
	info.Rate, info.Channels, info.Bits = int(rate), channels, bits
	return nil
}

// formatErr turns a short read into ErrFormat.
func formatErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("file too short: %w", ErrFormat)
	}
	return err
}

// ReadInfo reads the header of the WAV file at path. A data chunk that
// extends past the end of the file is an error wrapping ErrTruncated (the
// writer died; Repair the file). A file whose writer died before its first
// Flush still has zero sizes and reads as empty.
func ReadInfo(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("wav: read %w", err)
	}
	defer f.Close()
	return readInfo(f, path)
}

func readInfo(f *os.File, path string) (Info, error) {
	st, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("wav: read %s: %w", path, err)
	}
	l, err := parse(f, st.Size())
	if err != nil {
		return Info{}, fmt.Errorf("wav: read %s: %w", path, err)
	}
	if end := l.info.DataOffset + l.info.DataBytes; end > st.Size() {
		return l.info, fmt.Errorf("wav: read %s: header says %d data bytes, file holds %d: %w",
			path, l.info.DataBytes, st.Size()-l.info.DataOffset, ErrTruncated)
	}
	return l.info, nil
}

// ReadFile reads a whole WAV file and returns its samples de-interleaved,
// one slice per channel. It loads everything into memory: it is meant for
// tests and tools, not for recordings of unbounded length.
func ReadFile(path string) (Info, [][]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, nil, fmt.Errorf("wav: read %w", err)
	}
	defer f.Close()
	info, err := readInfo(f, path)
	if err != nil {
		return info, nil, err
	}
	data := make([]byte, info.Frames*int64(2*info.Channels))
	if _, err := f.ReadAt(data, info.DataOffset); err != nil {
		return info, nil, fmt.Errorf("wav: read %s: samples: %w", path, err)
	}
	chans := make([][]int16, info.Channels)
	for c := range chans {
		chans[c] = make([]int16, info.Frames)
	}
	for i := int64(0); i < info.Frames; i++ {
		for c := range chans {
			chans[c][i] = int16(binary.LittleEndian.Uint16(data[(i*int64(info.Channels)+int64(c))*2:]))
		}
	}
	return info, chans, nil
}

// Repair fixes the header of a WAV file whose writer stopped before Close:
// the audio is taken to run from the data chunk to the end of the file (as
// the Writer lays it out), a trailing partial frame is cut off, and the
// RIFF and data sizes are rewritten from that (RF64 when the data passes
// the RIFF limit, which needs the 28-byte JUNK chunk the Writer reserves).
// It works on a file whose header still has the placeholder zero sizes and
// is harmless on a complete file. The file is fsynced before Repair
// returns.
func Repair(path string) (Info, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return Info{}, fmt.Errorf("wav: repair: %w", err)
	}
	info, err := repair(f)
	if cerr := f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return Info{}, fmt.Errorf("wav: repair %s: %w", path, err)
	}
	return info, nil
}

func repair(f *os.File) (Info, error) {
	st, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	size := st.Size()
	l, err := parse(f, size)
	if err != nil {
		return Info{}, err
	}
	info := l.info
	block := int64(2 * info.Channels)
	info.DataBytes = (size - info.DataOffset) / block * block
	info.Frames = info.DataBytes / block
	if end := info.DataOffset + info.DataBytes; end < size {
		if err := f.Truncate(end); err != nil {
			return Info{}, fmt.Errorf("cut partial frame: %w", err)
		}
	}
	// The Writer's rule (data above rf64Threshold), stated for any data
	// offset: the RIFF size must fit its 32-bit field with room to spare.
	info.RF64 = info.DataOffset+info.DataBytes > rf64Threshold+headerSize
	if info.RF64 && !l.hasDS64 {
		return Info{}, fmt.Errorf("%d data bytes need RF64 but there is no 28-byte JUNK chunk at offset 12: %w",
			info.DataBytes, ErrFormat)
	}
	if err := patchSizes(f, info, l.hasDS64); err != nil {
		return Info{}, fmt.Errorf("patch header: %w", err)
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("sync: %w", err)
	}
	return info, nil
}

// patchSizes rewrites the size fields of a parsed file for info.DataBytes:
// the RIFF (or RF64) header, the JUNK/ds64 chunk when present, and the data
// chunk size.
func patchSizes(f io.WriterAt, info Info, hasDS64 bool) error {
	le := binary.LittleEndian
	riffSize := info.DataOffset + info.DataBytes - 8
	var riff [8]byte
	if info.RF64 {
		copy(riff[:], "RF64")
		le.PutUint32(riff[4:], sizeUnknown)
	} else {
		copy(riff[:], "RIFF")
		le.PutUint32(riff[4:], uint32(riffSize))
	}
	if _, err := f.WriteAt(riff[:], 0); err != nil {
		return err
	}
	if hasDS64 {
		var ds [8 + junkSize]byte
		le.PutUint32(ds[4:], junkSize)
		if info.RF64 {
			copy(ds[:], "ds64")
			le.PutUint64(ds[8:], uint64(riffSize))
			le.PutUint64(ds[16:], uint64(info.DataBytes))
			le.PutUint64(ds[24:], uint64(info.Frames))
		} else {
			copy(ds[:], "JUNK")
		}
		if _, err := f.WriteAt(ds[:], junkOffset); err != nil {
			return err
		}
	}
	var dsz [4]byte
	if info.RF64 {
		le.PutUint32(dsz[:], sizeUnknown)
	} else {
		le.PutUint32(dsz[:], uint32(info.DataBytes))
	}
	_, err := f.WriteAt(dsz[:], info.DataOffset-4)
	return err
}
