package callpath

import (
	"math"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media/prompt"
)

const (
	lineSupport = "2d000000-0000-4000-8000-00000000e1e1"
	featureHunt = "2d000000-0000-4000-8000-0000000f0001"
	featureCQ   = "2d000000-0000-4000-8000-0000000f0002"
	featureAA   = "2d000000-0000-4000-8000-0000000f0003"
)

// putDirectory stores objects in the env's directory.
func putDirectory(t *testing.T, e *env, fn func(directory.Tx) error) {
	t.Helper()
	if err := e.store.Update(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

// putSupportLine stores the virtual line "Support" (1500, +4535351500,
// language lang) assigned to Bob, recorded as set changes the default
// recording settings.
func putSupportLine(t *testing.T, e *env, lang string, set func(*callrec.UserRecording)) {
	t.Helper()
	rec := callrec.DefaultUserRecording()
	set(&rec)
	putDirectory(t, e, func(tx directory.Tx) error {
		return directory.VirtualLines.Put(t.Context(), tx, &callrec.VirtualLine{ID: lineSupport, OrgID: e.org.ID,
			DisplayName: "Support", Extension: "1500", PhoneNumber: "+4535351500", Language: lang,
			People: []string{personBob}, Recording: rec})
	})
}

// putSupportQueue stores the call queue "Support" (1700, +4535351700,
// language da_DK) whose agent is Bob.
func putSupportQueue(t *testing.T, e *env) {
	t.Helper()
	putDirectory(t, e, func(tx directory.Tx) error {
		return directory.Features.Put(t.Context(), tx, &callrec.Feature{ID: featureCQ, OrgID: e.org.ID, Kind: callrec.FeatureCallQueue,
			Name: "Support", Extension: "1700", PhoneNumber: "+4535351700", Language: "da_DK", Members: []string{personBob}})
	})
}

// promptMatch is how well what a peer heard contains the start of a
// prompt: the best normalised correlation between the prompt's first
// second and the heard audio at any packet boundary (prompts start on
// one). A prompt played through a PCMU leg comes back nearly sample for
// sample, so the prompt itself scores about 1 and another language's
// prompt well below.
func (p *rtpPeer) promptMatch(kind, lang string) float64 {
	p.mu.Lock()
	heard := append([]int16(nil), p.heard...)
	p.mu.Unlock()
	return promptIn(heard, kind, lang)
}

// promptIn is promptMatch over heard.
func promptIn(heard []int16, kind, lang string) float64 {
	want, got, err := prompt.Get(kind, lang)
	if err != nil || got != lang {
		return math.NaN()
	}
	want = want[:min(len(want), prompt.Rate)]
	var ww float64
	for _, v := range want {
		ww += float64(v) * float64(v)
	}
	best := 0.0
	for off := 0; off+len(want) <= len(heard); off += 160 {
		var hw, hh float64
		for i, v := range want {
			h := float64(heard[off+i])
			hw += h * float64(v)
			hh += h * h
		}
		if hh > 0 {
			best = max(best, hw/math.Sqrt(hh*ww))
		}
	}
	return best
}

// waitPrompt waits until p heard the prompt (promptMatch above 0.9).
func (p *rtpPeer) waitPrompt(t *testing.T, kind, lang string) {
	t.Helper()
	waitUntil(t, "the "+lang+" "+kind+" prompt", func() bool { return p.promptMatch(kind, lang) > 0.9 })
}

// TestR31_R21_VirtualLineRecordedInItsLanguage: Alice calls the virtual
// line "Support" (extension 1500, language de_DE, recorded always with
// start announcements on internal calls), assigned to Bob, whose own
// recording and language (en_US) play no part. Bob's device rings and
// answers; Alice hears the German start prompt, not the English one
// (R21); the recording belongs to the virtual line (R31), with Bob's
// audio on the recorded channel.
func TestR31_R21_VirtualLineRecordedInItsLanguage(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeNever})
	putSupportLine(t, r.env, "de_DE", func(rec *callrec.UserRecording) {
		rec.Enabled, rec.Mode, rec.StartStopInternal = true, callrec.ModeAlways, true
	})
	alice, bob := r.phones(t)
	aliceRTP, bobRTP := newRTPPeer(t, 1000), newRTPPeer(t, 660)
	bob.answerWith(bobRTP, 0)
	dc, err := alice.dial(r.env, "alice", "1500", aliceRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case inv := <-bob.invites:
		if inv.To().Address.User != "1500" {
			t.Errorf("Bob's device was rung for %q, want the line's 1500", inv.To().Address.User)
		}
	default:
		t.Fatal("Bob's device, assigned to the line, was not rung")
	}
	r.waitState(t, 1, StateStarted)
	aliceRTP.waitPrompt(t, prompt.Start, "de_DE")
	if m := aliceRTP.promptMatch(prompt.Start, "en_US"); m > 0.5 {
		t.Errorf("Alice heard the en_US start prompt too (match %.2f): Bob's language, not the line's", m)
	}
	de, _, _ := prompt.Get(prompt.Start, "de_DE")
	aliceRTP.heardFor(t, time.Duration(len(de))*time.Second/prompt.Rate)
	if f, _ := aliceRTP.heardTone(candidates); f != 660 {
		t.Errorf("Alice hears %v Hz after the prompt, want Bob's 660", f)
	}
	if got := r.states(); len(got) < 1 || got[0] != lineSupport+":started" {
		t.Errorf("events %v, want the line's recording started", got)
	}
	recs, audio := r.finish(t, dc)
	if len(recs) != 1 {
		t.Fatalf("%d recordings, want one of the line", len(recs))
	}
	if recs[0].OwnerID != lineSupport || recs[0].OwnerType != callrec.OwnerVirtualLine {
		t.Errorf("recording owned by %s %q, want virtual line %s (R31)", recs[0].OwnerType, recs[0].OwnerID, lineSupport)
	}
	for ch, want := range []string{"660", "1000"} {
		if c, at, ok := foreign(audio[0][ch], want); ok {
			t.Errorf("channel %d has %s at %s, want only %s Hz", ch+1, c, at, want)
		}
	}
}

