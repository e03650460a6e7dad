package policy_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

func TestR14_R16_VendorOfOrgAndLocation(t *testing.T) {
	cases := []struct {
		name          string
		s             *policy.Snapshot
		location      string
		wantVendor    string
		wantInherited bool
	}{
		{"org level is the org's own choice", snap(), "", callrec.BuiltInProviderID, false},
		{"new location uses the org default", snap(), hqID, callrec.BuiltInProviderID, true},
		{"location override wins", snap(), branchID, acmeID, false},
		{"location set to none wins over the org", snap(), closedID, callrec.VendorNone, false},
		{"unknown location uses the org default", snap(), "loc-unknown", callrec.BuiltInProviderID, true},
		{"org none reaches inheriting locations", withSnap(func(s *policy.Snapshot) { s.Org.Recording.VendorID = callrec.VendorNone }),
			hqID, callrec.VendorNone, true},
		{"org none does not change an overriding location", withSnap(func(s *policy.Snapshot) { s.Org.Recording.VendorID = callrec.VendorNone }),
			branchID, acmeID, false},
		{"nil snapshot has no vendor", nil, hqID, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, inh := c.s.Vendor(c.location)
			if v != c.wantVendor || inh != c.wantInherited {
				t.Fatalf("Vendor(%q) = %q, %v; want %q, %v", c.location, v, inh, c.wantVendor, c.wantInherited)
			}
		})
	}
}

func TestR14_ProviderAtLocation(t *testing.T) {
	cases := []struct {
		name     string
		s        *policy.Snapshot
		location string
		wantID   string // "" = nil
	}{
		{"org default is the built-in provider", snap(), hqID, callrec.BuiltInProviderID},
		{"location override is Acme", snap(), branchID, acmeID},
		{"location none has no provider", snap(), closedID, ""},
		{"org with no vendor set has none", withSnap(func(s *policy.Snapshot) { s.Org.Recording.VendorID = "" }), hqID, ""},
		{"vendor id that is not registered is none", withSnap(func(s *policy.Snapshot) { s.Org.Recording.VendorID = "deleted-vendor" }), "", ""},
		{"nil snapshot has none", nil, hqID, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.s.Provider(c.location)
			got := ""
			if p != nil {
				got = p.ID
			}
			if got != c.wantID {
				t.Fatalf("Provider(%q) = %q, want %q", c.location, got, c.wantID)
			}
		})
	}
	t.Run("the result is a copy", func(t *testing.T) {
		s := snap()
		s.Provider(hqID).Name = "changed"
		if s.Providers[callrec.BuiltInProviderID].Name != "callrec" {
			t.Fatal("changing the returned provider changed the snapshot")
		}
	})
}

func TestR5_ProviderDeclarationsReachCallers(t *testing.T) {
	s := snap()
	want := acme()
	got := s.Provider(branchID)
	if got == nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("Provider(branch) = %+v, want the declared provider %+v", got, want)
	}
	d := policy.Decide(s, policy.Call{Recorded: policy.Target{Person: withPerson(func(p *callrec.Person) { p.LocationID = branchID })}})
	if !reflect.DeepEqual(d.Provider, want) {
		t.Fatalf("Decision.Provider = %+v, want the declared provider", d.Provider)
	}
}

func TestX1_FailureBehaviorLocationOverrideWins(t *testing.T) {
	cases := []struct {
		name     string
		s        *policy.Snapshot
		location string
		want     string
	}{
		{"org value at an inheriting location", withSnap(func(s *policy.Snapshot) {
			s.Org.Recording.FailureBehavior = callrec.FailureProceedWithAnnouncement
		}), hqID, callrec.FailureProceedWithAnnouncement},
		{"location override", snap(), branchID, callrec.FailureEndWithAnnouncement},
		{"org level", snap(), "", callrec.FailureProceedNoAnnouncement},
		{"unset everywhere proceeds silently", withSnap(func(s *policy.Snapshot) { s.Org.Recording.FailureBehavior = "" }),
			hqID, callrec.FailureProceedNoAnnouncement},
		{"invalid location value falls back to the org", withSnap(func(s *policy.Snapshot) {
			setLocation(s, branchID, func(l *callrec.Location) { l.Recording.FailureBehavior = "HANG_UP" })
			s.Org.Recording.FailureBehavior = callrec.FailureEndWithAnnouncement
		}), branchID, callrec.FailureEndWithAnnouncement},
		{"nil snapshot", nil, hqID, callrec.FailureProceedNoAnnouncement},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.FailureBehavior(c.location); got != c.want {
				t.Fatalf("FailureBehavior(%q) = %q, want %q", c.location, got, c.want)
			}
		})
	}
}

func TestX2_StorageRegionLocationOrgHosting(t *testing.T) {
	cases := []struct {
		name     string
		s        *policy.Snapshot
		location string
		want     string
	}{
		{"org storage region at an inheriting location", snap(), hqID, "GB"},
		{"location override", withSnap(func(s *policy.Snapshot) {
			setLocation(s, hqID, func(l *callrec.Location) { l.Recording.StorageRegion = "DE" })
		}), hqID, "DE"},
		{"no storage region: the org's hosting region", withSnap(func(s *policy.Snapshot) { s.Org.Recording.StorageRegion = "" }), hqID, "US"},
		{"nothing set", withSnap(func(s *policy.Snapshot) { s.Org.Recording.StorageRegion = ""; s.Org.Region = "" }), "", ""},
		{"nil snapshot", nil, hqID, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.StorageRegion(c.location); got != c.want {
				t.Fatalf("StorageRegion(%q) = %q, want %q", c.location, got, c.want)
			}
		})
	}
}

