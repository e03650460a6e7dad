package callpath

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

// bobCall: Alice (1000 Hz) calls Bob (660 Hz) by extension, Bob answering
// at once; it returns both UAs and Alice's dialog once answered.
func bobCall(t *testing.T, r *recEnv) (dc *sipgo.DialogClientSession, alice, bob *ua, bobRTP *rtpPeer) {
	t.Helper()
	alice, bob, aliceRTP, bobRTP := bobPhones(t, r, 0)
	dc, err := alice.dial(r.env, "alice", "1002", aliceRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	aliceRTP.waitHeard(t, 300*time.Millisecond)
	bobRTP.waitHeard(t, 300*time.Millisecond)
	return dc, alice, bob, bobRTP
}

// bobPhones registers Alice's and Bob's phones; Bob answers after ring.
func bobPhones(t *testing.T, r *recEnv, ring time.Duration) (alice, bob *ua, aliceRTP, bobRTP *rtpPeer) {
	t.Helper()
	alice, bob = newUA(t, "alice"), newUA(t, "bob")
	alice.register(r.env, "alice")
	bob.register(r.env, "bob")
	aliceRTP, bobRTP = newRTPPeer(t, 1000), newRTPPeer(t, 660)
	bob.answerWith(bobRTP, ring)
	return alice, bob, aliceRTP, bobRTP
}

// recordingINFOs reads n INFOs x received (or fails after 10 s).
func recordingINFOs(t *testing.T, x *ua, n int) []*sip.Request {
	t.Helper()
	var out []*sip.Request
	deadline := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case req := <-x.infos:
			out = append(out, req)
		case <-deadline:
			t.Fatalf("device got %d recording state INFOs, want %d", len(out), n)
		}
	}
	return out
}

// infoState is the state parameter of a recording state INFO's Call-Info.
func infoState(req *sip.Request) string {
	h := req.GetHeader("Call-Info")
	if h == nil {
		return "<no Call-Info>"
	}
	_, state, _ := strings.Cut(h.Value(), ";state=")
	return state
}

// TestR34_DeviceSeesRecordingStateINFO: Bob (on_demand) starts, pauses
// and resumes his recording, then Alice hangs up. Bob's device gets, in
// his dialog, one INFO per change with Call-Info
// <sip:callrec@HOST>;purpose=x-callrec-recording;state=... and no body:
// started, paused, resumed, then stopped before the BYE (lower CSeq).
// Alice, not recorded, gets none. Access codes and REST Control give the
// same INFOs, and the REST call id is the id the events carry.
func TestR34_DeviceSeesRecordingStateINFO(t *testing.T) {
	t.Parallel()
	for _, via := range []string{"access codes", "REST Control"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			r := startRecEnvOpts(t, recOpts{mode: callrec.ModeOnDemand})
			dc, alice, bob, bobRTP := bobCall(t, r)
			callID := dc.InviteRequest.CallID().Value()
			for i, step := range []struct {
				code, action, event, state string
				controls                   policy.Controls
			}{
				{"*44", ActionStart, StateStarted, RecordingStarted, policy.Controls{Stop: true, Pause: true}},
				{"*48", ActionPause, StatePaused, RecordingPaused, policy.Controls{Stop: true, Resume: true}},
				{"*49", ActionResume, StateResumed, RecordingStarted, policy.Controls{Stop: true, Pause: true}},
			} {
				if via == "access codes" {
					bobRTP.press(t, step.code)
				} else if err := r.srv.Control(t.Context(), r.org.ID, personBob, callID, step.action); err != nil {
					t.Fatalf("Control %s: %v", step.action, err)
				}
				r.waitState(t, i+1, step.event)
				info := bobInfo(t, r)
				if info.RecordingState != step.state || info.Controls != step.controls {
					t.Errorf("after %s Bob's call shows recording %s with controls %+v, want %s with %+v",
						step.action, info.RecordingState, info.Controls, step.state, step.controls)
				}
			}
			if err := dc.Bye(t.Context()); err != nil {
				t.Fatal(err)
			}
			var bye *sip.Request
			select {
			case bye = <-bob.byes:
			case <-time.After(5 * time.Second):
				t.Fatal("Bob got no BYE")
			}
			infos := recordingINFOs(t, bob, 4)
			var states []string
			for _, req := range infos {
				states = append(states, infoState(req))
				want := fmt.Sprintf("<sip:callrec@127.0.0.1>;purpose=x-callrec-recording;state=%s", infoState(req))
				if got := req.GetHeader("Call-Info").Value(); got != want {
					t.Errorf("Call-Info %q, want %q", got, want)
				}
				if len(req.Body()) != 0 {
					t.Errorf("INFO has a %d byte body, want none", len(req.Body()))
				}
				if req.CallID().Value() != bye.CallID().Value() {
					t.Errorf("INFO in dialog %s, want Bob's dialog %s", req.CallID().Value(), bye.CallID().Value())
				}
			}
			if want := []string{"started", "paused", "resumed", "stopped"}; !slices.Equal(states, want) {
				t.Errorf("Bob's device got states %v, want %v", states, want)
			}
			if infos[3].CSeq().SeqNo >= bye.CSeq().SeqNo {
				t.Errorf("stopped INFO has CSeq %d, BYE %d: the state came after the BYE", infos[3].CSeq().SeqNo, bye.CSeq().SeqNo)
			}
			r.finish(t, nil)
			select {
			case req := <-alice.infos:
				t.Errorf("Alice, not recorded, got an INFO: %v", req.GetHeader("Call-Info"))
			default:
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			for _, ev := range r.events {
				if ev.CallID != callID {
					t.Errorf("event %s has call id %q, want the caller leg's Call-ID %q that Calls shows", ev.State, ev.CallID, callID)
				}
			}
		})
	}
}

