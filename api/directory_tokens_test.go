package api

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
)

func TestTokenLifecycle(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("Tokens")
	l := e.location(o.ID, "HQ")
	p := e.person(o.ID, l.ID, "holder@tok.example", "")

	var created createdTokenJSON
	e.ok(200, &created, "POST", "/v1/tokens?orgId="+o.ID, dirRoot, `{"name": "ann's phone app", "role": "user", "personId": "`+p.ID+`", "expires": "2099-01-01T00:00:00+01:00"}`)
	id := mustID(t, idToken, created.ID)
	want := tokenJSON{ID: created.ID, Name: "ann's phone app", Role: "user", OrgID: o.ID, PersonID: p.ID, Email: "holder@tok.example",
		Created: "2026-03-10T12:00:00.000Z", Expires: "2098-12-31T23:00:00.000Z"}
	if !reflect.DeepEqual(created.listed(), want) {
		t.Errorf("POST = %+v\n want %+v", created.listed(), want)
	}
	raw, ok := strings.CutPrefix(created.Token, "crk_")
	if b, err := base64.RawURLEncoding.DecodeString(raw); !ok || err != nil || len(b) != 32 {
		t.Errorf("token value %q: want crk_ + base64url of 32 random bytes", created.Token)
	}
	stored, err := e.st.TokenByHash(t.Context(), hashToken(created.Token))
	if err != nil || stored.ID != id || stored.OrgID != orgID || stored.PersonID != mustID(t, idPerson, p.ID) {
		t.Fatalf("stored token %+v %v", stored, err)
	}

	// The new token is a bearer for its own org, and 404 elsewhere.
	var own organizationJSON
	e.ok(200, &own, "GET", "/v1/organizations/"+o.ID, created.Token, "")
	if own.ID != o.ID {
		t.Errorf("GET own org = %+v", own)
	}

	// Listing never shows the value or the hash.
	w := e.ok(200, nil, "GET", "/v1/tokens?orgId="+o.ID, dirRoot, "")
	if strings.Contains(w.Body.String(), created.Token) || strings.Contains(w.Body.String(), hashToken(created.Token)) || strings.Contains(w.Body.String(), `"token"`) {
		t.Errorf("list leaks the token: %s", w.Body.String())
	}
	var list struct{ Items []tokenJSON }
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Items) != 1 || !reflect.DeepEqual(list.Items[0], want) {
		t.Errorf("list = %+v (%v), want [%+v]", list.Items, err, want)
	}

	e.ok(204, nil, "DELETE", "/v1/tokens/"+created.ID, dirRoot, "")
	wantDirError(t, e.do("GET", "/v1/organizations/"+o.ID, created.Token, ""), 401, msgUnauthorized)
	wantDirError(t, e.do("DELETE", "/v1/tokens/"+created.ID, dirRoot, ""), 404, "Token "+quote(created.ID)+" was not found")

	audit := e.wantAudit("token", id, orgID, "root-admin@partner.example", "delete", "create")
	for _, a := range audit {
		if strings.Contains(string(a.After)+string(a.Before), created.Token) || strings.Contains(string(a.After)+string(a.Before), hashToken(created.Token)) {
			t.Errorf("audit %s holds the token value or hash", a.Action)
		}
	}
}

