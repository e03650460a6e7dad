package api

import (
	"fmt"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

func TestLocationLifecycle(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("Nordic")
	var l locationJSON
	e.ok(200, &l, "POST", "/v1/locations?orgId="+o.ID, dirRoot, `{"name": " Copenhagen HQ ", "timeZone": "Europe/Copenhagen", "preferredLanguage": "da_DK",
		"address": {"address1": "Vesterbrogade 1", "city": "København", "postalCode": "1620", "country": "DK"}}`)
	locID := mustID(t, idLocation, l.ID)
	want := locationJSON{ID: l.ID, OrgID: o.ID, Name: "Copenhagen HQ", TimeZone: "Europe/Copenhagen", PreferredLanguage: "da_DK", AnnouncementLanguage: "da_DK",
		Address: callrec.Address{Address1: "Vesterbrogade 1", City: "København", PostalCode: "1620", Country: "DK"}, Created: "2026-03-10T12:00:00.000Z"}
	if l != want {
		t.Errorf("POST = %+v\n want %+v", l, want)
	}
	// R16, R17: a new location overrides nothing of the org's recording settings.
	if rec := load(e, directory.Locations, orgID, locID).Recording; rec.VendorID != "" || rec.Compliance != nil || rec.Announcements != nil || rec.FailureBehavior != "" {
		t.Errorf("TestR16/R17: new location's recording = %+v, want zero (org defaults)", rec)
	}

	var got locationJSON
	e.ok(200, &got, "GET", "/v1/locations/"+l.ID+"?orgId="+o.ID, dirRoot, "")
	if got != want {
		t.Errorf("GET = %+v, want %+v", got, want)
	}

	var upd locationJSON
	e.ok(200, &upd, "PUT", "/v1/locations/"+l.ID+"?orgId="+o.ID, dirRoot, `{"announcementLanguage": "en_GB", "timeZone": "Europe/London"}`)
	want.AnnouncementLanguage, want.PreferredLanguage, want.TimeZone = "en_GB", "en_GB", "Europe/London"
	if upd != want {
		t.Errorf("PUT = %+v\n want %+v", upd, want)
	}
	// A PUT that changes nothing stores and audits nothing.
	e.ok(200, nil, "PUT", "/v1/locations/"+l.ID+"?orgId="+o.ID, dirRoot, `{"name": "Copenhagen HQ"}`)

	e.ok(204, nil, "DELETE", "/v1/locations/"+l.ID+"?orgId="+o.ID, dirRoot, "")
	wantDirError(t, e.do("GET", "/v1/locations/"+l.ID+"?orgId="+o.ID, dirRoot, ""), 404, fmt.Sprintf("Location %s was not found", quote(l.ID)))
	e.wantAudit("location", locID, orgID, "root-admin@partner.example", "delete", "update", "create")
}

func TestLocationLanguages(t *testing.T) {
	e := newDirEnv(t)
	var o organizationJSON
	e.ok(200, &o, "POST", "/v1/organizations", dirRoot, `{"displayName": "Lang", "defaultLanguage": "fr_CA"}`)
	for _, tc := range []struct{ name, fields, want string }{
		{"org default", ``, "fr_CA"},
		{"preferred only", `, "preferredLanguage": "de-de"`, "de_DE"},
		{"announcement wins", `, "preferredLanguage": "de_DE", "announcementLanguage": "sv_SE"`, "sv_SE"},
		{"unknown kept for R21 fallback", `, "announcementLanguage": "xx_YY"`, "xx_YY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l locationJSON
			e.ok(200, &l, "POST", "/v1/locations?orgId="+o.ID, dirRoot, `{"name": "`+tc.name+`", "timeZone": "UTC"`+tc.fields+`}`)
			if l.AnnouncementLanguage != tc.want || l.PreferredLanguage != tc.want {
				t.Errorf("languages %q/%q, want %q", l.PreferredLanguage, l.AnnouncementLanguage, tc.want)
			}
		})
	}
}

