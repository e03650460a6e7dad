package callpath

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/siprecclient"
)

// reinviteTimeout bounds our re-INVITE or UPDATE to one leg: the other
// leg's request waits on it.
const reinviteTimeout = 10 * time.Second

// dialogState is what the call knows of its two dialogs once answered:
// our SDP toward each leg, the peers' last SDP, session timers, hold.
type dialogState struct {
	legs   [2]legDialog
	onHold bool                     // guarded by call.mu: some direction is stopped by a hold
	acks   map[ackKey]chan struct{} // guarded by call.mu: our 2xx awaiting their ACK (reack.go)
}

// legDialog is one leg's dialog. Fields after the atomics are guarded
// by call.mu.
type legDialog struct {
	mu       sync.Mutex  // one request of ours at a time on this leg (CSeq, ACK)
	offering atomic.Bool // our re-INVITE or UPDATE on this leg is pending (glare)
	busy     atomic.Bool // a re-INVITE or UPDATE from this leg is being handled
	reset    chan struct{}

	inited    bool
	sess, ver uint64 // our o= line toward this leg
	remoteO   string // the o= line of the peer's last SDP
	timer     sessionTimer
}

// established notes both dialogs' SDP once the call is answered (before
// the caller's 200 goes out, so that a re-INVITE right after the ACK
// finds them) and returns the caller's session timer headers.
func (c *call) established(callerOffer, calleeAnswer []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for side, pair := range [2][2][]byte{{c.sdpA, callerOffer}, {c.sdpB, calleeAnswer}} {
		l := &c.dlg.legs[side]
		l.sess, l.ver = originOf(pair[0])
		l.remoteO = originLine(pair[1])
		l.reset = make(chan struct{}, 1)
		l.inited = true
	}
}

// originLine returns the o= line of an SDP body (RFC 4566 §5.2), "" when
// it has none.
func originLine(body []byte) string {
	for line := range strings.SplitSeq(string(body), "\n") {
		if line = strings.TrimRight(line, "\r"); strings.HasPrefix(line, "o=") {
			return line
		}
	}
	return ""
}

// originOf returns the session id and version of one of our SDP bodies.
func originOf(body []byte) (sess, ver uint64) {
	f := strings.Fields(strings.TrimPrefix(originLine(body), "o="))
	if len(f) >= 3 {
		sess, _ = strconv.ParseUint(f[1], 10, 64)
		ver, _ = strconv.ParseUint(f[2], 10, 64)
	}
	return sess, ver
}

// direction flags of an SDP from its author's point of view (RFC 3264
// §5.1; c=0.0.0.0 is the RFC 2543 hold: the author receives nothing,
// RFC 3264 §8.4).
func flowsOf(a *audio) (send, recv bool) {
	switch a.dir {
	case "sendonly":
		send, recv = true, false
	case "recvonly":
		send, recv = false, true
	case "inactive":
		send, recv = false, false
	default:
		send, recv = true, true
	}
	if a.rtp.Addr().IsValid() && a.rtp.Addr().IsUnspecified() {
		recv = false
	}
	return send, recv
}

// dirName is the a= direction attribute for the given flags.
func dirName(send, recv bool) string {
	switch {
	case send && recv:
		return "sendrecv"
	case send:
		return "sendonly"
	case recv:
		return "recvonly"
	}
	return "inactive"
}

// legSDP is our SDP toward one leg with direction dir.
func legSDP(sess, ver uint64, leg *relay.Leg, codec relay.Codec, dir string) []byte {
	body := buildSDP(sess, ver, leg.LocalRTP(), []relay.Codec{codec})
	if dir != "sendrecv" {
		body = []byte(strings.Replace(string(body), "a=sendrecv\r\n", "a="+dir+"\r\n", 1))
	}
	return body
}

// handleUpdate takes UPDATE (RFC 3311): a recording session's goes to
// the SIPREC client, a call's is a re-offer or a session refresh
// (reoffer), anything else goes to handleOther.
func (s *Server) handleUpdate(req *sip.Request, tx sip.ServerTransaction) {
	if s.dialogs.Handle(req, tx) {
		return
	}
	if c, side, ok := s.findCall(req); ok {
		c.reoffer(side, req, tx)
		return
	}
	s.handleOther(req, tx)
}

