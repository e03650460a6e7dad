package callpath

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// dialWith is dial with extra headers on the INVITE; it returns the
// dialog and the final response's status (200 once ACKed); the refusal
// itself is in the dialog's InviteResponse.
func (x *ua) dialWith(e *env, user, number string, peer *rtpPeer, hdrs ...sip.Header) (*sipgo.DialogClientSession, int) {
	x.t.Helper()
	dua := sipgo.DialogUA{Client: x.client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: int(x.addr.Port())}}}
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: number, Host: e.srv.Addr().Addr().String(), Port: int(e.srv.Addr().Port())})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", fmt.Sprint(rand.Uint32()))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	req.SetBody(peer.sdp())
	ctx, cancel := context.WithTimeout(x.t.Context(), 15*time.Second)
	defer cancel()
	dc, err := dua.WriteInvite(ctx, req)
	if err != nil {
		x.t.Fatal(err)
	}
	err = dc.WaitAnswer(ctx, sipgo.AnswerOptions{Username: user, Password: user + "-pw"})
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) && de.Res != nil {
		dc.InviteResponse = de.Res
		return dc, de.Res.StatusCode
	}
	if err != nil {
		x.t.Fatal(err)
	}
	if err := dc.Ack(ctx); err != nil {
		x.t.Fatal(err)
	}
	peer.sendTo(x.t, dc.InviteResponse.Body())
	return dc, 200
}

