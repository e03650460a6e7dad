package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/provider"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
	"github.com/google/uuid"
)

const (
	provURL    = "http://provider.example.test:8080"
	provBase   = "/v1/telephony/config/callRecording"
	provTarget = "sip:srs@127.0.0.1:5070"
)

// provNow is the clock of the provider tests.
var provNow = time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)

// provEnv is the API over a real SQLite store with three orgs: A and B
// of partner p1, C of partner p2; A has locations HQ and Branch.
type provEnv struct {
	t            *testing.T
	ctx          context.Context
	st           *sqlite.Store
	h            http.Handler
	orgA         *callrec.Org
	orgB         *callrec.Org
	orgC         *callrec.Org
	hq, branch   callrec.Location
	locB         callrec.Location
	ada, bob     *callrec.Person // people of A at HQ, recording enabled
	kim          *callrec.Person // person of B
	builtInID    string          // webex id of the built-in provider
	partnerEmail string
}

// Bearer values of the test tokens.
const (
	provRoot     = "tok-root"     // bootstrap partner admin
	provPartner  = "tok-partner"  // partner admin of p1 (orgs A and B)
	provPartner2 = "tok-partner2" // partner admin of p2 (org C)
	provFull     = "tok-full"     // full admin of A
	provRO       = "tok-ro"       // read-only admin of A
	provLocAdmin = "tok-locadmin" // location admin of A's HQ
	provUser     = "tok-user"     // ada, a user of A
	provBoss     = "tok-boss"     // a user of A who becomes provider admin
	provOfficer  = "tok-officer"  // compliance officer of A
	provFullB    = "tok-fullb"    // full admin of B
)

func newProvEnv(t *testing.T) *provEnv {
	t.Helper()
	ctx := t.Context()
	st, bl := sqlitetest.NewWithBlobs(t)
	if err := provider.EnsureBuiltIn(ctx, st, provTarget); err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{PublicURL: provURL, SigningKey: []byte("0123456789abcdef"), Now: func() time.Time { return provNow }}, st, bl)
	if err != nil {
		t.Fatal(err)
	}
	e := &provEnv{t: t, ctx: ctx, st: st, h: h, builtInID: webexID(idVendor, callrec.BuiltInProviderID), partnerEmail: "ops@partner.example"}
	e.orgA = e.org("Acme Corp", "p1")
	e.orgB = e.org("Beta Inc", "p1")
	e.orgC = e.org("Gamma GmbH", "p2")
	e.hq = e.location(e.orgA.ID, "HQ", "Europe/Copenhagen")
	e.branch = e.location(e.orgA.ID, "Branch", "America/New_York")
	e.locB = e.location(e.orgB.ID, "Main", "Asia/Tokyo")
	e.ada = e.person(e.orgA.ID, e.hq, "Ada", "Lovelace", "ada@a.example", true)
	e.bob = e.person(e.orgA.ID, e.hq, "Bob", "Builder", "bob@a.example", true)
	e.kim = e.person(e.orgB.ID, e.locB, "Kim", "Beta", "kim@b.example", true)
	for value, tok := range map[string]callrec.Token{
		provRoot:     {Role: callrec.RolePartnerAdmin, PartnerID: callrec.RootPartner, Email: "root@callrec.example"},
		provPartner:  {Role: callrec.RolePartnerAdmin, PartnerID: "p1", Email: e.partnerEmail},
		provPartner2: {Role: callrec.RolePartnerAdmin, PartnerID: "p2", Email: "ops@partner2.example"},
		provFull:     {Role: callrec.RoleFullAdmin, OrgID: e.orgA.ID, Email: "it@a.example"},
		provRO:       {Role: callrec.RoleReadOnlyAdmin, OrgID: e.orgA.ID, Email: "ro@a.example"},
		provLocAdmin: {Role: callrec.RoleLocationAdmin, OrgID: e.orgA.ID, Email: "hq@a.example", LocationIDs: []string{e.hq.ID}},
		provUser:     {Role: callrec.RoleUser, OrgID: e.orgA.ID, PersonID: e.ada.ID, Email: "ada@a.example"},
		provBoss:     {Role: callrec.RoleUser, OrgID: e.orgA.ID, Email: "Boss@a.example"},
		provOfficer:  {Role: callrec.RoleComplianceOfficer, OrgID: e.orgA.ID, Email: "co@a.example"},
		provFullB:    {Role: callrec.RoleFullAdmin, OrgID: e.orgB.ID, Email: "it@b.example"},
	} {
		tok.Name = value
		sqlitetest.AddToken(t, st, value, tok)
	}
	return e
}

