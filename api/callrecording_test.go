package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/provider"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

// crNow is the fixture's clock.
var crNow = time.Date(2026, 3, 4, 10, 20, 30, 0, time.UTC)

// Bearer values of the fixture's tokens.
const (
	crTokPartner  = "cr-partner"
	crTokAdmin    = "cr-admin-a"
	crTokReadOnly = "cr-readonly-a"
	crTokLocAdmin = "cr-locadmin-a" // admin of the branch only
	crTokAdminB   = "cr-admin-b"
	crTokAlice    = "cr-user-alice"
	crTokOfficer  = "cr-officer-a" // a compliance officer: no person
)

// crFixture is a real SQLite store with two orgs of one partner: org A
// (US, entitled, built-in provider accepted) with an HQ and a branch,
// people alice (HQ, professional), bob (branch, basic), a workspace (HQ)
// and a virtual line assigned to alice; org B (DE) with carol.
type crFixture struct {
	t        *testing.T
	st       *sqlite.Store
	h        http.Handler
	orgA     callrec.Org
	orgB     callrec.Org
	hq       callrec.Location
	branch   callrec.Location
	locB     callrec.Location
	alice    callrec.Person
	bob      callrec.Person
	ws       callrec.Person
	carol    callrec.Person
	line     callrec.VirtualLine
	external callrec.Provider  // offered in the US only, terms not accepted
	matrix   map[string]string // ids of the role matrix's objects (rolematrix_test.go)
}

func newCRFixture(t *testing.T) *crFixture {
	t.Helper()
	ctx := t.Context()
	st, bl := sqlitetest.NewWithBlobs(t)
	f := &crFixture{t: t, st: st}
	rec := callrec.DefaultOrgRecording()
	rec.Entitled = true
	f.orgA = callrec.Org{ID: uuid.NewString(), Name: "Acme", PartnerID: "p1", Region: "US", Language: "en_US", Recording: rec, Created: crNow}
	f.orgB = callrec.Org{ID: uuid.NewString(), Name: "Globex", PartnerID: "p1", Region: "DE", Language: "de_DE", Recording: rec, Created: crNow}
	f.hq = callrec.Location{ID: uuid.NewString(), OrgID: f.orgA.ID, Name: "HQ", TimeZone: "America/New_York", Created: crNow}
	f.branch = callrec.Location{ID: uuid.NewString(), OrgID: f.orgA.ID, Name: "Branch", TimeZone: "America/Chicago", Created: crNow}
	f.locB = callrec.Location{ID: uuid.NewString(), OrgID: f.orgB.ID, Name: "Berlin", TimeZone: "Europe/Berlin", Created: crNow}
	newPerson := func(org, loc, first, last, email, lic string) callrec.Person {
		return callrec.Person{ID: uuid.NewString(), OrgID: org, LocationID: loc, FirstName: first, LastName: last,
			DisplayName: first + " " + last, Emails: []string{email}, License: lic, Recording: callrec.DefaultUserRecording(), Created: crNow}
	}
	f.alice = newPerson(f.orgA.ID, f.hq.ID, "Alice", "Archer", "alice@acme.example", callrec.LicenseProfessional)
	f.bob = newPerson(f.orgA.ID, f.branch.ID, "Bob", "Baker", "bob@acme.example", callrec.LicenseBasic)
	f.ws = newPerson(f.orgA.ID, f.hq.ID, "Lobby", "Phone", "lobby@acme.example", callrec.LicenseWorkspace)
	f.carol = newPerson(f.orgB.ID, f.locB.ID, "Carol", "Cole", "carol@globex.example", callrec.LicenseProfessional)
	f.line = callrec.VirtualLine{ID: uuid.NewString(), OrgID: f.orgA.ID, LocationID: f.hq.ID, FirstName: "Sales", LastName: "Line",
		Extension: "2001", People: []string{f.alice.ID}, Recording: callrec.DefaultUserRecording(), Created: crNow}
	f.external = callrec.Provider{ID: uuid.NewString(), Name: "Tapeworm", Description: "Tapeworm Call Recording Provider",
		LoginURL: "https://tapeworm.example/login", TermsURL: "https://tapeworm.example/terms", TermsVersion: "3",
		Plans: []string{"standard"}, StorageOptions: []string{"provider"}, Regions: []string{"US"},
		SIPRECTarget: "sip:srs@tapeworm.example", Created: crNow}
	builtIn := provider.BuiltIn("sip:srs@127.0.0.1:5070")
	f.update(func(tx directory.Tx) error {
		for _, o := range []*callrec.Org{&f.orgA, &f.orgB} {
			if err := directory.Orgs.Put(ctx, tx, o); err != nil {
				return err
			}
		}
		for _, l := range []*callrec.Location{&f.hq, &f.branch, &f.locB} {
			if err := directory.Locations.Put(ctx, tx, l); err != nil {
				return err
			}
		}
		for _, p := range []*callrec.Person{&f.alice, &f.bob, &f.ws, &f.carol} {
			if err := directory.People.Put(ctx, tx, p); err != nil {
				return err
			}
		}
		if err := directory.VirtualLines.Put(ctx, tx, &f.line); err != nil {
			return err
		}
		for _, p := range []*callrec.Provider{&builtIn, &f.external} {
			if err := directory.Providers.Put(ctx, tx, p); err != nil {
				return err
			}
		}
		for _, o := range []string{f.orgA.ID, f.orgB.ID} {
			acc := callrec.TermsAcceptance{OrgID: o, ProviderID: callrec.BuiltInProviderID, Accepted: true, By: "admin@acme.example", At: crNow, Version: "1"}
			if err := directory.Terms.Put(ctx, tx, &acc); err != nil {
				return err
			}
		}
		return nil
	})
	for value, tok := range map[string]callrec.Token{
		crTokPartner:  {Role: callrec.RolePartnerAdmin, PartnerID: "p1", Email: "partner@p1.example"},
		crTokAdmin:    {Role: callrec.RoleFullAdmin, OrgID: f.orgA.ID, Email: "admin@acme.example"},
		crTokReadOnly: {Role: callrec.RoleReadOnlyAdmin, OrgID: f.orgA.ID, Email: "ro@acme.example"},
		crTokLocAdmin: {Role: callrec.RoleLocationAdmin, OrgID: f.orgA.ID, Email: "branch@acme.example", LocationIDs: []string{f.branch.ID}},
		crTokAdminB:   {Role: callrec.RoleFullAdmin, OrgID: f.orgB.ID, Email: "admin@globex.example"},
		crTokAlice:    {Role: callrec.RoleUser, OrgID: f.orgA.ID, PersonID: f.alice.ID, Email: "alice@acme.example"},
		crTokOfficer:  {Role: callrec.RoleComplianceOfficer, OrgID: f.orgA.ID, Email: "officer@acme.example"},
	} {
		tok.Name = value
		sqlitetest.AddToken(t, st, value, tok)
	}
	var err error
	f.h, err = New(Config{PublicURL: "https://callrec.example", SigningKey: []byte("0123456789abcdef"), Now: func() time.Time { return crNow }}, st, bl)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *crFixture) update(fn func(tx directory.Tx) error) {
	f.t.Helper()
	sqlitetest.Update(f.t, f.st, fn)
}

