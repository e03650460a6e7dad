package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

const crBase = "/v1/telephony/config/callRecording"

func TestCallRecordingOrgSettingsGet(t *testing.T) {
	f := newCRFixture(t)
	var got getCallRecordingJSON
	f.get(crTokReadOnly, crBase, &got)
	want := getCallRecordingJSON{
		Organization: callRecordingOrganizationJSON{ID: webexID(idOrg, f.orgA.ID), Name: "Acme"},
		Enabled:      true,
		VendorID:     webexID(idVendor, callrec.BuiltInProviderID), VendorName: "callrec", TermsOfServiceURL: "",
	}
	if got != want {
		t.Errorf("GET = %+v, want %+v", got, want)
	}
	if !strings.HasPrefix(got.VendorID, "Y2lzY29zcGFyazovL3VzL1JFQ09SRElOR19WRU5ET1Iv") {
		t.Errorf("vendorId %q is not a RECORDING_VENDOR webex id", got.VendorID)
	}

	t.Run("external vendor shows its terms URL", func(t *testing.T) {
		f.setOrg(func(o *callrec.Org) { o.Recording.VendorID = f.external.ID })
		f.get(crTokAdmin, crBase, &got)
		if got.VendorName != "Tapeworm" || got.TermsOfServiceURL != "https://tapeworm.example/terms" || got.VendorID != webexID(idVendor, f.external.ID) {
			t.Errorf("GET = %+v", got)
		}
	})
	t.Run("vendor none", func(t *testing.T) {
		f.setOrg(func(o *callrec.Org) { o.Recording.VendorID = callrec.VendorNone })
		f.get(crTokAdmin, crBase, &got)
		if got.VendorID != "none" || got.VendorName != "None" {
			t.Errorf("GET = %+v", got)
		}
	})
}

func TestR2_PartnerEntitlementPut(t *testing.T) {
	f := newCRFixture(t)
	orgQ := "?orgId=" + webexID(idOrg, f.orgA.ID)
	t.Run("full admin is refused (partners only, D15)", func(t *testing.T) {
		wantError(t, f.do(crTokAdmin, "PUT", crBase, `{"enabled": false}`), http.StatusForbidden, "partner")
	})
	t.Run("enabled is required", func(t *testing.T) {
		wantError(t, f.do(crTokPartner, "PUT", crBase+orgQ, `{}`), http.StatusBadRequest, "enabled: required")
	})
	t.Run("enabled must be a boolean", func(t *testing.T) {
		wantError(t, f.do(crTokPartner, "PUT", crBase+orgQ, `{"enabled": "yes"}`), http.StatusBadRequest, "enabled", "boolean")
	})
	t.Run("partner withdraws the entitlement", func(t *testing.T) {
		f.put(crTokPartner, crBase+orgQ, `{"enabled": false}`, http.StatusNoContent)
		if f.org(f.orgA.ID).Recording.Entitled {
			t.Fatal("org still entitled")
		}
		var got getCallRecordingJSON
		f.get(crTokAdmin, crBase, &got)
		if got.Enabled {
			t.Error("GET enabled = true")
		}
		a := f.audits(auditOrgRecording, f.orgA.ID)
		if len(a) != 1 || a[0].Action != "update" || a[0].Actor != "partner@p1.example" ||
			!strings.Contains(string(a[0].Before), `"entitled":true`) || !strings.Contains(string(a[0].After), `"entitled":false`) {
			t.Errorf("audit = %+v", a)
		}
	})
	t.Run("a setting cannot be enabled without the entitlement", func(t *testing.T) {
		wantError(t, f.do(crTokAdmin, "PUT", f.personPath(f.alice), `{"enabled": true, "record": "Always"}`), http.StatusForbidden, "R2", "entitled")
	})
	t.Run("the partner of another org's partner cannot see it", func(t *testing.T) {
		wantError(t, f.do(crTokAdminB, "GET", crBase+orgQ, ""), http.StatusNotFound)
	})
}

