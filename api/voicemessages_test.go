package api

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/audiofile"
	"github.com/callrec/callrec/directory"
)

// TestVoiceMessages: messages the call plane deposited (audiofile.Mailbox)
// as their person sees them through Webex's voice messaging API (issue 5
// point 1, R26): list, summary, mark read and unread, listen, delete;
// nobody else reaches them.
func TestVoiceMessages(t *testing.T) {
	f, bl := annFixture(t)
	ctx := t.Context()
	at := crNow.Add(-time.Hour)
	mb := audiofile.NewMailbox(f.st, bl, func() time.Time { at = at.Add(time.Minute); return at }, nil)
	voice := make([]int16, 8000*3+100) // 3.0125 s
	for i := range voice {
		voice[i] = int16(i%200) * 50
	}
	first, err := mb.Deposit(ctx, callrec.VoiceMessage{OrgID: f.orgA.ID, PersonID: f.alice.ID, CallerNumber: "+15551230001", CallerName: "Dan Dialer"}, voice)
	if err != nil {
		t.Fatal(err)
	}
	second, err := mb.Deposit(ctx, callrec.VoiceMessage{OrgID: f.orgA.ID, PersonID: f.alice.ID}, voice[:8000])
	if err != nil {
		t.Fatal(err)
	}
	bobs, err := mb.Deposit(ctx, callrec.VoiceMessage{OrgID: f.orgA.ID, PersonID: f.bob.ID, CallerNumber: "1001"}, voice[:800])
	if err != nil {
		t.Fatal(err)
	}
	firstID, secondID, bobsID := webexID(idVoiceMessage, first.ID), webexID(idVoiceMessage, second.ID), webexID(idVoiceMessage, bobs.ID)
	summary := func() voiceMessageSummaryJSON {
		var s voiceMessageSummaryJSON
		f.get(crTokAlice, vmPath+"/summary", &s)
		return s
	}

	t.Run("list: own messages, newest first, Webex fields", func(t *testing.T) {
		var got voiceMessageListJSON
		f.get(crTokAlice, vmPath, &got)
		want := []voiceMessageJSON{
			{ID: secondID, Duration: 1, CallingParty: voiceMessagePartyJSON{PrivacyEnabled: true}, Created: second.Created.Format("2006-01-02T15:04:05.000Z")},
			{ID: firstID, Duration: 4, CallingParty: voiceMessagePartyJSON{Name: "Dan Dialer", Number: "+15551230001"}, Created: first.Created.Format("2006-01-02T15:04:05.000Z")},
		}
		if len(got.Items) != 2 || got.Items[0] != want[0] || got.Items[1] != want[1] {
			t.Errorf("items %+v, want %+v", got.Items, want)
		}
		if s := summary(); s != (voiceMessageSummaryJSON{NewMessages: 2}) {
			t.Errorf("summary %+v, want 2 new", s)
		}
	})
	t.Run("mark one read, then all unread; each change audited", func(t *testing.T) {
		if w := f.do(crTokAlice, "POST", vmPath+"/markAsRead", `{"messageId":"`+firstID+`"}`); w.Code != http.StatusNoContent {
			t.Fatalf("markAsRead = %d %s", w.Code, w.Body.String())
		}
		if s := summary(); s != (voiceMessageSummaryJSON{NewMessages: 1, OldMessages: 1}) {
			t.Errorf("summary %+v, want 1 new 1 old", s)
		}
		if w := f.do(crTokAlice, "POST", vmPath+"/"+secondID+"/markAsRead", ""); w.Code != http.StatusNoContent {
			t.Fatalf("path alias markAsRead = %d %s", w.Code, w.Body.String())
		}
		if s := summary(); s != (voiceMessageSummaryJSON{OldMessages: 2}) {
			t.Errorf("summary %+v, want 2 old", s)
		}
		if w := f.do(crTokAlice, "POST", vmPath+"/markAsUnread", ""); w.Code != http.StatusNoContent {
			t.Fatalf("markAsUnread = %d %s", w.Code, w.Body.String())
		}
		if s := summary(); s != (voiceMessageSummaryJSON{NewMessages: 2}) {
			t.Errorf("summary %+v, want 2 new", s)
		}
		if a := f.audits(auditVoiceMessage, first.ID); len(a) != 3 || a[0].Action != "update" || a[0].Actor != "alice@acme.example" {
			t.Errorf("audit of the first message %+v, want deposit + read + unread", a)
		}
	})
	t.Run("listen: the WAV, with Range, audited", func(t *testing.T) {
		w := f.do(crTokAlice, "GET", vmPath+"/"+firstID+"/audio", "")
		obj, err := bl.Open(ctx, first.BlobKey)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := io.ReadAll(obj)
		obj.Close()
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "audio/wav" || !bytes.Equal(w.Body.Bytes(), stored) || len(stored) != 44+2*len(voice) {
			t.Errorf("audio = %d %s, %d bytes; want the %d stored", w.Code, w.Header().Get("Content-Type"), w.Body.Len(), len(stored))
		}
		r := httptest.NewRequest("GET", vmPath+"/"+firstID+"/audio", nil)
		r.Header.Set("Authorization", "Bearer "+crTokAlice)
		r.Header.Set("Range", "bytes=0-3")
		rw := httptest.NewRecorder()
		f.h.ServeHTTP(rw, r)
		if rw.Code != http.StatusPartialContent || rw.Body.String() != "RIFF" {
			t.Errorf("range = %d %q", rw.Code, rw.Body.String())
		}
		if a := f.audits(auditVoiceMessage, first.ID); len(a) < 2 || a[0].Action != "download" {
			t.Errorf("listen not audited: %+v", a)
		}
	})
	t.Run("another person's message and admins without a person: 404", func(t *testing.T) {
		for _, c := range []struct{ token, method, path, body string }{
			{crTokAlice, "GET", vmPath + "/" + bobsID + "/audio", ""},
			{crTokAlice, "DELETE", vmPath + "/" + bobsID, ""},
			{crTokAlice, "POST", vmPath + "/markAsRead", `{"messageId":"` + bobsID + `"}`},
			{crTokAdmin, "GET", vmPath, ""},
			{crTokAdmin, "GET", vmPath + "/" + firstID + "/audio", ""},
		} {
			if w := f.do(c.token, c.method, c.path, c.body); w.Code != http.StatusNotFound {
				t.Errorf("%s %s = %d %s, want 404", c.method, c.path, w.Code, w.Body.String())
			}
		}
		if m := orgADoc(t, f, directory.VoiceMessages, bobs.ID); m.Read {
			t.Errorf("Bob's message was marked read by Alice")
		}
	})
	t.Run("delete: document and audio gone", func(t *testing.T) {
		if w := f.do(crTokAlice, "DELETE", vmPath+"/"+secondID, ""); w.Code != http.StatusNoContent {
			t.Fatalf("DELETE = %d %s", w.Code, w.Body.String())
		}
		var got voiceMessageListJSON
		f.get(crTokAlice, vmPath, &got)
		if len(got.Items) != 1 || got.Items[0].ID != firstID {
			t.Errorf("after delete %+v", got.Items)
		}
		if _, err := bl.Open(ctx, second.BlobKey); err == nil {
			t.Errorf("audio of the deleted message still stored")
		}
		if a := f.audits(auditVoiceMessage, second.ID); len(a) == 0 || a[0].Action != "delete" {
			t.Errorf("audit %+v", a)
		}
	})
}

