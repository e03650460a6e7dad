package callpath

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/callrec/callrec/callpath/relay"
)

// byeTimeout bounds the BYE sent to the other leg at hangup.
const byeTimeout = 5 * time.Second

// call is one call through the B2BUA: the caller's dialog (side A, we
// are its UAS) and the callee's (side B, we are its UAC).
type call struct {
	s              *Server
	id             string // Call-ID of the caller's leg
	kind           kind
	caller, callee *party
	start          time.Time

	ds     *sipgo.DialogServerSession
	legA   *relay.Leg
	legB   *relay.Leg
	sdpA   []byte
	sdpB   []byte
	codecA relay.Codec
	codecB relay.Codec

	plans []plan

	mu           sync.Mutex
	dc           *sipgo.DialogClientSession
	bridge       *relay.Bridge
	ids          []string
	recs         []*recording
	ended        bool
	done         chan struct{}
	counted      bool
	compliance   bool
	complianceAt time.Time
	compLang     string
	digits       digitState
	fx           featureState  // virtual lines, hunt groups, queues, auto attendants, voicemail (features.go)
	ctl          callControl   // active calls and controls (control.go)
	xs           transferState // blind transfers (transfer.go)
	early        earlyState    // which callee branch owns early media (early.go)
	dlg          dialogState   // re-INVITEs, UPDATEs, session timers (reinvite.go, timer.go)
}

func hdrSDP() sip.Header { return sip.NewHeader("Content-Type", "application/sdp") }

// handleInvite takes an INVITE: a re-INVITE of a known dialog, or a new
// call to route.
func (s *Server) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			s.reinvite(req, tx)
			return
		}
	}
	if s.closing.Load() {
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if s.refuseShortSession(req, tx) {
		return
	}
	s.calls.Add(1)
	defer s.calls.Done()
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	caller, ref := s.identify(ctx, req)
	if ref == nil {
		var k kind
		var callee *party
		k, callee, ref = s.route(ctx, caller, req.Recipient.User)
		if ref == nil {
			c := &call{s: s, id: callIDOf(req), kind: k, caller: caller, callee: callee, start: s.cfg.Now(), done: make(chan struct{})}
			var err error
			c.plans, err = s.decide(ctx, c)
			if err == nil {
				cancel()
				c.run(req, tx)
				return
			}
			// Whether and how to record is unknown: refusing the call
			// lets the caller retry (or its SBC try another node) rather
			// than connect a call that should be recorded without it.
			ref = &refusal{code: 503, reason: "Service Unavailable", hdrs: []sip.Header{sip.NewHeader("Retry-After", "5")},
				why: "recording policy unavailable: " + err.Error()}
		}
	}
	cancel()
	if ref.code != 407 {
		s.log.Info("callpath: call refused", "call", callIDOf(req), "from", req.Source(), "code", ref.code, "why", ref.why)
	}
	respond(tx, req, ref.code, ref.reason, ref.hdrs...)
}

