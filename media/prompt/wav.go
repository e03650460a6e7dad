package prompt

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/callrec/callrec/media/g711"
)

// ErrFormat reports a WAV file ParseWAV cannot read: not RIFF/WAVE, a
// truncated or inconsistent chunk, or an encoding it does not support.
var ErrFormat = errors.New("prompt: unsupported or malformed WAV")

// WAVE format tags (Microsoft's mmreg.h registry, as used in the "fmt "
// chunk of RIFF WAVE files).
const (
	formatPCM        = 0x0001
	formatALaw       = 0x0006
	formatMuLaw      = 0x0007
	formatExtensible = 0xFFFE
)

// maxWAVChunks bounds the chunks walked before "data", so a crafted file
// cannot make the parser loop for long.
const maxWAVChunks = 64

// ParseWAV decodes a RIFF WAVE file held in memory into mono 16-bit PCM
// and returns the samples and their sample rate. It reads 16-bit and
// 8-bit linear PCM, G.711 µ-law and A-law (WAVE_FORMAT_EXTENSIBLE too when
// its sub-format is PCM), with one or two channels; two channels are mixed
// down to their mean. It does not resample. A data chunk that claims more
// bytes than the file holds is read up to the end of the file (a recorder
// that crashed leaves such files); any other inconsistency is an error
// wrapping ErrFormat. The embedded prompts are read with it, and so can an
// admin's uploaded announcement be.
func ParseWAV(data []byte) (pcm []int16, rate int, err error) {
	le := binary.LittleEndian
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("prompt: wav: no RIFF WAVE header: %w", ErrFormat)
	}
	var (
		haveFmt        bool
		format         uint16
		channels, bits int
	)
	off := 12
	for range maxWAVChunks {
		if len(data)-off < 8 {
			return nil, 0, fmt.Errorf("prompt: wav: no data chunk: %w", ErrFormat)
		}
		id := string(data[off : off+4])
		size := int(le.Uint32(data[off+4 : off+8]))
		body := data[off+8:]
		switch id {
		case "fmt ":
			if size < 16 || len(body) < 16 {
				return nil, 0, fmt.Errorf("prompt: wav: fmt chunk of %d bytes: %w", size, ErrFormat)
			}
			format = le.Uint16(body[0:2])
			channels = int(le.Uint16(body[2:4]))
			rate = int(le.Uint32(body[4:8]))
			bits = int(le.Uint16(body[14:16]))
			if format == formatExtensible {
				// WAVEFORMATEXTENSIBLE: cbSize, valid bits, channel mask,
				// then the sub-format GUID whose first two bytes are the tag.
				if size < 40 || len(body) < 40 {
					return nil, 0, fmt.Errorf("prompt: wav: extensible fmt chunk of %d bytes: %w", size, ErrFormat)
				}
				format = le.Uint16(body[24:26])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, 0, fmt.Errorf("prompt: wav: data chunk before fmt chunk: %w", ErrFormat)
			}
			if size > len(body) {
				size = len(body)
			}
			pcm, err := decodeSamples(body[:size], format, channels, bits, rate)
			if err != nil {
				return nil, 0, err
			}
			return pcm, rate, nil
		}
		if size > len(body) {
			return nil, 0, fmt.Errorf("prompt: wav: %q chunk of %d bytes overruns the file: %w", id, size, ErrFormat)
		}
		off += 8 + size + size&1 // chunks are padded to an even length
	}
	return nil, 0, fmt.Errorf("prompt: wav: no data chunk in the first %d chunks: %w", maxWAVChunks, ErrFormat)
}

// decodeSamples turns the data chunk into mono PCM.
func decodeSamples(b []byte, format uint16, channels, bits, rate int) ([]int16, error) {
	if channels < 1 || channels > 2 {
		return nil, fmt.Errorf("prompt: wav: %d channels (want 1 or 2): %w", channels, ErrFormat)
	}
	if rate < 1000 || rate > 192000 {
		return nil, fmt.Errorf("prompt: wav: sample rate %d Hz: %w", rate, ErrFormat)
	}
	var width int // bytes per sample
	switch {
	case format == formatPCM && bits == 16:
		width = 2
	case format == formatPCM && bits == 8, (format == formatMuLaw || format == formatALaw) && bits == 8:
		width = 1
	default:
		return nil, fmt.Errorf("prompt: wav: format tag %#04x with %d bits per sample: %w", format, bits, ErrFormat)
	}
	frames := len(b) / (width * channels) // a trailing partial frame is dropped
	out := make([]int16, frames)
	for i := range out {
		var sum int
		for c := range channels {
			at := (i*channels + c) * width
			var v int16
			switch {
			case width == 2:
				v = int16(binary.LittleEndian.Uint16(b[at:]))
			case format == formatMuLaw:
				v = g711.DecodeUlawSample(b[at])
			case format == formatALaw:
				v = g711.DecodeAlawSample(b[at])
			default: // 8-bit PCM is unsigned with a bias of 128
				v = int16(int(b[at])-128) << 8
			}
			sum += int(v)
		}
		out[i] = int16(sum / channels)
	}
	return out, nil
}
