package api

// Per-user call recording settings (§9): people, workspaces (people with a
// workspace licence) and virtual lines; the user's own read-only view
// (§9.6); and the effective settings support staff read (issue 4 point 6).
// Rules (R1, R2, R13, R24, R25, R28, R29, R31) are policy's; provisioning
// (R7, R32, R33) is provider's.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/provider"
)

// callRecordingNotificationJSON is the pause/resume notification (§9.2, R28).
type callRecordingNotificationJSON struct {
	Type    string `json:"type" doc:"None, Beep or Play Announcement"`
	Enabled bool   `json:"enabled"`
}

// callRecordingRepeatJSON is the repeat tone (§9.2, R29).
type callRecordingRepeatJSON struct {
	Interval int  `json:"interval" doc:"seconds, 10..90 (R29; Webex allows 10..1800)"`
	Enabled  bool `json:"enabled"`
}

// callRecordingStartStopJSON is the start/stop announcement (R27).
type callRecordingStartStopJSON struct {
	InternalCallsEnabled bool `json:"internalCallsEnabled"`
	PSTNCallsEnabled     bool `json:"pstnCallsEnabled"`
}

// callRecordingSelectiveJSON is selectiveCallRecordingSettings (§9.2).
type callRecordingSelectiveJSON struct {
	RecordInboundInternalCallsEnabled  bool `json:"recordInboundInternalCallsEnabled"`
	RecordInboundExternalCallsEnabled  bool `json:"recordInboundExternalCallsEnabled"`
	RecordOutboundInternalCallsEnabled bool `json:"recordOutboundInternalCallsEnabled"`
	RecordOutboundExternalCallsEnabled bool `json:"recordOutboundExternalCallsEnabled"`
}

// callRecordingAccessJSON is callRecordingAccessSettings (§9.2).
type callRecordingAccessJSON struct {
	ViewAndPlayRecordingsEnabled bool `json:"viewAndPlayRecordingsEnabled"`
	DownloadRecordingsEnabled    bool `json:"downloadRecordingsEnabled"`
	DeleteRecordingsEnabled      bool `json:"deleteRecordingsEnabled"`
	ShareRecordingsEnabled       bool `json:"shareRecordingsEnabled"`
}

// callRecordingInfoJSON is CallRecordingInfo (§9.2, §9.5). The person-only
// fields are absent for workspaces and virtual lines.
type callRecordingInfoJSON struct {
	Enabled                        bool                          `json:"enabled"`
	Record                         string                        `json:"record" doc:"Always, Never, Always with Pause/Resume or On Demand with User Initiated Start (R25)"`
	RecordVoicemailEnabled         bool                          `json:"recordVoicemailEnabled"`
	StartStopAnnouncementEnabled   *bool                         `json:"startStopAnnouncementEnabled,omitempty" doc:"people only"`
	Notification                   callRecordingNotificationJSON `json:"notification"`
	Repeat                         callRecordingRepeatJSON       `json:"repeat"`
	ServiceProvider                string                        `json:"serviceProvider" doc:"read-only (R30): the org id"`
	ExternalGroup                  string                        `json:"externalGroup" doc:"read-only (R30): the location id"`
	ExternalIdentifier             string                        `json:"externalIdentifier" doc:"read-only (R30): the provisioned id, else <id>@callrec"`
	StartStopAnnouncement          callRecordingStartStopJSON    `json:"startStopAnnouncement"`
	CallRecordingAccessSettings    *callRecordingAccessJSON      `json:"callRecordingAccessSettings,omitempty" doc:"people only; read-only (R3, R4)"`
	SelectiveCallRecordingSettings callRecordingSelectiveJSON    `json:"selectiveCallRecordingSettings"`
}

// callRecordingNotificationPut is the notification of a PUT (§12 D6).
type callRecordingNotificationPut struct {
	Type    *string `json:"type" doc:"Beep, Play Announcement, or null (None is read as null); enabled without a type means Beep"`
	Enabled *bool   `json:"enabled"`
}

