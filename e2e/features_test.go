package e2e

import (
	"testing"
	"time"

	"github.com/callrec/callrec/media/prompt"
)

// ringing reports whether the phone logged an incoming call.
func (p *phone) ringing() bool { return p.out.contains("Incoming call from") }

// TestCallQueuePromptThenAgent: a call queue (extension 4001, es_ES) has
// Bob (recorded Always, 1000 Hz) as its agent; his phone does not answer
// by itself. Alice (660 Hz) calls the queue: callrec answers her and plays
// the queue prompt in Spanish (R21) while Bob's phone rings; once she has
// heard it Bob accepts (baresip's accept command), the prompt stops and
// she hears Bob, he hears her and no prompt; Bob's recording starts at
// his answer (R19) and holds the two tones and no prompt (R22).
func TestCallQueuePromptThenAgent(t *testing.T) {
	srv, o := startPhoneOrg(t, "Queue SL")
	o.person("Alice", "1001", "alice-Secret-1")
	bob := o.person("Bob", "1002", "bob-Secret-2")
	o.record(bob, "Always", nil)
	o.do("POST", "/v1/telephony/config/locations/"+o.location+"/queues", map[string]any{"name": "Sales", "extension": "4001",
		"languageCode": "es_ES", "agents": []map[string]string{{"id": bob}}}, 200)
	queueLen := fileDuration(int64(len(promptPCM(t, prompt.Queue, "es_ES"))), prompt.Rate)

	bobCfg := o.phone("1002", "bob-Secret-2", toneHigh)
	bobCfg.answer, bobCfg.seconds = false, 60
	bobPhone := startRegistered(t, "bob", bobCfg)
	alice := startPhone(t, "alice", withDial(withSeconds(o.phone("1001", "alice-Secret-1", toneLow), 60), "sip:4001@"+o.sipAddr))
	waitFor(t, 15*time.Second, "the queue answering Alice", alice.established)
	waitFor(t, 10*time.Second, "Bob's phone ringing", bobPhone.ringing)
	time.Sleep(queueLen + 500*time.Millisecond) // Alice hears the whole prompt once
	accepted := time.Now()
	bobPhone.command("accept", "")
	waitFor(t, 10*time.Second, "Bob's answer", bobPhone.established)
	time.Sleep(3 * time.Second)
	hungUp := time.Now()
	alice.hangUp(bobPhone)

	hi, heard := alice.heard()
	m := assertHeardPrompt(t, "Alice", heard, hi.Rate, prompt.Queue, "es_ES")
	runs := heardRuns(heard, hi.Rate, toneLow, toneHigh)
	if early := longRuns(runs, toneClass(toneHigh), 200*time.Millisecond, 0); len(early) > 0 && early[0].from < m.to-40*time.Millisecond {
		t.Errorf("Alice heard Bob from %v, before the queue prompt ended at %v: %s", early[0].from, m.to, runsString(runs))
	}
	if got := total(runs, toneClass(toneHigh), m.to, time.Hour); got < 2*time.Second {
		t.Errorf("Alice heard Bob for %v after the queue prompt, want about 3 s: %s", got, runsString(runs))
	}
	bobRuns := longRuns(runs, toneClass(toneHigh), 500*time.Millisecond, 0)
	if len(bobRuns) > 0 {
		if got := total(runs, clsSpeech, bobRuns[0].from, time.Hour); got > 100*time.Millisecond {
			t.Errorf("Alice heard %v of speech after Bob answered: the queue prompt did not stop: %s", got, runsString(runs))
		}
	}
	assertPhoneHeardOnly(t, "Bob", bobPhone, 2*time.Second, toneLow, toneHigh)

	rec := srv.newRecording(map[string]bool{})
	if rec.OwnerID != bob {
		t.Errorf("the recording is owned by %q, want the agent Bob %q", rec.OwnerID, bob)
	}
	talk := hungUp.Sub(accepted)
	assertRecordedTones(t, srv, rec, toneHigh, toneLow, talk-1500*time.Millisecond, talk+500*time.Millisecond)
}

// TestAutoAttendantGreetingThenMenuKey: an auto attendant (extension
// 5001, da_DK) routes menu key 1 to Bob (1002, answering by himself).
// Alice (660 Hz) calls it: callrec answers and she hears the greeting in
// Danish (R21); after it she presses 1 (RFC 4733, baresip's sndcode);
// Bob's phone rings and answers, and Alice and Bob hear each other; no
// packet of the digit reaches Bob.
func TestAutoAttendantGreetingThenMenuKey(t *testing.T) {
	_, o := startPhoneOrg(t, "Attendant ApS")
	o.person("Alice", "1001", "alice-Secret-1")
	o.person("Bob", "1002", "bob-Secret-2")
	o.person("Carol", "1003", "carol-Secret-3")
	o.do("POST", "/v1/telephony/config/locations/"+o.location+"/autoAttendants", map[string]any{"name": "Reception", "extension": "5001",
		"languageCode": "da_DK", "menu": []map[string]string{{"key": "1", "extension": "1002"}, {"key": "2", "extension": "1003"}}}, 200)
	greetLen := fileDuration(int64(len(promptPCM(t, prompt.Greeting, "da_DK"))), prompt.Rate)

	bobPhone := startRegistered(t, "bob", withSeconds(o.phone("1002", "bob-Secret-2", toneHigh), 60))
	alice := startPhone(t, "alice", withDial(withSeconds(o.phone("1001", "alice-Secret-1", toneLow), 60), "sip:5001@"+o.sipAddr))
	answered := awaitSince(t, 15*time.Second, "the attendant answering Alice", alice.established)
	time.Sleep(greetLen + 300*time.Millisecond)
	if bobPhone.ringing() {
		t.Fatal("Bob's phone rang before Alice chose him")
	}
	alice.sendDigits("1")
	pressed := time.Now()
	waitFor(t, 10*time.Second, "Bob's answer", bobPhone.established)
	time.Sleep(3 * time.Second)
	alice.hangUp(bobPhone)

	hi, heard := alice.heard()
	m := assertHeardPrompt(t, "Alice", heard, hi.Rate, prompt.Greeting, "da_DK")
	runs := heardRuns(heard, hi.Rate, toneLow, toneHigh)
	bobRuns := longRuns(runs, toneClass(toneHigh), 500*time.Millisecond, 0)
	if len(bobRuns) == 0 {
		t.Fatalf("Alice never heard Bob: %s", runsString(runs))
	}
	// The heard file begins at the attendant's answer.
	if press := pressed.Sub(answered); bobRuns[0].from < m.to || bobRuns[0].from < press-time.Second {
		t.Errorf("Alice heard Bob from %v, the greeting ended at %v and she pressed 1 at about %v", bobRuns[0].from, m.to, press)
	}
	if got := total(runs, toneClass(toneHigh), m.to, time.Hour); got < 2*time.Second {
		t.Errorf("Alice heard Bob for %v, want about 3 s: %s", got, runsString(runs))
	}
	assertPhoneHeardOnly(t, "Bob", bobPhone, 2*time.Second, toneLow, toneHigh)
	// No packet of the menu digit reaches Bob: neither its start nor its
	// repeated end packets (RFC 4733 §2.5.1.4), which may still arrive
	// when Bob's new bridge has taken the caller's leg.
	if bobPhone.out.contains("received event:") {
		t.Error("Bob's phone received the menu digit: the attendant relayed it")
	}
}
