package callpath

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// inDialog answers the B2BUA's re-INVITEs and UPDATEs with x.reoffer,
// or 481 when the test set none.
func (x *ua) inDialog(req *sip.Request, tx sip.ServerTransaction) {
	x.mu.Lock()
	fn := x.reoffer
	x.mu.Unlock()
	if fn == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	fn(req, tx)
}

// sdpWith is the peer's SDP with o= version ver and direction dir.
func (p *rtpPeer) sdpWith(ver int, dir string) []byte {
	s := strings.Replace(string(p.sdp()), "o=- 1 1 ", fmt.Sprintf("o=- 1 %d ", ver), 1)
	return []byte(strings.Replace(s, "a=sendrecv", "a="+dir, 1))
}

// mirror is the answer's direction for an offer's (RFC 3264 §6.1).
func mirror(dir string) string {
	switch dir {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}

// offerDir is the direction attribute of an SDP body ("sendrecv" when
// absent).
func offerDir(body []byte) string {
	for _, d := range []string{"sendonly", "recvonly", "inactive", "sendrecv"} {
		if strings.Contains(string(body), "a="+d+"\r\n") {
			return d
		}
	}
	return "sendrecv"
}

// mirrorReoffers makes x answer each re-INVITE or UPDATE with 200 and the
// peer's SDP in the mirrored direction (o= version up on each change),
// or with status when it is not 200; each request goes to the channel.
func (x *ua) mirrorReoffers(peer *rtpPeer, status int) chan *sip.Request {
	ch := make(chan *sip.Request, 32)
	var mu sync.Mutex
	ver, last := 1, "sendrecv"
	x.mu.Lock()
	x.reoffer = func(req *sip.Request, tx sip.ServerTransaction) {
		ch <- req
		if status != 200 {
			_ = tx.Respond(sip.NewResponseFromRequest(req, status, "Refused", nil))
			return
		}
		var body []byte
		if len(req.Body()) > 0 {
			dir := mirror(offerDir(req.Body()))
			mu.Lock()
			if dir != last {
				ver, last = ver+1, dir
			}
			body = peer.sdpWith(ver, dir)
			mu.Unlock()
		}
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", body)
		if body != nil {
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		}
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: int(x.addr.Port())}})
		_ = tx.Respond(res)
	}
	x.mu.Unlock()
	return ch
}

// send sends an in-dialog request on the caller's dialog (ACKing a 2xx
// to an INVITE) and returns the final response.
func send(t *testing.T, dc *sipgo.DialogClientSession, method sip.RequestMethod, body []byte, hdrs ...sip.Header) *sip.Response {
	t.Helper()
	target := dc.InviteResponse.Contact().Address
	req := sip.NewRequest(method, *target.Clone())
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	if body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	res, err := dc.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if method == sip.INVITE && res.IsSuccess() {
		ack := sip.NewRequest(sip.ACK, *target.Clone())
		ack.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.ACK})
		if err := dc.WriteRequest(ack); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// sdpLines returns the o= line fields and the m= port of an SDP body.
func sdpFacts(t *testing.T, body []byte) (sess, ver string, port int, dir string) {
	t.Helper()
	f := strings.Fields(strings.TrimPrefix(originLine(body), "o="))
	a, err := parseAudio(body)
	if err != nil || len(f) < 3 {
		t.Fatalf("SDP %q: %v", body, err)
	}
	return f[1], f[2], int(a.rtp.Port()), offerDir(body)
}

func heardLen(p *rtpPeer) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.heard)
}

