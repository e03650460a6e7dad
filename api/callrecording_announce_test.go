package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/callrec/callrec"
)

func TestR17_R18_OrgComplianceAnnouncement(t *testing.T) {
	f := newCRFixture(t)
	path := crBase + "/complianceAnnouncement"
	var got callRecordingComplianceJSON
	f.get(crTokReadOnly, path, &got)
	if got != (callRecordingComplianceJSON{}) {
		t.Errorf("R17 defaults = %+v, want everything off", got)
	}
	raw := f.do(crTokAdmin, "GET", path, "").Body.String()
	for _, k := range []string{"inboundPSTNCallsEnabled", "outboundPSTNCallsEnabled", "outboundPSTNCallsDelayEnabled", "delayInSeconds", "useCustomAnnouncementEnabled"} {
		if !strings.Contains(raw, `"`+k+`"`) {
			t.Errorf("GET lacks %s: %s", k, raw)
		}
	}

	f.put(crTokAdmin, path, `{"inboundPSTNCallsEnabled": true, "outboundPSTNCallsEnabled": true, "outboundPSTNCallsDelayEnabled": true, "delayInSeconds": 10}`, http.StatusNoContent)
	f.get(crTokAdmin, path, &got)
	want := callRecordingComplianceJSON{InboundPSTNCallsEnabled: true, OutboundPSTNCallsEnabled: true, OutboundPSTNCallsDelayEnabled: true, DelayInSeconds: 10}
	if got != want {
		t.Errorf("after PUT = %+v, want %+v", got, want)
	}
	if c := f.org(f.orgA.ID).Recording.Compliance; c != (callrec.ComplianceAnnouncement{Inbound: true, Outbound: true, OutboundDelay: true, DelaySeconds: 10}) {
		t.Errorf("stored = %+v", c)
	}
	if a := f.audits(auditOrgRecording, f.orgA.ID); len(a) != 1 || !strings.Contains(string(a[0].After), `"delaySeconds":10`) {
		t.Errorf("audit = %+v", a)
	}
	t.Run("partial update keeps the rest", func(t *testing.T) {
		f.put(crTokAdmin, path, `{"outboundPSTNCallsEnabled": false}`, http.StatusNoContent)
		f.get(crTokAdmin, path, &got)
		want.OutboundPSTNCallsEnabled = false
		if got != want {
			t.Errorf("after partial PUT = %+v, want %+v", got, want)
		}
	})

	orgFile := f.addFile(f.orgA.ID, "", "Recorded line notice")
	locFile := f.addFile(f.orgA.ID, f.hq.ID, "HQ notice")
	otherOrgFile := f.addFile(f.orgB.ID, "", "Globex notice")
	for _, tc := range []struct {
		name   string
		body   string
		status int
		parts  []string
	}{
		{"R18 delay above 60", `{"delayInSeconds": 61}`, 400, []string{"delayInSeconds", "0..60", "R18"}},
		{"R18 negative delay", `{"delayInSeconds": -1}`, 400, []string{"delayInSeconds", "0..60"}},
		{"D9 delay is an integer", `{"delayInSeconds": 10.5}`, 400, []string{"delayInSeconds"}},
		{"delay is a number", `{"delayInSeconds": "ten"}`, 400, []string{"delayInSeconds"}},
		{"custom needs a file", `{"useCustomAnnouncementEnabled": true}`, 400, []string{"audioAnnouncementFileId", "required"}},
		{"unknown file", `{"useCustomAnnouncementEnabled": true, "audioAnnouncementFileId": "` + webexID(idAnnouncement, "00000000-0000-4000-8000-00000000000f") + `"}`, 404, []string{"audioAnnouncementFileId", "not found"}},
		{"another org's file", `{"useCustomAnnouncementEnabled": true, "audioAnnouncementFileId": "` + webexID(idAnnouncement, otherOrgFile) + `"}`, 404, []string{"audioAnnouncementFileId"}},
		{"a location's file at org level", `{"useCustomAnnouncementEnabled": true, "audioAnnouncementFileId": "` + webexID(idAnnouncement, locFile) + `"}`, 404, []string{"audioAnnouncementFileId"}},
		{"read-only admin", `{"inboundPSTNCallsEnabled": false}`, 403, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := crTokAdmin
			if tc.status == 403 {
				tok = crTokReadOnly
			}
			wantError(t, f.do(tok, "PUT", path, tc.body), tc.status, tc.parts...)
		})
	}
	t.Run("custom announcement file", func(t *testing.T) {
		// Padded ids are accepted (§1.4).
		id := webexID(idAnnouncement, orgFile) + "=="
		f.put(crTokAdmin, path, `{"useCustomAnnouncementEnabled": true, "audioAnnouncementFileId": "`+id+`"}`, http.StatusNoContent)
		f.get(crTokAdmin, path, &got)
		wantFile := callRecordingAnnouncementFileJSON{ID: webexID(idAnnouncement, orgFile), FileName: "Recorded line notice", MediaFileType: "WAV", Level: "ORGANIZATION"}
		if !got.UseCustomAnnouncementEnabled || got.AudioAnnouncementFile == nil || *got.AudioAnnouncementFile != wantFile || got.DelayInSeconds != 10 {
			t.Errorf("GET = %+v file %+v", got, got.AudioAnnouncementFile)
		}
	})
}

