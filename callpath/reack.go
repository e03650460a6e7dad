package callpath

import (
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/callpath/relay"
)

// 2xx retransmission for the re-INVITEs we answer (RFC 3261 §13.3.1.4,
// RFC 6026 §7.1). Over UDP a lost 200 would leave the peer retrying its
// INVITE, which the transaction layer absorbs in its Accepted state
// (sipgo's server transaction, like RFC 6026 asks, never retransmits a
// 2xx itself: that is the TU's job, and sipgo does it only for the
// dialog's first INVITE, in DialogServerSession.WriteResponse). So the
// call resends its 200 at T1, then doubling up to T2, until the ACK
// arrives; when none came within 64*T1 the session ends with BYE on both
// legs. Reliable transports (TCP) carry the 200 once.

// ackKey names the ACK a 2xx waits for: the leg and the INVITE's CSeq.
type ackKey struct {
	side relay.Side
	seq  uint32
}

// t1 is RFC 3261's T1 for this server's 2xx retransmissions (tests
// shorten it through Server.reackT1).
func (s *Server) t1() time.Duration {
	if s.reackT1 > 0 {
		return s.reackT1
	}
	return sip.T1
}

// expectAck notes, before the 200 to an in-dialog INVITE from leg side
// goes out over UDP, that its ACK is awaited; it returns nil when nothing
// is to be retransmitted (not an INVITE, or a reliable transport).
func (c *call) expectAck(side relay.Side, req *sip.Request) chan struct{} {
	if !req.IsInvite() || !strings.EqualFold(req.Transport(), "UDP") || req.CSeq() == nil {
		return nil
	}
	ch := make(chan struct{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dlg.acks == nil {
		c.dlg.acks = map[ackKey]chan struct{}{}
	}
	c.dlg.acks[ackKey{side, req.CSeq().SeqNo}] = ch
	return ch
}

// acked takes an ACK of leg side: the 2xx it acknowledges (same CSeq
// number, RFC 3261 §17.1.1.3) stops being retransmitted.
func (c *call) acked(side relay.Side, req *sip.Request) {
	h := req.CSeq()
	if h == nil {
		return
	}
	k := ackKey{side, h.SeqNo}
	c.mu.Lock()
	ch := c.dlg.acks[k]
	delete(c.dlg.acks, k)
	c.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// retransmit resends res through tx until acked is closed (RFC 3261
// §13.3.1.4: T1, doubling up to T2), the call ends, or 64*T1 pass: then
// the call ends with BYE (the session is confirmed but SHOULD end).
func (c *call) retransmit(side relay.Side, req *sip.Request, tx sip.ServerTransaction, res *sip.Response, acked chan struct{}) {
	if acked == nil {
		return
	}
	k := ackKey{side, req.CSeq().SeqNo}
	t1 := c.s.t1()
	c.s.calls.Add(1)
	go func() {
		defer c.s.calls.Done()
		defer func() {
			c.mu.Lock()
			if c.dlg.acks[k] == acked {
				delete(c.dlg.acks, k)
			}
			c.mu.Unlock()
		}()
		wait := t1
		tm := time.NewTimer(wait)
		defer tm.Stop()
		giveUp := time.NewTimer(64 * t1)
		defer giveUp.Stop()
		for {
			select {
			case <-acked:
				return
			case <-c.done:
				return
			case <-giveUp.C:
				c.s.log.Info("callpath: no ACK for our 2xx to a re-INVITE", "call", c.id, "leg", side.String())
				c.hangup(-1, "no ACK for 2xx to re-INVITE (RFC 3261 §13.3.1.4)")
				return
			case <-tm.C:
				if err := tx.Respond(res); err != nil {
					c.s.log.Debug("callpath: 2xx retransmission", "call", c.id, "err", err)
				}
				wait = min(2*wait, max(sip.T2, t1))
				tm.Reset(wait)
			}
		}
	}()
}