// connected sets up an internal call Alice (440 Hz) to Bob (660 Hz) with
// both answering re-offers, and waits until each hears the other.
func connected(t *testing.T, e *env, bobStatus int) (dc *sipgo.DialogClientSession, alice, bob *ua, aliceRTP, bobRTP *rtpPeer, bobInvite *sip.Request, toBob chan *sip.Request) {
	t.Helper()
	alice, bob = newUA(t, "alice"), newUA(t, "bob")
	alice.register(e, "alice")
	bob.register(e, "bob")
	aliceRTP, bobRTP = newRTPPeer(t, 440), newRTPPeer(t, 660)
	bob.answerWith(bobRTP, 0)
	toBob = bob.mirrorReoffers(bobRTP, bobStatus)
	dc, err := alice.dial(e, "alice", "1002", aliceRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	bobInvite = <-bob.invites
	aliceRTP.waitHeard(t, 400*time.Millisecond)
	bobRTP.waitHeard(t, 400*time.Millisecond)
	return dc, alice, bob, aliceRTP, bobRTP, bobInvite, toBob
}

// Hold and resume (RFC 3264 §8.4, RFC 6337 §5): the caller's sendonly
// re-INVITE reaches the callee as a sendonly re-INVITE on our side of its
// leg (same session and port, o= version plus one); the caller's 200
// says recvonly; while held the caller hears nothing of the callee and
// the callee still hears the caller (music on hold); the sendrecv
// re-INVITE resumes audio both ways.
func TestHoldResumeReinvite(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	dc, _, _, aliceRTP, bobRTP, bobInvite, toBob := connected(t, e, 200)
	ourA := dc.InviteResponse.Body()
	sessA, verA, portA, _ := sdpFacts(t, ourA)
	sessB, verB, portB, _ := sdpFacts(t, bobInvite.Body())

	steps := []struct {
		name, offer, wantA, wantB string
		ver                       int
		heldAudio                 bool
	}{
		{"hold", "sendonly", "recvonly", "sendonly", 2, true},
		{"resume", "sendrecv", "sendrecv", "sendrecv", 3, false},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := send(t, dc, sip.INVITE, aliceRTP.sdpWith(st.ver, st.offer))
			if res.StatusCode != 200 {
				t.Fatalf("re-INVITE got %d", res.StatusCode)
			}
			sess, ver, port, dir := sdpFacts(t, res.Body())
			if sess != sessA || port != portA || dir != st.wantA || ver != fmt.Sprint(mustAtoi(t, verA)+i+1) {
				t.Errorf("caller's answer o=%s/%s port %d %s, want o=%s/%d port %d %s", sess, ver, port, dir, sessA, mustAtoi(t, verA)+i+1, portA, st.wantA)
			}
			var got *sip.Request
			select {
			case got = <-toBob:
			case <-time.After(5 * time.Second):
				t.Fatal("callee got no re-INVITE")
			}
			if got.Method != sip.INVITE {
				t.Fatalf("callee got %s", got.Method)
			}
			sess, ver, port, dir = sdpFacts(t, got.Body())
			if sess != sessB || port != portB || dir != st.wantB || ver != fmt.Sprint(mustAtoi(t, verB)+i+1) {
				t.Errorf("callee's offer o=%s/%s port %d %s, want o=%s/%d port %d %s", sess, ver, port, dir, sessB, mustAtoi(t, verB)+i+1, portB, st.wantB)
			}
			if st.heldAudio {
				// Settle the packets in flight, then the caller must hear
				// nothing while the callee hears the caller on.
				bobRTP.waitHeard(t, time.Duration(heardLen(bobRTP))*time.Second/8000+100*time.Millisecond)
				before := heardLen(aliceRTP)
				bobRTP.waitHeard(t, time.Duration(heardLen(bobRTP))*time.Second/8000+600*time.Millisecond)
				if n := heardLen(aliceRTP) - before; n > 0 {
					t.Errorf("held caller heard %d samples from the callee", n)
				}
				if f, _ := bobRTP.heardTone(candidates); f != 440 {
					t.Errorf("callee hears %v Hz while the caller holds, want the caller's 440", f)
				}
				return
			}
			aliceRTP.waitHeard(t, time.Duration(heardLen(aliceRTP))*time.Second/8000+600*time.Millisecond)
			bobRTP.waitHeard(t, time.Duration(heardLen(bobRTP))*time.Second/8000+600*time.Millisecond)
			wantHear(t, " after resume", candidates,
				hears{"the caller", aliceRTP, 660, "the callee"}, hears{"the callee", bobRTP, 440, "the caller"})
		})
	}
	hangUp(t, e, dc)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A re-INVITE the other leg refuses (glare 491, or 488) is refused to the
