package api

// Voicemail (issue 5 point 1, R26): a person's voice messages (Webex
// "Webex Calling Voice Messaging": the token's own person's messages,
// their summary, delete, mark as read or unread, and callrec's extension
// that streams a message's WAV) and the person's voicemail settings
// (Webex "User Call Settings": /people/{personId}/features/voicemail),
// which tell the call plane when calls go to voicemail.

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// Paths and audit types of voicemail.
const (
	vmPath              = "/v1/telephony/voiceMessages"
	vmTag               = "Voice Messaging"
	vmAccess            = "a token with a person (users): its own messages"
	idVoiceMessage      = "MESSAGE"
	auditVoiceMessage   = "voiceMessage"
	auditVoicemail      = "personVoicemail"
	vmPersonPath        = "/v1/people/{personId}/features/voicemail"
	vmSettingsAccess    = "partner admins, org full, read-only and location admins, and the person itself"
	vmSettingsPutAccess = "partner admins, org full admins, location admins for people of their locations, and the person itself"
	// maxRings is Webex's systemMaxNumberOfRings.
	maxRings = 20
)

// voiceMessagePartyJSON is Webex's VoiceMailPartyInformation.
type voiceMessagePartyJSON struct {
	Name           string `json:"name,omitempty"`
	Number         string `json:"number,omitempty"`
	PrivacyEnabled bool   `json:"privacyEnabled" doc:"true when the caller withheld their number"`
}

// voiceMessageJSON is Webex's VoiceMessageDetails.
type voiceMessageJSON struct {
	ID           string                `json:"id"`
	Duration     int                   `json:"duration" doc:"seconds (rounded up)"`
	CallingParty voiceMessagePartyJSON `json:"callingParty"`
	Urgent       bool                  `json:"urgent"`
	Confidential bool                  `json:"confidential"`
	Read         bool                  `json:"read"`
	Created      string                `json:"created" doc:"UTC, e.g. 2026-03-04T10:20:30.000Z"`
}

// voiceMessageListJSON is the List Messages answer.
type voiceMessageListJSON struct {
	Items []voiceMessageJSON `json:"items"`
}

// voiceMessageSummaryJSON is the Get Message Summary answer.
type voiceMessageSummaryJSON struct {
	NewMessages       int `json:"newMessages"`
	OldMessages       int `json:"oldMessages"`
	NewUrgentMessages int `json:"newUrgentMessages"`
	OldUrgentMessages int `json:"oldUrgentMessages"`
}

// voiceMessageMarkBody is the body of markAsRead and markAsUnread.
type voiceMessageMarkBody struct {
	MessageID string `json:"messageId" doc:"the message; absent: every message of the person"`
}

// voiceMessageRoutes registers voice messaging and voicemail settings.
func (s *server) voiceMessageRoutes() {
	s.register(op{Method: "GET", Path: vmPath, Summary: "List my voicemail messages, newest first", Tag: vmTag,
		Access: vmAccess, Resp: voiceMessageListJSON{}, Handler: s.authed(s.vmList)})
	s.register(op{Method: "GET", Path: vmPath + "/summary", Summary: "Count my new (unread) and old (read) voicemail messages", Tag: vmTag,
		Access: vmAccess, Resp: voiceMessageSummaryJSON{}, Handler: s.authed(s.vmSummary)})
	s.register(op{Method: "DELETE", Path: vmPath + "/{messageId}", Summary: "Delete one of my voicemail messages (and its audio)", Tag: vmTag,
		Access: vmAccess, Handler: s.authed(s.vmDelete)})
	s.register(op{Method: "GET", Path: vmPath + "/{messageId}/audio", Summary: "Listen to one of my voicemail messages: the WAV (audio/wav, 8 kHz mono 16-bit), HTTP Range supported (callrec extension)", Tag: vmTag,
		Access: vmAccess, Status: http.StatusOK, Handler: s.authed(s.vmAudio)})
	for _, read := range []bool{true, false} {
		name := "markAsRead"
		if !read {
			name = "markAsUnread"
		}
		s.register(op{Method: "POST", Path: vmPath + "/" + name, Summary: "Mark one of my voicemail messages (messageId), or all of them, as " + map[bool]string{true: "read", false: "unread"}[read], Tag: vmTag,
			Access: vmAccess, Body: voiceMessageMarkBody{}, Handler: s.authed(s.vmMark(read, false))})
		s.register(op{Method: "POST", Path: vmPath + "/{messageId}/" + name, Summary: "Alias: mark the message of the path", Tag: vmTag, Hidden: true,
			Access: vmAccess, Handler: s.authed(s.vmMark(read, true))})
	}
	s.register(op{Method: "GET", Path: vmPersonPath, Summary: "Read a person's voicemail settings: when calls go to voicemail", Tag: vmTag,
		Access: vmSettingsAccess, Query: []param{qOrgID}, Resp: voicemailJSON{}, Handler: s.authed(s.vmGetSettings)})
	s.register(op{Method: "PUT", Path: vmPersonPath, Summary: "Configure a person's voicemail: enabled, sendBusyCalls.enabled, sendUnansweredCalls.enabled and numberOfRings (1..20); Webex's other fields are accepted and ignored", Tag: vmTag,
		Access: vmSettingsPutAccess, Query: []param{qOrgID}, Body: voicemailPutBody{}, Handler: s.authed(s.vmPutSettings)})
}

