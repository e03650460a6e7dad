package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
	"github.com/google/uuid"
)

// testNow is the clock of every test: times are arguments.
var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

const testTarget = "sip:srs@127.0.0.1:5070"

// fixture is a real SQLite store with one entitled org (partner p1,
// region US), a location HQ and the built-in provider stored.
type fixture struct {
	t   *testing.T
	ctx context.Context
	st  *sqlite.Store
	org *callrec.Org
	hq  callrec.Location
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.New(t)
	if err := EnsureBuiltIn(ctx, st, testTarget); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, st: st}
	f.org = f.newOrg("Acme Corp", "p1")
	f.hq = f.location(f.org.ID, "HQ", "Europe/Copenhagen")
	return f
}

// newOrg creates an entitled org of partner in region US.
func (f *fixture) newOrg(name, partner string) *callrec.Org {
	f.t.Helper()
	return sqlitetest.EntitledOrg(f.t, f.st, name, partner)
}

func (f *fixture) location(orgID, name, tz string) callrec.Location {
	f.t.Helper()
	return sqlitetest.Location(f.t, f.st, orgID, name, tz, testNow)
}

func (f *fixture) update(fn func(tx directory.Tx) error) {
	f.t.Helper()
	sqlitetest.Update(f.t, f.st, fn)
}

