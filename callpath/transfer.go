package callpath

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/siprecclient"
)

// referExpires is the Subscription-State expiry of the implicit refer
// subscription (RFC 3515 §2.4.4) while the target rings.
const referExpires = 60

// transferState is what a call keeps about blind transfers (under
// call.mu). After a transfer by the caller, side A is a dialog we started
// (dcA), no longer the caller's dialog ds.
type transferState struct {
	busy     bool                       // a REFER is being carried out
	dcA      *sipgo.DialogClientSession // side A after the caller transferred
	calledA  bool                       // side A's party was called by us (a transfer target)
	sides    map[string]relay.Side      // dialog ids whose side is not the default
	departed map[string]bool            // dialog ids of transferors that left
}

// dialogLeg is an established dialog of either kind: the caller's (we
// are its UAS) or one we started (we are its UAC).
type dialogLeg interface {
	Do(ctx context.Context, req *sip.Request) (*sip.Response, error)
	Bye(ctx context.Context) error
}

// dialogA returns side A's dialog (call.mu held): the caller's, or the
// transfer target's after the caller transferred. nil when none.
func (c *call) dialogA() dialogLeg {
	if c.xs.dcA != nil {
		return c.xs.dcA
	}
	if c.ds != nil {
		return c.ds
	}
	return nil
}

// dialogOn returns the dialog of side (call.mu held), or nil.
func (c *call) dialogOn(side relay.Side) dialogLeg {
	if side == relay.A {
		return c.dialogA()
	}
	if c.dc != nil {
		return c.dc
	}
	return nil
}

// dialogID returns the dialog id of side (call.mu held).
func (c *call) dialogID(side relay.Side) string {
	switch {
	case side == relay.B && c.dc != nil:
		return c.dc.ID
	case side == relay.A && c.xs.dcA != nil:
		return c.xs.dcA.ID
	case side == relay.A && c.ds != nil:
		return c.ds.ID
	}
	return ""
}

// sideOf returns the side of the call a dialog id belongs to (def unless a
// transfer put a dialog we started on side A) and false for the dialog
// of a transferor that left.
func (c *call) sideOf(id string, def relay.Side) (relay.Side, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.xs.departed[id] {
		return 0, false
	}
	if s, ok := c.xs.sides[id]; ok {
		return s, true
	}
	return def, true
}

// wasCalled reports whether the party on side was called by us: the
// callee, or a transfer target (call.mu held).
func (c *call) wasCalled(side relay.Side) bool {
	return side == relay.B || c.xs.calledA
}

// departedBye answers the BYE of a transferor that left the call (it may
// hang up itself on the final NOTIFY, RFC 5589 §6) with 200 without
// ending the call.
func (s *Server) departedBye(req *sip.Request, tx sip.ServerTransaction) bool {
	for _, idOf := range []func(*sip.Request) (string, error){sip.DialogIDFromRequestUAS, sip.DialogIDFromRequestUAC} {
		id, err := idOf(req)
		if err != nil {
			continue
		}
		if c := s.lookup(id); c != nil {
			if _, live := c.sideOf(id, relay.A); !live {
				respond(tx, req, sip.StatusOK, "OK")
				return true
			}
		}
	}
	return false
}

// errReferTo is wrapped by parseReferTo's errors.
var errReferTo = errors.New("bad Refer-To")

