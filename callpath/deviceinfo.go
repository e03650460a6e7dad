package callpath

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/callpath/relay"
)

// Recording state on the device (R34, issue 5 point 6): at each change of
// a recording's state the recorded party's device gets an in-dialog INFO
// (RFC 6086 legacy usage: no Info-Package, no body) carrying
//
//	Call-Info: <sip:callrec@HOST>;purpose=x-callrec-recording;state=started
//
// (RFC 3261 §20.9; the purpose is an extension token), state being
// started, paused, resumed, stopped or failed. The INFOs of a call go out
// one after the other from one goroutine, in the order of the changes;
// nothing waits for them and a failure is only logged at debug level.

// CallInfoPurpose is the purpose parameter of the Call-Info header of the
// recording state INFO.
const CallInfoPurpose = "x-callrec-recording"

// infoTimeout bounds the wait for a device's answer to one INFO.
const infoTimeout = 4 * time.Second

// infoFirstWait bounds how long a hangup waits for the final "stopped"
// INFO to leave before the BYE, so the device sees it in its dialog.
const infoFirstWait = 500 * time.Millisecond

// deviceInfo is a call's queue of recording state INFOs.
type deviceInfo struct {
	once sync.Once
	q    chan infoMsg
}

// infoMsg is one INFO to send; sent (when set) is closed once it left.
type infoMsg struct {
	side  relay.Side
	state string
	sent  chan struct{}
}

// stateChanged notes the recording's new state (CallInfo) and tells the
// recorded party's device. It runs at every recording event.
func (r *recording) stateChanged(state string) {
	r.mu.Lock()
	r.ctl.last = state
	send := r.ctl.dev != state
	r.ctl.dev = state
	r.mu.Unlock()
	if send {
		r.c.enqueueInfo(infoMsg{side: r.side, state: state})
	}
}

// notifyEnd runs when the call ends from side from (-1: from us): a
// recorded party still in the call gets its "stopped" INFO before the
// BYE (waiting at most infoFirstWait for it to leave); the one that hung
// up gets none. The stop events that follow send nothing more.
func (c *call) notifyEnd(from relay.Side) {
	c.mu.Lock()
	recs := c.recs
	c.mu.Unlock()
	var sent []chan struct{}
	for _, r := range recs {
		r.mu.Lock()
		live := r.ctl.dev == StateStarted || r.ctl.dev == StateResumed || r.ctl.dev == StatePaused
		r.ctl.dev = StateStopped
		r.mu.Unlock()
		if live && r.side != from {
			ch := make(chan struct{})
			c.enqueueInfo(infoMsg{side: r.side, state: StateStopped, sent: ch})
			sent = append(sent, ch)
		}
	}
	if len(sent) == 0 {
		return
	}
	t := time.NewTimer(infoFirstWait)
	defer t.Stop()
	for _, ch := range sent {
		select {
		case <-ch:
		case <-t.C:
			return
		}
	}
}

// enqueueInfo hands an INFO to the call's sender, never blocking: a full
// queue drops it.
func (c *call) enqueueInfo(m infoMsg) {
	d := &c.ctl.info
	d.once.Do(func() {
		d.q = make(chan infoMsg, 16)
		go c.sendInfos(d.q)
	})
	select {
	case d.q <- m:
	default:
		c.s.log.Debug("callpath: recording state INFO dropped", "call", c.id, "state", m.state)
		if m.sent != nil {
			close(m.sent)
		}
	}
}

// sendInfos sends the queued INFOs in order until the call is released.
func (c *call) sendInfos(q <-chan infoMsg) {
	for {
		select {
		case m := <-q:
			c.sendInfo(m)
		case <-c.done:
			return
		}
	}
}

// sendInfo sends one INFO in the recorded party's dialog and waits for
// its answer (RFC 3261 §12.2.1.1: a request within a dialog).
func (c *call) sendInfo(m infoMsg) {
	sentOnce := sync.OnceFunc(func() {
		if m.sent != nil {
			close(m.sent)
		}
	})
	defer sentOnce()
	c.mu.Lock()
	dc := c.dc
	c.mu.Unlock()
	req, err := c.infoRequest(m, dc)
	if err != nil {
		c.s.log.Debug("callpath: recording state INFO", "call", c.id, "state", m.state, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), infoTimeout)
	defer cancel()
	var tx sip.ClientTransaction
	if m.side == relay.A {
		tx, err = c.ds.TransactionRequest(ctx, req)
	} else {
		tx, err = dc.TransactionRequest(ctx, req)
	}
	sentOnce()
	if err != nil {
		c.s.log.Debug("callpath: recording state INFO", "call", c.id, "state", m.state, "err", err)
		return
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			if !res.IsSuccess() {
				c.s.log.Debug("callpath: recording state INFO refused", "call", c.id, "state", m.state, "status", res.StatusCode)
			}
			return
		case <-tx.Done():
			c.s.log.Debug("callpath: recording state INFO", "call", c.id, "state", m.state, "err", tx.Err())
			return
		case <-ctx.Done():
			c.s.log.Debug("callpath: recording state INFO unanswered", "call", c.id, "state", m.state)
			return
		}
	}
}

// infoRequest builds the INFO toward side's device: to the Contact of
// its INVITE (the caller) or of its 2xx (the callee).
func (c *call) infoRequest(m infoMsg, dc *sipgo.DialogClientSession) (*sip.Request, error) {
	var to sip.Uri
	switch {
	case m.side == relay.A && c.ds != nil:
		ct := c.ds.InviteRequest.Contact()
		if ct == nil {
			return nil, fmt.Errorf("callpath: the caller's INVITE has no Contact")
		}
		to = ct.Address
	case m.side == relay.B && dc != nil && dc.InviteResponse != nil:
		to = dc.InviteRequest.Recipient
		if ct := dc.InviteResponse.Contact(); ct != nil {
			to = ct.Address
		}
	default:
		return nil, fmt.Errorf("callpath: no dialog with the recorded party")
	}
	req := sip.NewRequest(sip.INFO, *to.Clone())
	req.AppendHeader(sip.NewHeader("Call-Info", c.callInfoValue(m.state)))
	return req, nil
}

// callInfoValue is the Call-Info header value for a state.
func (c *call) callInfoValue(state string) string {
	host := c.s.addr.Addr().String()
	if c.s.addr.Addr().Is6() {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("<sip:callrec@%s>;purpose=%s;state=%s", host, CallInfoPurpose, state)
}
