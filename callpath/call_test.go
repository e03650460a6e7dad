package callpath

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

func statusOf(err error) int {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) && de.Res != nil {
		return de.Res.StatusCode
	}
	return 0
}

// An internal call between two registered people connects through the
// B2BUA, 180 is relayed, media flows both ways (each hears the other's
// tone), and a BYE from the caller ends the callee's leg.
func TestInternalCallConnectsAndMediaFlowsBothWays(t *testing.T) {
	e := startEnv(t, nil)
	alice, bob := e.phones(t)
	aliceRTP, bobRTP := newRTPPeer(t, 440), newRTPPeer(t, 660)
	bob.answerWith(bobRTP, 100*time.Millisecond)
	var got180 bool
	dc, err := alice.dial(e, "alice", "1002", aliceRTP, func(r *sip.Response) { got180 = got180 || r.StatusCode == 180 })
	if err != nil {
		t.Fatal(err)
	}
	if !got180 {
		t.Error("caller got no 180 Ringing")
	}
	aliceRTP.waitHeard(t, 600*time.Millisecond)
	bobRTP.waitHeard(t, 600*time.Millisecond)
	wantHear(t, "", candidates, hears{"the caller", aliceRTP, 660, "the callee"}, hears{"the callee", bobRTP, 440, "the caller"})
	if err := dc.Bye(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-bob.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("callee got no BYE")
	}
	waitCalls(t, e, 0)
}

func waitCalls(t *testing.T, e *env, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.ActiveCalls() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d active calls, want %d", e.srv.ActiveCalls(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Refusals: an unauthenticated device is challenged and refused, an
// unknown number gets 404, a busy callee 486, an unregistered one 480, a
// callee that never answers 480 after the ring timeout.
func TestCallRefusals(t *testing.T) {
	e := startEnv(t, func(c *Config) { c.RingTimeout = 500 * time.Millisecond })
	alice, bob := newUA(t, "alice"), newUA(t, "bob")
	alice.register(e, "alice")
	peer := newRTPPeer(t, 440)
	t.Run("unknown number is 404", func(t *testing.T) {
		_, err := alice.dial(e, "alice", "99", peer, nil)
		if statusOf(err) != 404 {
			t.Fatalf("got %v, want 404", err)
		}
	})
	t.Run("no credentials is 407", func(t *testing.T) {
		_, err := alice.dial(e, "", "1002", peer, nil)
		if statusOf(err) != 407 {
			t.Fatalf("got %v, want 407", err)
		}
	})
	t.Run("unregistered callee is 480", func(t *testing.T) {
		_, err := alice.dial(e, "alice", "1002", peer, nil)
		if statusOf(err) != 480 {
			t.Fatalf("got %v, want 480", err)
		}
	})
	bob.register(e, "bob")
	t.Run("busy callee is 486", func(t *testing.T) {
		_, err := alice.dial(e, "alice", "1002", peer, nil)
		if statusOf(err) != 486 {
			t.Fatalf("got %v, want 486", err)
		}
	})
	t.Run("no answer is 480 after the ring timeout", func(t *testing.T) {
		bob.ringForever()
		start := time.Now()
		_, err := alice.dial(e, "alice", "1002", peer, nil)
		if statusOf(err) != 480 {
			t.Fatalf("got %v, want 480", err)
		}
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Errorf("refused after %s, before the ring timeout", d)
		}
	})
	waitCalls(t, e, 0)
}

// A CANCEL from the caller cancels the callee's ringing leg.
func TestCancelFromCallerCancelsCallee(t *testing.T) {
	e := startEnv(t, nil)
	alice, bob := e.phones(t)
	bob.ringForever()
	peer := newRTPPeer(t, 440)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		dua := sipgo.DialogUA{Client: alice.client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: int(alice.addr.Port())}}}
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "1002", Host: "127.0.0.1", Port: int(e.srv.Addr().Port())})
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(peer.sdp())
		dc, err := dua.WriteInvite(ctx, req)
		if err != nil {
			done <- err
			return
		}
		done <- dc.WaitAnswer(ctx, sipgo.AnswerOptions{Username: "alice", Password: "alice-pw"})
	}()
	var inv *sip.Request
	select {
	case inv = <-bob.invites:
	case <-time.After(5 * time.Second):
		t.Fatal("callee was never rung")
	}
	if inv.Recipient.User != "bob" {
		t.Errorf("callee rung at %s, want its registered contact", inv.Recipient.String())
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("cancelled call was answered")
	}
	select {
	case <-bob.cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the callee's leg was not cancelled")
	}
	waitCalls(t, e, 0)
}

// A call whose recording policy cannot be read (here: a location document
// of the org is damaged) is refused with 503 and Retry-After, never connected without
// the recording it may need; the callee is not rung.
func TestPolicyUnavailableRefusesTheCall(t *testing.T) {
	e := startEnv(t, nil)
	alice, bob := e.phones(t)
	sqlitetest.Update(t, e.store, func(tx directory.Tx) error {
		return tx.Put(t.Context(), directory.Record{Kind: directory.Locations.Name, ID: "damaged", OrgID: e.org.ID, Data: []byte(`{"Name": 7}`)})
	})
	var res *sip.Response
	_, err := alice.dial(e, "alice", "1002", newRTPPeer(t, 440), nil)
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		res = de.Res
	}
	if res == nil || res.StatusCode != 503 {
		t.Fatalf("got %v, want 503", err)
	}
	if h := res.GetHeader("Retry-After"); h == nil || h.Value() != "5" {
		t.Errorf("Retry-After %v, want 5", h)
	}
	select {
	case req := <-bob.invites:
		t.Fatalf("the callee was rung: %s", req.StartLine())
	default:
	}
	waitCalls(t, e, 0)
}