// callRecordingRepeatPut is the repeat tone of a PUT.
type callRecordingRepeatPut struct {
	Interval *int  `json:"interval" doc:"seconds, 10..90 (R29)"`
	Enabled  *bool `json:"enabled"`
}

// callRecordingStartStopPut is the start/stop announcement of a PUT.
type callRecordingStartStopPut struct {
	InternalCallsEnabled *bool `json:"internalCallsEnabled"`
	PSTNCallsEnabled     *bool `json:"pstnCallsEnabled"`
}

// callRecordingSelectivePut is selectiveCallRecordingSettings of a PUT.
type callRecordingSelectivePut struct {
	RecordInboundInternalCallsEnabled  *bool `json:"recordInboundInternalCallsEnabled"`
	RecordInboundExternalCallsEnabled  *bool `json:"recordInboundExternalCallsEnabled"`
	RecordOutboundInternalCallsEnabled *bool `json:"recordOutboundInternalCallsEnabled"`
	RecordOutboundExternalCallsEnabled *bool `json:"recordOutboundExternalCallsEnabled"`
}

// callRecordingInfoPutBody is the PUT of a workspace or virtual line
// (§9.5); every field optional (§1.1), read-only fields ignored.
type callRecordingInfoPutBody struct {
	Enabled                        *bool                         `json:"enabled"`
	Record                         *string                       `json:"record" doc:"Always, Never, Always with Pause/Resume, On Demand with User Initiated Start (legacy On Demand accepted)"`
	RecordVoicemailEnabled         *bool                         `json:"recordVoicemailEnabled"`
	Notification                   *callRecordingNotificationPut `json:"notification"`
	Repeat                         *callRecordingRepeatPut       `json:"repeat"`
	StartStopAnnouncement          *callRecordingStartStopPut    `json:"startStopAnnouncement"`
	SelectiveCallRecordingSettings *callRecordingSelectivePut    `json:"selectiveCallRecordingSettings"`
}

// callRecordingPersonPutBody is the PUT of a person (§9.3).
type callRecordingPersonPutBody struct {
	Enabled                        *bool                         `json:"enabled"`
	Record                         *string                       `json:"record" doc:"Always, Never, Always with Pause/Resume, On Demand with User Initiated Start (legacy On Demand accepted)"`
	RecordVoicemailEnabled         *bool                         `json:"recordVoicemailEnabled"`
	StartStopAnnouncementEnabled   *bool                         `json:"startStopAnnouncementEnabled"`
	Notification                   *callRecordingNotificationPut `json:"notification"`
	Repeat                         *callRecordingRepeatPut       `json:"repeat"`
	StartStopAnnouncement          *callRecordingStartStopPut    `json:"startStopAnnouncement"`
	SelectiveCallRecordingSettings *callRecordingSelectivePut    `json:"selectiveCallRecordingSettings"`
}

// person widens a workspace or line body to the person body.
func (b *callRecordingInfoPutBody) person() callRecordingPersonPutBody {
	return callRecordingPersonPutBody{
		Enabled: b.Enabled, Record: b.Record, RecordVoicemailEnabled: b.RecordVoicemailEnabled,
		Notification: b.Notification, Repeat: b.Repeat, StartStopAnnouncement: b.StartStopAnnouncement,
		SelectiveCallRecordingSettings: b.SelectiveCallRecordingSettings,
	}
}