// TestR21_HuntGroupLanguage: Alice calls the hunt group "Sales"
// (extension 1600, language fr_FR) whose members are Bob and a device
// nobody answers; Bob (language en_US, recorded always with start
// announcements on internal calls) answers first and is the recorded
// party; the start prompt is in the hunt group's French (R21), and the
// recording is Bob's.
func TestR21_HuntGroupLanguage(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways, bob: func(u *callrec.UserRecording) { u.StartStopInternal = true }})
	putDirectory(t, r.env, func(tx directory.Tx) error {
		bob, err := directory.People.Get(t.Context(), tx, r.org.ID, personBob)
		if err != nil {
			return err
		}
		bob.Language = "en_US"
		if err := directory.People.Put(t.Context(), tx, bob); err != nil {
			return err
		}
		return directory.Features.Put(t.Context(), tx, &callrec.Feature{ID: featureHunt, OrgID: r.org.ID, Kind: callrec.FeatureHuntGroup,
			Name: "Sales", Extension: "1600", Language: "fr_FR", Members: []string{personAlice, personBob}})
	})
	alice, bob, alice2 := newUA(t, "alice"), newUA(t, "bob"), newUA(t, "alice-desk")
	alice.register(r.env, "alice")
	alice2.register(r.env, "alice") // Alice's second device, a member's: rings, never answers
	alice2.ringForever()
	bob.register(r.env, "bob")
	aliceRTP, bobRTP := newRTPPeer(t, 1000), newRTPPeer(t, 660)
	bob.answerWith(bobRTP, 300*time.Millisecond)
	dc, err := alice.dial(r.env, "alice", "1600", aliceRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-alice2.invites:
	default:
		t.Error("the other member's device was not rung at the same time")
	}
	r.waitState(t, 1, StateStarted)
	aliceRTP.waitPrompt(t, prompt.Start, "fr_FR")
	if m := aliceRTP.promptMatch(prompt.Start, "en_US"); m > 0.5 {
		t.Errorf("Alice heard the en_US start prompt (match %.2f): the member's language, not the hunt group's", m)
	}
	recs, _ := r.finish(t, dc)
	if len(recs) != 1 || recs[0].OwnerID != personBob {
		t.Fatalf("recordings %v, want one of Bob, the member who answered", recs)
	}
}

