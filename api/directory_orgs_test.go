package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

func TestOrganizationLifecycle(t *testing.T) {
	e := newDirEnv(t)
	var created organizationJSON
	e.ok(200, &created, "POST", "/v1/organizations", dirPartner, `{"displayName": "Acme Dental", "hostingRegion": "de", "defaultLanguage": "de-de"}`)
	id := mustID(t, idOrg, created.ID)
	want := organizationJSON{ID: webexID(idOrg, id), DisplayName: "Acme Dental", Created: "2026-03-10T12:00:00.000Z", HostingRegion: "DE", DefaultLanguage: "de_DE"}
	if created != want {
		t.Errorf("POST = %+v\n want %+v", created, want)
	}
	stored := load(e, directory.Orgs, "", id)
	if stored.PartnerID != "acme" || stored.Recording.VendorID != callrec.BuiltInProviderID || stored.Recording.Entitled ||
		stored.Recording.AccessCodes.Start != callrec.DefaultStartCode || stored.Recording.FailureBehavior != callrec.FailureProceedNoAnnouncement {
		t.Errorf("stored org = %+v; want partner acme and DefaultOrgRecording (R2, R13)", stored)
	}

	var got organizationJSON
	e.ok(200, &got, "GET", "/v1/organizations/"+created.ID, dirPartner, "")
	if got != want {
		t.Errorf("GET = %+v, want %+v", got, want)
	}
	// A bare UUID names it too (ids.go).
	e.ok(200, nil, "GET", "/v1/organizations/"+id, dirPartner, "")

	var upd organizationJSON
	e.ok(200, &upd, "PUT", "/v1/organizations/"+created.ID, dirPartner, `{"displayName": "Acme Dental ApS", "id": "ignored", "created": "ignored"}`)
	want.DisplayName = "Acme Dental ApS"
	if upd != want {
		t.Errorf("PUT = %+v, want %+v (omitted fields kept)", upd, want)
	}
	e.ok(204, nil, "DELETE", "/v1/organizations/"+created.ID, dirPartner, "")
	wantDirError(t, e.do("GET", "/v1/organizations/"+created.ID, dirPartner, ""), 404, "Organization "+quote(created.ID)+" was not found")

	audit := e.wantAudit("organization", id, id, "acme-admin@partner.example", "delete", "update", "create")
	var before, after callrec.Org
	if json.Unmarshal(audit[1].Before, &before) != nil || json.Unmarshal(audit[1].After, &after) != nil ||
		before.Name != "Acme Dental" || after.Name != "Acme Dental ApS" {
		t.Errorf("update audit before %s after %s", audit[1].Before, audit[1].After)
	}
	if audit[2].Before != nil || audit[0].After != nil {
		t.Errorf("create audit has before %s / delete audit has after %s", audit[2].Before, audit[0].After)
	}
}

func TestOrganizationDefaults(t *testing.T) {
	e := newDirEnv(t)
	var o organizationJSON
	e.ok(200, &o, "POST", "/v1/organizations", dirRoot, `{"displayName": "Plain"}`)
	if o.HostingRegion != "US" || o.DefaultLanguage != "en_US" || !msTimeRE.MatchString(o.Created) {
		t.Errorf("defaults = %+v, want US, en_US, millisecond UTC time", o)
	}
	if p := load(e, directory.Orgs, "", mustID(t, idOrg, o.ID)).PartnerID; p != callrec.RootPartner {
		t.Errorf("partner = %q, want root", p)
	}
}

func TestOrganizationValidation(t *testing.T) {
	e := newDirEnv(t)
	e.org("Taken Name")
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"no body", ``, 400, msgBodyMissing},
		{"display name missing", `{"hostingRegion": "US"}`, 400, "displayName: required"},
		{"display name blank", `{"displayName": "   "}`, 400, "displayName: required"},
		{"display name wrong type", `{"displayName": 7}`, 400, "Field displayName must be a string, not number"},
		{"unknown region", `{"displayName": "X", "hostingRegion": "EU"}`, 400, `hostingRegion: "EU" is not one of US, SG, GB, JP, DE, AU, IN, CA`},
		{"bad language", `{"displayName": "X", "defaultLanguage": "english"}`, 400, `defaultLanguage: "english" is not a language code such as en_US`},
		{"control character", `{"displayName": "a\u0007b"}`, 400, "displayName: must not contain control characters"},
		{"name taken, other case", `{"displayName": "taken name"}`, 409, "displayName taken name is already used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDirError(t, e.do("POST", "/v1/organizations", dirRoot, tc.body), tc.status, tc.msg)
		})
	}
}

