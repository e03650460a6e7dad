package policy_test

import (
	"errors"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

// Ids of the fixture org. The external vendor ids are made up in the
// style of Webex's recording-vendor UUIDs.
const (
	orgID    = "5b1c0e7e-2f4a-4d7e-9d0b-7a8f1c2e3d40"
	hqID     = "loc-hq"     // London, inherits everything from the org
	branchID = "loc-branch" // Boston, own vendor (Acme), own compliance, own failure behaviour
	closedID = "loc-closed" // recording disabled with vendor none
	acmeID   = "53dc4c87-8408-4882-9570-dca2bcdb9280"
	euOnlyID = "9e1f2d3c-4b5a-4697-8877-665544332211"
	aliceID  = "person-alice"
	lineID   = "vline-sales"
)

var t0 = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

func builtIn() callrec.Provider {
	return callrec.Provider{
		ID: callrec.BuiltInProviderID, Name: "callrec", Description: "callrec built-in recorder",
		BuiltIn: true, TermsURL: "https://callrec.example/terms", TermsVersion: "2026-01",
		Plans: []string{callrec.PlanGo, callrec.PlanTeam, callrec.PlanPremier}, AutoProvisioning: true,
		StorageOptions: []string{"provider"}, Regions: []string{"US", "GB", "DE"},
		SIPRECTarget: "sip:srs@127.0.0.1:5070",
	}
}

func acme() callrec.Provider {
	return callrec.Provider{
		ID: acmeID, Name: "Acme Recording", Description: "Acme call recording for the US region",
		LoginURL: "https://acme.example/login?sso=callrec", TermsURL: "https://acme.example/terms",
		Plans: []string{"compliance"}, StorageOptions: []string{"provider", "customer"},
		Analytics: []string{"transcription", "sentiment"}, Regions: []string{"US"},
		SIPRECTarget: "sip:srs@rec.acme.example;transport=tcp", BackupTarget: "sip:srs@rec2.acme.example;transport=tcp",
	}
}

func euOnly() callrec.Provider {
	return callrec.Provider{
		ID: euOnlyID, Name: "Eurorec", TermsURL: "https://eurorec.example/tos",
		Regions: []string{"DE"}, SIPRECTarget: "sip:siprec@eurorec.example",
	}
}

// snap is an entitled org hosted in US on the built-in provider, whose
// terms and Acme's are accepted (Eurorec's are not).
func snap() *policy.Snapshot {
	org := callrec.Org{
		ID: orgID, Name: "Example Ltd", PartnerID: callrec.RootPartner, Region: "US", Language: "en_GB",
		Recording: callrec.DefaultOrgRecording(),
	}
	org.Recording.Entitled = true
	org.Recording.StorageRegion = "GB"
	branchCompliance := &callrec.ComplianceAnnouncement{Inbound: true, Outbound: true, OutboundDelay: true, DelaySeconds: 7}
	return &policy.Snapshot{
		Org: org,
		Locations: map[string]callrec.Location{
			hqID: {ID: hqID, OrgID: orgID, Name: "London HQ", TimeZone: "Europe/London"},
			branchID: {ID: branchID, OrgID: orgID, Name: "Boston", TimeZone: "America/New_York", Language: "en_US",
				Recording: callrec.LocationRecording{VendorID: acmeID, FailureBehavior: callrec.FailureEndWithAnnouncement,
					Compliance: branchCompliance}},
			closedID: {ID: closedID, OrgID: orgID, Name: "Lab", TimeZone: "Europe/Berlin",
				Recording: callrec.LocationRecording{VendorID: callrec.VendorNone}},
		},
		Providers: map[string]callrec.Provider{
			callrec.BuiltInProviderID: builtIn(), acmeID: acme(), euOnlyID: euOnly(),
		},
		Terms: map[string]callrec.TermsAcceptance{
			callrec.BuiltInProviderID: {OrgID: orgID, ProviderID: callrec.BuiltInProviderID, Accepted: true, By: "admin@example.com", At: t0, Version: "2026-01"},
			acmeID:                    {OrgID: orgID, ProviderID: acmeID, Accepted: true, By: "admin@example.com", At: t0},
		},
		Accounts: map[string]callrec.ProviderAccount{
			callrec.BuiltInProviderID: {OrgID: orgID, ProviderID: callrec.BuiltInProviderID, Admins: []string{"admin@example.com"},
				Members: []callrec.AccountMember{
					{ID: aliceID, Type: "PEOPLE", Plan: callrec.PlanTeam, PlanSince: t0},
					{ID: "person-bob", Type: "PEOPLE", Plan: callrec.PlanGo},
					{ID: "person-carol", Type: "PEOPLE"},
					{ID: lineID, Type: "VIRTUAL_LINE", Plan: callrec.PlanPremier},
				}},
		},
	}
}

// enabled is a user recording setting: on, the given mode.
func enabled(mode string) callrec.UserRecording {
	r := callrec.DefaultUserRecording()
	r.Enabled = true
	r.Mode = mode
	return r
}

// alice is a professional user at HQ, recorded always.
func alice() *callrec.Person {
	return &callrec.Person{
		ID: aliceID, OrgID: orgID, LocationID: hqID, Emails: []string{"alice@example.com", "a.l@example.com"},
		FirstName: "Alice", LastName: "Liddell", License: callrec.LicenseProfessional, Language: "fr_FR",
		Recording: enabled(callrec.ModeAlways), ExternalID: "alice@sp01.callrec.example",
	}
}

// line is a virtual line at HQ, recorded always.
func line() *callrec.VirtualLine {
	return &callrec.VirtualLine{
		ID: lineID, OrgID: orgID, LocationID: hqID, FirstName: "Sales", LastName: "Line", Language: "de_DE",
		People: []string{aliceID}, Listeners: []string{"person-bob"}, Recording: enabled(callrec.ModeAlways),
	}
}

// withPerson returns alice with f applied.
func withPerson(f func(p *callrec.Person)) *callrec.Person {
	p := alice()
	f(p)
	return p
}

// withSnap returns a fresh snap() with f applied.
func withSnap(f func(s *policy.Snapshot)) *policy.Snapshot {
	s := snap()
	f(s)
	return s
}

// setLocation replaces one location of s after f changes it.
func setLocation(s *policy.Snapshot, id string, f func(l *callrec.Location)) {
	l := s.Locations[id]
	f(&l)
	s.Locations[id] = l
}

// wantKind asserts err wraps kind (nil kind: no error).
func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if kind == nil {
		if err != nil {
			t.Fatalf("error = %v, want none", err)
		}
		return
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want one wrapping %v", err, kind)
	}
}