// TestCallQueue_PromptThenAgent: a PSTN caller (1000 Hz) calls the call
// queue "Support" (+4535351700, language da_DK) whose agent is Bob. The
// caller is answered by callrec and hears the queue prompt in Danish
// (R21) while Bob's device rings; Bob answers after 1.5 s, the prompt
// stops and the caller hears Bob's 660 Hz. Bob is recorded (always) as
// the agent, in the queue's call.
func TestCallQueue_PromptThenAgent(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways})
	putSupportQueue(t, r.env)
	gwRTP, bobRTP := newRTPPeer(t, 1000), newRTPPeer(t, 660)
	r.bobAnswers(t, bobRTP, 1500*time.Millisecond)
	dialled := time.Now()
	dc, err := r.trunk.dial(r.env, "+4587654321", "+4535351700", gwRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(dialled); d > time.Second {
		t.Errorf("the queue answered after %s, want at once", d)
	}
	gwRTP.waitPrompt(t, prompt.Queue, "da_DK")
	r.waitState(t, 1, StateStarted)
	gwRTP.heardFor(t, time.Second)
	agent := gwRTP.runsOf("660", 25, dialled)
	if len(agent) == 0 {
		t.Fatalf("caller never heard the agent: %v", gwRTP.spans())
	}
	gwRTP.mu.Lock()
	before := append([]int16(nil), gwRTP.heard[:agent[0].start*160]...)
	gwRTP.mu.Unlock()
	if m := promptIn(before, prompt.Queue, "da_DK"); m < 0.9 {
		t.Errorf("before the agent the caller heard no da_DK queue prompt (match %.2f)", m)
	}
	if d := agent[0].from.Sub(dialled); d < 1200*time.Millisecond {
		t.Errorf("the agent was heard %s after dialling, before they answered", d)
	}
	// The caller hearing the agent at the end: the prompt stopped.
	wantHear(t, " at the end", threeTones,
		hears{"the caller", gwRTP, 660, "the agent"}, hears{"the agent", bobRTP, 1000, "the caller"})
	recs, _ := r.finish(t, dc)
	if len(recs) != 1 || recs[0].OwnerID != personBob {
		t.Fatalf("recordings %v, want one of Bob, the agent", recs)
	}
}

// TestAutoAttendant_MenuDigit: Alice calls the auto attendant "Main"
// (extension 1800, language de_DE, menu 1 -> 1002). callrec answers and
// plays the German greeting (R21); Alice presses 1, Bob's device rings
// for it and answers, and the two hear each other.
func TestAutoAttendant_MenuDigit(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	putDirectory(t, e, func(tx directory.Tx) error {
		return directory.Features.Put(t.Context(), tx, &callrec.Feature{ID: featureAA, OrgID: e.org.ID, Kind: callrec.FeatureAutoAttendant,
			Name: "Main", Extension: "1800", Language: "de_DE", Menu: []callrec.MenuKey{{Digit: "1", Target: "1002"}}})
	})
	alice, bob := e.phones(t)
	aliceRTP, bobRTP := newRTPPeer(t, 1000), newRTPPeer(t, 660)
	bob.answerWith(bobRTP, 0)
	dc, err := alice.dial(e, "alice", "1800", aliceRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	aliceRTP.waitPrompt(t, prompt.Greeting, "de_DE")
	select {
	case <-bob.invites:
		t.Fatal("Bob rang before a digit was pressed")
	default:
	}
	aliceRTP.press(t, "1")
	select {
	case <-bob.invites:
	case <-time.After(5 * time.Second):
		t.Fatal("the menu target's device was not rung after 1")
	}
	bobRTP.waitHeard(t, time.Second)
	aliceRTP.heardFor(t, time.Second)
	wantHear(t, "", threeTones, hears{"Alice", aliceRTP, 660, "Bob"}, hears{"Bob", bobRTP, 1000, "Alice"})
	hangUp(t, e, dc)
}

// TestAutoAttendant_UnknownExtension: Alice dials 9# and then 8# at the
// auto attendant, neither an extension nor a menu key: the greeting plays
// again after the first, and after the second callrec hangs up; nobody
// was rung.
func TestAutoAttendant_UnknownExtension(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	putDirectory(t, e, func(tx directory.Tx) error {
		return directory.Features.Put(t.Context(), tx, &callrec.Feature{ID: featureAA, OrgID: e.org.ID, Kind: callrec.FeatureAutoAttendant,
			Name: "Main", Extension: "1800", Language: "en_GB", Menu: []callrec.MenuKey{{Digit: "1", Target: "1002"}}})
	})
	alice, bob := e.phones(t)
	aliceRTP := newRTPPeer(t, 1000)
	if _, err := alice.dial(e, "alice", "1800", aliceRTP, nil); err != nil {
		t.Fatal(err)
	}
	aliceRTP.waitPrompt(t, prompt.Greeting, "en_GB")
	aliceRTP.mu.Lock()
	first := len(aliceRTP.heard)
	aliceRTP.mu.Unlock()
	aliceRTP.press(t, "9#")
	waitUntil(t, "the greeting again", func() bool {
		aliceRTP.mu.Lock()
		later := append([]int16(nil), aliceRTP.heard[first:]...)
		aliceRTP.mu.Unlock()
		return promptIn(later, prompt.Greeting, "en_GB") > 0.9
	})
	aliceRTP.press(t, "8#")
	select {
	case <-alice.byes:
	case <-time.After(5 * time.Second):
		t.Fatal("callrec did not hang up after the second unknown extension")
	}
	select {
	case <-bob.invites:
		t.Error("a device was rung for an unknown extension")
	default:
	}
	waitCalls(t, e, 0)
}