func TestLocationValidation(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("Valid")
	e.location(o.ID, "Taken")
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"name missing", `{"timeZone": "UTC"}`, 400, "name: required"},
		{"time zone missing", `{"name": "A"}`, 400, "timeZone: required"},
		{"time zone unknown", `{"name": "A", "timeZone": "Mars/Olympus"}`, 400, `timeZone: "Mars/Olympus" is not a known IANA time zone name (e.g. Europe/Copenhagen)`},
		{"time zone Local", `{"name": "A", "timeZone": "Local"}`, 400, `timeZone: "Local" is not a known IANA time zone name (e.g. Europe/Copenhagen)`},
		{"language", `{"name": "A", "timeZone": "UTC", "announcementLanguage": "danish"}`, 400, `announcementLanguage: "danish" is not a language code such as en_US`},
		{"address type", `{"name": "A", "timeZone": "UTC", "address": {"city": 5}}`, 400, "Field address.city must be a string, not number"},
		{"address control", `{"name": "A", "timeZone": "UTC", "address": {"city": "a\nb"}}`, 400, "address.city: must not contain control characters"},
		{"name taken", `{"name": "taken", "timeZone": "UTC"}`, 409, "name taken is already used in this organization"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDirError(t, e.do("POST", "/v1/locations?orgId="+o.ID, dirRoot, tc.body), tc.status, tc.msg)
		})
	}
	// The same name in another org is fine.
	o2, _ := e.org("Other")
	e.location(o2.ID, "Taken")
}

func TestLocationDeleteRefusedWhileInUse(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("Used")
	l := e.location(o.ID, "Site")
	p := e.person(o.ID, l.ID, "p@used.example", "")
	e.ok(200, nil, "POST", "/v1/telephony/config/premisePstn/trunks?orgId="+o.ID, dirRoot, `{"name": "T1", "locationId": "`+l.ID+`", "address": "sbc.used.example"}`)
	wantDirError(t, e.do("DELETE", "/v1/locations/"+l.ID+"?orgId="+o.ID, dirRoot, ""), 409, `Location "Site" still has 1 person, 1 trunk; move or delete them first`)
	e.ok(204, nil, "DELETE", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, "")
	wantDirError(t, e.do("DELETE", "/v1/locations/"+l.ID+"?orgId="+o.ID, dirRoot, ""), 409, `Location "Site" still has 1 trunk; move or delete them first`)
}

func TestLocationOrgIsolation(t *testing.T) {
	e := newDirEnv(t)
	a, aID := e.org("Org A")
	b, bID := e.org("Org B")
	la := e.location(a.ID, "A site")
	adminB := e.token(callrec.RoleFullAdmin, bID)
	adminA := e.token(callrec.RoleFullAdmin, aID)
	notFound := fmt.Sprintf("Location %s was not found", quote(la.ID))
	for _, tc := range []struct{ method, target, body string }{
		{"GET", "/v1/locations/" + la.ID, ""},
		{"PUT", "/v1/locations/" + la.ID, `{"name": "mine"}`},
		{"DELETE", "/v1/locations/" + la.ID, ""},
	} {
		t.Run(tc.method, func(t *testing.T) {
			wantDirError(t, e.do(tc.method, tc.target, adminB, tc.body), 404, notFound)
			// Naming org A does not help org B's admin: the org itself is 404.
			wantDirError(t, e.do(tc.method, tc.target+"?orgId="+a.ID, adminB, tc.body), 404, fmt.Sprintf("Organization %s was not found", quote(a.ID)))
			// A partner managing both, acting on B, does not see A's location either.
			wantDirError(t, e.do(tc.method, tc.target+"?orgId="+b.ID, dirRoot, tc.body), 404, notFound)
		})
	}
	var list struct{ Items []locationJSON }
	e.ok(200, &list, "GET", "/v1/locations", adminB, "")
	if len(list.Items) != 0 {
		t.Errorf("org B lists %+v", list.Items)
	}
	e.ok(200, &list, "GET", "/v1/locations", adminA, "")
	if len(list.Items) != 1 || list.Items[0].ID != la.ID {
		t.Errorf("org A lists %+v", list.Items)
	}
	// Another partner's admin does not see the orgs of root.
	wantDirError(t, e.do("GET", "/v1/locations?orgId="+a.ID, dirPartner, ""), 404, fmt.Sprintf("Organization %s was not found", quote(a.ID)))
}