func TestTokenWhoMayCreateWhat(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("Who")
	acme, acmeID := e.orgAs(dirPartner, "Acme Who")
	l := e.location(o.ID, "HQ")
	full := e.token(callrec.RoleFullAdmin, orgID)
	readOnly := e.token(callrec.RoleReadOnlyAdmin, orgID)
	locAdmin := e.token(callrec.RoleLocationAdmin, orgID, func(t *callrec.Token) { t.LocationIDs = []string{mustID(e.t, idLocation, l.ID)} })
	officer := e.token(callrec.RoleComplianceOfficer, orgID)
	acmeFull := e.token(callrec.RoleFullAdmin, acmeID)
	locs := `, "locationIds": ["` + l.ID + `"]`

	for _, tc := range []struct {
		name, caller, query, role, extra string
		status                           int
		msg                              string
	}{
		{"root: full admin of a customer", dirRoot, "?orgId=" + o.ID, "fullAdmin", "", 200, ""},
		{"root: partner admin", dirRoot, "", "partnerAdmin", "", 200, ""},
		{"acme partner: its own org", dirPartner, "?orgId=" + acme.ID, "complianceOfficer", "", 200, ""},
		{"acme partner: root's org", dirPartner, "?orgId=" + o.ID, "fullAdmin", "", 404, "Organization " + quote(o.ID) + " was not found"},
		{"acme partner: partner admin", dirPartner, "", "partnerAdmin", "", 200, ""},
		{"partner admin with orgId", dirRoot, "?orgId=" + o.ID, "partnerAdmin", "", 400, "orgId: a partnerAdmin token belongs to no organization; omit orgId"},
		{"full admin: read-only admin", full, "", "readOnlyAdmin", "", 200, ""},
		{"full admin: location admin", full, "", "locationAdmin", locs, 200, ""},
		{"full admin: compliance officer", full, "", "complianceOfficer", "", 200, ""},
		{"full admin: partner admin", full, "", "partnerAdmin", "", 403, "Only a partner administrator may create partnerAdmin tokens"},
		{"full admin: another org", full, "?orgId=" + acme.ID, "fullAdmin", "", 404, "Organization " + quote(acme.ID) + " was not found"},
		{"other full admin: this org", acmeFull, "?orgId=" + o.ID, "fullAdmin", "", 404, "Organization " + quote(o.ID) + " was not found"},
		{"read-only admin", readOnly, "", "readOnlyAdmin", "", 403, "Only full and partner administrators may create tokens"},
		{"location admin", locAdmin, "", "locationAdmin", locs, 403, "Only full and partner administrators may create tokens"},
		{"compliance officer", officer, "", "complianceOfficer", "", 403, "Only full and partner administrators may create tokens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do("POST", "/v1/tokens"+tc.query, tc.caller, `{"name": "n", "role": "`+tc.role+`"`+tc.extra+`}`)
			if tc.status != 200 {
				wantDirError(t, w, tc.status, tc.msg)
				return
			}
			var out createdTokenJSON
			if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &out) != nil || out.Role != tc.role {
				t.Fatalf("= %d %s", w.Code, w.Body.String())
			}
			tok, err := e.st.TokenByHash(t.Context(), hashToken(out.Token))
			if err != nil {
				t.Fatal(err)
			}
			if tc.role == callrec.RolePartnerAdmin {
				wantPartner := callrec.RootPartner
				if tc.caller == dirPartner {
					wantPartner = "acme"
				}
				if tok.OrgID != "" || tok.PartnerID != wantPartner || out.OrgID != "" || out.PartnerID != wantPartner {
					t.Errorf("partner token org %q partner %q (JSON %+v), want no org and partner %q", tok.OrgID, tok.PartnerID, out.listed(), wantPartner)
				}
			} else if tok.OrgID == "" || tok.PartnerID != "" {
				t.Errorf("org token org %q partner %q", tok.OrgID, tok.PartnerID)
			}
		})
	}
}

func TestTokenValidation(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("TokVal")
	other, _ := e.org("TokOther")
	l := e.location(o.ID, "HQ")
	lo := e.location(other.ID, "Elsewhere")
	p := e.person(o.ID, l.ID, "p@tv.example", "")
	for _, tc := range []struct{ name, body, msg string }{
		{"name", `{"role": "fullAdmin"}`, "name: required"},
		{"role missing", `{"name": "n"}`, "role: required"},
		{"role unknown", `{"name": "n", "role": "god"}`, `role: "god" is not one of partnerAdmin, fullAdmin, readOnlyAdmin, locationAdmin, user, complianceOfficer`},
		{"user without person", `{"name": "n", "role": "user"}`, "personId: required for role user"},
		{"person unknown", `{"name": "n", "role": "user", "personId": "junk"}`, `personId: person "junk" was not found`},
		{"email not the person's", `{"name": "n", "role": "user", "personId": "` + p.ID + `", "email": "x@tv.example"}`, `email: "x@tv.example" is not an email of the person`},
		{"email invalid", `{"name": "n", "role": "fullAdmin", "email": "nope"}`, `email: "nope" is not a valid email address`},
		{"location admin without locations", `{"name": "n", "role": "locationAdmin"}`, "locationIds: required for role locationAdmin"},
		{"location of another org", `{"name": "n", "role": "locationAdmin", "locationIds": ["` + lo.ID + `"]}`, "locationIds[0]: location " + quote(lo.ID) + " was not found"},
		{"locations for another role", `{"name": "n", "role": "fullAdmin", "locationIds": ["` + l.ID + `"]}`, "locationIds: only for role locationAdmin"},
		{"expires format", `{"name": "n", "role": "fullAdmin", "expires": "tomorrow"}`, `expires: "tomorrow" is not an RFC 3339 time such as 2027-01-31T12:00:00Z`},
		{"expires past", `{"name": "n", "role": "fullAdmin", "expires": "2026-03-10T11:59:59Z"}`, `expires: "2026-03-10T11:59:59Z" is not in the future`},
		{"partner admin with person", `{"name": "n", "role": "partnerAdmin", "personId": "` + p.ID + `"}`, "personId, locationIds: not allowed for role partnerAdmin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := "?orgId=" + o.ID
			if strings.Contains(tc.body, "partnerAdmin") {
				q = ""
			}
			wantDirError(t, e.do("POST", "/v1/tokens"+q, dirRoot, tc.body), 400, tc.msg)
		})
	}
}