func (f *crFixture) view(fn func(tx directory.Tx) error) {
	f.t.Helper()
	if err := f.st.View(f.t.Context(), fn); err != nil {
		f.t.Fatal(err)
	}
}

// orgADoc reads the document id of kind k in org A from the store.
func orgADoc[T any](t *testing.T, f *crFixture, k directory.Kind[T], id string) *T {
	t.Helper()
	var out *T
	f.view(func(tx directory.Tx) error {
		var err error
		out, err = k.Get(t.Context(), tx, f.orgA.ID, id)
		return err
	})
	return out
}

// do sends a request with the bearer token.
func (f *crFixture) do(token, method, path, body string) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// get does a GET that must answer 200 and decodes the body into v.
func (f *crFixture) get(token, path string, v any) {
	f.t.Helper()
	w := f.do(token, "GET", path, "")
	if w.Code != http.StatusOK {
		f.t.Fatalf("GET %s = %d %s", path, w.Code, w.Body.String())
	}
	reflect.ValueOf(v).Elem().SetZero() // no field survives from an earlier GET
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		f.t.Fatalf("GET %s: %v in %s", path, err, w.Body.String())
	}
}

// put does a PUT that must answer want.
func (f *crFixture) put(token, path, body string, want int) *httptest.ResponseRecorder {
	f.t.Helper()
	w := f.do(token, "PUT", path, body)
	if w.Code != want {
		f.t.Fatalf("PUT %s %s = %d %s, want %d", path, body, w.Code, w.Body.String(), want)
	}
	return w
}