func TestCallRecordingVendorsList(t *testing.T) {
	f := newCRFixture(t)
	var got callRecordingVendorsListJSON
	f.get(crTokAdmin, crBase+"/vendors", &got)
	if got.VendorID != webexID(idVendor, callrec.BuiltInProviderID) || got.VendorName != "callrec" ||
		got.StorageRegion != "US" || got.FailureBehavior != callrec.FailureProceedNoAnnouncement {
		t.Errorf("vendors = %+v", got)
	}
	wantVendors := []callRecordingVendorJSON{
		{ID: webexID(idVendor, callrec.BuiltInProviderID), Name: "callrec", Description: "callrec built-in recorder", MigrateUserCreationEnabled: true},
		{ID: webexID(idVendor, f.external.ID), Name: "Tapeworm", Description: "Tapeworm Call Recording Provider",
			LoginURL: "https://tapeworm.example/login", TermsOfServiceURL: "https://tapeworm.example/terms"},
		{ID: "none", Name: "None", Description: "No call recording: choosing it disables recording (R15, R16)"},
	}
	if !slices.Equal(got.Vendors, wantVendors) {
		t.Errorf("vendors:\n got %+v\nwant %+v", got.Vendors, wantVendors)
	}
	// D1: a plain array, and every Vendor field present.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(f.do(crTokAdmin, "GET", crBase+"/vendors", "").Body.Bytes(), &raw); err != nil || !strings.HasPrefix(string(raw["vendors"]), "[") {
		t.Errorf("vendors is not a plain array: %s", raw["vendors"])
	}
	for _, k := range []string{"id", "name", "description", "migrateUserCreationEnabled", "loginUrl", "termsOfServiceUrl"} {
		if !strings.Contains(string(raw["vendors"]), `"`+k+`"`) {
			t.Errorf("vendor field %s missing", k)
		}
	}

	t.Run("R6 a vendor not offered in the org's region is not listed", func(t *testing.T) {
		var b callRecordingVendorsListJSON
		f.get(crTokAdminB, crBase+"/vendors", &b)
		var names []string
		for _, v := range b.Vendors {
			names = append(names, v.Name)
		}
		if slices.Contains(names, "Tapeworm") || !slices.Contains(names, "callrec") || names[len(names)-1] != "None" {
			t.Errorf("org B vendors = %v", names)
		}
		if b.StorageRegion != "DE" {
			t.Errorf("org B storageRegion = %q, want its hosting region DE", b.StorageRegion)
		}
	})
}

func TestCallRecordingOrgVendorValidation(t *testing.T) {
	f := newCRFixture(t)
	builtIn := webexID(idVendor, callrec.BuiltInProviderID)
	for _, tc := range []struct {
		name   string
		token  string
		body   string
		status int
		parts  []string
	}{
		{"missing body", crTokAdmin, ``, 400, []string{"body is missing"}},
		{"vendorId required", crTokAdmin, `{"failureBehavior": "END_CALL_WITH_ANNOUNCEMENT"}`, 400, []string{"vendorId: required"}},
		{"vendorId not a vendor id", crTokAdmin, `{"vendorId": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8x"}`, 404, []string{"vendorId", "was not found"}},
		{"vendorId unknown vendor", crTokAdmin, `{"vendorId": "` + webexID(idVendor, "0b0b0b0b-0000-4000-8000-000000000000") + `"}`, 404, []string{"vendorId", "not found"}},
		{"failureBehavior enum", crTokAdmin, `{"vendorId": "` + builtIn + `", "failureBehavior": "HANG_UP"}`, 400,
			[]string{"failureBehavior", "PROCEED_WITH_CALL_NO_ANNOUNCEMENT", "PROCEED_CALL_WITH_ANNOUNCEMENT", "END_CALL_WITH_ANNOUNCEMENT"}},
		{"storageRegion not offered", crTokAdmin, `{"vendorId": "` + builtIn + `", "storageRegion": "XX"}`, 400, []string{"storageRegion", "X2"}},
		{"R6 vendor not offered in the org's region", crTokAdminB, `{"vendorId": "` + webexID(idVendor, f.external.ID) + `"}`, 400, []string{"vendorId", "R6", "DE"}},
		{"R15 none needs the confirmation", crTokAdmin, `{"vendorId": "none"}`, 400, []string{"disableForAllUsersConfirmed", "R15"}},
		{"R15 a false confirmation is no confirmation", crTokAdmin, `{"vendorId": "none", "disableForAllUsersConfirmed": false}`, 400, []string{"disableForAllUsersConfirmed"}},
		{"read-only admin", crTokReadOnly, `{"vendorId": "` + builtIn + `"}`, 403, nil},
		{"location admin", crTokLocAdmin, `{"vendorId": "` + builtIn + `"}`, 403, nil},
		{"user", crTokAlice, `{"vendorId": "` + builtIn + `"}`, 403, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, f.do(tc.token, "PUT", crBase+"/vendor", tc.body), tc.status, tc.parts...)
		})
	}
	if o := f.org(f.orgA.ID); o.Recording.VendorID != callrec.BuiltInProviderID || o.Recording.FailureBehavior != callrec.FailureProceedNoAnnouncement {
		t.Errorf("refused PUTs changed the org: %+v", o.Recording)
	}
	if n := len(f.audits(auditRecordingJob, "")); n != 0 {
		t.Errorf("%d jobs audited after refusals", n)
	}
}

