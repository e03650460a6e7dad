package policy

import (
	"fmt"
	"slices"
	"time"

	"github.com/callrec/callrec"
)

// ControlsFor returns the controls a recorded user has in one state of a
// call (R25, R35): on_demand offers Start while not recording and Stop,
// Pause and Resume while recording; always_with_pause_resume offers Pause
// and Resume while recording (no Stop); always and never offer nothing.
func ControlsFor(mode string, active bool) Controls {
	switch mode {
	case callrec.ModeOnDemand:
		if active {
			return Controls{Stop: true, Pause: true, Resume: true}
		}
		return Controls{Start: true}
	case callrec.ModeAlwaysWithPauseResume:
		if active {
			return Controls{Pause: true, Resume: true}
		}
	}
	return Controls{}
}

// modeControls is everything a mode offers in a call (both states).
func modeControls(mode string) Controls {
	a, b := ControlsFor(mode, false), ControlsFor(mode, true)
	return Controls{Start: a.Start || b.Start, Stop: a.Stop || b.Stop, Pause: a.Pause || b.Pause, Resume: a.Resume || b.Resume}
}

// pausable reports whether the user can pause in this mode (R25).
func pausable(mode string) bool { return ControlsFor(mode, true).Pause }

// accessCodes returns the org's feature access codes, the defaults filling
// any that are unset.
func (s *Snapshot) accessCodes() callrec.AccessCodes {
	var c callrec.AccessCodes
	if s != nil {
		c = s.Org.Recording.AccessCodes
	}
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	return callrec.AccessCodes{
		Start:  def(c.Start, callrec.DefaultStartCode),
		Stop:   def(c.Stop, callrec.DefaultStopCode),
		Pause:  def(c.Pause, callrec.DefaultPauseCode),
		Resume: def(c.Resume, callrec.DefaultResumeCode),
	}
}

// orgLanguage is the org's default announcement language ("" when none).
func (s *Snapshot) orgLanguage() string {
	if s == nil {
		return ""
	}
	return s.Org.Language
}

// locationLanguage is a location's announcement language ("" when none).
func (s *Snapshot) locationLanguage(id string) string {
	if l := s.location(id); l != nil {
		return l.Language
	}
	return ""
}

// callLanguage is R21 for a call: the language of what was dialled (a
// feature, a virtual line, else the recorded target), then the language
// of that one's location (the default of everything in it), then the
// org's, then en_US; unknown values skip to the next.
func callLanguage(s *Snapshot, c Call) string {
	switch {
	case c.Feature != nil:
		return Language(c.Feature.Language, s.locationLanguage(c.Feature.LocationID), s.orgLanguage())
	case c.VirtualLine != nil:
		return Language(c.VirtualLine.Language, s.locationLanguage(c.VirtualLine.LocationID), s.orgLanguage())
	}
	return Language(c.Recorded.language(), s.locationLanguage(c.Recorded.locationID()), s.orgLanguage())
}

// switchReason says why a target's own settings do not record, or "".
func switchReason(t Target, set callrec.UserRecording) string {
	off := "R24"
	if t.Line != nil {
		off = "R31"
	}
	switch {
	case !set.Enabled:
		return fmt.Sprintf("call recording is off for %s (%s)", t, off)
	case set.Mode == callrec.ModeNever:
		return fmt.Sprintf("recording mode of %s is never (R25)", t)
	case !slices.Contains(Modes, set.Mode):
		return fmt.Sprintf("recording mode %q of %s is not valid (R25)", set.Mode, t)
	}
	return ""
}

// selectiveAllows reports whether the Selective settings record a call of
// this kind; they apply to always and always_with_pause_resume only
// (Webex selectiveCallRecordingSettings).
func selectiveAllows(mode string, sel callrec.Selective, c Call) (bool, string) {
	if mode != callrec.ModeAlways && mode != callrec.ModeAlwaysWithPauseResume {
		return true, ""
	}
	switch {
	case c.Inbound && c.PSTN:
		return sel.InboundExternal, "inbound external"
	case c.Inbound:
		return sel.InboundInternal, "inbound internal"
	case c.PSTN:
		return sel.OutboundExternal, "outbound external"
	}
	return sel.OutboundInternal, "outbound internal"
}