func TestR17_ComplianceLocationOverridesOrg(t *testing.T) {
	orgComp := callrec.ComplianceAnnouncement{Inbound: true, UseCustom: true, CustomFileID: "file-org"}
	cases := []struct {
		name     string
		s        *policy.Snapshot
		location string
		want     callrec.ComplianceAnnouncement
	}{
		{"off by default", snap(), hqID, callrec.ComplianceAnnouncement{}},
		{"org setting at an inheriting location", withSnap(func(s *policy.Snapshot) { s.Org.Recording.Compliance = orgComp }), hqID, orgComp},
		{"location's own setting wins", withSnap(func(s *policy.Snapshot) { s.Org.Recording.Compliance = orgComp }), branchID,
			callrec.ComplianceAnnouncement{Inbound: true, Outbound: true, OutboundDelay: true, DelaySeconds: 7}},
		{"location plays the org's custom file", withSnap(func(s *policy.Snapshot) {
			s.Org.Recording.Compliance = orgComp
			setLocation(s, branchID, func(l *callrec.Location) {
				l.Recording.Compliance = &callrec.ComplianceAnnouncement{Outbound: true, UseOrgCustomFile: true, CustomFileID: "stale"}
			})
		}), branchID, callrec.ComplianceAnnouncement{Outbound: true, UseOrgCustomFile: true, UseCustom: true, CustomFileID: "file-org"}},
		{"org level", withSnap(func(s *policy.Snapshot) { s.Org.Recording.Compliance = orgComp }), "", orgComp},
		{"nil snapshot is off", nil, hqID, callrec.ComplianceAnnouncement{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.Compliance(c.location); got != c.want {
				t.Fatalf("Compliance(%q) = %+v, want %+v", c.location, got, c.want)
			}
		})
	}
}

func TestAnnouncements_LocationOverridesOrg(t *testing.T) {
	orgAnn := callrec.Announcements{Start: callrec.AnnouncementChoice{Custom: true, FileID: "org-start"}}
	locAnn := callrec.Announcements{Stop: callrec.AnnouncementChoice{Custom: true, FileID: "loc-stop"}}
	s := withSnap(func(s *policy.Snapshot) {
		s.Org.Recording.Announcements = orgAnn
		setLocation(s, branchID, func(l *callrec.Location) { l.Recording.Announcements = &locAnn })
	})
	for _, c := range []struct {
		name, location string
		want           callrec.Announcements
	}{
		{"inheriting location gets the org's", hqID, orgAnn},
		{"location's own", branchID, locAnn},
		{"org level", "", orgAnn},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := s.Announcements(c.location); got != c.want {
				t.Fatalf("Announcements(%q) = %+v, want %+v", c.location, got, c.want)
			}
		})
	}
}

func TestR13_TermsAccepted(t *testing.T) {
	s := withSnap(func(s *policy.Snapshot) {
		s.Terms = map[string]callrec.TermsAcceptance{
			acmeID:                    {ProviderID: acmeID, Accepted: true, Version: "old"},
			callrec.BuiltInProviderID: {ProviderID: callrec.BuiltInProviderID, Accepted: false},
		}
	})
	for _, c := range []struct {
		name, provider string
		want           bool
	}{
		{"accepted, even for an older terms version", acmeID, true},
		{"record that says not accepted", callrec.BuiltInProviderID, false},
		{"never accepted", euOnlyID, false},
		{"none has no terms", callrec.VendorNone, true},
		{"empty provider id", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := s.TermsAccepted(c.provider); got != c.want {
				t.Fatalf("TermsAccepted(%q) = %v, want %v", c.provider, got, c.want)
			}
		})
	}
}

func TestR13_TermsErrorMessageAndKind(t *testing.T) {
	cases := []struct {
		name string
		e    *policy.TermsError
		want string
	}{
		{"external vendor with a terms URL", &policy.TermsError{VendorID: acmeID, VendorName: "Acme Recording", TermsURL: "https://acme.example/terms"},
			"vendor Acme Recording (" + acmeID + "): terms of service not accepted; accept them at https://acme.example/terms first (R13)"},
		{"vendor without a terms URL", &policy.TermsError{VendorID: "v1", VendorName: "Local"},
			"vendor Local (v1): terms of service not accepted; accept them first (R13)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.e.Error(); got != c.want {
				t.Fatalf("Error() = %q, want %q", got, c.want)
			}
			var err error = c.e
			if !errors.Is(err, callrec.ErrConflict) {
				t.Fatal("TermsError does not wrap ErrConflict")
			}
		})
	}
}

func TestR7_PlanOfProvisionedMembersOnly(t *testing.T) {
	cases := []struct {
		name   string
		s      *policy.Snapshot
		member string
		want   string
	}{
		{"paid member", snap(), aliceID, callrec.PlanTeam},
		{"free member", snap(), "person-bob", callrec.PlanGo},
		{"member stored without a plan is on go", snap(), "person-carol", callrec.PlanGo},
		{"virtual line member", snap(), lineID, callrec.PlanPremier},
		{"not provisioned", snap(), "person-dave", ""},
		{"empty id", snap(), "", ""},
		{"no built-in account", withSnap(func(s *policy.Snapshot) { s.Accounts = nil }), aliceID, ""},
		{"member of an external account only", withSnap(func(s *policy.Snapshot) {
			s.Accounts = map[string]callrec.ProviderAccount{acmeID: {ProviderID: acmeID, Members: []callrec.AccountMember{{ID: aliceID, Plan: "compliance"}}}}
		}), aliceID, ""},
		{"nil snapshot", nil, aliceID, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.Plan(c.member); got != c.want {
				t.Fatalf("Plan(%q) = %q, want %q", c.member, got, c.want)
			}
		})
	}
}
