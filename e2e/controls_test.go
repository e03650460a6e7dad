package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Recording modes as the Webex API spells them (R25).
const (
	modeOnDemand    = "On Demand with User Initiated Start"
	modePauseResume = "Always with Pause/Resume"
)

// internalCall is a call from Alice (recorded, toneLow) to Bob (not
// recorded, toneHigh), both baresip phones registered to callrec, up
// until both say the call is established. Alice hangs up with
// hangUp.
type internalCall struct {
	alice, bob *phone
}

// startInternalCall registers Bob, has Alice dial him and waits until
// both phones have the call established.
func startInternalCall(t *testing.T, o *phoneOrg) *internalCall {
	t.Helper()
	c := &internalCall{}
	c.bob = startRegistered(t, "bob", withSeconds(o.phone("1002", "bob-Secret-2", toneHigh), 60))
	c.alice = startPhone(t, "alice", withDial(withSeconds(o.phone("1001", "alice-Secret-1", toneLow), 60), "sip:1002@"+o.sipAddr))
	waitFor(t, 15*time.Second, "the call established on both phones", func() bool { return c.alice.established() && c.bob.established() })
	return c
}

// hangUp ends the call from Alice (SIGTERM: baresip sends BYE and closes
// its files) and stops Bob once his side has ended.
func (c *internalCall) hangUp(t *testing.T) {
	t.Helper()
	c.alice.hangUp(c.bob)
}

// assertHeardEachOther checks that Alice heard Bob's tone and Bob
// Alice's, from 500 ms into what each heard to 500 ms before its end.
func (c *internalCall) assertHeardEachOther(t *testing.T) {
	t.Helper()
	for _, p := range []struct {
		p          *phone
		want, sent float64
	}{{c.alice, toneHigh, toneLow}, {c.bob, toneLow, toneHigh}} {
		assertPhoneHeard(t, p.p.name, p.p, 2*time.Second, 500*time.Millisecond, p.want, p.sent)
	}
}

// assertSameCall checks that the events are of one call (a call id) and
// of the recorded person.
func assertSameCall(t *testing.T, evs []stateEvent, personID string) {
	t.Helper()
	for i, e := range evs {
		if e.CallID == "" || e.CallID != evs[0].CallID {
			t.Errorf("event %d (%s) has call id %q, the first %q: want one call", i+1, e.RecordingState, e.CallID, evs[0].CallID)
		}
		if e.PersonID != personID {
			t.Errorf("event %d (%s) has person %q, want %q", i+1, e.RecordingState, e.PersonID, personID)
		}
		if e.EventType != "recording" {
			t.Errorf("event %d has eventType %q, want recording", i+1, e.EventType)
		}
	}
}

// TestR25_R35_OnDemandAccessCodes: Alice records On Demand (R25). During
// an internal call her phone sends *44 and, 2.5 s later, *45 as RFC 4733
// telephone-events; the recording covers only the span between the codes,
// the started and stopped events arrive on the event stream (R34), and
// Bob's phone never receives a digit of either code (R35: swallowed, not
// relayed) while both parties hear each other throughout.
func TestR25_R35_OnDemandAccessCodes(t *testing.T) {
	srv, o := startPhoneOrg(t, "On Demand Ltd")
	alice := o.person("Alice", "1001", "alice-Secret-1")
	o.person("Bob", "1002", "bob-Secret-2")
	o.record(alice, modeOnDemand, nil)
	es := o.subscribe(t)

	c := startInternalCall(t, o)
	time.Sleep(time.Second) // talk, not recorded
	if n := len(es.all()); n != 0 {
		t.Fatalf("%d recording events before *44, want none (On Demand starts on the code): %v", n, es.states())
	}
	sent44 := time.Now()
	c.alice.sendDigits("*44")
	_, started := es.await(t, 1, "started")
	time.Sleep(2500 * time.Millisecond) // talk, recorded
	sent45 := time.Now()
	c.alice.sendDigits("*45")
	_, stopped := es.await(t, 2, "stopped")
	time.Sleep(time.Second) // talk, not recorded
	c.hangUp(t)

	if !c.alice.out.contains("send DTMF digit") {
		t.Fatal("Alice's phone logged no DTMF sent")
	}
	if c.bob.receivedDigits() {
		t.Errorf("Bob's phone received telephone-events of Alice's access codes (R35: they are swallowed)")
	}
	c.assertHeardEachOther(t)
	assertSameCall(t, es.all(), alice)
	if got := strings.Join(es.states(), ","); got != "started,stopped" {
		t.Errorf("events %s, want started,stopped", got)
	}

	rec := srv.newRecording(map[string]bool{})
	between := sent45.Sub(sent44)
	length := assertRecordedTones(t, srv, rec, toneLow, toneHigh, between-700*time.Millisecond, between+500*time.Millisecond)
	t.Logf("codes %v apart, events %v apart, recording %v", between, stopped.Sub(started), length)
	if len(rec.Callrec.DTMF) != 0 {
		t.Errorf("the recording has DTMF %v: the codes reached the recorder", rec.Callrec.DTMF)
	}
}

