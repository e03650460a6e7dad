package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/provider"
	"github.com/google/uuid"
)

func TestProviderRegistryReads(t *testing.T) {
	e := newProvEnv(t)
	t.Run("the built-in provider is listed for any admin role", func(t *testing.T) {
		for _, tok := range []string{provRoot, provPartner, provFull, provRO, provLocAdmin, provFullB} {
			list := provJSON[struct{ Items []providerJSON }](t, e.do("GET", provBase+"/providers", tok, ""), http.StatusOK)
			if len(list.Items) != 1 {
				t.Fatalf("%s: items = %+v", tok, list.Items)
			}
			got := list.Items[0]
			want := providerJSON{ID: e.builtInID, Name: "callrec", Description: "callrec built-in recorder", BuiltIn: true,
				LoginURL: "", TermsOfServiceURL: "", TermsOfServiceVersion: "1", Plans: []string{"go", "team", "premier"},
				AutoProvisioningEnabled: true, StorageOptions: []string{"provider"}, AnalyticsFeatures: []string{},
				Regions: []string{"US", "SG", "GB", "JP", "DE", "AU", "IN", "CA"}, SIPRECTarget: provTarget, BackupSIPRECTarget: "",
				Created: got.Created}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: built-in =\n%+v\nwant\n%+v", tok, got, want)
			}
			if _, err := time.Parse(time.RFC3339, got.Created); err != nil || !strings.HasSuffix(got.Created, "Z") {
				t.Errorf("created = %q", got.Created)
			}
		}
	})
	t.Run("roles that are no admin are refused", func(t *testing.T) {
		for _, tok := range []string{provUser, provOfficer} {
			provWantError(t, e.do("GET", provBase+"/providers", tok, ""), http.StatusForbidden, "may not read recording providers")
			provWantError(t, e.do("GET", provBase+"/providers/"+e.builtInID, tok, ""), http.StatusForbidden, "may not read recording providers")
		}
		provWantError(t, e.do("GET", provBase+"/providers", "", ""), http.StatusUnauthorized, "valid access token")
	})
	t.Run("get by webex id and by bare UUID", func(t *testing.T) {
		for _, id := range []string{e.builtInID, callrec.BuiltInProviderID, strings.ToUpper(callrec.BuiltInProviderID)} {
			got := provJSON[providerJSON](t, e.do("GET", provBase+"/providers/"+id, provRO, ""), http.StatusOK)
			if got.ID != e.builtInID || got.Name != "callrec" {
				t.Errorf("GET %s = %+v", id, got)
			}
		}
	})
	t.Run("unknown ids are 404", func(t *testing.T) {
		provWantError(t, e.do("GET", provBase+"/providers/"+uuid.NewString(), provRO, ""), http.StatusNotFound, "was not found")
		provWantError(t, e.do("GET", provBase+"/providers/not-an-id", provRO, ""), http.StatusNotFound, `Provider "not-an-id" was not found`)
		provWantError(t, e.do("GET", provBase+"/providers/"+webexID(idPerson, e.ada.ID), provRO, ""), http.StatusNotFound, "was not found")
	})
}

