package callpath

import (
	"github.com/emiago/sipgo"
)

// targetAnswered returns the party a blind transfer's target becomes once
// the device of one of targets answered dc, as a call to it would have
// it: a virtual line stays the line (its recording settings and language
// apply, R31, R21) and notes the person whose device answered, who sees
// and controls the call (lineAnswered); the answering member of a hunt
// group (or another feature whose members rang) becomes the party, with
// the feature as via for the language (answeredBy, R21). A person or a
// PSTN party is returned as it is.
func targetAnswered(tp *party, dc *sipgo.DialogClientSession, targets []target) *party {
	p := winner(dc, targets)
	switch {
	case p == nil || tp.person != nil:
		return tp
	case tp.line != nil:
		line := *tp
		line.answerer = p
		return &line
	case tp.feature != nil:
		via := tp.via
		if via == nil {
			via = tp.feature
		}
		return &party{orgID: p.OrgID, person: p, name: displayName(p), via: via}
	}
	return tp
}