// setBool copies an optional boolean.
func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// crApplyUser applies a PUT body to the stored settings (a partial
// update, §1.1). It checks the spellings of the enums (record, D5;
// notification.type, D6); ranges and prerequisites are policy's
// (CheckUserRecording).
func crApplyUser(prev callrec.UserRecording, b *callRecordingPersonPutBody) (callrec.UserRecording, error) {
	next := prev
	setBool(&next.Enabled, b.Enabled)
	if b.Record != nil {
		mode, ok := crRecordIn[*b.Record]
		if !ok {
			return prev, checkEnum("record", *b.Record, crRecordAlways, crRecordNever, crRecordPauseResume, crRecordOnDemand, crRecordLegacy)
		}
		next.Mode = mode
	}
	setBool(&next.RecordVoicemail, b.RecordVoicemailEnabled)
	setBool(&next.StartStopAnnouncement, b.StartStopAnnouncementEnabled)
	if n := b.Notification; n != nil {
		if n.Type != nil && *n.Type != crNotifyNone {
			switch *n.Type {
			case crNotifyBeep:
				next.Notification = callrec.NotifyBeep
			case crNotifyAnnouncement:
				next.Notification = callrec.NotifyAnnouncement
			default:
				return prev, checkEnum("notification.type", *n.Type, crNotifyBeep, crNotifyAnnouncement, crNotifyNone)
			}
		}
		setBool(&next.NotificationEnabled, n.Enabled)
	}
	// §12 D6: enabled without a type means Beep.
	if next.NotificationEnabled && (next.Notification == callrec.NotifyNone || next.Notification == "") {
		next.Notification = callrec.NotifyBeep
	}
	if rp := b.Repeat; rp != nil {
		if rp.Interval != nil {
			next.RepeatInterval = *rp.Interval
		}
		setBool(&next.RepeatEnabled, rp.Enabled)
	}
	if ss := b.StartStopAnnouncement; ss != nil {
		setBool(&next.StartStopInternal, ss.InternalCallsEnabled)
		setBool(&next.StartStopPSTN, ss.PSTNCallsEnabled)
	}
	if sel := b.SelectiveCallRecordingSettings; sel != nil {
		setBool(&next.Selective.InboundInternal, sel.RecordInboundInternalCallsEnabled)
		setBool(&next.Selective.InboundExternal, sel.RecordInboundExternalCallsEnabled)
		setBool(&next.Selective.OutboundInternal, sel.RecordOutboundInternalCallsEnabled)
		setBool(&next.Selective.OutboundExternal, sel.RecordOutboundExternalCallsEnabled)
	}
	return next, nil
}

// crTargetKind says which path named the target.
type crTargetKind int

const (
	crPerson crTargetKind = iota
	crWorkspace
	crLine
)

// crTarget is a resolved person, workspace or virtual line.
type crTarget struct {
	kind   crTargetKind
	target policy.Target
}

func (t *crTarget) id() string {
	if t.target.Person != nil {
		return t.target.Person.ID
	}
	return t.target.Line.ID
}

func (t *crTarget) locationID() string {
	if t.target.Person != nil {
		return t.target.Person.LocationID
	}
	return t.target.Line.LocationID
}

func (t *crTarget) externalID() string {
	if t.target.Person != nil {
		return t.target.Person.ExternalID
	}
	return t.target.Line.ExternalID
}

func (t *crTarget) settings() callrec.UserRecording {
	if t.target.Person != nil {
		return t.target.Person.Recording
	}
	return t.target.Line.Recording
}

// crResolve finds the target of the path in the org: 404 naming it when
// the id does not parse, names another org's object, or (workspace path)
// a person who is not a workspace.
func crResolve(ctx context.Context, tx directory.Tx, orgID string, kind crTargetKind, raw string) (*crTarget, error) {
	switch kind {
	case crLine:
		l, err := dirLoad(ctx, tx, directory.VirtualLines, orgID, idVirtualLine, "Virtual line", raw)
		if err != nil {
			return nil, err
		}
		return &crTarget{kind: kind, target: policy.Target{Line: l}}, nil
	case crWorkspace:
		id, ok := parseID(idWorkspacePlace, raw)
		if !ok {
			id, ok = parseID(idPerson, raw)
		}
		var p *callrec.Person
		var err error
		if ok {
			p, err = directory.People.Get(ctx, tx, orgID, id)
		}
		if !ok || directory.IsNotFound(err) || (err == nil && !isWorkspace(p)) {
			return nil, notFoundf("Workspace %s was not found", quote(raw))
		}
		if err != nil {
			return nil, fmt.Errorf("api: workspace: %w", err)
		}
		return &crTarget{kind: kind, target: policy.Target{Person: p}}, nil
	}
	p, err := dirLoad(ctx, tx, directory.People, orgID, idPerson, "Person", raw)
	if err != nil {
		return nil, err
	}
	return &crTarget{kind: kind, target: policy.Target{Person: p}}, nil
}

