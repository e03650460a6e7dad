package siprecclient

import (
	"bytes"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/siprec"
)

// Dialogs routes requests an SRS sends inside its recording sessions (BYE,
// re-INVITE, UPDATE, ACK, INFO) to the Session they belong to. The B2BUA
// owns the SIP server; its handlers offer each in-dialog request to
// Handle first. The zero value is not usable: call NewDialogs.
type Dialogs struct {
	mu       sync.Mutex
	sessions map[string]*Session // by our Call-ID
}

// NewDialogs returns an empty router.
func NewDialogs() *Dialogs { return &Dialogs{sessions: map[string]*Session{}} }

// Len is the number of recording sessions the router knows (set up or
// running).
func (d *Dialogs) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.sessions)
}

func (d *Dialogs) add(callID string, s *Session) {
	d.mu.Lock()
	d.sessions[callID] = s
	d.mu.Unlock()
}

func (d *Dialogs) remove(callID string, s *Session) {
	d.mu.Lock()
	if d.sessions[callID] == s {
		delete(d.sessions, callID)
	}
	d.mu.Unlock()
}

func (d *Dialogs) lookup(req *sip.Request) *Session {
	h := req.CallID()
	if h == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sessions[h.Value()]
}

// Handle answers req when it belongs to one of our recording sessions and
// reports whether it did; false means the request is the B2BUA's.
//
//   - BYE: the SRS ends the session (RFC 7866 §7.1.2); answered 200, the
//     session stops sending and reports ErrRemoteBye on Failed.
//   - re-INVITE: answered 200 with our current offer (RFC 3264 §8: the SRS
//     cannot change what we send), e.g. a session refresh.
//   - UPDATE and INFO: answered 200.
//   - an application/rs-metadata-request body (RFC 7866 §9.2): answered
//     200, then a complete metadata snapshot follows in an UPDATE.
//   - ACK: absorbed.
func (d *Dialogs) Handle(req *sip.Request, tx sip.ServerTransaction) bool {
	s := d.lookup(req)
	if s == nil {
		return false
	}
	switch req.Method {
	case sip.ACK:
	case sip.BYE:
		s.remoteBye(req, tx)
	case sip.INVITE:
		_, contact := s.dialog()
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", s.currentOffer())
		res.AppendHeader(sip.NewHeader("Content-Type", siprec.TypeSDP))
		res.AppendHeader(&contact)
		_ = tx.Respond(res)
		s.snapshotIfAsked(req)
	case sip.UPDATE, sip.INFO, sip.OPTIONS:
		_, contact := s.dialog()
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(&contact)
		_ = tx.Respond(res)
		s.snapshotIfAsked(req)
	default:
		res := sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", allow))
		_ = tx.Respond(res)
	}
	return true
}

// asksSnapshot reports whether a request carries an SRS's metadata
// snapshot request (RFC 7866 §9.2), alone or as a multipart part.
func asksSnapshot(req *sip.Request) bool {
	ct := req.ContentType()
	if ct == nil {
		return false
	}
	if bytes.Contains(bytes.ToLower([]byte(ct.Value())), []byte(siprec.TypeMetadataRequest)) {
		return true
	}
	return bytes.Contains(bytes.ToLower(req.Body()), []byte(siprec.TypeMetadataRequest))
}
