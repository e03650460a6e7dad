package e2e

import (
	"testing"
	"time"

	"github.com/callrec/callrec/media/prompt"
)

// voiceMessageJSON is the part of a voice message (GET
// /v1/telephony/voiceMessages) the tests read.
type voiceMessageJSON struct {
	ID           string `json:"id"`
	Duration     int    `json:"duration"`
	CallingParty struct {
		Name   string `json:"name"`
		Number string `json:"number"`
	} `json:"callingParty"`
	Read bool `json:"read"`
}

// userCaller makes an API token of role user for a person of the org
// and returns a caller that uses it.
func (o *phoneOrg) userCaller(personID, email string) caller {
	o.t.Helper()
	tok := o.do("POST", "/v1/tokens", map[string]any{"name": email, "role": "user", "personId": personID, "email": email}, 200)
	return caller{o.t, o.srv, str(tok, "token"), email}
}

// voiceMessages lists the token's person's voice messages.
func (c caller) voiceMessages() []voiceMessageJSON {
	c.t.Helper()
	return listItems[voiceMessageJSON](c, "/v1/telephony/voiceMessages", "voice messages")
}

// raw does a GET-like request with the caller's token and returns the
// body, failing unless the status is want.
func (c caller) raw(method, path string, want int) []byte {
	c.t.Helper()
	return c.send(method, path, nil, "", want)
}

// allRecordings lists every recording of the server (any status).
func (s *server) allRecordings() []recordingJSON {
	s.t.Helper()
	var list struct {
		Items []recordingJSON `json:"items"`
	}
	if code, _, body := s.api("GET", "/v1/admin/convergedRecordings?max=100", nil, &list); code != 200 {
		s.t.Fatalf("list recordings: %d %s", code, body)
	}
	return list.Items
}