// bobInfo returns Bob's CallInfo of the only call.
func bobInfo(t *testing.T, r *recEnv) CallInfo {
	t.Helper()
	for _, c := range r.srv.Calls(r.org.ID) {
		if c.PersonID == personBob {
			return c
		}
	}
	t.Fatalf("no call of Bob in %+v", r.srv.Calls(r.org.ID))
	return CallInfo{}
}

// TestCallsListsEachPersonsView: while Bob's phone rings, Calls shows the
// call for Alice (originator) and Bob (terminator), alerting, Bob's
// recording pending (mode always starts at answer, R19); once answered,
// connected with the answer time and Bob's recording started, with no
// control (R25: always). The call id is the caller's Call-ID; another
// org sees nothing; the ended call is gone.
func TestCallsListsEachPersonsView(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways})
	alicePhone, _, aliceRTP, _ := bobPhones(t, r, 1500*time.Millisecond)
	answered := make(chan struct{})
	type result struct {
		dc  *sipgo.DialogClientSession
		err error
	}
	got := make(chan result, 1)
	go func() {
		dc, err := alicePhone.dial(r.env, "alice", "1002", aliceRTP, nil)
		close(answered)
		got <- result{dc, err}
	}()
	var ringing []CallInfo
	waitUntil(t, "the ringing call listed", func() bool {
		ringing = r.srv.Calls(r.org.ID)
		return len(ringing) == 2
	})
	select {
	case <-answered:
		t.Fatal("Bob answered before the ringing call was seen; the ring time is too short for this machine")
	default:
	}
	alice, bob := ringing[0], ringing[1]
	if alice.Personality != PersonalityOriginator || alice.PersonID != personAlice || bob.Personality != PersonalityTerminator || bob.PersonID != personBob {
		t.Fatalf("calls %+v, want Alice originator then Bob terminator", ringing)
	}
	for _, c := range ringing {
		if c.State != CallAlerting || !c.Answered.IsZero() || c.OrgID != r.org.ID || c.Created.IsZero() {
			t.Errorf("%s: state %s answered %v org %s created %v, want alerting, unanswered, in org", c.PersonID, c.State, c.Answered, c.OrgID, c.Created)
		}
	}
	if alice.RecordingState != RecordingNone || bob.RecordingState != RecordingPending {
		t.Errorf("recording states Alice %s Bob %s, want none and pending", alice.RecordingState, bob.RecordingState)
	}
	if want := (RemoteParty{Name: "Bob", Number: "1002", PersonID: personBob, CallType: CallTypeOrganization}); alice.Remote != want {
		t.Errorf("Alice's remote party %+v, want %+v", alice.Remote, want)
	}
	if want := (RemoteParty{Name: "Alice", Number: "1001", PersonID: personAlice, CallType: CallTypeOrganization}); bob.Remote != want {
		t.Errorf("Bob's remote party %+v, want %+v", bob.Remote, want)
	}
	res := <-got
	if res.err != nil {
		t.Fatal(res.err)
	}
	callID := res.dc.InviteRequest.CallID().Value()
	r.waitState(t, 1, StateStarted)
	conn := r.srv.Calls("")
	if len(conn) != 2 {
		t.Fatalf("Calls(\"\") has %d entries, want 2", len(conn))
	}
	for _, c := range conn {
		if c.CallID != callID || c.State != CallConnected || c.Answered.Before(c.Created) {
			t.Errorf("%s: call %s state %s answered %v, want %s connected, answered after %v", c.PersonID, c.CallID, c.State, c.Answered, callID, c.Created)
		}
		if c.Controls != (policy.Controls{}) {
			t.Errorf("%s has controls %+v in mode always, want none (R25)", c.PersonID, c.Controls)
		}
	}
	if conn[1].RecordingState != RecordingStarted {
		t.Errorf("Bob's recording %s after answer, want started", conn[1].RecordingState)
	}
	if other := r.srv.Calls("another-org"); len(other) != 0 {
		t.Errorf("another org sees %+v", other)
	}
	r.finish(t, res.dc)
	if left := r.srv.Calls(""); len(left) != 0 {
		t.Errorf("ended call still listed: %+v", left)
	}
}