// reoffer answers a re-INVITE or UPDATE from one leg (RFC 3261 §14,
// RFC 3311, RFC 3264 §8):
//   - without SDP, or with the SDP version the peer sent last, it is a
//     session refresh (RFC 4028 §10): 200 with our current SDP;
//   - with a new offer, its direction (sendonly, recvonly, inactive,
//     sendrecv, or the RFC 2543 c=0.0.0.0 hold) is passed to the other
//     leg in a re-INVITE with our SDP for that leg (same port, o= version
//     plus one); once that leg answers, the relay stops the directions
//     that no longer flow (Bridge.Mute: the held party's audio does not
//     reach the holder), the requester gets the mirrored direction, and
//     each recording's SRS is told of the hold or resume. A codec the
//     offer no longer has is switched on the bridge (transcoding when
//     needed).
//
// Glare gets 491 (RFC 3261 §14.2: our own request on that leg is
// pending, or the other leg answered 491), a second offer while one is
// handled 500 with Retry-After, an offer the other leg refused 488 or
// 500; the call stays up in every case.
func (c *call) reoffer(from relay.Side, req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	x := &c.dlg.legs[from]
	ready, ended, br := x.inited, c.ended, c.bridge
	c.mu.Unlock()
	switch {
	case ended:
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	case !ready || br == nil || x.offering.Load():
		respond(tx, req, sip.StatusRequestPending, "Request Pending")
		return
	case !x.busy.CompareAndSwap(false, true):
		respond(tx, req, sip.StatusInternalServerError, "Server Internal Error", sip.NewHeader("Retry-After", "1"))
		return
	}
	defer x.busy.Store(false)
	if req.IsInvite() {
		respond(tx, req, sip.StatusTrying, "Trying")
	}
	body := req.Body()
	c.mu.Lock()
	refresh := len(body) == 0 || originLine(body) == x.remoteO
	c.mu.Unlock()
	if refresh {
		c.refreshed(from)
		c.answerReoffer(from, req, tx, req.IsInvite())
		return
	}
	offer, err := parseAudio(body)
	if err != nil {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	legX, legY := c.legA, c.legB
	if from == relay.B {
		legX, legY = legY, legX
	}
	to := from.Other()
	cur, _ := legX.Codec()
	codec, change := cur, true
	for _, k := range offer.codecs {
		if sameCodec(k, cur) {
			change = false
		}
	}
	if change {
		var ok bool
		if codec, ok = offer.pick(); !ok {
			respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
			return
		}
	}
	send, recv := flowsOf(offer)
	ans, code := c.offerLeg(to, dirName(send, recv))
	if ans == nil {
		reason := "Server Internal Error"
		switch code {
		case sip.StatusRequestPending:
			reason = "Request Pending"
		case sip.StatusNotAcceptableHere:
			reason = "Not Acceptable Here"
		default:
			code = sip.StatusInternalServerError
		}
		respond(tx, req, code, reason)
		return
	}
	ySend, yRecv := flowsOf(ans)
	fwd, back := send && yRecv, ySend && recv // from→to, to→from
	if usableAddr(offer) {
		legX.SetRemote(offer.rtp, offer.rtcp)
	}
	if usableAddr(ans) {
		legY.SetRemote(ans.rtp, ans.rtcp)
	}
	if change {
		if err := br.SetCodec(from, codec); err != nil {
			c.s.log.Info("callpath: codec change refused", "call", c.id, "codec", codec.Name, "err", err)
			respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
			return
		}
		c.mu.Lock()
		if from == relay.A {
			c.codecA = codec
		} else {
			c.codecB = codec
		}
		c.mu.Unlock()
		c.retap(br) // the recordings follow the new codec (recfeed.go)
	}
	br.Mute(from, !fwd)
	br.Mute(to, !back)
	c.mu.Lock()
	x.ver++
	x.remoteO = originLine(body)
	mine := legSDP(x.sess, x.ver, legX, codec, dirName(back, fwd))
	if from == relay.A {
		c.sdpA = mine
	} else {
		c.sdpB = mine
	}
	held := !fwd || !back
	changed := held != c.dlg.onHold
	c.dlg.onHold = held
	recs := c.recs
	c.mu.Unlock()
	c.refreshed(from)
	c.refreshed(to)
	c.answerReoffer(from, req, tx, true)
	if changed {
		c.s.log.Info("callpath: hold", "call", c.id, "held", held, "by", from.String())
		at := c.s.cfg.Now()
		for _, r := range recs {
			if sess := r.sess.Load(); sess != nil {
				by := 1
				if r.side == from {
					by = 0
				}
				go r.hold(sess, held, by, at)
			}
		}
	}
}

// hold tells one recording's SRS of a hold or resume.
func (r *recording) hold(sess *siprecclient.Session, held bool, by int, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := sess.Hold(ctx, held, by, at); err != nil {
		r.c.s.log.Debug("callpath: hold metadata", "call", r.c.id, "err", err)
	}
}

// answerReoffer sends 200 to a re-INVITE or UPDATE of leg side, with our
// current SDP for that leg when withSDP, our Contact, and the session
// timer headers (RFC 4028 §9).
func (c *call) answerReoffer(side relay.Side, req *sip.Request, tx sip.ServerTransaction, withSDP bool) {
	var body []byte
	if withSDP {
		c.mu.Lock()
		body = c.sdpA
		if side == relay.B {
			body = c.sdpB
		}
		c.mu.Unlock()
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", body)
	if body != nil {
		res.AppendHeader(hdrSDP())
	}
	ct := c.s.contact(req.Transport())
	res.AppendHeader(&ct)
	for _, h := range c.timerHeaders(side, true) {
		res.AppendHeader(h)
	}
	acked := c.expectAck(side, req)
	_ = tx.Respond(res)
	c.retransmit(side, req, tx, res, acked) // RFC 3261 §13.3.1.4 (reack.go)
}

// offerLeg sends leg side a re-INVITE with our SDP for it in direction
// dir (o= version plus one) and returns its answer, or nil and the
// status to give the requester.
func (c *call) offerLeg(side relay.Side, dir string) (*audio, int) {
	leg := c.legA
	if side == relay.B {
		leg = c.legB
	}
	codec, _ := leg.Codec()
	c.mu.Lock()
	l := &c.dlg.legs[side]
	l.ver++
	body := legSDP(l.sess, l.ver, leg, codec, dir)
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), reinviteTimeout)
	defer cancel()
	res, err := c.request(ctx, side, sip.INVITE, body)
	if err != nil {
		c.s.log.Info("callpath: re-INVITE", "call", c.id, "to", side.String(), "err", err)
		return nil, sip.StatusInternalServerError
	}
	if !res.IsSuccess() {
		return nil, res.StatusCode
	}
	ans, err := parseAudio(res.Body())
	if err != nil {
		return nil, sip.StatusNotAcceptableHere
	}
	c.mu.Lock()
	if side == relay.A {
		c.sdpA = body
	} else {
		c.sdpB = body
	}
	l.remoteO = originLine(res.Body())
	c.mu.Unlock()
	return ans, 0
}

