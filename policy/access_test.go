package policy_test

import (
	"maps"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

// Access shorthands.
var (
	none     = policy.Access{}
	all      = policy.Access{List: true, Read: true, Download: true, Delete: true, Reassign: true}
	owner    = policy.Access{List: true, Read: true, Download: true, Delete: true}
	listener = policy.Access{List: true, Read: true, Download: true}
	readOnly = policy.Access{List: true, Read: true}
	admin    = policy.Access{List: true, Read: true, Reassign: true}
)

func rec(ownerType, ownerID, status string) *callrec.Recording {
	return &callrec.Recording{ID: "rec-1", OrgID: orgID, OwnerType: ownerType, OwnerID: ownerID, Status: status, Start: t0}
}

type accessCase struct {
	name   string
	viewer policy.Viewer
	rec    *callrec.Recording
	plan   string
	want   policy.Access
}

func runAccess(t *testing.T, cases []accessCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := policy.RecordingAccess(c.viewer, c.rec, c.plan); got != c.want {
				t.Fatalf("RecordingAccess = %+v, want %+v", got, c.want)
			}
		})
	}
}

var (
	vOwner      = policy.Viewer{Role: callrec.RoleUser, OrgID: orgID, PersonID: aliceID}
	vOther      = policy.Viewer{Role: callrec.RoleUser, OrgID: orgID, PersonID: "person-bob"}
	vProvAdmin  = policy.Viewer{Role: callrec.RoleUser, OrgID: orgID, PersonID: "person-bob", ProviderAdmin: true}
	vFull       = policy.Viewer{Role: callrec.RoleFullAdmin, OrgID: orgID}
	vReadOnly   = policy.Viewer{Role: callrec.RoleReadOnlyAdmin, OrgID: orgID}
	vPartner    = policy.Viewer{Role: callrec.RolePartnerAdmin, OrgID: orgID, PartnerID: "partner-7"}
	vCompliance = policy.Viewer{Role: callrec.RoleComplianceOfficer, OrgID: orgID}
	vBootstrap  = policy.Viewer{Role: callrec.RolePartnerAdmin, PartnerID: callrec.RootPartner, Bootstrap: true}
	vLocAdmin   = policy.Viewer{Role: callrec.RoleLocationAdmin, OrgID: orgID}
)

func TestR3_FreePlanOnlyTheOwner(t *testing.T) {
	r := rec(callrec.OwnerUser, aliceID, callrec.StatusAvailable)
	runAccess(t, []accessCase{
		{"owner manages their own", vOwner, r, callrec.PlanGo, owner},
		{"another user sees nothing", vOther, r, callrec.PlanGo, none},
		{"provider admin sees nothing", vProvAdmin, r, callrec.PlanGo, none},
		{"full admin sees nothing", vFull, r, callrec.PlanGo, none},
		{"read-only admin sees nothing", vReadOnly, r, callrec.PlanGo, none},
		{"partner admin sees nothing", vPartner, r, callrec.PlanGo, none},
		{"location admin sees nothing", vLocAdmin, r, callrec.PlanGo, none},
		{"compliance officer has every right", vCompliance, r, callrec.PlanGo, all},
		{"bootstrap partner admin has every right", vBootstrap, r, callrec.PlanGo, all},
		{"owner of an unknown plan", vOwner, r, "", owner},
		{"full admin, owner's plan unknown: nothing", vFull, r, "", none},
		{"owner who is also a full admin", policy.Viewer{Role: callrec.RoleFullAdmin, OrgID: orgID, PersonID: aliceID}, r, callrec.PlanGo, owner},
	})
}

func TestR4_PaidPlansOpenTheOrgsRecordings(t *testing.T) {
	r := rec(callrec.OwnerUser, aliceID, callrec.StatusAvailable)
	for _, plan := range []string{callrec.PlanTeam, callrec.PlanPremier} {
		t.Run(plan, func(t *testing.T) {
			runAccess(t, []accessCase{
				{"owner", vOwner, r, plan, owner},
				{"provider admin: list, read, download, delete", vProvAdmin, r, plan, owner},
				{"full admin: list, read, reassign, no download", vFull, r, plan, admin},
				{"partner admin acting on the org: as a full admin", vPartner, r, plan, admin},
				{"read-only admin: list and read", vReadOnly, r, plan, readOnly},
				{"plain user: nothing", vOther, r, plan, none},
				{"location admin: nothing", vLocAdmin, r, plan, none},
				{"full admin who is a provider admin too", policy.Viewer{Role: callrec.RoleFullAdmin, OrgID: orgID, ProviderAdmin: true}, r, plan, all},
			})
		})
	}
}