// prompt is an announcement of kind at when, with a custom file when the
// choice says so.
func prompt(kind, when, lang string, ch callrec.AnnouncementChoice) *Announcement {
	a := &Announcement{Kind: kind, When: when, Language: lang}
	if ch.Custom {
		a.FileID = ch.FileID
	}
	return a
}

// repeatPeriod is the repeat tone period (R29): 0 when off, the interval
// kept within 10..90 s.
func repeatPeriod(set callrec.UserRecording) time.Duration {
	if !set.RepeatEnabled {
		return 0
	}
	return time.Duration(min(max(set.RepeatInterval, MinRepeatInterval), MaxRepeatInterval)) * time.Second
}

// startStopOn reports whether the target's start/stop announcement is on
// for a PSTN or an internal call (R27). The per-call-kind switches decide;
// Webex's legacy single switch (StartStopAnnouncement) means both kinds,
// but only while neither per-kind switch is set, so an admin who sets
// them explicitly is never overridden by the legacy one.
func startStopOn(set callrec.UserRecording, pstn bool) bool {
	if !set.StartStopPSTN && !set.StartStopInternal {
		return set.StartStopAnnouncement
	}
	if pstn {
		return set.StartStopPSTN
	}
	return set.StartStopInternal
}

// notification is the effective pause/resume notification (R28): none
// when switched off or when the mode cannot pause; a switched-on
// notification of no valid kind is a beep (Webex's default type).
func notification(set callrec.UserRecording) string {
	if !set.NotificationEnabled || !pausable(set.Mode) {
		return callrec.NotifyNone
	}
	switch set.Notification {
	case callrec.NotifyBeep, callrec.NotifyAnnouncement, callrec.NotifyNone:
		return set.Notification
	}
	return callrec.NotifyBeep
}