func TestR13_OrgVendorTermsConflict(t *testing.T) {
	f := newCRFixture(t)
	w := f.do(crTokAdmin, "PUT", crBase+"/vendor", `{"vendorId": "`+webexID(idVendor, f.external.ID)+`"}`)
	body := wantError(t, w, http.StatusConflict, "Tapeworm", "terms of service", "R13")
	if body.VendorID != webexID(idVendor, f.external.ID) || body.VendorName != "Tapeworm" || body.TermsOfServiceURL != "https://tapeworm.example/terms" {
		t.Errorf("409 body = %+v", body)
	}
	f.acceptExternal()
	w = f.put(crTokAdmin, crBase+"/vendor", `{"vendorId": "`+webexID(idVendor, f.external.ID)+`", "failureBehavior": "END_CALL_WITH_ANNOUNCEMENT"}`, http.StatusOK)
	var job callRecordingJobIDJSON
	if err := json.Unmarshal(w.Body.Bytes(), &job); err != nil || job.JobID == "" {
		t.Fatalf("job id: %v %s", err, w.Body.String())
	}
	if _, ok := parseID(idJob, job.JobID); !ok {
		t.Errorf("jobId %q is not a JOB_ID", job.JobID)
	}
	o := f.org(f.orgA.ID)
	if o.Recording.VendorID != f.external.ID || o.Recording.FailureBehavior != callrec.FailureEndWithAnnouncement {
		t.Errorf("org recording = %+v", o.Recording)
	}
	var st callRecordingJobStatusJSON
	f.get(crTokAdmin, "/v1/telephony/config/jobs/callRecording/"+job.JobID, &st)
	// Both locations follow the org; alice, bob, the workspace and the line move.
	want := callRecordingJobCountsJSON{TotalNumberOfLocations: 2, TotalNumberOfUsers: 4, FailedUsers: 0, UpdatedUsers: 4}
	if st.Counts != want || st.VendorID != webexID(idVendor, f.external.ID) || st.LatestExecutionStatus != "COMPLETED" {
		t.Errorf("job = %+v", st)
	}
}

func TestR15_OrgVendorNoneDisablesEveryone(t *testing.T) {
	f := newCRFixture(t)
	f.put(crTokAdmin, f.personPath(f.alice), `{"enabled": true, "record": "Always", "repeat": {"interval": 45}}`, http.StatusNoContent)
	f.put(crTokAdmin, f.linePath(f.line), `{"enabled": true, "record": "Always with Pause/Resume"}`, http.StatusNoContent)
	// The branch has its own vendor: R15 still disables everyone.
	f.put(crTokAdmin, f.personPath(f.bob), `{"enabled": true, "record": "On Demand"}`, http.StatusNoContent)
	f.put(crTokAdmin, f.locPath(f.branch, "/vendor"), `{"id": "`+webexID(idVendor, callrec.BuiltInProviderID)+`", "orgDefaultEnabled": false}`, http.StatusNoContent)

	w := f.put(crTokAdmin, crBase+"/vendor", `{"vendorId": "none", "disableForAllUsersConfirmed": true}`, http.StatusOK)
	var job callRecordingJobIDJSON
	_ = json.Unmarshal(w.Body.Bytes(), &job)
	if o := f.org(f.orgA.ID); o.Recording.VendorID != callrec.VendorNone {
		t.Errorf("org vendor = %q", o.Recording.VendorID)
	}
	for _, p := range []callrec.Person{f.alice, f.bob} {
		if got := f.person(p.ID).Recording; got != callrec.DefaultUserRecording() {
			t.Errorf("R24: %s settings = %+v, want the defaults", p.FirstName, got)
		}
		a := f.audits(auditPersonRecording, p.ID)
		if len(a) < 2 || !strings.Contains(string(a[0].After), `"enabled":false`) || !strings.Contains(string(a[0].Before), `"enabled":true`) {
			t.Errorf("audit of %s = %+v", p.FirstName, a)
		}
	}
	if got := f.virtualLine(f.line.ID).Recording; got != callrec.DefaultUserRecording() {
		t.Errorf("line settings = %+v", got)
	}
	var st callRecordingJobStatusJSON
	f.get(crTokAdmin, "/v1/telephony/config/jobs/callRecording/"+job.JobID, &st)
	// HQ moves (alice, workspace, line); bob is disabled at the branch.
	want := callRecordingJobCountsJSON{TotalNumberOfLocations: 1, TotalNumberOfUsers: 4, UpdatedUsers: 4}
	if st.Counts != want || st.VendorID != "none" {
		t.Errorf("job = %+v, want counts %+v", st, want)
	}
	var eff callRecordingEffectiveJSON
	f.get(crTokAdmin, f.personPath(f.alice)+"/effective", &eff)
	if eff.Recording || eff.VendorID != "none" {
		t.Errorf("alice effective after none = %+v", eff)
	}
}