func TestTokenLocationAdminHeldToItsLocations(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("TokLoc")
	l1, l2 := e.location(o.ID, "One"), e.location(o.ID, "Two")
	full := e.token(callrec.RoleFullAdmin, orgID)
	var created createdTokenJSON
	e.ok(200, &created, "POST", "/v1/tokens", full, `{"name": "site admin", "role": "locationAdmin", "email": "site@tl.example", "locationIds": ["`+l1.ID+`", "`+l1.ID+`"]}`)
	if !reflect.DeepEqual(created.LocationIDs, []string{l1.ID}) || created.Email != "site@tl.example" {
		t.Errorf("created %+v", created.listed())
	}
	e.ok(200, nil, "PUT", "/v1/locations/"+l1.ID, created.Token, `{"name": "One!"}`)
	wantDirError(t, e.do("PUT", "/v1/locations/"+l2.ID, created.Token, `{"name": "Two!"}`), 403, "A location administrator may change only its own locations")
}

func TestTokenListAndRevokeAccess(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("TokAccess")
	_, otherID := e.org("TokAccessOther")
	full := e.token(callrec.RoleFullAdmin, orgID)
	readOnly := e.token(callrec.RoleReadOnlyAdmin, orgID)
	user := e.token(callrec.RoleUser, orgID)
	otherFull := e.token(callrec.RoleFullAdmin, otherID)

	var victim createdTokenJSON
	e.ok(200, &victim, "POST", "/v1/tokens", full, `{"name": "victim", "role": "complianceOfficer"}`)
	var list struct{ Items []tokenJSON }
	e.ok(200, &list, "GET", "/v1/tokens", readOnly, "")
	if len(list.Items) != 4 {
		t.Errorf("read-only admin lists %d tokens, want the org's 4", len(list.Items))
	}
	wantDirError(t, e.do("GET", "/v1/tokens", user, ""), 403, "The user role may not read the organization's configuration")
	wantDirError(t, e.do("DELETE", "/v1/tokens/"+victim.ID, readOnly, ""), 403, "Only full and partner administrators may revoke other tokens")
	wantDirError(t, e.do("DELETE", "/v1/tokens/"+victim.ID, otherFull, ""), 404, "Token "+quote(victim.ID)+" was not found")
	wantDirError(t, e.do("DELETE", "/v1/tokens/"+victim.ID, dirPartner, ""), 404, "Token "+quote(victim.ID)+" was not found")
	e.ok(204, nil, "DELETE", "/v1/tokens/"+victim.ID, full, "")

	// Any token may revoke itself.
	toks, err := e.st.ListTokens(t.Context(), orgID, "")
	if err != nil {
		t.Fatal(err)
	}
	var userID string
	for _, tk := range toks {
		if tk.Role == callrec.RoleUser {
			userID = tk.ID
		}
	}
	e.ok(204, nil, "DELETE", "/v1/tokens/"+webexID(idToken, userID), user, "")
	wantDirError(t, e.do("GET", "/v1/organizations/"+o.ID, user, ""), 401, msgUnauthorized)

	// Partner tokens: listed with level=partner, per partner.
	var pt createdTokenJSON
	e.ok(200, &pt, "POST", "/v1/tokens", dirPartner, `{"name": "acme second", "role": "partnerAdmin", "expires": "`+time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)+`"}`)
	e.ok(200, &list, "GET", "/v1/tokens?level=partner", dirPartner, "")
	if len(list.Items) != 2 || !slices.ContainsFunc(list.Items, func(t tokenJSON) bool {
		return t.ID == pt.ID && t.PartnerID == "acme" && t.Expires == "2099-01-01T00:00:00.000Z"
	}) {
		t.Errorf("acme's partner tokens = %+v", list.Items)
	}
	e.ok(200, &list, "GET", "/v1/tokens?level=partner", dirRoot, "")
	if len(list.Items) != 3 {
		t.Errorf("root sees %d partner tokens, want all 3", len(list.Items))
	}
	wantDirError(t, e.do("GET", "/v1/tokens?level=partner", full, ""), 403, "Only a partner administrator may list partner tokens")
	wantDirError(t, e.do("GET", "/v1/tokens?level=everything", dirRoot, ""), 400, `level: "everything" is not one of org, partner`)
	e.wantAudit("token", mustID(t, idToken, pt.ID), "", "acme-admin@partner.example", "create")
	e.ok(204, nil, "DELETE", "/v1/tokens/"+pt.ID, dirRoot, "")
	wantDirError(t, e.do("GET", "/v1/tokens?level=partner", pt.Token, ""), 401, msgUnauthorized)
}