// crR30 returns the recording platform ids of a target (R30). callrec has
// no BroadWorks enterprise or group, so the org id is the service
// provider and the location id the external group; the external
// identifier is the id the provider knows the target by once it is
// provisioned, else <callrec id>@callrec, in the user@domain style of
// Webex's own identifiers.
func crR30(orgID string, t *crTarget) (serviceProvider, group, ident string) {
	ident = t.externalID()
	if ident == "" {
		ident = t.id() + "@callrec"
	}
	return orgID, t.locationID(), ident
}

// crAccess derives a person's access to their own recordings (R3, R4):
// with the built-in provider the recorded user may view, download and
// delete their recordings on every plan (the free plan gives only the
// user access; paid plans add provider admins, not the user's sharing);
// sharing is not offered. With an external provider or none, callrec
// grants nothing: the vendor decides.
func crAccess(snap *policy.Snapshot, locationID string) *callRecordingAccessJSON {
	p := snap.Provider(locationID)
	own := p != nil && p.BuiltIn
	return &callRecordingAccessJSON{ViewAndPlayRecordingsEnabled: own, DownloadRecordingsEnabled: own, DeleteRecordingsEnabled: own}
}

// crSettingsParts renders the parts of the settings every shape shares.
func crSettingsParts(u callrec.UserRecording) (callRecordingNotificationJSON, callRecordingRepeatJSON, callRecordingStartStopJSON, callRecordingSelectiveJSON) {
	return callRecordingNotificationJSON{Type: notifySpelling(u.Notification), Enabled: u.NotificationEnabled},
		callRecordingRepeatJSON{Interval: u.RepeatInterval, Enabled: u.RepeatEnabled},
		callRecordingStartStopJSON{InternalCallsEnabled: u.StartStopInternal, PSTNCallsEnabled: u.StartStopPSTN},
		callRecordingSelectiveJSON{
			RecordInboundInternalCallsEnabled: u.Selective.InboundInternal, RecordInboundExternalCallsEnabled: u.Selective.InboundExternal,
			RecordOutboundInternalCallsEnabled: u.Selective.OutboundInternal, RecordOutboundExternalCallsEnabled: u.Selective.OutboundExternal,
		}
}

// crRenderInfo renders a target's settings (§9.2, §9.5).
func crRenderInfo(snap *policy.Snapshot, t *crTarget) callRecordingInfoJSON {
	u := t.settings()
	sp, group, ident := crR30(snap.Org.ID, t)
	n, rp, ss, sel := crSettingsParts(u)
	out := callRecordingInfoJSON{
		Enabled: u.Enabled, Record: recordSpelling(u.Mode), RecordVoicemailEnabled: u.RecordVoicemail,
		Notification: n, Repeat: rp, ServiceProvider: sp, ExternalGroup: group, ExternalIdentifier: ident,
		StartStopAnnouncement: ss, SelectiveCallRecordingSettings: sel,
	}
	if t.kind == crPerson {
		ssa := u.StartStopAnnouncement
		out.StartStopAnnouncementEnabled = &ssa
		out.CallRecordingAccessSettings = crAccess(snap, t.locationID())
	}
	return out
}

// crGetTarget serves the GET of §9.1 for kind.
func (s *server) crGetTarget(kind crTargetKind, param string) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
		return s.crViewJSON(w, r, org.ID, func(tx directory.Tx, snap *policy.Snapshot) (any, error) {
			t, err := crResolve(r.Context(), tx, org.ID, kind, r.PathValue(param))
			if err != nil {
				return nil, err
			}
			return crRenderInfo(snap, t), nil
		})
	}
}