// org creates an entitled org of partner, hosted in the US.
func (e *provEnv) org(name, partner string) *callrec.Org {
	e.t.Helper()
	return sqlitetest.EntitledOrg(e.t, e.st, name, partner)
}

func (e *provEnv) location(orgID, name, tz string) callrec.Location {
	e.t.Helper()
	return sqlitetest.Location(e.t, e.st, orgID, name, tz, provNow)
}

func (e *provEnv) person(orgID string, loc callrec.Location, first, last, email string, enabled bool) *callrec.Person {
	e.t.Helper()
	p := &callrec.Person{ID: uuid.NewString(), OrgID: orgID, LocationID: loc.ID, Emails: []string{email}, FirstName: first,
		LastName: last, DisplayName: first + " " + last, License: callrec.LicenseProfessional, Recording: callrec.DefaultUserRecording(), Created: provNow}
	if enabled {
		p.Recording.Enabled, p.Recording.Mode = true, callrec.ModeAlwaysWithPauseResume
	}
	e.update(func(tx directory.Tx) error { return directory.People.Put(e.ctx, tx, p) })
	return p
}

func (e *provEnv) update(fn func(tx directory.Tx) error) {
	e.t.Helper()
	sqlitetest.Update(e.t, e.st, fn)
}

// provision runs what the person PUT runs after enabling (another
// helper's handler): provider.Provision as by.
func (e *provEnv) provision(orgID string, t policy.Target, by provider.Actor) {
	e.t.Helper()
	e.update(func(tx directory.Tx) error {
		snap, err := directory.Snapshot(e.ctx, tx, orgID)
		if err != nil {
			return err
		}
		return provider.Provision(e.ctx, tx, snap, t, by, provNow)
	})
}

// do serves one request with the bearer token (none when "").
func (e *provEnv) do(method, target, token, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	return serveAs(e.h, method, target, token, body)
}

// audits returns the audit entries of org ("" = every org) about objType.
func (e *provEnv) audits(orgID, objType string) []callrec.AuditEntry {
	e.t.Helper()
	var out []callrec.AuditEntry
	if err := e.st.View(e.ctx, func(tx directory.Tx) error {
		var err error
		out, err = tx.ListAudit(e.ctx, directory.AuditQuery{OrgID: orgID, ObjectType: objType})
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *provEnv) account(orgID string) *callrec.ProviderAccount {
	e.t.Helper()
	var acc *callrec.ProviderAccount
	if err := e.st.View(e.ctx, func(tx directory.Tx) error {
		var err error
		acc, err = provAccount(e.ctx, tx, orgID)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return acc
}

// provJSON decodes a response body, failing on the wrong status.
func provJSON[T any](t *testing.T, w *httptest.ResponseRecorder, status int) T {
	t.Helper()
	var v T
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	return v
}

// provWantError checks the status and the Webex error body's message.
func provWantError(t *testing.T, w *httptest.ResponseRecorder, status int, msg string) errorBody {
	t.Helper()
	b := provJSON[errorBody](t, w, status)
	if !strings.Contains(b.Message, msg) {
		t.Errorf("message = %q, want it to contain %q", b.Message, msg)
	}
	if len(b.Errors) != 1 || b.Errors[0].Description != b.Message || b.TrackingID == "" {
		t.Errorf("error body = %+v", b)
	}
	return b
}

// provOrgQ is the orgId parameter naming org.
func provOrgQ(org *callrec.Org) string { return "?orgId=" + webexID(idOrg, org.ID) }

// newProviderJSON is a valid registration body.
const newProviderJSON = `{"name":"Dubber","description":"Dubber Call Recording Provider","loginUrl":"https://login.dubber.example/sso",
	"termsOfServiceUrl":"https://dubber.example/terms","termsOfServiceVersion":"2024-05","plans":["compliance","insights"],
	"autoProvisioningEnabled":true,"storageOptions":["provider","customer"],"analyticsFeatures":["transcription"],
	"regions":["US","CA"],"siprecTarget":"sip:siprec.dubber.example;transport=tcp","backupSiprecTarget":"sips:backup.dubber.example:5061"}`

// register registers an external provider through the API and returns it.
func (e *provEnv) register(body string) providerJSON {
	e.t.Helper()
	return provJSON[providerJSON](e.t, e.do("POST", provBase+"/providers", provPartner, body), http.StatusOK)
}