func TestCallRecordingOrgVendorRegionAndFailure(t *testing.T) {
	f := newCRFixture(t)
	builtIn := webexID(idVendor, callrec.BuiltInProviderID)
	f.put(crTokAdmin, crBase+"/vendor", `{"vendorId": "`+builtIn+`", "storageRegion": "GB", "failureBehavior": "PROCEED_CALL_WITH_ANNOUNCEMENT"}`, http.StatusOK)
	var got callRecordingVendorsListJSON
	f.get(crTokAdmin, crBase+"/vendors", &got)
	if got.StorageRegion != "GB" || got.FailureBehavior != callrec.FailureProceedWithAnnouncement || got.VendorID != builtIn {
		t.Errorf("vendors = %+v", got)
	}
	var st callRecordingJobsJSON
	f.get(crTokAdmin, "/v1/telephony/config/jobs/callRecording", &st)
	if len(st.Items) != 1 || st.Items[0].Counts != (callRecordingJobCountsJSON{}) {
		t.Errorf("same vendor: jobs = %+v, want one job that moved nobody", st.Items)
	}
	t.Run("a region the new vendor does not offer is cleared", func(t *testing.T) {
		f.acceptExternal()
		f.put(crTokAdmin, crBase+"/vendor", `{"vendorId": "`+webexID(idVendor, f.external.ID)+`"}`, http.StatusOK)
		if r := f.org(f.orgA.ID).Recording.StorageRegion; r != "" {
			t.Errorf("storage region = %q, want cleared (Tapeworm offers US only)", r)
		}
	})
}

func TestD16_OrgVendorPluralAlias(t *testing.T) {
	f := newCRFixture(t)
	w := f.put(crTokAdmin, crBase+"/vendors", `{"vendorId": "none", "disableForAllUsersConfirmed": true}`, http.StatusOK)
	if !strings.Contains(w.Body.String(), `"jobId"`) || f.org(f.orgA.ID).Recording.VendorID != callrec.VendorNone {
		t.Errorf("alias PUT = %s", w.Body.String())
	}
	var doc map[string]any
	f.get("", "/v1/openapi.json", &doc)
	paths := doc["paths"].(map[string]any)
	if _, ok := paths[crBase+"/vendor"].(map[string]any)["put"]; !ok {
		t.Error("PUT /vendor is not documented")
	}
	if _, ok := paths[crBase+"/vendors"].(map[string]any)["put"]; ok {
		t.Error("the hidden PUT /vendors alias is documented")
	}
}

func TestCallRecordingRegions(t *testing.T) {
	f := newCRFixture(t)
	var got callRecordingRegionsJSON
	f.get(crTokReadOnly, crBase+"/regions", &got)
	if len(got.Regions) != 8 {
		t.Fatalf("regions = %+v", got.Regions)
	}
	for _, r := range got.Regions {
		if r.Name == "" || r.Name == r.Code || r.DefaultEnabled != (r.Code == "US") {
			t.Errorf("region %+v (org A is hosted in US)", r)
		}
	}
	if got.Regions[0] != (callRecordingRegionJSON{Code: "US", Name: "United States", DefaultEnabled: true}) {
		t.Errorf("first region = %+v", got.Regions[0])
	}
	f.get(crTokAdminB, crBase+"/regions", &got)
	for _, r := range got.Regions {
		if r.DefaultEnabled != (r.Code == "DE") {
			t.Errorf("org B region %+v", r)
		}
	}
}

var crLinkRE = regexp.MustCompile(`<([^>]+)>; rel="next"`)