func TestLocationRoles(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("Roles")
	own := e.location(o.ID, "Own")
	other := e.location(o.ID, "Other")
	locAdmin := e.token(callrec.RoleLocationAdmin, orgID, func(t *callrec.Token) { t.LocationIDs = []string{mustID(e.t, idLocation, own.ID)} })
	readOnly := e.token(callrec.RoleReadOnlyAdmin, orgID)
	user := e.token(callrec.RoleUser, orgID)
	officer := e.token(callrec.RoleComplianceOfficer, orgID)

	e.ok(200, nil, "PUT", "/v1/locations/"+own.ID, locAdmin, `{"name": "Own renamed"}`)
	wantDirError(t, e.do("PUT", "/v1/locations/"+other.ID, locAdmin, `{"name": "x"}`), 403, "A location administrator may change only its own locations")
	wantDirError(t, e.do("POST", "/v1/locations", locAdmin, `{"name": "New", "timeZone": "UTC"}`), 403, "A location administrator may change only its own locations")
	wantDirError(t, e.do("DELETE", "/v1/locations/"+own.ID, locAdmin, ""), 403, "A location administrator may change only its own locations")
	var list struct{ Items []locationJSON }
	e.ok(200, &list, "GET", "/v1/locations", locAdmin, "")
	if len(list.Items) != 2 {
		t.Errorf("location admin lists %d locations, want the org's 2", len(list.Items))
	}

	e.ok(200, nil, "GET", "/v1/locations/"+own.ID, readOnly, "")
	wantDirError(t, e.do("PUT", "/v1/locations/"+own.ID, readOnly, `{"name": "x"}`), 403, "The readOnlyAdmin role may not change the organization's configuration")
	wantDirError(t, e.do("GET", "/v1/locations", user, ""), 403, "The user role may not read the organization's configuration")
	wantDirError(t, e.do("GET", "/v1/locations", officer, ""), 403, "The complianceOfficer role may not read the organization's configuration")
}

func TestLocationListPaginationAndFilters(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("Paged")
	var ids []string
	for i := range 5 {
		ids = append(ids, e.location(o.ID, fmt.Sprintf("Site %d", i)).ID)
	}
	pages := e.pages("/v1/locations?orgId="+o.ID+"&max=2", dirRoot, "items")
	if fmt.Sprint(pages) != fmt.Sprint([][]string{ids[0:2], ids[2:4], ids[4:5]}) {
		t.Errorf("pages = %v, want %v in creation order", pages, ids)
	}
	w := e.ok(200, nil, "GET", "/v1/locations?orgId="+o.ID+"&max=2&start=2", dirRoot, "")
	links := w.Header().Values("Link")
	wantLinks := []string{
		"<" + publicURL + "/v1/locations?max=2&orgId=" + o.ID + "&start=4>; rel=\"next\"",
		"<" + publicURL + "/v1/locations?max=2&orgId=" + o.ID + "&start=0>; rel=\"prev\"",
		"<" + publicURL + "/v1/locations?max=2&orgId=" + o.ID + "&start=0>; rel=\"first\"",
	}
	if fmt.Sprint(links) != fmt.Sprint(wantLinks) {
		t.Errorf("Link = %q\n want %q", links, wantLinks)
	}
	if got := e.pages("/v1/locations?orgId="+o.ID+"&name=site%203", dirRoot, "items"); fmt.Sprint(got) != fmt.Sprint([][]string{{ids[3]}}) {
		t.Errorf("name filter = %v", got)
	}
	if got := e.pages("/v1/locations?orgId="+o.ID+"&id="+ids[1]+","+ids[4]+",junk", dirRoot, "items"); fmt.Sprint(got) != fmt.Sprint([][]string{{ids[1], ids[4]}}) {
		t.Errorf("id filter = %v", got)
	}
	wantDirError(t, e.do("GET", "/v1/locations?orgId="+o.ID+"&start=-1", dirRoot, ""), 400, `start: "-1" is not a non-negative integer`)
}
