package api

// Call controls in the shape of Webex's Call Controls API (issue 5 point
// 5, R25, R35): the token's person lists its active calls
// (GET /v1/telephony/calls, GET /v1/telephony/calls/{callId}) and starts,
// stops, pauses and resumes their recording
// (POST /v1/telephony/calls/{start,stop,pause,resume}Recording with
// {"callId"}). Extensions: full, read-only and partner admins list every
// active call of the org, and full and partner admins control any
// person's call of the org by adding "personId" to the body. The call
// plane does the work (the same action as the person's feature access
// code) behind the [CallPlane] interface; this file only decides who may
// act on which call and maps the answers to statuses.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/events"
	"github.com/callrec/callrec/policy"
)

// ErrNoCallPlane is what a CallPlane answers while the call plane is not
// running (yet): the routes answer 503.
var ErrNoCallPlane = fmt.Errorf("api: the call plane is not running: %w", callrec.ErrUnavailable)

// CallPlane is what the call control routes need from the call plane
// (app/ adapts *callpath.Server to it).
type CallPlane interface {
	// Calls lists the live calls of an org, one ActiveCall per person in
	// each call, or ErrNoCallPlane.
	Calls(orgID string) ([]ActiveCall, error)
	// Control carries out action (start, stop, pause, resume) on the
	// recording of personID in call callID of org orgID. Errors: wrapping
	// callrec.ErrNotFound (no such call of that person), callrec.ErrConflict
	// (the mode or state does not allow it; the message names the rule
	// and is shown to the client), callrec.ErrUnavailable (the recording
	// service did not take the recording), ErrNoCallPlane.
	Control(ctx context.Context, orgID, personID, callID, action string) error
}

// ActiveCall is one person's view of a live call (see callpath.CallInfo).
type ActiveCall struct {
	CallID         string // the call plane's call id (events carry the same)
	OrgID          string
	PersonID       string // internal id of the person whose view this is
	VirtualLineID  string // internal id of the virtual line the person answered for, or ""
	Personality    string // originator or terminator
	State          string // alerting or connected
	Remote         ActiveCallParty
	Created        time.Time
	Answered       time.Time // zero until answered
	RecordingState string    // none, pending, started, paused, stopped, failed
	Controls       policy.Controls
}

// ActiveCallParty is the remote party of an ActiveCall.
type ActiveCallParty struct {
	Name, Number string
	PersonID     string // internal id, when the remote party is a person of the org
	CallType     string // organization or external
}

// Control actions of the four POST routes.
const (
	callActionStart  = "start"
	callActionStop   = "stop"
	callActionPause  = "pause"
	callActionResume = "resume"
)

// callJSON is an active call as Webex's Call Controls API renders it.
type callJSON struct {
	ID                string          `json:"id" doc:"the call id, the same as the callId of recording state events"`
	PersonID          string          `json:"personId" doc:"the person whose view of the call this is (admins list every person's)"`
	VirtualLineID     string          `json:"virtualLineId,omitempty" doc:"callrec: the virtual line the person answered for; its recording is the one shown and controlled"`
	Personality       string          `json:"personality" doc:"originator or terminator"`
	State             string          `json:"state" doc:"alerting or connected"`
	RemoteParty       remotePartyJSON `json:"remoteParty"`
	Created           string          `json:"created"`
	Answered          string          `json:"answered,omitempty"`
	RecordingState    string          `json:"recordingState" doc:"none, pending, started, paused, stopped or failed"`
	RecordingControls []string        `json:"recordingControls" doc:"what the person may do now (R25, R35): start, stop, pause, resume"`
}

// remotePartyJSON is the other side of a call.
type remotePartyJSON struct {
	Name     string `json:"name,omitempty"`
	Number   string `json:"number,omitempty"`
	PersonID string `json:"personId,omitempty"`
	CallType string `json:"callType" doc:"organization or external"`
}

// callControlBody is the body of the four recording control routes.
type callControlBody struct {
	CallID   string `json:"callId" doc:"the call's id (GET /v1/telephony/calls)"`
	PersonID string `json:"personId,omitempty" doc:"full and partner admins: the person whose call to control (default: the token's person)"`
}

func renderCall(c *ActiveCall) callJSON {
	out := callJSON{ID: c.CallID, PersonID: webexID(idPerson, c.PersonID), Personality: c.Personality, State: c.State,
		RemoteParty: remotePartyJSON{Name: c.Remote.Name, Number: c.Remote.Number, CallType: c.Remote.CallType},
		Created:     events.FormatTime(c.Created), RecordingState: c.RecordingState, RecordingControls: []string{}}
	if c.Remote.PersonID != "" {
		out.RemoteParty.PersonID = webexID(idPerson, c.Remote.PersonID)
	}
	if c.VirtualLineID != "" {
		out.VirtualLineID = webexID(idVirtualLine, c.VirtualLineID)
	}
	if !c.Answered.IsZero() {
		out.Answered = events.FormatTime(c.Answered)
	}
	for _, k := range []struct {
		on   bool
		name string
	}{{c.Controls.Start, callActionStart}, {c.Controls.Stop, callActionStop}, {c.Controls.Pause, callActionPause}, {c.Controls.Resume, callActionResume}} {
		if k.on {
			out.RecordingControls = append(out.RecordingControls, k.name)
		}
	}
	return out
}

// callViewer is what a token may do with an org's calls.
type callViewer struct {
	personID   string // the token's person in this org, if any
	listAll    bool   // sees every call of the org (full, read-only, partner admins)
	controlAll bool   // controls any person's call of the org (full, partner admins)
}