func TestCallRecordingVendorUsers(t *testing.T) {
	f := newCRFixture(t)
	builtIn := webexID(idVendor, callrec.BuiltInProviderID)
	all := []callRecordingMemberJSON{
		{ID: webexID(idPerson, f.alice.ID), FirstName: "Alice", LastName: "Archer", Type: "PEOPLE", LicenseType: "PROFESSIONAL_USER"},
		{ID: webexID(idPerson, f.bob.ID), FirstName: "Bob", LastName: "Baker", Type: "PEOPLE", LicenseType: "BASIC_USER"},
		{ID: webexID(idWorkspacePlace, f.ws.ID), FirstName: "Lobby", LastName: "Phone", Type: "PLACE", LicenseType: "WORKSPACE"},
		{ID: webexID(idVirtualLine, f.line.ID), FirstName: "Sales", LastName: "Line", Type: "VIRTUAL_LINE", LicenseType: "VIRTUAL_PROFILE"},
	}
	t.Run("one page by default", func(t *testing.T) {
		var got callRecordingVendorUsersJSON
		f.get(crTokAdmin, crBase+"/vendorUsers", &got)
		if got.VendorID != builtIn || !slices.Equal(got.Members, all) {
			t.Errorf("vendorUsers = %+v", got)
		}
	})
	t.Run("pagination follows Link next", func(t *testing.T) {
		var seen []callRecordingMemberJSON
		pages := 0
		for target := crBase + "/vendorUsers?max=3"; target != ""; pages++ {
			w := f.do(crTokReadOnly, "GET", target, "")
			var got callRecordingVendorUsersJSON
			if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &got) != nil || got.VendorID != builtIn {
				t.Fatalf("page %s: %d %s", target, w.Code, w.Body.String())
			}
			seen = append(seen, got.Members...)
			target = ""
			if m := crLinkRE.FindStringSubmatch(w.Header().Get("Link")); m != nil {
				target = strings.TrimPrefix(m[1], "https://callrec.example")
			}
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
		}
		if pages != 2 || !slices.Equal(seen, all) {
			t.Errorf("%d pages, members %+v", pages, seen)
		}
	})
	t.Run("start skips", func(t *testing.T) {
		var got callRecordingVendorUsersJSON
		f.get(crTokAdmin, crBase+"/vendorUsers?start=3&max=10", &got)
		if !slices.Equal(got.Members, all[3:]) {
			t.Errorf("members = %+v", got.Members)
		}
	})
	t.Run("standardUserOnly", func(t *testing.T) {
		var got callRecordingVendorUsersJSON
		f.get(crTokAdmin, crBase+"/vendorUsers?standardUserOnly=true", &got)
		if !slices.Equal(got.Members, all[1:2]) {
			t.Errorf("members = %+v", got.Members)
		}
	})
	t.Run("bad parameters name themselves", func(t *testing.T) {
		wantError(t, f.do(crTokAdmin, "GET", crBase+"/vendorUsers?max=0", ""), 400, "max")
		wantError(t, f.do(crTokAdmin, "GET", crBase+"/vendorUsers?start=-1", ""), 400, "start")
		wantError(t, f.do(crTokAdmin, "GET", crBase+"/vendorUsers?standardUserOnly=maybe", ""), 400, "standardUserOnly")
	})
	t.Run("location vendor users", func(t *testing.T) {
		var got callRecordingVendorUsersJSON
		f.get(crTokAdmin, f.locPath(f.branch, "/vendorUsers"), &got)
		if got.VendorID != builtIn || !slices.Equal(got.Members, all[1:2]) {
			t.Errorf("branch vendorUsers = %+v", got)
		}
	})
	t.Run("R16 a location on another vendor leaves the org's list", func(t *testing.T) {
		f.put(crTokAdmin, f.locPath(f.branch, "/vendor"), `{"id": "none", "orgDefaultEnabled": false}`, http.StatusNoContent)
		var got callRecordingVendorUsersJSON
		f.get(crTokAdmin, crBase+"/vendorUsers", &got)
		if slices.Contains(got.Members, all[1]) || len(got.Members) != 3 {
			t.Errorf("org vendorUsers = %+v", got.Members)
		}
		f.get(crTokAdmin, f.locPath(f.branch, "/vendorUsers"), &got)
		if got.VendorID != "none" || got.Members == nil || len(got.Members) != 0 {
			t.Errorf("branch vendorUsers = %+v", got)
		}
	})
	t.Run("another org's location is not found", func(t *testing.T) {
		wantError(t, f.do(crTokAdminB, "GET", f.locPath(f.branch, "/vendorUsers"), ""), 404, "Location")
	})
}

