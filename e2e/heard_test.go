package e2e

// What a phone heard, cut into runs of 20 ms windows (silence, one of the
// test tones, or speech), and where a spoken prompt of media/prompt is in
// it: the heard-audio assertions of the call plane tests.

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/media/tone"
)

// Window classes of heard audio besides the tones (named by frequency).
const (
	clsSilence = "silence"
	clsSpeech  = "speech" // energy that is none of the tones: a spoken prompt
)

// The parties' test tones in the call plane tests: far enough from each
// other and from the prompt tones (beep 1400 Hz, refusal 480 Hz) for a
// 20 ms window to tell them apart.
const (
	toneLow  = 660.0
	toneHigh = 1000.0
)

// heardWindow is the analysis window.
const heardWindow = 20 * time.Millisecond

// heardRun is a run of windows of one class, as offsets into the heard
// audio.
type heardRun struct {
	class    string
	from, to time.Duration
}

func (r heardRun) String() string { return fmt.Sprintf("%s %v-%v", r.class, r.from, r.to) }

func (r heardRun) length() time.Duration { return r.to - r.from }

// toneClass names a tone frequency as a class.
func toneClass(hz float64) string { return fmt.Sprint(hz) }

// classifyWindow names one window: silence, the tone of tones that clearly
// dominates it (20 times the power of the next), else speech.
func classifyWindow(w []int16, rate int, tones []float64) string {
	if tone.RMS(w) < 0.01 {
		return clsSilence
	}
	if f, ratio := tone.Dominant(w, rate, tones); ratio > 20 {
		return toneClass(f)
	}
	return clsSpeech
}

// heardRuns cuts heard audio into runs of one class. The tones are the
// parties' test tones and the prompt tones (beep, refusal).
func heardRuns(pcm []int16, rate int, tones ...float64) []heardRun {
	tones = append(tones, prompt.BeepFreq, prompt.RefusalFreq)
	n := int(heardWindow.Seconds() * float64(rate))
	var out []heardRun
	for i := 0; i+n <= len(pcm); i += n {
		c := classifyWindow(pcm[i:i+n], rate, tones)
		from := fileDuration(int64(i), rate)
		to := from + heardWindow
		if k := len(out); k > 0 && out[k-1].class == c {
			out[k-1].to = to
			continue
		}
		out = append(out, heardRun{class: c, from: from, to: to})
	}
	return out
}

// longRuns returns the runs of class at least minLen long that start at
// or after since.
func longRuns(runs []heardRun, class string, minLen, since time.Duration) []heardRun {
	var out []heardRun
	for _, r := range runs {
		if r.class == class && r.length() >= minLen && r.from >= since {
			out = append(out, r)
		}
	}
	return out
}

// total adds up the length of the runs of class in [from,to).
func total(runs []heardRun, class string, from, to time.Duration) time.Duration {
	var d time.Duration
	for _, r := range runs {
		if r.class == class {
			d += max(0, min(r.to, to)-max(r.from, from))
		}
	}
	return d
}

// runsString shows runs for a failure message, short runs left out.
func runsString(runs []heardRun) string {
	var b strings.Builder
	for _, r := range runs {
		if r.length() >= 60*time.Millisecond {
			fmt.Fprintf(&b, "[%v] ", r)
		}
	}
	return b.String()
}

// envelope is the RMS of each 10 ms frame of pcm.
func envelope(pcm []int16, rate int) []float64 {
	n := rate / 100
	out := make([]float64, 0, len(pcm)/n)
	for i := 0; i+n <= len(pcm); i += n {
		out = append(out, tone.RMS(pcm[i:i+n]))
	}
	return out
}

