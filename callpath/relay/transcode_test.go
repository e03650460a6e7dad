package relay

import (
	"testing"
	"time"

	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/tone"
)

// encodeTone returns n 20 ms payloads of a sine at freq Hz in codec c.
func encodeTone(t *testing.T, c Codec, freq float64, n int) [][]byte {
	t.Helper()
	enc, err := media.NewEncoder(c.Name, c.clock(), c.Channels)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, enc.SamplesPerFrame(ptime))
	var phase float64
	out := make([][]byte, n)
	for i := range out {
		tone.Sine(pcm, enc.Rate(), freq, 0.3, &phase)
		if out[i], err = enc.Encode(nil, pcm); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestR38_TranscodeOnlyWhenNoSharedCodec: legs with different codecs get
// the audio decoded and encoded again; the far side decodes the tone the
// near side sent, with sequence numbers and SSRC kept and the timestamp
// on its own clock.
func TestR38_TranscodeOnlyWhenNoSharedCodec(t *testing.T) {
	const freq = 1000.0
	candidates := []float64{400, freq, 2200}
	for _, tc := range []struct {
		name     string
		from, to Codec
	}{
		{"PCMU to PCMA", pcmu, pcma},
		{"PCMA to PCMU", pcma, pcmu},
		{"PCMU to G722", pcmu, g722},
		{"G722 to PCMU", g722, pcmu},
		{"PCMU to Opus", pcmu, opus},
		{"Opus to PCMA", opus, pcma},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCall(t, tc.from, tc.to)
			if !f.br.Transcoding() {
				t.Fatal("Transcoding() = false for different codecs")
			}
			const n = 25
			payloads := encodeTone(t, tc.from, freq, n)
			fromFrame := uint32(tc.from.clock() / 50)
			toFrame := uint32(tc.to.clock() / 50)
			for i, p := range payloads {
				f.ea.send(f.la.LocalRTP(), rtpPacket(tc.from.PayloadType, i == 0, uint16(65530+i), 3000+fromFrame*uint32(i), 0x51, p))
			}
			dec, err := media.NewDecoder(tc.to.Name, tc.to.clock(), tc.to.Channels, 8000)
			if err != nil {
				t.Fatal(err)
			}
			var pcm []int16
			var ts0 uint32
			for i := range n {
				b := recvOn(t, f.eb.rtp, 2*time.Second)
				if pt := b[1] & 0x7f; pt != tc.to.PayloadType {
					t.Fatalf("packet %d payload type %d, want %d", i, pt, tc.to.PayloadType)
				}
				if seq := be16(b[2:]); seq != uint16(65530+i) {
					t.Fatalf("packet %d seq %d, want %d", i, seq, uint16(65530+i))
				}
				if ssrc := be32(b[8:]); ssrc != 0x51 {
					t.Fatalf("packet %d SSRC %#x", i, ssrc)
				}
				if i == 0 {
					ts0 = be32(b[4:])
				} else if d := be32(b[4:]) - ts0; d != toFrame*uint32(i) {
					t.Fatalf("packet %d timestamp advanced %d, want %d", i, d, toFrame*uint32(i))
				}
				if pcm, err = dec.Decode(pcm, b[12:]); err != nil {
					t.Fatalf("packet %d does not decode as %s: %v", i, tc.to.Name, err)
				}
			}
			if len(pcm) != n*160 {
				t.Fatalf("decoded %d samples, want %d", len(pcm), n*160)
			}
			body := pcm[len(pcm)/4:] // past codec and resampler warm-up
			got, ratio := tone.Dominant(body, 8000, candidates)
			if got != freq || ratio < 100 {
				t.Fatalf("dominant %v Hz (ratio %.1f), want %v Hz", got, ratio, freq)
			}
			if rms := tone.RMS(body); rms < 0.1 {
				t.Fatalf("tone level %.3f, want about 0.2", rms)
			}
		})
	}
}

// TestTranscodeDTMFAcrossClocks: a telephone-event from an 8 kHz leg to
// a 48 kHz (Opus) leg gets its timestamp and duration on the new clock.
func TestTranscodeDTMFAcrossClocks(t *testing.T) {
	f := newCall(t, pcmu, opus)
	digits := make(chan string, 4)
	f.br.OnDigit(func(_ Side, d string) { digits <- d })
	f.ea.send(f.la.LocalRTP(), rtpPacket(0, true, 1, 8000, 3, make([]byte, 160)))
	f.ea.send(f.la.LocalRTP(), rtpPacket(101, true, 2, 8160, 3, []byte{5, 0x8a, 0x03, 0x20})) // '5' end, 800 ticks
	recvOn(t, f.eb.rtp, time.Second)
	b := recvOn(t, f.eb.rtp, time.Second)
	if pt := b[1] & 0x7f; pt != opus.EventPT {
		t.Fatalf("event payload type %d, want %d", pt, opus.EventPT)
	}
	if dur := be16(b[14:]); dur != 4800 {
		t.Fatalf("duration %d, want 4800 (800 at 8 kHz)", dur)
	}
	if got := <-digits; got != "5" {
		t.Fatalf("digit %q", got)
	}
}