// TestVoicemailSettings: Webex's voicemail settings of a person map to
// callrec.Person.Voicemail, which the call plane reads; admins and the
// person itself change them; rings are 1..20; Webex's other fields are
// accepted and ignored.
func TestVoicemailSettings(t *testing.T) {
	f := newCRFixture(t)
	alice := strings.Replace(vmPersonPath, "{personId}", webexID(idPerson, f.alice.ID), 1)
	bob := strings.Replace(vmPersonPath, "{personId}", webexID(idPerson, f.bob.ID), 1)
	var got voicemailJSON
	f.get(crTokAdmin, alice, &got)
	if got.Enabled || got.SendUnansweredCalls.NumberOfRings != callrec.DefaultUnansweredRings || got.SendUnansweredCalls.SystemMaxNumberOfRings != 20 || got.MessageStorage.StorageType != "INTERNAL" {
		t.Errorf("defaults %+v", got)
	}
	f.put(crTokAdmin, alice, `{"enabled":true,"sendBusyCalls":{"enabled":true,"greeting":"DEFAULT"},
		"sendUnansweredCalls":{"enabled":true,"numberOfRings":5},"notifications":{"enabled":true,"destination":"alice@acme.example"},
		"transferToNumber":{"enabled":false},"messageStorage":{"mwiEnabled":true,"storageType":"INTERNAL"}}`, http.StatusNoContent)
	if v := f.person(f.alice.ID).Voicemail; v == nil || *v != (callrec.VoicemailSettings{Enabled: true, SendUnanswered: true, UnansweredRings: 5, SendBusy: true}) {
		t.Errorf("stored %+v", v)
	}
	f.get(crTokAlice, alice, &got)
	if !got.Enabled || !got.SendBusyCalls.Enabled || !got.SendUnansweredCalls.Enabled || got.SendUnansweredCalls.NumberOfRings != 5 {
		t.Errorf("read back by Alice %+v", got)
	}
	if a := f.audits(auditVoicemail, f.alice.ID); len(a) != 1 || a[0].Before != nil || !strings.Contains(string(a[0].After), `"UnansweredRings":5`) {
		t.Errorf("audit %+v", a)
	}
	for _, tc := range []struct {
		name, token, path, body string
		want                    int
		text                    string
	}{
		{"rings 0", crTokAdmin, alice, `{"sendUnansweredCalls":{"numberOfRings":0}}`, 400, "sendUnansweredCalls.numberOfRings: 0 is out of range 1..20"},
		{"rings 21", crTokAdmin, alice, `{"sendUnansweredCalls":{"numberOfRings":21}}`, 400, "out of range 1..20"},
		{"the person turns it off", crTokAlice, alice, `{"enabled":false}`, 204, ""},
		{"a user changes another person", crTokAlice, bob, `{"enabled":true}`, 403, ""},
		{"a location admin of the person's location", crTokLocAdmin, bob, `{"enabled":true}`, 204, ""},
		{"a location admin of another location", crTokLocAdmin, alice, `{"enabled":true}`, 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(tc.token, "PUT", tc.path, tc.body)
			if w.Code != tc.want || !strings.Contains(w.Body.String(), tc.text) {
				t.Errorf("= %d %s; want %d %q", w.Code, w.Body.String(), tc.want, tc.text)
			}
		})
	}
	if v := f.person(f.alice.ID).Voicemail; v == nil || v.Enabled || v.UnansweredRings != 5 {
		t.Errorf("after Alice turned it off: %+v", v)
	}
	if v := f.person(f.bob.ID).Voicemail; v == nil || !v.Enabled || v.UnansweredRings != callrec.DefaultUnansweredRings {
		t.Errorf("Bob after his location admin: %+v", v)
	}
}
