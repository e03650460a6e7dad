package e2e

import (
	"testing"
	"time"

	"github.com/callrec/callrec/media/prompt"
)

// carolHz is a third party's tone, apart from toneLow and toneHigh and
// from the prompt tones by more than 150 Hz.
const carolHz = 820.0

// startStopOn is the per-user setting that plays the start/stop
// announcement on internal and PSTN calls (R27).
var startStopOn = map[string]any{"startStopAnnouncement": map[string]any{"internalCallsEnabled": true, "pstnCallsEnabled": true}}

// newRecordings waits until the server holds n finalised recordings whose
// ids are not in seen, adds them to seen and returns them (their details).
func (s *server) newRecordings(seen map[string]bool, n int) []recordingJSON {
	s.t.Helper()
	var fresh []recordingJSON
	waitFor(s.t, 20*time.Second, "the call's recordings", func() bool {
		var list struct {
			Items []recordingJSON `json:"items"`
		}
		if code, _, body := s.api("GET", "/v1/admin/convergedRecordings?max=100", nil, &list); code != 200 {
			s.t.Fatalf("list recordings: %d %s", code, body)
		}
		fresh = fresh[:0]
		available := 0
		for _, r := range list.Items {
			if !seen[r.ID] {
				fresh = append(fresh, r)
				if r.Status == "available" {
					available++
				}
			}
		}
		return available >= n
	})
	if len(fresh) != n {
		s.t.Fatalf("%d new recordings, want %d: %v", len(fresh), n, toJSON(fresh))
	}
	out := make([]recordingJSON, 0, n)
	for _, r := range fresh {
		seen[r.ID] = true
		var full recordingJSON
		if code, _, body := s.api("GET", "/v1/convergedRecordings/"+r.ID, nil, &full); code != 200 {
			s.t.Fatalf("get recording: %d %s", code, body)
		}
		out = append(out, full)
	}
	return out
}

