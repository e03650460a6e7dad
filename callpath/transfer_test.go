package callpath

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/media/tone"
)

// sigPhone is a test UA that keeps the NOTIFYs and INFOs it receives
// (answering them 200) and the dialog of each INVITE it answered.
type sigPhone struct {
	*ua
	notifies chan *sip.Request
	infos    chan *sip.Request
	answered chan *sipgo.DialogServerSession
}

func newSigPhone(t *testing.T, name string) *sigPhone {
	t.Helper()
	p := &sigPhone{notifies: make(chan *sip.Request, 16), infos: make(chan *sip.Request, 32), answered: make(chan *sipgo.DialogServerSession, 4)}
	keep := func(ch chan *sip.Request) sipgo.RequestHandler {
		return func(req *sip.Request, tx sip.ServerTransaction) {
			ch <- req
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		}
	}
	p.ua = newUA(t, name, func(srv *sipgo.Server) {
		srv.OnNotify(keep(p.notifies))
		srv.OnInfo(keep(p.infos))
	})
	return p
}

// answerKeep answers each INVITE at once with peer's SDP and hands the
// dialog to p.answered.
func (p *sigPhone) answerKeep(peer *rtpPeer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answer = func(req *sip.Request, ds *sipgo.DialogServerSession) {
		_ = ds.Respond(sip.StatusRinging, "Ringing", nil)
		peer.sendTo(p.t, req.Body())
		if err := ds.RespondSDP(peer.sdp()); err == nil {
			p.answered <- ds
		}
	}
}

func (p *sigPhone) dialog(t *testing.T) *sipgo.DialogServerSession {
	t.Helper()
	select {
	case ds := <-p.answered:
		return ds
	case <-time.After(10 * time.Second):
		t.Fatal("no answered dialog")
	}
	return nil
}

// doer is an established dialog of a test UA (either role).
type doer interface {
	Do(ctx context.Context, req *sip.Request) (*sip.Response, error)
}

// refer sends a REFER to user in dialog d and returns the status code.
func refer(t *testing.T, e *env, d doer, user string) int {
	t.Helper()
	req := sip.NewRequest(sip.REFER, sip.Uri{Scheme: "sip", User: "callrec", Host: e.srv.Addr().Addr().String(), Port: int(e.srv.Addr().Port())})
	req.AppendHeader(sip.NewHeader("Refer-To", fmt.Sprintf("<sip:%s@%s>", user, e.srv.Addr())))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := d.Do(ctx, req)
	if err != nil {
		t.Fatalf("refer: %v", err)
	}
	return res.StatusCode
}

