package prompt

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/callrec/callrec/media/tone"
)

// toneCandidates are the frequencies a tone is told apart from: the other
// tones, dial and busy tone components, and DTMF-range neighbours.
var toneCandidates = []float64{350, 440, 480, 620, 941, 1000, 1209, 1400, 1633, 2000}

// TestR28_R29_ToneFrequencyAndLength checks each tone's dominant frequency
// and exact length at every rate the codecs use, and that it starts and
// ends without a click.
func TestR28_R29_ToneFrequencyAndLength(t *testing.T) {
	tones := []struct {
		name   string
		make   func(int) []int16
		freq   float64
		length time.Duration
	}{
		{"R28 beep", Beep, 1400, 200 * time.Millisecond},
		{"R29 repeat tone", RepeatTone, 1400, 500 * time.Millisecond},
		{"R25 refusal tone", RefusalTone, 480, 300 * time.Millisecond},
	}
	for _, tc := range tones {
		for _, rate := range []int{8000, 16000, 48000} {
			t.Run(fmt.Sprintf("%s/%dHz", tc.name, rate), func(t *testing.T) {
				pcm := tc.make(rate)
				if want := int(tc.length.Seconds() * float64(rate)); len(pcm) != want {
					t.Fatalf("%d samples, want %d (%v at %d Hz)", len(pcm), want, tc.length, rate)
				}
				f, ratio := tone.Dominant(pcm, rate, toneCandidates)
				if f != tc.freq || ratio < 50 {
					t.Errorf("dominant %.0f Hz (ratio %.1f), want %.0f Hz well above the others", f, ratio, tc.freq)
				}
				if p := peak(pcm); p < 0.25 || p > 0.35 {
					t.Errorf("peak %.3f of full scale, want about 0.316 (-10 dBFS)", p)
				}
				// Raised-cosine edges: the first and last samples are ~0.
				if a, b := math.Abs(float64(pcm[0])), math.Abs(float64(pcm[len(pcm)-1])); a > 50 || b > 50 {
					t.Errorf("edges %v and %v: the tone clicks", pcm[0], pcm[len(pcm)-1])
				}
			})
		}
	}
}

// TestRefusalToneIsTwoBursts: 100 ms of tone, 100 ms of silence, 100 ms
// of tone.
func TestRefusalToneIsTwoBursts(t *testing.T) {
	const rate = 8000
	pcm := RefusalTone(rate)
	runs := tone.SilentRuns(pcm, rate, 0.001, 50*time.Millisecond)
	if len(runs) != 1 {
		t.Fatalf("silent runs %v, want exactly one gap", runs)
	}
	// The gap is 800 samples plus at most the 5 ms fades on either side.
	g := runs[0]
	if g.Start < 760 || g.Start > 800 || g.End < 1600 || g.End > 1640 {
		t.Errorf("gap %v, want about [800, 1600)", g)
	}
	for _, b := range [][]int16{pcm[:800], pcm[1600:]} {
		if f, _ := tone.Dominant(b, rate, toneCandidates); f != RefusalFreq {
			t.Errorf("burst dominant %.0f Hz, want %v", f, RefusalFreq)
		}
	}
}

func TestTonesAtBadRate(t *testing.T) {
	for _, rate := range []int{0, -8000} {
		if Beep(rate) != nil || RepeatTone(rate) != nil || RefusalTone(rate) != nil {
			t.Errorf("rate %d: want nil tones", rate)
		}
	}
}

// TestTonesAreFresh: each call returns its own slice, so a caller may
// change it (e.g. scale it) without affecting others.
func TestTonesAreFresh(t *testing.T) {
	a, b := Beep(8000), Beep(8000)
	a[100] = 12345
	if b[100] == 12345 {
		t.Error("two Beep calls share samples")
	}
}
