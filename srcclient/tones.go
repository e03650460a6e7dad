package srcclient

import (
	"fmt"
	"sync"

	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/tone"
)

// codecInfo is what the offer and the RTP clock need to know of a codec.
type codecInfo struct {
	pt        uint8  // static payload type (RFC 3551 §6) or our dynamic choice
	encoding  string // SDP encoding name
	clock     int    // RTP clock rate (RFC 3551: G.722 uses 8000 although it samples at 16 kHz)
	channels  int    // SDP channel count (RFC 7587: opus is always /48000/2)
	eventPT   uint8  // telephone-event payload type we offer next to it
	eventRate int    // telephone-event clock: must equal the audio clock (RFC 4733 §2.1)
}

// codecs lists the codecs this client offers.
var codecs = map[string]codecInfo{
	CodecPCMU: {pt: 0, encoding: "PCMU", clock: 8000, channels: 1, eventPT: 101, eventRate: 8000},
	CodecPCMA: {pt: 8, encoding: "PCMA", clock: 8000, channels: 1, eventPT: 101, eventRate: 8000},
	CodecG722: {pt: 9, encoding: "G722", clock: 8000, channels: 1, eventPT: 101, eventRate: 8000},
	CodecOpus: {pt: 111, encoding: "opus", clock: 48000, channels: 2, eventPT: 110, eventRate: 48000},
}

// tsStep is the RTP timestamp increment per 20 ms packet.
func (c codecInfo) tsStep() uint32 { return uint32(c.clock / 50) }

// periodFrames is the number of 20 ms frames pre-encoded per tone: one
// second, which holds a whole number of periods of every integer frequency,
// so looping the frames keeps the sine continuous.
const periodFrames = 50

// toneKey identifies one pre-encoded tone.
type toneKey struct {
	codec     string
	hz        float64
	amplitude float64
}

// toneCache encodes each (codec, tone) once and shares the frames between
// all streams: at load, no packet is ever encoded.
type toneCache struct {
	mu     sync.Mutex
	frames map[toneKey][][]byte
}

// get returns periodFrames encoded 20 ms frames of the tone; the slices are
// shared and must not be modified.
func (c *toneCache) get(codec string, hz, amplitude float64) ([][]byte, error) {
	key := toneKey{codec, hz, amplitude}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.frames[key]; ok {
		return f, nil
	}
	f, err := encodeTone(codec, hz, amplitude)
	if err != nil {
		return nil, err
	}
	if c.frames == nil {
		c.frames = map[toneKey][][]byte{}
	}
	c.frames[key] = f
	return f, nil
}

// encodeTone encodes two seconds of the tone and keeps the second: stateful
// codecs (G.722 ADPCM, Opus) have settled by then, so the loop from the last
// frame back to the first is as smooth as any other frame boundary.
func encodeTone(codec string, hz, amplitude float64) ([][]byte, error) {
	info := codecs[codec]
	enc, err := media.NewEncoder(codec, info.clock, 1)
	if err != nil {
		return nil, fmt.Errorf("srcclient: encoder %s: %w", codec, err)
	}
	rate := enc.Rate()
	spf := enc.SamplesPerFrame(Ptime)
	if rate <= 0 || spf <= 0 {
		return nil, fmt.Errorf("srcclient: encoder %s reports rate %d, %d samples per frame", codec, rate, spf)
	}
	pcm := make([]int16, spf)
	phase := 0.0
	frames := make([][]byte, 0, periodFrames)
	for i := 0; i < 2*periodFrames; i++ {
		if hz > 0 {
			tone.Sine(pcm, rate, hz, amplitude, &phase)
		} else {
			clear(pcm)
		}
		out, err := enc.Encode(nil, pcm)
		if err != nil {
			return nil, fmt.Errorf("srcclient: encode %s frame %d: %w", codec, i, err)
		}
		if i >= periodFrames {
			frames = append(frames, out)
		}
	}
	return frames, nil
}
