package e2e

import (
	"testing"
	"time"

	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/media/tone"
)

// Tones of the PSTN party (a trunk peer) and of the person in the PSTN
// tests.
const (
	pstnHz   = toneLow
	personHz = toneHigh
)

// assertRecordedTones checks a finished recording of a two-party call:
// stereo, the recorded party's tone alone on channel 1 and the other
// party's alone on channel 2, no prompt or tone in either (R22), lasting
// between minLen and maxLen. It returns the recording's length.
func assertRecordedTones(t *testing.T, srv *server, rec recordingJSON, recordedHz, otherHz float64, minLen, maxLen time.Duration) time.Duration {
	t.Helper()
	info, chans := srv.download(rec)
	if info.Channels != 2 || len(chans) != 2 {
		t.Fatalf("recording has %d channels, want 2 (stereo)", info.Channels)
	}
	length := fileDuration(info.Frames, info.Rate)
	if length < minLen || length > maxLen {
		t.Fatalf("recording lasts %v, want %v..%v", length, minLen, maxLen)
	}
	// The first and last 300 ms are left out: the media starts and
	// stops there.
	from, to := 300*time.Millisecond, length-300*time.Millisecond
	assertTone(t, "recording channel 1 (recorded party)", chans[0], info.Rate, from, to, recordedHz, otherHz)
	assertTone(t, "recording channel 2 (other party)", chans[1], info.Rate, from, to, otherHz, recordedHz)
	assertRecordedOnly(t, "recording channel 1 (recorded party)", chans[0], info.Rate, from, to, recordedHz, gapsOf(rec, 1))
	assertRecordedOnly(t, "recording channel 2 (other party)", chans[1], info.Rate, from, to, otherHz, gapsOf(rec, 2))
	return length
}

// gapsOf is the silence the recorder says it inserted into a channel
// because no packet came in time (its streams' gapMs).
func gapsOf(rec recordingJSON, channel int) time.Duration {
	var d time.Duration
	for _, st := range rec.Callrec.Streams {
		if st.Channel == channel {
			d += time.Duration(st.Stats.GapMS) * time.Millisecond
		}
	}
	return d
}

// assertRecordedOnly is assertOnlyTone for a machine under load: the
// recorder fills with silence the time for which no packet arrived and
// reports it as gaps (gapMs). Silent 100 ms windows, and windows where
// the tone stops or starts at such silence, are allowed as long as the
// silence adds up to no more than the reported gaps (plus 100 ms for
// rounding); everything else is as strict: the wanted tone holds at
// least 98 % of each window's energy (baresip's ausine alone gives
// 99.99 % through PCMU; a prompt mixed in, speech averaging -15 dBFS
// against the tone's -10 dBFS, would take far more than 2 %) and no
// prompt tone is ever there (R22).
func assertRecordedOnly(t *testing.T, name string, ch []int16, rate int, from, to time.Duration, want float64, gaps time.Duration) {
	t.Helper()
	const step, sub = 100 * time.Millisecond, 10 * time.Millisecond
	var silent time.Duration
	for at := from; at+step <= to; at += step {
		w := window(ch, rate, at, at+step)
		for _, f := range []float64{prompt.BeepFreq, prompt.RefusalFreq} {
			if p := tone.Power(w, rate, f); p > 1e-4 {
				t.Errorf("%s: prompt tone %v Hz has power %.5f in %v-%v (R22)", name, f, p, at, at+step)
			}
		}
		edge := false
		for s := at; s+sub <= at+step; s += sub {
			if tone.RMS(window(ch, rate, s, s+sub)) < 0.01 {
				silent += sub
				edge = true
			}
		}
		rms := tone.RMS(w)
		if edge || rms < 0.01 {
			continue
		}
		// Power gives A² for a sine of amplitude A, whose mean square is A²/2.
		if share := tone.Power(w, rate, want) / 2 / (rms * rms); share < 0.98 {
			t.Errorf("%s: %v Hz holds %.0f%% of the energy in %v-%v, want >= 98%%: something else is in the channel", name, want, 100*share, at, at+step)
		}
	}
	if silent > gaps+100*time.Millisecond {
		t.Errorf("%s: %v of silence in %v-%v, the recorder reports %v of gaps: audio is missing", name, silent, from, to, gaps)
	} else if silent > 0 {
		t.Logf("%s: %v of silence, within the %v of gaps the recorder reports (packets late under load)", name, silent, gaps)
	}
}