func callIDOf(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// reinvite answers a re-INVITE: SIPREC sessions' go to the SIPREC client;
// a call's is a session refresh or a new offer (reoffer: hold, resume,
// codec change, RFC 3264 §8), anything else 481.
func (s *Server) reinvite(req *sip.Request, tx sip.ServerTransaction) {
	c, side, ok := s.callOfRequest(req, tx)
	if !ok {
		return
	}
	c.reoffer(side, req, tx)
}

// run sets the call up: caller leg, early announcement, fork to the
// callee's targets, bridge at answer; then hands the call to its
// recordings and waits for no one (hangup comes through BYE).
func (c *call) run(req *sip.Request, tx sip.ServerTransaction) {
	s := c.s
	offer, err := parseAudio(req.Body())
	if err != nil {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	codecA, ok := offer.pick()
	if !ok {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	c.codecA = codecA
	legA, err := relay.NewLeg(relay.LegConfig{IP: s.cfg.MediaIP, Ports: s.cfg.RTPPorts, Codec: &codecA})
	if err != nil {
		s.log.Warn("callpath: no media port", "call", c.id, "err", err)
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	legA.SetRemote(offer.rtp, offer.rtcp)
	c.legA = legA
	c.sdpA = buildSDP(s.nextID(), 1, legA.LocalRTP(), []relay.Codec{codecA})
	legB, err := relay.NewLeg(relay.LegConfig{IP: s.cfg.MediaIP, Ports: s.cfg.RTPPorts})
	if err != nil {
		legA.Close()
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	c.legB = legB
	offerB := calleeOffer(codecA)
	c.sdpB = buildSDP(s.nextID(), 1, legB.LocalRTP(), offerB)

	dua := &sipgo.DialogUA{Client: s.client(req.Transport()), ContactHDR: s.contact(req.Transport()), RewriteContact: true}
	ds, err := dua.ReadInvite(req, tx)
	if err != nil {
		legA.Close()
		legB.Close()
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	c.ds = ds
	c.mu.Lock()
	c.ids = append(c.ids, ds.ID)
	c.mu.Unlock()
	s.register(ds.ID, c)
	s.calls.Add(1)
	c.counted = true
	_ = ds.Respond(sip.StatusTrying, "Trying", nil)
	s.log.Info("callpath: call", "call", c.id, "kind", c.kind.String(), "to", req.Recipient.User, "recorded", len(c.plans))

	ctx := ds.Context()
	// R18: the inbound PSTN compliance announcement plays to the caller as
	// early media before the callee is rung.
	if a := c.complianceBefore(); a != nil {
		if err := ds.Respond(sip.StatusSessionInProgress, "Session Progress", c.sdpA, hdrSDP()); err == nil {
			at := s.cfg.Now()
			c.playEarly(ctx, a)
			c.markCompliance(a.Language, at)
		}
		if ctx.Err() != nil {
			c.finish("cancelled")
			return
		}
	}
	if c.runFeature(ctx, req) {
		return
	}
	targets := s.targets(c.callee)
	if len(targets) == 0 && c.toVoicemail(sip.StatusTemporarilyUnavailable) {
		c.voicemail()
		return
	}
	if len(targets) == 0 {
		_ = ds.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		c.finish("no device")
		return
	}
	dc, answer, code, reason := c.fork(ctx, targets, req)
	if dc == nil && ctx.Err() == nil && c.toVoicemail(code) {
		c.voicemail()
		return
	}
	if dc == nil {
		why := "cancelled" // the caller's CANCEL ended the dialog's context
		if ctx.Err() == nil {
			_ = ds.Respond(code, reason, nil)
			why = fmt.Sprintf("%d %s", code, reason)
		}
		c.finish(why)
		return
	}
	c.answeredBy(dc, targets)
	br, err := c.bridgeAnswer(answer)
	c.mu.Lock()
	c.dc = dc
	c.bridge = br
	c.ids = append(c.ids, dc.ID)
	c.mu.Unlock()
	s.register(dc.ID, c)
	_ = dc.Ack(context.Background())
	if err != nil {
		s.log.Warn("callpath: bridge", "call", c.id, "err", err)
		_ = ds.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		c.hangup(relay.A, "no common codec")
		return
	}
	if c.isEnded() {
		return
	}
	c.established(req.Body(), dc.InviteResponse.Body())
	c.startTimers(dc.InviteResponse)
	if err := ds.Respond(sip.StatusOK, "OK", c.sdpA, c.answerHeaders(req)...); err != nil {
		s.log.Info("callpath: caller did not take the answer", "call", c.id, "err", err)
		c.hangup(relay.A, "no ACK")
		return
	}
	c.answered()
}

// ack passes the caller's ACK to its dialog.
func (c *call) ack(req *sip.Request, tx sip.ServerTransaction) {
	if c.ds != nil {
		_ = c.ds.ReadAck(req, tx)
	}
}

// fork rings every target at once (RFC 3261 §16.7): 180/183 are relayed
// to the caller as 180, or as 183 with our SDP when a branch sends early
// media (early.go), the first 2xx wins and the other branches are
// cancelled (a late 2xx is acknowledged and ended with BYE). Without an
// answer it returns the final code for the caller: 486 when a device was
// busy, 480 when none answered within RingTimeout, else the first refusal.
func (c *call) fork(ctx context.Context, targets []target, orig *sip.Request) (*sipgo.DialogClientSession, *audio, int, string) {
	return c.forkWith(ctx, targets, func(t target, fromTag string) *sip.Request { return c.calleeInvite(t, fromTag, orig) }, nil)
}

// forkWith is fork with the INVITE of each branch built by invite; each
// provisional response goes to progress (nil: 180/183 are relayed to the
// caller as 180). A blind transfer rings its target with it.
func (c *call) forkWith(ctx context.Context, targets []target, invite func(t target, fromTag string) *sip.Request, progress func(*sip.Response)) (*sipgo.DialogClientSession, *audio, int, string) {
	s := c.s
	ringCtx, cancelRing := context.WithTimeout(ctx, c.ringTimeout())
	defer cancelRing()
	type result struct {
		idx    int
		dc     *sipgo.DialogClientSession
		answer *audio
		res    *sip.Response
		err    error
		cancel context.CancelFunc
	}
	results := make(chan result, len(targets))
	var ringing sync.Once
	cancels := make([]context.CancelFunc, len(targets))
	fromTag := uuid.NewString()[:8]
	for i, t := range targets {
		legCtx, cancel := context.WithCancel(ringCtx)
		cancels[i] = cancel
		go func() {
			req := invite(t, fromTag)
			dua := &sipgo.DialogUA{Client: s.client(t.transport), ContactHDR: s.contact(t.transport), RewriteContact: true}
			dc, err := dua.WriteInvite(legCtx, req)
			if err != nil {
				results <- result{idx: i, err: err, cancel: cancel}
				return
			}
			opts := sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
				if progress != nil {
					progress(r)
					return nil
				}
				// A caller callrec answered itself (queue, auto attendant)
				// hears callrec's prompts, not the callee's ringing.
				if (r.StatusCode == sip.StatusRinging || r.StatusCode == sip.StatusSessionInProgress) && !c.selfAnswered() && !c.earlyMedia(i, r) {
					ringing.Do(func() { _ = c.ds.Respond(sip.StatusRinging, "Ringing", nil) })
				}
				return nil
			}}
			err = dc.WaitAnswer(legCtx, opts)
			if rdc, rerr, ok := c.retryMinSE(legCtx, dua, dc, req, err, opts); ok { // RFC 4028 §7.3 (minse.go)
				dc, err = rdc, rerr
			}
			r := result{idx: i, dc: dc, res: dc.InviteResponse, err: err, cancel: cancel}
			if err == nil {
				a, perr := parseAudio(dc.InviteResponse.Body())
				if perr != nil {
					r.err = perr
				}
				r.answer = a
			}
			results <- r
		}()
	}
	var winner *result
	busy, timeout := false, false
	code, reason := 0, ""
	for range targets {
		r := <-results
		if r.err == nil && winner == nil {
			winner = &r
			for i := range cancels {
				cancels[i]()
			}
			// The other branches finish in the background: a late
			// 2xx is acknowledged and released (RFC 3261 §13.2.2.4).
			remaining := len(targets) - 1
			go func() {
				for range remaining {
					late := <-results
					if late.err == nil && late.dc != nil {
						bctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
						_ = late.dc.Ack(bctx)
						_ = late.dc.Bye(bctx)
						cancel()
					}
				}
			}()
			break
		}
		c.earlyEnded(r.idx)
		if r.err == nil && r.dc != nil {
			// an answer with unusable SDP
			bctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
			_ = r.dc.Ack(bctx)
			_ = r.dc.Bye(bctx)
			cancel()
		}
		var de *sipgo.ErrDialogResponse
		switch {
		case errors.As(r.err, &de) && de.Res != nil:
			if de.Res.StatusCode == sip.StatusBusyHere || de.Res.StatusCode == 600 {
				busy = true
			} else if code == 0 {
				code, reason = de.Res.StatusCode, de.Res.Reason
			}
		case errors.Is(ringCtx.Err(), context.DeadlineExceeded):
			timeout = true
		}
	}
	if winner != nil {
		return winner.dc, winner.answer, 0, ""
	}
	switch {
	case busy:
		return nil, nil, sip.StatusBusyHere, "Busy Here"
	case timeout:
		return nil, nil, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable"
	case code >= 400 && code != sip.StatusProxyAuthRequired && code != sip.StatusUnauthorized:
		return nil, nil, code, reason
	}
	return nil, nil, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable"
}

// calleeInvite builds the INVITE of one callee branch, offering session
// timers (RFC 4028).
func (c *call) calleeInvite(t target, fromTag string, orig *sip.Request) *sip.Request {
	return c.branchInvite(t, fromTag, c.caller, c.kind == outbound, orig.Recipient.User, c.sdpB, c.s.offerTimerHeaders()...)
}

// branchInvite builds an INVITE toward target t on behalf of party from,
// with our SDP and the extra headers. From's user is what the other side
// may call back: from's first phone number toward the PSTN, else the
// extension, else the PSTN number it called from.
func (c *call) branchInvite(t target, fromTag string, from *party, toPSTN bool, toUser string, sdp []byte, extra ...sip.Header) *sip.Request {
	s := c.s
	host := s.addr.Addr().String()
	req := sip.NewRequest(sip.INVITE, t.uri)
	req.SetDestination(t.dest)
	req.SetTransport(t.transport)
	fromUser := "anonymous"
	switch {
	case from.person != nil && toPSTN && len(from.person.PhoneNumbers) > 0:
		fromUser = from.person.PhoneNumbers[0]
	case from.person != nil && from.person.Extension != "":
		fromUser = from.person.Extension
	case from.number != "":
		fromUser = from.number
	}
	fh := &sip.FromHeader{DisplayName: from.name, Address: sip.Uri{Scheme: "sip", User: fromUser, Host: host}, Params: sip.NewParams()}
	fh.Params.Add("tag", fromTag)
	req.AppendHeader(fh)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: toUser, Host: t.uri.Host, Port: t.uri.Port}, Params: sip.NewParams()})
	callID := sip.CallIDHeader(uuid.NewString())
	req.AppendHeader(&callID)
	ct := s.contact(t.transport)
	req.AppendHeader(&ct)
	req.AppendHeader(hdrSDP())
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY"))
	for _, h := range extra {
		req.AppendHeader(h)
	}
	req.SetBody(sdp)
	return req
}

func (c *call) isEnded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// hangup ends an established call from side from (-1: from us): BYE to
// the other leg(s), recordings stopped, media closed.
func (c *call) hangup(from relay.Side, why string) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	dc, da := c.dc, c.dialogA()
	c.mu.Unlock()
	c.notifyEnd(from) // R34: the device's "stopped" goes before the BYE
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	var wg sync.WaitGroup
	if from != relay.A && da != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := da.Bye(ctx); err != nil {
				c.s.log.Debug("callpath: bye to caller", "call", c.id, "err", err)
			}
		}()
	}
	if from != relay.B && dc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := dc.Bye(ctx); err != nil {
				c.s.log.Debug("callpath: bye to callee", "call", c.id, "err", err)
			}
		}()
	}
	c.stopRecordings(ctx)
	wg.Wait()
	c.release(why)
}

// finish ends a call that was never answered.
func (c *call) finish(why string) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	c.mu.Unlock()
	c.release(why)
}

// release frees the call's media and forgets it.
func (c *call) release(why string) {
	c.mu.Lock()
	br, ids := c.bridge, c.ids
	c.mu.Unlock()
	if br != nil {
		_ = br.Close()
	} else {
		if c.legA != nil {
			_ = c.legA.Close()
		}
		if c.legB != nil {
			_ = c.legB.Close()
		}
	}
	if c.ds != nil {
		_ = c.ds.Close()
	}
	c.s.forget(c, ids...)
	close(c.done)
	c.s.log.Info("callpath: call ended", "call", c.id, "why", why, "duration", c.s.cfg.Now().Sub(c.start).Round(time.Millisecond))
	if c.counted {
		c.s.calls.Done()
	}
}

// hostPort joins a host and port for a SIP destination.
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