// TestR25_R35_ControlRefusals: through Control, each mode refuses what it
// does not offer (R25) and what the recording's state does not allow
// (R35), with an error that names the rule; what it allows takes effect.
// A call that does not exist, or that the person is not in, is not
// found; an unknown action is invalid.
func TestR25_R35_ControlRefusals(t *testing.T) {
	t.Parallel()
	type step struct {
		action string
		rule   string // "" = allowed
		state  string // Bob's recording state after the step
	}
	for _, tc := range []struct {
		mode  string
		steps []step
	}{
		{callrec.ModeNever, []step{{ActionStart, "R25", RecordingNone}, {ActionPause, "R25", RecordingNone}}},
		{callrec.ModeAlways, []step{
			{ActionStart, "R25", RecordingStarted}, {ActionStop, "R25", RecordingStarted},
			{ActionPause, "R25", RecordingStarted}, {ActionResume, "R25", RecordingStarted}}},
		{callrec.ModeAlwaysWithPauseResume, []step{
			{ActionStart, "R25", RecordingStarted}, {ActionStop, "R25", RecordingStarted}, {ActionResume, "R35", RecordingStarted},
			{ActionPause, "", RecordingPaused}, {ActionPause, "R35", RecordingPaused}, {ActionResume, "", RecordingStarted}}},
		{callrec.ModeOnDemand, []step{
			{ActionStop, "R35", RecordingNone}, {ActionPause, "R35", RecordingNone}, {ActionStart, "", RecordingStarted},
			{ActionStart, "R35", RecordingStarted}, {ActionStop, "", RecordingStopped}}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			r := startRecEnvOpts(t, recOpts{mode: tc.mode})
			dc, _, _, _ := bobCall(t, r)
			callID := dc.InviteRequest.CallID().Value()
			if tc.mode == callrec.ModeAlways || tc.mode == callrec.ModeAlwaysWithPauseResume {
				r.waitState(t, 1, StateStarted)
			}
			for _, s := range tc.steps {
				err := r.srv.Control(t.Context(), r.org.ID, personBob, callID, s.action)
				var no *RefusedError
				switch {
				case s.rule == "" && err != nil:
					t.Errorf("%s: %v, want it done", s.action, err)
				case s.rule != "" && !errors.As(err, &no):
					t.Errorf("%s: %v, want refused by %s", s.action, err, s.rule)
				case s.rule != "" && (no.Rule != s.rule || !strings.HasPrefix(err.Error(), s.rule+": ") || !errors.Is(err, callrec.ErrConflict)):
					t.Errorf("%s: refused as %q (rule %s), want rule %s and a conflict", s.action, err, no.Rule, s.rule)
				}
				if got := bobInfo(t, r).RecordingState; got != s.state {
					t.Errorf("after %s Bob's recording is %s, want %s", s.action, got, s.state)
				}
			}
			for _, nf := range []struct{ name, org, person, call string }{
				{"unknown call", r.org.ID, personBob, "no-such-call"},
				{"person not in the call", r.org.ID, "2d000000-0000-4000-8000-0000000000c1", callID},
				{"another org", "another-org", personBob, callID},
			} {
				if err := r.srv.Control(t.Context(), nf.org, nf.person, nf.call, ActionStart); !errors.Is(err, callrec.ErrNotFound) {
					t.Errorf("%s: %v, want not found", nf.name, err)
				}
			}
			if err := r.srv.Control(t.Context(), r.org.ID, personBob, callID, "record"); !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("action record: %v, want invalid", err)
			}
			r.finish(t, dc)
		})
	}
}