// crPutTarget serves the PUT of §9.1 for kind: the body is applied to the
// stored settings, checked by policy (R1 licence, so a workspace cannot
// be enabled; R2; R13 409; R14..R16 and R31 a provider; R25, R28, R29),
// normalised (R24: turning recording off resets the settings), stored
// and audited; a target that becomes enabled is provisioned (R7, R11,
// R32; nothing for external providers, R10, R33). Location admins may
// change only targets of their locations.
func (s *server) crPutTarget(kind crTargetKind, param string) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		var body callRecordingPersonPutBody
		if kind == crPerson {
			if err := decodeBody(r, &body, true); err != nil {
				return err
			}
		} else {
			var b callRecordingInfoPutBody
			if err := decodeBody(r, &b, true); err != nil {
				return err
			}
			body = b.person()
		}
		return s.updateNoContent(w, r, func(ctx context.Context, tx directory.Tx) error {
			t, err := crResolve(ctx, tx, org.ID, kind, r.PathValue(param))
			if err != nil {
				return err
			}
			if err := require(tok, org, permWrite, t.locationID()); err != nil {
				return err
			}
			snap, err := crSnapshot(ctx, tx, org.ID)
			if err != nil {
				return err
			}
			prev := t.settings()
			next, err := crApplyUser(prev, &body)
			if err != nil {
				return err
			}
			if err := policy.CheckUserRecording(snap, t.target, next); err != nil {
				return ruleError(err)
			}
			next = policy.NormalizeUserRecording(prev, next)
			objType := auditPersonRecording
			if p := t.target.Person; p != nil {
				p.Recording = next
				err = directory.People.Put(ctx, tx, p)
			} else {
				objType = auditLineRecording
				t.target.Line.Recording = next
				err = directory.VirtualLines.Put(ctx, tx, t.target.Line)
			}
			if err != nil {
				return fmt.Errorf("api: store recording settings of %s: %w", t.id(), err)
			}
			if err := s.audit(ctx, tx, tok, org.ID, "update", objType, t.id(), prev, next); err != nil {
				return err
			}
			if prev.Enabled || !next.Enabled {
				return nil
			}
			return crProvision(ctx, tx, snap, t.target, crActor(tok), s.now().UTC())
		})
	}
}

// crActor is the provisioning actor of a token (R11, R12).
func crActor(tok *callrec.Token) provider.Actor {
	return provider.Actor{Email: actor(tok), PartnerAdmin: isPartner(tok)}
}

// crProvision provisions an enabled target at its provider (R7, R32;
// external providers: nothing, R10, R33). Errors of a client kind reach
// the client with their message.
func crProvision(ctx context.Context, tx directory.Tx, snap *policy.Snapshot, t policy.Target, by provider.Actor, now time.Time) error {
	if err := provider.Provision(ctx, tx, snap, t, by, now); err != nil {
		return ruleError(fmt.Errorf("api: provision: %w", err))
	}
	return nil
}

// callRecordingMeVendorJSON is the vendor of the Me API (§9.6).
type callRecordingMeVendorJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	LoginURL string `json:"loginUrl"`
}

// callRecordingMeJSON is the user's own settings (§9.6).
type callRecordingMeJSON struct {
	Enabled                        bool                       `json:"enabled"`
	Vendor                         callRecordingMeVendorJSON  `json:"vendor"`
	RecordingMode                  string                     `json:"recordingMode" doc:"Always, Never, Always with Pause/Resume or On Demand with User Initiated Start"`
	PauseResumeNotifyMethod        string                     `json:"pauseResumeNotifyMethod,omitempty" doc:"Beep or Play Announcement; absent when no notification plays"`
	AnnouncementEnabled            bool                       `json:"announcementEnabled" doc:"a start/stop announcement plays (any of the person's start/stop switches, R27)"`
	WarningToneEnabled             bool                       `json:"warningToneEnabled" doc:"the repeat tone (R29)"`
	WarningToneDuration            int                        `json:"warningToneDuration" doc:"repeat tone interval in seconds, 10..90 (R29)"`
	SelectiveCallRecordingSettings callRecordingSelectiveJSON `json:"selectiveCallRecordingSettings"`
}