func TestOrganizationAccess(t *testing.T) {
	e := newDirEnv(t)
	acme, acmeID := e.orgAs(dirPartner, "Acme")
	rootOrg, rootOrgID := e.org("Rooted")
	full := e.token(callrec.RoleFullAdmin, acmeID)
	user := e.token(callrec.RoleUser, acmeID)

	t.Run("partner sees only its orgs", func(t *testing.T) {
		var list struct{ Items []organizationJSON }
		e.ok(200, &list, "GET", "/v1/organizations", dirPartner, "")
		if len(list.Items) != 1 || list.Items[0].ID != acme.ID {
			t.Errorf("acme's list = %+v, want only Acme", list.Items)
		}
		wantDirError(t, e.do("GET", "/v1/organizations/"+rootOrg.ID, dirPartner, ""), 404, "Organization "+quote(rootOrg.ID)+" was not found")
		wantDirError(t, e.do("PUT", "/v1/organizations/"+rootOrg.ID, dirPartner, `{"displayName": "Mine"}`), 404, "Organization "+quote(rootOrg.ID)+" was not found")
		wantDirError(t, e.do("DELETE", "/v1/organizations/"+rootOrg.ID, dirPartner, ""), 404, "Organization "+quote(rootOrg.ID)+" was not found")
	})
	t.Run("root sees every org", func(t *testing.T) {
		var list struct{ Items []organizationJSON }
		e.ok(200, &list, "GET", "/v1/organizations", dirRoot, "")
		if len(list.Items) != 3 {
			t.Errorf("root's list has %d orgs, want default, Acme and Rooted", len(list.Items))
		}
	})
	t.Run("org tokens see their own org", func(t *testing.T) {
		for _, tok := range []string{full, user} {
			var list struct{ Items []organizationJSON }
			e.ok(200, &list, "GET", "/v1/organizations", tok, "")
			if len(list.Items) != 1 || list.Items[0].ID != acme.ID {
				t.Errorf("list = %+v, want only Acme", list.Items)
			}
			e.ok(200, nil, "GET", "/v1/organizations/"+acme.ID, tok, "")
			wantDirError(t, e.do("GET", "/v1/organizations/"+rootOrg.ID, tok, ""), 404, "Organization "+quote(rootOrg.ID)+" was not found")
		}
	})
	t.Run("only partners write", func(t *testing.T) {
		wantDirError(t, e.do("POST", "/v1/organizations", full, `{"displayName": "Sneaky"}`), 403, "Only a partner administrator may create organizations")
		wantDirError(t, e.do("PUT", "/v1/organizations/"+acme.ID, full, `{"displayName": "Sneaky"}`), 403, "Only a partner administrator may do this")
		wantDirError(t, e.do("DELETE", "/v1/organizations/"+acme.ID, full, ""), 403, "Only a partner administrator may do this")
		wantDirError(t, e.do("GET", "/v1/organizations", "", ""), 401, msgUnauthorized)
	})
	_ = rootOrgID
}

func TestOrganizationDeleteRefusedWhileInUse(t *testing.T) {
	e := newDirEnv(t)
	o, id := e.org("Busy")
	loc := e.location(o.ID, "HQ")
	e.person(o.ID, loc.ID, "ann@busy.example", "")
	tok := e.token(callrec.RoleFullAdmin, id)
	wantDirError(t, e.do("DELETE", "/v1/organizations/"+o.ID, dirRoot, ""), 409,
		`Organization "Busy" still has 1 token, 1 location, 1 person; delete them first`)

	var def struct{ Items []organizationJSON }
	e.ok(200, &def, "GET", "/v1/organizations", dirRoot, "")
	defID := ""
	for _, it := range def.Items {
		if it.DisplayName == callrec.DefaultOrgName {
			defID = it.ID
		}
	}
	wantDirError(t, e.do("DELETE", "/v1/organizations/"+defID, dirRoot, ""), 409, `The built-in organization "default" cannot be deleted`)
	wantDirError(t, e.do("PUT", "/v1/organizations/"+defID, dirRoot, `{"displayName": "renamed"}`), 409, `displayName: the built-in organization "default" cannot be renamed`)
	e.ok(200, nil, "PUT", "/v1/organizations/"+defID, dirRoot, `{"defaultLanguage": "en_GB"}`)

	// Emptied, it goes, settings documents included.
	p := e.pages("/v1/people?orgId="+o.ID, dirRoot, "items")[0][0]
	e.ok(204, nil, "DELETE", "/v1/people/"+p+"?orgId="+o.ID, dirRoot, "")
	e.ok(204, nil, "DELETE", "/v1/locations/"+loc.ID+"?orgId="+o.ID, dirRoot, "")
	toks, err := e.st.ListTokens(t.Context(), id, "")
	if err != nil || len(toks) != 1 {
		t.Fatalf("tokens %v %v", toks, err)
	}
	if err := e.st.DeleteToken(t.Context(), toks[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Update(t.Context(), func(tx directory.Tx) error {
		return directory.Terms.Put(t.Context(), tx, &callrec.TermsAcceptance{OrgID: id, ProviderID: callrec.BuiltInProviderID, Accepted: true})
	}); err != nil {
		t.Fatal(err)
	}
	e.ok(204, nil, "DELETE", "/v1/organizations/"+o.ID, dirRoot, "")
	if w := e.do("GET", "/v1/organizations/"+o.ID, tok, ""); w.Code != http.StatusUnauthorized {
		t.Errorf("revoked token of the deleted org = %d, want 401", w.Code)
	}
}

func TestOrganizationListPagination(t *testing.T) {
	e := newDirEnv(t)
	for _, n := range []string{"A1", "A2", "A3", "A4", "A5"} {
		e.orgAs(dirPartner, n)
	}
	pages := e.pages("/v1/organizations?max=2", dirPartner, "items")
	if len(pages) != 3 || len(pages[0]) != 2 || len(pages[1]) != 2 || len(pages[2]) != 1 {
		t.Errorf("pages = %v, want 2+2+1", pages)
	}
	wantDirError(t, e.do("GET", "/v1/organizations?max=0", dirPartner, ""), 400, `max: "0" must be an integer from 1 to 1000`)
}