func TestR5_ProviderRegistration(t *testing.T) {
	e := newProvEnv(t)
	t.Run("only partner admins register", func(t *testing.T) {
		for _, tok := range []string{provFull, provRO, provLocAdmin, provUser, provOfficer} {
			provWantError(t, e.do("POST", provBase+"/providers", tok, newProviderJSON), http.StatusForbidden, "Only a partner administrator")
		}
	})
	got := e.register(newProviderJSON)
	id, ok := parseID(idVendor, got.ID)
	if !ok {
		t.Fatalf("id %q is no RECORDING_VENDOR id", got.ID)
	}
	want := providerJSON{ID: got.ID, Name: "Dubber", Description: "Dubber Call Recording Provider", LoginURL: "https://login.dubber.example/sso",
		TermsOfServiceURL: "https://dubber.example/terms", TermsOfServiceVersion: "2024-05", Plans: []string{"compliance", "insights"},
		AutoProvisioningEnabled: true, StorageOptions: []string{"provider", "customer"}, AnalyticsFeatures: []string{"transcription"},
		Regions: []string{"US", "CA"}, SIPRECTarget: "sip:siprec.dubber.example;transport=tcp", BackupSIPRECTarget: "sips:backup.dubber.example:5061",
		Created: "2026-04-01T09:30:00.000Z"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created =\n%+v\nwant\n%+v", got, want)
	}
	if again := provJSON[providerJSON](t, e.do("GET", provBase+"/providers/"+got.ID, provFull, ""), http.StatusOK); !reflect.DeepEqual(again, want) {
		t.Errorf("read back = %+v", again)
	}
	t.Run("audited as a partner-level change", func(t *testing.T) {
		a := e.audits("", "provider")
		if len(a) != 1 || a[0].Action != "create" || a[0].ObjectID != id || a[0].OrgID != "" || a[0].Actor != e.partnerEmail ||
			a[0].Before != nil || !strings.Contains(string(a[0].After), `"Name":"Dubber"`) {
			t.Errorf("audit = %+v", a)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		p := e.register(`{"name":"Minimal","plans":["basic"],"siprecTarget":"sip:10.0.0.9:5080","termsOfServiceUrl":"https://min.example/tos"}`)
		if p.TermsOfServiceVersion != "1" || !reflect.DeepEqual(p.StorageOptions, []string{"provider"}) || len(p.Regions) != 0 ||
			p.AutoProvisioningEnabled || p.BuiltIn {
			t.Errorf("defaults = %+v", p)
		}
	})
	bad := []struct{ name, body, msg string }{
		{"no name", `{"plans":["a"],"siprecTarget":"sip:a.example","termsOfServiceUrl":"https://a.example/t"}`, "name: is required (R5)"},
		{"no target", `{"name":"X","plans":["a"],"termsOfServiceUrl":"https://a.example/t"}`, "siprecTarget: is required"},
		{"http target", `{"name":"X","plans":["a"],"siprecTarget":"https://a.example","termsOfServiceUrl":"https://a.example/t"}`,
			`siprecTarget: "https://a.example" is not a SIP URI: must start with "sip:" or "sips:" (R5)`},
		{"no plans", `{"name":"X","plans":[],"siprecTarget":"sip:a.example","termsOfServiceUrl":"https://a.example/t"}`, "plans: at least one plan is required (R5)"},
		{"unknown region", `{"name":"X","plans":["a"],"regions":["EU"],"siprecTarget":"sip:a.example","termsOfServiceUrl":"https://a.example/t"}`,
			`regions: "EU" is not a known region; allowed: US, SG, GB, JP, DE, AU, IN, CA (R6)`},
		{"unknown storage", `{"name":"X","plans":["a"],"storageOptions":["s3"],"siprecTarget":"sip:a.example","termsOfServiceUrl":"https://a.example/t"}`,
			`storageOptions: "s3" is not one of provider, customer (R5)`},
		{"no terms URL", `{"name":"X","plans":["a"],"siprecTarget":"sip:a.example"}`, "termsOfServiceUrl: is required for an external provider"},
		{"wrong type", `{"name":"X","plans":"a"}`, "Field plans must be an array of strings"},
		{"no body", ``, "Required request body is missing"},
	}
	for _, tc := range bad {
		t.Run("400 "+tc.name, func(t *testing.T) {
			provWantError(t, e.do("POST", provBase+"/providers", provPartner, tc.body), http.StatusBadRequest, tc.msg)
		})
	}
	t.Run("409 name taken", func(t *testing.T) {
		provWantError(t, e.do("POST", provBase+"/providers", provPartner, strings.Replace(newProviderJSON, `"Dubber"`, `"dubber"`, 1)),
			http.StatusConflict, `name: "dubber" is already the name of another provider`)
	})
	t.Run("pagination", func(t *testing.T) {
		w := e.do("GET", provBase+"/providers?max=2", provFull, "")
		list := provJSON[struct{ Items []providerJSON }](t, w, http.StatusOK)
		if len(list.Items) != 2 || list.Items[0].Name != "callrec" || list.Items[1].Name != "Dubber" {
			t.Errorf("page 1 = %+v", list.Items)
		}
		if link := w.Header().Get("Link"); link != "<"+provURL+provBase+`/providers?max=2&start=2>; rel="next"` {
			t.Errorf("Link = %q", link)
		}
		provWantError(t, e.do("GET", provBase+"/providers?max=0", provFull, ""), http.StatusBadRequest, "max:")
	})
}

func TestProviderUpdateAndDelete(t *testing.T) {
	e := newProvEnv(t)
	p := e.register(newProviderJSON)
	path := provBase + "/providers/" + p.ID
	t.Run("only partner admins change", func(t *testing.T) {
		provWantError(t, e.do("PUT", path, provFull, `{"description":"x"}`), http.StatusForbidden, "Only a partner administrator")
		provWantError(t, e.do("DELETE", path, provRO, ""), http.StatusForbidden, "Only a partner administrator")
	})
	t.Run("partial update", func(t *testing.T) {
		got := provJSON[providerJSON](t, e.do("PUT", path, provPartner, `{"description":"US and Canada","regions":["US"],"analyticsFeatures":[]}`), http.StatusOK)
		want := p
		want.Description, want.Regions, want.AnalyticsFeatures = "US and Canada", []string{"US"}, []string{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("updated =\n%+v\nwant\n%+v", got, want)
		}
		a := e.audits("", "provider")
		if len(a) != 2 || a[0].Action != "update" || !strings.Contains(string(a[0].Before), `"Description":"Dubber Call Recording Provider"`) ||
			!strings.Contains(string(a[0].After), `"Description":"US and Canada"`) {
			t.Errorf("audit = %+v", a)
		}
	})
	t.Run("a GET body PUT back changes nothing", func(t *testing.T) {
		before := e.do("GET", path, provRO, "").Body.String()
		got := e.do("PUT", path, provPartner, before)
		if got.Code != http.StatusOK || strings.TrimSpace(got.Body.String()) != strings.TrimSpace(before) {
			t.Errorf("PUT back = %d %s, want %s", got.Code, got.Body, before)
		}
	})
	t.Run("invalid change", func(t *testing.T) {
		provWantError(t, e.do("PUT", path, provPartner, `{"siprecTarget":"sip:"}`), http.StatusBadRequest, "siprecTarget")
	})
	t.Run("built-in keeps name, plans and target", func(t *testing.T) {
		bi := provBase + "/providers/" + e.builtInID
		provWantError(t, e.do("PUT", bi, provRoot, `{"name":"ours"}`), http.StatusConflict, `name: the built-in provider is called "callrec" and cannot be renamed`)
		provWantError(t, e.do("PUT", bi, provRoot, `{"plans":["go"]}`), http.StatusConflict, "plans: the built-in provider's plans are go, team, premier")
		provWantError(t, e.do("PUT", bi, provRoot, `{"siprecTarget":"sip:elsewhere.example"}`), http.StatusConflict, "--siprec")
		got := provJSON[providerJSON](t, e.do("PUT", bi, provRoot, `{"description":"Our recorder","regions":["DE","GB"]}`), http.StatusOK)
		if got.Description != "Our recorder" || !reflect.DeepEqual(got.Regions, []string{"DE", "GB"}) || got.Name != "callrec" {
			t.Errorf("built-in = %+v", got)
		}
	})
	t.Run("built-in cannot be deleted", func(t *testing.T) {
		provWantError(t, e.do("DELETE", provBase+"/providers/"+e.builtInID, provRoot, ""), http.StatusConflict, `The built-in provider "callrec" cannot be deleted`)
	})
	t.Run("a provider an org uses cannot be deleted", func(t *testing.T) {
		e.update(func(tx directory.Tx) error {
			e.orgC.Recording.VendorID, _ = parseID(idVendor, p.ID)
			return directory.Orgs.Put(e.ctx, tx, e.orgC)
		})
		b := provWantError(t, e.do("DELETE", path, provPartner, ""), http.StatusConflict, "is in use (chosen by 1 org(s) and 0 location(s))")
		if strings.Contains(b.Message, e.orgC.Name) {
			t.Error("the 409 names another partner's org")
		}
		e.update(func(tx directory.Tx) error {
			e.orgC.Recording.VendorID = callrec.BuiltInProviderID
			return directory.Orgs.Put(e.ctx, tx, e.orgC)
		})
	})
	t.Run("delete", func(t *testing.T) {
		w := e.do("DELETE", path, provPartner, "")
		if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
			t.Fatalf("DELETE = %d %s", w.Code, w.Body)
		}
		provWantError(t, e.do("GET", path, provRO, ""), http.StatusNotFound, "was not found")
		provWantError(t, e.do("DELETE", path, provPartner, ""), http.StatusNotFound, "was not found")
		a := e.audits("", "provider")
		if a[0].Action != "delete" || a[0].After != nil || !strings.Contains(string(a[0].Before), `"Name":"Dubber"`) {
			t.Errorf("audit = %+v", a[0])
		}
	})
}

