package callpath

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/siprecclient"
)

// Personalities of a CallInfo: the person's role in the call (the
// personality of Webex's Call Controls API).
const (
	PersonalityOriginator = "originator" // the person placed the call
	PersonalityTerminator = "terminator" // the person was called
)

// States of a call in a CallInfo. Hold is not tracked yet (re-INVITEs
// get our SDP back unchanged), so a held call shows as connected.
const (
	CallAlerting  = "alerting"  // the callee's devices ring
	CallConnected = "connected" // answered and bridged
)

// Recording states of a CallInfo (Webex's recordingState, plus none).
const (
	RecordingNone    = "none"    // the person is not recorded in this call (or not yet: on_demand)
	RecordingPending = "pending" // recording starts at answer, or its SIPREC session is being set up
	RecordingStarted = "started" // recording (also after a resume)
	RecordingPaused  = "paused"
	RecordingStopped = "stopped" // stopped by the user (on_demand)
	RecordingFailed  = "failed"  // the SRS refused or failed (X1)
)

// Call types of a RemoteParty.
const (
	CallTypeOrganization = "organization" // a person of the same org
	CallTypeExternal     = "external"     // a PSTN party
)

// Control actions (R25, R35): what the feature access codes and the REST
// call controls do.
const (
	ActionStart  = "start"
	ActionStop   = "stop"
	ActionPause  = "pause"
	ActionResume = "resume"
)

// RemoteParty is the other side of a call as a CallInfo shows it.
type RemoteParty struct {
	Name     string // display name, when known
	Number   string // extension or phone number of a person, the PSTN number otherwise
	PersonID string // the other person, when the call is internal
	CallType string // CallTypeOrganization or CallTypeExternal
}

// CallInfo is one person's view of one active call: a call between two
// people of the org gives one CallInfo per person.
type CallInfo struct {
	// CallID is the call's id: the SIP Call-ID of the caller's leg, the
	// same id as Event.CallID (what webhooks and event streams carry).
	CallID      string
	OrgID       string
	PersonID    string // the person whose view this is
	Personality string // PersonalityOriginator or PersonalityTerminator
	State       string // CallAlerting or CallConnected
	Remote      RemoteParty
	Created     time.Time // when the INVITE came
	Answered    time.Time // zero until answered
	// RecordingState is the person's recording in this call: one of the
	// Recording* constants.
	RecordingState string
	// Controls are the actions the person may take now (R25, R35):
	// policy.ControlsFor narrowed by the pause state.
	Controls policy.Controls
	// VirtualLineID is set when the person is in the call for a virtual
	// line (their device answered a call to it): the recording state is
	// the line's recording (R31), which the person controls.
	VirtualLineID string
}

// RefusedError is the answer to a control action the person's mode or the
// recording's state does not allow (R19, R25, R35). It wraps
// callrec.ErrConflict; its message names the rule and says why, and is
// written to be shown to the user.
type RefusedError struct {
	Action string // the action refused
	Rule   string // the rule that refuses it, e.g. "R25"
	Why    string
}

// Error is the rule and the reason.
func (e *RefusedError) Error() string { return e.Rule + ": " + e.Why }

// Unwrap makes the error a callrec.ErrConflict.
func (e *RefusedError) Unwrap() error { return callrec.ErrConflict }

// callControl is what control.go keeps per call.
type callControl struct {
	answered time.Time // when answered() ran (under call.mu)
	info     deviceInfo
}

// recControl is what control.go keeps per recording.
type recControl struct {
	act  sync.Mutex // held by a control action while it runs: one at a time
	last string     // the last state event (under recording.mu)
	dev  string     // the last state told to the device (under recording.mu)
}

// Calls lists the live calls of an org ("" = every org): one CallInfo per
// person in each call, oldest call first.
func (s *Server) Calls(orgID string) []CallInfo {
	s.mu.Lock()
	calls := make([]*call, 0, len(s.live))
	for c := range s.live {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	var out []CallInfo
	for _, c := range calls {
		for _, side := range []relay.Side{relay.A, relay.B} {
			if info, ok := c.info(side); ok && (orgID == "" || info.OrgID == orgID) {
				out = append(out, info)
			}
		}
	}
	slices.SortFunc(out, func(a, b CallInfo) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		if c := strings.Compare(a.CallID, b.CallID); c != 0 {
			return c
		}
		return strings.Compare(a.Personality, b.Personality)
	})
	return out
}