// TestR17_R18_R22_InboundPSTNCompliance: the org plays the compliance
// announcement on inbound PSTN calls (R17). A PSTN caller (baresip as the
// trunk's peer, 660 Hz) calls Bob's DID; Bob (recorded Always, 1000 Hz)
// answers by himself. The caller hears the English compliance prompt,
// whole and first (early media before the answer, R18), then Bob; Bob
// hears the caller and no prompt; the recording starts at the answer and
// holds both tones on their channels and no prompt (R19, R22).
func TestR17_R18_R22_InboundPSTNCompliance(t *testing.T) {
	srv, o := startPhoneOrg(t, "Inbound Compliance Ltd")
	bob := o.person("Bob", "1002", "bob-Secret-2", "+4535351002")
	o.record(bob, "Always", nil)
	o.do("PUT", "/v1/telephony/config/callRecording/complianceAnnouncement", map[string]any{"inboundPSTNCallsEnabled": true}, 204)
	port := portBlock(t, 100)
	o.trunk(port)

	bobPhone := startRegistered(t, "bob", withSeconds(o.phone("1002", "bob-Secret-2", personHz), 30))
	comp := promptPCM(t, prompt.Compliance, "en_US")
	promptLen := fileDuration(int64(len(comp)), prompt.Rate)
	// The caller hangs up 5 s after the prompt (plus setup).
	seconds := int((promptLen + 6*time.Second) / time.Second)
	caller := trunkPeer(t, "PSTN caller", "+4512345678", port, pstnHz, "sip:+4535351002@"+o.sipAddr, seconds)
	caller.endTimedCall(seconds, bobPhone)

	// What the caller heard: the prompt, then Bob.
	hi, heard := caller.heard()
	m := assertHeardPrompt(t, "the PSTN caller", heard, hi.Rate, prompt.Compliance, "en_US")
	end := m.to
	runs := heardRuns(heard, hi.Rate, pstnHz, personHz)
	bobRuns := longRuns(runs, toneClass(personHz), 500*time.Millisecond, 0)
	if len(bobRuns) == 0 {
		t.Fatalf("the PSTN caller never heard Bob: %s", runsString(runs))
	}
	if bobRuns[0].from < end-40*time.Millisecond {
		t.Errorf("the caller heard Bob from %v, before the compliance prompt (%v-%v) ended: R18 wants it before the answer", bobRuns[0].from, m.from, m.to)
	}
	if got := total(runs, toneClass(personHz), end, end+time.Hour); got < 3*time.Second {
		t.Errorf("the caller heard Bob for %v after the prompt, want the rest of the call (>= 3 s): %s", got, runsString(runs))
	}
	if got := total(runs, clsSpeech, end+100*time.Millisecond, end+time.Hour); got > 100*time.Millisecond {
		t.Errorf("the caller heard %v of speech after the compliance prompt: a second announcement? %s", got, runsString(runs))
	}

	// What Bob heard: the caller only.
	assertPhoneHeardOnly(t, "Bob", bobPhone, 3*time.Second, pstnHz, personHz)

	// The recording: from the answer (R19), Bob on channel 1, no prompt
	// (R22): it lasts the talk after the prompt, not the prompt too.
	rec := srv.newRecording(map[string]bool{})
	talk := time.Duration(seconds)*time.Second - promptLen
	assertRecordedTones(t, srv, rec, personHz, pstnHz, talk-2*time.Second, talk+500*time.Millisecond)
}

// TestR18_OutboundPSTNComplianceAfterDelay: the org plays the compliance
// announcement on outbound PSTN calls with a 2 s delay (R17, R18). Alice
// (recorded Always, 1000 Hz) calls a PSTN number through the trunk; the
// called party (baresip as the trunk's peer, 660 Hz) answers and hears
// Alice for the delay, then the English prompt, then Alice again; Alice
// hears the called party and no prompt; the recording holds both tones
// and no prompt (R22).
func TestR18_OutboundPSTNComplianceAfterDelay(t *testing.T) {
	const delay = 2 * time.Second
	srv, o := startPhoneOrg(t, "Outbound Compliance Ltd")
	alice := o.person("Alice", "1001", "alice-Secret-1")
	o.record(alice, "Always", nil)
	o.do("PUT", "/v1/telephony/config/callRecording/complianceAnnouncement", map[string]any{"outboundPSTNCallsEnabled": true,
		"outboundPSTNCallsDelayEnabled": true, "delayInSeconds": int(delay / time.Second)}, 204)
	port := portBlock(t, 100)
	o.trunk(port)

	callee := trunkPeer(t, "PSTN callee", "+4587654321", port, pstnHz, "", 40)
	comp := promptPCM(t, prompt.Compliance, "en_US")
	promptLen := fileDuration(int64(len(comp)), prompt.Rate)
	seconds := int((delay + promptLen + 4*time.Second) / time.Second)
	alicePhone := startPhone(t, "alice", withDial(withSeconds(o.phone("1001", "alice-Secret-1", personHz), seconds), "sip:+4587654321@"+o.sipAddr))
	alicePhone.endTimedCall(seconds, callee)

	// What the called party heard: Alice for the delay, the prompt, Alice.
	hi, heard := callee.heard()
	m := assertHeardPrompt(t, "the PSTN callee", heard, hi.Rate, prompt.Compliance, "en_US")
	at, end := m.at, m.to
	runs := heardRuns(heard, hi.Rate, pstnHz, personHz)
	first := longRuns(runs, toneClass(personHz), 200*time.Millisecond, 0)
	if len(first) == 0 || first[0].from > at {
		t.Fatalf("the callee did not hear Alice before the prompt at %v: %s", at, runsString(runs))
	}
	// The heard file starts with the answer's media: Alice's tone until
	// the prompt is the delay.
	waited := at - first[0].from
	t.Logf("the callee heard Alice for %v, then the prompt (%v-%v)", waited, m.from, m.to)
	if waited < delay-500*time.Millisecond || waited > delay+800*time.Millisecond {
		t.Errorf("the prompt began %v after Alice's audio, want after the %v delay (R18): %s", waited, delay, runsString(runs))
	}
	if got := total(runs, toneClass(personHz), end, end+time.Hour); got < 2*time.Second {
		t.Errorf("the callee heard Alice for %v after the prompt, want the rest of the call: %s", got, runsString(runs))
	}

	// What Alice heard: the called party only.
	assertPhoneHeardOnly(t, "Alice", alicePhone, 3*time.Second, pstnHz, personHz)

	// The recording: the whole call from the answer, no prompt (R22).
	rec := srv.newRecording(map[string]bool{})
	assertRecordedTones(t, srv, rec, personHz, pstnHz, time.Duration(seconds)*time.Second-2*time.Second, time.Duration(seconds)*time.Second+500*time.Millisecond)
}

// withSeconds sets a phone's -t.
func withSeconds(c phoneConfig, s int) phoneConfig { c.seconds = s; return c }

// withDial makes a phone dial uri at start.
func withDial(c phoneConfig, uri string) phoneConfig { c.dial = uri; return c }