func hdr(m interface{ GetHeader(string) sip.Header }, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// RFC 4028 §8.1: a Session-Expires below our Min-SE (90 s by default)
// gets 422 with Min-SE; 90 s itself is taken.
func TestSessionTimer422BelowMinSE(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	alice, bob := e.phones(t)
	bobRTP := newRTPPeer(t, 660)
	bob.answerWith(bobRTP, 0)
	for _, tc := range []struct {
		se   string
		want int
	}{{"30", 422}, {"89;refresher=uac", 422}, {"90", 200}} {
		t.Run(tc.se, func(t *testing.T) {
			dc, code := alice.dialWith(e, "alice", "1002", newRTPPeer(t, 440), sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", tc.se))
			if code != tc.want {
				t.Fatalf("Session-Expires %s got %d, want %d", tc.se, code, tc.want)
			}
			if code == 422 {
				if got := hdr(dc.InviteResponse, "Min-SE"); got != "90" {
					t.Errorf("422 Min-SE %q, want 90", got)
				}
				return
			}
			if got := hdr(dc.InviteResponse, "Session-Expires"); got != "90;refresher=uas" {
				t.Errorf("200 Session-Expires %q, want 90;refresher=uas (we refresh)", got)
			}
			if got := hdr(dc.InviteResponse, "Require"); got != "timer" {
				t.Errorf("200 Require %q, want timer", got)
			}
			_ = dc.Bye(t.Context())
			waitCalls(t, e, 0)
		})
	}
}

// timerEnv is a B2BUA whose Min-SE is 1 s and default interval 2 s, so
// that session timers run in seconds.
func timerEnv(t *testing.T) *env {
	return startEnv(t, func(c *Config) { c.MinSE = time.Second; c.SessionExpires = 2 * time.Second })
}

// RFC 4028 §10: a caller that took the refresher role and stops
// refreshing has its call ended, BYE on both legs, before the interval
// is over (2 s minus a third).
func TestSessionTimerExpiryEndsCall(t *testing.T) {
	t.Parallel()
	e := timerEnv(t)
	alice, bob := e.phones(t)
	bobRTP := newRTPPeer(t, 660)
	bob.answerWith(bobRTP, 0)
	bob.mirrorReoffers(bobRTP, 200)
	dc, code := alice.dialWith(e, "alice", "1002", newRTPPeer(t, 440), sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "2;refresher=uac"))
	answered := time.Now()
	if code != 200 {
		t.Fatalf("INVITE got %d", code)
	}
	if got := hdr(dc.InviteResponse, "Session-Expires"); got != "2;refresher=uac" {
		t.Errorf("200 Session-Expires %q, want 2;refresher=uac", got)
	}
	inv := <-bob.invites
	if hdr(inv, "Supported") != "timer" || hdr(inv, "Session-Expires") != "2;refresher=uac" || hdr(inv, "Min-SE") != "1" {
		t.Errorf("callee INVITE Supported %q Session-Expires %q Min-SE %q", hdr(inv, "Supported"), hdr(inv, "Session-Expires"), hdr(inv, "Min-SE"))
	}
	for _, who := range []struct {
		name string
		ch   chan *sip.Request
	}{{"callee", bob.byes}, {"caller", alice.byes}} {
		select {
		case <-who.ch:
		case <-time.After(8 * time.Second):
			t.Fatalf("%s got no BYE after the session expired", who.name)
		}
	}
	if d := time.Since(answered); d < time.Second || d > 6*time.Second {
		t.Errorf("call ended %s after answer, want about 1.3 s (2 s minus a third)", d)
	}
	waitCalls(t, e, 0)
}

// RFC 4028 §10: a caller refreshing with UPDATE keeps its call up well
// past the interval; toward the callee, which asked for nothing, we are
// the refresher and send re-INVITEs with our unchanged SDP.
func TestSessionTimerRefreshesKeepCall(t *testing.T) {
	t.Parallel()
	e := timerEnv(t)
	alice, bob := e.phones(t)
	bobRTP := newRTPPeer(t, 660)
	bob.answerWith(bobRTP, 0)
	toBob := bob.mirrorReoffers(bobRTP, 200)
	dc, code := alice.dialWith(e, "alice", "1002", newRTPPeer(t, 440), sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "2;refresher=uac"))
	if code != 200 {
		t.Fatalf("INVITE got %d", code)
	}
	inv := <-bob.invites
	tk := time.NewTicker(500 * time.Millisecond)
	defer tk.Stop()
	end := time.Now().Add(4 * time.Second)
	for time.Now().Before(end) {
		<-tk.C
		res := send(t, dc, sip.UPDATE, nil)
		if res.StatusCode != 200 || hdr(res, "Session-Expires") != "2;refresher=uac" {
			t.Fatalf("refresh UPDATE got %d Session-Expires %q", res.StatusCode, hdr(res, "Session-Expires"))
		}
		select {
		case <-alice.byes:
			t.Fatal("caller got BYE although it refreshed")
		case <-bob.byes:
			t.Fatal("callee got BYE although the caller refreshed")
		default:
		}
	}
	if e.srv.ActiveCalls() != 1 {
		t.Fatalf("%d active calls after 4 s of refreshes, want 1", e.srv.ActiveCalls())
	}
	refreshes := 0
	for len(toBob) > 0 {
		r := <-toBob
		if r.Method != sip.INVITE || string(r.Body()) != string(inv.Body()) {
			t.Errorf("callee got %s with %q, want a re-INVITE with the first INVITE's SDP", r.Method, r.Body())
		}
		refreshes++
	}
	if refreshes < 3 {
		t.Errorf("callee got %d refreshes in 4 s, want one a second", refreshes)
	}
	_ = dc.Bye(t.Context())
	waitCalls(t, e, 0)
}

// FuzzParseSessionExpires: any header value parses without panicking,
// and an accepted one is a positive whole number of seconds.
func FuzzParseSessionExpires(f *testing.F) {
	for _, s := range []string{"1800", "90;refresher=uac", "4000 ; refresher = UAS", "x", "", "-5", "1;refresher", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, refresher, ok := parseSessionExpires(v)
		if ok && (d <= 0 || d%time.Second != 0) {
			t.Fatalf("%q gave %s", v, d)
		}
		if !ok && (d != 0 || refresher != "") {
			t.Fatalf("%q refused but gave %s %q", v, d, refresher)
		}
	})
}