func TestR17_LocationComplianceOverride(t *testing.T) {
	f := newCRFixture(t)
	path := f.locPath(f.branch, "/complianceAnnouncement")
	f.put(crTokAdmin, crBase+"/complianceAnnouncement", `{"inboundPSTNCallsEnabled": true, "delayInSeconds": 5}`, http.StatusNoContent)

	var got callRecordingLocationComplianceJSON
	f.get(crTokLocAdmin, path, &got)
	inherit := callRecordingLocationComplianceJSON{InboundPSTNCallsEnabled: true, UseOrgSettingsEnabled: true, DelayInSeconds: 5,
		UseOrgLevelAnnouncementEnabled: true, CustomComplianceAnnouncement: callRecordingAnnouncementJSON{Type: "DEFAULT"}}
	if got != inherit {
		t.Errorf("new location = %+v, want the org's (R17)", got)
	}

	f.put(crTokLocAdmin, path, `{"useOrgSettingsEnabled": false, "inboundPSTNCallsEnabled": false, "outboundPSTNCallsEnabled": true, "outboundPSTNCallsDelayEnabled": true, "delayInSeconds": 30}`, http.StatusNoContent)
	f.get(crTokAdmin, path, &got)
	own := callRecordingLocationComplianceJSON{OutboundPSTNCallsEnabled: true, OutboundPSTNCallsDelayEnabled: true, DelayInSeconds: 30,
		CustomComplianceAnnouncement: callRecordingAnnouncementJSON{Type: "DEFAULT"}}
	if got != own {
		t.Errorf("own setting = %+v, want %+v", got, own)
	}
	if c := f.org(f.orgA.ID).Recording.Compliance; !c.Inbound || c.Outbound || c.DelaySeconds != 5 {
		t.Errorf("org changed: %+v", c)
	}
	var eff callRecordingEffectiveJSON
	f.get(crTokAdmin, f.personPath(f.bob)+"/effective", &eff)
	if eff.Compliance.InboundPSTNCallsEnabled || !eff.Compliance.OutboundPSTNCallsEnabled || eff.Compliance.DelayInSeconds != 30 {
		t.Errorf("bob's effective compliance = %+v", eff.Compliance)
	}

	t.Run("custom file of the location", func(t *testing.T) {
		file := f.addFile(f.orgA.ID, f.branch.ID, "Branch notice")
		f.put(crTokAdmin, path, `{"useOrgLevelAnnouncementEnabled": false, "customComplianceAnnouncement": {"type": "CUSTOM", "audioAnnouncementFileId": "`+webexID(idAnnouncement, file)+`"}}`, http.StatusNoContent)
		f.get(crTokAdmin, path, &got)
		a := got.CustomComplianceAnnouncement
		if a.Type != "CUSTOM" || a.AudioAnnouncementFile == nil || a.AudioAnnouncementFile.Level != "LOCATION" || a.AudioAnnouncementFile.FileName != "Branch notice" || got.DelayInSeconds != 30 {
			t.Errorf("GET = %+v", got)
		}
	})
	for _, tc := range []struct {
		name, body string
		status     int
		parts      []string
	}{
		{"R18 delay", `{"delayInSeconds": 90}`, 400, []string{"delayInSeconds", "0..60"}},
		{"selector type", `{"customComplianceAnnouncement": {"type": "LOUD"}}`, 400, []string{"customComplianceAnnouncement.type", "CUSTOM", "DEFAULT"}},
		{"custom without a file", `{"customComplianceAnnouncement": {"type": "CUSTOM"}}`, 400, []string{"customComplianceAnnouncement.audioAnnouncementFileId"}},
		{"another location's file", `{"customComplianceAnnouncement": {"type": "CUSTOM", "audioAnnouncementFileId": "` + webexID(idAnnouncement, f.addFile(f.orgA.ID, f.hq.ID, "HQ")) + `"}}`, 404, []string{"customComplianceAnnouncement.audioAnnouncementFileId"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.do(crTokAdmin, "PUT", path, tc.body), tc.status, tc.parts...)
		})
	}
	t.Run("a GET body PUT back with useOrgSettingsEnabled true reverts", func(t *testing.T) {
		body, _ := json.Marshal(inherit)
		f.put(crTokAdmin, path, string(body), http.StatusNoContent)
		if c := f.location(f.branch.ID).Recording.Compliance; c != nil {
			t.Errorf("override kept: %+v", c)
		}
		f.get(crTokAdmin, path, &got)
		if got != inherit {
			t.Errorf("after revert = %+v", got)
		}
	})
	t.Run("location admin of another location", func(t *testing.T) {
		wantError(t, f.do(crTokLocAdmin, "PUT", f.locPath(f.hq, "/complianceAnnouncement"), `{"inboundPSTNCallsEnabled": true}`), 403)
	})
	if a := f.audits(auditLocationRecording, f.branch.ID); len(a) != 3 {
		t.Errorf("%d location audit entries, want 3", len(a))
	}
}