// Control carries out a recording control action (ActionStart, ActionStop,
// ActionPause, ActionResume) for a person in one of their calls, exactly
// as the person's feature access code would (R25, R35): the same
// announcements or beeps (R27, R28), the same SRS updates (R37) and
// events (R34). It returns once the action is done or ctx ends.
//
// An unknown action is callrec.ErrInvalid; a call that does not exist or
// that the person (of orgID, "" = any org) is not in wraps
// callrec.ErrNotFound; an action the person's mode or the recording's
// state does not allow is a *RefusedError (callrec.ErrConflict). A start
// whose SIPREC session could not be set up wraps callrec.ErrUnavailable
// (the org's failure behaviour, X1, has then been applied). Unlike a
// refused access code, a refused Control plays no refusal tone: the
// error is the answer.
func (s *Server) Control(ctx context.Context, orgID, personID, callID, action string) error {
	switch action {
	case ActionStart, ActionStop, ActionPause, ActionResume:
	default:
		return fmt.Errorf("callpath: control action %q is not one of start, stop, pause, resume: %w", action, callrec.ErrInvalid)
	}
	c, side, ok := s.callOf(orgID, personID, callID)
	if !ok {
		return fmt.Errorf("callpath: call %q of person %q: %w", callID, personID, callrec.ErrNotFound)
	}
	done := make(chan error, 1)
	go func() { done <- c.act(side, action) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("callpath: %s recording of call %q: %w", action, callID, ctx.Err())
	}
}

// callOf finds the live call callID and the side personID is on.
func (s *Server) callOf(orgID, personID, callID string) (*call, relay.Side, bool) {
	if callID == "" || personID == "" {
		return nil, 0, false
	}
	s.mu.Lock()
	var found []*call
	for c := range s.live {
		if c.id == callID {
			found = append(found, c)
		}
	}
	s.mu.Unlock()
	for _, c := range found {
		parties := c.sides()
		for _, side := range []relay.Side{relay.A, relay.B} {
			p := parties[side]
			if who := viewer(p); who != nil && who.ID == personID && (orgID == "" || p.orgID == orgID) {
				return c, side, true
			}
		}
	}
	return nil, 0, false
}

// sides returns the parties on sides A and B (a transfer changes them).
func (c *call) sides() [2]*party {
	c.mu.Lock()
	defer c.mu.Unlock()
	return [2]*party{c.partyOn(relay.A), c.partyOn(relay.B)}
}

// info is the CallInfo of the person on side, if a person is there.
func (c *call) info(side relay.Side) (CallInfo, bool) {
	parties := c.sides()
	me, other := parties[side], parties[1-side]
	who := viewer(me) // a person, or who answered for a virtual line (activecalls.go)
	if who == nil || other == nil {
		return CallInfo{}, false
	}
	c.mu.Lock()
	ended, answered, bridged := c.ended, c.ctl.answered, c.bridge != nil
	c.mu.Unlock()
	if ended {
		return CallInfo{}, false
	}
	info := CallInfo{CallID: c.id, OrgID: me.orgID, PersonID: who.ID, Personality: PersonalityOriginator,
		State: CallAlerting, Created: c.start, Answered: answered, Remote: remoteOf(other)}
	if me.line != nil {
		info.VirtualLineID = me.line.ID
	}
	if side == relay.B {
		info.Personality = PersonalityTerminator
	}
	if bridged && !answered.IsZero() {
		info.State = CallConnected
	}
	info.RecordingState, info.Controls = c.recordingState(side)
	return info, true
}

// remoteOf describes the other party.
func remoteOf(p *party) RemoteParty {
	if r, ok := serviceRemote(p); ok { // activecalls.go
		return r
	}
	if p.person == nil {
		return RemoteParty{Name: p.name, Number: p.number, CallType: CallTypeExternal}
	}
	num := p.person.Extension
	if num == "" && len(p.person.PhoneNumbers) > 0 {
		num = p.person.PhoneNumbers[0]
	}
	return RemoteParty{Name: p.name, Number: num, PersonID: p.person.ID, CallType: CallTypeOrganization}
}

// recordingState is the recording state of the person on side and the
// controls they have now.
func (c *call) recordingState(side relay.Side) (string, policy.Controls) {
	r := c.recordingOf(side)
	if r == nil {
		// Not answered yet: recordings exist from answer on (R19).
		for _, p := range c.plans {
			if p.side == side && p.dec.StartAtAnswer {
				return RecordingPending, policy.Controls{}
			}
		}
		return RecordingNone, policy.Controls{}
	}
	r.mu.Lock()
	active, paused, last := r.active, r.paused, r.ctl.last
	r.mu.Unlock()
	k := nowControls(r.dec.Mode, active, paused)
	switch {
	case active && r.sess.Load() == nil:
		return RecordingPending, k
	case last == StateStarted || last == StateResumed:
		return RecordingStarted, k
	case last == StatePaused:
		return RecordingPaused, k
	case last == StateStopped:
		return RecordingStopped, k
	case last == StateFailed:
		return RecordingFailed, k
	case r.dec.StartAtAnswer:
		return RecordingPending, k
	}
	return RecordingNone, k
}

