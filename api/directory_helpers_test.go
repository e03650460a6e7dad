package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

// Bearer values of the directory tests' standing tokens.
const (
	dirRoot    = "dir-root-partner"  // the bootstrap partner admin (root)
	dirPartner = "dir-other-partner" // a partner admin of partner "acme"
)

// dirEnv is the API over a real SQLite store, with the bootstrap
// partner admin and a second partner's admin.
type dirEnv struct {
	t   *testing.T
	h   http.Handler
	st  *sqlite.Store
	seq int
}

func newDirEnv(t *testing.T) *dirEnv {
	t.Helper()
	st, bl := sqlitetest.NewWithBlobs(t)
	if _, err := st.EnsureOrg(t.Context(), callrec.DefaultOrgName); err != nil {
		t.Fatal(err)
	}
	for value, partner := range map[string]string{dirRoot: callrec.RootPartner, dirPartner: "acme"} {
		sqlitetest.AddToken(t, st, value, callrec.Token{Name: "partner " + partner, Role: callrec.RolePartnerAdmin,
			PartnerID: partner, Email: partner + "-admin@partner.example"})
	}
	h, err := New(Config{PublicURL: publicURL, SigningKey: []byte("0123456789abcdef0123"), Now: func() time.Time { return testNow }}, st, bl)
	if err != nil {
		t.Fatal(err)
	}
	return &dirEnv{t: t, h: h, st: st}
}

// do serves one request with the bearer value token ("" = none).
func (e *dirEnv) do(method, target, token, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	return serveAs(e.h, method, target, token, body)
}

// serveAs has h serve one request with the bearer value token ("" = none).
func serveAs(h http.Handler, method, target, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// ok serves a request that must answer status, and decodes the body into out (when not nil).
func (e *dirEnv) ok(status int, out any, method, target, token, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	w := e.do(method, target, token, body)
	if w.Code != status {
		e.t.Fatalf("%s %s = %d, want %d; body %s", method, target, w.Code, status, w.Body.String())
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			e.t.Fatalf("%s %s: body %q: %v", method, target, w.Body.String(), err)
		}
	}
	return w
}

// token stores a token for the org (internal id) and returns its value.
func (e *dirEnv) token(role, orgID string, mods ...func(*callrec.Token)) string {
	e.t.Helper()
	e.seq++
	value := fmt.Sprintf("dir-test-token-%d-%s", e.seq, role)
	t := &callrec.Token{Hash: hashToken(value), Name: role, Role: role, OrgID: orgID, Email: role + "@" + "org.example"}
	for _, m := range mods {
		m(t)
	}
	if err := e.st.CreateToken(e.t.Context(), t); err != nil {
		e.t.Fatal(err)
	}
	return value
}

// org creates an org through the API as the root partner and returns
// its JSON and internal id.
func (e *dirEnv) org(name string) (organizationJSON, string) {
	e.t.Helper()
	return e.orgAs(dirRoot, name)
}

func (e *dirEnv) orgAs(token, name string) (organizationJSON, string) {
	e.t.Helper()
	var o organizationJSON
	e.ok(200, &o, "POST", "/v1/organizations", token, `{"displayName": "`+name+`"}`)
	return o, mustID(e.t, idOrg, o.ID)
}

// location creates a location of the org (webex id) as the root partner.
func (e *dirEnv) location(orgID, name string) locationJSON {
	e.t.Helper()
	var l locationJSON
	e.ok(200, &l, "POST", "/v1/locations?orgId="+orgID, dirRoot, `{"name": "`+name+`", "timeZone": "Europe/Copenhagen", "announcementLanguage": "da_DK"}`)
	return l
}

// person creates a person in the location as the root partner; extra is
// more JSON members (without braces), e.g. `"extension": "1001"`.
func (e *dirEnv) person(orgID, locID, email, extra string) personJSON {
	e.t.Helper()
	body := `{"emails": ["` + email + `"], "locationId": "` + locID + `", "firstName": "Ann", "lastName": "Berg"`
	if extra != "" {
		body += ", " + extra
	}
	var p personJSON
	e.ok(200, &p, "POST", "/v1/people?orgId="+orgID, dirRoot, body+"}")
	return p
}