// sipfrags collects the sipfrag status lines of the NOTIFYs p receives
// until the one that terminates the subscription.
func (p *sigPhone) sipfrags(t *testing.T) []string {
	t.Helper()
	var out []string
	for {
		select {
		case n := <-p.notifies:
			if ev := n.GetHeader("Event"); ev == nil || !strings.HasPrefix(ev.Value(), "refer") {
				t.Errorf("NOTIFY with Event %v, want refer", ev)
			}
			if ct := n.ContentType(); ct == nil || !strings.HasPrefix(ct.Value(), "message/sipfrag") {
				t.Errorf("NOTIFY with Content-Type %v, want message/sipfrag", ct)
			}
			out = append(out, strings.TrimSpace(string(n.Body())))
			if st := n.GetHeader("Subscription-State"); st != nil && strings.HasPrefix(st.Value(), "terminated") {
				return out
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("no final NOTIFY; got %q", out)
		}
	}
}

// setRecording records person in mode (always: at answer).
func setRecording(t *testing.T, e *env, personID, mode string) {
	t.Helper()
	ctx := t.Context()
	if err := e.store.Update(ctx, func(tx directory.Tx) error {
		p, err := directory.People.Get(ctx, tx, e.org.ID, personID)
		if err != nil {
			return err
		}
		p.Recording = callrec.DefaultUserRecording()
		p.Recording.Enabled, p.Recording.Mode = true, mode
		return directory.People.Put(ctx, tx, p)
	}); err != nil {
		t.Fatal(err)
	}
}

func (r *recEnv) hasStates(want ...string) bool {
	got := r.states()
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestR20_R19_TransferAfterComplianceAnnouncement: a PSTN caller reaches
// Bob (recorded always) after the inbound compliance announcement; Bob
// transfers the caller to Alice (recorded always) with REFER. Bob gets
// 202, NOTIFYs "100 Trying" ... "200 OK" (RFC 3515 §2.4.5) and a BYE;
// his recording stops and Alice's starts at her answer (R19) without a
// start announcement (R20): the caller heard the compliance prompt once
// and no speech after it; both parties hear each other after the
// transfer; Alice's recording holds her tone and the caller's.
func TestR20_R19_TransferAfterComplianceAnnouncement(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways,
		bob: func(u *callrec.UserRecording) { u.StartStopPSTN = true },
		org: func(o *callrec.OrgRecording) { o.Compliance.Inbound = true }})
	setRecording(t, r.env, personAlice, callrec.ModeAlways)
	alice, bob := r.sigPhones(t)
	bobRTP, aliceRTP, gwRTP := newRTPPeer(t, 440), newRTPPeer(t, 1000), newRTPPeer(t, 660)
	bob.answerKeep(bobRTP)
	alice.answerKeep(aliceRTP)
	dc, answered := r.dialFromPSTN(t, "+4535351002", gwRTP)
	bobDS := bob.dialog(t)
	r.waitState(t, 1, StateStarted)
	bobRTP.heardFor(t, time.Second)

	referOK(t, r.env, bobDS, "1001")
	frags := bob.sipfrags(t)
	if len(frags) < 2 || frags[0] != "SIP/2.0 100 Trying" || frags[len(frags)-1] != "SIP/2.0 200 OK" {
		t.Errorf("sipfrags %q, want 100 Trying first and 200 OK last", frags)
	}
	select {
	case <-bob.byes:
	case <-time.After(10 * time.Second):
		t.Fatal("the transferor got no BYE")
	}
	waitUntil(t, "Bob's recording stopped and Alice's started", func() bool {
		return r.hasStates(personBob+":stopped", personAlice+":started")
	})
	transferred := time.Now()
	gwRTP.heardFor(t, 2*time.Second)
	aliceRTP.heardFor(t, time.Second)
	wantHear(t, " after the transfer", threeTones,
		hears{"the caller", gwRTP, 1000, "Alice"}, hears{"Alice", aliceRTP, 660, "the caller"})
	// R20: the compliance prompt played once, before the answer, and no
	// start (or any other) announcement after it, transfer included.
	compLen := promptLen(prompt.Compliance, "en_US")
	for _, s := range gwRTP.runsOf(clsSpeech, 3, answered) {
		t.Errorf("the caller heard speech at %s, after the answer (R20)", s.from.Sub(answered))
	}
	if speech := gwRTP.speechSince(time.Time{}); speech < compLen/3 || speech > compLen*5/4 {
		t.Errorf("the caller heard %s of speech, want the %s compliance prompt once", speech, compLen)
	}
	if s := aliceRTP.runsOf(clsSpeech, 3, time.Time{}); len(s) != 0 {
		t.Errorf("Alice heard a prompt after the transfer: %v (R20)", s)
	}
	if s := bobRTP.runsOf(clsSpeech, 3, answered); len(s) != 0 {
		t.Errorf("Bob heard a prompt: %v (R20)", s)
	}
	recs, audio := r.finish(t, dc)
	if got := r.states(); len(got) != 4 {
		t.Errorf("events %v, want Bob started/stopped and Alice started/stopped", got)
	}
	if len(recs) != 2 {
		t.Fatalf("%d recordings, want Bob's and Alice's", len(recs))
	}
	for i, rec := range recs {
		// Bob's own 440 Hz is no tone classify tells apart: his
		// channel is not checked.
		want, ok := map[string][2]string{personBob: {"", "660"}, personAlice: {"1000", "660"}}[rec.OwnerID]
		if !ok {
			t.Fatalf("recording of %q", rec.OwnerID)
		}
		if rec.OwnerID == personAlice && rec.Start.Before(transferred.Add(-3*time.Second)) {
			t.Errorf("Alice's recording starts %s, before she answered", rec.Start)
		}
		for ch := range 2 {
			if want[ch] == "" {
				continue
			}
			if c, at, ok := foreign(audio[i][ch], want[ch]); ok {
				t.Errorf("%s's recording channel %d has %s at %s, want only %s Hz", rec.OwnerID, ch+1, c, at, want[ch])
			}
		}
	}
}

