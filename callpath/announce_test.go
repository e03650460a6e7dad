package callpath

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/media/tone"
	"github.com/callrec/callrec/media/wav"
)

// Window classes of what a peer hears, 20 ms at a time.
const (
	clsSilence = "silence"
	clsSpeech  = "speech" // energy that is none of the test tones: a spoken prompt
)

var toneSet = []float64{1000, 660, prompt.RepeatFreq, prompt.RefusalFreq}

// classify names one 20 ms window: the test tone that clearly dominates
// it ("1000", "660", "1400", "480"), speech, or silence.
func classify(w []int16) string {
	rms := tone.RMS(w)
	if rms < 0.01 {
		return clsSilence
	}
	if f, ratio := tone.Dominant(w, 8000, toneSet); ratio > 20 {
		return fmt.Sprint(f)
	}
	return clsSpeech
}

// span is a run of windows of one class, with the arrival of its first
// and last packet.
type span struct {
	class      string
	from, to   time.Time
	start, len int // in windows
}

// spans cuts what p heard into runs of one class.
func (p *rtpPeer) spans() []span {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []span
	for i := 0; i+160 <= len(p.heard) && i/160 < len(p.at); i += 160 {
		c := classify(p.heard[i : i+160])
		at := p.at[i/160]
		if n := len(out); n > 0 && out[n-1].class == c {
			out[n-1].to = at
			out[n-1].len++
			continue
		}
		out = append(out, span{class: c, from: at, to: at, start: i / 160, len: 1})
	}
	return out
}

// runsOf returns the runs of class at least min windows long that began
// after since.
func (p *rtpPeer) runsOf(class string, minLen int, since time.Time) []span {
	var out []span
	for _, s := range p.spans() {
		if s.class == class && s.len >= minLen && !s.from.Before(since) {
			out = append(out, s)
		}
	}
	return out
}

// heardFor waits until the peer heard d more audio than it had.
func (p *rtpPeer) heardFor(t *testing.T, d time.Duration) {
	t.Helper()
	p.mu.Lock()
	n := len(p.heard)
	p.mu.Unlock()
	p.waitHeard(t, time.Duration(n)*time.Second/8000+d)
}

func (p *rtpPeer) eventPackets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.evs)
}

// waitState waits for the recording event state of Bob, the n-th event
// (from 1), and returns its time.
func (r *recEnv) waitState(t *testing.T, n int, state string) time.Time {
	t.Helper()
	var at time.Time
	waitUntil(t, fmt.Sprintf("event %d %s", n, state), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.events) >= n && r.events[n-1].State == state {
			at = r.events[n-1].Time
			return true
		}
		return false
	})
	return at
}

