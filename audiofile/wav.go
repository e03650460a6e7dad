package audiofile

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/prompt"
)

// MaxAnnouncementBytes is the largest announcement file accepted: 8 MiB,
// under the 9,600 KB Webex's announcement repository reports as its
// largest audio file, and 8 minutes of 8 kHz 16-bit speech.
const MaxAnnouncementBytes = 8 << 20

// Encodings of an accepted announcement file ([Info.Encoding]).
const (
	EncodingPCM16 = "PCM16" // linear PCM, 16 bits per sample
	EncodingULaw  = "PCMU"  // G.711 µ-law
	EncodingALaw  = "PCMA"  // G.711 A-law
)

// WAVE format tags (the "fmt " chunk of RIFF WAVE, Microsoft mmreg.h).
const (
	tagPCM        = 0x0001
	tagALaw       = 0x0006
	tagMuLaw      = 0x0007
	tagExtensible = 0xFFFE
)

// maxChunks bounds the chunks walked before "data", so a crafted file
// cannot make Check loop for long.
const maxChunks = 64

// Info describes an accepted announcement file.
type Info struct {
	Encoding string // Encoding*
	Rate     int    // 8000 or 16000
	Samples  int    // sample frames in the data chunk
}

// Duration is how long the file plays.
func (i Info) Duration() time.Duration {
	if i.Rate == 0 {
		return 0
	}
	return time.Duration(i.Samples) * time.Second / time.Duration(i.Rate)
}

// FormatError says what is wrong with an uploaded file, in words an
// admin can act on. It matches callrec.ErrInvalid with errors.Is.
type FormatError struct {
	// Field is what is wrong: "size", "format", "encoding", "channels",
	// "rate" or "data".
	Field string
	// Msg is the whole explanation, e.g. "the file has 2 channels;
	// announcements must be mono".
	Msg string
}

// Error returns Msg.
func (e *FormatError) Error() string { return e.Msg }

// Is makes a FormatError match callrec.ErrInvalid.
func (e *FormatError) Is(target error) bool { return target == callrec.ErrInvalid }

func formatErr(field, format string, args ...any) error {
	return &FormatError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Check reports whether data is an announcement callrec can play: a RIFF
// WAVE file of at most MaxAnnouncementBytes, 16-bit linear PCM or G.711
// (µ-law or A-law, 8 bits), mono, sampled at 8 or 16 kHz, whose chunks
// are consistent and whose data chunk is not empty. A refusal is a
// *FormatError naming what is wrong.
func Check(data []byte) (Info, error) {
	le := binary.LittleEndian
	if len(data) > MaxAnnouncementBytes {
		return Info{}, formatErr("size", "the file has %d bytes; announcements may have at most %d (8 MiB)", len(data), MaxAnnouncementBytes)
	}
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return Info{}, formatErr("format", "the file is not a WAV file (no RIFF WAVE header); announcements must be WAV")
	}
	var (
		haveFmt bool
		info    Info
		width   int // bytes per sample
	)
	off := 12
	for range maxChunks {
		if len(data)-off < 8 {
			return Info{}, formatErr("data", "the WAV file has no data chunk")
		}
		id := string(data[off : off+4])
		size := int64(le.Uint32(data[off+4 : off+8]))
		body := data[off+8:]
		if size > int64(len(body)) {
			return Info{}, formatErr("data", "the WAV file's %q chunk claims %d bytes but only %d follow (truncated file)", printable(id), size, len(body))
		}
		body = body[:size]
		switch id {
		case "fmt ":
			var err error
			if info, width, err = parseFmt(body); err != nil {
				return Info{}, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return Info{}, formatErr("format", "the WAV file's data chunk comes before its fmt chunk")
			}
			info.Samples = len(body) / width
			if info.Samples == 0 {
				return Info{}, formatErr("data", "the WAV file holds no audio (empty data chunk)")
			}
			return info, nil
		}
		off += 8 + int(size) + int(size&1) // chunks are padded to an even length
		if off > len(data) {
			off = len(data)
		}
	}
	return Info{}, formatErr("data", "the WAV file has no data chunk in its first %d chunks", maxChunks)
}

