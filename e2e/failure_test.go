package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec/internal/testnet"
	"github.com/callrec/callrec/media/prompt"
)

// TestX1_ProviderDown: the org's provider is an external one whose
// SIPREC target is a port nobody listens on. Alice (recorded Always)
// calls Bob once per failure behaviour of the org (X1): proceeding
// without an announcement, the parties just talk and hear no prompt;
// proceeding with an announcement, both hear the English "cannot be
// recorded" prompt and go on talking; ending the call, both hear the
// "will now end" prompt and callrec hangs up both phones. Each call
// sends a failed event (R34) and leaves no recording.
func TestX1_ProviderDown(t *testing.T) {
	srv, o := startPhoneOrg(t, "Provider Down Ltd")
	dead := testnet.FreePort(t)
	prov := o.api.do("POST", "/v1/telephony/config/callRecording/providers", map[string]any{"name": "Down Recorders", "plans": []string{"basic"},
		"siprecTarget": fmt.Sprintf("sip:127.0.0.1:%d;transport=tcp", dead), "termsOfServiceUrl": "https://down.example/tos"}, 200)
	vendor := str(prov, "id")
	o.acceptTerms(vendor)
	o.do("PUT", "/v1/telephony/config/callRecording/vendor", map[string]any{"vendorId": vendor}, 200)
	alice := o.person("Alice", "1001", "alice-Secret-1")
	o.person("Bob", "1002", "bob-Secret-2")
	o.record(alice, "Always", nil)
	es := o.subscribe(t)

	for i, tc := range []struct {
		behaviour string
		kind      string // the prompt both hear, "" for none
		ends      bool
	}{
		{"PROCEED_WITH_CALL_NO_ANNOUNCEMENT", "", false},
		{"PROCEED_CALL_WITH_ANNOUNCEMENT", prompt.FailureProceed, false},
		{"END_CALL_WITH_ANNOUNCEMENT", prompt.FailureEnd, true},
	} {
		t.Run(tc.behaviour, func(t *testing.T) {
			defer o.reportTo(t)()
			o.do("PUT", "/v1/telephony/config/callRecording/vendor", map[string]any{"vendorId": vendor, "failureBehavior": tc.behaviour}, 200)
			c := startInternalCall(t, o)
			ev, _ := es.await(t, i+1, "failed")
			if ev.PersonID != alice || ev.CallID == "" || ev.Reason == "" {
				t.Errorf("failed event %+v, want Alice's call with a reason", ev)
			}
			var promptLen time.Duration
			if tc.kind != "" {
				promptLen = fileDuration(int64(len(promptPCM(t, tc.kind, "en_US"))), prompt.Rate)
			}
			if tc.ends {
				// callrec ends the call after the prompt; the phones
				// (running 60 s) are still up.
				waitFor(t, promptLen+10*time.Second, "callrec ending the call on both phones", func() bool { return c.alice.callEnded() && c.bob.callEnded() })
				for _, p := range []*phone{c.alice, c.bob} {
					select {
					case <-p.done:
						t.Fatalf("%s quit: the call ended by its -t timer, not by callrec", p.name)
					default:
					}
					p.stop()
				}
			} else {
				time.Sleep(promptLen + 2*time.Second) // talk on
				c.hangUp(t)
			}

			for _, p := range []struct {
				p          *phone
				want, sent float64
			}{{c.alice, toneHigh, toneLow}, {c.bob, toneLow, toneHigh}} {
				if tc.kind == "" {
					assertPhoneHeardOnly(t, p.p.name, p.p, time.Second, p.want, p.sent)
					continue
				}
				hi, heard := p.p.heard()
				runs := heardRuns(heard, hi.Rate, toneLow, toneHigh)
				m := assertHeardPrompt(t, p.p.name, heard, hi.Rate, tc.kind, "en_US")
				after := total(runs, toneClass(p.want), m.to, m.to+time.Hour)
				switch {
				case tc.ends && after > 300*time.Millisecond:
					t.Errorf("%s heard the other party for %v after the prompt, want the call to end: %s", p.p.name, after, runsString(runs))
				case !tc.ends && after < time.Second:
					t.Errorf("%s heard the other party for %v after the prompt, want the call to go on: %s", p.p.name, after, runsString(runs))
				}
			}
		})
	}
	if got := strings.Join(es.states(), ","); got != "failed,failed,failed" {
		t.Errorf("events %s, want one failed per call", got)
	}
	var list struct {
		Items []recordingJSON `json:"items"`
	}
	if code, _, body := srv.api("GET", "/v1/admin/convergedRecordings?max=100", nil, &list); code != 200 || len(list.Items) != 0 {
		t.Errorf("recordings %d %s, want none: the provider is down", code, body)
	}
}