// vmOwner is the person of a token, or 404 when it has none.
func vmOwner(tok *callrec.Token) error {
	if tok.PersonID == "" || tok.OrgID == "" {
		return notFoundf("No person is associated with this token")
	}
	return nil
}

// vmMessages returns the token's person's messages, newest first.
func vmMessages(ctx context.Context, tx directory.Tx, tok *callrec.Token) ([]callrec.VoiceMessage, error) {
	all, err := directory.VoiceMessages.List(ctx, tx, tok.OrgID)
	if err != nil {
		return nil, fmt.Errorf("api: voice messages: %w", err)
	}
	var mine []callrec.VoiceMessage
	for _, m := range all {
		if m.PersonID == tok.PersonID {
			mine = append(mine, m)
		}
	}
	slices.SortStableFunc(mine, func(a, b callrec.VoiceMessage) int { return b.Created.Compare(a.Created) })
	return mine, nil
}

// vmLoad returns the token's person's message of the path, or 404.
func vmLoad(ctx context.Context, tx directory.Tx, tok *callrec.Token, raw string) (*callrec.VoiceMessage, error) {
	m, err := dirLoad(ctx, tx, directory.VoiceMessages, tok.OrgID, idVoiceMessage, "Voice message", raw)
	if err != nil {
		return nil, err
	}
	if m.PersonID != tok.PersonID {
		return nil, notFoundThing("Voice message", raw)
	}
	return m, nil
}

func renderVoiceMessage(m *callrec.VoiceMessage) voiceMessageJSON {
	return voiceMessageJSON{ID: webexID(idVoiceMessage, m.ID), Duration: int(math.Ceil(m.Duration.Seconds())),
		CallingParty: voiceMessagePartyJSON{Name: m.CallerName, Number: m.CallerNumber, PrivacyEnabled: m.CallerNumber == ""},
		Read:         m.Read, Created: m.Created.UTC().Format("2006-01-02T15:04:05.000Z")}
}

// vmOwnMessages is the token's person's voice messages, read in one
// transaction.
func (s *server) vmOwnMessages(r *http.Request, tok *callrec.Token) ([]callrec.VoiceMessage, error) {
	if err := vmOwner(tok); err != nil {
		return nil, err
	}
	var ms []callrec.VoiceMessage
	err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		ms, err = vmMessages(r.Context(), tx, tok)
		return err
	})
	return ms, err
}

