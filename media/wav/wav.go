// Package wav writes, reads and repairs RIFF/WAVE files of 16-bit PCM, the
// format of callrec's recordings.
//
// The Writer streams a recording to disk while the call runs: samples go
// into a 64 KiB buffer (no system call per packet), Flush writes the buffer
// and patches the header so that a crash after it loses nothing written
// before it, and Close finalises and fsyncs the file. The header reserves a
// 28-byte JUNK chunk after the RIFF header, so a file that outgrows the
// 4 GiB RIFF limit becomes RF64 (EBU Tech 3306) in place: the JUNK chunk
// turns into the ds64 chunk without moving the audio.
//
// Repair fixes the header of a file whose writer died (sizes from the file
// length, a trailing partial frame cut off). ReadInfo and ReadFile read
// files written by this package or by other tools (RIFF or RF64, PCM or
// WAVE_FORMAT_EXTENSIBLE with PCM, 16-bit).
//
// This package never panics on a malformed file; every header value is
// checked before use and bad input is an error wrapping ErrFormat.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// Layout of the files the Writer produces (offsets in bytes):
//
//	 0 "RIFF" or "RF64", RIFF size (0xFFFFFFFF for RF64), "WAVE"
//	12 "JUNK" or "ds64", 28, then 28 bytes: RIFF size, data size and
//	   sample count as uint64, table length as uint32 (EBU Tech 3306 §3)
//	48 "fmt ", 16, WAVE_FORMAT_PCM, channels, rate, byte rate, block
//	   align, 16 bits
//	72 "data", data size (0xFFFFFFFF for RF64)
//	80 samples, interleaved, little-endian
const (
	junkOffset = 12
	junkSize   = 28
	fmtOffset  = junkOffset + 8 + junkSize
	dataHdrOff = fmtOffset + 8 + 16
	headerSize = dataHdrOff + 8 // 80: offset of the first sample

	formatPCM        = 1
	formatExtensible = 0xFFFE
	bitsPerSample    = 16
	sizeUnknown      = 0xFFFFFFFF // RF64: "see ds64"
)

// rf64Threshold is the data size above which the header is written as RF64.
// A RIFF size field holds at most 2^32−1 bytes (header included); switching
// 1 KiB early leaves room for the header. Tests lower it.
var rf64Threshold int64 = 0xFFFFFFFF - 1024

// bufferSize is the Writer's buffer: one write(2) per 64 KiB.
const bufferSize = 64 << 10

// Errors; test with errors.Is.
var (
	// ErrFormat reports a file that is not a WAV file this package reads.
	ErrFormat = errors.New("wav: unsupported or malformed file")
	// ErrTruncated reports a data chunk that extends past the end of the
	// file (a file whose writer died; see Repair).
	ErrTruncated = errors.New("wav: data chunk extends past end of file")
	// ErrClosed reports use of a Writer after Close.
	ErrClosed = errors.New("wav: writer closed")
)

// Info describes a WAV file.
type Info struct {
	Rate       int   // samples per second per channel
	Channels   int   // interleaved channels
	Bits       int   // bits per sample (always 16)
	Frames     int64 // samples per channel
	DataOffset int64 // file offset of the first sample
	DataBytes  int64 // bytes of sample data
	RF64       bool  // the header is RF64 (EBU Tech 3306)
}

// Writer streams interleaved 16-bit PCM to a WAV file. It is not safe for
// concurrent use.
type Writer struct {
	f         *os.File
	path      string
	rate      int
	channels  int
	buf       []byte
	dataBytes int64 // bytes accepted by Write (written or buffered)
	err       error // first write error; sticky
	closed    bool
}

// Create creates (or truncates) the file at path, mode 0600, and writes a
// placeholder header with zero sizes, so that even a file whose writer
// dies before the first Flush can be repaired. rate is the sample rate and
// channels the number of interleaved channels (1..16).
func Create(path string, rate, channels int) (*Writer, error) {
	if rate <= 0 || rate > 1_000_000 {
		return nil, fmt.Errorf("wav: create %s: sample rate %d out of range: %w", path, rate, ErrFormat)
	}
	if channels < 1 || channels > 16 {
		return nil, fmt.Errorf("wav: create %s: %d channels out of range 1..16: %w", path, channels, ErrFormat)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("wav: create: %w", err)
	}
	w := &Writer{f: f, path: path, rate: rate, channels: channels, buf: make([]byte, 0, bufferSize)}
	var h [headerSize]byte
	buildHeader(&h, rate, channels, 0)
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("wav: create %s: write header: %w", path, err)
	}
	return w, nil
}