// crRenderMe renders a person's or line's settings for the Me API.
func crRenderMe(snap *policy.Snapshot, t *crTarget) callRecordingMeJSON {
	u := t.settings()
	vendorID, _ := snap.Vendor(t.locationID())
	v := crVendorRef(snap, vendorID)
	_, _, _, sel := crSettingsParts(u)
	out := callRecordingMeJSON{
		Enabled:             u.Enabled,
		Vendor:              callRecordingMeVendorJSON{ID: v.ID, Name: v.Name, LoginURL: v.LoginURL},
		RecordingMode:       recordSpelling(u.Mode),
		AnnouncementEnabled: u.StartStopAnnouncement || u.StartStopInternal || u.StartStopPSTN,
		WarningToneEnabled:  u.RepeatEnabled, WarningToneDuration: u.RepeatInterval,
		SelectiveCallRecordingSettings: sel,
	}
	if u.NotificationEnabled && u.Notification != callrec.NotifyNone && u.Notification != "" {
		out.PauseResumeNotifyMethod = notifySpelling(u.Notification)
	}
	return out
}

// crMe serves the Me API (§9.6) for the token's own person, or with
// secondary for a virtual line assigned to it. Tokens without a person
// get 404: there are no settings of theirs to show.
func (s *server) crMe(secondary bool) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
		if tok.PersonID == "" || tok.OrgID == "" {
			return notFoundf("No person is associated with this token")
		}
		return s.crViewJSON(w, r, tok.OrgID, func(tx directory.Tx, snap *policy.Snapshot) (any, error) {
			me, err := directory.People.Get(r.Context(), tx, tok.OrgID, tok.PersonID)
			if directory.IsNotFound(err) {
				return nil, notFoundf("No person is associated with this token")
			}
			if err != nil {
				return nil, fmt.Errorf("api: me: %w", err)
			}
			t := &crTarget{kind: crPerson, target: policy.Target{Person: me}}
			if secondary {
				raw := r.PathValue("lineOwnerId")
				lt, err := crResolve(r.Context(), tx, tok.OrgID, crLine, raw)
				if err != nil || !slices.Contains(lt.target.Line.People, me.ID) {
					return nil, notFoundf("Secondary line %s was not found", quote(raw))
				}
				t = lt
			}
			return crRenderMe(snap, t), nil
		})
	}
}

// callRecordingControlsJSON is what the mode offers in a call (R25, R35).
type callRecordingControlsJSON struct {
	Start  bool `json:"start"`
	Stop   bool `json:"stop"`
	Pause  bool `json:"pause"`
	Resume bool `json:"resume"`
}

// callRecordingAccessCodesJSON are the feature access codes (R35).
type callRecordingAccessCodesJSON struct {
	Start  string `json:"start"`
	Stop   string `json:"stop"`
	Pause  string `json:"pause"`
	Resume string `json:"resume"`
}

// callRecordingSettingsJSON is a target's own settings in the effective view.
type callRecordingSettingsJSON struct {
	Enabled                        bool                          `json:"enabled"`
	Record                         string                        `json:"record"`
	RecordVoicemailEnabled         bool                          `json:"recordVoicemailEnabled"`
	StartStopAnnouncementEnabled   bool                          `json:"startStopAnnouncementEnabled"`
	Notification                   callRecordingNotificationJSON `json:"notification"`
	Repeat                         callRecordingRepeatJSON       `json:"repeat"`
	StartStopAnnouncement          callRecordingStartStopJSON    `json:"startStopAnnouncement"`
	SelectiveCallRecordingSettings callRecordingSelectiveJSON    `json:"selectiveCallRecordingSettings"`
}

