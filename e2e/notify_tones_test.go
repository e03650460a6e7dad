package e2e

// The tones that tell the parties of a recorded call that it is recorded,
// through the real binary and heard by real phones: the repeat tone
// (R29) and the pause/resume beep (R28).

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec/media/prompt"
)

// toneBursts returns the runs of hz (a prompt tone) in heard that last
// between minLen and maxLen: the bursts of that tone the phone heard.
func toneBursts(heard []int16, rate int, hz float64, minLen, maxLen time.Duration) []heardRun {
	var out []heardRun
	for _, r := range heardRuns(heard, rate, toneLow, toneHigh) {
		if r.class == toneClass(hz) && r.length() >= minLen && r.length() <= maxLen {
			out = append(out, r)
		}
	}
	return out
}

// heardOf returns what a phone heard, failing when it is shorter than
// minLen.
func heardOf(t *testing.T, p *phone, minLen time.Duration) ([]int16, int) {
	t.Helper()
	info, heard := p.heard()
	if l := fileDuration(int64(len(heard)), info.Rate); l < minLen {
		t.Fatalf("%s heard only %v, want >= %v", p.name, l, minLen)
	}
	if info.Rate != prompt.Rate {
		t.Fatalf("%s heard audio at %d Hz, prompts are %d Hz", p.name, info.Rate, prompt.Rate)
	}
	return heard, info.Rate
}

// TestR29_RepeatToneThroughTheBinary: Alice records Always with the
// repeat tone every 10 s, the shortest interval R29 allows. In a call of
// about 23 s with Bob, both phones hear the 500 ms 1400 Hz recorder
// warning tone exactly twice: about 10 s after the recording started
// (measured from the start of what each phone heard: the call's answer,
// where the recording starts, R19) and 10 s after that; the rest of the
// time each hears the other. The recording holds the two parties' tones
// alone, never the repeat tone (R22). With the mode Never (and the same
// repeat setting), a call of more than one interval gives no prompt, no
// tone, no recording and no recording event.
func TestR29_RepeatToneThroughTheBinary(t *testing.T) {
	const interval = 10 * time.Second
	srv := startServer(t, serverOpts{extra: []string{"--sip-digest", "MD5"}})
	o := newPhoneOrg(t, srv, "Repeat Tone Ltd")
	alice := o.person("Alice", "1001", "alice-Secret-1")
	o.person("Bob", "1002", "bob-Secret-2")
	repeat := map[string]any{"repeat": map[string]any{"enabled": true, "interval": int(interval / time.Second)}}
	es := o.subscribe(t)
	parent := t

	t.Run("always", func(t *testing.T) {
		srv.t = t
		defer func() { srv.t = parent }()
		o.record(alice, "Always", repeat)
		c := startInternalCall(t, o)
		_, started := es.await(t, 1, "started")
		time.Sleep(time.Until(started.Add(23 * time.Second)))
		c.hangUp(t)
		es.await(t, 2, "stopped")

		for _, p := range []struct {
			p     *phone
			other float64
		}{{c.alice, toneHigh}, {c.bob, toneLow}} {
			heard, rate := heardOf(t, p.p, 20*time.Second)
			runs := heardRuns(heard, rate, toneLow, toneHigh)
			bursts := toneBursts(heard, rate, prompt.RepeatFreq, prompt.RepeatLength-100*time.Millisecond, prompt.RepeatLength+200*time.Millisecond)
			if len(bursts) != 2 {
				t.Errorf("%s heard %d repeat tones %v, want 2 in a 23 s call every %v: %s", p.p.name, len(bursts), bursts, interval, runsString(runs))
				continue
			}
			t.Logf("%s heard the repeat tone at %v and %v", p.p.name, bursts[0].from, bursts[1].from)
			if at := bursts[0].from; at < interval-time.Second || at > interval+1500*time.Millisecond {
				t.Errorf("%s heard the first repeat tone %v into the call, want about %v after the recording started", p.p.name, at, interval)
			}
			if gap := bursts[1].from - bursts[0].from; gap < interval-500*time.Millisecond || gap > interval+500*time.Millisecond {
				t.Errorf("%s heard the repeat tones %v apart, want %v (R29)", p.p.name, gap, interval)
			}
			if got := total(runs, toneClass(prompt.RepeatFreq), 0, time.Hour); got > 2*prompt.RepeatLength+200*time.Millisecond {
				t.Errorf("%s heard %v of 1400 Hz, want the two 500 ms repeat tones only: %s", p.p.name, got, runsString(runs))
			}
			assertNoSpeech(t, p.p.name, heard, rate, toneLow, toneHigh)
			hl := fileDuration(int64(len(heard)), rate)
			if got := total(runs, toneClass(p.other), 0, hl); got < hl-3*time.Second {
				t.Errorf("%s heard the other party for %v of %v: %s", p.p.name, got, hl, runsString(runs))
			}
		}
		rec := srv.newRecording(map[string]bool{})
		assertRecordedTones(t, srv, rec, toneLow, toneHigh, 21*time.Second, 24*time.Second)
	})

	t.Run("never", func(t *testing.T) {
		srv.t = t
		defer func() { srv.t = parent }()
		before := len(es.all())
		var list struct {
			Items []recordingJSON `json:"items"`
		}
		srv.api("GET", "/v1/admin/convergedRecordings?max=100", nil, &list)
		seen := map[string]bool{}
		for _, r := range list.Items {
			seen[r.ID] = true
		}
		o.record(alice, "Never", repeat)
		c := startInternalCall(t, o)
		time.Sleep(interval + 1500*time.Millisecond)
		c.hangUp(t)
		for _, p := range []*phone{c.alice, c.bob} {
			heard, rate := heardOf(t, p, interval)
			runs := heardRuns(heard, rate, toneLow, toneHigh)
			if got := total(runs, toneClass(prompt.RepeatFreq), 0, time.Hour); got > 40*time.Millisecond {
				t.Errorf("%s heard %v of 1400 Hz in a call nobody records: %s", p.name, got, runsString(runs))
			}
			assertNoSpeech(t, p.name, heard, rate, toneLow, toneHigh)
		}
		if evs := es.all()[before:]; len(evs) != 0 {
			t.Errorf("recording events %v for a call nobody records", evs)
		}
		assertNoRecordingYet(t, srv, seen)
	})
}

