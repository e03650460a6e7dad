package siprecclient

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/siprec"
)

// Hold states of Session.Hold.
const (
	HoldHeld    = "held"
	HoldResumed = "resumed"
)

// holdChange is one hold or resume of the recorded call, kept for the
// metadata.
type holdChange struct {
	state string // HoldHeld or HoldResumed
	by    int    // stream of the party that asked
	at    time.Time
}

// holdExtensions writes every hold and resume so far as
// <callrec:hold state by at> session extensions: by is the a=label of
// the stream whose party put the call on hold or took it off.
func (m *model) holdExtensions(b *strings.Builder) {
	for _, h := range m.holds {
		fmt.Fprintf(b, "    <callrec:hold xmlns:callrec=\"%s\" state=\"%s\" by=\"%s\" at=\"%s\"/>\n",
			siprec.CallrecNamespace, esc(h.state), labels[h.by], stamp(h.at))
	}
}

// held records a hold change and returns the partial update (RFC 7865
// §6.1) that carries it with the session's other extensions.
func (m *model) held(state string, by int, at time.Time) []byte {
	m.holds = append(m.holds, holdChange{state: state, by: by, at: at})
	return m.sessionUpdate()
}

// Hold tells the SRS that the recorded call was put on hold (held true)
// or resumed (RFC 3264 §8.4 in the call's own dialogs; issue 5 point 3:
// metadata updates on hold): a partial metadata update (RFC 7865 §6.1)
// in an UPDATE (RFC 7866 §7.1.1) whose session carries a
// <callrec:hold state by at> element in siprec.CallrecNamespace, with
// every earlier hold change of the call. by is the stream (0: the
// recorded party, 1: the other party) of the party that asked. The
// recording's own streams keep their direction: the session goes on,
// and whatever the relay still forwards is recorded.
func (s *Session) Hold(ctx context.Context, held bool, by int, at time.Time) error {
	if s.ended.Load() {
		return ErrStopped
	}
	if by < 0 || by > 1 {
		return fmt.Errorf("siprecclient: hold by stream %d (want 0 or 1)", by)
	}
	state := HoldResumed
	if held {
		state = HoldHeld
	}
	s.mu.Lock()
	body := s.model.held(state, by, at)
	s.mu.Unlock()
	return s.request(ctx, sip.UPDATE, siprec.TypeMetadata, siprec.DispositionRecordingSession, body)
}
