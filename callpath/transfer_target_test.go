package callpath

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media/prompt"
)

// TestTransferToVirtualLineOrHuntGroup: a PSTN caller reaches Bob (not
// recorded), who transfers the caller blindly to the virtual line
// "Support" (1500, de_DE, recorded always with start announcements on
// PSTN calls) assigned to Alice, or to the hunt group "Sales" (1600,
// fr_FR) whose member Alice is recorded always with start announcements
// on PSTN calls. Alice's device answers. As for a call placed to the line
// or group: Server.Calls lists the call for Alice (the line's id for the
// line, R31), the recording is the line's (R31) or Alice's, it starts at
// her answer (R19), and the caller hears the start prompt in the line's
// or group's language (R21), not Alice's English.
func TestTransferToVirtualLineOrHuntGroup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, to, lang, owner, lineID string
		setup                         func(*testing.T, *recEnv)
	}{
		{"virtual line", "1500", "de_DE", lineSupport, lineSupport, func(t *testing.T, r *recEnv) {
			putDirectory(t, r.env, func(tx directory.Tx) error {
				rec := callrec.DefaultUserRecording()
				rec.Enabled, rec.Mode, rec.StartStopPSTN = true, callrec.ModeAlways, true
				return directory.VirtualLines.Put(t.Context(), tx, &callrec.VirtualLine{ID: lineSupport, OrgID: r.org.ID,
					DisplayName: "Support", Extension: "1500", Language: "de_DE", People: []string{personAlice}, Recording: rec})
			})
		}},
		{"hunt group", "1600", "fr_FR", personAlice, "", func(t *testing.T, r *recEnv) {
			putDirectory(t, r.env, func(tx directory.Tx) error {
				alice, err := directory.People.Get(t.Context(), tx, r.org.ID, personAlice)
				if err != nil {
					return err
				}
				alice.Language = "en_US"
				alice.Recording = callrec.DefaultUserRecording()
				alice.Recording.Enabled, alice.Recording.Mode, alice.Recording.StartStopPSTN = true, callrec.ModeAlways, true
				if err := directory.People.Put(t.Context(), tx, alice); err != nil {
					return err
				}
				return directory.Features.Put(t.Context(), tx, &callrec.Feature{ID: featureHunt, OrgID: r.org.ID, Kind: callrec.FeatureHuntGroup,
					Name: "Sales", Extension: "1600", Language: "fr_FR", Members: []string{personAlice}})
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startRecEnvOpts(t, recOpts{mode: callrec.ModeNever})
			tc.setup(t, r)
			bob, alice := newSigPhone(t, "bob"), newSigPhone(t, "alice")
			bob.register(r.env, "bob")
			alice.register(r.env, "alice")
			bobRTP, aliceRTP, gwRTP := newRTPPeer(t, 440), newRTPPeer(t, 1000), newRTPPeer(t, 660)
			bob.answerKeep(bobRTP)
			alice.answerKeep(aliceRTP)
			dc, err := r.trunk.dial(r.env, "", "+4535351002", gwRTP, nil)
			if err != nil {
				t.Fatal(err)
			}
			bobDS := bob.dialog(t)
			bobRTP.heardFor(t, 500*time.Millisecond)
			if code := refer(t, r.env, bobDS, tc.to); code != sip.StatusAccepted {
				t.Fatalf("REFER got %d, want 202", code)
			}
			if frags := bob.sipfrags(t); frags[len(frags)-1] != "SIP/2.0 200 OK" {
				t.Fatalf("sipfrags %q, want 200 OK last", frags)
			}
			if inv := <-alice.invites; inv.To().Address.User != tc.to {
				t.Errorf("Alice's device was rung for %q, want %s", inv.To().Address.User, tc.to)
			}
			alice.dialog(t)
			r.waitState(t, 1, StateStarted)
			if got := r.states(); got[0] != tc.owner+":started" {
				t.Errorf("events %v, want %s's recording started", got, tc.owner)
			}
			var mine *CallInfo
			calls := r.srv.Calls(r.org.ID)
			for i := range calls {
				if calls[i].PersonID == personAlice {
					mine = &calls[i]
				}
			}
			if mine == nil {
				t.Fatalf("calls %+v: none listed for Alice, whose device answered", calls)
			}
			if mine.VirtualLineID != tc.lineID || mine.Personality != PersonalityTerminator || mine.State != CallConnected ||
				mine.Remote.CallType != CallTypeExternal {
				t.Errorf("Alice's view %+v, want a connected call from the PSTN, line %q", *mine, tc.lineID)
			}
			if mine.RecordingState != RecordingStarted {
				t.Errorf("Alice's view: recording %s, want started", mine.RecordingState)
			}
			for _, c := range calls {
				if c.PersonID == personBob {
					t.Errorf("the call is still listed for Bob, who transferred it: %+v", c)
				}
			}
			gwRTP.waitPrompt(t, prompt.Start, tc.lang)
			if m := gwRTP.promptMatch(prompt.Start, "en_US"); m > 0.5 {
				t.Errorf("the caller heard the en_US start prompt (match %.2f), want only the %s one", m, tc.lang)
			}
			recs, _ := r.finish(t, dc)
			if len(recs) != 1 || recs[0].OwnerID != tc.owner {
				t.Fatalf("recordings %+v, want one of %s", recs, tc.owner)
			}
		})
	}
}
