package api

// Compliance announcement (§7; R17, R18) and recording announcements (§8)
// at org and location level. A location either follows the org (its
// override is nil) or has its own copy (R17).

import (
	"context"
	"fmt"
	"net/http"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// Announcement selector types (§2.4).
const (
	crAnnCustom  = "CUSTOM"
	crAnnDefault = "DEFAULT"
)

// callRecordingComplianceJSON is GetOrgComplianceAnnouncementObject (§7.1).
type callRecordingComplianceJSON struct {
	InboundPSTNCallsEnabled       bool                               `json:"inboundPSTNCallsEnabled" doc:"play \"this call may be recorded\" to inbound PSTN callers before answer (R17, R18)"`
	OutboundPSTNCallsEnabled      bool                               `json:"outboundPSTNCallsEnabled" doc:"play it to outbound PSTN callees after answer (R17, R18)"`
	OutboundPSTNCallsDelayEnabled bool                               `json:"outboundPSTNCallsDelayEnabled"`
	DelayInSeconds                int                                `json:"delayInSeconds" doc:"outbound delay, integer 0..60 (R18, §12 D9)"`
	UseCustomAnnouncementEnabled  bool                               `json:"useCustomAnnouncementEnabled"`
	AudioAnnouncementFile         *callRecordingAnnouncementFileJSON `json:"audioAnnouncementFile,omitempty"`
}

// callRecordingCompliancePutBody is the org compliance PUT (§7.2).
type callRecordingCompliancePutBody struct {
	InboundPSTNCallsEnabled       *bool   `json:"inboundPSTNCallsEnabled"`
	OutboundPSTNCallsEnabled      *bool   `json:"outboundPSTNCallsEnabled"`
	OutboundPSTNCallsDelayEnabled *bool   `json:"outboundPSTNCallsDelayEnabled"`
	DelayInSeconds                *int    `json:"delayInSeconds" doc:"integer 0..60 (R18)"`
	UseCustomAnnouncementEnabled  *bool   `json:"useCustomAnnouncementEnabled" doc:"true needs audioAnnouncementFileId (now or stored before)"`
	AudioAnnouncementFileID       *string `json:"audioAnnouncementFileId" doc:"an ANNOUNCEMENT id of the org"`
}

// callRecordingAnnouncementJSON is a response-side announcement selector (§2.4).
type callRecordingAnnouncementJSON struct {
	Type                  string                             `json:"type" doc:"CUSTOM or DEFAULT"`
	AudioAnnouncementFile *callRecordingAnnouncementFileJSON `json:"audioAnnouncementFile,omitempty"`
}

// callRecordingAnnouncementFileRef is the id of a file in a request body;
// only accepted so that a GET body can be PUT back.
type callRecordingAnnouncementFileRef struct {
	ID string `json:"id"`
}

// callRecordingAnnouncementPut is a request-side announcement selector (§2.4).
type callRecordingAnnouncementPut struct {
	Type                    *string                           `json:"type" doc:"required: CUSTOM or DEFAULT"`
	AudioAnnouncementFileID *string                           `json:"audioAnnouncementFileId" doc:"required with CUSTOM: an ANNOUNCEMENT id of the org or the location"`
	AudioAnnouncementFile   *callRecordingAnnouncementFileRef `json:"audioAnnouncementFile,omitempty" doc:"accepted in place of audioAnnouncementFileId, so a GET body can be PUT back"`
}

// callRecordingLocationComplianceJSON is GetComplianceAnnouncementObject (§7.3).
type callRecordingLocationComplianceJSON struct {
	InboundPSTNCallsEnabled        bool                          `json:"inboundPSTNCallsEnabled"`
	UseOrgSettingsEnabled          bool                          `json:"useOrgSettingsEnabled" doc:"the location follows the org's compliance announcement (R17)"`
	OutboundPSTNCallsEnabled       bool                          `json:"outboundPSTNCallsEnabled"`
	OutboundPSTNCallsDelayEnabled  bool                          `json:"outboundPSTNCallsDelayEnabled"`
	DelayInSeconds                 int                           `json:"delayInSeconds"`
	UseOrgLevelAnnouncementEnabled bool                          `json:"useOrgLevelAnnouncementEnabled" doc:"play the org's announcement (true) or the location's own (false)"`
	CustomComplianceAnnouncement   callRecordingAnnouncementJSON `json:"customComplianceAnnouncement"`
}

// callRecordingLocationCompliancePutBody is the location compliance PUT (§7.4).
type callRecordingLocationCompliancePutBody struct {
	InboundPSTNCallsEnabled        *bool                         `json:"inboundPSTNCallsEnabled"`
	UseOrgSettingsEnabled          *bool                         `json:"useOrgSettingsEnabled" doc:"true: follow the org (other fields are then ignored); false: the location's own settings (R17)"`
	OutboundPSTNCallsEnabled       *bool                         `json:"outboundPSTNCallsEnabled"`
	OutboundPSTNCallsDelayEnabled  *bool                         `json:"outboundPSTNCallsDelayEnabled"`
	DelayInSeconds                 *int                          `json:"delayInSeconds" doc:"integer 0..60 (R18)"`
	UseOrgLevelAnnouncementEnabled *bool                         `json:"useOrgLevelAnnouncementEnabled"`
	CustomComplianceAnnouncement   *callRecordingAnnouncementPut `json:"customComplianceAnnouncement"`
}

// callRecordingAnnouncementsJSON is GetOrgCallRecordingAnnouncementObject (§8.1).
type callRecordingAnnouncementsJSON struct {
	Start                  callRecordingAnnouncementJSON `json:"start"`
	Stop                   callRecordingAnnouncementJSON `json:"stop"`
	Pause                  callRecordingAnnouncementJSON `json:"pause"`
	Resume                 callRecordingAnnouncementJSON `json:"resume"`
	FailureProceedWithCall callRecordingAnnouncementJSON `json:"failureProceedWithCall"`
	FailureEndWithCall     callRecordingAnnouncementJSON `json:"failureEndWithCall"`
}

// callRecordingAnnouncementsPutBody is the org announcements PUT (§8.2).
type callRecordingAnnouncementsPutBody struct {
	Start                  *callRecordingAnnouncementPut `json:"start"`
	Stop                   *callRecordingAnnouncementPut `json:"stop"`
	Pause                  *callRecordingAnnouncementPut `json:"pause"`
	Resume                 *callRecordingAnnouncementPut `json:"resume"`
	FailureProceedWithCall *callRecordingAnnouncementPut `json:"failureProceedWithCall"`
	FailureEndWithCall     *callRecordingAnnouncementPut `json:"failureEndWithCall"`
}

// callRecordingLocationAnnouncementsJSON is the location announcements
// (§8.3): the org's six choices (the fields of the embedded struct, in
// the same order) after useOrgLevelAnnouncementEnabled.
type callRecordingLocationAnnouncementsJSON struct {
	UseOrgLevelAnnouncementEnabled bool `json:"useOrgLevelAnnouncementEnabled" doc:"the location plays the org's announcements"`
	callRecordingAnnouncementsJSON
}

// callRecordingLocationAnnouncementsPutBody is the location announcements PUT (§8.4).
type callRecordingLocationAnnouncementsPutBody struct {
	UseOrgLevelAnnouncementEnabled *bool                         `json:"useOrgLevelAnnouncementEnabled" doc:"true: play the org's (other fields are then ignored)"`
	Start                          *callRecordingAnnouncementPut `json:"start"`
	Stop                           *callRecordingAnnouncementPut `json:"stop"`
	Pause                          *callRecordingAnnouncementPut `json:"pause"`
	Resume                         *callRecordingAnnouncementPut `json:"resume"`
	FailureProceedWithCall         *callRecordingAnnouncementPut `json:"failureProceedWithCall"`
	FailureEndWithCall             *callRecordingAnnouncementPut `json:"failureEndWithCall"`
}

// crSelector renders one announcement choice.
func crSelector(ctx context.Context, tx directory.Tx, orgID string, custom bool, fileID string) (callRecordingAnnouncementJSON, error) {
	if !custom {
		return callRecordingAnnouncementJSON{Type: crAnnDefault}, nil
	}
	f, err := crAnnouncementFile(ctx, tx, orgID, fileID)
	if err != nil {
		return callRecordingAnnouncementJSON{}, err
	}
	return callRecordingAnnouncementJSON{Type: crAnnCustom, AudioAnnouncementFile: f}, nil
}

// crApplySelector applies a request selector to choice; field names it in
// errors. locationID "" accepts org-level files only.
func crApplySelector(ctx context.Context, tx directory.Tx, orgID, locationID, field string, in *callRecordingAnnouncementPut, custom *bool, fileID *string) error {
	if in == nil {
		return nil
	}
	if in.Type == nil {
		return badRequestf("%s.type: required (%s or %s)", field, crAnnCustom, crAnnDefault)
	}
	if err := checkEnum(field+".type", *in.Type, crAnnCustom, crAnnDefault); err != nil {
		return err
	}
	if *in.Type == crAnnDefault {
		*custom, *fileID = false, ""
		return nil
	}
	raw := ""
	switch {
	case in.AudioAnnouncementFileID != nil && *in.AudioAnnouncementFileID != "":
		raw = *in.AudioAnnouncementFileID
	case in.AudioAnnouncementFile != nil && in.AudioAnnouncementFile.ID != "":
		raw = in.AudioAnnouncementFile.ID
	default:
		return badRequestf("%s.audioAnnouncementFileId: required when %s.type is %s", field, field, crAnnCustom)
	}
	id, err := crFileID(ctx, tx, orgID, locationID, field+".audioAnnouncementFileId", raw)
	if err != nil {
		return err
	}
	*custom, *fileID = true, id
	return nil
}

// crRenderCompliance renders an org-level compliance setting.
func crRenderCompliance(ctx context.Context, tx directory.Tx, orgID string, c callrec.ComplianceAnnouncement) (callRecordingComplianceJSON, error) {
	out := callRecordingComplianceJSON{
		InboundPSTNCallsEnabled: c.Inbound, OutboundPSTNCallsEnabled: c.Outbound,
		OutboundPSTNCallsDelayEnabled: c.OutboundDelay, DelayInSeconds: c.DelaySeconds,
		UseCustomAnnouncementEnabled: c.UseCustom,
	}
	if c.UseCustom || c.CustomFileID != "" {
		f, err := crAnnouncementFile(ctx, tx, orgID, c.CustomFileID)
		if err != nil {
			return out, err
		}
		out.AudioAnnouncementFile = f
	}
	return out, nil
}

// crGetOrgCompliance is GET /v1/telephony/config/callRecording/complianceAnnouncement (§7.1).
func (s *server) crGetOrgCompliance(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.crViewJSON(w, r, org.ID, func(tx directory.Tx, snap *policy.Snapshot) (any, error) {
		return crRenderCompliance(r.Context(), tx, org.ID, snap.Org.Recording.Compliance)
	})
}

// crApplyCompliance applies the fields common to the org and location PUTs.
func crApplyCompliance(c *callrec.ComplianceAnnouncement, inbound, outbound, delayOn *bool, delay *int) {
	if inbound != nil {
		c.Inbound = *inbound
	}
	if outbound != nil {
		c.Outbound = *outbound
	}
	if delayOn != nil {
		c.OutboundDelay = *delayOn
	}
	if delay != nil {
		c.DelaySeconds = *delay
	}
}

// crPutOrgCompliance is PUT /v1/telephony/config/callRecording/complianceAnnouncement
// (§7.2): checked by policy (R18: delay 0..60, a custom announcement
// needs a file).
func (s *server) crPutOrgCompliance(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	if err := require(tok, org, permWrite, ""); err != nil {
		return err
	}
	var body callRecordingCompliancePutBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	ctx := r.Context()
	return noContent(w, s.crUpdateOrg(ctx, tok, org.ID, func(tx directory.Tx, rec *callrec.OrgRecording) error {
		c := &rec.Compliance
		crApplyCompliance(c, body.InboundPSTNCallsEnabled, body.OutboundPSTNCallsEnabled, body.OutboundPSTNCallsDelayEnabled, body.DelayInSeconds)
		if body.UseCustomAnnouncementEnabled != nil {
			c.UseCustom = *body.UseCustomAnnouncementEnabled
		}
		if body.AudioAnnouncementFileID != nil {
			if *body.AudioAnnouncementFileID == "" {
				c.CustomFileID = ""
			} else {
				id, err := crFileID(ctx, tx, org.ID, "", "audioAnnouncementFileId", *body.AudioAnnouncementFileID)
				if err != nil {
					return err
				}
				c.CustomFileID = id
			}
		}
		return ruleError(policy.CheckCompliance(*c))
	}))
}

// crUpdateOrg changes the org's recording settings with fn in one
// transaction and audits the change.
func (s *server) crUpdateOrg(ctx context.Context, tok *callrec.Token, orgID string, fn func(tx directory.Tx, rec *callrec.OrgRecording) error) error {
	return s.store.Update(ctx, func(tx directory.Tx) error {
		cur, err := directory.Orgs.Get(ctx, tx, "", orgID)
		if err != nil {
			return fmt.Errorf("api: org: %w", err)
		}
		before := cur.Recording
		if err := fn(tx, &cur.Recording); err != nil {
			return err
		}
		if err := directory.Orgs.Put(ctx, tx, cur); err != nil {
			return fmt.Errorf("api: org: %w", err)
		}
		return s.audit(ctx, tx, tok, orgID, "update", auditOrgRecording, orgID, before, cur.Recording)
	})
}

// crUpdateLocation changes a location's recording overrides with fn in one
// transaction, after checking that tok may change that location, and
// audits the change.
func (s *server) crUpdateLocation(ctx context.Context, tok *callrec.Token, org *callrec.Org, rawID string, fn func(tx directory.Tx, snap *policy.Snapshot, loc *callrec.Location) error) error {
	return s.store.Update(ctx, func(tx directory.Tx) error {
		loc, err := crLocation(ctx, tx, org.ID, rawID)
		if err != nil {
			return err
		}
		if err := require(tok, org, permWrite, loc.ID); err != nil {
			return err
		}
		snap, err := crSnapshot(ctx, tx, org.ID)
		if err != nil {
			return err
		}
		before := loc.Recording
		if err := fn(tx, snap, loc); err != nil {
			return err
		}
		if err := directory.Locations.Put(ctx, tx, loc); err != nil {
			return fmt.Errorf("api: location: %w", err)
		}
		return s.audit(ctx, tx, tok, org.ID, "update", auditLocationRecording, loc.ID, before, loc.Recording)
	})
}

// crGetLocationCompliance is GET .../locations/{locationId}/callRecording/complianceAnnouncement
// (§7.3): the values in force at the location (R17).
func (s *server) crGetLocationCompliance(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.crViewJSON(w, r, org.ID, func(tx directory.Tx, snap *policy.Snapshot) (any, error) {
		loc, err := crLocation(r.Context(), tx, org.ID, r.PathValue("locationId"))
		if err != nil {
			return nil, err
		}
		own := loc.Recording.Compliance
		c := snap.Compliance(loc.ID)
		sel, err := crSelector(r.Context(), tx, org.ID, c.UseCustom, c.CustomFileID)
		if err != nil {
			return nil, err
		}
		return callRecordingLocationComplianceJSON{
			InboundPSTNCallsEnabled: c.Inbound, UseOrgSettingsEnabled: own == nil,
			OutboundPSTNCallsEnabled: c.Outbound, OutboundPSTNCallsDelayEnabled: c.OutboundDelay,
			DelayInSeconds:                 c.DelaySeconds,
			UseOrgLevelAnnouncementEnabled: own == nil || own.UseOrgCustomFile,
			CustomComplianceAnnouncement:   sel,
		}, nil
	})
}

// crPutLocationCompliance is PUT .../locations/{locationId}/callRecording/complianceAnnouncement
// (§7.4). useOrgSettingsEnabled true returns the location to the org's
// setting (R17: no override). Otherwise the location gets its own
// setting: the stored one, or a copy of the org's when it had none, with
// the body's fields applied.
func (s *server) crPutLocationCompliance(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var body callRecordingLocationCompliancePutBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	ctx := r.Context()
	return noContent(w, s.crUpdateLocation(ctx, tok, org, r.PathValue("locationId"), func(tx directory.Tx, snap *policy.Snapshot, loc *callrec.Location) error {
		if isTrue(body.UseOrgSettingsEnabled) {
			loc.Recording.Compliance = nil
			return nil
		}
		var c callrec.ComplianceAnnouncement
		if loc.Recording.Compliance != nil {
			c = *loc.Recording.Compliance
		} else {
			c = snap.Org.Recording.Compliance
			c.UseOrgCustomFile = false
		}
		crApplyCompliance(&c, body.InboundPSTNCallsEnabled, body.OutboundPSTNCallsEnabled, body.OutboundPSTNCallsDelayEnabled, body.DelayInSeconds)
		if body.UseOrgLevelAnnouncementEnabled != nil {
			c.UseOrgCustomFile = *body.UseOrgLevelAnnouncementEnabled
		}
		if err := crApplySelector(ctx, tx, org.ID, loc.ID, "customComplianceAnnouncement", body.CustomComplianceAnnouncement, &c.UseCustom, &c.CustomFileID); err != nil {
			return err
		}
		if err := policy.CheckCompliance(c); err != nil {
			return ruleError(err)
		}
		loc.Recording.Compliance = &c
		return nil
	}))
}

// crRenderAnnouncements renders the six announcement choices.
func crRenderAnnouncements(ctx context.Context, tx directory.Tx, orgID string, a callrec.Announcements) (callRecordingAnnouncementsJSON, error) {
	var out callRecordingAnnouncementsJSON
	for _, p := range []struct {
		dst *callRecordingAnnouncementJSON
		src callrec.AnnouncementChoice
	}{
		{&out.Start, a.Start}, {&out.Stop, a.Stop}, {&out.Pause, a.Pause}, {&out.Resume, a.Resume},
		{&out.FailureProceedWithCall, a.FailureProceed}, {&out.FailureEndWithCall, a.FailureEnd},
	} {
		sel, err := crSelector(ctx, tx, orgID, p.src.Custom, p.src.FileID)
		if err != nil {
			return out, err
		}
		*p.dst = sel
	}
	return out, nil
}

// crApplyAnnouncements applies the six selectors of a PUT to a.
func crApplyAnnouncements(ctx context.Context, tx directory.Tx, orgID, locationID string, a *callrec.Announcements, body *callRecordingAnnouncementsPutBody) error {
	for _, p := range []struct {
		field string
		in    *callRecordingAnnouncementPut
		dst   *callrec.AnnouncementChoice
	}{
		{"start", body.Start, &a.Start}, {"stop", body.Stop, &a.Stop},
		{"pause", body.Pause, &a.Pause}, {"resume", body.Resume, &a.Resume},
		{"failureProceedWithCall", body.FailureProceedWithCall, &a.FailureProceed},
		{"failureEndWithCall", body.FailureEndWithCall, &a.FailureEnd},
	} {
		if err := crApplySelector(ctx, tx, orgID, locationID, p.field, p.in, &p.dst.Custom, &p.dst.FileID); err != nil {
			return err
		}
	}
	return nil
}

// crGetOrgAnnouncements is GET /v1/telephony/config/callRecording/announcements (§8.1).
func (s *server) crGetOrgAnnouncements(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.crViewJSON(w, r, org.ID, func(tx directory.Tx, snap *policy.Snapshot) (any, error) {
		return crRenderAnnouncements(r.Context(), tx, org.ID, snap.Org.Recording.Announcements)
	})
}

// crPutOrgAnnouncements is PUT /v1/telephony/config/callRecording/announcements (§8.2).
func (s *server) crPutOrgAnnouncements(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	if err := require(tok, org, permWrite, ""); err != nil {
		return err
	}
	var body callRecordingAnnouncementsPutBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	ctx := r.Context()
	return noContent(w, s.crUpdateOrg(ctx, tok, org.ID, func(tx directory.Tx, rec *callrec.OrgRecording) error {
		return crApplyAnnouncements(ctx, tx, org.ID, "", &rec.Announcements, &body)
	}))
}

// crGetLocationAnnouncements is GET .../locations/{locationId}/callRecording/announcements (§8.3).
func (s *server) crGetLocationAnnouncements(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.crViewJSON(w, r, org.ID, func(tx directory.Tx, snap *policy.Snapshot) (any, error) {
		loc, err := crLocation(r.Context(), tx, org.ID, r.PathValue("locationId"))
		if err != nil {
			return nil, err
		}
		a, err := crRenderAnnouncements(r.Context(), tx, org.ID, snap.Announcements(loc.ID))
		if err != nil {
			return nil, err
		}
		return callRecordingLocationAnnouncementsJSON{UseOrgLevelAnnouncementEnabled: loc.Recording.Announcements == nil,
			callRecordingAnnouncementsJSON: a}, nil
	})
}

// crPutLocationAnnouncements is PUT .../locations/{locationId}/callRecording/announcements
// (§8.4): useOrgLevelAnnouncementEnabled true follows the org; otherwise
// the location's own choices (a copy of the org's when it had none) with
// the body's applied.
func (s *server) crPutLocationAnnouncements(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var body callRecordingLocationAnnouncementsPutBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	ctx := r.Context()
	return noContent(w, s.crUpdateLocation(ctx, tok, org, r.PathValue("locationId"), func(tx directory.Tx, snap *policy.Snapshot, loc *callrec.Location) error {
		if isTrue(body.UseOrgLevelAnnouncementEnabled) {
			loc.Recording.Announcements = nil
			return nil
		}
		a := snap.Org.Recording.Announcements
		if loc.Recording.Announcements != nil {
			a = *loc.Recording.Announcements
		}
		sel := callRecordingAnnouncementsPutBody{Start: body.Start, Stop: body.Stop, Pause: body.Pause, Resume: body.Resume,
			FailureProceedWithCall: body.FailureProceedWithCall, FailureEndWithCall: body.FailureEndWithCall}
		if err := crApplyAnnouncements(ctx, tx, org.ID, loc.ID, &a, &sel); err != nil {
			return err
		}
		loc.Recording.Announcements = &a
		return nil
	}))
}
