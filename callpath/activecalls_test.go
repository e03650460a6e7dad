package callpath

import (
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// TestR31_VirtualLineCallListedForAnsweringPerson: Alice calls the
// virtual line "Support" (1500, recorded always_with_pause_resume),
// assigned to Bob, whose own recording is off. Server.Calls lists the
// call for Bob, whose device answered, with the line's id and the line's
// recording state and controls (R31, R35); Alice sees the line as a
// party of the organization answered by Bob. Bob pauses the line's
// recording through Control (the REST call controls); Alice, who is not
// recorded, is refused (R25).
func TestR31_VirtualLineCallListedForAnsweringPerson(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeNever})
	putSupportLine(t, r.env, "en_US", func(rec *callrec.UserRecording) {
		rec.Enabled, rec.Mode = true, callrec.ModeAlwaysWithPauseResume
	})
	alice, bob := r.phones(t)
	aliceRTP, bobRTP := newRTPPeer(t, 1000), newRTPPeer(t, 660)
	bob.answerWith(bobRTP, 0)
	dc, err := alice.dial(r.env, "alice", "1500", aliceRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.waitState(t, 1, StateStarted)
	views := func() map[string]CallInfo {
		m := map[string]CallInfo{}
		for _, c := range r.srv.Calls(r.org.ID) {
			m[c.PersonID] = c
		}
		return m
	}
	got := views()
	if len(got) != 2 {
		t.Fatalf("calls %+v, want Alice's and Bob's views", got)
	}
	b, a := got[personBob], got[personAlice]
	if b.VirtualLineID != lineSupport || b.Personality != PersonalityTerminator || b.State != CallConnected {
		t.Errorf("Bob's view %+v, want the line %s's call, answered by him", b, lineSupport)
	}
	if b.RecordingState != RecordingStarted || !b.Controls.Pause || b.Controls.Stop {
		t.Errorf("Bob's view: recording %s, controls %+v; want the line's: started, pause only (R25)", b.RecordingState, b.Controls)
	}
	if a.RecordingState != RecordingNone || a.VirtualLineID != "" {
		t.Errorf("Alice's view: recording %s, line %q; want none, no line", a.RecordingState, a.VirtualLineID)
	}
	if rp := a.Remote; rp.CallType != CallTypeOrganization || rp.Number != "1500" || rp.PersonID != personBob || rp.Name != "Support" {
		t.Errorf("Alice's remote party %+v, want the organization's line Support at 1500 answered by Bob", rp)
	}
	if err := r.srv.Control(t.Context(), r.org.ID, personBob, b.CallID, ActionPause); err != nil {
		t.Fatalf("Bob pausing the line's recording: %v", err)
	}
	r.waitState(t, 2, StatePaused)
	if ev := r.states()[1]; ev != lineSupport+":paused" {
		t.Errorf("event %q, want the line's recording paused", ev)
	}
	if s := views()[personBob].RecordingState; s != RecordingPaused {
		t.Errorf("Bob's view after the pause: %s, want paused", s)
	}
	var refused *RefusedError
	if err := r.srv.Control(t.Context(), r.org.ID, personAlice, b.CallID, ActionResume); !errors.As(err, &refused) || refused.Rule != "R25" {
		t.Errorf("Alice resuming the line's recording: %v, want refused by R25", err)
	}
	if s := views()[personBob].RecordingState; s != RecordingPaused {
		t.Errorf("Bob's view after Alice's refused resume: %s, want still paused", s)
	}
	r.finish(t, dc)
}

// TestVirtualLineUnansweredGets480: a PSTN call to a virtual line whose
// assigned person's devices ring and never answer ends with 480 after
// RingTimeout, and goes to no voicemail: a virtual line has no mailbox,
// and the assigned person's (Bob's, on for unanswered calls) is not the
// line's.
func TestVirtualLineUnansweredGets480(t *testing.T) {
	t.Parallel()
	mb := &fakeMailbox{}
	e := startEnv(t, nil, func(s *Server) { s.deps.Mailbox = mb })
	putDirectory(t, e, func(tx directory.Tx) error {
		bob, err := directory.People.Get(t.Context(), tx, e.org.ID, personBob)
		if err != nil {
			return err
		}
		bob.Voicemail = &callrec.VoicemailSettings{Enabled: true, SendUnanswered: true, UnansweredRings: 1}
		if err := directory.People.Put(t.Context(), tx, bob); err != nil {
			return err
		}
		return directory.VirtualLines.Put(t.Context(), tx, &callrec.VirtualLine{ID: lineSupport, OrgID: e.org.ID,
			DisplayName: "Support", Extension: "1500", PhoneNumber: "+4535351500", People: []string{personBob}})
	})
	bob := newUA(t, "bob")
	bob.register(e, "bob")
	bob.ringForever()
	_, err := e.trunk.dial(e, "+4587654321", "+4535351500", newRTPPeer(t, 1000), nil)
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != sip.StatusTemporarilyUnavailable {
		t.Fatalf("call to the unanswered line: %v, want 480", err)
	}
	select {
	case <-bob.invites:
	default:
		t.Error("the assigned person's device was not rung")
	}
	select {
	case <-bob.cancelled:
	case <-time.After(5 * time.Second):
		t.Error("the ringing device was not cancelled")
	}
	waitCalls(t, e, 0)
	if n := mb.count(); n != 0 {
		t.Errorf("%d voicemail deposits, want none for a virtual line", n)
	}
}