// TestR28_PauseResumeBeep: Alice records Always with Pause/Resume and
// the pause/resume notification set to Beep (R28). During a call with
// Bob her phone sends *48, then *49 two seconds later (RFC 4733): each
// code gives one 200 ms 1400 Hz beep that both phones hear (two in all;
// Alice hears them as far apart as the codes), no spoken prompt; the recording has one
// pause interval, silent on both channels, and no beep (R22).
func TestR28_PauseResumeBeep(t *testing.T) {
	srv, o := startPhoneOrg(t, "Beep Ltd")
	alice := o.person("Alice", "1001", "alice-Secret-1")
	o.person("Bob", "1002", "bob-Secret-2")
	o.record(alice, modePauseResume, map[string]any{"notification": map[string]any{"type": "Beep", "enabled": true}})
	es := o.subscribe(t)

	c, sent48, sent49 := pauseResumeCall(t, o, es)
	if got := strings.Join(es.states(), ","); got != "started,paused,resumed,stopped" {
		t.Errorf("events %s, want started,paused,resumed,stopped", got)
	}

	apart := sent49.Sub(sent48)
	for _, p := range []*phone{c.alice, c.bob} {
		heard, rate := heardOf(t, p, 4*time.Second)
		runs := heardRuns(heard, rate, toneLow, toneHigh)
		beeps := toneBursts(heard, rate, prompt.BeepFreq, prompt.BeepLength-80*time.Millisecond, prompt.BeepLength+100*time.Millisecond)
		if len(beeps) != 2 {
			t.Errorf("%s heard %d beeps %v, want 2 (pause, resume): %s", p.name, len(beeps), beeps, runsString(runs))
			continue
		}
		// Only Alice's file keeps wall-clock time between the codes: while
		// her phone sends a code its RTP timestamps run on through the
		// telephone-events callrec swallows (R35), and Bob's baresip fills
		// that time with concealment of her tone (about 0.2 s per digit).
		if gap := beeps[1].from - beeps[0].from; p == c.alice && (gap < apart-600*time.Millisecond || gap > apart+600*time.Millisecond) {
			t.Errorf("%s heard the beeps %v apart, the codes were sent %v apart", p.name, gap, apart)
		}
		if got := total(runs, toneClass(prompt.BeepFreq), 0, time.Hour); got > 2*prompt.BeepLength+100*time.Millisecond {
			t.Errorf("%s heard %v of 1400 Hz, want two 200 ms beeps only (no repeat tone): %s", p.name, got, runsString(runs))
		}
		assertNoSpeech(t, p.name, heard, rate, toneLow, toneHigh)
		t.Logf("%s heard beeps at %v and %v (codes %v apart): %s", p.name, beeps[0].from, beeps[1].from, apart, runsString(runs))
	}

	rec := srv.newRecording(map[string]bool{})
	if len(rec.Callrec.PauseIntervals) != 1 {
		t.Fatalf("pauseIntervals %+v, want one", rec.Callrec.PauseIntervals)
	}
	pi := rec.Callrec.PauseIntervals[0]
	from, to := pi.Start.Sub(rec.Callrec.StartTime), pi.End.Sub(rec.Callrec.StartTime)
	info, chans := srv.download(rec)
	if info.Channels != 2 {
		t.Fatalf("recording has %d channels, want 2", info.Channels)
	}
	length := fileDuration(info.Frames, info.Rate)
	for i, hz := range []float64{toneLow, toneHigh} {
		name := fmt.Sprintf("channel %d", i+1)
		assertRecordedOnly(t, name+" before the pause", chans[i], info.Rate, 300*time.Millisecond, from-100*time.Millisecond, hz, gapsOf(rec, i+1))
		assertSilent(t, name+" while paused", chans[i], info.Rate, from+100*time.Millisecond, to-100*time.Millisecond)
		assertRecordedOnly(t, name+" after the pause", chans[i], info.Rate, to+200*time.Millisecond, length-300*time.Millisecond, hz, gapsOf(rec, i+1))
	}
}