// nowControls narrows policy.ControlsFor by the pause state: pause while
// recording, resume while paused (R25, R35).
func nowControls(mode string, active, paused bool) policy.Controls {
	k := policy.ControlsFor(mode, active)
	k.Start = k.Start && !active
	k.Stop = k.Stop && active
	k.Pause = k.Pause && active && !paused
	k.Resume = k.Resume && active && paused
	return k
}

// act carries out one control action for the recorded party on side:
// the one place where an access code (controls.go) and a REST control
// (Control) take effect. It returns why an action is refused.
func (c *call) act(side relay.Side, action string) error {
	r := c.recordingOf(side)
	if r == nil {
		for _, p := range c.plans {
			if p.side == side {
				return &RefusedError{Action: action, Rule: "R19", Why: "the call is not answered yet; recording controls apply once it is"}
			}
		}
		return &RefusedError{Action: action, Rule: "R25", Why: "this person is not recorded in this call (recording mode never, or off for this call), so there is no recording to " + action}
	}
	r.ctl.act.Lock()
	defer r.ctl.act.Unlock()
	r.mu.Lock()
	active, paused := r.active, r.paused
	r.mu.Unlock()
	if err := refused(r.dec.Mode, action, active, paused); err != nil {
		return err
	}
	switch action {
	case ActionStart:
		r.start()
		if r.sess.Load() == nil {
			return fmt.Errorf("callpath: the recording service did not take the recording of call %q (X1): %w", c.id, callrec.ErrUnavailable)
		}
	case ActionStop:
		if a := r.dec.Stop; a != nil {
			if played, _ := c.compliancePlayed(); !played { // R20
				if sess := r.sess.Load(); sess != nil {
					go r.announce(sess, siprecclient.AnnounceStop, a.Language, c.s.cfg.Now())
				}
				c.playBoth(fileKind(prompt.Stop, a), a.Language)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
		r.stop(ctx)
		cancel()
	case ActionPause:
		r.pauseResume(true)
	case ActionResume:
		r.pauseResume(false)
	}
	return nil
}

// refused says why mode does not allow action in the recording's state,
// or nil when it does (R25: what each mode offers; R35: start while not
// recording, stop, pause and resume while recording).
func refused(mode, action string, active, paused bool) error {
	now := nowControls(mode, active, paused)
	off, on := policy.ControlsFor(mode, false), policy.ControlsFor(mode, true)
	no := func(why string) error { return &RefusedError{Action: action, Rule: "R35", Why: why} }
	noMode := func() error {
		return &RefusedError{Action: action, Rule: "R25", Why: fmt.Sprintf("recording mode %s gives the user no %s control (%s)", mode, action, modeOffers(mode))}
	}
	switch action {
	case ActionStart:
		switch {
		case now.Start:
			return nil
		case !off.Start && !on.Start:
			return noMode()
		}
		return no("the recording is already running")
	case ActionStop:
		switch {
		case now.Stop:
			return nil
		case !off.Stop && !on.Stop:
			return noMode()
		}
		return no("no recording is running to stop")
	case ActionPause:
		switch {
		case now.Pause:
			return nil
		case !off.Pause && !on.Pause:
			return noMode()
		case !active:
			return no("pause applies only while the recording is running")
		}
		return no("the recording is already paused")
	case ActionResume:
		switch {
		case now.Resume:
			return nil
		case !off.Resume && !on.Resume:
			return noMode()
		case !active:
			return no("resume applies only while the recording is running")
		}
		return no("the recording is not paused")
	}
	return fmt.Errorf("callpath: control action %q is not one of start, stop, pause, resume: %w", action, callrec.ErrInvalid)
}

// modeOffers says what a mode lets the user do (R25).
func modeOffers(mode string) string {
	switch mode {
	case callrec.ModeAlways:
		return "it records every call from answer to hangup"
	case callrec.ModeAlwaysWithPauseResume:
		return "it records every call; the user may only pause and resume"
	case callrec.ModeOnDemand:
		return "the user starts and stops, and pauses and resumes while recording"
	}
	return "the user is not recorded"
}

// actionOfCode maps a dialled access code to its action ("" = none).
func actionOfCode(k callrec.AccessCodes, code string) string {
	switch code {
	case "":
		return ""
	case k.Start:
		return ActionStart
	case k.Stop:
		return ActionStop
	case k.Pause:
		return ActionPause
	case k.Resume:
		return ActionResume
	}
	return ""
}
