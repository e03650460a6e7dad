package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

// checkCase is one CheckUserRecording case.
type checkCase struct {
	name     string
	s        *policy.Snapshot
	target   policy.Target
	next     callrec.UserRecording
	kind     error  // nil: accepted
	contains string // in the message
}

func runCheck(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := policy.CheckUserRecording(c.s, c.target, c.next)
			wantKind(t, err, c.kind)
			if err != nil && !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("message %q does not contain %q", err.Error(), c.contains)
			}
		})
	}
}

func person(license string) policy.Target {
	return policy.Target{Person: withPerson(func(p *callrec.Person) { p.License = license })}
}

func TestR1_LicenceMustBeProfessionalOrBasic(t *testing.T) {
	on := enabled(callrec.ModeAlways)
	off := callrec.DefaultUserRecording()
	runCheck(t, []checkCase{
		{"professional may record", snap(), person(callrec.LicenseProfessional), on, nil, ""},
		{"basic may record", snap(), person(callrec.LicenseBasic), on, nil, ""},
		{"workspace may not", snap(), person(callrec.LicenseWorkspace), on, callrec.ErrInvalid, "licence WORKSPACE cannot record; allowed licences: PROFESSIONAL_USER, BASIC_USER (R1)"},
		{"common area may not", snap(), person(callrec.LicenseCommonArea), on, callrec.ErrInvalid, "(R1)"},
		{"no licence may not", snap(), person(""), on, callrec.ErrInvalid, "licence none"},
		{"workspace may store settings while off", snap(), person(callrec.LicenseWorkspace), off, nil, ""},
		{"virtual line has no licence and may record", snap(), policy.Target{Line: line()}, on, nil, ""},
	})
	t.Run("the error names the field and the rule", func(t *testing.T) {
		var re *policy.RuleError
		err := policy.CheckUserRecording(snap(), person(callrec.LicenseVirtualProfile), on)
		if !errors.As(err, &re) || re.Rule != "R1" || re.Field != "enabled" {
			t.Fatalf("error = %#v, want RuleError R1 on enabled", err)
		}
	})
}

func TestR2_OrgMustBeEntitled(t *testing.T) {
	notEntitled := withSnap(func(s *policy.Snapshot) { s.Org.Recording.Entitled = false })
	runCheck(t, []checkCase{
		{"entitled org, person enabled", snap(), person(callrec.LicenseProfessional), enabled(callrec.ModeAlways), nil, ""},
		{"not entitled, person enabled", notEntitled, person(callrec.LicenseProfessional), enabled(callrec.ModeAlways), callrec.ErrForbidden,
			"org Example Ltd (" + orgID + ") is not entitled to call recording; a partner admin must entitle it first (R2)"},
		{"not entitled, virtual line enabled", notEntitled, policy.Target{Line: line()}, enabled(callrec.ModeOnDemand), callrec.ErrForbidden, "(R2)"},
		{"not entitled, settings stored while off", notEntitled, person(callrec.LicenseProfessional), callrec.DefaultUserRecording(), nil, ""},
		{"nil snapshot is not entitled", nil, person(callrec.LicenseProfessional), enabled(callrec.ModeAlways), callrec.ErrForbidden, "(R2)"},
	})
}