// finish ends the call from dc, stops the recorder and returns the
// recordings with their audio (channel 1, channel 2).
func (r *recEnv) finish(t *testing.T, dc *sipgo.DialogClientSession) ([]callrec.Recording, [][2][]int16) {
	t.Helper()
	if dc != nil {
		if err := dc.Bye(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	waitCalls(t, r.env, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r.rec != nil {
		if err := r.rec.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := r.store.ListRecordings(t.Context(), callrec.RecordingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var audio [][2][]int16
	for _, rec := range recs {
		_, chans, err := wav.ReadFile(filepath.Join(r.blobs.Root(), filepath.FromSlash(rec.BlobKey)))
		if err != nil || len(chans) != 2 {
			t.Fatalf("recording %s: %d channels, %v", rec.ID, len(chans), err)
		}
		audio = append(audio, [2][]int16{chans[0], chans[1]})
	}
	return recs, audio
}

// foreign returns the first run of at least three 20 ms windows of pcm
// (a recording's channel) that are neither silence nor the tone want:
// a prompt, a beep or a repeat tone that reached the recording. A window
// where the party's tone starts or stops is mixed, hence the run.
func foreign(pcm []int16, want string) (string, time.Duration, bool) {
	run, cls := 0, ""
	for i := 0; i+160 <= len(pcm); i += 160 {
		c := classify(pcm[i : i+160])
		if c == want || c == clsSilence {
			run = 0
			continue
		}
		if c != cls {
			run, cls = 0, c
		}
		if run++; run == 3 {
			return c, time.Duration(i-320) * time.Second / 8000, true
		}
	}
	return "", 0, false
}

// internalCall: Alice (1000 Hz) calls Bob (660 Hz) by extension.
func internalCall(t *testing.T, r *recEnv) (dc *sipgo.DialogClientSession, aliceRTP, bobRTP *rtpPeer, answered time.Time) {
	t.Helper()
	alice, bob := r.phones(t)
	aliceRTP, bobRTP = newRTPPeer(t, 1000), newRTPPeer(t, 660)
	bob.answerWith(bobRTP, 0)
	dc, err := alice.dial(r.env, "alice", "1002", aliceRTP, func(res *sip.Response) {
		if res.StatusCode == 200 {
			answered = time.Now()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	aliceRTP.waitHeard(t, 500*time.Millisecond)
	bobRTP.waitHeard(t, 500*time.Millisecond)
	return dc, aliceRTP, bobRTP, answered
}

// TestR18_OutboundPSTNComplianceAfterAnswerWithDelay: Bob (recorded
// always) calls a PSTN number; the org's outbound compliance announcement
// with a 1 s delay. The called party hears Bob until the delay has passed
// and then the announcement; Bob never hears it; the recording starts at
// answer (not after the announcement) and holds no prompt.
func TestR18_OutboundPSTNComplianceAfterAnswerWithDelay(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways, org: func(o *callrec.OrgRecording) {
		o.Compliance = callrec.ComplianceAnnouncement{Outbound: true, OutboundDelay: true, DelaySeconds: 1}
	}})
	bob := newUA(t, "bob")
	bob.register(r.env, "bob")
	bobRTP, gwRTP := newRTPPeer(t, 660), newRTPPeer(t, 1000)
	r.trunk.answerWith(gwRTP, 0)
	var answered time.Time
	dc, err := bob.dial(r.env, "bob", "+4587654321", bobRTP, func(res *sip.Response) {
		if res.StatusCode == 200 {
			answered = time.Now()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	started := r.waitState(t, 1, StateStarted)
	if d := started.Sub(answered); d < 0 || d > 700*time.Millisecond {
		t.Errorf("recording started %s after answer, want at answer (R19), before the 1 s delay", d)
	}
	comp, _, _ := prompt.Get(prompt.Compliance, "en_US")
	gwRTP.waitHeard(t, time.Second+time.Duration(len(comp))*time.Second/8000+500*time.Millisecond)
	speech := gwRTP.runsOf(clsSpeech, 5, answered)
	if len(speech) == 0 {
		t.Fatalf("the called party heard no announcement: %v", gwRTP.spans())
	}
	if d := speech[0].from.Sub(answered); d < 950*time.Millisecond || d > 1600*time.Millisecond {
		t.Errorf("announcement began %s after answer, want after the 1 s delay (R18)", d)
	}
	if before := gwRTP.runsOf("660", 40, answered); len(before) == 0 || !before[0].from.Before(speech[0].from) {
		t.Errorf("the called party did not hear Bob before the announcement: %v", gwRTP.spans())
	}
	if got := bobRTP.runsOf(clsSpeech, 5, answered); len(got) != 0 {
		t.Errorf("Bob heard the announcement meant for the called party: %v", got)
	}
	recs, audio := r.finish(t, dc)
	if len(recs) != 1 || recs[0].OwnerID != personBob {
		t.Fatalf("recordings %v, want one of Bob", recs)
	}
	if d := recs[0].Start.Sub(answered); d > 700*time.Millisecond {
		t.Errorf("recording starts %s after answer", d)
	}
	for ch, want := range []string{"660", "1000"} {
		if c, at, ok := foreign(audio[0][ch], want); ok {
			t.Errorf("channel %d has %s at %s, want only %s Hz: a prompt reached the recording", ch+1, c, at, want)
		}
	}
}

// TestR25_R35_OnDemandStartStop: Bob (on_demand) dials *44 during an
// internal call: recording starts after the digits; *45 stops it. Alice
// receives no telephone-event packet of either code (R35: swallowed from
// the first packet of the "*" to the last of the final digit), and the
// recording has none of the digits.
func TestR25_R35_OnDemandStartStop(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeOnDemand})
	dc, aliceRTP, bobRTP, _ := internalCall(t, r)
	pressed := time.Now()
	bobRTP.press(t, "*44")
	started := r.waitState(t, 1, StateStarted)
	if !started.After(pressed) {
		t.Errorf("recording started at %s, before the digits", started)
	}
	aliceRTP.heardFor(t, 1500*time.Millisecond)
	bobRTP.press(t, "*45")
	stopped := r.waitState(t, 2, StateStopped)
	aliceRTP.heardFor(t, 500*time.Millisecond)
	if n := aliceRTP.eventPackets(); n != 0 {
		t.Errorf("Alice received %d telephone-event packets of Bob's codes, want none", n)
	}
	recs, _ := r.finish(t, dc)
	if got := r.states(); fmt.Sprint(got) != fmt.Sprint([]string{personBob + ":started", personBob + ":stopped"}) {
		t.Errorf("events %v, want one start and one stop", got)
	}
	if len(recs) != 1 {
		t.Fatalf("%d recordings, want one", len(recs))
	}
	rec := recs[0]
	if rec.Start.Before(pressed) {
		t.Errorf("recording starts at %s, before *44 was dialled at %s", rec.Start, pressed)
	}
	if d := time.Duration(rec.DurationMS) * time.Millisecond; d < 1200*time.Millisecond || d > stopped.Sub(started)+time.Second {
		t.Errorf("recording lasts %s, want the %s between *44 and *45", d, stopped.Sub(started))
	}
	if len(rec.Meta.DTMF) != 0 {
		t.Errorf("the recording has DTMF %v: the codes reached the SRS", rec.Meta.DTMF)
	}
}

// TestR20_R27_StartStopAnnouncements: with Bob's start/stop announcement
// on for internal calls, both parties hear the start prompt when *44
// starts the recording and the stop prompt when *45 stops it. On an
// inbound PSTN call with the compliance announcement played, the start
// prompt is suppressed (R20) while the started event is still sent.
func TestR20_R27_StartStopAnnouncements(t *testing.T) {
	t.Parallel()
	t.Run("internal call start and stop prompts", func(t *testing.T) {
		t.Parallel()
		r := startRecEnvOpts(t, recOpts{mode: callrec.ModeOnDemand, bob: func(u *callrec.UserRecording) { u.StartStopInternal = true }})
		dc, aliceRTP, bobRTP, _ := internalCall(t, r)
		startPCM, _, _ := prompt.Get(prompt.Start, "en_US")
		stopPCM, _, _ := prompt.Get(prompt.Stop, "en_US")
		for _, step := range []struct {
			code  string
			state string
			n     int
			pcm   []int16
		}{{"*44", StateStarted, 1, startPCM}, {"*45", StateStopped, 2, stopPCM}} {
			pressed := time.Now()
			bobRTP.press(t, step.code)
			r.waitState(t, step.n, step.state)
			promptLen := time.Duration(len(step.pcm)) * time.Second / 8000
			for name, p := range map[string]*rtpPeer{"Alice": aliceRTP, "Bob": bobRTP} {
				p.heardFor(t, promptLen+300*time.Millisecond)
				var speech int
				for _, s := range p.runsOf(clsSpeech, 1, pressed) {
					speech += s.len
				}
				if got := time.Duration(speech) * 20 * time.Millisecond; got < promptLen/3 {
					t.Errorf("%s heard %s of speech after %s, want the %s prompt (R27)", name, got, step.code, step.state)
				}
			}
		}
		r.finish(t, dc)
	})
	t.Run("inbound PSTN compliance suppresses the start prompt", func(t *testing.T) {
		t.Parallel()
		r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways, bob: func(u *callrec.UserRecording) { u.StartStopPSTN = true },
			org: func(o *callrec.OrgRecording) { o.Compliance.Inbound = true }})
		bobRTP, gwRTP := newRTPPeer(t, 660), newRTPPeer(t, 1000)
		r.bobAnswers(t, bobRTP, 0)
		dc, answered := r.dialFromPSTN(t, "+4535351002", gwRTP)
		r.waitState(t, 1, StateStarted)
		bobRTP.heardFor(t, 2*time.Second)
		gwRTP.heardFor(t, 500*time.Millisecond)
		if s := bobRTP.runsOf(clsSpeech, 3, answered); len(s) != 0 {
			t.Errorf("Bob heard a prompt after the compliance announcement: %v (R20)", s)
		}
		if s := gwRTP.runsOf(clsSpeech, 3, answered); len(s) != 0 {
			t.Errorf("the caller heard a prompt after the compliance announcement: %v (R20)", s)
		}
		r.finish(t, dc)
		if got := r.states(); len(got) != 2 || got[0] != personBob+":started" {
			t.Errorf("events %v, want started then stopped", got)
		}
	})
}

// TestR29_RepeatTone: the repeat tone plays toward both parties every
// Decision.Repeat while recording, none while paused. The policy's 10 s
// is scaled to 1 s by the server's test hook.
func TestR29_RepeatTone(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlwaysWithPauseResume,
		bob:    func(u *callrec.UserRecording) { u.RepeatEnabled, u.RepeatInterval = true, 10 },
		server: func(s *Server) { s.repeatEvery = func(d time.Duration) time.Duration { return d / 10 } }})
	dc, aliceRTP, bobRTP, _ := internalCall(t, r)
	started := r.waitState(t, 1, StateStarted)
	aliceRTP.heardFor(t, 3200*time.Millisecond)
	bobRTP.heardFor(t, 200*time.Millisecond)
	// 500 ms bursts: at least 20 windows of 1400 Hz.
	for name, p := range map[string]*rtpPeer{"Alice": aliceRTP, "Bob": bobRTP} {
		bursts := p.runsOf("1400", 20, started)
		if len(bursts) < 2 {
			t.Fatalf("%s heard %d repeat tones in 3 s, want one a second: %v", name, len(bursts), p.spans())
		}
		for i := 1; i < len(bursts); i++ {
			if d := bursts[i].from.Sub(bursts[i-1].from); d < 850*time.Millisecond || d > 1150*time.Millisecond {
				t.Errorf("%s: repeat tones %s apart, want 1 s", name, d)
			}
		}
	}
	bobRTP.press(t, "*48")
	paused := r.waitState(t, 2, StatePaused)
	aliceRTP.heardFor(t, 2500*time.Millisecond)
	if b := aliceRTP.runsOf("1400", 20, paused.Add(600*time.Millisecond)); len(b) != 0 {
		t.Errorf("Alice heard %d repeat tones while paused (R29)", len(b))
	}
	bobRTP.press(t, "*49")
	resumed := r.waitState(t, 3, StateResumed)
	aliceRTP.heardFor(t, 2200*time.Millisecond)
	if b := aliceRTP.runsOf("1400", 20, resumed); len(b) == 0 {
		t.Errorf("no repeat tone after resume")
	}
	recs, audio := r.finish(t, dc)
	if len(recs) != 1 {
		t.Fatalf("%d recordings", len(recs))
	}
	for ch, want := range []string{"660", "1000"} {
		if c, at, ok := foreign(audio[0][ch], want); ok {
			t.Errorf("channel %d has %s at %s: the repeat tone reached the recording", ch+1, c, at)
		}
	}
}

// TestR28_PauseResumeNotification: *48 and *49 with the beep or the
// announcement notification: both parties hear it, the recording does
// not; the recording has silence for the pause and the recorder's pause
// interval.
func TestR28_PauseResumeNotification(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, notify, class string
		minLen              int
	}{
		{"beep", callrec.NotifyBeep, "1400", 7},
		{"announcement", callrec.NotifyAnnouncement, clsSpeech, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlwaysWithPauseResume, bob: func(u *callrec.UserRecording) {
				u.NotificationEnabled, u.Notification = true, tc.notify
			}})
			dc, aliceRTP, bobRTP, _ := internalCall(t, r)
			r.waitState(t, 1, StateStarted)
			aliceRTP.heardFor(t, time.Second)
			var pausePressed, resumedAt time.Time
			for i, code := range []string{"*48", "*49"} {
				pressed := time.Now()
				if i == 0 {
					pausePressed = pressed
				}
				bobRTP.press(t, code)
				resumedAt = r.waitState(t, i+2, []string{StatePaused, StateResumed}[i])
				aliceRTP.heardFor(t, 1500*time.Millisecond)
				bobRTP.heardFor(t, 100*time.Millisecond)
				for name, p := range map[string]*rtpPeer{"Alice": aliceRTP, "Bob": bobRTP} {
					if len(p.runsOf(tc.class, tc.minLen, pressed)) == 0 {
						t.Errorf("%s heard no %s after %s (R28): %v", name, tc.name, code, p.spans())
					}
				}
			}
			recs, audio := r.finish(t, dc)
			if len(recs) != 1 {
				t.Fatalf("%d recordings", len(recs))
			}
			rec := recs[0]
			if len(rec.Meta.PauseIntervals) != 1 {
				t.Fatalf("pause intervals %v, want one", rec.Meta.PauseIntervals)
			}
			// The pause begins after *48 was pressed and ends before the
			// resumed event (the SRS answered the resume re-INVITE before
			// it); it holds at least the 1.5 s Alice heard in between.
			// Measured against those two instants, not a fixed length: the
			// pause and resume announcements last as long as they last,
			// and a loaded machine stretches the wait.
			iv := rec.Meta.PauseIntervals[0]
			if iv.Start.Before(pausePressed) || iv.End.After(resumedAt) || iv.End.Sub(iv.Start) < time.Second {
				t.Errorf("pause %s..%s (%s), want within *48 at %s and the resumed event at %s, at least 1 s",
					iv.Start, iv.End, iv.End.Sub(iv.Start), pausePressed, resumedAt)
			}
			from := int(iv.Start.Sub(rec.Start)/time.Millisecond)*8 + 1600
			to := int(iv.End.Sub(rec.Start)/time.Millisecond)*8 - 1600
			for ch := range 2 {
				if from < 0 || to > len(audio[0][ch]) || from >= to {
					t.Fatalf("pause %v outside the %d-sample file starting %s", iv, len(audio[0][ch]), rec.Start)
				}
				if rms := tone.RMS(audio[0][ch][from:to]); rms > 0.005 {
					t.Errorf("channel %d has rms %.3f during the pause, want silence", ch+1, rms)
				}
				if rms := tone.RMS(audio[0][ch][:max(from-3200, 0)]); rms < 0.05 {
					t.Errorf("channel %d has rms %.3f before the pause, want the party's tone", ch+1, rms)
				}
				if c, at, ok := foreign(audio[0][ch], []string{"660", "1000"}[ch]); ok {
					t.Errorf("channel %d has %s at %s: the notification reached the recording", ch+1, c, at)
				}
			}
		})
	}
}