func (f *fixture) view(fn func(tx directory.Tx) error) {
	f.t.Helper()
	if err := f.st.View(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

// person stores a professional user of org at loc; enabled turns
// recording on (mode always).
func (f *fixture) person(orgID string, loc callrec.Location, first, last, email string, enabled bool) *callrec.Person {
	f.t.Helper()
	p := &callrec.Person{ID: uuid.NewString(), OrgID: orgID, LocationID: loc.ID, Emails: []string{email},
		FirstName: first, LastName: last, DisplayName: first + " " + last, License: callrec.LicenseProfessional,
		Recording: callrec.DefaultUserRecording(), Created: testNow}
	if enabled {
		p.Recording.Enabled, p.Recording.Mode = true, callrec.ModeAlways
	}
	f.update(func(tx directory.Tx) error { return directory.People.Put(f.ctx, tx, p) })
	return p
}

// line stores a virtual line of org at loc assigned to people.
func (f *fixture) line(orgID string, loc callrec.Location, first, last string, enabled bool, people ...string) *callrec.VirtualLine {
	f.t.Helper()
	l := &callrec.VirtualLine{ID: uuid.NewString(), OrgID: orgID, LocationID: loc.ID, FirstName: first, LastName: last,
		DisplayName: first + " " + last, People: people, Recording: callrec.DefaultUserRecording(), Created: testNow}
	if enabled {
		l.Recording.Enabled, l.Recording.Mode = true, callrec.ModeOnDemand
	}
	f.update(func(tx directory.Tx) error { return directory.VirtualLines.Put(f.ctx, tx, l) })
	return l
}

// external registers an external provider offered in regions.
func (f *fixture) external(name string, regions ...string) callrec.Provider {
	f.t.Helper()
	p := externalProvider(name)
	p.Regions = regions
	f.update(func(tx directory.Tx) error { return Register(f.ctx, tx, &p, testNow) })
	return p
}

// externalProvider is a valid external registration.
func externalProvider(name string) callrec.Provider {
	return callrec.Provider{
		Name: name, Description: name + " call recording", LoginURL: "https://login.example.com/sso",
		TermsURL: "https://example.com/terms", TermsVersion: "2024-05", Plans: []string{"compliance", "analytics"},
		StorageOptions: []string{StorageProvider, StorageCustomer}, Analytics: []string{"transcription"},
		Regions: []string{"US"}, SIPRECTarget: "sip:siprec.example.com;transport=tcp", BackupTarget: "sips:backup.example.com:5061",
	}
}

// setVendor chooses vendorID for the org.
func (f *fixture) setVendor(org *callrec.Org, vendorID string) {
	f.t.Helper()
	sqlitetest.Mutate(f.t, f.st, directory.Orgs, "", org.ID, func(o *callrec.Org) {
		o.Recording.VendorID = vendorID
		*org = *o
	})
}

func (f *fixture) snapshot(orgID string) *policy.Snapshot {
	f.t.Helper()
	var s *policy.Snapshot
	f.view(func(tx directory.Tx) error {
		var err error
		s, err = directory.Snapshot(f.ctx, tx, orgID)
		return err
	})
	return s
}

// account returns the org's built-in account, nil when it has none.
func (f *fixture) account(orgID string) *callrec.ProviderAccount {
	f.t.Helper()
	var acc *callrec.ProviderAccount
	if err := f.st.View(f.ctx, func(tx directory.Tx) error {
		var err error
		acc, err = directory.Accounts.Get(f.ctx, tx, orgID, directory.PairID(orgID, callrec.BuiltInProviderID))
		return err
	}); err != nil {
		if directory.IsNotFound(err) {
			return nil
		}
		f.t.Fatal(err)
	}
	return acc
}

func (f *fixture) terms(orgID, providerID string) *callrec.TermsAcceptance {
	f.t.Helper()
	var t *callrec.TermsAcceptance
	f.view(func(tx directory.Tx) error {
		var err error
		t, err = Terms(f.ctx, tx, orgID, providerID)
		return err
	})
	return t
}

// accept accepts p's terms for org as by.
func (f *fixture) accept(org *callrec.Org, p callrec.Provider, by Actor) *callrec.TermsAcceptance {
	f.t.Helper()
	var t *callrec.TermsAcceptance
	f.update(func(tx directory.Tx) error {
		var err error
		t, err = AcceptTerms(f.ctx, tx, org, &p, by, true, testNow)
		return err
	})
	return t
}

// provision runs Provision for the target in its own transaction.
func (f *fixture) provision(orgID string, t policy.Target, by Actor, now time.Time) {
	f.t.Helper()
	f.update(func(tx directory.Tx) error {
		snap, err := directory.Snapshot(f.ctx, tx, orgID)
		if err != nil {
			return err
		}
		return Provision(f.ctx, tx, snap, t, by, now)
	})
}

func (f *fixture) builtIn() callrec.Provider {
	f.t.Helper()
	var p *callrec.Provider
	f.view(func(tx directory.Tx) error {
		var err error
		p, err = Get(f.ctx, tx, callrec.BuiltInProviderID)
		return err
	})
	return *p
}

// recording stores a recording owned by ownerID.
func (f *fixture) recording(orgID, ownerID string, start, expires time.Time, hold bool) string {
	f.t.Helper()
	id := uuid.NewString()
	r := &callrec.Recording{ID: id, OrgID: orgID, SIPCallID: "rs-" + id, Status: callrec.StatusAvailable, Topic: "Call",
		OwnerID: ownerID, OwnerType: callrec.OwnerUser, Start: start, Stop: start.Add(time.Minute), Created: start.Add(time.Minute),
		DurationMS: 60_000, SizeBytes: 1000, SampleRate: 8000, Channels: 2, Format: "WAV", EndReason: callrec.EndBye,
		BlobKey: "rec/" + id + ".wav", ExpiresAt: expires, Hold: hold}
	if err := f.st.CreateRecording(f.ctx, r); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) expiry(id string) time.Time {
	f.t.Helper()
	r, err := f.st.GetRecording(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r.ExpiresAt
}

// wantRuleError checks err is a *policy.RuleError of kind naming field
// whose message contains msg.
func wantRuleError(t *testing.T, err error, kind error, field, msg string) {
	t.Helper()
	var re *policy.RuleError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v (%T), want a *policy.RuleError", err, err)
	}
	if !errors.Is(err, kind) {
		t.Errorf("error %q is not %v", err, kind)
	}
	if re.Field != field {
		t.Errorf("error field = %q, want %q (%s)", re.Field, field, re.Msg)
	}
	if !strings.Contains(re.Msg, msg) {
		t.Errorf("error = %q, want it to contain %q", re.Msg, msg)
	}
}

func member(acc *callrec.ProviderAccount, id string) *callrec.AccountMember {
	if acc == nil {
		return nil
	}
	for i := range acc.Members {
		if acc.Members[i].ID == id {
			return &acc.Members[i]
		}
	}
	return nil
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