// requester with the same code, and the call stays up with audio both
// ways.
func TestReinviteRefusedKeepsCall(t *testing.T) {
	t.Parallel()
	for _, code := range []int{491, 488} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			e := startEnv(t, nil)
			dc, _, _, aliceRTP, bobRTP, _, toBob := connected(t, e, code)
			res := send(t, dc, sip.INVITE, aliceRTP.sdpWith(2, "sendonly"))
			if res.StatusCode != code {
				t.Fatalf("re-INVITE got %d, want %d", res.StatusCode, code)
			}
			if r := <-toBob; r.Method != sip.INVITE {
				t.Fatalf("callee got %s", r.Method)
			}
			aliceRTP.waitHeard(t, time.Duration(heardLen(aliceRTP))*time.Second/8000+400*time.Millisecond)
			bobRTP.waitHeard(t, time.Duration(heardLen(bobRTP))*time.Second/8000+400*time.Millisecond)
			if f, _ := aliceRTP.heardTone(candidates); f != 660 {
				t.Errorf("caller hears %v Hz, want 660", f)
			}
			if e.srv.ActiveCalls() != 1 {
				t.Errorf("%d active calls, want 1", e.srv.ActiveCalls())
			}
			_ = dc.Bye(t.Context())
			waitCalls(t, e, 0)
		})
	}
}

// RFC 3311: the callee holds with an UPDATE carrying SDP (inactive); the
// caller gets a re-INVITE with inactive, the callee's 200 to the UPDATE
// says inactive, no audio flows either way; an UPDATE with sendrecv
// resumes both ways.
func TestHoldByUpdateFromCallee(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	alice, bob := e.phones(t)
	aliceRTP, bobRTP := newRTPPeer(t, 440), newRTPPeer(t, 660)
	dsc := make(chan *sipgo.DialogServerSession, 1)
	bob.mu.Lock()
	bob.answer = func(req *sip.Request, ds *sipgo.DialogServerSession) {
		bobRTP.sendTo(t, req.Body())
		_ = ds.RespondSDP(bobRTP.sdp()) // returns once ACKed
		dsc <- ds
	}
	bob.mu.Unlock()
	toAlice := alice.mirrorReoffers(aliceRTP, 200)
	dc, err := alice.dial(e, "alice", "1002", aliceRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds := <-dsc
	aliceRTP.waitHeard(t, 400*time.Millisecond)
	bobRTP.waitHeard(t, 400*time.Millisecond)
	update := func(ver int, dir string) *sip.Response {
		req := sip.NewRequest(sip.UPDATE, *ds.InviteRequest.Contact().Address.Clone())
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(bobRTP.sdpWith(ver, dir))
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		res, err := ds.Do(ctx, req)
		if err != nil {
			t.Fatalf("UPDATE: %v", err)
		}
		return res
	}
	res := update(2, "inactive")
	if res.StatusCode != 200 || offerDir(res.Body()) != "inactive" {
		t.Fatalf("UPDATE inactive got %d %q", res.StatusCode, offerDir(res.Body()))
	}
	select {
	case r := <-toAlice:
		if r.Method != sip.INVITE || offerDir(r.Body()) != "inactive" {
			t.Fatalf("caller got %s with %s, want a re-INVITE with inactive", r.Method, offerDir(r.Body()))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("caller got no re-INVITE")
	}
	// Let packets in flight land, then nothing may pass either way for
	// half a second (the peers keep sending).
	deadline := time.Now().Add(100 * time.Millisecond)
	waitUntil(t, "settle", func() bool { return time.Now().After(deadline) })
	a0, b0 := heardLen(aliceRTP), heardLen(bobRTP)
	deadline = time.Now().Add(500 * time.Millisecond)
	waitUntil(t, "half a second on hold", func() bool { return time.Now().After(deadline) })
	if da, db := heardLen(aliceRTP)-a0, heardLen(bobRTP)-b0; da != 0 || db != 0 {
		t.Errorf("while inactive the caller heard %d and the callee %d samples, want none", da, db)
	}
	res = update(3, "sendrecv")
	if res.StatusCode != 200 || offerDir(res.Body()) != "sendrecv" {
		t.Fatalf("UPDATE sendrecv got %d %q", res.StatusCode, offerDir(res.Body()))
	}
	aliceRTP.waitHeard(t, time.Duration(heardLen(aliceRTP))*time.Second/8000+400*time.Millisecond)
	bobRTP.waitHeard(t, time.Duration(heardLen(bobRTP))*time.Second/8000+400*time.Millisecond)
	wantHear(t, " after resume", candidates,
		hears{"the caller", aliceRTP, 660, "the callee"}, hears{"the callee", bobRTP, 440, "the caller"})
	_ = dc.Bye(t.Context())
	waitCalls(t, e, 0)
}