func TestR14_R16_EnablingNeedsAProviderAtTheLocation(t *testing.T) {
	at := func(loc string) policy.Target {
		return policy.Target{Person: withPerson(func(p *callrec.Person) { p.LocationID = loc })}
	}
	orgNone := withSnap(func(s *policy.Snapshot) { s.Org.Recording.VendorID = callrec.VendorNone })
	runCheck(t, []checkCase{
		{"org provider inherited", snap(), at(hqID), enabled(callrec.ModeAlways), nil, ""},
		{"location provider", snap(), at(branchID), enabled(callrec.ModeAlways), nil, ""},
		{"location none", snap(), at(closedID), enabled(callrec.ModeAlways), callrec.ErrConflict,
			"no recording provider is chosen for location Lab (loc-closed) of person Alice Liddell (person-alice); choose one for the org or the location first (R14, R16)"},
		{"org none inherited", orgNone, at(hqID), enabled(callrec.ModeAlways), callrec.ErrConflict, "(R14, R16)"},
		{"org none, location has its own provider", orgNone, at(branchID), enabled(callrec.ModeAlways), nil, ""},
		{"vendor not registered", withSnap(func(s *policy.Snapshot) { s.Org.Recording.VendorID = "gone" }), at(hqID),
			enabled(callrec.ModeAlways), callrec.ErrConflict, "recording provider gone chosen for location London HQ (loc-hq)"},
		{"off is fine without a provider", snap(), at(closedID), callrec.DefaultUserRecording(), nil, ""},
	})
}

func TestR31_VirtualLineNeedsAProvider(t *testing.T) {
	at := func(loc string) policy.Target {
		l := line()
		l.LocationID = loc
		return policy.Target{Line: l}
	}
	runCheck(t, []checkCase{
		{"provider at the org", snap(), at(hqID), enabled(callrec.ModeAlways), nil, ""},
		{"provider at the line's location", withSnap(func(s *policy.Snapshot) { s.Org.Recording.VendorID = callrec.VendorNone }),
			at(branchID), enabled(callrec.ModeAlways), nil, ""},
		{"no provider at the line's location", snap(), at(closedID), enabled(callrec.ModeAlways), callrec.ErrConflict,
			"virtual line Sales Line (vline-sales); choose one for the org or the location first (R31)"},
	})
	t.Run("recording is off by default on a virtual line", func(t *testing.T) {
		if callrec.DefaultUserRecording().Enabled {
			t.Fatal("default settings are enabled")
		}
		err := policy.CheckUserRecording(snap(), at(closedID), callrec.DefaultUserRecording())
		wantKind(t, err, nil)
	})
}

func TestR13_EnablingNeedsTheEffectiveVendorsTerms(t *testing.T) {
	noTerms := withSnap(func(s *policy.Snapshot) { delete(s.Terms, acmeID) })
	at := func(loc string) policy.Target {
		return policy.Target{Person: withPerson(func(p *callrec.Person) { p.LocationID = loc })}
	}
	t.Run("location vendor's terms not accepted is a TermsError", func(t *testing.T) {
		err := policy.CheckUserRecording(noTerms, at(branchID), enabled(callrec.ModeAlways))
		var te *policy.TermsError
		if !errors.As(err, &te) {
			t.Fatalf("error = %v, want *TermsError", err)
		}
		want := policy.TermsError{VendorID: acmeID, VendorName: "Acme Recording", TermsURL: "https://acme.example/terms"}
		if *te != want {
			t.Fatalf("TermsError = %+v, want %+v", *te, want)
		}
		wantKind(t, err, callrec.ErrConflict)
	})
	runCheck(t, []checkCase{
		{"org vendor's terms accepted at another location", noTerms, at(hqID), enabled(callrec.ModeAlways), nil, ""},
		{"built-in terms not accepted", withSnap(func(s *policy.Snapshot) { s.Terms = nil }), policy.Target{Line: line()},
			enabled(callrec.ModeAlways), callrec.ErrConflict, "vendor callrec (" + callrec.BuiltInProviderID + "): terms of service not accepted"},
		{"off does not need terms", noTerms, at(branchID), callrec.DefaultUserRecording(), nil, ""},
	})
}