// parseReferTo returns the user part (an extension or number) a Refer-To
// header value (RFC 3515 §2.1) names: "<sip:1003@pbx>", "sip:1003@pbx",
// "\"Carol\" <sip:+4512345678@gw;user=phone>" or "<tel:+4512345678>".
// Attended transfer (a Replaces header in the URI, RFC 3891) is refused.
func parseReferTo(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", fmt.Errorf("%w: empty", errReferTo)
	}
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return "", fmt.Errorf("%w: unclosed <", errReferTo)
		}
		v = v[i+1 : i+j]
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		// without <>, parameters belong to the header (RFC 3261 §20.10)
		v = v[:i]
	}
	if q := strings.IndexByte(v, '?'); q >= 0 {
		if strings.Contains(strings.ToLower(v[q:]), "replaces") {
			return "", fmt.Errorf("%w: attended transfer (Replaces) is not supported", errReferTo)
		}
		v = v[:q]
	}
	scheme, rest, ok := strings.Cut(v, ":")
	if !ok {
		return "", fmt.Errorf("%w: %q has no scheme", errReferTo, v)
	}
	var user string
	switch strings.ToLower(scheme) {
	case "sip", "sips":
		u, _, ok := strings.Cut(rest, "@")
		if !ok {
			return "", fmt.Errorf("%w: %q names no user", errReferTo, v)
		}
		user, _, _ = strings.Cut(u, ":") // no password
		user, _, _ = strings.Cut(user, ";")
	case "tel":
		user, _, _ = strings.Cut(rest, ";")
	default:
		return "", fmt.Errorf("%w: scheme %q", errReferTo, scheme)
	}
	if user == "" {
		return "", fmt.Errorf("%w: %q names no user", errReferTo, v)
	}
	if directory.NormalizeNumber(user) == "" {
		return "", fmt.Errorf("%w: %q is no number", errReferTo, user)
	}
	return user, nil
}

// handleRefer takes a blind transfer (RFC 3515, RFC 5589 §6): the party
// that sent the REFER (the transferor) asks that the other party (the
// transferee) be connected to the Refer-To target. It is answered 202 and
// carried out by transfer.
func (s *Server) handleRefer(req *sip.Request, tx sip.ServerTransaction) {
	c, side, ok := s.callOfRequest(req, tx)
	if !ok {
		return
	}
	h := req.GetHeader("Refer-To")
	if h == nil {
		respond(tx, req, sip.StatusBadRequest, "Missing Refer-To")
		return
	}
	user, err := parseReferTo(h.Value())
	if err != nil {
		code := sip.StatusBadRequest
		if strings.Contains(err.Error(), "Replaces") {
			code = sip.StatusNotImplemented
		}
		respond(tx, req, code, err.Error())
		return
	}
	c.mu.Lock()
	switch {
	case c.ended || c.bridge == nil:
		c.mu.Unlock()
		respond(tx, req, sip.StatusForbidden, "Call Not Answered")
		return
	case c.xs.busy:
		c.mu.Unlock()
		respond(tx, req, sip.StatusRequestPending, "Transfer Pending")
		return
	}
	c.xs.busy = true
	c.mu.Unlock()
	ct := s.contact(req.Transport())
	respond(tx, req, sip.StatusAccepted, "Accepted", &ct)
	var cseq uint32
	if h := req.CSeq(); h != nil {
		cseq = h.SeqNo
	}
	s.calls.Add(1)
	go func() {
		defer s.calls.Done()
		c.transfer(side, cseq, user)
		c.mu.Lock()
		c.xs.busy = false
		c.mu.Unlock()
	}()
}

// notifyRefer sends the transferor a NOTIFY of the refer subscription
// (RFC 3515 §2.4.4, §2.4.5) whose message/sipfrag body is the status line
// frag; final ends the subscription.
func (c *call) notifyRefer(d dialogLeg, cseq uint32, frag string, final bool) {
	if d == nil {
		return
	}
	req := sip.NewRequest(sip.NOTIFY, remoteTarget(d))
	req.AppendHeader(sip.NewHeader("Event", "refer;id="+strconv.FormatUint(uint64(cseq), 10)))
	state := fmt.Sprintf("active;expires=%d", referExpires)
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(frag + "\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if res, err := d.Do(ctx, req); err != nil || res.StatusCode >= 300 {
		c.s.log.Debug("callpath: refer notify", "call", c.id, "frag", frag, "res", res, "err", err)
	}
}