// TestR25_R28_R34_PauseResumeCodesAndEvents: Alice records Always with
// Pause/Resume (R25). The recording starts at the answer; her phone sends
// *48, then *49 two seconds later; the recording has one pause interval
// of that length, silent on both channels, with both tones before and
// after it; the event stream delivers started, paused, resumed, stopped
// in order with the call and Alice's person id (R34), and the webhook
// the same states; Bob's phone never receives a digit.
// pauseResumeCall runs Alice's internal call to Bob: 1.5 s recorded,
// *48, 2 s paused, *49, 1.5 s recorded again, hang-up; each step awaits
// its recording state event (started, paused, resumed, stopped). It
// returns the call and when the two codes were sent.
func pauseResumeCall(t *testing.T, o *phoneOrg, es *eventStream) (*internalCall, time.Time, time.Time) {
	t.Helper()
	c := startInternalCall(t, o)
	es.await(t, 1, "started")
	time.Sleep(1500 * time.Millisecond)
	sent48 := time.Now()
	c.alice.sendDigits("*48")
	es.await(t, 2, "paused")
	time.Sleep(2 * time.Second)
	sent49 := time.Now()
	c.alice.sendDigits("*49")
	es.await(t, 3, "resumed")
	time.Sleep(1500 * time.Millisecond)
	c.hangUp(t)
	es.await(t, 4, "stopped")
	return c, sent48, sent49
}

func TestR25_R28_R34_PauseResumeCodesAndEvents(t *testing.T) {
	srv, o := startPhoneOrg(t, "Pause Resume Ltd")
	alice := o.person("Alice", "1001", "alice-Secret-1")
	o.person("Bob", "1002", "bob-Secret-2")
	o.record(alice, modePauseResume, nil)
	hooks := newWebhookReceiver(t)
	o.do("POST", "/v1/webhooks", map[string]any{"name": "recording events", "targetUrl": hooks.URL, "resource": "telephony_calls", "event": "all"}, 200)
	es := o.subscribe(t)

	c, sent48, sent49 := pauseResumeCall(t, o, es)

	if c.bob.receivedDigits() {
		t.Errorf("Bob's phone received telephone-events of Alice's access codes (R35: they are swallowed)")
	}
	c.assertHeardEachOther(t)
	evs := es.all()
	assertSameCall(t, evs, alice)
	if got := strings.Join(es.states(), ","); got != "started,paused,resumed,stopped" {
		t.Errorf("events %s, want started,paused,resumed,stopped", got)
	}
	var hookStates []string
	waitFor(t, 10*time.Second, "four webhook deliveries", func() bool { return len(hooks.all()) >= 4 })
	for _, d := range hooks.all() {
		var ev webhookEvent
		if err := json.Unmarshal(d.body, &ev); err != nil {
			t.Fatalf("webhook body %q: %v", d.body, err)
		}
		if ev.Data.CallID != evs[0].CallID || ev.Data.PersonID != alice {
			t.Errorf("webhook delivery for call %q person %q, want the stream's %q and %q", ev.Data.CallID, ev.Data.PersonID, evs[0].CallID, alice)
		}
		hookStates = append(hookStates, ev.Data.RecordingState)
	}
	if got := strings.Join(hookStates, ","); got != "started,paused,resumed,stopped" {
		t.Errorf("webhook states %s, want started,paused,resumed,stopped", got)
	}

	rec := srv.newRecording(map[string]bool{})
	if len(rec.Callrec.PauseIntervals) != 1 {
		t.Fatalf("pauseIntervals %+v, want one", rec.Callrec.PauseIntervals)
	}
	p := rec.Callrec.PauseIntervals[0]
	from, to := p.Start.Sub(rec.Callrec.StartTime), p.End.Sub(rec.Callrec.StartTime)
	if d, want := to-from, sent49.Sub(sent48); d < want-500*time.Millisecond || d > want+500*time.Millisecond {
		t.Errorf("the pause lasts %v, the codes were %v apart", d, want)
	}
	info, chans := srv.download(rec)
	if info.Channels != 2 {
		t.Fatalf("recording has %d channels, want 2", info.Channels)
	}
	length := fileDuration(info.Frames, info.Rate)
	for i, hz := range []float64{toneLow, toneHigh} {
		name := []string{"channel 1 (Alice)", "channel 2 (Bob)"}[i]
		assertRecordedOnly(t, name+" before the pause", chans[i], info.Rate, 300*time.Millisecond, from-100*time.Millisecond, hz, gapsOf(rec, i+1))
		assertSilent(t, name+" while paused", chans[i], info.Rate, from+100*time.Millisecond, to-100*time.Millisecond)
		assertRecordedOnly(t, name+" after the pause", chans[i], info.Rate, to+200*time.Millisecond, length-300*time.Millisecond, hz, gapsOf(rec, i+1))
	}
	if len(rec.Callrec.DTMF) != 0 {
		t.Errorf("the recording has DTMF %v: the codes reached the recorder", rec.Callrec.DTMF)
	}
}
