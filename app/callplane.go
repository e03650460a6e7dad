package app

import (
	"context"
	"sync/atomic"

	"github.com/callrec/callrec/api"
	"github.com/callrec/callrec/callpath"
)

// callPlane adapts the B2BUA to api.CallPlane. The HTTP handler is built
// before the call plane starts, so the server is set once it runs; until
// then the call control routes answer 503 (api.ErrNoCallPlane).
type callPlane struct {
	srv atomic.Pointer[callpath.Server]
}

// Calls lists the org's active calls in the API's terms.
func (p *callPlane) Calls(orgID string) ([]api.ActiveCall, error) {
	s := p.srv.Load()
	if s == nil {
		return nil, api.ErrNoCallPlane
	}
	infos := s.Calls(orgID)
	out := make([]api.ActiveCall, 0, len(infos))
	for _, c := range infos {
		out = append(out, api.ActiveCall{CallID: c.CallID, OrgID: c.OrgID, PersonID: c.PersonID, VirtualLineID: c.VirtualLineID, Personality: c.Personality,
			State: c.State, Created: c.Created, Answered: c.Answered, RecordingState: c.RecordingState, Controls: c.Controls,
			Remote: api.ActiveCallParty{Name: c.Remote.Name, Number: c.Remote.Number, PersonID: c.Remote.PersonID, CallType: c.Remote.CallType}})
	}
	return out, nil
}

// Control carries out a recording control (callpath.Server.Control).
func (p *callPlane) Control(ctx context.Context, orgID, personID, callID, action string) error {
	s := p.srv.Load()
	if s == nil {
		return api.ErrNoCallPlane
	}
	return s.Control(ctx, orgID, personID, callID, action)
}
