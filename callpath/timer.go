package callpath

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/callpath/relay"
)

// Session timer defaults (RFC 4028 §4: Min-SE at least 90 s; §7.1
// recommends 1800 s).
const (
	DefaultSessionExpires = 1800 * time.Second
	DefaultMinSE          = 90 * time.Second
)

// sessionTimer is one leg's negotiated session timer (RFC 4028).
type sessionTimer struct {
	expires   time.Duration // the session interval; 0: no session timer
	weRefresh bool          // we send the refreshes; else the peer does
	supported bool          // the peer said Supported: timer
}

// seconds renders a duration as whole seconds, at least 1.
func seconds(d time.Duration) string { return strconv.Itoa(max(1, int(d/time.Second))) }

// parseSessionExpires reads a Session-Expires (or Min-SE) value
// "delta-seconds *(;param)" (RFC 4028 §4): the interval and the
// refresher parameter ("" when absent).
func parseSessionExpires(v string) (time.Duration, string, bool) {
	parts := strings.Split(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || n <= 0 || n > 1<<30 {
		return 0, "", false
	}
	refresher := ""
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "refresher") {
			refresher = strings.ToLower(strings.TrimSpace(val))
		}
	}
	return time.Duration(n) * time.Second, refresher, true
}

// headerValue returns a header's value by its name or its compact form.
func headerValue(req interface{ GetHeader(string) sip.Header }, names ...string) (string, bool) {
	for _, n := range names {
		if h := req.GetHeader(n); h != nil {
			return h.Value(), true
		}
	}
	return "", false
}

// supportsTimer reports whether a message says Supported: timer.
func supportsTimer(m interface{ GetHeader(string) sip.Header }) bool {
	v, _ := headerValue(m, "Supported", "k")
	for opt := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.TrimSpace(opt), "timer") {
			return true
		}
	}
	return false
}

// refuseShortSession answers 422 Session Interval Too Small with our
// Min-SE when a new INVITE asks for a session interval below
// Config.MinSE (RFC 4028 §8.1), and 400 for an unreadable one.
func (s *Server) refuseShortSession(req *sip.Request, tx sip.ServerTransaction) bool {
	v, ok := headerValue(req, "Session-Expires", "x")
	if !ok {
		return false
	}
	d, _, ok := parseSessionExpires(v)
	if !ok {
		respond(tx, req, sip.StatusBadRequest, "Bad Session-Expires")
		return true
	}
	if d < s.cfg.MinSE {
		respond(tx, req, 422, "Session Interval Too Small", sip.NewHeader("Min-SE", seconds(s.cfg.MinSE)))
		return true
	}
	return false
}

// callerTimer negotiates the caller's session timer from its INVITE
// (RFC 4028 §9): its Session-Expires, else our default when it says
// Supported: timer (never below its Min-SE); no timer when it asked for
// none. We refresh unless it asked to (refresher=uac).
func (c *call) callerTimer(req *sip.Request) sessionTimer {
	t := sessionTimer{supported: supportsTimer(req)}
	v, ok := headerValue(req, "Session-Expires", "x")
	if !ok && !t.supported {
		return t
	}
	t.expires, t.weRefresh = c.s.cfg.SessionExpires, true
	if ok {
		d, refresher, _ := parseSessionExpires(v)
		t.expires = d
		t.weRefresh = refresher != "uac" || !t.supported
	} else if v, ok := headerValue(req, "Min-SE"); ok {
		if d, _, ok := parseSessionExpires(v); ok && d > t.expires {
			t.expires = d
		}
	}
	return t
}

// offerTimerHeaders are the session timer headers of our INVITEs to
// callees (RFC 4028 §7.1): we support timers and offer to refresh.
func (s *Server) offerTimerHeaders() []sip.Header {
	return []sip.Header{
		sip.NewHeader("Supported", "timer"),
		sip.NewHeader("Session-Expires", seconds(s.cfg.SessionExpires)+";refresher=uac"),
		sip.NewHeader("Min-SE", seconds(s.cfg.MinSE)),
	}
}

// calleeTimer reads the callee's 2xx (RFC 4028 §7.2): its Session-Expires
// and refresher, or, when it has none (no timer support), our interval
// with us refreshing.
func (c *call) calleeTimer(res *sip.Response) sessionTimer {
	t := sessionTimer{expires: c.s.cfg.SessionExpires, weRefresh: true, supported: supportsTimer(res)}
	if v, ok := headerValue(res, "Session-Expires", "x"); ok {
		if d, refresher, ok := parseSessionExpires(v); ok {
			t.expires, t.weRefresh = d, refresher != "uas"
		}
	}
	return t
}

