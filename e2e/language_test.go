package e2e

import (
	"testing"
	"time"

	"github.com/callrec/callrec/media/prompt"
)

// TestR21_VirtualLineAndHuntGroupLanguage: R21 picks the announcement
// language of the line or feature called, not the answering person's. A
// virtual line (extension 2001, de_DE, recorded Always with the start
// announcement) is assigned to Dave (en_US); a hunt group (extension
// 3001, fr_FR) has Erin (en_US, recorded Always with the start
// announcement) as its member. Alice (not recorded) calls each: Dave or
// Erin answers, recording starts and Alice hears the start announcement
// in German, then in French, and in no other language; she hears the
// member's tone after it; the recording holds no prompt (R22) and is
// owned by the line, then by Erin.
func TestR21_VirtualLineAndHuntGroupLanguage(t *testing.T) {
	srv, o := startPhoneOrg(t, "Languages GmbH")
	o.person("Alice", "1001", "alice-Secret-1")
	dave := o.person("Dave", "1004", "dave-Secret-4")
	erin := o.person("Erin", "1005", "erin-Secret-5")
	for _, id := range []string{dave, erin} {
		o.do("PUT", "/v1/people/"+id, map[string]any{"announcementLanguage": "en_US"}, 200)
	}
	line := str(o.do("POST", "/v1/telephony/config/virtualLines", map[string]any{"firstName": "Sales", "lastName": "Line", "extension": "2001",
		"locationId": o.location, "announcementLanguage": "de_DE", "assignedPeople": []string{dave}}, 200), "id")
	o.do("PUT", "/v1/telephony/config/virtualLines/"+line+"/callRecording", map[string]any{"enabled": true, "record": "Always",
		"startStopAnnouncement": startStopOn["startStopAnnouncement"]}, 204)
	o.do("POST", "/v1/telephony/config/locations/"+o.location+"/huntGroups", map[string]any{"name": "Support", "extension": "3001",
		"languageCode": "fr_FR", "agents": []map[string]string{{"id": erin}}}, 200)
	o.record(erin, "Always", startStopOn)

	seen := map[string]bool{}
	for _, tc := range []struct {
		name, ext, lang   string
		member, pass, own string // the answering person's extension and password, and the recording's owner
		memberName        string
	}{
		{"virtual line de_DE", "2001", "de_DE", "1004", "dave-Secret-4", line, "dave"},
		{"hunt group fr_FR", "3001", "fr_FR", "1005", "erin-Secret-5", erin, "erin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer o.reportTo(t)()
			start := promptPCM(t, prompt.Start, tc.lang)
			startLen := fileDuration(int64(len(start)), prompt.Rate)
			member := startRegistered(t, tc.memberName, withSeconds(o.phone(tc.member, tc.pass, toneHigh), 60))
			seconds := int((startLen + 4*time.Second) / time.Second)
			alice := startPhone(t, "alice", withDial(withSeconds(o.phone("1001", "alice-Secret-1", toneLow), seconds), "sip:"+tc.ext+"@"+o.sipAddr))
			alice.endTimedCall(seconds, member)

			hi, heard := alice.heard()
			m := assertHeardPrompt(t, "Alice", heard, hi.Rate, prompt.Start, tc.lang)
			runs := heardRuns(heard, hi.Rate, toneLow, toneHigh)
			if got := total(runs, toneClass(toneHigh), m.to, time.Hour); got < time.Second {
				t.Errorf("Alice heard the member for %v after the announcement, want the rest of the call: %s", got, runsString(runs))
			}

			rec := srv.newRecording(seen)
			if rec.OwnerID != tc.own {
				t.Errorf("the recording is owned by %q, want %q", rec.OwnerID, tc.own)
			}
			info, chans := srv.download(rec)
			length := fileDuration(info.Frames, info.Rate)
			if info.Channels != 2 || length < 2*time.Second {
				t.Fatalf("recording: %d channels, %v, want stereo of the call", info.Channels, length)
			}
			// The announcement plays while recording runs; R22 keeps it out.
			assertRecordedOnly(t, "recording channel 1 (member)", chans[0], info.Rate, 300*time.Millisecond, length-300*time.Millisecond, toneHigh, gapsOf(rec, 1))
			assertRecordedOnly(t, "recording channel 2 (Alice)", chans[1], info.Rate, 300*time.Millisecond, length-300*time.Millisecond, toneLow, gapsOf(rec, 2))
		})
	}
}
