package callpath

// Active calls of virtual lines and features (issue 5 point 5): a call to
// a virtual line is listed for the person whose device answered, with
// the line's id and the line's recording state (R31), and that person
// controls the line's recording; a call to a hunt group or call queue is
// the answering member's once they answer (answeredBy makes them the
// callee). A party that is a virtual line or feature shows as a party of
// the organization, known by its extension or number.

import (
	"github.com/emiago/sipgo"

	"github.com/callrec/callrec"
)

// lineAnswered notes, for a call to a virtual line, the person whose
// device answered (one of targets, which are tagged with their person).
// The callee becomes a copy that names them: a party is never changed
// once the call holds it, so it is read without call.mu.
func (c *call) lineAnswered(dc *sipgo.DialogClientSession, targets []target) {
	p := winner(dc, targets)
	if p == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.callee == nil || c.callee.line == nil {
		return
	}
	line := *c.callee
	line.answerer = p
	c.callee = &line
}

// viewer is the person whose call p's side is (call.mu not held): the
// person, or the person who answered for a virtual line; nil for a PSTN
// party, a feature nobody answered yet or a line still ringing.
func viewer(p *party) *callrec.Person {
	switch {
	case p == nil:
		return nil
	case p.person != nil:
		return p.person
	}
	return p.answerer
}

// serviceRemote describes a virtual line or feature as the other party:
// one of the organization's, by its extension or number, with the person
// who answered for a line. ok is false for other parties.
func serviceRemote(p *party) (RemoteParty, bool) {
	if p.person != nil || (p.line == nil && p.feature == nil) {
		return RemoteParty{}, false
	}
	r := RemoteParty{Name: p.name, Number: p.serviceUser(), CallType: CallTypeOrganization}
	if p.answerer != nil {
		r.PersonID = p.answerer.ID
	}
	return r, true
}