func TestR25_R28_R29_SettingValues(t *testing.T) {
	mod := func(f func(r *callrec.UserRecording)) callrec.UserRecording {
		r := enabled(callrec.ModeAlways)
		f(&r)
		return r
	}
	off := func(f func(r *callrec.UserRecording)) callrec.UserRecording {
		r := callrec.DefaultUserRecording()
		f(&r)
		return r
	}
	p := person(callrec.LicenseProfessional)
	runCheck(t, []checkCase{
		{"R25 never", snap(), p, mod(func(r *callrec.UserRecording) { r.Mode = callrec.ModeNever }), nil, ""},
		{"R25 always with pause resume", snap(), p, mod(func(r *callrec.UserRecording) { r.Mode = callrec.ModeAlwaysWithPauseResume }), nil, ""},
		{"R25 on demand", snap(), p, mod(func(r *callrec.UserRecording) { r.Mode = callrec.ModeOnDemand }), nil, ""},
		{"R25 unknown mode", snap(), p, mod(func(r *callrec.UserRecording) { r.Mode = "sometimes" }), callrec.ErrInvalid,
			`record: recording mode "sometimes" is not valid; allowed: never, always, always_with_pause_resume, on_demand (R25)`},
		{"R25 empty mode", snap(), p, mod(func(r *callrec.UserRecording) { r.Mode = "" }), callrec.ErrInvalid, "(R25)"},
		{"R25 checked while off", snap(), p, off(func(r *callrec.UserRecording) { r.Mode = "Always" }), callrec.ErrInvalid, "(R25)"},
		{"R28 beep", snap(), p, mod(func(r *callrec.UserRecording) { r.Notification = callrec.NotifyBeep }), nil, ""},
		{"R28 announcement", snap(), p, mod(func(r *callrec.UserRecording) { r.Notification = callrec.NotifyAnnouncement }), nil, ""},
		{"R28 unknown", snap(), p, mod(func(r *callrec.UserRecording) { r.Notification = "Play Announcement" }), callrec.ErrInvalid,
			`notification.type: "Play Announcement" is not valid; allowed: none, beep, announcement (R28)`},
		{"R29 lowest", snap(), p, mod(func(r *callrec.UserRecording) { r.RepeatInterval = 10 }), nil, ""},
		{"R29 highest", snap(), p, mod(func(r *callrec.UserRecording) { r.RepeatInterval = 90 }), nil, ""},
		{"R29 below", snap(), p, mod(func(r *callrec.UserRecording) { r.RepeatInterval = 9 }), callrec.ErrInvalid,
			"repeat.interval: 9 seconds is out of range; allowed: 10..90 (R29)"},
		{"R29 above (Webex allows 1800, we do not)", snap(), p, mod(func(r *callrec.UserRecording) { r.RepeatInterval = 91 }), callrec.ErrInvalid, "(R29)"},
		{"R29 checked while the tone is off", snap(), p, mod(func(r *callrec.UserRecording) { r.RepeatEnabled = false; r.RepeatInterval = 0 }), callrec.ErrInvalid, "(R29)"},
		{"R29 checked while recording is off", snap(), p, off(func(r *callrec.UserRecording) { r.RepeatInterval = 1800 }), callrec.ErrInvalid, "(R29)"},
		{"value errors come before entitlement", withSnap(func(s *policy.Snapshot) { s.Org.Recording.Entitled = false }), p,
			mod(func(r *callrec.UserRecording) { r.RepeatInterval = 5 }), callrec.ErrInvalid, "(R29)"},
	})
	t.Run("no target", func(t *testing.T) {
		wantKind(t, policy.CheckUserRecording(snap(), policy.Target{}, enabled(callrec.ModeAlways)), callrec.ErrInvalid)
	})
}

func TestR29_DefaultRepeatToneIsOnEvery20s(t *testing.T) {
	d := callrec.DefaultUserRecording()
	if !d.RepeatEnabled || d.RepeatInterval != 20 {
		t.Fatalf("default repeat = %v every %d s, want on every 20 s", d.RepeatEnabled, d.RepeatInterval)
	}
	wantKind(t, policy.CheckUserRecording(snap(), person(callrec.LicenseBasic), d), nil)
}

