package callpath

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestCallee422RetriedWithMinSE (RFC 4028 §7.3): Bob's phone refuses our
// INVITE with 422 and Min-SE: 3600; we send it again once, in the same
// dialog attempt (Call-ID, From tag, CSeq plus one, a new branch) with
// Session-Expires and Min-SE 3600. When Bob takes the retry the call is
// connected with audio both ways; when he refuses it with 422 again
// there is no third INVITE and Alice's call fails.
func TestCallee422RetriedWithMinSE(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		twice bool
	}{
		{"422 then 200", false},
		{"422 twice: one retry only", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := startEnv(t, nil)
			alice, bob := e.phones(t)
			aliceRTP, bobRTP := newRTPPeer(t, 440), newRTPPeer(t, 660)
			var n atomic.Int32
			bob.mu.Lock()
			bob.answer = func(req *sip.Request, ds *sipgo.DialogServerSession) {
				if n.Add(1) == 1 || tc.twice {
					_ = ds.Respond(422, "Session Interval Too Small", nil, sip.NewHeader("Min-SE", "3600"))
					return
				}
				bobRTP.sendTo(t, req.Body())
				_ = ds.RespondSDP(bobRTP.sdp())
			}
			bob.mu.Unlock()
			dc, code := alice.dialWith(e, "alice", "1002", aliceRTP)
			if (code == 200) == tc.twice {
				t.Fatalf("Alice's call got %d, want it answered only when Bob takes the retry", code)
			}
			var first, retry *sip.Request
			for _, r := range []**sip.Request{&first, &retry} {
				select {
				case *r = <-bob.invites:
				case <-time.After(5 * time.Second):
					t.Fatal("Bob got no retried INVITE after his 422")
				}
			}
			if hdr(first, "Session-Expires") != "1800;refresher=uac" {
				t.Errorf("first INVITE Session-Expires %q, want our 1800", hdr(first, "Session-Expires"))
			}
			if got := hdr(retry, "Session-Expires"); got != "3600;refresher=uac" {
				t.Errorf("retry Session-Expires %q, want 3600;refresher=uac", got)
			}
			if got := hdr(retry, "Min-SE"); got != "3600" {
				t.Errorf("retry Min-SE %q, want 3600", got)
			}
			ft, _ := first.From().Params.Get("tag")
			rt, _ := retry.From().Params.Get("tag")
			if retry.CallID().Value() != first.CallID().Value() || rt != ft || retry.CSeq().SeqNo != first.CSeq().SeqNo+1 {
				t.Errorf("retry Call-ID %s tag %s CSeq %d, want %s %s %d", retry.CallID().Value(), rt, retry.CSeq().SeqNo,
					first.CallID().Value(), ft, first.CSeq().SeqNo+1)
			}
			fb, _ := first.Via().Params.Get("branch")
			rb, _ := retry.Via().Params.Get("branch")
			if fb == rb {
				t.Errorf("retry reuses branch %s", rb)
			}
			if tc.twice {
				select {
				case r := <-bob.invites:
					t.Errorf("a third INVITE (Session-Expires %q)", hdr(r, "Session-Expires"))
				case <-time.After(500 * time.Millisecond):
				}
				waitCalls(t, e, 0)
				return
			}
			aliceRTP.waitHeard(t, 400*time.Millisecond)
			bobRTP.waitHeard(t, 400*time.Millisecond)
			wantHear(t, "", candidates, hears{"Alice", aliceRTP, 660, "Bob"}, hears{"Bob", bobRTP, 440, "Alice"})
			_ = dc.Bye(t.Context())
			waitCalls(t, e, 0)
		})
	}
}