func TestCallRecordingAnnouncements(t *testing.T) {
	f := newCRFixture(t)
	path := crBase + "/announcements"
	def := callRecordingAnnouncementJSON{Type: "DEFAULT"}
	var got callRecordingAnnouncementsJSON
	f.get(crTokReadOnly, path, &got)
	if got != (callRecordingAnnouncementsJSON{def, def, def, def, def, def}) {
		t.Errorf("defaults = %+v", got)
	}
	start := f.addFile(f.orgA.ID, "", "Start")
	failEnd := f.addFile(f.orgA.ID, "", "Goodbye")
	f.put(crTokAdmin, path, `{"start": {"type": "CUSTOM", "audioAnnouncementFileId": "`+webexID(idAnnouncement, start)+`"},
		"failureEndWithCall": {"type": "CUSTOM", "audioAnnouncementFileId": "`+webexID(idAnnouncement, failEnd)+`"}, "pause": {"type": "DEFAULT"}}`, http.StatusNoContent)
	f.get(crTokAdmin, path, &got)
	if got.Start.Type != "CUSTOM" || got.Start.AudioAnnouncementFile.FileName != "Start" || got.FailureEndWithCall.AudioAnnouncementFile.FileName != "Goodbye" ||
		got.Stop != def || got.Pause != def || got.Resume != def || got.FailureProceedWithCall != def {
		t.Errorf("after PUT = %+v", got)
	}
	a := f.org(f.orgA.ID).Recording.Announcements
	if a.Start != (callrec.AnnouncementChoice{Custom: true, FileID: start}) || a.FailureEnd != (callrec.AnnouncementChoice{Custom: true, FileID: failEnd}) {
		t.Errorf("stored = %+v", a)
	}
	t.Run("a GET body PUT back changes nothing", func(t *testing.T) {
		body := f.do(crTokAdmin, "GET", path, "").Body.String()
		f.put(crTokAdmin, path, body, http.StatusNoContent)
		if b := f.org(f.orgA.ID).Recording.Announcements; b != a {
			t.Errorf("after PUT back = %+v", b)
		}
	})
	for _, tc := range []struct {
		name, body string
		status     int
		parts      []string
	}{
		{"type required", `{"pause": {"audioAnnouncementFileId": "x"}}`, 400, []string{"pause.type", "required"}},
		{"type enum", `{"resume": {"type": "LOUD"}}`, 400, []string{"resume.type", "CUSTOM", "DEFAULT"}},
		{"custom needs a file", `{"stop": {"type": "CUSTOM"}}`, 400, []string{"stop.audioAnnouncementFileId", "required"}},
		{"unknown file", `{"failureProceedWithCall": {"type": "CUSTOM", "audioAnnouncementFileId": "nope"}}`, 404, []string{"failureProceedWithCall.audioAnnouncementFileId"}},
		{"wrong type", `{"start": "CUSTOM"}`, 400, []string{"start"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.do(crTokAdmin, "PUT", path, tc.body), tc.status, tc.parts...)
		})
	}

	t.Run("location", func(t *testing.T) {
		lpath := f.locPath(f.hq, "/announcements")
		var lg callRecordingLocationAnnouncementsJSON
		f.get(crTokAdmin, lpath, &lg)
		if !lg.UseOrgLevelAnnouncementEnabled || !reflect.DeepEqual(lg.Start, got.Start) || !reflect.DeepEqual(lg.FailureEndWithCall, got.FailureEndWithCall) {
			t.Errorf("location inherits = %+v", lg)
		}
		hqFile := f.addFile(f.orgA.ID, f.hq.ID, "HQ start")
		f.put(crTokAdmin, lpath, `{"useOrgLevelAnnouncementEnabled": false, "start": {"type": "CUSTOM", "audioAnnouncementFileId": "`+webexID(idAnnouncement, hqFile)+`"}}`, http.StatusNoContent)
		f.get(crTokAdmin, lpath, &lg)
		if lg.UseOrgLevelAnnouncementEnabled || lg.Start.AudioAnnouncementFile.FileName != "HQ start" || lg.Start.AudioAnnouncementFile.Level != "LOCATION" ||
			lg.FailureEndWithCall.AudioAnnouncementFile == nil || lg.FailureEndWithCall.AudioAnnouncementFile.FileName != "Goodbye" {
			t.Errorf("own = %+v", lg)
		}
		if o := f.org(f.orgA.ID).Recording.Announcements.Start.FileID; o != start {
			t.Errorf("org start changed to %q", o)
		}
		f.put(crTokAdmin, lpath, `{"useOrgLevelAnnouncementEnabled": true}`, http.StatusNoContent)
		if l := f.location(f.hq.ID).Recording.Announcements; l != nil {
			t.Errorf("override kept: %+v", l)
		}
		wantError(t, f.do(crTokLocAdmin, "PUT", lpath, `{"useOrgLevelAnnouncementEnabled": true}`), 403)
		f.put(crTokLocAdmin, f.locPath(f.branch, "/announcements"), `{"pause": {"type": "DEFAULT"}}`, http.StatusNoContent)
		wantError(t, f.do(crTokAdminB, "GET", lpath, ""), 404, "Location")
	})
}