// TestR37_TransferByCallerKeepsRecordingOfRemainingParty: Alice (not
// recorded) calls Bob (recorded always) and transfers him to a PSTN
// number, which goes out the trunk. Side A of the call becomes a dialog
// the B2BUA started. Bob's recording continues and its SRS learns the
// new party (RFC 7866 §6.3, R37); the gateway's hangup ends the call.
func TestR37_TransferByCallerKeepsRecordingOfRemainingParty(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways})
	gwRTP := newRTPPeer(t, 440)
	gw := r.gatewayPhone(gwRTP)
	c := r.dialSigCall(t)
	r.waitState(t, 1, StateStarted)
	c.bobRTP.heardFor(t, time.Second)
	referOK(t, r.env, c.dc, "+4587654321")
	if frags := c.alice.sipfrags(t); frags[len(frags)-1] != "SIP/2.0 200 OK" {
		t.Errorf("sipfrags %q, want 200 OK last", frags)
	}
	gwDS := gw.dialog(t)
	gwRTP.heardFor(t, 1500*time.Millisecond)
	c.bobRTP.heardFor(t, 1500*time.Millisecond)
	wantHear(t, " after the transfer", threeTones,
		hears{"Bob", c.bobRTP, 440, "the PSTN party"}, hears{"the PSTN party", gwRTP, 660, "Bob"})
	if err := gwDS.Bye(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.bob.byes:
	case <-time.After(10 * time.Second):
		t.Fatal("Bob got no BYE when the PSTN party hung up")
	}
	recs, audio := r.finish(t, nil)
	if got := r.states(); fmt.Sprint(got) != fmt.Sprint([]string{personBob + ":started", personBob + ":stopped"}) {
		t.Errorf("events %v, want one recording of Bob that continued", got)
	}
	if len(recs) != 1 {
		t.Fatalf("%d recordings, want one", len(recs))
	}
	var aors []string
	for _, p := range recs[0].Meta.Participants {
		aors = append(aors, p.AOR)
		aors = append(aors, p.AORs...)
	}
	if !strings.Contains(strings.Join(aors, " "), "+4587654321") {
		t.Errorf("participants %v: the transfer target is not in the recording's metadata", aors)
	}
	other := audio[0][1]
	if f, _ := tone.Dominant(other[:8000], 8000, threeTones); f != 1000 {
		t.Errorf("channel 2 begins with %v Hz, want Alice's 1000", f)
	}
	if f, _ := tone.Dominant(other[len(other)-8000:], 8000, threeTones); f != 440 {
		t.Errorf("channel 2 ends with %v Hz, want the PSTN party's 440", f)
	}
}