func TestR16_LocationVendorOverrideAndRevert(t *testing.T) {
	f := newCRFixture(t)
	builtIn := webexID(idVendor, callrec.BuiltInProviderID)
	ext := webexID(idVendor, f.external.ID)
	path := f.locPath(f.branch, "/vendors")
	var got callRecordingLocationVendorsJSON
	f.get(crTokLocAdmin, path, &got)
	wantDefault := callRecordingLocationVendorsJSON{
		OrgDefaultEnabled: true, OrgDefaultVendorID: builtIn, OrgDefaultVendorName: "callrec",
		DefaultVendorID: builtIn, DefaultVendorName: "callrec",
		OrgStorageRegionEnabled: true, OrgStorageRegion: "US", StorageRegion: "US",
		OrgFailureBehaviorEnabled: true, OrgFailureBehavior: callrec.FailureProceedNoAnnouncement, FailureBehavior: callrec.FailureProceedNoAnnouncement,
	}
	cmp := func(got, want callRecordingLocationVendorsJSON) {
		t.Helper()
		if len(got.Vendors) != 3 || got.Vendors[2].ID != "none" {
			t.Errorf("vendors = %+v", got.Vendors)
		}
		got.Vendors, want.Vendors = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("location vendors:\n got %+v\nwant %+v", got, want)
		}
	}
	cmp(got, wantDefault)
	put := f.locPath(f.branch, "/vendor")

	t.Run("R13 the override's terms must be accepted", func(t *testing.T) {
		body := wantError(t, f.do(crTokAdmin, "PUT", put, `{"id": "`+ext+`", "orgDefaultEnabled": false}`), http.StatusConflict, "R13")
		if body.VendorID != ext || body.VendorName != "Tapeworm" {
			t.Errorf("409 = %+v", body)
		}
	})
	f.acceptExternal()
	t.Run("override", func(t *testing.T) {
		f.put(crTokLocAdmin, put, `{"id": "`+ext+`", "orgDefaultEnabled": false}`, http.StatusNoContent)
		f.get(crTokAdmin, path, &got)
		want := wantDefault
		want.OrgDefaultEnabled, want.DefaultVendorID, want.DefaultVendorName = false, ext, "Tapeworm"
		cmp(got, want)
		if v := f.org(f.orgA.ID).Recording.VendorID; v != callrec.BuiltInProviderID {
			t.Errorf("org vendor changed to %q", v)
		}
		var eff callRecordingEffectiveJSON
		f.get(crTokAdmin, f.personPath(f.bob)+"/effective", &eff)
		if eff.VendorID != ext || eff.VendorInherited {
			t.Errorf("bob effective = %+v", eff)
		}
		a := f.audits(auditLocationRecording, f.branch.ID)
		if len(a) != 1 || a[0].Actor != "branch@acme.example" || !strings.Contains(string(a[0].After), f.external.ID) {
			t.Errorf("audit = %+v", a)
		}
	})
	t.Run("region and failure behaviour", func(t *testing.T) {
		f.put(crTokAdmin, put, `{"storageRegion": "US", "orgStorageRegionEnabled": false, "failureBehavior": "END_CALL_WITH_ANNOUNCEMENT", "orgFailureBehaviorEnabled": false}`, http.StatusNoContent)
		f.get(crTokAdmin, path, &got)
		if got.OrgStorageRegionEnabled || got.StorageRegion != "US" || got.OrgFailureBehaviorEnabled || got.FailureBehavior != callrec.FailureEndWithAnnouncement ||
			got.OrgFailureBehavior != callrec.FailureProceedNoAnnouncement {
			t.Errorf("after region/failure override: %+v", got)
		}
		wantError(t, f.do(crTokAdmin, "PUT", put, `{"storageRegion": "GB"}`), 400, "storageRegion", "Tapeworm")
		wantError(t, f.do(crTokAdmin, "PUT", put, `{"failureBehavior": "SHRUG"}`), 400, "failureBehavior", "END_CALL_WITH_ANNOUNCEMENT")
	})
	t.Run("revert everything (Webex's own example sends values with true flags)", func(t *testing.T) {
		f.put(crTokAdmin, put, `{"id": "`+ext+`", "orgDefaultEnabled": true, "storageRegion": "US", "orgStorageRegionEnabled": true, "failureBehavior": "PROCEED_CALL_WITH_ANNOUNCEMENT", "orgFailureBehaviorEnabled": true}`, http.StatusNoContent)
		f.get(crTokAdmin, path, &got)
		cmp(got, wantDefault)
		if r := f.location(f.branch.ID).Recording; r.VendorID != "" || r.StorageRegion != "" || r.FailureBehavior != "" {
			t.Errorf("stored overrides = %+v", r)
		}
	})
	t.Run("orgDefaultEnabled false alone pins the org's vendor", func(t *testing.T) {
		f.put(crTokAdmin, put, `{"orgDefaultEnabled": false}`, http.StatusNoContent)
		f.get(crTokAdmin, path, &got)
		if got.OrgDefaultEnabled || got.DefaultVendorID != builtIn {
			t.Errorf("pinned = %+v", got)
		}
	})
	t.Run("none needs no confirmation at a location", func(t *testing.T) {
		f.put(crTokAdmin, put, `{"id": "none", "orgDefaultEnabled": false}`, http.StatusNoContent)
		f.get(crTokAdmin, path, &got)
		if got.DefaultVendorID != "none" || got.DefaultVendorName != "None" {
			t.Errorf("none = %+v", got)
		}
		wantError(t, f.do(crTokAdmin, "PUT", f.personPath(f.bob), `{"enabled": true}`), http.StatusConflict, "R14")
	})
	t.Run("X2 a region the new vendor does not offer is cleared", func(t *testing.T) {
		f.put(crTokAdmin, put, `{"id": "`+builtIn+`", "storageRegion": "GB"}`, http.StatusNoContent)
		if r := f.location(f.branch.ID).Recording.StorageRegion; r != "GB" {
			t.Fatalf("region = %q", r)
		}
		f.put(crTokAdmin, put, `{"id": "`+ext+`"}`, http.StatusNoContent)
		if r := f.location(f.branch.ID).Recording; r.StorageRegion != "" || r.VendorID != f.external.ID {
			t.Errorf("after switching to Tapeworm (US only): %+v", r)
		}
	})
	t.Run("who may", func(t *testing.T) {
		wantError(t, f.do(crTokLocAdmin, "PUT", f.locPath(f.hq, "/vendor"), `{"orgDefaultEnabled": true}`), 403, "location")
		wantError(t, f.do(crTokReadOnly, "PUT", put, `{"orgDefaultEnabled": true}`), 403)
		wantError(t, f.do(crTokAdminB, "PUT", put, `{"orgDefaultEnabled": true}`), 404, "Location")
		wantError(t, f.do(crTokAdminB, "GET", path+"?orgId="+webexID(idOrg, f.orgA.ID), ""), 404, "Organization")
		wantError(t, f.do(crTokAdmin, "PUT", f.locPath(callrec.Location{ID: "00000000-0000-4000-8000-000000000000"}, "/vendor"), `{"orgDefaultEnabled": true}`), 404, "Location")
		wantError(t, f.do(crTokAdmin, "PUT", put, `{"id": "garbage"}`), 404, "id")
	})
}