// TestR25_NeverModeIsNotRecorded: a user with mode never is not recorded
// and the access codes are not taken (the digits go through); an always
// user's *44, which the mode does not offer, gets the refusal tone toward
// that user only, and its digits are still swallowed.
func TestR25_NeverModeIsNotRecorded(t *testing.T) {
	t.Parallel()
	t.Run("never", func(t *testing.T) {
		t.Parallel()
		r := startRecEnvOpts(t, recOpts{mode: callrec.ModeNever})
		dc, aliceRTP, bobRTP, _ := internalCall(t, r)
		bobRTP.press(t, "*44")
		waitUntil(t, "Alice receiving Bob's digits", func() bool { return aliceRTP.eventPackets() >= 18 })
		aliceRTP.heardFor(t, time.Second)
		recs, _ := r.finish(t, dc)
		if len(recs) != 0 || len(r.states()) != 0 {
			t.Errorf("recordings %v, events %v, want none for mode never", recs, r.states())
		}
	})
	t.Run("always refuses *44", func(t *testing.T) {
		t.Parallel()
		r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways})
		dc, aliceRTP, bobRTP, _ := internalCall(t, r)
		r.waitState(t, 1, StateStarted)
		pressed := time.Now()
		bobRTP.press(t, "*44")
		bobRTP.heardFor(t, time.Second)
		aliceRTP.heardFor(t, 200*time.Millisecond)
		if got := bobRTP.runsOf("480", 3, pressed); len(got) != 2 {
			t.Errorf("Bob heard %d refusal bursts after *44, want two: %v", len(got), bobRTP.spans())
		}
		if got := aliceRTP.runsOf("480", 3, pressed); len(got) != 0 {
			t.Errorf("Alice heard the refusal tone meant for Bob")
		}
		if n := aliceRTP.eventPackets(); n != 0 {
			t.Errorf("Alice received %d telephone-event packets of the refused code", n)
		}
		r.finish(t, dc)
		if got := r.states(); len(got) != 2 {
			t.Errorf("events %v, want only started and stopped", got)
		}
	})
}