func TestR13_TermsOfService(t *testing.T) {
	e := newProvEnv(t)
	terms := provBase + "/vendors/" + e.builtInID + "/termsOfService"
	t.Run("GET before acceptance", func(t *testing.T) {
		got := provJSON[termsOfServiceJSON](t, e.do("GET", terms, provRO, ""), http.StatusOK)
		want := termsOfServiceJSON{VendorID: e.builtInID, VendorName: "callrec", TermsOfServiceEnabled: false, TermsOfServiceURL: ""}
		if got != want {
			t.Errorf("terms = %+v, want %+v", got, want)
		}
		provWantError(t, e.do("GET", provBase+"/providerAccount", provFull, ""), http.StatusNotFound, "no account at the built-in provider yet")
	})
	t.Run("who may accept (§4.2)", func(t *testing.T) {
		for _, tok := range []string{provRO, provUser, provOfficer} {
			if w := e.do("PUT", terms, tok, `{"termsOfServiceEnabled":true}`); w.Code != http.StatusForbidden {
				t.Errorf("%s: PUT = %d %s", tok, w.Code, w.Body)
			}
		}
		provWantError(t, e.do("PUT", terms+provOrgQ(e.orgA), provPartner2, `{"termsOfServiceEnabled":true}`), http.StatusNotFound, "Organization")
		provWantError(t, e.do("PUT", terms+provOrgQ(e.orgA), provFullB, `{"termsOfServiceEnabled":true}`), http.StatusNotFound, "Organization")
	})
	t.Run("bad bodies", func(t *testing.T) {
		provWantError(t, e.do("PUT", terms, provFull, `{}`), http.StatusBadRequest, "termsOfServiceEnabled: is required")
		provWantError(t, e.do("PUT", terms, provFull, `{"termsOfServiceEnabled":"yes"}`), http.StatusBadRequest, "Field termsOfServiceEnabled must be a boolean")
	})
	t.Run("a location admin accepts for the org", func(t *testing.T) {
		w := e.do("PUT", terms, provLocAdmin, `{"termsOfServiceEnabled":true}`)
		if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
			t.Fatalf("PUT = %d %s", w.Code, w.Body)
		}
		if got := provJSON[termsOfServiceJSON](t, e.do("GET", terms, provFull, ""), http.StatusOK); !got.TermsOfServiceEnabled {
			t.Error("terms not accepted")
		}
	})
	t.Run("R7 accepting created the account with the enabled users", func(t *testing.T) {
		acc := provJSON[providerAccountJSON](t, e.do("GET", provBase+"/providerAccount", provRO, ""), http.StatusOK)
		if acc.VendorID != e.builtInID || acc.Created != "2026-04-01T09:30:00.000Z" || len(acc.Admins) != 0 || len(acc.Members) != 2 {
			t.Fatalf("account = %+v", acc)
		}
		for i, p := range []*callrec.Person{e.ada, e.bob} {
			want := providerAccountMemberJSON{ID: webexID(idPerson, p.ID), Type: "PEOPLE", Plan: "go", PlanSince: "2026-04-01T09:30:00.000Z"}
			if acc.Members[i] != want {
				t.Errorf("member %d = %+v, want %+v", i, acc.Members[i], want)
			}
		}
	})
	t.Run("what was shared", func(t *testing.T) {
		for _, tok := range []string{provOfficer, provRO, provRoot} {
			got := provJSON[termsAcceptanceJSON](t, e.do("GET", terms+"/acceptance"+provOrgQ(e.orgA), tok, ""), http.StatusOK)
			if !got.Accepted || got.AcceptedBy != "hq@a.example" || got.AcceptedAt != "2026-04-01T09:30:00.000Z" ||
				got.TermsOfServiceVersion != "1" || got.CustomerName != "" || got.VendorID != e.builtInID || len(got.SharedUsers) != 2 {
				t.Fatalf("%s: acceptance = %+v", tok, got)
			}
			want := sharedUserJSON{ID: webexID(idPerson, e.ada.ID), Type: "PEOPLE", SharedAt: "2026-04-01T09:30:00.000Z",
				Fields: map[string]string{"timezone": "Europe/Copenhagen", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@a.example"}}
			if !reflect.DeepEqual(got.SharedUsers[0], want) {
				t.Errorf("shared[0] = %+v, want %+v", got.SharedUsers[0], want)
			}
		}
		provWantError(t, e.do("GET", terms+"/acceptance", provUser, ""), http.StatusForbidden, "")
		// Another org's admin names org A: 404, never 403.
		provWantError(t, e.do("GET", terms+"/acceptance"+provOrgQ(e.orgA), provFullB, ""), http.StatusNotFound, "Organization")
	})
	t.Run("accepting again is not audited again", func(t *testing.T) {
		if w := e.do("PUT", terms, provFull, `{"termsOfServiceEnabled":true}`); w.Code != http.StatusNoContent {
			t.Fatalf("PUT = %d", w.Code)
		}
		a := e.audits(e.orgA.ID, "termsOfService")
		if len(a) != 1 || a[0].Action != "accept" || a[0].ObjectID != callrec.BuiltInProviderID || a[0].Actor != "hq@a.example" ||
			a[0].Before != nil || !strings.Contains(string(a[0].After), `"Accepted":true`) {
			t.Errorf("audit = %+v", a)
		}
	})
	t.Run("withdraw", func(t *testing.T) {
		if w := e.do("PUT", terms, provFull, `{"termsOfServiceEnabled":false}`); w.Code != http.StatusNoContent {
			t.Fatalf("PUT = %d %s", w.Code, w.Body)
		}
		got := provJSON[termsAcceptanceJSON](t, e.do("GET", terms+"/acceptance", provRO, ""), http.StatusOK)
		if got.Accepted || got.AcceptedBy != "it@a.example" || len(got.SharedUsers) != 0 || got.TermsOfServiceVersion != "1" {
			t.Errorf("withdrawn = %+v", got)
		}
		a := e.audits(e.orgA.ID, "termsOfService")
		if len(a) != 2 || a[0].Action != "withdraw" || !strings.Contains(string(a[0].Before), `"Accepted":true`) {
			t.Errorf("audit = %+v", a[0])
		}
	})
	t.Run("external provider: the customer name is shared", func(t *testing.T) {
		p := e.register(newProviderJSON)
		path := provBase + "/vendors/" + p.ID + "/termsOfService"
		got := provJSON[termsOfServiceJSON](t, e.do("GET", path, provFull, ""), http.StatusOK)
		if got.VendorName != "Dubber" || got.TermsOfServiceURL != "https://dubber.example/terms" || got.TermsOfServiceEnabled {
			t.Errorf("terms = %+v", got)
		}
		if w := e.do("PUT", path, provFull, `{"termsOfServiceEnabled":true}`); w.Code != http.StatusNoContent {
			t.Fatalf("PUT = %d %s", w.Code, w.Body)
		}
		acc := provJSON[termsAcceptanceJSON](t, e.do("GET", path+"/acceptance", provFull, ""), http.StatusOK)
		if acc.CustomerName != "Acme Corp" || acc.TermsOfServiceVersion != "2024-05" || len(acc.SharedUsers) != 0 {
			t.Errorf("acceptance = %+v (nobody is recorded by it yet)", acc)
		}
	})
	t.Run("vendor none and unknown vendors", func(t *testing.T) {
		provWantError(t, e.do("GET", provBase+"/vendors/none/termsOfService", provFull, ""), http.StatusNotFound, `Vendor "none" has no terms of service`)
		provWantError(t, e.do("PUT", provBase+"/vendors/none/termsOfService", provFull, `{"termsOfServiceEnabled":true}`), http.StatusNotFound, "no terms of service")
		provWantError(t, e.do("GET", provBase+"/vendors/"+webexID(idVendor, uuid.NewString())+"/termsOfService", provFull, ""), http.StatusNotFound, "Vendor")
	})
}

func TestR8_R9_PlanChange(t *testing.T) {
	e := newProvEnv(t)
	e.provision(e.orgA.ID, policy.Target{Person: e.ada}, provider.Actor{Email: "boss@a.example"})
	e.provision(e.orgB.ID, policy.Target{Person: e.kim}, provider.Actor{Email: "it@b.example"})
	old := provNow.Add(-40 * 24 * time.Hour)
	fresh := provNow.Add(-24 * time.Hour)
	var recs []string
	for _, start := range []time.Time{old, fresh} {
		id := uuid.NewString()
		r := &callrec.Recording{ID: id, OrgID: e.orgA.ID, SIPCallID: "rs-" + id, Status: callrec.StatusAvailable, Topic: "Call",
			OwnerID: e.ada.ID, OwnerType: callrec.OwnerUser, OwnerEmail: "ada@a.example", Start: start, Stop: start.Add(time.Minute),
			Created: start.Add(time.Minute), DurationMS: 60_000, SizeBytes: 100, SampleRate: 8000, Channels: 2, Format: "WAV",
			EndReason: callrec.EndBye, BlobKey: "rec/" + id + ".wav", ExpiresAt: policy.Expiry(callrec.PlanGo, start)}
		if err := e.st.CreateRecording(e.ctx, r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, id)
	}
	expiry := func(id string) time.Time {
		r, err := e.st.GetRecording(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.ExpiresAt
	}
	path := provBase + "/providerAccount/members/" + webexID(idPerson, e.ada.ID)

	t.Run("403 for admins who are not provider admins and for users", func(t *testing.T) {
		for _, tok := range []string{provFull, provRO, provLocAdmin, provUser, provOfficer} {
			provWantError(t, e.do("PUT", path, tok, `{"plan":"team"}`), http.StatusForbidden, "may change plans (R8)")
		}
	})
	t.Run("404 across partners", func(t *testing.T) {
		provWantError(t, e.do("PUT", path+"?orgId="+webexID(idOrg, e.orgA.ID), provPartner2, `{"plan":"team"}`), http.StatusNotFound, "Organization")
	})
	t.Run("R9 upgrade by a partner admin stops deletion", func(t *testing.T) {
		got := provJSON[planChangeJSON](t, e.do("PUT", path+provOrgQ(e.orgA), provPartner, `{"plan":"team"}`), http.StatusOK)
		want := planChangeJSON{ID: webexID(idPerson, e.ada.ID), Plan: "team", PreviousPlan: "go", RecordingsUpdated: 2}
		if got != want {
			t.Errorf("plan change = %+v, want %+v", got, want)
		}
		for _, id := range recs {
			if x := expiry(id); !x.IsZero() {
				t.Errorf("recording %s still expires at %v", id, x)
			}
		}
		a := e.audits(e.orgA.ID, "providerAccountMember")
		if len(a) != 1 || a[0].Action != "update" || a[0].ObjectID != e.ada.ID || a[0].Actor != e.partnerEmail {
			t.Fatalf("audit = %+v", a)
		}
		var before, after map[string]any
		if json.Unmarshal(a[0].Before, &before) != nil || json.Unmarshal(a[0].After, &after) != nil {
			t.Fatalf("audit JSON %s / %s", a[0].Before, a[0].After)
		}
		if before["plan"] != "go" || after["plan"] != "team" || after["previousPlan"] != "go" || after["recordingsUpdated"] != float64(2) {
			t.Errorf("audit before %v after %v", before, after)
		}
	})
	t.Run("R9 downgrade by a provider admin: never deleted at once", func(t *testing.T) {
		got := provJSON[planChangeJSON](t, e.do("PUT", path, provBoss, `{"plan":"go"}`), http.StatusOK)
		if got.PreviousPlan != "team" || got.Plan != "go" || got.RecordingsUpdated != 2 {
			t.Errorf("plan change = %+v", got)
		}
		// The old recording gets 30 days from now; the fresh one 30 days
		// from its start, as on go.
		for i, want := range []time.Time{provNow.Add(callrec.FreeRetention), fresh.Add(callrec.FreeRetention)} {
			if x := expiry(recs[i]); !x.Equal(want) {
				t.Errorf("recording %d expires at %v, want %v", i, x, want)
			}
		}
		acc := provJSON[providerAccountJSON](t, e.do("GET", provBase+"/providerAccount", provBoss, ""), http.StatusOK)
		if acc.Members[0].Plan != "go" || acc.Members[0].PlanSince != "2026-04-01T09:30:00.000Z" {
			t.Errorf("member = %+v", acc.Members[0])
		}
	})
	t.Run("the same plan again is not audited", func(t *testing.T) {
		got := provJSON[planChangeJSON](t, e.do("PUT", path, provBoss, `{"plan":"go"}`), http.StatusOK)
		if got.RecordingsUpdated != 0 || got.PreviousPlan != "go" || len(e.audits(e.orgA.ID, "providerAccountMember")) != 2 {
			t.Errorf("no-op change = %+v", got)
		}
	})
	t.Run("400 and 404", func(t *testing.T) {
		provWantError(t, e.do("PUT", path, provBoss, `{"plan":"gold"}`), http.StatusBadRequest, `plan: "gold" is not one of go, team, premier (R8)`)
		provWantError(t, e.do("PUT", path, provBoss, `{}`), http.StatusBadRequest, "plan: is required; one of go, team, premier")
		provWantError(t, e.do("PUT", path, provBoss, `{"plan":1}`), http.StatusBadRequest, "Field plan must be a string")
		provWantError(t, e.do("PUT", provBase+"/providerAccount/members/"+webexID(idPerson, e.bob.ID), provBoss, `{"plan":"team"}`),
			http.StatusNotFound, "was not found in the provider account")
		// Org B's member through org A: 404, the member is no business of A.
		provWantError(t, e.do("PUT", provBase+"/providerAccount/members/"+webexID(idPerson, e.kim.ID), provBoss, `{"plan":"team"}`),
			http.StatusNotFound, "was not found")
		provWantError(t, e.do("PUT", provBase+"/providerAccount/members/garbage", provBoss, `{"plan":"team"}`), http.StatusNotFound, `Member "garbage" was not found`)
	})
	t.Run("a virtual line member", func(t *testing.T) {
		line := &callrec.VirtualLine{ID: uuid.NewString(), OrgID: e.orgA.ID, LocationID: e.hq.ID, FirstName: "Front", LastName: "Desk",
			Recording: callrec.DefaultUserRecording(), Created: provNow}
		line.Recording.Enabled, line.Recording.Mode = true, callrec.ModeAlways
		e.update(func(tx directory.Tx) error { return directory.VirtualLines.Put(e.ctx, tx, line) })
		e.provision(e.orgA.ID, policy.Target{Line: line}, provider.Actor{Email: "boss@a.example"})
		got := provJSON[planChangeJSON](t, e.do("PUT", provBase+"/providerAccount/members/"+webexID(idVirtualLine, line.ID)+provOrgQ(e.orgA), provRoot, `{"plan":"premier"}`), http.StatusOK)
		if got.ID != webexID(idVirtualLine, line.ID) || got.Plan != "premier" {
			t.Errorf("line plan change = %+v", got)
		}
	})
}

func TestR11_ProviderAccountAdmins(t *testing.T) {
	e := newProvEnv(t)
	e.provision(e.orgA.ID, policy.Target{Person: e.ada}, provider.Actor{Email: "Boss@a.example"})
	admins := provBase + "/providerAccount/admins"
	t.Run("who reads the account", func(t *testing.T) {
		for _, tok := range []string{provFull, provRO, provLocAdmin, provBoss, provRoot} {
			acc := provJSON[providerAccountJSON](t, e.do("GET", provBase+"/providerAccount"+provOrgQ(e.orgA), tok, ""), http.StatusOK)
			if !reflect.DeepEqual(acc.Admins, []string{"boss@a.example"}) || len(acc.Members) != 1 || acc.Members[0].ID != webexID(idPerson, e.ada.ID) {
				t.Errorf("%s: account = %+v", tok, acc)
			}
		}
		for _, tok := range []string{provUser, provOfficer} {
			provWantError(t, e.do("GET", provBase+"/providerAccount", tok, ""), http.StatusForbidden, "")
		}
		provWantError(t, e.do("GET", provBase+"/providerAccount", provFullB, ""), http.StatusNotFound, "no account at the built-in provider yet: it is created when")
	})
	t.Run("who adds admins", func(t *testing.T) {
		for _, tok := range []string{provRO, provLocAdmin, provUser, provOfficer} {
			provWantError(t, e.do("POST", admins, tok, `{"email":"x@a.example"}`), http.StatusForbidden, "may change the provider account's admins (R11)")
		}
		acc := provJSON[providerAccountJSON](t, e.do("POST", admins, provFull, `{"email":"Lead@A.example"}`), http.StatusOK)
		if !reflect.DeepEqual(acc.Admins, []string{"boss@a.example", "lead@a.example"}) {
			t.Errorf("admins = %v", acc.Admins)
		}
		acc = provJSON[providerAccountJSON](t, e.do("POST", admins, provBoss, `{"email":"deputy@a.example"}`), http.StatusOK)
		if len(acc.Admins) != 3 {
			t.Errorf("admins = %v", acc.Admins)
		}
		a := e.audits(e.orgA.ID, "providerAdmin")
		if len(a) != 2 || a[0].Action != "create" || a[0].ObjectID != "deputy@a.example" || a[0].Actor != "Boss@a.example" {
			t.Errorf("audit = %+v", a)
		}
	})
	t.Run("400 and 409", func(t *testing.T) {
		provWantError(t, e.do("POST", admins, provFull, `{"email":"not-an-email"}`), http.StatusBadRequest, `email: "not-an-email" is not an email address (R11)`)
		provWantError(t, e.do("POST", admins, provFull, `{}`), http.StatusBadRequest, "email: is required (R11)")
		provWantError(t, e.do("POST", admins, provFull, `{"email":"LEAD@a.example"}`), http.StatusConflict, `email: "lead@a.example" is already an admin`)
	})
	t.Run("remove", func(t *testing.T) {
		w := e.do("DELETE", admins+"/"+url.PathEscape("LEAD@a.example"), provFull, "")
		if w.Code != http.StatusNoContent {
			t.Fatalf("DELETE = %d %s", w.Code, w.Body)
		}
		acc := e.account(e.orgA.ID)
		if !reflect.DeepEqual(acc.Admins, []string{"boss@a.example", "deputy@a.example"}) {
			t.Errorf("admins = %v", acc.Admins)
		}
		provWantError(t, e.do("DELETE", admins+"/lead@a.example", provFull, ""), http.StatusNotFound, `Provider admin "lead@a.example" was not found`)
		provWantError(t, e.do("DELETE", admins+"/deputy@a.example", provRO, ""), http.StatusForbidden, "")
		if a := e.audits(e.orgA.ID, "providerAdmin"); a[0].Action != "delete" || a[0].ObjectID != "lead@a.example" || a[0].After != nil {
			t.Errorf("audit = %+v", a[0])
		}
	})
	t.Run("no account", func(t *testing.T) {
		provWantError(t, e.do("POST", admins, provFullB, `{"email":"x@b.example"}`), http.StatusNotFound, "(R7)")
	})
}

func TestR12_PartnerAdminInOneCustomerAccount(t *testing.T) {
	e := newProvEnv(t)
	// The partner admin enables users in two customer orgs (R11, R12).
	partner := provider.Actor{Email: e.partnerEmail, PartnerAdmin: true}
	e.provision(e.orgA.ID, policy.Target{Person: e.ada}, partner)
	e.provision(e.orgB.ID, policy.Target{Person: e.kim}, partner)
	accA := provJSON[providerAccountJSON](t, e.do("GET", provBase+"/providerAccount"+provOrgQ(e.orgA), provPartner, ""), http.StatusOK)
	accB := provJSON[providerAccountJSON](t, e.do("GET", provBase+"/providerAccount"+provOrgQ(e.orgB), provPartner, ""), http.StatusOK)
	if !reflect.DeepEqual(accA.Admins, []string{e.partnerEmail}) || len(accB.Admins) != 0 || len(accB.Members) != 1 {
		t.Fatalf("A admins %v, B %+v", accA.Admins, accB)
	}
	t.Run("adding the partner admin's email to the second org is refused", func(t *testing.T) {
		for _, tok := range []string{provFullB, provPartner} {
			provWantError(t, e.do("POST", provBase+"/providerAccount/admins"+provOrgQ(e.orgB), tok, `{"email":"OPS@partner.example"}`),
				http.StatusConflict, "a partner admin may be an admin in one customer's account only (R12)")
		}
	})
	t.Run("other emails are not held", func(t *testing.T) {
		acc := provJSON[providerAccountJSON](t, e.do("POST", provBase+"/providerAccount/admins", provFullB, `{"email":"it@b.example"}`), http.StatusOK)
		if !reflect.DeepEqual(acc.Admins, []string{"it@b.example"}) {
			t.Errorf("admins = %v", acc.Admins)
		}
	})
	t.Run("once removed from A it may join B", func(t *testing.T) {
		if w := e.do("DELETE", provBase+"/providerAccount/admins/"+e.partnerEmail+provOrgQ(e.orgA), provPartner, ""); w.Code != http.StatusNoContent {
			t.Fatalf("DELETE = %d %s", w.Code, w.Body)
		}
		acc := provJSON[providerAccountJSON](t, e.do("POST", provBase+"/providerAccount/admins"+provOrgQ(e.orgB), provPartner, `{"email":"ops@partner.example"}`), http.StatusOK)
		if len(acc.Admins) != 2 {
			t.Errorf("admins = %v", acc.Admins)
		}
	})
}

func TestR10_R33_UserSync(t *testing.T) {
	e := newProvEnv(t)
	p := e.register(newProviderJSON)
	pid, _ := parseID(idVendor, p.ID)
	// The Branch location records with the external provider (R16).
	e.branch.Recording.VendorID = pid
	e.update(func(tx directory.Tx) error { return directory.Locations.Put(e.ctx, tx, &e.branch) })
	cy := e.person(e.orgA.ID, e.branch, "Cy", "Young", "cy@a.example", true)
	e.person(e.orgA.ID, e.branch, "Di", "Off", "di@a.example", false)
	line := &callrec.VirtualLine{ID: uuid.NewString(), OrgID: e.orgA.ID, LocationID: e.branch.ID, FirstName: "Sales", LastName: "Line",
		People: []string{cy.ID}, Recording: callrec.DefaultUserRecording(), Created: provNow}
	line.Recording.Enabled, line.Recording.Mode = true, callrec.ModeOnDemand
	e.update(func(tx directory.Tx) error { return directory.VirtualLines.Put(e.ctx, tx, line) })
	users := provBase + "/providers/" + p.ID + "/users"

	t.Run("R13 409 before the org accepted the terms", func(t *testing.T) {
		b := provWantError(t, e.do("GET", users, provFull, ""), http.StatusConflict, "terms of service not accepted")
		if b.VendorID != p.ID || b.VendorName != "Dubber" || b.TermsOfServiceURL != "https://dubber.example/terms" {
			t.Errorf("409 body = %+v", b)
		}
	})
	if w := e.do("PUT", provBase+"/vendors/"+p.ID+"/termsOfService", provFull, `{"termsOfServiceEnabled":true}`); w.Code != http.StatusNoContent {
		t.Fatalf("accept = %d %s", w.Code, w.Body)
	}
	// The enabling handler runs Provision: nothing is created (R10, R33).
	e.provision(e.orgA.ID, policy.Target{Person: cy}, provider.Actor{Email: "it@a.example"})
	e.provision(e.orgA.ID, policy.Target{Line: line}, provider.Actor{Email: "it@a.example"})
	if acc := e.account(e.orgA.ID); acc != nil {
		t.Errorf("an account was created: %+v", acc)
	}

	want := []providerUserJSON{
		{ID: webexID(idPerson, cy.ID), Type: "PEOPLE", LocationID: webexID(idLocation, e.branch.ID), RecordingMode: "Always with Pause/Resume",
			Fields: map[string]string{"timezone": "America/New_York", "firstName": "Cy", "lastName": "Young", "email": "cy@a.example", "customerName": "Acme Corp"}},
		{ID: webexID(idVirtualLine, line.ID), Type: "VIRTUAL_LINE", LocationID: webexID(idLocation, e.branch.ID), RecordingMode: "On Demand with User Initiated Start",
			Fields: map[string]string{"timezone": "America/New_York", "firstName": "Sales", "lastName": "Line", "customerName": "Acme Corp"}},
	}
	t.Run("full and partner admins read the recorded users", func(t *testing.T) {
		for _, target := range []struct{ tok, q string }{{provFull, ""}, {provPartner, provOrgQ(e.orgA)}, {provRoot, provOrgQ(e.orgA)}} {
			got := provJSON[providerUsersJSON](t, e.do("GET", users+target.q, target.tok, ""), http.StatusOK)
			if got.VendorID != p.ID || !reflect.DeepEqual(got.Items, want) {
				t.Errorf("%s: users =\n%+v\nwant\n%+v", target.tok, got, want)
			}
		}
	})
	t.Run("the acceptance records what was shared", func(t *testing.T) {
		acc := provJSON[termsAcceptanceJSON](t, e.do("GET", provBase+"/vendors/"+p.ID+"/termsOfService/acceptance", provOfficer, ""), http.StatusOK)
		if len(acc.SharedUsers) != 2 || !reflect.DeepEqual(acc.SharedUsers[1].Fields, want[1].Fields) {
			t.Errorf("shared = %+v", acc.SharedUsers)
		}
	})
	t.Run("pagination", func(t *testing.T) {
		w := e.do("GET", users+"?max=1", provFull, "")
		got := provJSON[providerUsersJSON](t, w, http.StatusOK)
		if len(got.Items) != 1 || got.Items[0].ID != want[0].ID {
			t.Errorf("page 1 = %+v", got.Items)
		}
		if link := w.Header().Get("Link"); link != "<"+provURL+users+`?max=1&start=1>; rel="next"` {
			t.Errorf("Link = %q", link)
		}
		got = provJSON[providerUsersJSON](t, e.do("GET", users+"?max=1&start=1", provFull, ""), http.StatusOK)
		if len(got.Items) != 1 || got.Items[0].ID != want[1].ID {
			t.Errorf("page 2 = %+v", got.Items)
		}
	})
	t.Run("the built-in provider's users are HQ's", func(t *testing.T) {
		e.do("PUT", provBase+"/vendors/"+e.builtInID+"/termsOfService", provFull, `{"termsOfServiceEnabled":true}`)
		got := provJSON[providerUsersJSON](t, e.do("GET", provBase+"/providers/"+e.builtInID+"/users", provFull, ""), http.StatusOK)
		if len(got.Items) != 2 || got.Items[0].ID != webexID(idPerson, e.ada.ID) || got.Items[1].ID != webexID(idPerson, e.bob.ID) {
			t.Errorf("built-in users = %+v", got.Items)
		}
		if _, ok := got.Items[0].Fields["customerName"]; ok {
			t.Error("the built-in provider gets the customer name")
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, tok := range []string{provRO, provLocAdmin, provUser, provOfficer} {
			provWantError(t, e.do("GET", users, tok, ""), http.StatusForbidden, "Only full and partner administrators may read a provider's users (R10)")
		}
		provWantError(t, e.do("GET", users+provOrgQ(e.orgA), provPartner2, ""), http.StatusNotFound, "Organization")
		provWantError(t, e.do("GET", users+provOrgQ(e.orgA), provFullB, ""), http.StatusNotFound, "Organization")
		provWantError(t, e.do("GET", provBase+"/providers/"+uuid.NewString()+"/users", provFull, ""), http.StatusNotFound, "was not found")
		provWantError(t, e.do("GET", users+"?max=20000", provFull, ""), http.StatusBadRequest, "max:")
	})
}

func TestProviderRoutesDocumented(t *testing.T) {
	e := newProvEnv(t)
	doc := provJSON[struct {
		Paths map[string]map[string]any `json:"paths"`
	}](t, e.do("GET", "/v1/openapi.json", "", ""), http.StatusOK)
	for path, methods := range map[string][]string{
		provBase + "/providers":                                    {"get", "post"},
		provBase + "/providers/{providerId}":                       {"get", "put", "delete"},
		provBase + "/providers/{providerId}/users":                 {"get"},
		provBase + "/vendors/{vendorId}/termsOfService":            {"get", "put"},
		provBase + "/vendors/{vendorId}/termsOfService/acceptance": {"get"},
		provBase + "/providerAccount":                              {"get"},
		provBase + "/providerAccount/members/{memberId}":           {"put"},
		provBase + "/providerAccount/admins":                       {"post"},
		provBase + "/providerAccount/admins/{email}":               {"delete"},
	} {
		for _, m := range methods {
			if _, ok := doc.Paths[path][m]; !ok {
				t.Errorf("%s %s is not documented", strings.ToUpper(m), path)
			}
		}
	}
}

// TestR7_R11_EnablingThroughThePersonAPI drives provisioning the way an
// admin does: enabling a person's recording (§9 PUT) makes them a member
// on go and the enabling admin a provider admin.
func TestR7_R11_EnablingThroughThePersonAPI(t *testing.T) {
	e := newProvEnv(t)
	cy := e.person(e.orgA.ID, e.hq, "Cy", "New", "cy@a.example", false)
	if w := e.do("PUT", provBase+"/vendors/"+e.builtInID+"/termsOfService", provFull, `{"termsOfServiceEnabled":true}`); w.Code != http.StatusNoContent {
		t.Fatalf("accept = %d %s", w.Code, w.Body)
	}
	if w := e.do("PUT", "/v1/people/"+webexID(idPerson, cy.ID)+"/features/callRecording", provFull, `{"enabled":true,"record":"Always"}`); w.Code != http.StatusNoContent {
		t.Fatalf("enable = %d %s", w.Code, w.Body)
	}
	acc := provJSON[providerAccountJSON](t, e.do("GET", provBase+"/providerAccount", provRO, ""), http.StatusOK)
	if !reflect.DeepEqual(acc.Admins, []string{"it@a.example"}) {
		t.Errorf("admins = %v", acc.Admins)
	}
	want := providerAccountMemberJSON{ID: webexID(idPerson, cy.ID), Type: "PEOPLE", Plan: "go", PlanSince: "2026-04-01T09:30:00.000Z"}
	if n := len(acc.Members); n != 3 || acc.Members[2] != want {
		t.Errorf("members = %+v, want ada, bob and %+v", acc.Members, want)
	}
	shared := provJSON[termsAcceptanceJSON](t, e.do("GET", provBase+"/vendors/"+e.builtInID+"/termsOfService/acceptance", provOfficer, ""), http.StatusOK)
	if n := len(shared.SharedUsers); n != 3 || shared.SharedUsers[2].Fields["email"] != "cy@a.example" {
		t.Errorf("shared = %+v", shared.SharedUsers)
	}
}