// Write appends interleaved samples (frame by frame, channel by channel);
// len(frames) must be a multiple of the channel count. Samples are
// buffered and reach the file when the buffer fills, on Flush or on Close.
func (w *Writer) Write(frames []int16) error {
	if w.closed {
		return fmt.Errorf("wav: write %s: %w", w.path, ErrClosed)
	}
	if w.err != nil {
		return w.err
	}
	if len(frames)%w.channels != 0 {
		return fmt.Errorf("wav: write %s: %d samples is not a whole number of %d-channel frames: %w",
			w.path, len(frames), w.channels, ErrFormat)
	}
	for len(frames) > 0 {
		n := min((cap(w.buf)-len(w.buf))/2, len(frames))
		b := w.buf[len(w.buf) : len(w.buf)+2*n]
		for i, s := range frames[:n] {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
		}
		w.buf = w.buf[:len(w.buf)+2*n]
		w.dataBytes += int64(2 * n)
		frames = frames[n:]
		if len(w.buf) == cap(w.buf) {
			if err := w.writeBuffer(); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeBuffer writes the buffered samples to the file.
func (w *Writer) writeBuffer() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.f.Write(w.buf); err != nil {
		w.err = fmt.Errorf("wav: write %s: %w", w.path, err)
		return w.err
	}
	w.buf = w.buf[:0]
	return nil
}

// Flush writes the buffered samples and patches the header sizes (RF64 once
// the data passes the RIFF limit). After Flush returns, a crash of the
// process loses nothing written before it; surviving a power loss also
// needs Sync.
func (w *Writer) Flush() error {
	if w.closed {
		return fmt.Errorf("wav: flush %s: %w", w.path, ErrClosed)
	}
	if w.err != nil {
		return w.err
	}
	if err := w.writeBuffer(); err != nil {
		return err
	}
	var h [headerSize]byte
	buildHeader(&h, w.rate, w.channels, w.dataBytes)
	if _, err := w.f.WriteAt(h[:], 0); err != nil {
		w.err = fmt.Errorf("wav: flush %s: patch header: %w", w.path, err)
		return w.err
	}
	return nil
}

// Sync flushes and then fsyncs the file.
func (w *Writer) Sync() error {
	if err := w.Flush(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("wav: sync %s: %w", w.path, err)
	}
	return nil
}

// Close flushes, patches the header, fsyncs and closes the file. The
// Writer is unusable afterwards, except for Frames.
func (w *Writer) Close() error {
	if w.closed {
		return fmt.Errorf("wav: close %s: %w", w.path, ErrClosed)
	}
	err := w.Sync()
	w.closed = true
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("wav: close %s: %w", w.path, cerr)
	}
	return err
}

// Frames returns the number of frames accepted by Write so far (flushed or
// not).
func (w *Writer) Frames() int64 { return w.dataBytes / int64(2*w.channels) }

// buildHeader fills h with the header of a file holding dataBytes of audio:
// RIFF while the data fits, RF64 above rf64Threshold.
func buildHeader(h *[headerSize]byte, rate, channels int, dataBytes int64) {
	le := binary.LittleEndian
	blockAlign := 2 * channels
	rf64 := dataBytes > rf64Threshold
	riffSize := int64(headerSize-8) + dataBytes
	if rf64 {
		copy(h[0:], "RF64")
		le.PutUint32(h[4:], sizeUnknown)
	} else {
		copy(h[0:], "RIFF")
		le.PutUint32(h[4:], uint32(riffSize))
	}
	copy(h[8:], "WAVE")
	if rf64 {
		copy(h[junkOffset:], "ds64")
	} else {
		copy(h[junkOffset:], "JUNK")
	}
	le.PutUint32(h[junkOffset+4:], junkSize)
	ds := h[junkOffset+8 : junkOffset+8+junkSize]
	clear(ds)
	if rf64 {
		le.PutUint64(ds[0:], uint64(riffSize))
		le.PutUint64(ds[8:], uint64(dataBytes))
		le.PutUint64(ds[16:], uint64(dataBytes/int64(blockAlign)))
		// ds[24:28]: table length 0
	}
	copy(h[fmtOffset:], "fmt ")
	le.PutUint32(h[fmtOffset+4:], 16)
	f := h[fmtOffset+8:]
	le.PutUint16(f[0:], formatPCM)
	le.PutUint16(f[2:], uint16(channels))
	le.PutUint32(f[4:], uint32(rate))
	le.PutUint32(f[8:], uint32(rate*blockAlign))
	le.PutUint16(f[12:], uint16(blockAlign))
	le.PutUint16(f[14:], bitsPerSample)
	copy(h[dataHdrOff:], "data")
	if rf64 {
		le.PutUint32(h[dataHdrOff+4:], sizeUnknown)
	} else {
		le.PutUint32(h[dataHdrOff+4:], uint32(dataBytes))
	}
}