// timerHeaders are the session timer headers of a response we send to
// leg side (response) or a request we send on it: Session-Expires with
// the refresher named by its role in that transaction (RFC 4028 §9,
// §7.4), Require: timer in responses to a peer that supports timers,
// Supported: timer in requests.
func (c *call) timerHeaders(side relay.Side, response bool) []sip.Header {
	c.mu.Lock()
	t := c.dlg.legs[side].timer
	c.mu.Unlock()
	if t.expires == 0 {
		return nil
	}
	refresher := "uac"
	if t.weRefresh == response {
		refresher = "uas"
	}
	hdrs := []sip.Header{sip.NewHeader("Session-Expires", seconds(t.expires)+";refresher="+refresher)}
	switch {
	case response && t.supported:
		hdrs = append(hdrs, sip.NewHeader("Require", "timer"))
	case !response:
		hdrs = append(hdrs, sip.NewHeader("Supported", "timer"))
	}
	return hdrs
}

// answerHeaders are the headers of the caller's 200: the SDP type and the
// caller's negotiated session timer.
func (c *call) answerHeaders(req *sip.Request) []sip.Header {
	c.mu.Lock()
	c.dlg.legs[relay.A].timer = c.callerTimer(req)
	c.mu.Unlock()
	return append([]sip.Header{hdrSDP()}, c.timerHeaders(relay.A, true)...)
}

// startTimers negotiates the callee's session timer from its 2xx and runs
// both legs' timers until the call ends.
func (c *call) startTimers(calleeOK *sip.Response) {
	c.mu.Lock()
	c.dlg.legs[relay.B].timer = c.calleeTimer(calleeOK)
	c.mu.Unlock()
	go c.runTimer(relay.A)
	go c.runTimer(relay.B)
}

// refreshed notes a successful session refresh on leg side: a re-INVITE
// or UPDATE either way (RFC 4028 §10) restarts its timer.
func (c *call) refreshed(side relay.Side) {
	c.mu.Lock()
	ch := c.dlg.legs[side].reset
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// runTimer keeps one leg's session alive (RFC 4028 §10): as refresher it
// sends a re-INVITE with the same SDP at half the interval, and ends the
// call when that refresh gets 408 or 481 or no answer; otherwise, when no
// refresh came by the interval minus min(32 s, a third of it), it ends
// the call with BYE on both legs (the recordings stop).
func (c *call) runTimer(side relay.Side) {
	c.mu.Lock()
	l := &c.dlg.legs[side]
	t, reset := l.timer, l.reset
	c.mu.Unlock()
	if t.expires <= 0 || reset == nil {
		return
	}
	wait := t.expires - min(32*time.Second, t.expires/3)
	if t.weRefresh {
		wait = t.expires / 2
	}
	tm := time.NewTimer(wait)
	defer tm.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-reset:
			tm.Reset(wait)
			continue
		case <-tm.C:
		}
		if !t.weRefresh {
			c.s.log.Info("callpath: session expired", "call", c.id, "leg", side.String(), "interval", t.expires)
			c.hangup(-1, "session expired (RFC 4028)")
			return
		}
		if !c.sendRefresh(side, t.expires) {
			c.hangup(-1, "session refresh failed (RFC 4028)")
			return
		}
		tm.Reset(wait)
	}
}

// sendRefresh sends a refresh re-INVITE with our current SDP, unchanged
// (same o= version). It reports false when the session is gone: 408,
// 481 or no answer (RFC 4028 §10); other refusals (a glare) keep it.
func (c *call) sendRefresh(side relay.Side, interval time.Duration) bool {
	c.mu.Lock()
	body := c.sdpA
	if side == relay.B {
		body = c.sdpB
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), min(reinviteTimeout, interval/2))
	defer cancel()
	res, err := c.request(ctx, side, sip.INVITE, body)
	switch {
	case err != nil:
		c.s.log.Info("callpath: session refresh", "call", c.id, "leg", side.String(), "err", err)
		return c.isEnded() // ended meanwhile: nothing to do
	case res.StatusCode == sip.StatusRequestTimeout || res.StatusCode == sip.StatusCallTransactionDoesNotExists:
		return false
	}
	return true
}