func TestR24_TurningRecordingOffDeletesTheSettings(t *testing.T) {
	custom := enabled(callrec.ModeOnDemand)
	custom.RecordVoicemail = true
	custom.Notification, custom.NotificationEnabled = callrec.NotifyAnnouncement, true
	custom.RepeatInterval = 45
	custom.StartStopPSTN = true
	custom.Selective.InboundInternal = false
	offCustom := custom
	offCustom.Enabled = false
	cases := []struct {
		name       string
		prev, next callrec.UserRecording
		want       callrec.UserRecording
	}{
		{"on to off resets to defaults", custom, offCustom, callrec.DefaultUserRecording()},
		{"off to off keeps what the admin prepared", callrec.DefaultUserRecording(), offCustom, offCustom},
		{"off to on keeps the new settings", callrec.DefaultUserRecording(), custom, custom},
		{"on to on keeps the new settings", enabled(callrec.ModeAlways), custom, custom},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := policy.NormalizeUserRecording(c.prev, c.next); got != c.want {
				t.Fatalf("NormalizeUserRecording = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestR14_R15_R6_R13_CheckOrgVendor(t *testing.T) {
	cases := []struct {
		name      string
		s         *policy.Snapshot
		vendor    string
		confirmed bool
		kind      error
		contains  string
	}{
		{"built-in with accepted terms", snap(), callrec.BuiltInProviderID, false, nil, ""},
		{"external offered in the org's region", snap(), acmeID, false, nil, ""},
		{"R15 none confirmed", snap(), callrec.VendorNone, true, nil, ""},
		{"R15 none not confirmed", snap(), callrec.VendorNone, false, callrec.ErrInvalid,
			`disableForAllUsersConfirmed: must be true to choose vendor "none", which disables call recording for all users (R15)`},
		{"empty vendor id", snap(), "", true, callrec.ErrInvalid, "vendorId: a vendor id"},
		{"unknown vendor", snap(), "nobody", false, callrec.ErrNotFound, `vendorId: recording vendor "nobody" was not found (R14)`},
		{"R6 not offered in the org's region", snap(), euOnlyID, false, callrec.ErrInvalid,
			"vendorId: vendor Eurorec (" + euOnlyID + ") is not offered in the org's region US; it is offered in: DE (R6)"},
		{"R6 offered, R13 terms not accepted", withSnap(func(s *policy.Snapshot) { s.Org.Region = "DE" }), euOnlyID, false, callrec.ErrConflict,
			"accept them at https://eurorec.example/tos first (R13)"},
		{"R6 org without a hosting region is not refused", withSnap(func(s *policy.Snapshot) {
			s.Org.Region = ""
			s.Terms[euOnlyID] = callrec.TermsAcceptance{ProviderID: euOnlyID, Accepted: true}
		}), euOnlyID, false, nil, ""},
		{"R6 provider offered everywhere", withSnap(func(s *policy.Snapshot) {
			p := s.Providers[acmeID]
			p.Regions = nil
			s.Providers[acmeID] = p
			s.Org.Region = "JP"
		}), acmeID, false, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := policy.CheckOrgVendor(c.s, c.vendor, c.confirmed)
			wantKind(t, err, c.kind)
			if err != nil && !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("message %q does not contain %q", err.Error(), c.contains)
			}
		})
	}
	t.Run("R13 conflict is a TermsError", func(t *testing.T) {
		var te *policy.TermsError
		s := withSnap(func(s *policy.Snapshot) { delete(s.Terms, acmeID) })
		if err := policy.CheckOrgVendor(s, acmeID, false); !errors.As(err, &te) || te.VendorID != acmeID {
			t.Fatalf("error = %v, want TermsError for Acme", err)
		}
	})
}

func TestR16_R6_R13_CheckLocationVendor(t *testing.T) {
	cases := []struct {
		name     string
		s        *policy.Snapshot
		location string
		vendor   string
		kind     error
		contains string
	}{
		{"back to the org default", snap(), branchID, "", nil, ""},
		{"none needs no confirmation", snap(), hqID, callrec.VendorNone, nil, ""},
		{"another provider", snap(), hqID, acmeID, nil, ""},
		{"unknown location", snap(), "loc-x", acmeID, callrec.ErrNotFound, `location "loc-x" was not found`},
		{"unknown vendor", snap(), hqID, "nobody", callrec.ErrNotFound, "(R14)"},
		{"R6 not offered in the org's region", snap(), hqID, euOnlyID, callrec.ErrInvalid, "(R6)"},
		{"R13 terms not accepted", withSnap(func(s *policy.Snapshot) { delete(s.Terms, acmeID) }), hqID, acmeID, callrec.ErrConflict, "(R13)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := policy.CheckLocationVendor(c.s, c.location, c.vendor)
			wantKind(t, err, c.kind)
			if err != nil && !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("message %q does not contain %q", err.Error(), c.contains)
			}
		})
	}
}