// remoteTarget is where in-dialog requests of d go: the peer's Contact
// (RFC 3261 §12.2.1.1).
func remoteTarget(d dialogLeg) sip.Uri {
	switch d := d.(type) {
	case *sipgo.DialogServerSession:
		if h := d.InviteRequest.Contact(); h != nil {
			return h.Address
		}
		return d.InviteRequest.From().Address
	case *sipgo.DialogClientSession:
		if d.InviteResponse != nil {
			if h := d.InviteResponse.Contact(); h != nil {
				return h.Address
			}
		}
		return d.InviteRequest.Recipient
	}
	return sip.Uri{}
}

// partyOn returns the party on side (call.mu held).
func (c *call) partyOn(side relay.Side) *party {
	if side == relay.A {
		return c.caller
	}
	return c.callee
}

// kindOf is the kind of a call between a (side A) and b (side B); a
// virtual line or feature is a party of the org, not of the PSTN.
func kindOf(a, b *party) kind {
	switch {
	case isPSTN(a):
		return inbound
	case isPSTN(b):
		return outbound
	}
	return internal
}

// transfer carries out a blind transfer by the party on side from: the
// target user is routed as if the transferor called it, rung, and when
// it answers bridged with the remaining party; the transferor gets the
// final NOTIFY and a BYE. When the target fails, the transferor is told
// (RFC 3515 §2.4.5) and the call stays as it was.
func (c *call) transfer(from relay.Side, cseq uint32, user string) {
	s := c.s
	rem := from.Other()
	c.mu.Lock()
	transferor, remaining, old := c.partyOn(from), c.partyOn(rem), c.dialogOn(from)
	remCodec := c.codecA
	if rem == relay.B {
		remCodec = c.codecB
	}
	c.mu.Unlock()
	fail := func(code int, reason string) {
		s.log.Info("callpath: transfer failed", "call", c.id, "to", user, "code", code, "reason", reason)
		c.notifyRefer(old, cseq, fmt.Sprintf("SIP/2.0 %d %s", code, reason), true)
	}
	c.notifyRefer(old, cseq, "SIP/2.0 100 Trying", false)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	lctx, lcancel := context.WithTimeout(ctx, lookupTimeout)
	_, tp, ref := s.route(lctx, transferor, user)
	lcancel()
	if ref != nil {
		fail(ref.code, ref.reason)
		return
	}
	targets := s.targets(tp)
	if len(targets) == 0 {
		fail(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
		return
	}
	leg, err := relay.NewLeg(relay.LegConfig{IP: s.cfg.MediaIP, Ports: s.cfg.RTPPorts})
	if err != nil {
		fail(sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	sdp := buildSDP(s.nextID(), 1, leg.LocalRTP(), calleeOffer(remCodec))
	var ringing sync.Once
	dc, answer, code, reason := c.forkWith(ctx, targets, func(t target, fromTag string) *sip.Request {
		return c.transferInvite(t, fromTag, remaining, transferor, tp, user, sdp)
	}, func(r *sip.Response) {
		if r.StatusCode == sip.StatusRinging || r.StatusCode == sip.StatusSessionInProgress {
			ringing.Do(func() { go c.notifyRefer(old, cseq, "SIP/2.0 180 Ringing", false) })
		}
	})
	if dc == nil {
		leg.Close()
		if code == 0 {
			code, reason = sip.StatusRequestTerminated, "Request Terminated"
		}
		fail(code, reason)
		return
	}
	actx, acancel := context.WithTimeout(context.Background(), byeTimeout)
	_ = dc.Ack(actx)
	acancel()
	codec, ok := answer.pick()
	if !ok {
		codec = remCodec
	}
	leg.SetCodec(codec)
	leg.SetRemote(answer.rtp, answer.rtcp)
	tp = targetAnswered(tp, dc, targets) // a line's answerer, a hunt group's member (transfer_target.go)
	if err := c.switchTo(from, tp, dc, leg, codec, sdp); err != nil {
		s.log.Info("callpath: transfer not completed", "call", c.id, "err", err)
		bctx, bcancel := context.WithTimeout(context.Background(), byeTimeout)
		_ = dc.Bye(bctx)
		bcancel()
		leg.Close()
		fail(sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	s.log.Info("callpath: transferred", "call", c.id, "by", from.String(), "to", user)
	c.transferRecordings(from, tp)
	c.notifyRefer(old, cseq, "SIP/2.0 200 OK", true)
	bctx, bcancel := context.WithTimeout(context.Background(), byeTimeout)
	if err := old.Bye(bctx); err != nil {
		s.log.Debug("callpath: bye to transferor", "call", c.id, "err", err)
	}
	bcancel()
}

// transferInvite builds the INVITE of one branch toward a transfer target:
// from the remaining party (the transferee), with Referred-By naming the
// transferor (RFC 3892).
func (c *call) transferInvite(t target, fromTag string, remaining, transferor, tp *party, toUser string, sdp []byte) *sip.Request {
	referredBy := "<" + strings.Replace(transferor.aor(c.s.addr.Addr().String()), "tel:", "sip:", 1) + ">"
	return c.branchInvite(t, fromTag, remaining, isPSTN(tp), toUser, sdp, sip.NewHeader("Referred-By", referredBy))
}

// switchTo puts the answered target (dialog dc, media leg) in the place
// of the transferor on side from: the remaining party's leg is bridged
// with leg (transcoding when the codecs differ, no re-INVITE), the
// transferor's leg is closed and its dialog marked departed.
func (c *call) switchTo(from relay.Side, tp *party, dc *sipgo.DialogClientSession, leg *relay.Leg, codec relay.Codec, sdp []byte) error {
	c.mu.Lock()
	if c.ended || c.bridge == nil {
		c.mu.Unlock()
		return errors.New("the call ended meanwhile")
	}
	old := c.bridge
	gone := old.Leg(from)
	old.Detach()
	a, b := leg, old.Leg(relay.B)
	if from == relay.B {
		a, b = old.Leg(relay.A), leg
	}
	br, err := relay.NewBridge(a, b)
	if err != nil {
		// Put the call back as it was.
		back, berr := relay.NewBridge(old.Leg(relay.A), old.Leg(relay.B))
		if berr == nil {
			c.bridge = back
		}
		c.mu.Unlock()
		if berr == nil {
			c.hook(back)
		}
		return fmt.Errorf("bridge to the target: %w", err)
	}
	c.bridge = br
	oldID := c.dialogID(from)
	if c.xs.departed == nil {
		c.xs.departed, c.xs.sides = map[string]bool{}, map[string]relay.Side{}
	}
	if oldID != "" {
		c.xs.departed[oldID] = true
	}
	c.xs.sides[dc.ID] = from
	if from == relay.B {
		c.dc, c.legB, c.codecB, c.sdpB, c.callee = dc, leg, codec, sdp, tp
	} else {
		c.xs.dcA, c.xs.calledA = dc, true
		c.legA, c.codecA, c.sdpA, c.caller = leg, codec, sdp, tp
	}
	c.kind = kindOf(c.caller, c.callee)
	c.digits.held[from], c.digits.pending[from] = "", ""
	c.ids = append(c.ids, dc.ID)
	c.mu.Unlock()
	c.s.register(dc.ID, c)
	gone.Close()
	return nil
}

// hook sets the relay taps of the call's recordings and the access-code
// handlers on bridge br: at answer, and on a new bridge after a transfer.
// R25, R35: a recorded party's access codes are taken whatever the mode,
// so that a code the mode does not offer gets the refusal tone.
func (c *call) hook(br *relay.Bridge) {
	c.mu.Lock()
	recs := c.recs
	codecA, codecB := c.codecA, c.codecB
	c.mu.Unlock()
	if len(recs) == 0 {
		br.Tap(relay.A, nil)
		br.Tap(relay.B, nil)
		br.HoldDigits(nil)
		br.OnDigit(nil)
		return
	}
	br.Tap(relay.A, c.tap(relay.A, codecA, recs))
	br.Tap(relay.B, c.tap(relay.B, codecB, recs))
	controls := false
	for _, r := range recs {
		controls = controls || len(codesOf(r.dec.AccessCodes)) > 0
	}
	if controls {
		br.HoldDigits(c.holdDigit)
		br.OnDigit(c.digit)
	} else {
		br.HoldDigits(nil)
		br.OnDigit(nil)
	}
}

// transferRecordings re-runs the policy for the call's new parties after
// a transfer by the party on side from (now tp's side), with
// CompliancePlayed when the compliance announcement played in this call
// (R20: no start announcement after a transfer then; the state events are
// still sent). A recording of the remaining party continues and its SRS
// learns the new other party (R37, RFC 7866 §6.3); the transferor's
// recording stops; a recorded target starts one now, at its answer (R19).
func (c *call) transferRecordings(from relay.Side, tp *party) {
	s := c.s
	rem := from.Other()
	played, _ := c.compliancePlayed()
	c.mu.Lock()
	recs := c.recs
	remaining := c.partyOn(rem)
	remCalled := c.wasCalled(rem)
	orgID := c.caller.orgID
	br := c.bridge
	c.mu.Unlock()
	var keep, leave, added []*recording
	for _, r := range recs {
		if r.side == from {
			leave = append(leave, r)
		} else {
			keep = append(keep, r)
		}
	}
	var snap *policy.Snapshot
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	err := s.deps.Store.View(ctx, func(tx directory.Tx) error {
		var err error
		snap, err = directory.Snapshot(ctx, tx, orgID)
		return err
	})
	cancel()
	if err != nil {
		s.log.Warn("callpath: policy snapshot after transfer", "call", c.id, "err", err)
	}
	decide := func(side relay.Side, p, other *party, inbound bool) {
		// A person, or a virtual line with its own settings (R31); a
		// hunt group's member speaks the group's language (R21).
		t := p.recorded()
		if snap == nil || t.Person == nil && t.Line == nil {
			return
		}
		d := policy.Decide(snap, policy.Call{Inbound: inbound, PSTN: isPSTN(other), Recorded: t, CompliancePlayed: played,
			Feature: p.via, VirtualLine: p.line})
		pl := plan{side: side, person: t.Person, line: t.Line, dec: d}
		if !d.Record {
			s.log.Debug("callpath: not recorded after transfer", "call", c.id, "owner", pl.ownerID(), "reason", d.Reason)
			return
		}
		added = append(added, &recording{c: c, plan: pl, quit: make(chan struct{})})
	}
	decide(from, tp, remaining, true)
	if len(keep) == 0 {
		// The remaining party was not recorded; the call's kind may
		// have changed (internal to PSTN), so ask again.
		decide(rem, remaining, tp, remCalled)
	}
	c.mu.Lock()
	c.recs = append(keep, added...)
	c.plans = c.plans[:0:0]
	for _, r := range c.recs {
		c.plans = append(c.plans, r.plan)
	}
	c.mu.Unlock()
	c.hook(br)
	host := s.addr.Addr().String()
	for _, r := range keep {
		if sess := r.sess.Load(); sess != nil {
			go func() {
				uctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
				defer cancel()
				if err := sess.UpdateParticipants(uctx, 1, siprecclient.Participant{Name: tp.name, AOR: tp.aor(host)}); err != nil {
					s.log.Debug("callpath: participants update", "call", c.id, "err", err)
				}
			}()
		}
	}
	for _, r := range leave {
		go func() {
			sctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
			defer cancel()
			r.stop(sctx)
		}()
	}
	for _, r := range added {
		if r.dec.StartAtAnswer {
			go r.start()
		}
	}
	c.transferCompliance(snap, from) // R18, R20: a PSTN party that never heard it
}
