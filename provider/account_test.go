package provider

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

func TestR13_AcceptTermsBuiltIn(t *testing.T) {
	f := newFixture(t)
	branch := f.location(f.org.ID, "Branch", "America/New_York")
	ada := f.person(f.org.ID, f.hq, "Ada", "Lovelace", "ada@acme.example", true)
	f.person(f.org.ID, f.hq, "Bob", "Off", "bob@acme.example", false) // not enabled: not shared
	ext := f.external("Dubber")
	branch.Recording.VendorID = ext.ID // Branch records with another provider: not shared with the built-in one
	f.update(func(tx directory.Tx) error { return directory.Locations.Put(f.ctx, tx, &branch) })
	f.person(f.org.ID, branch, "Cy", "Branch", "cy@acme.example", true)
	line := f.line(f.org.ID, f.hq, "Front", "Desk", true)

	if f.account(f.org.ID) != nil {
		t.Fatal("an account exists before the terms are accepted")
	}
	got := f.accept(f.org, f.builtIn(), Actor{Email: " Admin@Acme.example "})
	want := &callrec.TermsAcceptance{
		OrgID: f.org.ID, ProviderID: callrec.BuiltInProviderID, Accepted: true, By: "admin@acme.example", At: testNow, Version: "1",
		Shared: []callrec.SharedUser{
			{ID: ada.ID, Type: "PEOPLE", At: testNow, Fields: map[string]string{
				"timezone": "Europe/Copenhagen", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@acme.example"}},
			{ID: line.ID, Type: "VIRTUAL_LINE", At: testNow, Fields: map[string]string{
				"timezone": "Europe/Copenhagen", "firstName": "Front", "lastName": "Desk"}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("acceptance =\n%+v\nwant\n%+v", got, want)
	}
	if stored := f.terms(f.org.ID, callrec.BuiltInProviderID); !reflect.DeepEqual(stored, want) {
		t.Errorf("stored acceptance =\n%+v\nwant\n%+v", stored, want)
	}

	t.Run("R7 the account is created with the shared users on go", func(t *testing.T) {
		acc := f.account(f.org.ID)
		if acc == nil {
			t.Fatal("no account")
		}
		if !acc.Created.Equal(testNow) || len(acc.Admins) != 0 || len(acc.Members) != 2 {
			t.Fatalf("account = %+v", acc)
		}
		for _, id := range []string{ada.ID, line.ID} {
			if m := member(acc, id); m == nil || m.Plan != callrec.PlanGo || !m.PlanSince.Equal(testNow) {
				t.Errorf("member %s = %+v", id, m)
			}
		}
	})
	t.Run("accepting again changes nothing", func(t *testing.T) {
		var again *callrec.TermsAcceptance
		f.update(func(tx directory.Tx) error {
			var err error
			b := f.builtIn()
			again, err = AcceptTerms(f.ctx, tx, f.org, &b, Actor{Email: "other@acme.example"}, true, testNow.Add(time.Hour))
			return err
		})
		if !reflect.DeepEqual(again, want) {
			t.Errorf("re-accepted = %+v", again)
		}
	})
	t.Run("withdraw keeps the version and shares nobody", func(t *testing.T) {
		var w *callrec.TermsAcceptance
		later := testNow.Add(2 * time.Hour)
		f.update(func(tx directory.Tx) error {
			var err error
			b := f.builtIn()
			w, err = AcceptTerms(f.ctx, tx, f.org, &b, Actor{Email: "dpo@acme.example"}, false, later)
			return err
		})
		wantW := &callrec.TermsAcceptance{OrgID: f.org.ID, ProviderID: callrec.BuiltInProviderID, By: "dpo@acme.example", At: later, Version: "1"}
		if !reflect.DeepEqual(w, wantW) || !reflect.DeepEqual(f.terms(f.org.ID, callrec.BuiltInProviderID), wantW) {
			t.Errorf("withdrawn = %+v, want %+v", w, wantW)
		}
		if f.snapshot(f.org.ID).TermsAccepted(callrec.BuiltInProviderID) {
			t.Error("policy still sees the terms accepted")
		}
		if acc := f.account(f.org.ID); acc == nil || len(acc.Members) != 2 {
			t.Errorf("the account must stay: %+v", acc)
		}
	})
	t.Run("a new terms version is a new acceptance", func(t *testing.T) {
		b := f.builtIn()
		b.TermsVersion = "2"
		f.update(func(tx directory.Tx) error { return directory.Providers.Put(f.ctx, tx, &b) })
		f.accept(f.org, b, Actor{Email: "admin@acme.example"}) // after the withdrawal
		b.TermsVersion = "3"
		var v3 *callrec.TermsAcceptance
		at := testNow.Add(3 * time.Hour)
		f.update(func(tx directory.Tx) error {
			var err error
			v3, err = AcceptTerms(f.ctx, tx, f.org, &b, Actor{Email: "ceo@acme.example"}, true, at)
			return err
		})
		if !v3.Accepted || v3.Version != "3" || v3.By != "ceo@acme.example" || !v3.At.Equal(at) || len(v3.Shared) != 2 {
			t.Errorf("v3 acceptance = %+v", v3)
		}
	})
}

func TestR13_AcceptTermsExternal(t *testing.T) {
	f := newFixture(t)
	ext := f.external("Dubber")
	f.setVendor(f.org, ext.ID)
	ada := f.person(f.org.ID, f.hq, "Ada", "Lovelace", "ada@acme.example", true)
	got := f.accept(f.org, ext, Actor{Email: "admin@acme.example"})
	if got.CustomerName != "Acme Corp" || got.Version != "2024-05" || len(got.Shared) != 1 {
		t.Fatalf("acceptance = %+v", got)
	}
	wantFields := map[string]string{"timezone": "Europe/Copenhagen", "firstName": "Ada", "lastName": "Lovelace",
		"email": "ada@acme.example", "customerName": "Acme Corp"}
	if s := got.Shared[0]; s.ID != ada.ID || s.Type != "PEOPLE" || !reflect.DeepEqual(s.Fields, wantFields) {
		t.Errorf("shared = %+v, want fields %v", s, wantFields)
	}
	if f.account(f.org.ID) != nil {
		t.Error("accepting an external provider's terms created a built-in account")
	}
	t.Run("withdrawing terms never accepted stores nothing", func(t *testing.T) {
		other := f.external("Never")
		f.update(func(tx directory.Tx) error {
			w, err := AcceptTerms(f.ctx, tx, f.org, &other, Actor{Email: "a@acme.example"}, false, testNow)
			if err == nil && (w.Accepted || w.ProviderID != other.ID) {
				t.Errorf("withdrawal = %+v", w)
			}
			return err
		})
		if tr := f.terms(f.org.ID, other.ID); tr != nil {
			t.Errorf("stored %+v", tr)
		}
	})
}

func TestR7_ProvisionCreatesMissingAccount(t *testing.T) {
	f := newFixture(t)
	ada := f.person(f.org.ID, f.hq, "Ada", "Lovelace", "ada@acme.example", true)
	// No terms accepted, no account: R7 creates it when a user is enabled.
	f.provision(f.org.ID, policy.Target{Person: ada}, Actor{Email: "Admin@acme.example"}, testNow)
	acc := f.account(f.org.ID)
	if acc == nil {
		t.Fatal("no account created")
	}
	want := &callrec.ProviderAccount{OrgID: f.org.ID, ProviderID: callrec.BuiltInProviderID, Created: testNow,
		Admins:  []string{"admin@acme.example"},
		Members: []callrec.AccountMember{{ID: ada.ID, Type: "PEOPLE", Plan: "go", PlanSince: testNow, Added: testNow}}}
	if !reflect.DeepEqual(acc, want) {
		t.Errorf("account =\n%+v\nwant\n%+v", acc, want)
	}
	if f.snapshot(f.org.ID).Plan(ada.ID) != callrec.PlanGo {
		t.Error("policy does not see the member on go")
	}
	t.Run("a member keeps its plan and admins are not repeated", func(t *testing.T) {
		f.update(func(tx directory.Tx) error {
			_, _, err := ChangePlan(f.ctx, tx, f.org.ID, ada.ID, callrec.PlanTeam, testNow)
			return err
		})
		f.provision(f.org.ID, policy.Target{Person: ada}, Actor{Email: "admin@acme.example"}, testNow.Add(time.Hour))
		acc := f.account(f.org.ID)
		if m := member(acc, ada.ID); m.Plan != callrec.PlanTeam || len(acc.Members) != 1 || len(acc.Admins) != 1 {
			t.Errorf("account = %+v", acc)
		}
	})
	t.Run("shared fields are recorded once the terms are accepted", func(t *testing.T) {
		f.accept(f.org, f.builtIn(), Actor{Email: "admin@acme.example"})
		bo := f.person(f.org.ID, f.hq, "Bo", "Later", "bo@acme.example", true)
		at := testNow.Add(2 * time.Hour)
		f.provision(f.org.ID, policy.Target{Person: bo}, Actor{Email: "admin@acme.example"}, at)
		tr := f.terms(f.org.ID, callrec.BuiltInProviderID)
		i := slices.IndexFunc(tr.Shared, func(s callrec.SharedUser) bool { return s.ID == bo.ID })
		if i < 0 || !tr.Shared[i].At.Equal(at) || tr.Shared[i].Fields["email"] != "bo@acme.example" {
			t.Fatalf("shared = %+v", tr.Shared)
		}
		// A renamed user is shared again with the new fields.
		bo.LastName = "Renamed"
		f.update(func(tx directory.Tx) error { return directory.People.Put(f.ctx, tx, bo) })
		f.provision(f.org.ID, policy.Target{Person: bo}, Actor{}, at.Add(time.Hour))
		tr = f.terms(f.org.ID, callrec.BuiltInProviderID)
		if s := tr.Shared[i]; s.Fields["lastName"] != "Renamed" || !s.At.Equal(at.Add(time.Hour)) || len(tr.Shared) != 2 {
			t.Errorf("after rename shared = %+v", tr.Shared)
		}
	})
}

func TestR11_ProvisionMakesTheEnablingAdminProviderAdmin(t *testing.T) {
	f := newFixture(t)
	ada := f.person(f.org.ID, f.hq, "Ada", "Lovelace", "ada@acme.example", true)
	bob := f.person(f.org.ID, f.hq, "Bob", "Builder", "bob@acme.example", true)
	f.provision(f.org.ID, policy.Target{Person: ada}, Actor{Email: "first@acme.example"}, testNow)
	f.provision(f.org.ID, policy.Target{Person: bob}, Actor{Email: "second@acme.example"}, testNow)
	f.provision(f.org.ID, policy.Target{Person: bob}, Actor{Email: "token:1234"}, testNow) // a token without an email
	if got := f.account(f.org.ID).Admins; !reflect.DeepEqual(got, []string{"first@acme.example", "second@acme.example"}) {
		t.Errorf("admins = %v", got)
	}
}

func TestR12_PartnerAdminIsAdminInOneCustomerAccount(t *testing.T) {
	f := newFixture(t)
	orgB := f.newOrg("Beta Inc", "p1")
	locB := f.location(orgB.ID, "Main", "Asia/Tokyo")
	ada := f.person(f.org.ID, f.hq, "Ada", "Lovelace", "ada@acme.example", true)
	kim := f.person(orgB.ID, locB, "Kim", "Beta", "kim@beta.example", true)
	partner := Actor{Email: "ops@partner.example", PartnerAdmin: true}

	f.provision(f.org.ID, policy.Target{Person: ada}, partner, testNow)
	f.provision(orgB.ID, policy.Target{Person: kim}, partner, testNow)
	if got := f.account(f.org.ID).Admins; !reflect.DeepEqual(got, []string{"ops@partner.example"}) {
		t.Errorf("org A admins = %v", got)
	}
	accB := f.account(orgB.ID)
	if len(accB.Admins) != 0 {
		t.Errorf("org B admins = %v: the partner admin is already admin of org A (R12)", accB.Admins)
	}
	if member(accB, kim.ID) == nil {
		t.Error("the user of org B was not provisioned: R12 must not stop the enabling")
	}
	t.Run("AddAdmin refuses the partner admin in a second org", func(t *testing.T) {
		err := f.st.Update(f.ctx, func(tx directory.Tx) error {
			_, err := AddAdmin(f.ctx, tx, orgB.ID, "OPS@partner.example", true)
			return err
		})
		wantRuleError(t, err, callrec.ErrConflict, "email", "a partner admin may be an admin in one customer's account only (R12)")
	})
	t.Run("an org admin of org B is not held by R12", func(t *testing.T) {
		f.provision(orgB.ID, policy.Target{Person: kim}, Actor{Email: "admin@beta.example"}, testNow)
		if got := f.account(orgB.ID).Admins; !reflect.DeepEqual(got, []string{"admin@beta.example"}) {
			t.Errorf("org B admins = %v", got)
		}
	})
}

func TestR32_VirtualLineProvisionsAssignedPeople(t *testing.T) {
	f := newFixture(t)
	ada := f.person(f.org.ID, f.hq, "Ada", "Lovelace", "ada@acme.example", false)
	bob := f.person(f.org.ID, f.hq, "Bob", "Builder", "bob@acme.example", false)
	line := f.line(f.org.ID, f.hq, "Front", "Desk", true, ada.ID, bob.ID, "4b1c0000-0000-4000-8000-00000000dead")
	f.accept(f.org, f.builtIn(), Actor{Email: "admin@acme.example"})
	f.provision(f.org.ID, policy.Target{Line: line}, Actor{Email: "admin@acme.example"}, testNow)
	acc := f.account(f.org.ID)
	if len(acc.Members) != 3 {
		t.Fatalf("members = %+v", acc.Members)
	}
	for _, c := range []struct{ id, typ string }{{line.ID, "VIRTUAL_LINE"}, {ada.ID, "PEOPLE"}, {bob.ID, "PEOPLE"}} {
		if m := member(acc, c.id); m == nil || m.Type != c.typ || m.Plan != callrec.PlanGo {
			t.Errorf("member %s = %+v, want type %s on go", c.id, m, c.typ)
		}
	}
	tr := f.terms(f.org.ID, callrec.BuiltInProviderID)
	var ids []string
	for _, s := range tr.Shared {
		ids = append(ids, s.ID)
	}
	if !reflect.DeepEqual(ids, []string{line.ID, ada.ID, bob.ID}) {
		t.Errorf("shared ids = %v", ids)
	}
}

func TestR10_R33_ExternalProviderIsNotProvisioned(t *testing.T) {
	f := newFixture(t)
	ext := f.external("Dubber")
	f.setVendor(f.org, ext.ID)
	f.accept(f.org, ext, Actor{Email: "admin@acme.example"})
	ada := f.person(f.org.ID, f.hq, "Ada", "Lovelace", "ada@acme.example", true)
	line := f.line(f.org.ID, f.hq, "Front", "Desk", true, ada.ID)
	f.provision(f.org.ID, policy.Target{Person: ada}, Actor{Email: "admin@acme.example"}, testNow)
	f.provision(f.org.ID, policy.Target{Line: line}, Actor{Email: "admin@acme.example"}, testNow)
	if acc := f.account(f.org.ID); acc != nil {
		t.Errorf("an account was created for an external provider's users: %+v", acc)
	}
	tr := f.terms(f.org.ID, ext.ID)
	if len(tr.Shared) != 2 || tr.Shared[0].ID != ada.ID || tr.Shared[1].ID != line.ID ||
		tr.Shared[1].Fields["customerName"] != "Acme Corp" {
		t.Errorf("shared = %+v", tr.Shared)
	}
	t.Run("vendor none provisions nothing", func(t *testing.T) {
		f.setVendor(f.org, callrec.VendorNone)
		bo := f.person(f.org.ID, f.hq, "Bo", "None", "bo@acme.example", true)
		f.provision(f.org.ID, policy.Target{Person: bo}, Actor{Email: "admin@acme.example"}, testNow)
		if f.account(f.org.ID) != nil {
			t.Error("account created")
		}
	})
}

func TestR8_R9_ChangePlan(t *testing.T) {
	f := newFixture(t)
	ada := f.person(f.org.ID, f.hq, "Ada", "Lovelace", "ada@acme.example", true)
	f.provision(f.org.ID, policy.Target{Person: ada}, Actor{Email: "admin@acme.example"}, testNow)
	old := testNow.Add(-45 * 24 * time.Hour)  // older than 30 days at the downgrade
	fresh := testNow.Add(-2 * 24 * time.Hour) // younger
	oldID := f.recording(f.org.ID, ada.ID, old, old.Add(callrec.FreeRetention), false)
	freshID := f.recording(f.org.ID, ada.ID, fresh, fresh.Add(callrec.FreeRetention), false)
	heldID := f.recording(f.org.ID, ada.ID, fresh, fresh.Add(callrec.FreeRetention), true) // X3: never touched
	otherID := f.recording(f.org.ID, "someone-else", fresh, fresh.Add(callrec.FreeRetention), false)

	change := func(plan string, now time.Time) (string, int, error) {
		var prev string
		var n int
		err := f.st.Update(f.ctx, func(tx directory.Tx) error {
			var err error
			prev, n, err = ChangePlan(f.ctx, tx, f.org.ID, ada.ID, plan, now)
			return err
		})
		return prev, n, err
	}
	t.Run("upgrade go to team: unlimited retention", func(t *testing.T) {
		prev, n, err := change(callrec.PlanTeam, testNow)
		if err != nil || prev != callrec.PlanGo || n != 2 {
			t.Fatalf("ChangePlan = %q, %d, %v; want go, 2", prev, n, err)
		}
		for _, id := range []string{oldID, freshID} {
			if e := f.expiry(id); !e.IsZero() {
				t.Errorf("recording %s expires %v after the upgrade", id, e)
			}
		}
		if e := f.expiry(heldID); !e.Equal(fresh.Add(callrec.FreeRetention)) {
			t.Errorf("held recording expiry = %v", e)
		}
		if e := f.expiry(otherID); !e.Equal(fresh.Add(callrec.FreeRetention)) {
			t.Errorf("another owner's recording expiry = %v", e)
		}
		m := member(f.account(f.org.ID), ada.ID)
		if m.Plan != callrec.PlanTeam || !m.PlanSince.Equal(testNow) {
			t.Errorf("member = %+v", m)
		}
	})
	t.Run("team to premier changes no recording", func(t *testing.T) {
		prev, n, err := change(callrec.PlanPremier, testNow.Add(time.Hour))
		if err != nil || prev != callrec.PlanTeam || n != 0 {
			t.Errorf("ChangePlan = %q, %d, %v", prev, n, err)
		}
	})
	t.Run("downgrade to go: 30 days from start, never sooner than 30 days from now", func(t *testing.T) {
		at := testNow.Add(24 * time.Hour)
		prev, n, err := change(callrec.PlanGo, at)
		if err != nil || prev != callrec.PlanPremier || n != 2 {
			t.Fatalf("ChangePlan = %q, %d, %v", prev, n, err)
		}
		if e := f.expiry(oldID); !e.Equal(at.Add(callrec.FreeRetention)) {
			t.Errorf("old recording expiry = %v, want %v (never deleted at once)", e, at.Add(callrec.FreeRetention))
		}
		if e := f.expiry(freshID); !e.Equal(fresh.Add(callrec.FreeRetention)) {
			t.Errorf("fresh recording expiry = %v, want %v (30 days from its start, as on go)", e, fresh.Add(callrec.FreeRetention))
		}
		if e := f.expiry(heldID); !e.Equal(fresh.Add(callrec.FreeRetention)) {
			t.Errorf("held recording expiry = %v", e)
		}
	})
	t.Run("same plan changes nothing", func(t *testing.T) {
		before := member(f.account(f.org.ID), ada.ID).PlanSince
		prev, n, err := change(callrec.PlanGo, testNow.Add(48*time.Hour))
		if err != nil || prev != callrec.PlanGo || n != 0 || !member(f.account(f.org.ID), ada.ID).PlanSince.Equal(before) {
			t.Errorf("ChangePlan = %q, %d, %v", prev, n, err)
		}
	})
	t.Run("unknown plan", func(t *testing.T) {
		_, _, err := change("gold", testNow)
		wantRuleError(t, err, callrec.ErrInvalid, "plan", `plan: "gold" is not one of go, team, premier (R8)`)
	})
	t.Run("not a member", func(t *testing.T) {
		err := f.st.Update(f.ctx, func(tx directory.Tx) error {
			_, _, err := ChangePlan(f.ctx, tx, f.org.ID, "7e570000-0000-4000-8000-000000000001", callrec.PlanTeam, testNow)
			return err
		})
		wantRuleError(t, err, callrec.ErrNotFound, "memberId", "was not found in the provider account")
	})
	t.Run("no account", func(t *testing.T) {
		orgB := f.newOrg("No Account", "p1")
		err := f.st.Update(f.ctx, func(tx directory.Tx) error {
			_, _, err := ChangePlan(f.ctx, tx, orgB.ID, ada.ID, callrec.PlanTeam, testNow)
			return err
		})
		wantRuleError(t, err, callrec.ErrNotFound, "memberId", "no built-in provider account yet")
	})
}

func TestR11_AddAndRemoveAdmins(t *testing.T) {
	f := newFixture(t)
	add := func(orgID, email string, partner bool) (*callrec.ProviderAccount, error) {
		var acc *callrec.ProviderAccount
		err := f.st.Update(f.ctx, func(tx directory.Tx) error {
			var err error
			acc, err = AddAdmin(f.ctx, tx, orgID, email, partner)
			return err
		})
		return acc, err
	}
	remove := func(email string) (*callrec.ProviderAccount, error) {
		var acc *callrec.ProviderAccount
		err := f.st.Update(f.ctx, func(tx directory.Tx) error {
			var err error
			acc, err = RemoveAdmin(f.ctx, tx, f.org.ID, email)
			return err
		})
		return acc, err
	}
	t.Run("no account yet", func(t *testing.T) {
		_, err := add(f.org.ID, "a@acme.example", false)
		wantRuleError(t, err, callrec.ErrNotFound, "", "no account at the built-in provider yet")
	})
	f.accept(f.org, f.builtIn(), Actor{Email: "admin@acme.example"})
	acc, err := add(f.org.ID, " Lead@Acme.example", false)
	if err != nil || !reflect.DeepEqual(acc.Admins, []string{"lead@acme.example"}) {
		t.Fatalf("AddAdmin = %+v, %v", acc, err)
	}
	if !IsAdmin(f.account(f.org.ID), "LEAD@acme.example") || IsAdmin(f.account(f.org.ID), "") {
		t.Error("IsAdmin does not compare without case")
	}
	bad := []struct{ name, email, msg string }{
		{"empty", " ", "email: is required (R11)"},
		{"no at", "lead.acme.example", "is not an email address"},
		{"display name", "Lead <lead@acme.example>", "is not an email address"},
	}
	for _, tc := range bad {
		t.Run("invalid "+tc.name, func(t *testing.T) {
			_, err := add(f.org.ID, tc.email, false)
			wantRuleError(t, err, callrec.ErrInvalid, "email", tc.msg)
		})
	}
	t.Run("already an admin", func(t *testing.T) {
		_, err := add(f.org.ID, "LEAD@acme.example", false)
		wantRuleError(t, err, callrec.ErrConflict, "email", "is already an admin")
	})
	t.Run("remove", func(t *testing.T) {
		acc, err := remove("Lead@acme.example")
		if err != nil || len(acc.Admins) != 0 || len(f.account(f.org.ID).Admins) != 0 {
			t.Fatalf("RemoveAdmin = %+v, %v", acc, err)
		}
		_, err = remove("lead@acme.example")
		wantRuleError(t, err, callrec.ErrNotFound, "email", `Provider admin "lead@acme.example" was not found`)
	})
}

func TestR10_Users(t *testing.T) {
	f := newFixture(t)
	ext := f.external("Dubber")
	f.setVendor(f.org, ext.ID)
	branch := f.location(f.org.ID, "Branch", "Asia/Tokyo")
	branch.Recording.VendorID = callrec.BuiltInProviderID // R16: this location records with the built-in provider
	f.update(func(tx directory.Tx) error { return directory.Locations.Put(f.ctx, tx, &branch) })
	ada := f.person(f.org.ID, f.hq, "Ada", "Lovelace", "ada@acme.example", true)
	f.person(f.org.ID, f.hq, "Bob", "Off", "bob@acme.example", false)
	f.person(f.org.ID, branch, "Cy", "Branch", "cy@acme.example", true)
	line := f.line(f.org.ID, f.hq, "Front", "Desk", true)

	users := func(providerID string) ([]User, error) {
		var us []User
		err := f.st.View(f.ctx, func(tx directory.Tx) error {
			snap, err := directory.Snapshot(f.ctx, tx, f.org.ID)
			if err != nil {
				return err
			}
			us, err = Users(f.ctx, tx, snap, providerID)
			return err
		})
		return us, err
	}
	t.Run("R13 nothing before the terms are accepted", func(t *testing.T) {
		_, err := users(ext.ID)
		var te *policy.TermsError
		if !errorsAs(err, &te) || te.VendorID != ext.ID || te.VendorName != "Dubber" || te.TermsURL != "https://example.com/terms" {
			t.Errorf("Users = %v, want the R13 terms error", err)
		}
	})
	f.accept(f.org, ext, Actor{Email: "admin@acme.example"})
	got, err := users(ext.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []User{
		{ID: ada.ID, Type: "PEOPLE", LocationID: f.hq.ID, Mode: callrec.ModeAlways, Fields: map[string]string{
			"timezone": "Europe/Copenhagen", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@acme.example", "customerName": "Acme Corp"}},
		{ID: line.ID, Type: "VIRTUAL_LINE", LocationID: f.hq.ID, Mode: callrec.ModeOnDemand, Fields: map[string]string{
			"timezone": "Europe/Copenhagen", "firstName": "Front", "lastName": "Desk", "customerName": "Acme Corp"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Users =\n%+v\nwant\n%+v", got, want)
	}
	t.Run("unknown provider", func(t *testing.T) {
		_, err := users("5e5e0000-0000-4000-8000-000000000000")
		wantRuleError(t, err, callrec.ErrNotFound, "providerId", "was not found")
	})
}