// TestTransferFailureKeepsTheCall: a transfer to a number nobody has
// (404) or to a busy PSTN party (486) is reported to the transferor in
// the final NOTIFY, and the call goes on: both parties still hear each
// other and nobody got a BYE.
func TestTransferFailureKeepsTheCall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, to string
		frag     string
	}{
		{"unknown number", "12", "SIP/2.0 404 Not Found"},
		{"busy PSTN party", "+4587654321", "SIP/2.0 486 Busy Here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := startEnv(t, nil)
			c := e.dialSigCall(t)
			referOK(t, e, c.bobDS, tc.to)
			frags := c.bob.sipfrags(t)
			if frags[0] != "SIP/2.0 100 Trying" || frags[len(frags)-1] != tc.frag {
				t.Errorf("sipfrags %q, want 100 Trying then %q", frags, tc.frag)
			}
			c.aliceRTP.heardFor(t, time.Second)
			c.bobRTP.heardFor(t, time.Second)
			wantHear(t, " after the failed transfer", threeTones,
				hears{"Alice", c.aliceRTP, 660, "Bob"}, hears{"Bob", c.bobRTP, 1000, "Alice"})
			if len(c.bob.byes) != 0 || len(c.alice.byes) != 0 {
				t.Errorf("a party got a BYE: the failed transfer ended the call")
			}
			if n := e.srv.ActiveCalls(); n != 1 {
				t.Errorf("%d active calls, want the one call", n)
			}
			hangUp(t, e, c.dc)
		})
	}
}

// TestReferRefusals: REFERs that cannot be carried out are answered
// with an error and change nothing.
func TestReferRefusals(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	dc := e.dialSigCall(t).dc
	for _, tc := range []struct {
		name, referTo string
		code          int
	}{
		{"no Refer-To", "", sip.StatusBadRequest},
		{"attended transfer", "<sip:1001@pbx?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>", sip.StatusNotImplemented},
		{"http URI", "<http://example.com/>", sip.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := sip.NewRequest(sip.REFER, sip.Uri{Scheme: "sip", User: "callrec", Host: e.srv.Addr().Addr().String(), Port: int(e.srv.Addr().Port())})
			if tc.referTo != "" {
				req.AppendHeader(sip.NewHeader("Refer-To", tc.referTo))
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			res, err := dc.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.code {
				t.Errorf("REFER with Refer-To %q got %d %s, want %d", tc.referTo, res.StatusCode, res.Reason, tc.code)
			}
		})
	}
	if n := e.srv.ActiveCalls(); n != 1 {
		t.Errorf("%d active calls, want the one call", n)
	}
	hangUp(t, e, dc)
}

func TestParseReferTo(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"angle brackets", "<sip:1003@pbx.example.com>", "1003", true},
		{"display name and user=phone", `"Carol" <sip:+4512345678@10.0.0.1;user=phone>`, "+4512345678", true},
		{"bare URI with header params", "sip:1003@10.0.0.1;method=INVITE", "1003", true},
		{"tel URI", "<tel:+4512345678;phone-context=+45>", "+4512345678", true},
		{"sips with port", "<sips:1003@pbx:5061;transport=tls>", "1003", true},
		{"Polycom style", "<sip:1003@192.168.1.10:5060;transport=udp>", "1003", true},
		{"Replaces", "<sip:1003@pbx?Replaces=x%3Bto-tag%3Da%3Bfrom-tag%3Db>", "", false},
		{"no user", "<sip:pbx.example.com>", "", false},
		{"unclosed", "<sip:1003@pbx", "", false},
		{"no scheme", "1003", "", false},
		{"empty", "  ", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseReferTo(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseReferTo(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func FuzzParseReferTo(f *testing.F) {
	for _, s := range []string{
		"<sip:1003@pbx.example.com>",
		`"Carol" <sip:+4512345678@10.0.0.1;user=phone>`,
		"sip:1003@10.0.0.1;method=INVITE",
		"<tel:+4512345678;phone-context=+45>",
		"<sip:1003@pbx?Replaces=x%3Bto-tag%3Da%3Bfrom-tag%3Db>",
		"<sips:bob:secret@pbx:5061>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		user, err := parseReferTo(v)
		if err == nil && (user == "" || !strings.Contains(v, user)) {
			t.Errorf("parseReferTo(%q) = %q: not a part of the input", v, user)
		}
	})
}

// threeTones are the test tones of calls with three parties.
var threeTones = []float64{440, 660, 1000, 1400, 480}
