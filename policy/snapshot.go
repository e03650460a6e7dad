package policy

import (
	"fmt"

	"github.com/callrec/callrec"
)

// Error renders the R13 conflict for a client: which vendor, and where to
// accept its terms.
func (e *TermsError) Error() string {
	if e.TermsURL == "" {
		return fmt.Sprintf("vendor %s (%s): terms of service not accepted; accept them first (R13)", e.VendorName, e.VendorID)
	}
	return fmt.Sprintf("vendor %s (%s): terms of service not accepted; accept them at %s first (R13)", e.VendorName, e.VendorID, e.TermsURL)
}

// Unwrap makes a TermsError a callrec.ErrConflict (HTTP 409, R13).
func (e *TermsError) Unwrap() error { return callrec.ErrConflict }

// Error returns the message for the client.
func (e *RuleError) Error() string { return e.Msg }

// Unwrap returns the error kind.
func (e *RuleError) Unwrap() error { return e.Kind }

// location returns the location with id, or nil when id is "" or unknown.
func (s *Snapshot) location(id string) *callrec.Location {
	if s == nil || id == "" {
		return nil
	}
	l, ok := s.Locations[id]
	if !ok {
		return nil
	}
	return &l
}

// Vendor returns the vendor (a provider id, callrec.VendorNone, or "" when
// the org has none set) that applies at a location, and whether it is the
// org's inherited one (R14, R16). The location's own setting wins; a
// location without one, or unknown to the snapshot, uses the org's. The
// "" location is the org itself (never inherited).
func (s *Snapshot) Vendor(locationID string) (vendorID string, inherited bool) {
	if s == nil {
		return "", false
	}
	if locationID == "" {
		return s.Org.Recording.VendorID, false
	}
	if l := s.location(locationID); l != nil && l.Recording.VendorID != "" {
		return l.Recording.VendorID, false
	}
	return s.Org.Recording.VendorID, true
}

// provider returns the registered provider with id, or nil for "",
// callrec.VendorNone and unknown ids.
func (s *Snapshot) provider(id string) *callrec.Provider {
	if s == nil || id == "" || id == callrec.VendorNone {
		return nil
	}
	p, ok := s.Providers[id]
	if !ok {
		return nil
	}
	return &p
}

// Provider returns (a copy of) the provider that records calls at a
// location ("" = the org's), or nil when the vendor is none, unset or not
// a registered provider (R14..R16).
func (s *Snapshot) Provider(locationID string) *callrec.Provider {
	v, _ := s.Vendor(locationID)
	return s.provider(v)
}

// validFailure reports whether f is one of the X1 failure behaviours.
func validFailure(f string) bool {
	switch f {
	case callrec.FailureProceedNoAnnouncement, callrec.FailureProceedWithAnnouncement, callrec.FailureEndWithAnnouncement:
		return true
	}
	return false
}

// FailureBehavior returns what happens to a call at the location when
// recording fails (X1): the location's override when set, else the
// org's, else callrec.FailureProceedNoAnnouncement. A stored value that is
// not one of the three is skipped as if unset.
func (s *Snapshot) FailureBehavior(locationID string) string {
	if l := s.location(locationID); l != nil && validFailure(l.Recording.FailureBehavior) {
		return l.Recording.FailureBehavior
	}
	if s != nil && validFailure(s.Org.Recording.FailureBehavior) {
		return s.Org.Recording.FailureBehavior
	}
	return callrec.FailureProceedNoAnnouncement
}

// StorageRegion returns where recordings made at the location are stored
// (X2): the location's override, else the org's storage region, else the
// org's hosting region (R6), which is where its data lives unless an admin
// chose otherwise. "" when none of them is set.
func (s *Snapshot) StorageRegion(locationID string) string {
	if l := s.location(locationID); l != nil && l.Recording.StorageRegion != "" {
		return l.Recording.StorageRegion
	}
	if s == nil {
		return ""
	}
	if s.Org.Recording.StorageRegion != "" {
		return s.Org.Recording.StorageRegion
	}
	return s.Org.Region
}

// Compliance returns the compliance announcement in force at the location
// (R17): the location's own when it has one, else the org's. A location
// setting that plays the org's custom file (UseOrgCustomFile) gets the
// org's UseCustom and CustomFileID in the result, so the caller plays
// CustomFileID whenever UseCustom is true.
func (s *Snapshot) Compliance(locationID string) callrec.ComplianceAnnouncement {
	if s == nil {
		return callrec.ComplianceAnnouncement{}
	}
	org := s.Org.Recording.Compliance
	l := s.location(locationID)
	if l == nil || l.Recording.Compliance == nil {
		return org
	}
	c := *l.Recording.Compliance
	if c.UseOrgCustomFile {
		c.UseCustom = org.UseCustom
		c.CustomFileID = org.CustomFileID
	}
	return c
}

// Announcements returns the recording announcements (start, stop, pause,
// resume, failure prompts) in force at the location: its own when set,
// else the org's.
func (s *Snapshot) Announcements(locationID string) callrec.Announcements {
	if l := s.location(locationID); l != nil && l.Recording.Announcements != nil {
		return *l.Recording.Announcements
	}
	if s == nil {
		return callrec.Announcements{}
	}
	return s.Org.Recording.Announcements
}

// TermsAccepted reports whether the org has accepted the provider's terms
// of service (R13). Acceptance is once per provider: a later terms version
// does not undo it. The pseudo-vendor none has no terms (true).
func (s *Snapshot) TermsAccepted(providerID string) bool {
	if providerID == callrec.VendorNone {
		return true
	}
	if s == nil || providerID == "" {
		return false
	}
	t, ok := s.Terms[providerID]
	return ok && t.Accepted
}

// Plan returns the plan of a person or virtual line in the org's
// built-in provider account (R3, R4, R7), or "" when it is not a member
// (not provisioned, no account, or an external provider). A member stored
// without a plan is on the free plan every user has (R3).
func (s *Snapshot) Plan(memberID string) string {
	if s == nil || memberID == "" {
		return ""
	}
	acc, ok := s.Accounts[callrec.BuiltInProviderID]
	if !ok {
		return ""
	}
	for _, m := range acc.Members {
		if m.ID == memberID {
			if m.Plan == "" {
				return callrec.PlanGo
			}
			return m.Plan
		}
	}
	return ""
}