// callScope resolves the acting org (§1.3) and tok's rights on its calls.
// A token that is no person of the org and no admin who sees the org's
// calls is refused (403).
func (s *server) callScope(r *http.Request, tok *callrec.Token) (string, callViewer, error) {
	org, err := s.actingOrg(r, tok)
	if err != nil {
		return "", callViewer{}, err
	}
	var v callViewer
	if tok.PersonID != "" && tok.OrgID == org.ID {
		v.personID = tok.PersonID
	}
	switch {
	case managesOrg(tok, org) || tok.Role == callrec.RoleFullAdmin:
		v.listAll, v.controlAll = true, true
	case tok.Role == callrec.RoleReadOnlyAdmin:
		v.listAll = true
	}
	if !v.listAll && v.personID == "" {
		return "", callViewer{}, forbidden("The " + tok.Role + " role may not see or control calls; a person sees its own calls")
	}
	return org.ID, v, nil
}

// callPlane returns the call plane or the 503 when there is none.
func (s *server) callPlane() (CallPlane, error) {
	if s.calls == nil {
		return nil, callPlaneDown()
	}
	return s.calls, nil
}

func callPlaneDown() error {
	return &apiError{kind: callrec.ErrUnavailable, msgs: []string{"The call plane is not running on this server"}}
}

// visibleCalls lists the org's calls the viewer may see: all of them
// (admins; personId narrows to one person) or the token's person's own.
func (s *server) visibleCalls(r *http.Request, orgID string, v callViewer) ([]ActiveCall, error) {
	plane, err := s.callPlane()
	if err != nil {
		return nil, err
	}
	person := v.personID
	if v.listAll {
		person = ""
		if raw := r.URL.Query().Get("personId"); raw != "" {
			id, ok := parseID(idPerson, raw)
			if !ok {
				return nil, notFoundThing("Person", raw)
			}
			person = id
		}
	}
	calls, err := plane.Calls(orgID)
	if errors.Is(err, ErrNoCallPlane) {
		return nil, callPlaneDown()
	}
	if err != nil {
		return nil, fmt.Errorf("api: active calls: %w", err)
	}
	out := calls[:0:0]
	for _, c := range calls {
		if c.OrgID == orgID && (person == "" || c.PersonID == person) {
			out = append(out, c)
		}
	}
	return out, nil
}

// scopedCalls is the calls the token may see in the request's scope
// (callScope, visibleCalls), with the viewer it sees them as.
func (s *server) scopedCalls(r *http.Request, tok *callrec.Token) ([]ActiveCall, callViewer, error) {
	orgID, v, err := s.callScope(r, tok)
	if err != nil {
		return nil, v, err
	}
	calls, err := s.visibleCalls(r, orgID, v)
	return calls, v, err
}

// listCalls is GET /v1/telephony/calls.
func (s *server) listCalls(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	calls, _, err := s.scopedCalls(r, tok)
	if err != nil {
		return err
	}
	items := make([]callJSON, 0, len(calls))
	for i := range calls {
		items = append(items, renderCall(&calls[i]))
	}
	writeJSON(w, http.StatusOK, struct {
		Items []callJSON `json:"items"`
	}{items})
	return nil
}

// getCall is GET /v1/telephony/calls/{callId}: the token's person's view
// of the call; an admin who lists all calls gets the view of personId, or
// the first person of the org in the call.
func (s *server) getCall(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	calls, v, err := s.scopedCalls(r, tok)
	if err != nil {
		return err
	}
	id := r.PathValue("callId")
	var found *ActiveCall
	for i := range calls {
		c := &calls[i]
		if c.CallID != id {
			continue
		}
		if found == nil || (c.PersonID == v.personID && found.PersonID != v.personID) {
			found = c
		}
	}
	if found == nil {
		return notFoundThing("Call", id)
	}
	writeJSON(w, http.StatusOK, renderCall(found))
	return nil
}

// controlCall is POST /v1/telephony/calls/{action}Recording: the action
// on the token's person's recording in the call, or (full and partner
// admins) on body.personId's.
func (s *server) controlCall(action string) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
		orgID, v, err := s.callScope(r, tok)
		if err != nil {
			return err
		}
		if !v.controlAll && v.personID == "" {
			return forbidden("The " + tok.Role + " role may not control calls; a person controls its own calls")
		}
		var body callControlBody
		if err := decodeBody(r, &body, true); err != nil {
			return err
		}
		body.CallID = strings.TrimSpace(body.CallID)
		if body.CallID == "" {
			return badRequest("callId: the call to " + action + " recording is required")
		}
		person := v.personID
		if body.PersonID != "" {
			id, ok := parseID(idPerson, body.PersonID)
			switch {
			case !ok:
				return notFoundThing("Person", body.PersonID)
			case id != v.personID && !v.controlAll:
				return forbidden("Only full administrators may control another person's call")
			}
			person = id
		}
		if person == "" {
			return badRequest("personId: this token is no person's; name the person whose call to control")
		}
		plane, err := s.callPlane()
		if err != nil {
			return err
		}
		err = plane.Control(r.Context(), orgID, person, body.CallID, action)
		switch {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
			return nil
		case errors.Is(err, ErrNoCallPlane):
			return callPlaneDown()
		case errors.Is(err, callrec.ErrNotFound):
			return notFoundThing("Call", body.CallID)
		case errors.Is(err, callrec.ErrConflict):
			return &apiError{kind: callrec.ErrConflict, msgs: []string{err.Error()}, cause: err}
		case errors.Is(err, callrec.ErrUnavailable) && action == callActionStart:
			return &apiError{kind: callrec.ErrUnavailable, msgs: []string{"The recording service did not take the recording; the organization's failure behaviour applies (X1)"}, cause: err}
		}
		return fmt.Errorf("api: %s recording of call %s: %w", action, quote(body.CallID), err)
	}
}