// vmList is GET /v1/telephony/voiceMessages.
func (s *server) vmList(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	ms, err := s.vmOwnMessages(r, tok)
	if err != nil {
		return err
	}
	out := voiceMessageListJSON{Items: make([]voiceMessageJSON, 0, len(ms))}
	for i := range ms {
		out.Items = append(out.Items, renderVoiceMessage(&ms[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// vmSummary is GET /v1/telephony/voiceMessages/summary.
func (s *server) vmSummary(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	ms, err := s.vmOwnMessages(r, tok)
	if err != nil {
		return err
	}
	var out voiceMessageSummaryJSON
	for _, m := range ms {
		if m.Read {
			out.OldMessages++
		} else {
			out.NewMessages++
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// vmDelete is DELETE /v1/telephony/voiceMessages/{messageId}.
func (s *server) vmDelete(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	if err := vmOwner(tok); err != nil {
		return err
	}
	ctx := r.Context()
	return s.deleteWithBlob(ctx, w, func(tx directory.Tx) (string, error) {
		m, err := vmLoad(ctx, tx, tok, r.PathValue("messageId"))
		if err != nil {
			return "", err
		}
		if err := tx.Delete(ctx, directory.VoiceMessages.Name, m.ID); err != nil {
			return "", fmt.Errorf("api: voice message: %w", err)
		}
		return m.BlobKey, s.audit(ctx, tx, tok, tok.OrgID, "delete", auditVoiceMessage, m.ID, m, nil)
	})
}

// vmMark is POST .../markAsRead and .../markAsUnread: the body's
// messageId (or, fromPath, the path's), else every message of the person.
// Each message whose state changes is audited.
func (s *server) vmMark(read, fromPath bool) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
		if err := vmOwner(tok); err != nil {
			return err
		}
		var body voiceMessageMarkBody
		if fromPath {
			body.MessageID = r.PathValue("messageId")
		} else if err := decodeBody(r, &body, false); err != nil {
			return err
		}
		ctx := r.Context()
		return noContent(w, s.store.Update(ctx, func(tx directory.Tx) error {
			var ms []callrec.VoiceMessage
			if body.MessageID != "" {
				m, err := vmLoad(ctx, tx, tok, body.MessageID)
				if err != nil {
					return err
				}
				ms = []callrec.VoiceMessage{*m}
			} else {
				var err error
				if ms, err = vmMessages(ctx, tx, tok); err != nil {
					return err
				}
			}
			for _, m := range ms {
				if m.Read == read {
					continue
				}
				before := m
				m.Read = read
				if err := directory.VoiceMessages.Put(ctx, tx, &m); err != nil {
					return fmt.Errorf("api: voice message: %w", err)
				}
				if err := s.audit(ctx, tx, tok, tok.OrgID, "update", auditVoiceMessage, m.ID, before, m); err != nil {
					return err
				}
			}
			return nil
		}))
	}
}

// vmAudio is GET /v1/telephony/voiceMessages/{messageId}/audio: the WAV,
// with Range support; each listen is audited like a recording's download.
func (s *server) vmAudio(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	if err := vmOwner(tok); err != nil {
		return err
	}
	ctx := r.Context()
	var m *callrec.VoiceMessage
	err := s.store.Update(ctx, func(tx directory.Tx) error {
		var err error
		if m, err = vmLoad(ctx, tx, tok, r.PathValue("messageId")); err != nil {
			return err
		}
		return s.audit(ctx, tx, tok, tok.OrgID, "download", auditVoiceMessage, m.ID, nil, nil)
	})
	if err != nil {
		return err
	}
	obj, err := s.blobs.Open(ctx, m.BlobKey)
	if err != nil {
		return fmt.Errorf("api: voice message %s audio: %w", m.ID, err)
	}
	defer obj.Close()
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, m.ID+".wav", obj.ModTime(), obj)
	return nil
}

// Voicemail settings (Webex VoicemailInfo): the parts callrec acts on
// and Webex's other parts with fixed values.
type (
	voicemailEnabledJSON struct {
		Enabled bool `json:"enabled"`
	}
	voicemailBusyJSON struct {
		Enabled          bool   `json:"enabled"`
		Greeting         string `json:"greeting" doc:"DEFAULT (custom greetings are not kept)"`
		GreetingUploaded bool   `json:"greetingUploaded"`
	}
	voicemailUnansweredJSON struct {
		Enabled                bool   `json:"enabled"`
		Greeting               string `json:"greeting" doc:"DEFAULT"`
		GreetingUploaded       bool   `json:"greetingUploaded"`
		NumberOfRings          int    `json:"numberOfRings" doc:"rings (6 s each) before an unanswered call goes to voicemail, 1..20"`
		SystemMaxNumberOfRings int    `json:"systemMaxNumberOfRings"`
	}
	voicemailStorageJSON struct {
		MWIEnabled  bool   `json:"mwiEnabled"`
		StorageType string `json:"storageType" doc:"INTERNAL"`
	}
	voicemailJSON struct {
		Enabled             bool                    `json:"enabled"`
		SendAllCalls        voicemailEnabledJSON    `json:"sendAllCalls"`
		SendBusyCalls       voicemailBusyJSON       `json:"sendBusyCalls"`
		SendUnansweredCalls voicemailUnansweredJSON `json:"sendUnansweredCalls"`
		Notifications       voicemailEnabledJSON    `json:"notifications"`
		TransferToNumber    voicemailEnabledJSON    `json:"transferToNumber"`
		EmailCopyOfMessage  voicemailEnabledJSON    `json:"emailCopyOfMessage"`
		MessageStorage      voicemailStorageJSON    `json:"messageStorage"`
		FaxMessage          voicemailEnabledJSON    `json:"faxMessage"`
	}
	voicemailBusyPut struct {
		Enabled *bool `json:"enabled"`
	}
	voicemailUnansweredPut struct {
		Enabled       *bool `json:"enabled"`
		NumberOfRings *int  `json:"numberOfRings" doc:"1..20"`
	}
	voicemailPutBody struct {
		Enabled             *bool                   `json:"enabled"`
		SendBusyCalls       *voicemailBusyPut       `json:"sendBusyCalls"`
		SendUnansweredCalls *voicemailUnansweredPut `json:"sendUnansweredCalls"`
		SendAllCalls        map[string]any          `json:"sendAllCalls,omitempty" doc:"accepted and ignored"`
		Notifications       map[string]any          `json:"notifications,omitempty" doc:"accepted and ignored"`
		TransferToNumber    map[string]any          `json:"transferToNumber,omitempty" doc:"accepted and ignored"`
		EmailCopyOfMessage  map[string]any          `json:"emailCopyOfMessage,omitempty" doc:"accepted and ignored"`
		MessageStorage      map[string]any          `json:"messageStorage,omitempty" doc:"accepted and ignored"`
		FaxMessage          map[string]any          `json:"faxMessage,omitempty" doc:"accepted and ignored"`
	}
)

// voicemailOf is a person's settings, defaults when it has none.
func voicemailOf(p *callrec.Person) callrec.VoicemailSettings {
	v := callrec.VoicemailSettings{UnansweredRings: callrec.DefaultUnansweredRings}
	if p.Voicemail != nil {
		v = *p.Voicemail
	}
	if v.UnansweredRings <= 0 {
		v.UnansweredRings = callrec.DefaultUnansweredRings
	}
	return v
}

func renderVoicemail(v callrec.VoicemailSettings) voicemailJSON {
	return voicemailJSON{Enabled: v.Enabled,
		SendBusyCalls:       voicemailBusyJSON{Enabled: v.SendBusy, Greeting: "DEFAULT"},
		SendUnansweredCalls: voicemailUnansweredJSON{Enabled: v.SendUnanswered, Greeting: "DEFAULT", NumberOfRings: v.UnansweredRings, SystemMaxNumberOfRings: maxRings},
		MessageStorage:      voicemailStorageJSON{MWIEnabled: true, StorageType: "INTERNAL"}}
}

// vmPerson resolves the person of the path and checks that tok may do p
// to it: the person itself may, else the admin roles (scope.go).
func (s *server) vmPerson(ctx context.Context, tx directory.Tx, r *http.Request, tok *callrec.Token, org *callrec.Org, p perm) (*callrec.Person, error) {
	person, err := dirLoad(ctx, tx, directory.People, org.ID, idPerson, "Person", r.PathValue("personId"))
	if err != nil {
		return nil, err
	}
	if tok.PersonID == person.ID && tok.OrgID == org.ID {
		return person, nil
	}
	if err := require(tok, org, p, person.LocationID); err != nil {
		return nil, err
	}
	return person, nil
}

// vmGetSettings is GET /v1/people/{personId}/features/voicemail.
func (s *server) vmGetSettings(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, err := s.actingOrg(r, tok)
	if err != nil {
		return err
	}
	var out voicemailJSON
	err = s.store.View(r.Context(), func(tx directory.Tx) error {
		p, err := s.vmPerson(r.Context(), tx, r, tok, org, permRead)
		if err != nil {
			return err
		}
		out = renderVoicemail(voicemailOf(p))
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// vmPutSettings is PUT /v1/people/{personId}/features/voicemail.
func (s *server) vmPutSettings(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, err := s.actingOrg(r, tok)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// Rights before the body, so a refused caller learns nothing of it.
	if err := s.store.View(ctx, func(tx directory.Tx) error {
		_, err := s.vmPerson(ctx, tx, r, tok, org, permWrite)
		return err
	}); err != nil {
		return err
	}
	var body voicemailPutBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	if u := body.SendUnansweredCalls; u != nil && u.NumberOfRings != nil && (*u.NumberOfRings < 1 || *u.NumberOfRings > maxRings) {
		return badRequestf("sendUnansweredCalls.numberOfRings: %d is out of range 1..%d", *u.NumberOfRings, maxRings)
	}
	return noContent(w, s.store.Update(ctx, func(tx directory.Tx) error {
		p, err := s.vmPerson(ctx, tx, r, tok, org, permWrite)
		if err != nil {
			return err
		}
		before := p.Voicemail
		v := voicemailOf(p)
		if body.Enabled != nil {
			v.Enabled = *body.Enabled
		}
		if b := body.SendBusyCalls; b != nil && b.Enabled != nil {
			v.SendBusy = *b.Enabled
		}
		if u := body.SendUnansweredCalls; u != nil {
			if u.Enabled != nil {
				v.SendUnanswered = *u.Enabled
			}
			if u.NumberOfRings != nil {
				v.UnansweredRings = *u.NumberOfRings
			}
		}
		p.Voicemail = &v
		if err := directory.People.Put(ctx, tx, p); err != nil {
			return fmt.Errorf("api: person: %w", err)
		}
		return s.audit(ctx, tx, tok, org.ID, "update", auditVoicemail, p.ID, before, p.Voicemail)
	}))
}