func TestR18_CheckCompliance(t *testing.T) {
	cases := []struct {
		name     string
		c        callrec.ComplianceAnnouncement
		kind     error
		contains string
	}{
		{"all off", callrec.ComplianceAnnouncement{}, nil, ""},
		{"delay 0", callrec.ComplianceAnnouncement{Outbound: true, OutboundDelay: true}, nil, ""},
		{"delay 60", callrec.ComplianceAnnouncement{Outbound: true, OutboundDelay: true, DelaySeconds: 60}, nil, ""},
		{"delay 61", callrec.ComplianceAnnouncement{Outbound: true, OutboundDelay: true, DelaySeconds: 61}, callrec.ErrInvalid,
			"delayInSeconds: 61 is out of range; allowed: 0..60 (R18)"},
		{"negative delay", callrec.ComplianceAnnouncement{DelaySeconds: -1}, callrec.ErrInvalid, "(R18)"},
		{"custom with a file", callrec.ComplianceAnnouncement{Inbound: true, UseCustom: true, CustomFileID: "f1"}, nil, ""},
		{"custom without a file", callrec.ComplianceAnnouncement{Inbound: true, UseCustom: true}, callrec.ErrInvalid,
			"audioAnnouncementFileId: required when a custom compliance announcement is used (R18)"},
		{"location playing the org's file needs none", callrec.ComplianceAnnouncement{UseCustom: true, UseOrgCustomFile: true}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := policy.CheckCompliance(c.c)
			wantKind(t, err, c.kind)
			if err != nil && !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("message %q does not contain %q", err.Error(), c.contains)
			}
		})
	}
}

func TestX2_CheckRegion(t *testing.T) {
	b, a := builtIn(), acme()
	open := callrec.Provider{ID: "open", Name: "Open"}
	cases := []struct {
		name     string
		p        *callrec.Provider
		region   string
		kind     error
		contains string
	}{
		{"built-in region offered", &b, "DE", nil, ""},
		{"built-in region not offered", &b, "JP", callrec.ErrInvalid, `storageRegion: "JP" is not offered by vendor callrec; allowed: US, GB, DE (X2)`},
		{"empty keeps the default", &b, "", nil, ""},
		{"external provider's own list", &a, "US", nil, ""},
		{"external provider region not offered", &a, "GB", callrec.ErrInvalid, "(X2)"},
		{"provider without regions: any known region", &open, "AU", nil, ""},
		{"provider without regions: unknown code", &open, "EU", callrec.ErrInvalid, "allowed: US, SG, GB, JP, DE, AU, IN, CA"},
		{"no provider", nil, "US", callrec.ErrInvalid, "without a recording provider"},
		{"no provider, no region", nil, "", nil, ""},
		{"case matters (codes are upper case)", &b, "de", callrec.ErrInvalid, "(X2)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := policy.CheckRegion(c.p, c.region)
			wantKind(t, err, c.kind)
			if err != nil && !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("message %q does not contain %q", err.Error(), c.contains)
			}
		})
	}
}