// callRecordingEffectiveJSON is policy.EffectiveFor as support staff read it.
type callRecordingEffectiveJSON struct {
	Enabled            bool                         `json:"enabled" doc:"the target's own switch"`
	Recording          bool                         `json:"recording" doc:"calls will be recorded"`
	Reasons            []string                     `json:"reasons" doc:"why calls will not be recorded, each naming its rule"`
	VendorID           string                       `json:"vendorId" doc:"the provider recording the target (RECORDING_VENDOR id), \"none\" when there is none"`
	VendorName         string                       `json:"vendorName"`
	ProviderTarget     string                       `json:"providerTarget" doc:"SIPREC URI of the provider's recording server"`
	VendorInherited    bool                         `json:"vendorInherited" doc:"the location uses the org's vendor (R16)"`
	Plan               string                       `json:"plan" doc:"go, team or premier for built-in provider members (R3, R4); empty otherwise"`
	Settings           callRecordingSettingsJSON    `json:"settings"`
	Compliance         callRecordingComplianceJSON  `json:"compliance" doc:"the compliance announcement in force at the target's location (R17)"`
	Language           string                       `json:"language" doc:"announcement language of a call straight to the target (R21)"`
	FailureBehavior    string                       `json:"failureBehavior" doc:"X1"`
	StorageRegion      string                       `json:"storageRegion" doc:"X2 (built-in provider only)"`
	Controls           callRecordingControlsJSON    `json:"controls" doc:"what the mode offers in a call (R25, R35)"`
	AccessCodes        callRecordingAccessCodesJSON `json:"accessCodes"`
	ServiceProvider    string                       `json:"serviceProvider" doc:"R30"`
	ExternalGroup      string                       `json:"externalGroup" doc:"R30"`
	ExternalIdentifier string                       `json:"externalIdentifier" doc:"R30"`
}

// crEffective serves GET .../effective for a person or a virtual line.
func (s *server) crEffective(kind crTargetKind, param string) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
		return s.crViewJSON(w, r, org.ID, func(tx directory.Tx, snap *policy.Snapshot) (any, error) {
			t, err := crResolve(r.Context(), tx, org.ID, kind, r.PathValue(param))
			if err != nil {
				return nil, err
			}
			e := policy.EffectiveFor(snap, t.target)
			compliance, err := crRenderCompliance(r.Context(), tx, org.ID, e.Compliance)
			if err != nil {
				return nil, err
			}
			v := vendorRef{ID: callrec.VendorNone, Name: crVendorNoneName}
			if e.ProviderID != "" {
				v = vendorRef{ID: webexID(idVendor, e.ProviderID), Name: e.ProviderName}
			}
			// The same R30 identifier as the settings GET shows.
			_, _, ident := crR30(org.ID, t)
			n, rp, ss, sel := crSettingsParts(e.Settings)
			reasons := e.Reasons
			if reasons == nil {
				reasons = []string{}
			}
			return callRecordingEffectiveJSON{
				Enabled: e.Enabled, Recording: e.Recording, Reasons: reasons,
				VendorID: v.ID, VendorName: v.Name, ProviderTarget: e.ProviderTarget,
				VendorInherited: e.VendorInherited, Plan: e.Plan,
				Settings: callRecordingSettingsJSON{
					Enabled: e.Settings.Enabled, Record: recordSpelling(e.Settings.Mode),
					RecordVoicemailEnabled: e.Settings.RecordVoicemail, StartStopAnnouncementEnabled: e.Settings.StartStopAnnouncement,
					Notification: n, Repeat: rp, StartStopAnnouncement: ss, SelectiveCallRecordingSettings: sel,
				},
				Compliance: compliance, Language: e.Language, FailureBehavior: e.FailureBehavior, StorageRegion: e.StorageRegion,
				Controls:        callRecordingControlsJSON{Start: e.Controls.Start, Stop: e.Controls.Stop, Pause: e.Controls.Pause, Resume: e.Controls.Resume},
				AccessCodes:     callRecordingAccessCodesJSON{Start: e.AccessCodes.Start, Stop: e.AccessCodes.Stop, Pause: e.AccessCodes.Pause, Resume: e.AccessCodes.Resume},
				ServiceProvider: e.ServiceProvider, ExternalGroup: e.ExternalGroup, ExternalIdentifier: ident,
			}, nil
		})
	}
}
