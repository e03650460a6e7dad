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

// promptMatch is how well what a peer heard contains the start of a
// prompt: the best normalised correlation between the prompt's first
// second and the heard audio at any packet boundary (prompts start on
// one). A prompt played through a PCMU leg comes back nearly sample for
// sample, so the prompt itself scores about 1 and another language's
// prompt well below.
func (p *rtpPeer) promptMatch(kind, lang string) float64 {
	want, got, err := prompt.Get(kind, lang)
	if err != nil || got != lang {
		return math.NaN()
	}
	want = want[:min(len(want), prompt.Rate)]
	p.mu.Lock()
	heard := append([]int16(nil), p.heard...)
	p.mu.Unlock()
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
	putDirectory(t, r.env, func(tx directory.Tx) error {
		rec := callrec.DefaultUserRecording()
		rec.Enabled, rec.Mode, rec.StartStopInternal = true, callrec.ModeAlways, true
		return directory.VirtualLines.Put(t.Context(), tx, &callrec.VirtualLine{ID: lineSupport, OrgID: r.org.ID,
			DisplayName: "Support", Extension: "1500", PhoneNumber: "+4535351500", Language: "de_DE",
			People: []string{personBob}, Recording: rec})
	})
	alice, bob := newUA(t, "alice"), newUA(t, "bob")
	alice.register(r.env, "alice")
	bob.register(r.env, "bob")
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