// audits returns the audit entries of one object, newest first.
func (e *dirEnv) audits(objType, objID string) []callrec.AuditEntry {
	e.t.Helper()
	var out []callrec.AuditEntry
	if err := e.st.View(e.t.Context(), func(tx directory.Tx) error {
		var err error
		out, err = tx.ListAudit(e.t.Context(), directory.AuditQuery{ObjectType: objType, ObjectID: objID})
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// wantAudit checks the newest audit entries of an object: their actions
// newest first, and that the newest was made by actor in org orgID.
func (e *dirEnv) wantAudit(objType, objID, orgID, actor string, actions ...string) []callrec.AuditEntry {
	e.t.Helper()
	got := e.audits(objType, objID)
	var acts []string
	for _, a := range got {
		acts = append(acts, a.Action)
	}
	if strings.Join(acts, ",") != strings.Join(actions, ",") {
		e.t.Fatalf("audit of %s %s: actions %v, want %v", objType, objID, acts, actions)
	}
	if len(got) > 0 && (got[0].OrgID != orgID || got[0].Actor != actor) {
		e.t.Errorf("audit of %s %s: org %q actor %q, want %q %q", objType, objID, got[0].OrgID, got[0].Actor, orgID, actor)
	}
	return got
}

// mutate changes a stored object directly (state another API owns, such
// as recording settings).
func mutate[T any](e *dirEnv, k directory.Kind[T], orgID, id string, f func(*T)) {
	e.t.Helper()
	sqlitetest.Mutate(e.t, e.st, k, orgID, id, f)
}

// load reads a stored object directly.
func load[T any](e *dirEnv, k directory.Kind[T], orgID, id string) *T {
	e.t.Helper()
	return sqlitetest.Get(e.t, e.st, k, orgID, id)
}

// mustID decodes a Webex id of typ.
func mustID(t *testing.T, typ, s string) string {
	t.Helper()
	id, ok := parseID(typ, s)
	if !ok {
		t.Fatalf("%q is not a %s id", s, typ)
	}
	return id
}

var (
	linkNextRE = regexp.MustCompile(`<([^>]+)>; rel="next"`)
	linkPrevRE = regexp.MustCompile(`<([^>]+)>; rel="prev"`)
	msTimeRE   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// pages follows a list's rel="next" links from target and returns each
// page's ids (under key), checking rel="prev" on every page but the first.
func (e *dirEnv) pages(target, token, key string) [][]string {
	e.t.Helper()
	var out [][]string
	for target != "" {
		w := e.do("GET", target, token, "")
		if w.Code != 200 {
			e.t.Fatalf("GET %s = %d %s", target, w.Code, w.Body.String())
		}
		var body map[string][]struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			e.t.Fatalf("GET %s: %v", target, err)
		}
		items, ok := body[key]
		if !ok || items == nil {
			e.t.Fatalf("GET %s: no %q list in %s", target, key, w.Body.String())
		}
		var ids []string
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		out = append(out, ids)
		links := strings.Join(w.Header().Values("Link"), ", ")
		if hasPrev := linkPrevRE.MatchString(links); hasPrev != (len(out) > 1) {
			e.t.Errorf("page %d of %s: Link %q, rel=prev present = %v", len(out), target, links, hasPrev)
		}
		target = ""
		if m := linkNextRE.FindStringSubmatch(links); m != nil {
			target = strings.TrimPrefix(m[1], publicURL)
		}
		if len(out) > 20 {
			e.t.Fatal("pagination does not end")
		}
	}
	return out
}

// wantDirError checks the status and the exact message of a Webex error
// body, and that its errors[] repeat the message.
func wantDirError(t *testing.T, w *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	if b := wantErrorMessage(t, w, status, msg); len(b.Errors) != 1 || b.Errors[0].Description != msg {
		t.Errorf("errors = %+v, want one with the message", b.Errors)
	}
}

// listed is the created token as GET /v1/tokens lists it.
func (c *createdTokenJSON) listed() tokenJSON {
	return tokenJSON{ID: c.ID, Name: c.Name, Role: c.Role, OrgID: c.OrgID, PartnerID: c.PartnerID, PersonID: c.PersonID,
		Email: c.Email, LocationIDs: c.LocationIDs, Created: c.Created, Expires: c.Expires}
}

// builtInAccepted registers the built-in provider and records the org's
// acceptance of its terms (R13), so its people and lines can record.
func (e *dirEnv) builtInAccepted(orgID string) {
	e.t.Helper()
	if err := e.st.Update(e.t.Context(), func(tx directory.Tx) error {
		if err := directory.Providers.Put(e.t.Context(), tx, &callrec.Provider{ID: callrec.BuiltInProviderID, Name: "callrec", BuiltIn: true}); err != nil {
			return err
		}
		return directory.Terms.Put(e.t.Context(), tx, &callrec.TermsAcceptance{OrgID: orgID, ProviderID: callrec.BuiltInProviderID, Accepted: true})
	}); err != nil {
		e.t.Fatal(err)
	}
}