// Decide returns how the call plane treats one call. The call is recorded
// only when every rule allows it, checked in this order (Reason names the
// first that does not): a target, the org entitled (R2), the licence (R1),
// a provider at the target's location (R14..R16, R31) whose terms are
// accepted (R13), the target enabled with a valid mode other than never
// (R24, R25, R31), voicemail allowed by RecordVoicemail (R26), and, for
// always and always_with_pause_resume, the Selective settings of the
// call's kind.
//
// For a recorded call: on_demand starts when the user starts it, the
// other modes at answer (R19); the controls follow the mode (R25, R35).
// The compliance announcement (R17, R18) is about the call being recorded,
// so it plays only when Record is true, only on PSTN calls, before answer
// inbound and after answer (and the delay) outbound, and never twice
// (R20). Start/stop announcements follow the target's switch for the
// call's kind (R27) and are suppressed when a compliance announcement
// plays or played in the call (R20, R23), unless it failed
// (Call.ComplianceFailed, R23). The pause/resume notification (R28) is not
// suppressed. Every announcement is in the call's language (R21, R22).
func Decide(s *Snapshot, c Call) Decision {
	t := c.Recorded
	set := t.settings()
	d := Decision{Mode: set.Mode, Language: callLanguage(s, c)}
	p, errs := prerequisites(s, t)
	if len(errs) > 0 {
		d.Reason = errs[0].Error()
		return d
	}
	if r := switchReason(t, set); r != "" {
		d.Reason = r
		return d
	}
	if c.Voicemail && !set.RecordVoicemail {
		d.Reason = fmt.Sprintf("voicemail is not recorded for %s: recordVoicemail is off (R26)", t)
		return d
	}
	if ok, kind := selectiveAllows(set.Mode, set.Selective, c); !ok {
		d.Reason = fmt.Sprintf("selective recording of %s excludes %s calls (R25)", t, kind)
		return d
	}

	loc := t.locationID()
	d.Record = true
	d.Provider = *p
	if !p.BuiltIn {
		d.Target = p.SIPRECTarget
	}
	d.Backup = p.BackupTarget
	d.StartAtAnswer = set.Mode != callrec.ModeOnDemand
	d.Controls = modeControls(set.Mode)
	d.AccessCodes = s.accessCodes()
	d.FailureBehavior = s.FailureBehavior(loc)
	if p.BuiltIn {
		d.StorageRegion = s.StorageRegion(loc)
	}
	d.Repeat = repeatPeriod(set)

	ann := s.Announcements(loc)
	if c.PSTN && !c.CompliancePlayed && !c.ComplianceFailed {
		comp := s.Compliance(loc)
		var a *Announcement
		switch {
		case c.Inbound && comp.Inbound:
			a = &Announcement{Kind: KindCompliance, When: BeforeAnswer, Language: d.Language}
		case !c.Inbound && comp.Outbound:
			a = &Announcement{Kind: KindCompliance, When: AfterAnswer, Language: d.Language}
			if comp.OutboundDelay {
				a.Delay = time.Duration(min(max(comp.DelaySeconds, 0), MaxComplianceDelay)) * time.Second
			}
		}
		if a != nil && comp.UseCustom {
			a.FileID = comp.CustomFileID
		}
		d.Compliance = a
	}
	suppressed := d.Compliance != nil || c.CompliancePlayed
	if startStopOn(set, c.PSTN) && !suppressed {
		d.Start = prompt(KindStart, OnStart, d.Language, ann.Start)
		d.Stop = prompt(KindStop, OnStop, d.Language, ann.Stop)
	}

	d.Notification = notification(set)
	if d.Notification == callrec.NotifyAnnouncement {
		d.Pause = prompt(KindPause, OnPause, d.Language, ann.Pause)
		d.Resume = prompt(KindResume, OnResume, d.Language, ann.Resume)
	}

	switch d.FailureBehavior {
	case callrec.FailureProceedWithAnnouncement:
		d.Failure = prompt(KindFailure, OnFailure, d.Language, ann.FailureProceed)
	case callrec.FailureEndWithAnnouncement:
		d.Failure = prompt(KindFailure, OnFailure, d.Language, ann.FailureEnd)
	}
	return d
}

// EffectiveFor returns a target's effective recording settings: whether
// its calls will be recorded and every reason they will not (each naming
// its rule), the provider and whether it is the org's (R16), the plan
// (R3, R4), the location's compliance announcement (R17), the language of
// a call straight to it (R21), failure behaviour (X1), storage region (X2,
// built-in provider only), controls (R35) and the R30 identifiers.
func EffectiveFor(s *Snapshot, t Target) Effective {
	set := t.settings()
	loc := t.locationID()
	e := Effective{
		Enabled:         set.Enabled,
		Settings:        set,
		Plan:            s.Plan(t.id()),
		Compliance:      s.Compliance(loc),
		Language:        Language(t.language(), s.locationLanguage(loc), s.orgLanguage()),
		FailureBehavior: s.FailureBehavior(loc),
		AccessCodes:     s.accessCodes(),
		ExternalGroup:   loc,
		ExternalID:      t.externalID(),
	}
	if s != nil {
		e.ServiceProvider = s.Org.ID
	}
	if e.ExternalID == "" {
		e.ExternalID = t.id()
	}
	_, e.VendorInherited = s.Vendor(loc)
	p, errs := prerequisites(s, t)
	if p != nil {
		e.ProviderID, e.ProviderName, e.ProviderTarget = p.ID, p.Name, p.SIPRECTarget
		if p.BuiltIn {
			e.StorageRegion = s.StorageRegion(loc)
		}
	}
	for _, err := range errs {
		e.Reasons = append(e.Reasons, err.Error())
	}
	if r := switchReason(t, set); r != "" {
		e.Reasons = append(e.Reasons, r)
	}
	e.Recording = len(e.Reasons) == 0
	if e.Recording {
		e.Controls = modeControls(set.Mode)
	}
	return e
}
