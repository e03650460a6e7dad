package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

func TestCallRecordingPersonGetDefaults(t *testing.T) {
	f := newCRFixture(t)
	var got callRecordingInfoJSON
	f.get(crTokReadOnly, f.personPath(f.alice), &got)
	no := false
	want := callRecordingInfoJSON{
		Enabled: false, Record: "Never", RecordVoicemailEnabled: false, StartStopAnnouncementEnabled: &no,
		Notification:    callRecordingNotificationJSON{Type: "None", Enabled: false},
		Repeat:          callRecordingRepeatJSON{Interval: 20, Enabled: true}, // R29: on, every 20 s (deviation from Webex)
		ServiceProvider: f.orgA.ID, ExternalGroup: f.hq.ID, ExternalIdentifier: f.alice.ID + "@callrec",
		StartStopAnnouncement:          callRecordingStartStopJSON{},
		CallRecordingAccessSettings:    &callRecordingAccessJSON{ViewAndPlayRecordingsEnabled: true, DownloadRecordingsEnabled: true, DeleteRecordingsEnabled: true},
		SelectiveCallRecordingSettings: callRecordingSelectiveJSON{true, true, true, true},
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("GET:\n got %s\nwant %s", gb, wb)
	}
	t.Run("provisioned external id", func(t *testing.T) {
		f.update(func(tx directory.Tx) error {
			p, err := directory.People.Get(t.Context(), tx, f.orgA.ID, f.alice.ID)
			if err != nil {
				return err
			}
			p.ExternalID = "alice@sp01.callrec.example"
			return directory.People.Put(t.Context(), tx, p)
		})
		f.get(crTokAdmin, f.personPath(f.alice), &got)
		if got.ExternalIdentifier != "alice@sp01.callrec.example" {
			t.Errorf("externalIdentifier = %q", got.ExternalIdentifier)
		}
	})
	t.Run("an external vendor grants no access through callrec", func(t *testing.T) {
		f.setOrg(func(o *callrec.Org) { o.Recording.VendorID = f.external.ID })
		f.get(crTokAdmin, f.personPath(f.alice), &got)
		if *got.CallRecordingAccessSettings != (callRecordingAccessJSON{}) {
			t.Errorf("access = %+v", got.CallRecordingAccessSettings)
		}
	})
}