// TestX1_FailureBehaviours: the SRS refuses (nobody listens on its
// port). Proceeding silently, the parties just talk; proceeding with the
// announcement, both hear the failure prompt and talk on; ending the call,
// both hear it and then get a BYE.
func TestX1_FailureBehaviours(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, behaviour string
		prompt          bool
		ends            bool
	}{
		{"proceed silently", callrec.FailureProceedNoAnnouncement, false, false},
		{"proceed with announcement", callrec.FailureProceedWithAnnouncement, true, false},
		{"end with announcement", callrec.FailureEndWithAnnouncement, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways, noSRS: true,
				org: func(o *callrec.OrgRecording) { o.FailureBehavior = tc.behaviour }})
			alice, bob := r.phones(t)
			aliceRTP, bobRTP := newRTPPeer(t, 1000), newRTPPeer(t, 660)
			bob.answerWith(bobRTP, 0)
			dc, err := alice.dial(r.env, "alice", "1002", aliceRTP, nil)
			if err != nil {
				t.Fatal(err)
			}
			failed := r.waitState(t, 1, StateFailed)
			if tc.ends {
				for name, u := range map[string]*ua{"Alice": alice, "Bob": bob} {
					select {
					case <-u.byes:
					case <-time.After(15 * time.Second):
						t.Fatalf("%s got no BYE after the failure announcement", name)
					}
				}
				waitCalls(t, r.env, 0)
			} else {
				aliceRTP.heardFor(t, 2500*time.Millisecond)
				bobRTP.heardFor(t, 200*time.Millisecond)
			}
			for name, p := range map[string]*rtpPeer{"Alice": aliceRTP, "Bob": bobRTP} {
				speech := p.runsOf(clsSpeech, 3, failed.Add(-100*time.Millisecond))
				if tc.prompt && len(speech) == 0 {
					t.Errorf("%s heard no failure announcement: %v", name, p.spans())
				}
				if !tc.prompt && len(speech) != 0 {
					t.Errorf("%s heard %v, want the call to proceed silently", name, speech)
				}
				if f, _ := p.heardTone(toneSet); !tc.ends && f != map[string]float64{"Alice": 660, "Bob": 1000}[name] {
					t.Errorf("%s hears %v Hz after the failure, want the other party", name, f)
				}
			}
			if tc.ends {
				if byes := len(bob.byes) + len(alice.byes); byes != 0 {
					t.Errorf("%d extra BYEs", byes)
				}
				return
			}
			r.finish(t, dc)
		})
	}
}