// parseFmt reads the "fmt " chunk body.
func parseFmt(b []byte) (Info, int, error) {
	le := binary.LittleEndian
	if len(b) < 16 {
		return Info{}, 0, formatErr("format", "the WAV file's fmt chunk has %d bytes, want at least 16", len(b))
	}
	tag := le.Uint16(b[0:2])
	channels := int(le.Uint16(b[2:4]))
	rate := int(le.Uint32(b[4:8]))
	bits := int(le.Uint16(b[14:16]))
	if tag == tagExtensible {
		// WAVEFORMATEXTENSIBLE: the sub-format GUID starts with the tag.
		if len(b) < 40 {
			return Info{}, 0, formatErr("format", "the WAV file's extensible fmt chunk has %d bytes, want 40", len(b))
		}
		tag = le.Uint16(b[24:26])
	}
	var info Info
	width := 1
	switch {
	case tag == tagPCM && bits == 16:
		info.Encoding, width = EncodingPCM16, 2
	case tag == tagMuLaw && bits == 8:
		info.Encoding = EncodingULaw
	case tag == tagALaw && bits == 8:
		info.Encoding = EncodingALaw
	case tag == tagPCM:
		return Info{}, 0, formatErr("encoding", "the WAV file is %d-bit PCM; announcements must be 16-bit PCM or G.711 (µ-law or A-law)", bits)
	default:
		return Info{}, 0, formatErr("encoding", "the WAV file's encoding (format tag %#04x, %d bits) is not supported; announcements must be 16-bit PCM or G.711 (µ-law or A-law)", tag, bits)
	}
	if channels != 1 {
		return Info{}, 0, formatErr("channels", "the WAV file has %d channels; announcements must be mono", channels)
	}
	if rate != 8000 && rate != 16000 {
		return Info{}, 0, formatErr("rate", "the WAV file is sampled at %d Hz; announcements must be 8000 or 16000 Hz", rate)
	}
	info.Rate = rate
	return info, width, nil
}

// printable keeps a chunk id readable in a message.
func printable(id string) string {
	b := []byte(id)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// Decode checks data with Check and returns its audio as 8 kHz mono PCM
// (prompt.Rate): 16 kHz files are resampled with media's resampler, whose
// filter delay is flushed so the end of the file is not cut.
func Decode(data []byte) ([]int16, error) {
	info, err := Check(data)
	if err != nil {
		return nil, err
	}
	pcm, rate, err := prompt.ParseWAV(data)
	if err != nil {
		return nil, fmt.Errorf("audiofile: decode: %w", err)
	}
	if rate == prompt.Rate {
		return pcm, nil
	}
	r, err := media.NewResampler(rate, prompt.Rate)
	if err != nil {
		return nil, fmt.Errorf("audiofile: decode %s at %d Hz: %w", info.Encoding, rate, err)
	}
	// The filter delays its output by Delay() output samples; feed that
	// much silence after the file and drop the same amount at the start.
	delay := int(r.Delay() + 0.5)
	out := r.Process(make([]int16, 0, len(pcm)/2+delay+1), pcm)
	out = r.Process(out, make([]int16, 2*delay+2))
	if delay > len(out) {
		delay = len(out)
	}
	out = out[delay:]
	if want := len(pcm) / 2; len(out) > want {
		out = out[:want]
	}
	return out, nil
}

// EncodeWAV returns pcm as a RIFF WAVE file: mono, 16-bit linear PCM at
// rate Hz (RIFF WAVE, Microsoft/IBM Multimedia Programming Interface 1.0).
func EncodeWAV(pcm []int16, rate int) ([]byte, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("audiofile: encode: rate %d Hz: %w", rate, callrec.ErrInvalid)
	}
	const header = 44
	n := len(pcm) * 2
	if int64(n)+header-8 > 0xFFFFFFFF {
		return nil, fmt.Errorf("audiofile: encode: %d samples do not fit a WAV file: %w", len(pcm), callrec.ErrInvalid)
	}
	b := make([]byte, header+n)
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(header-8+n))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], tagPCM)
	le.PutUint16(b[22:], 1) // mono
	le.PutUint32(b[24:], uint32(rate))
	le.PutUint32(b[28:], uint32(rate*2)) // byte rate
	le.PutUint16(b[32:], 2)              // block align
	le.PutUint16(b[34:], 16)             // bits per sample
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(n))
	for i, s := range pcm {
		le.PutUint16(b[header+2*i:], uint16(s))
	}
	return b, nil
}
