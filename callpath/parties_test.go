package callpath

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/media/prompt"
)

// The parties of the call-flow tests, set up the one way every test
// wants them: Alice (extension 1001) and Bob (1002, DID +4535351002)
// registered from their own UAs, and the trunk's gateway as the PSTN.

// phones starts Alice's and Bob's UAs and registers them at e.
func (e *env) phones(t *testing.T) (alice, bob *ua) {
	t.Helper()
	alice, bob = newUA(t, "alice"), newUA(t, "bob")
	alice.register(e, "alice")
	bob.register(e, "bob")
	return alice, bob
}

// sigPhones is phones with sigPhones, which keep the NOTIFYs, INFOs and
// answered dialogs.
func (e *env) sigPhones(t *testing.T) (alice, bob *sigPhone) {
	t.Helper()
	alice, bob = newSigPhone(t, "alice"), newSigPhone(t, "bob")
	alice.register(e, "alice")
	bob.register(e, "bob")
	return alice, bob
}

// bobAnswers registers Bob's UA at e; it answers each INVITE after ring
// with peer's audio.
func (e *env) bobAnswers(t *testing.T, peer *rtpPeer, ring time.Duration) *ua {
	t.Helper()
	bob := newUA(t, "bob")
	bob.register(e, "bob")
	bob.answerWith(peer, ring)
	return bob
}

// dialFromPSTN calls number from the trunk's gateway with peer's audio
// and returns the answered dialog and when its 200 OK arrived; a call
// that is not answered ends the test.
func (e *env) dialFromPSTN(t *testing.T, number string, peer *rtpPeer) (*sipgo.DialogClientSession, time.Time) {
	t.Helper()
	var answered time.Time
	dc, err := e.trunk.dial(e, "", number, peer, func(res *sip.Response) {
		if res.StatusCode == sip.StatusOK {
			answered = time.Now()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dc, answered
}

// gatewayPhone makes the trunk's gateway a sigPhone that answers each
// INVITE at once with peer's audio (a PSTN party callrec calls).
func (e *env) gatewayPhone(peer *rtpPeer) *sigPhone {
	gw := &sigPhone{ua: e.trunk.ua, answered: make(chan *sipgo.DialogServerSession, 1)}
	gw.answerKeep(peer)
	return gw
}

// sigCall is an answered internal call: Alice (1000 Hz) called Bob's
// extension 1002 and Bob (660 Hz) answered at once; both are sigPhones.
type sigCall struct {
	alice, bob       *sigPhone
	aliceRTP, bobRTP *rtpPeer
	dc               *sipgo.DialogClientSession // Alice's dialog
	bobDS            *sipgo.DialogServerSession // Bob's dialog
}

// dialSigCall places the sigCall and returns once Bob's dialog is up.
func (e *env) dialSigCall(t *testing.T) *sigCall {
	t.Helper()
	c := &sigCall{aliceRTP: newRTPPeer(t, 1000), bobRTP: newRTPPeer(t, 660)}
	c.alice, c.bob = e.sigPhones(t)
	c.bob.answerKeep(c.bobRTP)
	dc, err := c.alice.dial(e, "alice", "1002", c.aliceRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.dc, c.bobDS = dc, c.bob.dialog(t)
	return c
}

// referOK sends a REFER to user in dialog d and ends the test unless it
// is accepted with 202 (RFC 3515 §2.4.2).
func referOK(t *testing.T, e *env, d doer, user string) {
	t.Helper()
	if code := refer(t, e, d, user); code != sip.StatusAccepted {
		t.Fatalf("REFER got %d, want 202", code)
	}
}

// hears is what one party should hear: the dominant tone of p's last
// 200 ms among the candidates is want, the tone of party from.
type hears struct {
	who  string
	p    *rtpPeer
	want float64
	from string
}

// wantHear checks what each party hears now; when says at what point of
// the call ("after the transfer").
func wantHear(t *testing.T, when string, cands []float64, hs ...hears) {
	t.Helper()
	for _, h := range hs {
		if f, _ := h.p.heardTone(cands); f != h.want {
			t.Errorf("%s hears %v Hz%s, want %s's %v", h.who, f, when, h.from, h.want)
		}
	}
}

// hangUp ends the call with a BYE in dialog d and waits until e has no
// call left.
func hangUp(t *testing.T, e *env, d interface{ Bye(context.Context) error }) {
	t.Helper()
	if err := d.Bye(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, e, 0)
}

// speechSince is how long p heard speech (runs of any length) from since
// on.
func (p *rtpPeer) speechSince(since time.Time) time.Duration {
	var d time.Duration
	for _, s := range p.runsOf(clsSpeech, 1, since) {
		d += time.Duration(s.len) * 20 * time.Millisecond
	}
	return d
}

// promptLen is how long the embedded prompt kind in lang plays.
func promptLen(kind, lang string) time.Duration {
	pcm, _, _ := prompt.Get(kind, lang)
	return time.Duration(len(pcm)) * time.Second / prompt.Rate
}