// errNoDialog means the leg's dialog is not set up (or gone).
var errNoDialog = errors.New("callpath: no dialog on that leg")

// request sends one in-dialog request of ours on leg side (RFC 3261
// §12.2.1.1) with body as SDP (nil: none) and our session timer headers,
// waits for the final response and ACKs a 2xx to an INVITE (§13.2.2.4).
// Our requests on one leg go one at a time, and while one is pending an
// offer from that leg gets 491 (§14.2).
func (c *call) request(ctx context.Context, side relay.Side, method sip.RequestMethod, body []byte) (*sip.Response, error) {
	l := &c.dlg.legs[side]
	l.mu.Lock()
	defer l.mu.Unlock()
	l.offering.Store(true)
	defer l.offering.Store(false)
	// Side A is the caller's dialog (we are its UAS), or the dialog we
	// opened to a transfer target that took the caller's place.
	c.mu.Lock()
	ended, ds, dc := c.ended, c.ds, c.dc
	if side == relay.A {
		dc = c.xs.dcA
	} else {
		ds = nil
	}
	c.mu.Unlock()
	if ended {
		return nil, errNoDialog
	}
	var target sip.Uri
	var transport string
	switch {
	case dc != nil && dc.InviteResponse != nil && dc.InviteResponse.Contact() != nil:
		target, transport = *dc.InviteResponse.Contact().Address.Clone(), dc.InviteRequest.Transport()
		ds = nil
	case side == relay.A && ds != nil && ds.InviteRequest.Contact() != nil:
		target, transport = *ds.InviteRequest.Contact().Address.Clone(), ds.InviteRequest.Transport()
		dc = nil
	default:
		return nil, errNoDialog
	}
	req := sip.NewRequest(method, target)
	ct := c.s.contact(transport)
	req.AppendHeader(&ct)
	for _, h := range c.timerHeaders(side, false) {
		req.AppendHeader(h)
	}
	if body != nil {
		req.AppendHeader(hdrSDP())
		req.SetBody(body)
	}
	var res *sip.Response
	var err error
	if ds != nil {
		res, err = ds.Do(ctx, req)
	} else {
		res, err = dc.Do(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	if method == sip.INVITE && res.IsSuccess() {
		ack := sip.NewRequest(sip.ACK, target)
		ack.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.ACK})
		ack.AppendHeader(&ct)
		if ds != nil {
			err = ds.WriteRequest(ack)
		} else {
			err = dc.WriteRequest(ack)
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}