func TestR3_R4_AccessByStatusAndOrg(t *testing.T) {
	elsewhere := rec(callrec.OwnerUser, aliceID, callrec.StatusAvailable)
	elsewhere.OrgID = "other-org"
	runAccess(t, []accessCase{
		{"still recording: not even the owner", vOwner, rec(callrec.OwnerUser, aliceID, callrec.StatusRecording), callrec.PlanTeam, none},
		{"still recording: not even the bootstrap admin", vBootstrap, rec(callrec.OwnerUser, aliceID, callrec.StatusRecording), callrec.PlanTeam, none},
		{"purged: compliance officer reads", vCompliance, rec(callrec.OwnerUser, aliceID, callrec.StatusPurged), callrec.PlanTeam, readOnly},
		{"purged: bootstrap admin reads", vBootstrap, rec(callrec.OwnerUser, aliceID, callrec.StatusPurged), callrec.PlanGo, readOnly},
		{"purged: owner sees nothing", vOwner, rec(callrec.OwnerUser, aliceID, callrec.StatusPurged), callrec.PlanTeam, none},
		{"purged: provider admin sees nothing", vProvAdmin, rec(callrec.OwnerUser, aliceID, callrec.StatusPurged), callrec.PlanTeam, none},
		{"in the recycle bin: owner can restore and purge", vOwner, rec(callrec.OwnerUser, aliceID, callrec.StatusDeleted), callrec.PlanGo, owner},
		{"another org: owner id matches but org does not", vOwner, elsewhere, callrec.PlanTeam, none},
		{"another org: compliance officer of this org", vCompliance, elsewhere, callrec.PlanTeam, none},
		{"another org: full admin of this org", vFull, elsewhere, callrec.PlanTeam, none},
		{"another org: the bootstrap admin sees every org", vBootstrap, elsewhere, callrec.PlanTeam, all},
		{"viewer without an org", policy.Viewer{Role: callrec.RoleUser, PersonID: aliceID}, rec(callrec.OwnerUser, aliceID, callrec.StatusAvailable), callrec.PlanGo, none},
		{"nil recording", vBootstrap, nil, callrec.PlanGo, none},
	})
}

func TestR32_VirtualLineListeners(t *testing.T) {
	r := rec(callrec.OwnerVirtualLine, lineID, callrec.StatusAvailable)
	vListener := policy.Viewer{Role: callrec.RoleUser, OrgID: orgID, PersonID: "person-bob", Listens: []string{"vline-other", lineID}}
	runAccess(t, []accessCase{
		{"listener on go: list, read, download", vListener, r, callrec.PlanGo, listener},
		{"listener on premier", vListener, r, callrec.PlanPremier, listener},
		{"listener of another line", policy.Viewer{Role: callrec.RoleUser, OrgID: orgID, PersonID: "person-bob", Listens: []string{"vline-other"}}, r, callrec.PlanGo, none},
		{"listen rights do not reach a user's recording", vListener, rec(callrec.OwnerUser, lineID, callrec.StatusAvailable), callrec.PlanGo, none},
		{"listener who is a provider admin on a paid plan may delete", policy.Viewer{Role: callrec.RoleUser, OrgID: orgID, Listens: []string{lineID}, ProviderAdmin: true}, r, callrec.PlanTeam, owner},
	})
}

func TestRecordingAccess_UnmatchedAndQueueRecordings(t *testing.T) {
	for _, ot := range []string{callrec.OwnerOrg, callrec.OwnerCallQueue} {
		r := rec(ot, orgID, callrec.StatusAvailable)
		t.Run(ot, func(t *testing.T) {
			runAccess(t, []accessCase{
				{"compliance officer", vCompliance, r, "", all},
				{"full admin", vFull, r, "", admin},
				{"read-only admin", vReadOnly, r, "", readOnly},
				{"provider admin", vProvAdmin, r, "", none},
				{"user whose id happens to match", policy.Viewer{Role: callrec.RoleUser, OrgID: orgID, PersonID: orgID}, r, "", none},
			})
		})
	}
}

func TestR3_R4_R10_R33_Expiry(t *testing.T) {
	cases := []struct {
		name string
		plan string
		want time.Time
	}{
		{"go keeps 30 days", callrec.PlanGo, t0.Add(30 * 24 * time.Hour)},
		{"team keeps without limit", callrec.PlanTeam, time.Time{}},
		{"premier keeps without limit", callrec.PlanPremier, time.Time{}},
		{"external provider plan: kept at the provider", "compliance", time.Time{}},
		{"no plan is never deleted by policy", "", time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := policy.Expiry(c.plan, t0); !got.Equal(c.want) {
				t.Fatalf("Expiry(%q) = %v, want %v", c.plan, got, c.want)
			}
		})
	}
}

func TestR9_DowngradeNeverDeletesAtOnce(t *testing.T) {
	day := 24 * time.Hour
	now := t0
	cases := []struct {
		name  string
		start time.Time
		want  time.Time
	}{
		{"a year old: 30 days from the downgrade", now.Add(-365 * day), now.Add(30 * day)},
		{"31 days old: 30 days from the downgrade", now.Add(-31 * day), now.Add(30 * day)},
		{"exactly 30 days old: 30 days from the downgrade", now.Add(-30 * day), now.Add(30 * day)},
		{"10 days old: 30 days from its start, as on go", now.Add(-10 * day), now.Add(20 * day)},
		{"starts now", now, now.Add(30 * day)},
		{"start after now (clock skew): 30 days from start", now.Add(time.Hour), now.Add(time.Hour + 30*day)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := policy.Downgrade(c.start, now)
			if !got.Equal(c.want) {
				t.Fatalf("Downgrade = %v, want %v", got, c.want)
			}
			if !got.After(now) {
				t.Fatalf("Downgrade = %v is not after now %v", got, now)
			}
		})
	}
	t.Run("upgrade clears the expiry", func(t *testing.T) {
		if !policy.Expiry(callrec.PlanTeam, now.Add(-40*day)).IsZero() {
			t.Fatal("paid plan has an expiry")
		}
	})
}

