package callpath

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/media/tone"
)

// fakeMailbox keeps the deposited messages.
type fakeMailbox struct {
	mu   sync.Mutex
	msgs []callrec.VoiceMessage
	pcm  [][]int16
}

func (f *fakeMailbox) Deposit(_ context.Context, m callrec.VoiceMessage, pcm []int16) (callrec.VoiceMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m.ID = "msg-1"
	f.msgs = append(f.msgs, m)
	f.pcm = append(f.pcm, append([]int16(nil), pcm...))
	return m, nil
}

func (f *fakeMailbox) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.msgs)
}

// TestR26_Voicemail: a PSTN caller (1000 Hz) calls Bob's DID; Bob's
// voicemail is on. Unanswered (his device rings past the bound) or busy
// (his device refuses with 486), the call goes to voicemail: callrec
// answers, the caller hears the voicemail prompt in Bob's language (da_DK,
// R21) and a beep, talks, presses #, and callrec hangs up. The mailbox
// gets the caller's audio (1000 Hz, no prompt) for Bob. R26: with
// recordVoicemail on, the message is recorded over SIPREC too, owned by
// Bob, his channel silent and the caller's holding only the caller's tone
// (no prompt, R22); with it off, the recorder gets no session at all.
func TestR26_Voicemail(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		busy     bool
		recordVM bool
	}{
		{"unanswered and recorded", false, true},
		{"busy and not recorded", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mb := &fakeMailbox{}
			r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways,
				bob:    func(u *callrec.UserRecording) { u.RecordVoicemail = tc.recordVM },
				server: func(s *Server) { s.deps.Mailbox = mb }})
			putDirectory(t, r.env, func(tx directory.Tx) error {
				bob, err := directory.People.Get(t.Context(), tx, r.org.ID, personBob)
				if err != nil {
					return err
				}
				bob.Language = "da_DK"
				bob.Voicemail = &callrec.VoicemailSettings{Enabled: true, SendUnanswered: !tc.busy, UnansweredRings: 1, SendBusy: tc.busy}
				return directory.People.Put(t.Context(), tx, bob)
			})
			bob := newUA(t, "bob")
			bob.register(r.env, "bob")
			if !tc.busy {
				bob.ringForever()
			}
			gwRTP := newRTPPeer(t, 1000)
			dialled := time.Now()
			_, err := r.trunk.dial(r.env, "+4587654321", "+4535351002", gwRTP, nil)
			if err != nil {
				t.Fatalf("the voicemail did not answer: %v", err)
			}
			if d := time.Since(dialled); !tc.busy && d < 2500*time.Millisecond {
				t.Errorf("answered after %s, want after the 3 s ring bound", d)
			}
			gwRTP.waitPrompt(t, prompt.Voicemail, "da_DK")
			if m := gwRTP.promptMatch(prompt.Voicemail, "en_US"); m > 0.5 {
				t.Errorf("caller heard the en_US voicemail prompt (match %.2f), want Bob's da_DK", m)
			}
			vm, _, _ := prompt.Get(prompt.Voicemail, "da_DK")
			gwRTP.waitHeard(t, time.Duration(len(vm))*time.Second/prompt.Rate+200*time.Millisecond)
			beeps := func() int { return len(gwRTP.runsOf(fmt.Sprint(prompt.BeepFreq), 5, dialled)) }
			waitUntil(t, "the beep", func() bool { return beeps() > 0 })
			time.Sleep(1500 * time.Millisecond) // the caller's message: 1.5 s of tone
			gwRTP.press(t, "#")
			select {
			case <-r.trunk.byes:
			case <-time.After(5 * time.Second):
				t.Fatal("callrec did not hang up after #")
			}
			waitUntil(t, "the deposit", func() bool { return mb.count() == 1 })
			mb.mu.Lock()
			m, pcm := mb.msgs[0], mb.pcm[0]
			mb.mu.Unlock()
			if m.PersonID != personBob || m.OrgID != r.org.ID || m.CallerNumber != "+4587654321" {
				t.Errorf("message %+v, want one for Bob with the caller's number", m)
			}
			if secs := float64(len(pcm)) / prompt.Rate; secs < 1.2 || secs > 4 {
				t.Errorf("message is %.2f s, want the ~1.5 s after the beep", secs)
			}
			if f, _ := tone.Dominant(pcm, prompt.Rate, toneSet); f != 1000 && len(pcm) > 0 {
				t.Errorf("message holds %v Hz, want the caller's 1000", f)
			}
			if c, at, ok := foreign(pcm, "1000"); ok {
				t.Errorf("message has %s at %s: a prompt or the beep reached it", c, at)
			}
			recs, audio := r.finish(t, nil)
			if !tc.recordVM {
				if len(recs) != 0 {
					t.Errorf("%d recordings with recordVoicemail off, want none (R26)", len(recs))
				}
				if got := r.states(); len(got) != 0 {
					t.Errorf("recording events %v with recordVoicemail off", got)
				}
				return
			}
			if len(recs) != 1 || recs[0].OwnerID != personBob {
				t.Fatalf("recordings %v, want one of Bob's voicemail (R26)", recs)
			}
			if rms := tone.RMS(audio[0][0]); rms > 0.01 {
				t.Errorf("Bob's channel has RMS %.3f, want silence: he never took the call", rms)
			}
			if c, at, ok := foreign(audio[0][1], "1000"); ok {
				t.Errorf("caller's channel has %s at %s, want only the caller's 1000 Hz (R22)", c, at)
			}
			mid := len(audio[0][1]) / 2
			if f, _ := tone.Dominant(audio[0][1][max(0, mid-800):mid+800], prompt.Rate, toneSet); f != 1000 {
				t.Errorf("caller's channel has %v Hz, want 1000", f)
			}
		})
	}
}
