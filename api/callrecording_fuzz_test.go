package api

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

// FuzzCallRecordingPutBody feeds PUT bodies of §9.3 through the decoding
// and the partial update the handlers apply: no input may panic, and a
// body that is accepted must leave settings whose enums are ones callrec
// stores and renders back in Webex's spelling (D5, D6).
func FuzzCallRecordingPutBody(f *testing.F) {
	for _, seed := range []string{
		`{"enabled": true, "record": "Always with Pause/Resume", "notification": {"enabled": true, "type": "Play Announcement"}, "startStopAnnouncementEnabled": true, "recordVoicemailEnabled": true, "repeat": {"enabled": true}, "startStopAnnouncement": {"internalCallsEnabled": true, "pstnCallsEnabled": true}}`,
		`{"enabled": true, "record": "On Demand", "notification": {"type": null, "enabled": true}}`,
		`{"enabled": false, "record": "Never", "notification": {"type": "None", "enabled": false}, "repeat": {"interval": 15, "enabled": false}}`,
		`{"record": "On Demand with User Initiated Start", "selectiveCallRecordingSettings": {"recordInboundInternalCallsEnabled": false, "recordInboundExternalCallsEnabled": true, "recordOutboundInternalCallsEnabled": false, "recordOutboundExternalCallsEnabled": true}}`,
		`{"enabled": true, "record": "Always", "serviceProvider": "WSWYZ25455", "externalGroup": "WSWYZ25455L31161", "externalIdentifier": "a34iidrh5o@64941297.int10.bcld.webex.com"}`,
		`{"repeat": {"interval": 1800}}`,
		`{"notification": {"type": "Beep"}}`,
		`{"record": "always"}`,
		`{}`,
		`[]`,
		`{"enabled": "true"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body callRecordingPersonPutBody
		if json.Unmarshal(data, &body) != nil {
			return
		}
		prev := callrec.DefaultUserRecording()
		next, err := crApplyUser(prev, &body)
		if err != nil {
			if next != prev {
				t.Fatalf("refused body changed the settings: %+v", next)
			}
			return
		}
		if !slices.Contains(policy.Modes, next.Mode) || !slices.Contains(policy.Notifications, next.Notification) {
			t.Fatalf("accepted body stored mode %q notification %q", next.Mode, next.Notification)
		}
		if next.NotificationEnabled && next.Notification == callrec.NotifyNone {
			t.Fatal("D6: notification enabled without a type")
		}
		if _, ok := crRecordIn[recordSpelling(next.Mode)]; !ok {
			t.Fatalf("mode %q does not render to an accepted spelling", next.Mode)
		}
		if body.Record != nil && *body.Record != crRecordLegacy && recordSpelling(next.Mode) != *body.Record {
			t.Fatalf("record %q stored as %q", *body.Record, next.Mode)
		}
		_ = policy.CheckUserRecording(nil, policy.Target{Person: &callrec.Person{ID: "p", License: callrec.LicenseProfessional}}, next)
	})
}