func TestCallRecordingJobs(t *testing.T) {
	f := newCRFixture(t)
	builtIn := webexID(idVendor, callrec.BuiltInProviderID)
	w1 := f.put(crTokAdmin, crBase+"/vendor", `{"vendorId": "`+builtIn+`"}`, http.StatusOK)
	w2 := f.put(crTokAdmin, crBase+"/vendor", `{"vendorId": "none", "disableForAllUsersConfirmed": true}`, http.StatusOK)
	var j1, j2 callRecordingJobIDJSON
	_ = json.Unmarshal(w1.Body.Bytes(), &j1)
	_ = json.Unmarshal(w2.Body.Bytes(), &j2)

	var list callRecordingJobsJSON
	f.get(crTokReadOnly, "/v1/telephony/config/jobs/callRecording", &list)
	if len(list.Items) != 2 || list.Items[0].ID != j2.JobID || list.Items[1].ID != j1.JobID {
		t.Fatalf("jobs (newest first) = %+v", list.Items)
	}
	ts := "2026-03-04T10:20:30.000Z"
	want := callRecordingJobStatusJSON{
		Name: "managecallrecordingprovider", ID: j2.JobID, TrackingID: w2.Header().Get("trackingId"),
		SourceUserID: "admin@acme.example", SourceCustomerID: webexID(idOrg, f.orgA.ID), TargetCustomerID: webexID(idOrg, f.orgA.ID),
		InstanceID: 2, LatestExecutionStatus: "COMPLETED", VendorID: "none",
		Counts: callRecordingJobCountsJSON{TotalNumberOfLocations: 2, TotalNumberOfUsers: 4, UpdatedUsers: 4},
		JobExecutionStatus: []callRecordingJobExecutionJSON{{ID: 2, StartTime: ts, EndTime: ts, LastUpdated: ts, StatusMessage: "COMPLETED",
			ExitCode: "COMPLETED", CreatedTime: ts, TimeElapsed: "PT0.000S",
			StepExecutionStatuses: []callRecordingJobStepJSON{{ID: 1, StartTime: ts, EndTime: ts, LastUpdated: ts, StatusMessage: "COMPLETED",
				ExitCode: "COMPLETED", Name: "managecallrecordingproviderUpdateCallRecordingProviderForUsers", TimeElapsed: "PT0.000S"}}}},
	}
	var got callRecordingJobStatusJSON
	f.get(crTokAdmin, "/v1/telephony/config/jobs/callRecording/"+j2.JobID, &got)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) || want.TrackingID == "" {
		t.Errorf("job:\n got %s\nwant %s", gb, wb)
	}
	var raw map[string]any
	f.get(crTokAdmin, "/v1/telephony/config/jobs/callRecording/"+j1.JobID, &raw)
	for _, k := range []string{"id", "trackingId", "sourceUserId", "sourceCustomerId", "targetCustomerId", "instanceId", "latestExecutionStatus", "vendorId", "counts", "jobExecutionStatus"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("job lacks required field %s", k)
		}
	}
	if _, ok := raw["locationId"]; ok {
		t.Error("an org job has a locationId")
	}

	t.Run("pagination", func(t *testing.T) {
		w := f.do(crTokAdmin, "GET", "/v1/telephony/config/jobs/callRecording?max=1", "")
		var page callRecordingJobsJSON
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || len(page.Items) != 1 || page.Items[0].ID != j2.JobID {
			t.Fatalf("page = %s", w.Body.String())
		}
		if m := crLinkRE.FindStringSubmatch(w.Header().Get("Link")); m == nil || !strings.Contains(m[1], "start=1") {
			t.Errorf("Link = %q", w.Header().Get("Link"))
		}
	})
	t.Run("errors", func(t *testing.T) {
		w := f.do(crTokAdmin, "GET", "/v1/telephony/config/jobs/callRecording/"+j1.JobID+"/errors", "")
		if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"items":[]}` {
			t.Errorf("errors = %d %s", w.Code, w.Body.String())
		}
	})
	t.Run("not found", func(t *testing.T) {
		wantError(t, f.do(crTokAdmin, "GET", "/v1/telephony/config/jobs/callRecording/"+webexID(idJob, "00000000-0000-4000-8000-000000000001"), ""), 404, "Job")
		wantError(t, f.do(crTokAdmin, "GET", "/v1/telephony/config/jobs/callRecording/nonsense/errors", ""), 404, "Job")
		wantError(t, f.do(crTokAdminB, "GET", "/v1/telephony/config/jobs/callRecording/"+j1.JobID, ""), 404, "Job")
	})
	t.Run("users may not list jobs", func(t *testing.T) {
		wantError(t, f.do(crTokAlice, "GET", "/v1/telephony/config/jobs/callRecording", ""), 403)
	})
}

func TestCallRecordingRenderJob(t *testing.T) {
	start := time.Date(2024, 5, 8, 14, 12, 28, 371_000_000, time.UTC)
	j := &callrec.Job{ID: "fb85d034-5474-49b3-8c77-3d6ed453070f", OrgID: "e513185f-5a2f-4495-b35b-7067bf7ce48e", LocationID: "02a43ee9-17ae-4e0c-9e79-720e3a6503fd",
		VendorID: callrec.BuiltInProviderID, By: "a@b.example", TrackingID: "CALLREC_x", Created: start, Finished: start.Add(11086 * time.Millisecond),
		Status: "COMPLETED", Locations: 0, Users: 6, Updated: 5, Failed: 1,
		Errors: []callrec.JobError{{Item: "x", Code: "404", Message: "gone"}}}
	got := renderJob(j, 7)
	ex := got.JobExecutionStatus[0]
	for _, c := range []struct{ name, got, want string }{
		{"id", got.ID, "Y2lzY29zcGFyazovL3VzL0pPQl9JRC9mYjg1ZDAzNC01NDc0LTQ5YjMtOGM3Ny0zZDZlZDQ1MzA3MGY"},
		{"timeElapsed", ex.TimeElapsed, "PT11.086S"},
		{"startTime", ex.StartTime, "2024-05-08T14:12:28.371Z"},
		{"endTime", ex.EndTime, "2024-05-08T14:12:39.457Z"},
		{"exitCode", ex.ExitCode, "COMPLETED_WITH_ERRORS"},
		{"locationId", got.LocationID, webexID(idLocation, j.LocationID)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if crElapsed(12*time.Millisecond) != "PT0.012S" {
		t.Errorf("crElapsed(12ms) = %q", crElapsed(12*time.Millisecond))
	}
}

// crJobsStored is how many jobs org A has in the store.
func (f *crFixture) crJobsStored() int {
	f.t.Helper()
	var n int
	f.view(func(tx directory.Tx) error {
		jobs, err := directory.Jobs.List(f.t.Context(), tx, f.orgA.ID)
		n = len(jobs)
		return err
	})
	return n
}

func TestCallRecordingLocationVendorMakesNoJob(t *testing.T) {
	f := newCRFixture(t)
	f.put(crTokAdmin, f.locPath(f.hq, "/vendor"), `{"id": "none"}`, http.StatusNoContent)
	if n := f.crJobsStored(); n != 0 {
		t.Errorf("%d jobs after a location change applied at once (204)", n)
	}
}
