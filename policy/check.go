package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/callrec/callrec"
)

// StorageRegions are the storage region codes callrec knows (Webex's
// storageRegion enum). A provider that declares no regions is offered in
// all of them (R6, X2). Callers must not modify it.
var StorageRegions = []string{"US", "SG", "GB", "JP", "DE", "AU", "IN", "CA"}

// Repeat tone interval bounds in seconds (R29).
const (
	MinRepeatInterval = 10
	MaxRepeatInterval = 90
)

// MaxComplianceDelay is the longest outbound compliance delay in seconds (R18).
const MaxComplianceDelay = 60

// Modes are the recording modes (R25) in the order the docs present them.
var Modes = []string{callrec.ModeNever, callrec.ModeAlways, callrec.ModeAlwaysWithPauseResume, callrec.ModeOnDemand}

// Notifications are the pause/resume notification kinds (R28).
var Notifications = []string{callrec.NotifyNone, callrec.NotifyBeep, callrec.NotifyAnnouncement}

// recordingLicenses are the licences that may record (R1).
var recordingLicenses = []string{callrec.LicenseProfessional, callrec.LicenseBasic}

// ruleErr builds a RuleError.
func ruleErr(kind error, rule, field, format string, args ...any) *RuleError {
	return &RuleError{Rule: rule, Field: field, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// target accessors: one place that knows a Target is a person or a line.

func (t Target) id() string {
	switch {
	case t.Person != nil:
		return t.Person.ID
	case t.Line != nil:
		return t.Line.ID
	}
	return ""
}

func (t Target) locationID() string {
	switch {
	case t.Person != nil:
		return t.Person.LocationID
	case t.Line != nil:
		return t.Line.LocationID
	}
	return ""
}

func (t Target) settings() callrec.UserRecording {
	switch {
	case t.Person != nil:
		return t.Person.Recording
	case t.Line != nil:
		return t.Line.Recording
	}
	return callrec.UserRecording{}
}

func (t Target) language() string {
	switch {
	case t.Person != nil:
		return t.Person.Language
	case t.Line != nil:
		return t.Line.Language
	}
	return ""
}

func (t Target) externalID() string {
	switch {
	case t.Person != nil:
		return t.Person.ExternalID
	case t.Line != nil:
		return t.Line.ExternalID
	}
	return ""
}

// String names the target in messages: "person Ada Lovelace (p1)".
func (t Target) String() string {
	name := func(display, first, last string) string {
		if display != "" {
			return display
		}
		return strings.TrimSpace(first + " " + last)
	}
	switch {
	case t.Person != nil:
		return fmt.Sprintf("person %s (%s)", name(t.Person.DisplayName, t.Person.FirstName, t.Person.LastName), t.Person.ID)
	case t.Line != nil:
		return fmt.Sprintf("virtual line %s (%s)", name(t.Line.DisplayName, t.Line.FirstName, t.Line.LastName), t.Line.ID)
	}
	return "no target"
}

// describeLocation names a location in messages.
func (s *Snapshot) describeLocation(id string) string {
	if l := s.location(id); l != nil && l.Name != "" {
		return fmt.Sprintf("location %s (%s)", l.Name, id)
	}
	if id == "" {
		return "the org"
	}
	return fmt.Sprintf("location %s", id)
}

// termsError is the R13 conflict for provider p.
func termsError(p *callrec.Provider) *TermsError {
	return &TermsError{VendorID: p.ID, VendorName: p.Name, TermsURL: p.TermsURL}
}

// prerequisites returns the provider recording the target and every
// reason the target cannot record regardless of its own switch: no target,
// the org not entitled (R2), the licence (R1), no provider at its location
// (R14..R16, R31), the provider's terms not accepted (R13). The errors are
// *RuleError or *TermsError, in that order of precedence.
func prerequisites(s *Snapshot, t Target) (*callrec.Provider, []error) {
	if t.Person == nil && t.Line == nil {
		return nil, []error{ruleErr(callrec.ErrInvalid, "", "", "policy: no person or virtual line to record")}
	}
	var errs []error
	if s == nil || !s.Org.Recording.Entitled {
		name, id := "", ""
		if s != nil {
			name, id = s.Org.Name, s.Org.ID
		}
		errs = append(errs, ruleErr(callrec.ErrForbidden, "R2", "enabled",
			"org %s (%s) is not entitled to call recording; a partner admin must entitle it first (R2)", name, id))
	}
	if t.Person != nil && !slices.Contains(recordingLicenses, t.Person.License) {
		lic := t.Person.License
		if lic == "" {
			lic = "none"
		}
		errs = append(errs, ruleErr(callrec.ErrInvalid, "R1", "enabled",
			"recording cannot be enabled for %s: licence %s cannot record; allowed licences: %s (R1)",
			t, lic, strings.Join(recordingLicenses, ", ")))
	}
	loc := t.locationID()
	rule := "R14, R16"
	if t.Line != nil {
		rule = "R31"
	}
	vendor, _ := s.Vendor(loc)
	p := s.provider(vendor)
	switch {
	case p != nil:
		if !s.TermsAccepted(p.ID) {
			errs = append(errs, termsError(p))
		}
	case vendor == "" || vendor == callrec.VendorNone:
		errs = append(errs, ruleErr(callrec.ErrConflict, rule, "enabled",
			"no recording provider is chosen for %s of %s; choose one for the org or the location first (%s)",
			s.describeLocation(loc), t, rule))
	default:
		errs = append(errs, ruleErr(callrec.ErrConflict, rule, "enabled",
			"recording provider %s chosen for %s of %s is not registered; choose another (%s)",
			vendor, s.describeLocation(loc), t, rule))
	}
	return p, errs
}

// checkFormat validates the values of a person's or virtual line's
// settings whatever their switch (R25, R28, R29).
func checkFormat(next callrec.UserRecording) error {
	if !slices.Contains(Modes, next.Mode) {
		return ruleErr(callrec.ErrInvalid, "R25", "record",
			"record: recording mode %q is not valid; allowed: %s (R25)", next.Mode, strings.Join(Modes, ", "))
	}
	if !slices.Contains(Notifications, next.Notification) {
		return ruleErr(callrec.ErrInvalid, "R28", "notification.type",
			"notification.type: %q is not valid; allowed: %s (R28)", next.Notification, strings.Join(Notifications, ", "))
	}
	if next.RepeatInterval < MinRepeatInterval || next.RepeatInterval > MaxRepeatInterval {
		return ruleErr(callrec.ErrInvalid, "R29", "repeat.interval",
			"repeat.interval: %d seconds is out of range; allowed: %d..%d (R29)", next.RepeatInterval, MinRepeatInterval, MaxRepeatInterval)
	}
	return nil
}

// CheckUserRecording validates the settings a PUT would store for a
// person or virtual line. The values are always checked: mode (R25),
// notification (R28), repeat interval 10..90 s (R29), as ErrInvalid. When
// next.Enabled, the target must also be able to record: the org entitled
// (R2, ErrForbidden), a person's licence professional or basic (R1,
// ErrInvalid; a virtual line has none), a provider other than none at the
// target's location (R14..R16, R31, ErrConflict) and its terms accepted
// (R13, *TermsError). Errors are *RuleError or *TermsError.
func CheckUserRecording(s *Snapshot, t Target, next callrec.UserRecording) error {
	if t.Person == nil && t.Line == nil {
		return ruleErr(callrec.ErrInvalid, "", "", "policy: no person or virtual line to check")
	}
	if err := checkFormat(next); err != nil {
		return err
	}
	if !next.Enabled {
		return nil
	}
	if _, errs := prerequisites(s, t); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// NormalizeUserRecording returns the settings to store after a PUT: when
// it turns recording off (prev.Enabled && !next.Enabled) the target's
// settings are deleted, i.e. reset to callrec.DefaultUserRecording with
// Enabled false (R24, R31); otherwise next unchanged. Recordings already
// made are not touched.
func NormalizeUserRecording(prev, next callrec.UserRecording) callrec.UserRecording {
	if prev.Enabled && !next.Enabled {
		return callrec.DefaultUserRecording()
	}
	return next
}

// offered reports whether provider p may be chosen by an org hosted in
// region (R6): a provider that declares no regions is offered everywhere.
// An org whose hosting region is not set ("") cannot be compared, so R6
// does not refuse it: the partner sets the region to make R6 apply.
func offered(p *callrec.Provider, region string) bool {
	return len(p.Regions) == 0 || region == "" || slices.Contains(p.Regions, region)
}

// checkVendor applies R6 and R13 to a chosen provider id (not none).
func checkVendor(s *Snapshot, vendorID string) error {
	p := s.provider(vendorID)
	if p == nil {
		return ruleErr(callrec.ErrNotFound, "R14", "vendorId", "vendorId: recording vendor %q was not found (R14)", vendorID)
	}
	if region := s.Org.Region; !offered(p, region) {
		return ruleErr(callrec.ErrInvalid, "R6", "vendorId",
			"vendorId: vendor %s (%s) is not offered in the org's region %s; it is offered in: %s (R6)",
			p.Name, p.ID, region, strings.Join(p.Regions, ", "))
	}
	if !s.TermsAccepted(p.ID) {
		return termsError(p)
	}
	return nil
}

// CheckOrgVendor validates choosing vendorID (a provider id or
// callrec.VendorNone) for the whole org (R14). None needs the explicit
// confirmation the API calls disableForAllUsersConfirmed (R15,
// ErrInvalid). A provider must be registered (ErrNotFound), offered in the
// org's region (R6, ErrInvalid) and have its terms accepted (R13,
// *TermsError).
func CheckOrgVendor(s *Snapshot, vendorID string, confirmed bool) error {
	switch vendorID {
	case "":
		return ruleErr(callrec.ErrInvalid, "R14", "vendorId", "vendorId: a vendor id or %q is required (R14)", callrec.VendorNone)
	case callrec.VendorNone:
		if !confirmed {
			return ruleErr(callrec.ErrInvalid, "R15", "disableForAllUsersConfirmed",
				"disableForAllUsersConfirmed: must be true to choose vendor %q, which disables call recording for all users (R15)", callrec.VendorNone)
		}
		return nil
	}
	return checkVendor(s, vendorID)
}

// CheckLocationVendor validates overriding a location's vendor (R16):
// vendorID "" returns the location to the org default, none disables
// recording there without confirmation, and a provider must be registered
// (ErrNotFound), offered in the org's region (R6, ErrInvalid) and have its
// terms accepted (R13, *TermsError). An unknown location is ErrNotFound.
func CheckLocationVendor(s *Snapshot, locationID, vendorID string) error {
	if s.location(locationID) == nil {
		return ruleErr(callrec.ErrNotFound, "R16", "locationId", "location %q was not found", locationID)
	}
	if vendorID == "" || vendorID == callrec.VendorNone {
		return nil
	}
	return checkVendor(s, vendorID)
}

// CheckCompliance validates a compliance announcement setting (R18): the
// outbound delay is 0..60 s, and a custom announcement needs a file id
// unless a location plays the org's file (UseOrgCustomFile).
func CheckCompliance(c callrec.ComplianceAnnouncement) error {
	if c.DelaySeconds < 0 || c.DelaySeconds > MaxComplianceDelay {
		return ruleErr(callrec.ErrInvalid, "R18", "delayInSeconds",
			"delayInSeconds: %d is out of range; allowed: 0..%d (R18)", c.DelaySeconds, MaxComplianceDelay)
	}
	if c.UseCustom && !c.UseOrgCustomFile && c.CustomFileID == "" {
		return ruleErr(callrec.ErrInvalid, "R18", "audioAnnouncementFileId",
			"audioAnnouncementFileId: required when a custom compliance announcement is used (R18)")
	}
	return nil
}

// CheckRegion validates a storage region for provider p (X2): "" (keep
// the default) is always valid; otherwise it must be one of the regions p
// declares, or of StorageRegions when p declares none. A region without a
// provider (vendor none) is ErrInvalid.
func CheckRegion(p *callrec.Provider, region string) error {
	if region == "" {
		return nil
	}
	if p == nil {
		return ruleErr(callrec.ErrInvalid, "X2", "storageRegion",
			"storageRegion: %q cannot be set without a recording provider (X2)", region)
	}
	allowed := p.Regions
	if len(allowed) == 0 {
		allowed = StorageRegions
	}
	if !slices.Contains(allowed, region) {
		return ruleErr(callrec.ErrInvalid, "X2", "storageRegion",
			"storageRegion: %q is not offered by vendor %s; allowed: %s (X2)", region, p.Name, strings.Join(allowed, ", "))
	}
	return nil
}
