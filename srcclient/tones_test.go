package srcclient

import (
	"math"
	"strconv"
	"testing"

	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/tone"
)

// TestPreencodedTonesDecodeToTheTone decodes three loops of each cached
// tone and checks the frequency and level everywhere, including across
// the point where the one-second period wraps.
func TestPreencodedTonesDecodeToTheTone(t *testing.T) {
	const rate = 8000
	candidates := []float64{300, 400, 700, 1000, 1500, 2000}
	var cache toneCache
	for _, codec := range []string{CodecPCMU, CodecPCMA, CodecG722, CodecOpus} {
		for _, hz := range []float64{400, 1000} {
			t.Run(codec+"/"+strconvF(hz), func(t *testing.T) {
				frames, err := cache.get(codec, hz, DefaultAmplitude)
				if err != nil {
					t.Fatal(err)
				}
				if len(frames) != periodFrames {
					t.Fatalf("%d frames", len(frames))
				}
				again, _ := cache.get(codec, hz, DefaultAmplitude)
				if &again[0][0] != &frames[0][0] {
					t.Errorf("second get encoded again")
				}
				info := codecs[codec]
				dec, err := media.NewDecoder(codec, info.clock, info.channels, rate)
				if err != nil {
					t.Fatal(err)
				}
				var pcm []int16
				for i := 0; i < 3*periodFrames; i++ {
					if pcm, err = dec.Decode(pcm, frames[i%periodFrames]); err != nil {
						t.Fatal(err)
					}
				}
				spf := rate / 50
				if len(pcm) != 3*periodFrames*spf {
					t.Fatalf("%d samples decoded", len(pcm))
				}
				// Windows of 40 ms, the first at the wrap from the first
				// loop to the second, then one every 200 ms (after 200 ms
				// of decoder warm-up).
				for start := periodFrames*spf - spf; start+2*spf <= len(pcm); start += 10 * spf {
					w := pcm[start : start+2*spf]
					f, ratio := tone.Dominant(w, rate, candidates)
					if f != hz || ratio < 20 {
						t.Errorf("window at %d ms: dominant %v Hz (ratio %.1f), want %v", start*1000/rate, f, ratio, hz)
					}
					want := DefaultAmplitude / math.Sqrt2
					if rms := tone.RMS(w); math.Abs(rms-want) > 0.25*want {
						t.Errorf("window at %d ms: RMS %.3f, want %.3f", start*1000/rate, rms, want)
					}
				}
			})
		}
	}
	t.Run("silence", func(t *testing.T) {
		frames, err := cache.get(CodecPCMU, 0, DefaultAmplitude)
		if err != nil {
			t.Fatal(err)
		}
		dec, _ := media.NewDecoder(CodecPCMU, 8000, 1, rate)
		var pcm []int16
		for _, f := range frames {
			pcm, _ = dec.Decode(pcm, f)
		}
		if rms := tone.RMS(pcm); rms > 0.001 {
			t.Errorf("silence has RMS %v", rms)
		}
	})
}

func strconvF(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
