package prompt

import (
	"math"
	"time"
)

// Tone parameters. Each tone is a sine with 5 ms raised-cosine edges so
// that it starts and stops without a click, at a level comparable to the
// speech prompts (which peak at -3 dBFS and average about -15 dBFS).
const (
	// BeepFreq and BeepLength make the R28 pause/resume beep: one short
	// 1400 Hz pip, the pitch of the recorder warning tone but shorter, so
	// that a listener hears it belongs to the recording and does not take
	// it for the periodic reminder.
	BeepFreq   = 1400.0
	BeepLength = 200 * time.Millisecond

	// RepeatFreq and RepeatLength make the R29 repeat tone: the recorder
	// warning tone of US telephony (Federal Standard 1037C, "recorder
	// warning tone": a half-second burst of 1400 Hz). The standard repeats
	// it every 15 s; callrec repeats it at the org's interval (R29: 20 s by
	// default, 10..90 s), which is the caller's timer, not this package's.
	RepeatFreq   = 1400.0
	RepeatLength = 500 * time.Millisecond

	// RefusalFreq, RefusalBurst and RefusalGap make the polite refusal of
	// a feature access code the recording mode does not allow (R25, R35):
	// two short 480 Hz bursts (480 Hz is the low tone of the North
	// American busy and reorder signals, heard as "no") with a gap of the
	// same length, 300 ms in all: short enough not to mask the far party.
	RefusalFreq  = 480.0
	RefusalBurst = 100 * time.Millisecond
	RefusalGap   = 100 * time.Millisecond

	// toneAmplitude is the tones' peak, a fraction of full scale (-10 dBFS).
	toneAmplitude = 0.316
	// toneRamp is the length of the raised-cosine fade in and out.
	toneRamp = 5 * time.Millisecond
)

// Beep returns the R28 pause/resume beep (BeepFreq for BeepLength) as
// mono 16-bit PCM at rate Hz, in a new slice; nil when rate <= 0.
func Beep(rate int) []int16 {
	return burst(nil, rate, BeepFreq, BeepLength)
}

// RepeatTone returns the R29 repeat tone, the recorder warning tone
// (RepeatFreq for RepeatLength), as mono 16-bit PCM at rate Hz, in a new
// slice; nil when rate <= 0. The caller plays it every interval while the
// recording is active and not while it is paused.
func RepeatTone(rate int) []int16 {
	return burst(nil, rate, RepeatFreq, RepeatLength)
}

// RefusalTone returns the refusal of a feature access code: two bursts of
// RefusalFreq, each RefusalBurst long, RefusalGap apart, as mono 16-bit PCM
// at rate Hz, in a new slice; nil when rate <= 0.
func RefusalTone(rate int) []int16 {
	if rate <= 0 {
		return nil
	}
	out := burst(nil, rate, RefusalFreq, RefusalBurst)
	out = append(out, make([]int16, samples(rate, RefusalGap))...)
	return burst(out, rate, RefusalFreq, RefusalBurst)
}

// samples returns the number of samples d lasts at rate.
func samples(rate int, d time.Duration) int {
	return int(int64(rate) * int64(d) / int64(time.Second))
}

// burst appends a sine of freq Hz lasting d at rate Hz, with raised-cosine
// edges of toneRamp, to dst.
func burst(dst []int16, rate int, freq float64, d time.Duration) []int16 {
	if rate <= 0 {
		return dst
	}
	n := samples(rate, d)
	ramp := min(samples(rate, toneRamp), n/2)
	step := 2 * math.Pi * freq / float64(rate)
	for i := range n {
		g := 1.0
		switch {
		case i < ramp:
			g = 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(ramp))
		case i >= n-ramp:
			g = 0.5 - 0.5*math.Cos(math.Pi*float64(n-1-i)/float64(ramp))
		}
		dst = append(dst, int16(math.Round(toneAmplitude*32767*g*math.Sin(step*float64(i)))))
	}
	return dst
}