// wantError checks the status and that the error message contains each
// of parts (the field named, the allowed values, the rule).
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, parts ...string) errorBody {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d %s, want %d", w.Code, w.Body.String(), status)
	}
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body: %v in %s", err, w.Body.String())
	}
	for _, p := range parts {
		if !strings.Contains(body.Message, p) {
			t.Errorf("message %q does not contain %q", body.Message, p)
		}
	}
	if body.TrackingID == "" || len(body.Errors) == 0 {
		t.Errorf("error body lacks trackingId or errors: %s", w.Body.String())
	}
	return body
}

// audits returns the audit entries about one object, newest first.
func (f *crFixture) audits(objType, objID string) []callrec.AuditEntry {
	f.t.Helper()
	var out []callrec.AuditEntry
	f.view(func(tx directory.Tx) error {
		var err error
		out, err = tx.ListAudit(f.t.Context(), directory.AuditQuery{ObjectType: objType, ObjectID: objID})
		return err
	})
	return out
}

func (f *crFixture) org(id string) callrec.Org {
	f.t.Helper()
	return *sqlitetest.Get(f.t, f.st, directory.Orgs, "", id)
}

func (f *crFixture) person(id string) callrec.Person {
	f.t.Helper()
	return *sqlitetest.Get(f.t, f.st, directory.People, "", id)
}

func (f *crFixture) virtualLine(id string) callrec.VirtualLine {
	f.t.Helper()
	return *sqlitetest.Get(f.t, f.st, directory.VirtualLines, "", id)
}

func (f *crFixture) location(id string) callrec.Location {
	f.t.Helper()
	return *sqlitetest.Get(f.t, f.st, directory.Locations, "", id)
}

// builtInAccount returns org A's account at the built-in provider.
func (f *crFixture) builtInAccount() *callrec.ProviderAccount {
	f.t.Helper()
	return sqlitetest.Get(f.t, f.st, directory.Accounts, f.orgA.ID, directory.PairID(f.orgA.ID, callrec.BuiltInProviderID))
}

// setOrg changes org A's stored recording settings directly.
func (f *crFixture) setOrg(fn func(o *callrec.Org)) {
	f.t.Helper()
	sqlitetest.Mutate(f.t, f.st, directory.Orgs, "", f.orgA.ID, fn)
}

// acceptExternal records org A's acceptance of the external provider's terms.
func (f *crFixture) acceptExternal() {
	f.t.Helper()
	f.update(func(tx directory.Tx) error {
		return directory.Terms.Put(f.t.Context(), tx, &callrec.TermsAcceptance{OrgID: f.orgA.ID, ProviderID: f.external.ID, Accepted: true, By: "admin@acme.example", At: crNow, Version: "3"})
	})
}

// addFile stores an announcement file of org (at locationID, "" = org level).
func (f *crFixture) addFile(orgID, locationID, name string) string {
	f.t.Helper()
	id := uuid.NewString()
	f.update(func(tx directory.Tx) error {
		return directory.AnnouncementFiles.Put(f.t.Context(), tx, &callrec.AnnouncementFile{ID: id, OrgID: orgID, LocationID: locationID, Name: name, BlobKey: "ann/" + id, Size: 1000, Created: crNow})
	})
	return id
}

// Webex ids of the fixture's objects.
func (f *crFixture) personPath(p callrec.Person) string {
	return "/v1/people/" + webexID(idPerson, p.ID) + "/features/callRecording"
}

func (f *crFixture) linePath(l callrec.VirtualLine) string {
	return "/v1/telephony/config/virtualLines/" + webexID(idVirtualLine, l.ID) + "/callRecording"
}

func (f *crFixture) locPath(l callrec.Location, rest string) string {
	return "/v1/telephony/config/locations/" + webexID(idLocation, l.ID) + "/callRecording" + rest
}

func TestCallRecordingFixtureTokensAuthenticate(t *testing.T) {
	f := newCRFixture(t)
	for _, tok := range []string{crTokPartner, crTokAdmin, crTokReadOnly, crTokLocAdmin, crTokAdminB} {
		t.Run(tok, func(t *testing.T) {
			if w := f.do(tok, "GET", "/v1/telephony/config/callRecording?orgId="+webexID(idOrg, f.orgA.ID), ""); tok == crTokAdminB && w.Code != 404 || tok != crTokAdminB && w.Code != 200 {
				t.Errorf("GET = %d %s", w.Code, w.Body.String())
			}
		})
	}
}