// TestR25_R35_RefusedMatchesControlsFor: for every mode, action and
// recording state, an action is allowed exactly when nowControls offers
// it, and a refusal names R25 when the mode never offers the action, R35
// when only the state is wrong.
func TestR25_R35_RefusedMatchesControlsFor(t *testing.T) {
	modes := []string{callrec.ModeNever, callrec.ModeAlways, callrec.ModeAlwaysWithPauseResume, callrec.ModeOnDemand}
	states := []struct{ active, paused bool }{{false, false}, {true, false}, {true, true}}
	for _, mode := range modes {
		for _, st := range states {
			k := nowControls(mode, st.active, st.paused)
			for _, a := range []struct {
				action  string
				allowed bool
				offered bool
			}{
				{ActionStart, k.Start, policy.ControlsFor(mode, false).Start || policy.ControlsFor(mode, true).Start},
				{ActionStop, k.Stop, policy.ControlsFor(mode, false).Stop || policy.ControlsFor(mode, true).Stop},
				{ActionPause, k.Pause, policy.ControlsFor(mode, true).Pause},
				{ActionResume, k.Resume, policy.ControlsFor(mode, true).Resume},
			} {
				t.Run(fmt.Sprintf("%s/active=%v/paused=%v/%s", mode, st.active, st.paused, a.action), func(t *testing.T) {
					err := refused(mode, a.action, st.active, st.paused)
					var no *RefusedError
					switch {
					case a.allowed && err != nil:
						t.Errorf("refused (%v), want allowed", err)
					case !a.allowed && !errors.As(err, &no):
						t.Errorf("err %v, want a refusal", err)
					case !a.allowed && !a.offered && no.Rule != "R25":
						t.Errorf("rule %s (%v), want R25: the mode never offers %s", no.Rule, err, a.action)
					case !a.allowed && a.offered && no.Rule != "R35":
						t.Errorf("rule %s (%v), want R35: the mode offers %s, the state does not allow it", no.Rule, err, a.action)
					}
				})
			}
		}
	}
	// The spot checks of the table above, as R25 and R35 word them.
	for _, c := range []struct {
		mode           string
		action         string
		active, paused bool
		allowed        bool
	}{
		{callrec.ModeOnDemand, ActionStart, false, false, true},
		{callrec.ModeOnDemand, ActionStop, true, false, true},
		{callrec.ModeOnDemand, ActionPause, true, false, true},
		{callrec.ModeOnDemand, ActionResume, true, true, true},
		{callrec.ModeAlwaysWithPauseResume, ActionPause, true, false, true},
		{callrec.ModeAlwaysWithPauseResume, ActionStop, true, false, false},
		{callrec.ModeAlways, ActionPause, true, false, false},
		{callrec.ModeNever, ActionStart, false, false, false},
	} {
		if got := refused(c.mode, c.action, c.active, c.paused) == nil; got != c.allowed {
			t.Errorf("%s %s (active %v paused %v): allowed %v, want %v", c.mode, c.action, c.active, c.paused, got, c.allowed)
		}
	}
	if err := refused(callrec.ModeOnDemand, "record", false, false); !errors.Is(err, callrec.ErrInvalid) {
		t.Errorf("unknown action: %v, want invalid", err)
	}
}
