package callpath

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// rawPeer sends in-dialog requests of the caller's dialog from its own
// UDP socket, written by hand, and sees every response to them: what a
// phone whose first 200 was lost does.
type rawPeer struct {
	t    *testing.T
	conn *net.UDPConn
	dc   *sipgo.DialogClientSession
	to   *net.UDPAddr // the B2BUA
	seq  uint32
}

func newRawPeer(t *testing.T, e *env, dc *sipgo.DialogClientSession) *rawPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawPeer{t: t, conn: c, dc: dc, to: net.UDPAddrFromAddrPort(e.srv.Addr()), seq: dc.InviteRequest.CSeq().SeqNo + 1}
}

// request builds an in-dialog request of the dialog from the raw socket.
func (p *rawPeer) request(method sip.RequestMethod, seq uint32, body []byte) *sip.Request {
	req := sip.NewRequest(method, *p.dc.InviteResponse.Contact().Address.Clone())
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1",
		Port: p.conn.LocalAddr().(*net.UDPAddr).Port, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	req.AppendHeader(via)
	req.AppendHeader(sip.HeaderClone(p.dc.InviteRequest.From()))
	req.AppendHeader(sip.HeaderClone(p.dc.InviteResponse.To()))
	req.AppendHeader(sip.HeaderClone(p.dc.InviteRequest.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	req.AppendHeader(sip.HeaderClone(p.dc.InviteRequest.Contact()))
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	if body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	req.SetBody(body)
	return req
}

func (p *rawPeer) write(req *sip.Request) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDP([]byte(req.String()), p.to); err != nil {
		p.t.Fatal(err)
	}
}

// final reads responses until a final one (or the timeout) and returns
// it with its arrival, nil when none came.
func (p *rawPeer) final(timeout time.Duration) (*sip.Response, time.Time) {
	p.t.Helper()
	buf := make([]byte, 65535)
	deadline := time.Now().Add(timeout)
	for {
		_ = p.conn.SetReadDeadline(deadline)
		n, err := p.conn.Read(buf)
		if err != nil {
			return nil, time.Time{}
		}
		msg, err := sip.ParseMessage(append([]byte(nil), buf[:n]...))
		if err != nil {
			p.t.Fatalf("unparsable message from the B2BUA: %v", err)
		}
		if res, ok := msg.(*sip.Response); ok && res.StatusCode >= 200 {
			return res, time.Now()
		}
	}
}

// TestReinvite2xxRetransmittedUntilACK (RFC 3261 §13.3.1.4): the caller
// re-INVITEs over UDP and ignores our first 200, as if it were lost; it
// gets the same 200 again about T1 (500 ms) later, then ACKs it; no 200
// comes after the ACK, and the call stays up with audio both ways.
func TestReinvite2xxRetransmittedUntilACK(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	dc, _, _, aliceRTP, bobRTP, _, _ := connected(t, e, 200)
	p := newRawPeer(t, e, dc)
	p.write(p.request(sip.INVITE, p.seq, aliceRTP.sdpWith(2, "sendrecv")))
	first, at1 := p.final(10 * time.Second)
	if first == nil || first.StatusCode != 200 {
		t.Fatalf("re-INVITE answered %v, want 200", first)
	}
	again, at2 := p.final(3 * time.Second)
	if again == nil {
		t.Fatal("the ignored 200 was not retransmitted")
	}
	if d := at2.Sub(at1); d < 300*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("retransmission %s after the first 200, want about T1 (500 ms)", d)
	}
	if again.StatusCode != 200 || again.CSeq().SeqNo != p.seq || string(again.Body()) != string(first.Body()) {
		t.Errorf("retransmission %d CSeq %d, want the same 200 to CSeq %d", again.StatusCode, again.CSeq().SeqNo, p.seq)
	}
	ack := p.request(sip.ACK, p.seq, nil)
	p.write(ack)
	// Drain a retransmission that crossed the ACK, then none may follow
	// past the next interval (1 s).
	deadline := time.Now().Add(2500 * time.Millisecond)
	var late []time.Time
	for time.Now().Before(deadline) {
		if res, at := p.final(time.Until(deadline)); res != nil {
			late = append(late, at)
		}
	}
	if len(late) > 1 || len(late) == 1 && late[0].Sub(at2) > 1500*time.Millisecond {
		t.Errorf("200s kept coming after the ACK: %v", late)
	}
	if e.srv.ActiveCalls() != 1 {
		t.Fatalf("%d active calls after the ACK, want 1", e.srv.ActiveCalls())
	}
	aliceRTP.waitHeard(t, time.Duration(heardLen(aliceRTP))*time.Second/8000+400*time.Millisecond)
	bobRTP.waitHeard(t, time.Duration(heardLen(bobRTP))*time.Second/8000+400*time.Millisecond)
	if f, _ := aliceRTP.heardTone(candidates); f != 660 {
		t.Errorf("caller hears %v Hz, want 660", f)
	}
	_ = dc.Bye(t.Context())
	waitCalls(t, e, 0)
}

// TestReinvite2xxWithoutACKEndsCall (RFC 3261 §13.3.1.4): a caller that
// never ACKs our 200 gets it retransmitted at T1, 2·T1, 4·T1 ... (T1
// shortened to 50 ms here), and after 64·T1 the call ends with BYE to
// both parties.
func TestReinvite2xxWithoutACKEndsCall(t *testing.T) {
	t.Parallel()
	const t1 = 50 * time.Millisecond
	e := startEnv(t, nil, func(s *Server) { s.reackT1 = t1 })
	dc, alice, bob, aliceRTP, _, _, _ := connected(t, e, 200)
	p := newRawPeer(t, e, dc)
	p.write(p.request(sip.INVITE, p.seq, aliceRTP.sdpWith(2, "sendrecv")))
	var at []time.Time
	for {
		res, when := p.final(2 * time.Second)
		if res == nil {
			break
		}
		if res.StatusCode != 200 {
			t.Fatalf("got %d, want 200", res.StatusCode)
		}
		at = append(at, when)
	}
	if len(at) < 6 {
		t.Fatalf("%d 200s, want the first and at least five retransmissions", len(at))
	}
	for i := 2; i < 5; i++ {
		prev, cur := at[i-1].Sub(at[i-2]), at[i].Sub(at[i-1])
		if cur < prev*3/2 {
			t.Errorf("interval %d is %s after %s, want it doubled", i, cur, prev)
		}
	}
	if span := at[len(at)-1].Sub(at[0]); span > 64*t1+time.Second {
		t.Errorf("200s for %s, want them to stop by 64·T1 = %s", span, 64*t1)
	}
	for name, u := range map[string]*ua{"caller": alice, "callee": bob} {
		select {
		case <-u.byes:
		case <-time.After(10 * time.Second):
			t.Errorf("the %s got no BYE", name)
		}
	}
	waitCalls(t, e, 0)
}