// TestR26_VoicemailThroughTheBinary: Bob's voicemail takes unanswered
// calls; Bob records Always and his phone is not registered. Alice (660
// Hz, not recorded) calls him: callrec answers, she hears the English
// voicemail prompt and then the beep (1400 Hz), her tone goes on until
// she hangs up. Bob (his user token) then lists one message from Alice's
// extension lasting about the time after the beep, whose audio is her
// tone alone: no prompt, no beep. With recordVoicemail on (R26) the
// message is also recorded, owned by Bob, with his channel silent and
// Alice on channel 2 and no prompt in it (R22); with it off a second call
// leaves a second message and no recording and no recording event.
func TestR26_VoicemailThroughTheBinary(t *testing.T) {
	srv, o := startPhoneOrg(t, "Voicemail Ltd")
	o.person("Alice", "1001", "alice-Secret-1")
	bob := o.person("Bob", "1002", "bob-Secret-2")
	o.do("PUT", "/v1/people/"+bob+"/features/voicemail", map[string]any{"enabled": true,
		"sendUnansweredCalls": map[string]any{"enabled": true, "numberOfRings": 1}, "sendBusyCalls": map[string]any{"enabled": true}}, 204)
	bobUser := o.userCaller(bob, "bob@callrec.example")
	es := o.subscribe(t)

	vm := promptPCM(t, prompt.Voicemail, "en_US")
	vmLen := fileDuration(int64(len(vm)), prompt.Rate)
	beepLen := fileDuration(int64(len(prompt.Beep(prompt.Rate))), prompt.Rate)
	seconds := int((vmLen + beepLen + 4*time.Second) / time.Second)
	spoken := time.Duration(seconds)*time.Second - vmLen - beepLen // what Alice says after the beep

	for i, tc := range []struct {
		name   string
		record bool
	}{
		{"recordVoicemail on", true},
		{"recordVoicemail off", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer o.reportTo(t, &bobUser)()
			o.record(bob, "Always", map[string]any{"recordVoicemailEnabled": tc.record})
			recsBefore := len(srv.allRecordings())
			eventsBefore := len(es.all())

			alice := startPhone(t, "alice", withDial(withSeconds(o.phone("1001", "alice-Secret-1", toneLow), seconds), "sip:1002@"+o.sipAddr))
			alice.wait(time.Duration(seconds+15) * time.Second)
			if !alice.established() {
				t.Fatal("Alice's call was not answered by voicemail")
			}

			// What Alice heard: the voicemail prompt, then the beep.
			hi, heard := alice.heard()
			m := assertHeardPrompt(t, "Alice", heard, hi.Rate, prompt.Voicemail, "en_US")
			runs := heardRuns(heard, hi.Rate, toneLow)
			beeps := longRuns(runs, toneClass(prompt.BeepFreq), beepLen/2, m.to-40*time.Millisecond)
			if len(beeps) != 1 || beeps[0].from > m.to+time.Second {
				t.Errorf("Alice heard beeps %v after the prompt ended at %v, want one right after it: %s", beeps, m.to, runsString(runs))
			}

			// Bob's mailbox: one more message, from Alice, her tone only.
			var msgs []voiceMessageJSON
			waitFor(t, 15*time.Second, "the voice message in Bob's mailbox", func() bool {
				msgs = bobUser.voiceMessages()
				return len(msgs) == i+1
			})
			msg := msgs[0] // newest first
			if msg.CallingParty.Number != "1001" || msg.Read {
				t.Errorf("message %+v, want an unread one from 1001 (Alice)", msg)
			}
			if d := time.Duration(msg.Duration) * time.Second; d < spoken-time.Second || d > spoken+2*time.Second {
				t.Errorf("message lasts %v (rounded up), Alice spoke %v after the beep", d, spoken)
			}
			pcm, rate, err := prompt.ParseWAV(bobUser.raw("GET", "/v1/telephony/voiceMessages/"+msg.ID+"/audio", 200))
			if err != nil {
				t.Fatalf("message audio: %v", err)
			}
			ml := fileDuration(int64(len(pcm)), rate)
			if ml < spoken-time.Second {
				t.Fatalf("message audio lasts %v, Alice spoke %v", ml, spoken)
			}
			assertTone(t, "the message", pcm, rate, 200*time.Millisecond, ml-300*time.Millisecond, toneLow, prompt.BeepFreq)
			assertRecordedOnly(t, "the message", pcm, rate, 100*time.Millisecond, ml-300*time.Millisecond, toneLow, 0)
			if f := findPrompt(pcm, vm, rate); f.fraction >= 0.3 {
				t.Errorf("the message holds %.0f%% of the voicemail prompt", 100*f.fraction)
			}

			// A recording of the message starts when callrec answers (its
			// started event comes seconds before the message is listed) and
			// is listed once finalised.
			if !tc.record {
				if evs := es.all()[eventsBefore:]; len(evs) != 0 {
					t.Errorf("recording events %+v for a message not to be recorded (R26)", evs)
				}
				if n := len(srv.allRecordings()); n != recsBefore {
					t.Errorf("%d recordings after the message, %d before: recordVoicemail is off (R26)", n, recsBefore)
				}
				return
			}
			if evs := es.all()[eventsBefore:]; len(evs) == 0 || evs[0].RecordingState != "started" || evs[0].PersonID != bob {
				t.Errorf("recording events %+v, want Bob's started first", evs)
			}
			rec := srv.newRecording(map[string]bool{})
			if rec.OwnerID != bob {
				t.Errorf("the message's recording is owned by %q, want Bob %q", rec.OwnerID, bob)
			}
			info, chans := srv.download(rec)
			length := fileDuration(info.Frames, info.Rate)
			if info.Channels != 2 || length < spoken {
				t.Fatalf("recording: %d channels, %v; want stereo of at least the %v message", info.Channels, length, spoken)
			}
			assertSilent(t, "recording channel 1 (Bob, absent)", chans[0], info.Rate, 300*time.Millisecond, length-300*time.Millisecond)
			assertRecordedOnly(t, "recording channel 2 (Alice)", chans[1], info.Rate, 300*time.Millisecond, length-300*time.Millisecond, toneLow, gapsOf(rec, 2))
		})
	}
}