// correlate is the normalised correlation of a with b (equal lengths).
func correlate(a, b []int16) float64 {
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// promptMatch is where a prompt was found in heard audio.
type promptMatch struct {
	at       time.Duration // where the prompt's first sample is (negative: before heard begins)
	from, to time.Duration // the first and last matching chunk, as heard
	fraction float64       // the share of the prompt's non-silent chunks heard
}

// promptChunk is the unit findPrompt compares.
const promptChunk = 100 * time.Millisecond

// findPrompt finds ref (a prompt's PCM at the same rate) in heard. The
// 10 ms energy envelopes are matched first; then, for each sample offset
// within ±20 ms of that, the prompt's 100 ms chunks are compared with
// what was heard at that offset, and the offset matching most chunks
// (normalised correlation >= 0.9: G.711 keeps an exact copy near 1,
// another prompt or language is far below) wins. Counting chunks rather
// than correlating the whole prompt lets the prompt start before heard
// does or end early: a phone that sets its audio up again at the answer
// loses what its jitter buffer held of the early media.
func findPrompt(heard, ref []int16, rate int) promptMatch {
	he, re := envelope(heard, rate), envelope(ref, rate)
	if len(re) == 0 || len(he) == 0 {
		return promptMatch{}
	}
	minOverlap := max(1, len(re)/2)
	bestLag, best := 0, math.Inf(-1)
	for lag := -(len(re) - minOverlap); lag+minOverlap <= len(he); lag++ {
		var s, hh, rr float64
		for i, r := range re {
			if j := lag + i; j >= 0 && j < len(he) {
				s += he[j] * r
				hh += he[j] * he[j]
				rr += r * r
			}
		}
		if hh == 0 || rr == 0 {
			continue
		}
		if c := s / math.Sqrt(hh*rr); c > best {
			best, bestLag = c, lag
		}
	}
	frame, chunk := rate/100, int(promptChunk.Seconds()*float64(rate))
	var voiced []int // chunks of ref that are not silence
	for s := 0; s+chunk <= len(ref); s += chunk {
		if tone.RMS(ref[s:s+chunk]) >= 0.005 {
			voiced = append(voiced, s)
		}
	}
	if len(voiced) == 0 {
		return promptMatch{}
	}
	var m promptMatch
	bestN := 0
	for o := bestLag*frame - 2*frame; o <= bestLag*frame+2*frame; o++ {
		n, first, last := 0, -1, -1
		for _, s := range voiced {
			a := o + s
			if a < 0 || a+chunk > len(heard) {
				continue
			}
			if correlate(heard[a:a+chunk], ref[s:s+chunk]) >= 0.9 {
				n++
				if first < 0 {
					first = a
				}
				last = a + chunk
			}
		}
		if n > bestN {
			bestN = n
			m = promptMatch{at: time.Duration(o) * time.Second / time.Duration(rate), from: fileDuration(int64(first), rate),
				to: fileDuration(int64(last), rate), fraction: float64(n) / float64(len(voiced))}
		}
	}
	return m
}

// promptPCM returns the embedded prompt of kind in exactly lang.
func promptPCM(t *testing.T, kind, lang string) []int16 {
	t.Helper()
	pcm, got, err := prompt.Get(kind, lang)
	if err != nil || got != lang {
		t.Fatalf("prompt %s in %s: got %s, %v", kind, lang, got, err)
	}
	return pcm
}

// assertHeardPrompt checks that heard holds the prompt of kind in lang
// (at least 80 % of its chunks, at one offset) and that no other
// language's prompt of that kind matches (under 30 %): the phone heard
// that prompt in that language. It returns where it was heard.
func assertHeardPrompt(t *testing.T, who string, heard []int16, rate int, kind, lang string) promptMatch {
	t.Helper()
	if rate != prompt.Rate {
		t.Fatalf("%s: heard audio at %d Hz, prompts are %d Hz", who, rate, prompt.Rate)
	}
	m := findPrompt(heard, promptPCM(t, kind, lang), rate)
	if m.fraction < 0.8 {
		t.Errorf("%s heard %.0f%% of the %s prompt (%s), want >= 80%%: %s", who, 100*m.fraction, kind, lang, runsString(heardRuns(heard, rate, toneLow, toneHigh)))
		return m
	}
	if m.fraction < 1 {
		t.Logf("%s heard %.0f%% of the %s prompt (%v-%v)", who, 100*m.fraction, kind, m.from, m.to)
	}
	for _, other := range prompt.Languages() {
		if other == lang {
			continue
		}
		pcm, got, err := prompt.Get(kind, other)
		if err != nil || got != other {
			continue
		}
		if o := findPrompt(heard, pcm, rate); o.fraction >= 0.3 {
			t.Errorf("%s: %.0f%% of the %s prompt in %s matches too: which language was heard?", who, 100*o.fraction, kind, other)
		}
	}
	return m
}

// assertNoSpeech checks that no run of speech of 100 ms or more is in
// heard: nobody played a prompt to this phone.
func assertNoSpeech(t *testing.T, who string, heard []int16, rate int, tones ...float64) {
	t.Helper()
	runs := heardRuns(heard, rate, tones...)
	if s := longRuns(runs, clsSpeech, 100*time.Millisecond, 0); len(s) != 0 {
		t.Errorf("%s heard speech %v, want no prompt: %s", who, s, runsString(runs))
	}
}

// assertPhoneHeard checks what phone p heard: at least minLen of audio,
// and in it the tone want, clearly over each of others, from `from` to
// 500 ms before its end. It returns what p heard and its sample rate.
func assertPhoneHeard(t *testing.T, who string, p *phone, minLen, from time.Duration, want float64, others ...float64) ([]int16, int) {
	t.Helper()
	info, heard := p.heard()
	l := fileDuration(int64(len(heard)), info.Rate)
	if l < minLen {
		t.Fatalf("%s heard only %v", who, l)
	}
	assertTone(t, who+" heard", heard, info.Rate, from, l-500*time.Millisecond, want, others...)
	return heard, info.Rate
}

// assertPhoneHeardOnly checks that phone p heard at least minLen of
// audio, the tone want over others from 500 ms into it to 500 ms before
// its end, and no speech among those tones: the other party, no prompt.
func assertPhoneHeardOnly(t *testing.T, who string, p *phone, minLen time.Duration, want float64, others ...float64) {
	t.Helper()
	heard, rate := assertPhoneHeard(t, who, p, minLen, 500*time.Millisecond, want, others...)
	assertNoSpeech(t, who, heard, rate, append([]float64{want}, others...)...)
}
