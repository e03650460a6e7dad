package callpath

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
)

var earlyCandidates = []float64{440, 660, 700, 1400, 480}

// Early media (issue 5 point 1): a callee that sends 183 with SDP and a
// 700 Hz announcement is heard by the caller before the 200, through the
// caller's 183 with our SDP; after the answer the same branch's media
// keeps flowing both ways.
func TestEarlyMedia183IsHeardBeforeAnswer(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	alice, bob := e.phones(t)
	aliceRTP, bobRTP := newRTPPeer(t, 440), newRTPPeer(t, 700)
	answerNow := make(chan struct{})
	bob.mu.Lock()
	bob.answer = func(req *sip.Request, ds *sipgo.DialogServerSession) {
		bobRTP.sendTo(t, req.Body())
		_ = ds.Respond(sip.StatusSessionInProgress, "Session Progress", bobRTP.sdp(), sip.NewHeader("Content-Type", "application/sdp"))
		select {
		case <-answerNow:
		case <-ds.Context().Done():
			return
		case <-time.After(10 * time.Second):
		}
		_ = ds.RespondSDP(bobRTP.sdp())
	}
	bob.mu.Unlock()
	var mu sync.Mutex
	var early []*sip.Response
	heardBeforeAnswer := make(chan float64, 1)
	go func() {
		// The caller's media starts once dial returns; before that its
		// RTP socket only listens: wait for 700 Hz there, then answer.
		deadline := time.Now().Add(8 * time.Second)
		for time.Now().Before(deadline) {
			if f, d := aliceRTP.heardTone(earlyCandidates); d >= 400*time.Millisecond {
				heardBeforeAnswer <- f
				close(answerNow)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		heardBeforeAnswer <- 0
		close(answerNow)
	}()
	dc, err := alice.dial(e, "alice", "1002", aliceRTP, func(r *sip.Response) {
		mu.Lock()
		defer mu.Unlock()
		if r.StatusCode == 180 || r.StatusCode == 183 {
			early = append(early, r)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if f := <-heardBeforeAnswer; f != 700 {
		t.Fatalf("before the 200 the caller heard %v Hz, want the callee's early 700 Hz", f)
	}
	mu.Lock()
	var got183 *sip.Response
	for _, r := range early {
		if r.StatusCode == 183 {
			got183 = r
		}
		if r.StatusCode == 180 && len(r.Body()) == 0 && got183 != nil {
			t.Error("a bodiless 180 followed the early media 183")
		}
	}
	mu.Unlock()
	if got183 == nil {
		t.Fatal("caller got no 183")
	}
	if !bytes.Equal(got183.Body(), dc.InviteResponse.Body()) {
		t.Errorf("183 SDP %q differs from the 200's %q", got183.Body(), dc.InviteResponse.Body())
	}
	bobRTP.waitHeard(t, 600*time.Millisecond)
	wantHear(t, " after answer", earlyCandidates,
		hears{"the callee", bobRTP, 440, "the caller"}, hears{"the caller", aliceRTP, 700, "the callee"})
	hangUp(t, e, dc)
}

// A 183 without SDP is still relayed as a bodiless 180: no early media,
// the caller hears nothing before the answer.
func TestEarly183WithoutSDPIsRinging(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	alice, bob := e.phones(t)
	aliceRTP, bobRTP := newRTPPeer(t, 440), newRTPPeer(t, 700)
	answeredAt := make(chan time.Time, 1)
	bob.mu.Lock()
	bob.answer = func(req *sip.Request, ds *sipgo.DialogServerSession) {
		// The callee sends its tone while it rings: without SDP in the
		// 183 none of it may reach the caller before the answer.
		bobRTP.sendTo(t, req.Body())
		_ = ds.Respond(sip.StatusSessionInProgress, "Session Progress", nil)
		time.Sleep(400 * time.Millisecond) // ringing; nothing to await
		answeredAt <- time.Now()
		_ = ds.RespondSDP(bobRTP.sdp())
	}
	bob.mu.Unlock()
	var codes []int
	var bodies []int
	dc, err := alice.dial(e, "alice", "1002", aliceRTP, func(r *sip.Response) {
		if r.IsProvisional() && r.StatusCode > 100 {
			codes = append(codes, r.StatusCode)
			bodies = append(bodies, len(r.Body()))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 1 || codes[0] != 180 || bodies[0] != 0 {
		t.Errorf("provisional responses %v with body lengths %v, want one bodiless 180", codes, bodies)
	}
	at := <-answeredAt
	aliceRTP.waitHeard(t, 200*time.Millisecond)
	aliceRTP.mu.Lock()
	first := aliceRTP.first
	aliceRTP.mu.Unlock()
	if first.Before(at) {
		t.Errorf("caller got RTP %s before the answer", at.Sub(first))
	}
	_ = dc.Bye(t.Context())
	waitCalls(t, e, 0)
}

// R18 with early media: on an inbound PSTN call with a compliance
// announcement the caller first hears the announcement (the callee is
// rung only after it), then the callee's early media (1000 Hz) before the
// answer; recording starts at the answer (R19), not with early media.
func TestR18_R19_ComplianceThenEarlyMedia(t *testing.T) {
	t.Parallel()
	r := startRecEnv(t, callrec.ModeAlways, true)
	bob := newUA(t, "bob")
	bob.register(r.env, "bob")
	bobRTP, gwRTP := newRTPPeer(t, 1000), newRTPPeer(t, 440)
	rung, answered := make(chan time.Time, 1), make(chan time.Time, 1)
	bob.mu.Lock()
	bob.answer = func(req *sip.Request, ds *sipgo.DialogServerSession) {
		rung <- time.Now()
		bobRTP.sendTo(t, req.Body())
		_ = ds.Respond(sip.StatusSessionInProgress, "Session Progress", bobRTP.sdp(), sip.NewHeader("Content-Type", "application/sdp"))
		deadline := time.Now().Add(8 * time.Second)
		for time.Now().Before(deadline) && len(gwRTP.runsOf("1000", 10, time.Time{})) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
		answered <- time.Now()
		_ = ds.RespondSDP(bobRTP.sdp())
	}
	bob.mu.Unlock()
	dc, err := r.trunk.dial(r.env, "", "+4535351002", gwRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	rungAt, answeredAt := <-rung, <-answered
	started := r.waitState(t, 1, StateStarted)
	var speechEnd, toneStart time.Time
	for _, s := range gwRTP.spans() {
		if s.class == clsSpeech && s.len >= 10 && toneStart.IsZero() {
			speechEnd = s.to
		}
		if s.class == "1000" && s.len >= 10 && toneStart.IsZero() {
			toneStart = s.from
		}
	}
	switch {
	case speechEnd.IsZero():
		t.Fatal("the caller heard no compliance announcement before the early media (R18)")
	case toneStart.IsZero():
		t.Fatal("the caller never heard the callee's early media")
	case speechEnd.After(rungAt):
		t.Errorf("the callee was rung %s before the announcement ended", speechEnd.Sub(rungAt))
	case !toneStart.Before(answeredAt):
		t.Errorf("early media began %s after the answer, want before", toneStart.Sub(answeredAt))
	case started.Before(answeredAt):
		t.Errorf("recording started %s before the answer (R19)", answeredAt.Sub(started))
	}
	r.finish(t, dc)
}