func TestR8_MayChangePlan(t *testing.T) {
	cases := []struct {
		name string
		v    policy.Viewer
		want bool
	}{
		{"partner admin", vPartner, true},
		{"bootstrap partner admin", vBootstrap, true},
		{"user who is a provider admin", vProvAdmin, true},
		{"full admin who is a provider admin", policy.Viewer{Role: callrec.RoleFullAdmin, OrgID: orgID, ProviderAdmin: true}, true},
		{"full admin", vFull, false},
		{"read-only admin", vReadOnly, false},
		{"compliance officer", vCompliance, false},
		{"plain user", vOwner, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := policy.MayChangePlan(c.v); got != c.want {
				t.Fatalf("MayChangePlan = %v, want %v", got, c.want)
			}
		})
	}
}

func TestR11_R12_MayBecomeProviderAdmin(t *testing.T) {
	accounts := []callrec.ProviderAccount{
		{OrgID: "org-a", ProviderID: callrec.BuiltInProviderID, Admins: []string{"Pat@Partner.example", "it@a.example"}},
		{OrgID: "org-b", ProviderID: callrec.BuiltInProviderID, Admins: []string{"it@b.example"}},
		{OrgID: "org-c", ProviderID: acmeID, Admins: []string{"sam@partner.example"}},
	}
	cases := []struct {
		name    string
		email   string
		partner bool
		org     string
		want    bool
	}{
		{"R11 org admin becomes provider admin", "it@b.example", false, "org-b", true},
		{"R11 org admin, first time", "new@b.example", false, "org-b", true},
		{"R12 partner admin's first customer account", "lee@partner.example", true, "org-b", true},
		{"R12 partner admin already admin of this org's account", "pat@partner.example", true, "org-a", true},
		{"R12 partner admin already admin elsewhere (case-insensitive)", "pat@partner.example", true, "org-b", false},
		{"R12 external provider accounts do not count", "sam@partner.example", true, "org-b", true},
		{"no email", " ", false, "org-b", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := policy.MayBecomeProviderAdmin(c.email, c.partner, c.org, accounts); got != c.want {
				t.Fatalf("MayBecomeProviderAdmin(%q, %v, %q) = %v, want %v", c.email, c.partner, c.org, got, c.want)
			}
		})
	}
}

func TestR7_R10_R32_R33_AutomaticProvisioningOnlyBuiltIn(t *testing.T) {
	b, a := builtIn(), acme()
	claims := acme()
	claims.AutoProvisioning = true // declares it supports provisioning (R5)
	cases := []struct {
		name string
		p    *callrec.Provider
		want bool
	}{
		{"R7, R32 built-in provisions people and virtual lines", &b, true},
		{"R10, R33 external provider: user sync API instead", &a, false},
		{"R10 external provider that declares provisioning: still not callrec's job", &claims, false},
		{"no provider", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := policy.AutoProvisions(c.p); got != c.want {
				t.Fatalf("AutoProvisions = %v, want %v", got, c.want)
			}
		})
	}
}

func TestR13_SharedFields(t *testing.T) {
	loc := &callrec.Location{ID: hqID, TimeZone: "Europe/London"}
	p := alice()
	cases := []struct {
		name string
		got  map[string]string
		want map[string]string
	}{
		{"built-in provider: timezone, names, primary email", policy.SharedFields(p, loc, false, "Example Ltd"),
			map[string]string{"timezone": "Europe/London", "firstName": "Alice", "lastName": "Liddell", "email": "alice@example.com"}},
		{"external provider also gets the customer name", policy.SharedFields(p, loc, true, "Example Ltd"),
			map[string]string{"timezone": "Europe/London", "firstName": "Alice", "lastName": "Liddell", "email": "alice@example.com", "customerName": "Example Ltd"}},
		{"no location: empty timezone", policy.SharedFields(p, nil, false, ""),
			map[string]string{"timezone": "", "firstName": "Alice", "lastName": "Liddell", "email": "alice@example.com"}},
		{"no person: nothing", policy.SharedFields(nil, loc, true, "Example Ltd"), map[string]string{}},
		{"virtual line: no email", policy.SharedLineFields(line(), loc, true, "Example Ltd"),
			map[string]string{"timezone": "Europe/London", "firstName": "Sales", "lastName": "Line", "customerName": "Example Ltd"}},
		{"no virtual line: nothing", policy.SharedLineFields(nil, loc, false, ""), map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !maps.Equal(c.got, c.want) {
				t.Fatalf("shared = %v, want %v", c.got, c.want)
			}
		})
	}
}