func TestCallRecordingPersonPutRoundTrip(t *testing.T) {
	f := newCRFixture(t)
	body := `{"enabled": true, "record": "Always with Pause/Resume", "recordVoicemailEnabled": true, "startStopAnnouncementEnabled": true,
		"notification": {"enabled": true, "type": "Play Announcement"}, "repeat": {"interval": 45, "enabled": false},
		"startStopAnnouncement": {"internalCallsEnabled": true, "pstnCallsEnabled": false},
		"selectiveCallRecordingSettings": {"recordInboundInternalCallsEnabled": false, "recordInboundExternalCallsEnabled": true,
			"recordOutboundInternalCallsEnabled": false, "recordOutboundExternalCallsEnabled": true},
		"serviceProvider": "ignored", "externalIdentifier": "ignored", "callRecordingAccessSettings": {"shareRecordingsEnabled": true}}`
	f.put(crTokAdmin, f.personPath(f.alice), body, http.StatusNoContent)

	var got callRecordingInfoJSON
	f.get(crTokAdmin, f.personPath(f.alice), &got)
	for _, c := range []struct {
		field string
		got   any
		want  any
	}{
		{"enabled", got.Enabled, true},
		{"record", got.Record, "Always with Pause/Resume"},
		{"recordVoicemailEnabled", got.RecordVoicemailEnabled, true},
		{"startStopAnnouncementEnabled", *got.StartStopAnnouncementEnabled, true},
		{"notification", got.Notification, callRecordingNotificationJSON{Type: "Play Announcement", Enabled: true}},
		{"repeat", got.Repeat, callRecordingRepeatJSON{Interval: 45, Enabled: false}},
		{"startStopAnnouncement", got.StartStopAnnouncement, callRecordingStartStopJSON{InternalCallsEnabled: true}},
		{"selectiveCallRecordingSettings", got.SelectiveCallRecordingSettings, callRecordingSelectiveJSON{false, true, false, true}},
		{"serviceProvider (read-only)", got.ServiceProvider, f.orgA.ID},
		{"externalIdentifier (read-only)", got.ExternalIdentifier, f.alice.ID + "@callrec"},
		{"shareRecordingsEnabled (read-only)", got.CallRecordingAccessSettings.ShareRecordingsEnabled, false},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	want := callrec.UserRecording{Enabled: true, Mode: callrec.ModeAlwaysWithPauseResume, RecordVoicemail: true, StartStopAnnouncement: true,
		StartStopInternal: true, Notification: callrec.NotifyAnnouncement, NotificationEnabled: true, RepeatInterval: 45,
		Selective: callrec.Selective{InboundExternal: true, OutboundExternal: true}}
	if s := f.person(f.alice.ID).Recording; s != want {
		t.Errorf("stored = %+v, want %+v", s, want)
	}
	a := f.audits(auditPersonRecording, f.alice.ID)
	if len(a) != 1 || a[0].Actor != "admin@acme.example" || a[0].ActorRole != callrec.RoleFullAdmin ||
		!strings.Contains(string(a[0].Before), `"enabled":false`) || !strings.Contains(string(a[0].After), `"mode":"always_with_pause_resume"`) {
		t.Errorf("audit = %+v", a)
	}
	t.Run("R7 R11 enabling provisions the built-in account", func(t *testing.T) {
		acc := f.builtInAccount()
		if len(acc.Members) != 1 || acc.Members[0].ID != f.alice.ID || acc.Members[0].Plan != callrec.PlanGo || !slices.Contains(acc.Admins, "admin@acme.example") {
			t.Errorf("account = %+v", acc)
		}
	})
	t.Run("partial update keeps the rest", func(t *testing.T) {
		f.put(crTokAdmin, f.personPath(f.alice), `{"repeat": {"enabled": true}}`, http.StatusNoContent)
		s := f.person(f.alice.ID).Recording
		w := want
		w.RepeatEnabled = true
		if s != w {
			t.Errorf("stored = %+v, want %+v", s, w)
		}
	})
}

func TestR24_DisablingResetsSettings(t *testing.T) {
	f := newCRFixture(t)
	for _, path := range []string{f.personPath(f.alice), f.linePath(f.line)} {
		f.put(crTokAdmin, path, `{"enabled": true, "record": "Always", "recordVoicemailEnabled": true, "notification": {"enabled": true},
			"repeat": {"interval": 45, "enabled": false}, "startStopAnnouncement": {"pstnCallsEnabled": true},
			"selectiveCallRecordingSettings": {"recordInboundInternalCallsEnabled": false}}`, http.StatusNoContent)
		f.put(crTokAdmin, path, `{"enabled": false}`, http.StatusNoContent)
		var got callRecordingInfoJSON
		f.get(crTokAdmin, path, &got)
		if got.Enabled || got.Record != "Never" || got.RecordVoicemailEnabled || got.Notification != (callRecordingNotificationJSON{"None", false}) ||
			got.Repeat != (callRecordingRepeatJSON{20, true}) || got.StartStopAnnouncement != (callRecordingStartStopJSON{}) ||
			got.SelectiveCallRecordingSettings != (callRecordingSelectiveJSON{true, true, true, true}) {
			t.Errorf("%s after disabling = %+v, want the defaults", path, got)
		}
	}
	if s := f.person(f.alice.ID).Recording; s != callrec.DefaultUserRecording() {
		t.Errorf("stored person = %+v", s)
	}
	if s := f.virtualLine(f.line.ID).Recording; s != callrec.DefaultUserRecording() {
		t.Errorf("stored line = %+v", s)
	}
	t.Run("a PUT that keeps recording off keeps the other settings", func(t *testing.T) {
		f.put(crTokAdmin, f.personPath(f.alice), `{"enabled": false, "record": "Always"}`, http.StatusNoContent)
		if s := f.person(f.alice.ID).Recording; s.Mode != callrec.ModeAlways {
			t.Errorf("stored = %+v", s)
		}
	})
}

func TestD5_D6_LegacySpellings(t *testing.T) {
	f := newCRFixture(t)
	for _, tc := range []struct {
		name, body string
		record     string
		notify     callRecordingNotificationJSON
	}{
		{"legacy On Demand", `{"enabled": true, "record": "On Demand"}`, "On Demand with User Initiated Start", callRecordingNotificationJSON{"None", false}},
		{"enabled without type is Beep", `{"record": "Always", "notification": {"enabled": true}}`, "Always", callRecordingNotificationJSON{"Beep", true}},
		{"type null is no type", `{"notification": {"enabled": false, "type": null}}`, "Always", callRecordingNotificationJSON{"Beep", false}},
		{"Play Announcement", `{"notification": {"type": "Play Announcement", "enabled": true}}`, "Always", callRecordingNotificationJSON{"Play Announcement", true}},
		{"None is read as null", `{"notification": {"type": "None", "enabled": true}}`, "Always", callRecordingNotificationJSON{"Play Announcement", true}},
		{"current on-demand spelling", `{"record": "On Demand with User Initiated Start"}`, "On Demand with User Initiated Start", callRecordingNotificationJSON{"Play Announcement", true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.put(crTokAdmin, f.personPath(f.alice), tc.body, http.StatusNoContent)
			var got callRecordingInfoJSON
			f.get(crTokAdmin, f.personPath(f.alice), &got)
			if got.Record != tc.record || got.Notification != tc.notify {
				t.Errorf("record %q notification %+v, want %q %+v", got.Record, got.Notification, tc.record, tc.notify)
			}
		})
	}
	t.Run("a GET body PUT back is accepted unchanged", func(t *testing.T) {
		before := f.person(f.alice.ID).Recording
		body := f.do(crTokAdmin, "GET", f.personPath(f.alice), "").Body.String()
		f.put(crTokAdmin, f.personPath(f.alice), body, http.StatusNoContent)
		if after := f.person(f.alice.ID).Recording; after != before {
			t.Errorf("PUT back changed %+v to %+v", before, after)
		}
	})
}

func TestR29_PersonValidation(t *testing.T) {
	f := newCRFixture(t)
	for _, tc := range []struct {
		name, body string
		status     int
		parts      []string
	}{
		{"record enum", `{"record": "Sometimes"}`, 400, []string{"record", "Always", "Never", "Always with Pause/Resume", "On Demand with User Initiated Start"}},
		{"notification type enum", `{"notification": {"type": "Loud"}}`, 400, []string{"notification.type", "Beep", "Play Announcement"}},
		{"R29 repeat interval below 10", `{"repeat": {"interval": 5}}`, 400, []string{"repeat.interval", "10..90", "R29"}},
		{"R29 repeat interval above 90", `{"repeat": {"interval": 91}}`, 400, []string{"repeat.interval", "10..90"}},
		{"repeat interval type", `{"repeat": {"interval": "often"}}`, 400, []string{"repeat.interval"}},
		{"enabled type", `{"enabled": "yes"}`, 400, []string{"enabled", "boolean"}},
		{"not JSON", `{"enabled": tru`, 400, []string{"JSON"}},
		{"empty body", ``, 400, []string{"body is missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.do(crTokAdmin, "PUT", f.personPath(f.alice), tc.body), tc.status, tc.parts...)
		})
	}
	if s := f.person(f.alice.ID).Recording; s != callrec.DefaultUserRecording() {
		t.Errorf("refused PUTs changed the settings: %+v", s)
	}
	if a := f.audits(auditPersonRecording, f.alice.ID); len(a) != 0 {
		t.Errorf("refused PUTs audited: %+v", a)
	}
}

func TestR1_WorkspaceRefused(t *testing.T) {
	f := newCRFixture(t)
	wsPath := "/v1/telephony/config/workspaces/" + webexID(idWorkspacePlace, f.ws.ID) + "/features/callRecordings"
	var got callRecordingInfoJSON
	f.get(crTokAdmin, wsPath, &got)
	if got.StartStopAnnouncementEnabled != nil || got.CallRecordingAccessSettings != nil || got.Record != "Never" || got.ExternalGroup != f.hq.ID {
		t.Errorf("workspace GET = %+v (no person-only fields)", got)
	}
	wantError(t, f.do(crTokAdmin, "PUT", wsPath, `{"enabled": true, "record": "Always"}`), http.StatusBadRequest, "R1", "WORKSPACE", "PROFESSIONAL_USER")
	wantError(t, f.do(crTokAdmin, "PUT", f.personPath(f.ws), `{"enabled": true}`), http.StatusBadRequest, "R1")
	t.Run("settings other than enabling are kept", func(t *testing.T) {
		f.put(crTokAdmin, wsPath, `{"record": "Always", "repeat": {"interval": 30}}`, http.StatusNoContent)
		if s := f.person(f.ws.ID).Recording; s.Enabled || s.Mode != callrec.ModeAlways || s.RepeatInterval != 30 {
			t.Errorf("stored = %+v", s)
		}
	})
	t.Run("PEOPLE id and bare UUID", func(t *testing.T) {
		f.get(crTokAdmin, "/v1/telephony/config/workspaces/"+webexID(idPerson, f.ws.ID)+"/features/callRecordings", &got)
		f.get(crTokAdmin, "/v1/telephony/config/workspaces/"+f.ws.ID+"/features/callRecordings", &got)
	})
	t.Run("D7 legacy singular path", func(t *testing.T) {
		f.get(crTokAdmin, "/v1/workspaces/"+webexID(idWorkspacePlace, f.ws.ID)+"/features/callRecording", &got)
		if got.Record != "Always" {
			t.Errorf("legacy GET = %+v", got)
		}
	})
	t.Run("a person is not a workspace", func(t *testing.T) {
		wantError(t, f.do(crTokAdmin, "GET", "/v1/telephony/config/workspaces/"+webexID(idPerson, f.alice.ID)+"/features/callRecordings", ""), 404, "Workspace")
	})
}

func TestR13_PersonTermsConflict(t *testing.T) {
	f := newCRFixture(t)
	f.setOrg(func(o *callrec.Org) { o.Recording.VendorID = f.external.ID })
	for _, path := range []string{f.personPath(f.alice), f.linePath(f.line)} {
		body := wantError(t, f.do(crTokAdmin, "PUT", path, `{"enabled": true}`), http.StatusConflict, "terms of service", "R13")
		if body.VendorID != webexID(idVendor, f.external.ID) || body.VendorName != "Tapeworm" || body.TermsOfServiceURL != "https://tapeworm.example/terms" {
			t.Errorf("%s: 409 body = %+v", path, body)
		}
	}
	t.Run("R10 an external provider provisions nothing", func(t *testing.T) {
		f.acceptExternal()
		f.put(crTokAdmin, f.personPath(f.alice), `{"enabled": true, "record": "Always"}`, http.StatusNoContent)
		f.view(func(tx directory.Tx) error {
			_, err := directory.Accounts.Get(t.Context(), tx, f.orgA.ID, directory.PairID(f.orgA.ID, callrec.BuiltInProviderID))
			if !directory.IsNotFound(err) {
				t.Errorf("built-in account: %v, want none", err)
			}
			return nil
		})
	})
}

func TestR31_VirtualLineSettings(t *testing.T) {
	f := newCRFixture(t)
	path := f.linePath(f.line)
	var got callRecordingInfoJSON
	f.get(crTokAdmin, path, &got)
	if got.Enabled || got.Record != "Never" || got.StartStopAnnouncementEnabled != nil || got.CallRecordingAccessSettings != nil ||
		got.ExternalIdentifier != f.line.ID+"@callrec" || got.Repeat != (callRecordingRepeatJSON{20, true}) {
		t.Errorf("line GET = %+v", got)
	}
	raw := f.do(crTokAdmin, "GET", path, "").Body.String()
	if strings.Contains(raw, "startStopAnnouncementEnabled") || strings.Contains(raw, "callRecordingAccessSettings") {
		t.Errorf("line GET has person-only fields: %s", raw)
	}

	t.Run("R31 no provider at the line's location", func(t *testing.T) {
		f.put(crTokAdmin, f.locPath(f.hq, "/vendor"), `{"id": "none"}`, http.StatusNoContent)
		wantError(t, f.do(crTokAdmin, "PUT", path, `{"enabled": true}`), http.StatusConflict, "R31")
		f.put(crTokAdmin, f.locPath(f.hq, "/vendor"), `{"orgDefaultEnabled": true}`, http.StatusNoContent)
	})
	f.put(crTokAdmin, path, `{"enabled": true, "record": "Always", "recordVoicemailEnabled": true, "notification": {"enabled": true},
		"repeat": {"interval": 10, "enabled": true}, "startStopAnnouncement": {"pstnCallsEnabled": true},
		"selectiveCallRecordingSettings": {"recordInboundInternalCallsEnabled": false}, "startStopAnnouncementEnabled": true}`, http.StatusNoContent)
	want := callrec.UserRecording{Enabled: true, Mode: callrec.ModeAlways, RecordVoicemail: true, StartStopPSTN: true,
		Notification: callrec.NotifyBeep, NotificationEnabled: true, RepeatEnabled: true, RepeatInterval: 10,
		Selective: callrec.Selective{InboundInternal: false, InboundExternal: true, OutboundInternal: true, OutboundExternal: true}}
	if s := f.virtualLine(f.line.ID).Recording; s != want {
		t.Errorf("stored = %+v, want %+v (startStopAnnouncementEnabled is a person field)", s, want)
	}
	if a := f.audits(auditLineRecording, f.line.ID); len(a) != 1 || !strings.Contains(string(a[0].After), `"enabled":true`) {
		t.Errorf("audit = %+v", a)
	}
	t.Run("R32 the line and its assigned person are provisioned", func(t *testing.T) {
		acc := f.builtInAccount()
		var ids []string
		for _, m := range acc.Members {
			ids = append(ids, m.ID)
		}
		if !slices.Contains(ids, f.line.ID) || !slices.Contains(ids, f.alice.ID) {
			t.Errorf("members = %v", ids)
		}
	})
	t.Run("not found", func(t *testing.T) {
		wantError(t, f.do(crTokAdmin, "GET", "/v1/telephony/config/virtualLines/"+webexID(idPerson, f.line.ID)+"/callRecording", ""), 404, "Virtual line")
		wantError(t, f.do(crTokAdminB, "PUT", path, `{"enabled": false}`), 404, "Virtual line")
	})
}

func TestCallRecordingPersonAccess(t *testing.T) {
	f := newCRFixture(t)
	orgA := "?orgId=" + webexID(idOrg, f.orgA.ID)
	for _, tc := range []struct {
		name, token, method, path string
		status                    int
		parts                     []string
	}{
		{"location admin reads a person of another location", crTokLocAdmin, "GET", f.personPath(f.alice), 200, nil},
		{"location admin changes a person of another location", crTokLocAdmin, "PUT", f.personPath(f.alice), 403, []string{"location"}},
		{"location admin changes a person of its location", crTokLocAdmin, "PUT", f.personPath(f.bob), 204, nil},
		{"read-only admin may not change", crTokReadOnly, "PUT", f.personPath(f.alice), 403, nil},
		{"user may not read another's settings this way", crTokAlice, "GET", f.personPath(f.alice), 403, nil},
		{"compliance officer may not read settings", crTokOfficer, "GET", f.personPath(f.alice), 403, nil},
		{"another org's admin: 404", crTokAdminB, "GET", f.personPath(f.alice), 404, []string{"Person"}},
		{"another org's admin naming the org: 404", crTokAdminB, "GET", f.personPath(f.alice) + orgA, 404, []string{"Organization"}},
		{"partner acting on org B: 404", crTokPartner, "GET", f.personPath(f.alice) + "?orgId=" + webexID(idOrg, f.orgB.ID), 404, []string{"Person"}},
		{"partner acting on org A", crTokPartner, "PUT", f.personPath(f.alice) + orgA, 204, nil},
		{"no token", "", "GET", f.personPath(f.alice), 401, nil},
		{"garbage id", crTokAdmin, "GET", "/v1/people/%20nope/features/callRecording", 404, []string{"Person"}},
		{"a virtual line id on the person path", crTokAdmin, "GET", "/v1/people/" + webexID(idVirtualLine, f.line.ID) + "/features/callRecording", 404, []string{"Person"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == "PUT" {
				body = `{"record": "Always"}`
			}
			w := f.do(tc.token, tc.method, tc.path, body)
			if tc.status >= 400 {
				wantError(t, w, tc.status, tc.parts...)
			} else if w.Code != tc.status {
				t.Errorf("status = %d %s, want %d", w.Code, w.Body.String(), tc.status)
			}
		})
	}
	if s := f.person(f.carol.ID).Recording; s != callrec.DefaultUserRecording() {
		t.Errorf("org B's person changed: %+v", s)
	}
}

func TestCallRecordingMe(t *testing.T) {
	f := newCRFixture(t)
	var got callRecordingMeJSON
	f.get(crTokAlice, crPathMe, &got)
	want := callRecordingMeJSON{
		Vendor:        callRecordingMeVendorJSON{ID: webexID(idVendor, callrec.BuiltInProviderID), Name: "callrec"},
		RecordingMode: "Never", WarningToneEnabled: true, WarningToneDuration: 20,
		SelectiveCallRecordingSettings: callRecordingSelectiveJSON{true, true, true, true},
	}
	if got != want {
		t.Errorf("me = %+v, want %+v", got, want)
	}
	f.put(crTokAdmin, f.personPath(f.alice), `{"enabled": true, "record": "On Demand", "notification": {"type": "Play Announcement", "enabled": true},
		"startStopAnnouncement": {"pstnCallsEnabled": true}, "repeat": {"interval": 60, "enabled": false}}`, http.StatusNoContent)
	f.get(crTokAlice, crPathMe, &got)
	want.Enabled, want.RecordingMode, want.PauseResumeNotifyMethod, want.AnnouncementEnabled = true, "On Demand with User Initiated Start", "Play Announcement", true
	want.WarningToneEnabled, want.WarningToneDuration = false, 60
	if got != want {
		t.Errorf("me after PUT = %+v, want %+v", got, want)
	}
	if raw := f.do(crTokAlice, "GET", crPathMe, "").Body.String(); !strings.Contains(raw, `"loginUrl":""`) {
		t.Errorf("vendor.loginUrl missing: %s", raw)
	}

	t.Run("secondary line assigned to the user", func(t *testing.T) {
		var sl callRecordingMeJSON
		f.get(crTokAlice, "/v1/telephony/config/people/me/settings/secondaryLines/"+webexID(idVirtualLine, f.line.ID)+"/callRecording", &sl)
		if sl.Enabled || sl.RecordingMode != "Never" || sl.Vendor.Name != "callrec" {
			t.Errorf("secondary = %+v", sl)
		}
	})
	t.Run("a line not assigned to the user", func(t *testing.T) {
		other := callrec.VirtualLine{ID: uuid.NewString(), OrgID: f.orgA.ID, LocationID: f.hq.ID, FirstName: "Other", LastName: "Line",
			Extension: "2002", People: []string{f.bob.ID}, Recording: callrec.DefaultUserRecording()}
		f.update(func(tx directory.Tx) error { return directory.VirtualLines.Put(t.Context(), tx, &other) })
		wantError(t, f.do(crTokAlice, "GET", "/v1/telephony/config/people/me/settings/secondaryLines/"+webexID(idVirtualLine, other.ID)+"/callRecording", ""), 404, "Secondary line")
	})
	t.Run("tokens without a person", func(t *testing.T) {
		wantError(t, f.do(crTokOfficer, "GET", crPathMe, ""), 404, "No person")
		wantError(t, f.do(crTokAdmin, "GET", crPathMe, ""), 404, "No person")
		wantError(t, f.do(crTokPartner, "GET", crPathMe, ""), 404, "No person")
	})
}

func TestCallRecordingEffective(t *testing.T) {
	f := newCRFixture(t)
	f.put(crTokAdmin, f.personPath(f.alice), `{"enabled": true, "record": "Always with Pause/Resume"}`, http.StatusNoContent)
	var got callRecordingEffectiveJSON
	f.get(crTokReadOnly, f.personPath(f.alice)+"/effective", &got)
	want := callRecordingEffectiveJSON{
		Enabled: true, Recording: true, Reasons: []string{},
		VendorID: webexID(idVendor, callrec.BuiltInProviderID), VendorName: "callrec", ProviderTarget: "sip:srs@127.0.0.1:5070",
		VendorInherited: true, Plan: callrec.PlanGo,
		Settings: callRecordingSettingsJSON{Enabled: true, Record: "Always with Pause/Resume",
			Notification: callRecordingNotificationJSON{"None", false}, Repeat: callRecordingRepeatJSON{20, true},
			SelectiveCallRecordingSettings: callRecordingSelectiveJSON{true, true, true, true}},
		Language: "en_US", FailureBehavior: callrec.FailureProceedNoAnnouncement, StorageRegion: "US",
		Controls:        callRecordingControlsJSON{Pause: true, Resume: true},
		AccessCodes:     callRecordingAccessCodesJSON{"*44", "*45", "*48", "*49"},
		ServiceProvider: f.orgA.ID, ExternalGroup: f.hq.ID, ExternalIdentifier: f.alice.ID + "@callrec",
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("effective:\n got %s\nwant %s", gb, wb)
	}

	t.Run("reasons name the rules", func(t *testing.T) {
		f.setOrg(func(o *callrec.Org) { o.Recording.Entitled = false })
		f.get(crTokAdmin, f.personPath(f.bob)+"/effective", &got)
		if got.Recording || got.Enabled || len(got.Reasons) == 0 || !strings.Contains(strings.Join(got.Reasons, " "), "R2") {
			t.Errorf("bob effective = %+v", got)
		}
	})
	t.Run("virtual line", func(t *testing.T) {
		f.get(crTokAdmin, f.linePath(f.line)+"/effective", &got)
		if got.Enabled || got.Recording || got.ExternalIdentifier != f.line.ID+"@callrec" || got.VendorName != "callrec" {
			t.Errorf("line effective = %+v", got)
		}
	})
	t.Run("who may", func(t *testing.T) {
		wantError(t, f.do(crTokAlice, "GET", f.personPath(f.alice)+"/effective", ""), 403)
		wantError(t, f.do(crTokAdminB, "GET", f.personPath(f.alice)+"/effective", ""), 404, "Person")
	})
}

func TestCallRecordingOpenAPIDocumentsEveryRoute(t *testing.T) {
	f := newCRFixture(t)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	f.get("", "/v1/openapi.json", &doc)
	for _, c := range []struct{ path, method string }{
		{crPathCallRecording, "get"}, {crPathCallRecording, "put"},
		{crPathCallRecording + "/vendors", "get"}, {crPathCallRecording + "/vendor", "put"},
		{crPathCallRecording + "/regions", "get"}, {crPathCallRecording + "/vendorUsers", "get"},
		{crPathLocation + "/vendors", "get"}, {crPathLocation + "/vendor", "put"}, {crPathLocation + "/vendorUsers", "get"},
		{crPathJobs, "get"}, {crPathJobs + "/{jobId}", "get"}, {crPathJobs + "/{jobId}/errors", "get"},
		{crPathCallRecording + "/complianceAnnouncement", "put"}, {crPathLocation + "/complianceAnnouncement", "put"},
		{crPathCallRecording + "/announcements", "put"}, {crPathLocation + "/announcements", "get"},
		{crPathPerson, "put"}, {crPathPersonEffect, "get"}, {crPathWorkspace, "put"},
		{crPathVirtualLine, "put"}, {crPathLineEffective, "get"}, {crPathMe, "get"}, {crPathMeSecondary, "get"},
	} {
		if _, ok := doc.Paths[c.path][c.method]; !ok {
			t.Errorf("%s %s is not documented", c.method, c.path)
		}
	}
	if _, ok := doc.Paths[crPathWorkspaceOld]; ok {
		t.Errorf("the hidden legacy workspace path is documented")
	}
}
