package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// activeCall is one item of GET /v1/telephony/calls as the tests read it.
type activeCall struct {
	ID                string   `json:"id"`
	PersonID          string   `json:"personId"`
	Personality       string   `json:"personality"`
	State             string   `json:"state"`
	RecordingState    string   `json:"recordingState"`
	RecordingControls []string `json:"recordingControls"`
}

// activeCalls lists the token's person's active calls.
func (c caller) activeCalls() []activeCall {
	c.t.Helper()
	return listItems[activeCall](c, "/v1/telephony/calls", "active calls")
}

// onlyCall returns the token's person's one active call.
func (c caller) onlyCall() activeCall {
	c.t.Helper()
	calls := c.activeCalls()
	if len(calls) != 1 {
		c.t.Fatalf("%s has %d active calls %+v, want 1", c.who, len(calls), calls)
	}
	return calls[0]
}

// control posts a call control action (startRecording, ...) for callID
// and checks the status.
func (c caller) control(action, callID string, want int) map[string]any {
	c.t.Helper()
	return c.do("POST", "/v1/telephony/calls/"+action, map[string]any{"callId": callID}, want)
}

// TestR35_RESTCallControl: Alice records On Demand (R25), Bob Always. In
// an internal call Alice -> Bob, Alice's user token lists her call with
// recordingState none and the start control, Bob's lists his with
// started; REST controls refused by the mode or the state answer 409
// naming the rule (Bob's stop: R25, Always; Alice's pause and resume
// before any start), an unknown call 404;
// Alice's startRecording, pauseRecording, resumeRecording and
// stopRecording each answer 204 and move recordingState through started,
// paused, started, stopped (R35), with the same events on the org's
// stream (R34); after the hangup the lists are empty. Alice's recording
// covers start to stop with one silent pause of the length between the
// pause and resume calls; Bob's covers the whole call; neither holds
// anything but the two tones (R22).
func TestR35_RESTCallControl(t *testing.T) {
	srv, o := startPhoneOrg(t, "Call Control Ltd")
	alice := o.person("Alice", "1001", "alice-Secret-1")
	bob := o.person("Bob", "1002", "bob-Secret-2")
	o.record(alice, modeOnDemand, nil)
	o.record(bob, "Always", nil)
	aliceUser := o.userCaller(alice, "alice@callrec.example")
	bobUser := o.userCaller(bob, "bob@callrec.example")
	es := o.subscribe(t)

	c := startInternalCall(t, o)
	callStart := time.Now()
	ac := aliceUser.onlyCall()
	if ac.PersonID != alice || ac.Personality != "originator" || ac.State != "connected" || ac.RecordingState != "none" || !slices.Contains(ac.RecordingControls, "start") {
		t.Errorf("Alice's call %+v, want hers, originator, connected, recordingState none, start allowed", ac)
	}
	bc := bobUser.onlyCall()
	waitFor(t, 10*time.Second, "Bob's recording started", func() bool { bc = bobUser.onlyCall(); return bc.RecordingState == "started" })
	if bc.Personality != "terminator" || slices.Contains(bc.RecordingControls, "stop") {
		t.Errorf("Bob's call %+v, want terminator, stop not allowed (Always)", bc)
	}

	// Refusals: 409 with the rule, and nothing changes.
	for _, r := range []struct {
		who    caller
		action string
		callID string
		rule   string
	}{
		{bobUser, "stopRecording", bc.ID, "R25"},
		{aliceUser, "pauseRecording", ac.ID, "R35"},
		{aliceUser, "resumeRecording", ac.ID, "R35"},
	} {
		body := r.who.control(r.action, r.callID, 409)
		if msg := errorText(t, body); !strings.Contains(msg, r.rule) {
			t.Errorf("%s %s refused with %q, want the rule %s named", r.who.who, r.action, msg, r.rule)
		}
	}
	aliceUser.control("startRecording", "Y2lzY29zcGFyazovL3VzL0NBTEwvbm9uZQ", 404) // no such call of hers
	if got := bobUser.onlyCall().RecordingState; got != "started" {
		t.Errorf("Bob's recordingState %s after the refused stop, want started", got)
	}

	// Alice's controls: start, pause, resume, stop.
	var sent [4]time.Time
	for i, step := range []struct{ action, state string }{
		{"startRecording", "started"}, {"pauseRecording", "paused"}, {"resumeRecording", "started"}, {"stopRecording", "stopped"},
	} {
		sent[i] = time.Now()
		aliceUser.control(step.action, ac.ID, 204)
		if got := aliceUser.onlyCall(); got.RecordingState != step.state {
			t.Errorf("after %s Alice's recordingState is %s, want %s", step.action, got.RecordingState, step.state)
		}
		time.Sleep(1500 * time.Millisecond)
	}
	c.hangUp(t)
	hungUp := time.Now()
	waitFor(t, 10*time.Second, "no active calls", func() bool { return len(aliceUser.activeCalls()) == 0 && len(bobUser.activeCalls()) == 0 })
	c.assertHeardEachOther(t)

	// Events: Bob's started, Alice's four, Bob's stopped.
	waitFor(t, 10*time.Second, "six recording events", func() bool { return len(es.all()) >= 6 })
	var aliceStates, bobStates []string
	for _, e := range es.all() {
		switch e.PersonID {
		case alice:
			aliceStates = append(aliceStates, e.RecordingState)
			if e.CallID != ac.ID {
				t.Errorf("Alice's event has call id %q, the call list's %q", e.CallID, ac.ID)
			}
		case bob:
			bobStates = append(bobStates, e.RecordingState)
		}
	}
	if got := strings.Join(aliceStates, ","); got != "started,paused,resumed,stopped" {
		t.Errorf("Alice's events %s, want started,paused,resumed,stopped", got)
	}
	if got := strings.Join(bobStates, ","); got != "started,stopped" {
		t.Errorf("Bob's events %s, want started,stopped", got)
	}

	recs := srv.newRecordings(map[string]bool{}, 2)
	byOwner := map[string]recordingJSON{}
	for _, r := range recs {
		byOwner[r.OwnerID] = r
	}
	ra, rb := byOwner[alice], byOwner[bob]
	if ra.ID == "" || rb.ID == "" {
		t.Fatalf("recordings owned by %q and %q, want Alice and Bob", recs[0].OwnerID, recs[1].OwnerID)
	}
	whole := hungUp.Sub(callStart)
	assertRecordedTones(t, srv, rb, toneHigh, toneLow, whole-1500*time.Millisecond, whole+time.Second)

	if len(ra.Callrec.PauseIntervals) != 1 {
		t.Fatalf("Alice's pauseIntervals %+v, want one", ra.Callrec.PauseIntervals)
	}
	p := ra.Callrec.PauseIntervals[0]
	from, to := p.Start.Sub(ra.Callrec.StartTime), p.End.Sub(ra.Callrec.StartTime)
	if d, want := to-from, sent[2].Sub(sent[1]); d < want-500*time.Millisecond || d > want+500*time.Millisecond {
		t.Errorf("Alice's pause lasts %v, the pause and resume calls were %v apart", d, want)
	}
	info, chans := srv.download(ra)
	length := fileDuration(info.Frames, info.Rate)
	if span := sent[3].Sub(sent[0]); info.Channels != 2 || length < span-700*time.Millisecond || length > span+500*time.Millisecond {
		t.Fatalf("Alice's recording: %d channels, %v; want stereo of the %v from start to stop", info.Channels, length, span)
	}
	for i, hz := range []float64{toneLow, toneHigh} {
		name := []string{"Alice's recording channel 1 (Alice)", "Alice's recording channel 2 (Bob)"}[i]
		assertRecordedOnly(t, name+" before the pause", chans[i], info.Rate, 300*time.Millisecond, from-100*time.Millisecond, hz, gapsOf(ra, i+1))
		assertSilent(t, name+" while paused", chans[i], info.Rate, from+100*time.Millisecond, to-100*time.Millisecond)
		assertRecordedOnly(t, name+" after the pause", chans[i], info.Rate, to+200*time.Millisecond, length-300*time.Millisecond, hz, gapsOf(ra, i+1))
	}
}