// awaitSince waits for cond like waitFor and returns when it was seen to
// hold (within the 20 ms poll).
func awaitSince(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Time {
	t.Helper()
	waitFor(t, timeout, what, cond)
	return time.Now()
}

// TestR20_TransferAfterCompliance: the org plays the compliance
// announcement on inbound PSTN calls; Bob and Carol record Always with the
// start/stop announcement on for PSTN and internal calls. A PSTN caller
// (660 Hz) calls Bob's DID, hears the compliance prompt, Bob (1000 Hz)
// answers; after 3 s Bob blind-transfers the caller to Carol (820 Hz)
// with baresip's transfer command (REFER). The caller hears the
// compliance prompt once and no start announcement, neither at Bob's
// answer nor after the transfer (R20, R23); then Bob, then Carol, who
// hears the caller; Bob's recording stops at the transfer and Carol's
// starts at her answer (R19): two recordings, owned by Bob and by Carol,
// each with its owner on channel 1, the caller on channel 2 and no prompt
// (R22).
func TestR20_TransferAfterCompliance(t *testing.T) {
	srv, o := startPhoneOrg(t, "Transfer Ltd")
	bob := o.person("Bob", "1002", "bob-Secret-2", "+4535351002")
	carol := o.person("Carol", "1003", "carol-Secret-3")
	o.record(bob, "Always", startStopOn)
	o.record(carol, "Always", startStopOn)
	o.do("PUT", "/v1/telephony/config/callRecording/complianceAnnouncement", map[string]any{"inboundPSTNCallsEnabled": true}, 204)
	port := portBlock(t, 100)
	o.trunk(port)

	bobPhone := startRegistered(t, "bob", withSeconds(o.phone("1002", "bob-Secret-2", personHz), 60))
	carolPhone := startRegistered(t, "carol", withSeconds(o.phone("1003", "carol-Secret-3", carolHz), 60))
	caller := trunkPeer(t, "PSTN caller", "+4512345678", port, pstnHz, "sip:+4535351002@"+o.sipAddr, 60)

	bobAnswered := awaitSince(t, 30*time.Second, "Bob's answer", bobPhone.established)
	time.Sleep(3 * time.Second) // the caller talks with Bob
	bobPhone.transfer("sip:1003@" + o.sipAddr)
	carolAnswered := awaitSince(t, 15*time.Second, "Carol's answer", carolPhone.established)
	waitFor(t, 10*time.Second, "the end of Bob's call (callrec's BYE to the transferor)", bobPhone.callEnded)
	time.Sleep(3 * time.Second) // the caller talks with Carol
	hungUp := time.Now()
	caller.hangUp(carolPhone)
	bobPhone.stop()
	if !bobPhone.out.contains("transferring call") {
		t.Errorf("Bob's phone logged no transfer")
	}

	// What the caller heard: the compliance prompt once, then Bob, then
	// Carol, and no other prompt.
	hi, heard := caller.heard()
	m := assertHeardPrompt(t, "the PSTN caller", heard, hi.Rate, prompt.Compliance, "en_US")
	if s := findPrompt(heard, promptPCM(t, prompt.Start, "en_US"), hi.Rate); s.fraction >= 0.3 {
		t.Errorf("the caller heard %.0f%% of the start announcement at %v: R20 suppresses it after the compliance announcement", 100*s.fraction, s.at)
	}
	runs := heardRuns(heard, hi.Rate, pstnHz, personHz, carolHz)
	if got := total(runs, clsSpeech, m.to+100*time.Millisecond, m.to+time.Hour); got > 100*time.Millisecond {
		t.Errorf("the caller heard %v of speech after the compliance prompt: an announcement after it (R20)? %s", got, runsString(runs))
	}
	bobRuns := longRuns(runs, toneClass(personHz), 500*time.Millisecond, m.to-40*time.Millisecond)
	carolRuns := longRuns(runs, toneClass(carolHz), 500*time.Millisecond, m.to)
	if len(bobRuns) == 0 || len(carolRuns) == 0 {
		t.Fatalf("the caller did not hear Bob then Carol after the prompt: %s", runsString(runs))
	}
	if carolRuns[0].from < bobRuns[0].to {
		t.Errorf("the caller heard Carol (%v) before Bob's audio ended (%v): %s", carolRuns[0], bobRuns[0], runsString(runs))
	}
	if got := total(runs, toneClass(personHz), 0, time.Hour); got < 2*time.Second {
		t.Errorf("the caller heard Bob for %v, want about 3 s: %s", got, runsString(runs))
	}
	if got := total(runs, toneClass(carolHz), 0, time.Hour); got < 2*time.Second {
		t.Errorf("the caller heard Carol for %v, want about 3 s: %s", got, runsString(runs))
	}
	if got := total(runs, toneClass(personHz), carolRuns[0].from, time.Hour); got > 0 {
		t.Errorf("the caller heard Bob for %v after Carol: the transferor's leg is still bridged: %s", got, runsString(runs))
	}

	// What Bob and Carol heard: the caller, no prompt.
	for _, p := range []*phone{bobPhone, carolPhone} {
		assertPhoneHeardOnly(t, p.name, p, 2*time.Second, pstnHz, personHz, carolHz)
	}

	// Two recordings: Bob's up to the transfer, Carol's from her answer.
	recs := srv.newRecordings(map[string]bool{}, 2)
	byOwner := map[string]recordingJSON{}
	for _, r := range recs {
		byOwner[r.OwnerID] = r
	}
	rb, okB := byOwner[bob]
	rc, okC := byOwner[carol]
	if !okB || !okC {
		t.Fatalf("recordings owned by %q and %q, want Bob %q and Carol %q", recs[0].OwnerID, recs[1].OwnerID, bob, carol)
	}
	bobTalk, carolTalk := carolAnswered.Sub(bobAnswered), hungUp.Sub(carolAnswered)
	t.Logf("Bob talked %v, Carol %v", bobTalk, carolTalk)
	assertRecordedTones(t, srv, rb, personHz, pstnHz, bobTalk-time.Second, bobTalk+time.Second)
	assertRecordedTones(t, srv, rc, carolHz, pstnHz, carolTalk-time.Second, carolTalk+time.Second)
	if !rc.Callrec.StartTime.After(rb.Callrec.StartTime) {
		t.Errorf("Carol's recording starts %v, Bob's %v: want Carol's after Bob's", rc.Callrec.StartTime, rb.Callrec.StartTime)
	}
}
