package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// caller calls the API of a running server with one bearer token.
type caller struct {
	t     *testing.T
	s     *server
	token string
	who   string
}

// do sends body (JSON-encoded unless nil) and checks the status; it
// returns the decoded JSON object (nil for an empty body).
func (c caller) do(method, path string, body any, want int) map[string]any {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	raw := c.send(method, path, rd, "application/json", want)
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s: %s %s: bad JSON %q: %v", c.who, method, path, raw, err)
	}
	return out
}

// send does a request with the caller's token and body (of contentType,
// unless ""), and returns the answer's body, failing unless the status is
// want.
func (c caller) send(method, path string, body io.Reader, contentType string, want int) []byte {
	c.t.Helper()
	req, err := http.NewRequest(method, c.s.httpURL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s: %s %s = %d %s, want %d", c.who, method, path, res.StatusCode, raw, want)
	}
	return raw
}

// listItems GETs path with the caller's token and decodes the items of
// its list answer (what names them in a failure).
func listItems[T any](c caller, path, what string) []T {
	c.t.Helper()
	var out struct {
		Items []T `json:"items"`
	}
	b := c.send("GET", path, nil, "", 200)
	if err := json.Unmarshal(b, &out); err != nil {
		c.t.Fatalf("%s: %s %q: %v", c.who, what, b, err)
	}
	return out.Items
}

// errorText returns the message of a Webex error body.
func errorText(t *testing.T, body map[string]any) string {
	t.Helper()
	msg, _ := body["message"].(string)
	if msg == "" || body["trackingId"] == "" {
		t.Fatalf("not a Webex error body: %v", body)
	}
	return msg
}

func mustContain(t *testing.T, what, got string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(got, p) {
			t.Fatalf("%s: %q does not contain %q", what, got, p)
		}
	}
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[p]
	}
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return ""
}

// TestAdminStory walks the admin story of the rules in order (issue 4
// point 9) through the real binary, checking each step with the matching
// GET and the effective-settings endpoint.
func TestAdminStory(t *testing.T) {
	srv := startServer(t, serverOpts{})
	partner := caller{t, srv, srv.token, "partner"}

	// A partner creates an org (hosting region, default language).
	org := partner.do("POST", "/v1/organizations", map[string]any{"displayName": "Acme A/S", "hostingRegion": "US", "defaultLanguage": "da_DK"}, 200)
	orgID := str(org, "id")
	q := "?orgId=" + url.QueryEscape(orgID)
	got := partner.do("GET", "/v1/organizations/"+orgID, nil, 200)
	if str(got, "displayName") != "Acme A/S" || str(got, "defaultLanguage") != "da_DK" || str(got, "hostingRegion") != "US" {
		t.Fatalf("org = %v", got)
	}

	// Locations and people.
	hq := partner.do("POST", "/v1/locations"+q, map[string]any{"name": "HQ", "timeZone": "Europe/Copenhagen", "announcementLanguage": "da_DK",
		"address": map[string]any{"address1": "Vesterbrogade 1", "city": "København", "postalCode": "1620", "country": "DK"}}, 200)
	branch := partner.do("POST", "/v1/locations"+q, map[string]any{"name": "Branch", "timeZone": "America/New_York", "announcementLanguage": "en_US"}, 200)
	hqID, branchID := str(hq, "id"), str(branch, "id")
	person := func(first, email, loc, lic, ext string) string {
		p := partner.do("POST", "/v1/people"+q, map[string]any{"emails": []string{email}, "firstName": first, "lastName": "Test", "displayName": first + " Test",
			"locationId": loc, "licenseType": lic, "extension": ext}, 200)
		return str(p, "id")
	}
	alice := person("Alice", "alice@acme.example", hqID, "PROFESSIONAL_USER", "1001")
	bob := person("Bob", "bob@acme.example", branchID, "BASIC_USER", "2001")
	carol := person("Carol", "carol@acme.example", hqID, "PROFESSIONAL_USER", "1002")
	lobby := person("Lobby", "lobby@acme.example", hqID, "WORKSPACE", "1009")

	// Person defaults (R25, R29 deviation): Never, repeat every 20 s.
	pr := partner.do("GET", "/v1/people/"+alice+"/features/callRecording"+q, nil, 200)
	if str(pr, "enabled") != "false" || str(pr, "record") != "Never" || str(pr, "repeat", "interval") != "20" || str(pr, "repeat", "enabled") != "true" {
		t.Fatalf("R25/R29 defaults: %v", pr)
	}

	enable := func(id, mode string, want int) map[string]any {
		return partner.do("PUT", "/v1/people/"+id+"/features/callRecording"+q, map[string]any{"enabled": true, "record": mode}, want)
	}
	// R2: nothing can be enabled before the partner entitles the org.
	mustContain(t, "R2", errorText(t, enable(alice, "Always", 403)), "entitle")
	partner.do("PUT", "/v1/telephony/config/callRecording"+q, map[string]any{"enabled": true}, 204)
	if cr := partner.do("GET", "/v1/telephony/config/callRecording"+q, nil, 200); str(cr, "enabled") != "true" || str(cr, "organization", "name") != "Acme A/S" {
		t.Fatalf("R2 entitlement: %v", cr)
	}

	// R13: the built-in vendor's terms are not accepted yet: 409 naming the vendor.
	vendors := partner.do("GET", "/v1/telephony/config/callRecording/vendors"+q, nil, 200)
	builtin := str(vendors, "vendorId")
	conflict := enable(alice, "Always", 409)
	if str(conflict, "vendorId") != builtin || str(conflict, "vendorName") != "callrec" {
		t.Fatalf("R13 409 body: %v", conflict)
	}
	partner.do("PUT", "/v1/telephony/config/callRecording/vendors/"+builtin+"/termsOfService"+q, map[string]any{"termsOfServiceEnabled": true}, 204)
	tos := partner.do("GET", "/v1/telephony/config/callRecording/vendors/"+builtin+"/termsOfService"+q, nil, 200)
	if str(tos, "termsOfServiceEnabled") != "true" {
		t.Fatalf("R13 terms: %v", tos)
	}
	acc := partner.do("GET", "/v1/telephony/config/callRecording/vendors/"+builtin+"/termsOfService/acceptance"+q, nil, 200)
	if str(acc, "accepted") != "true" || str(acc, "acceptedAt") == "" || str(acc, "termsOfServiceVersion") == "" {
		t.Fatalf("R13 acceptance record: %v", acc)
	}

	// External providers (R5, R6): one offered only in GB, one in the US.
	gbOnly := partner.do("POST", "/v1/telephony/config/callRecording/providers", map[string]any{"name": "Albion Recording", "description": "GB only",
		"siprecTarget": "sip:srs@albion.example", "plans": []string{"standard"}, "regions": []string{"GB"}, "storageOptions": []string{"provider"},
		"termsOfServiceUrl": "https://albion.example/terms"}, 200)
	usRec := partner.do("POST", "/v1/telephony/config/callRecording/providers", map[string]any{"name": "Liberty Rec", "description": "US recorder",
		"siprecTarget": "sip:srs@liberty.example", "plans": []string{"basic", "pro"}, "regions": []string{"US"}, "storageOptions": []string{"provider", "customer"},
		"analyticsFeatures": []string{"transcription"}, "termsOfServiceUrl": "https://liberty.example/terms"}, 200)
	gbID, usID := str(gbOnly, "id"), str(usRec, "id")

	// Vendor chosen for the org, with a job id (§5.2).
	job := partner.do("PUT", "/v1/telephony/config/callRecording/vendor"+q, map[string]any{"vendorId": builtin, "storageRegion": "US", "failureBehavior": "PROCEED_CALL_WITH_ANNOUNCEMENT"}, 200)
	if j := partner.do("GET", "/v1/telephony/config/jobs/callRecording/"+str(job, "jobId")+q, nil, 200); str(j, "latestExecutionStatus") != "COMPLETED" {
		t.Fatalf("vendor job: %v", j)
	}
	// R6: a provider not offered in the org's region is refused.
	refused := partner.do("PUT", "/v1/telephony/config/callRecording/vendor"+q, map[string]any{"vendorId": gbID}, 400)
	mustContain(t, "R6", errorText(t, refused), "region")

	// R16: one location overridden (its vendor's terms first, R13).
	partner.do("PUT", "/v1/telephony/config/locations/"+branchID+"/callRecording/vendor"+q, map[string]any{"id": usID, "orgDefaultEnabled": false}, 409)
	partner.do("PUT", "/v1/telephony/config/callRecording/vendors/"+usID+"/termsOfService"+q, map[string]any{"termsOfServiceEnabled": true}, 204)
	partner.do("PUT", "/v1/telephony/config/locations/"+branchID+"/callRecording/vendor"+q, map[string]any{"id": usID, "orgDefaultEnabled": false}, 204)
	lv := partner.do("GET", "/v1/telephony/config/locations/"+branchID+"/callRecording/vendors"+q, nil, 200)
	if str(lv, "orgDefaultEnabled") != "false" || str(lv, "defaultVendorId") != usID || str(lv, "orgDefaultVendorId") != builtin {
		t.Fatalf("R16 location vendor: %v", lv)
	}

	// R17/R18: compliance announcement at org level, overridden at HQ.
	partner.do("PUT", "/v1/telephony/config/callRecording/complianceAnnouncement"+q, map[string]any{"inboundPSTNCallsEnabled": true,
		"outboundPSTNCallsEnabled": true, "outboundPSTNCallsDelayEnabled": true, "delayInSeconds": 10}, 204)
	bad := partner.do("PUT", "/v1/telephony/config/callRecording/complianceAnnouncement"+q, map[string]any{"delayInSeconds": 61}, 400)
	mustContain(t, "R18", errorText(t, bad), "delayInSeconds")
	partner.do("PUT", "/v1/telephony/config/locations/"+hqID+"/callRecording/complianceAnnouncement"+q, map[string]any{"useOrgSettingsEnabled": false,
		"inboundPSTNCallsEnabled": false, "outboundPSTNCallsEnabled": true, "outboundPSTNCallsDelayEnabled": false}, 204)
	hc := partner.do("GET", "/v1/telephony/config/locations/"+hqID+"/callRecording/complianceAnnouncement"+q, nil, 200)
	bc := partner.do("GET", "/v1/telephony/config/locations/"+branchID+"/callRecording/complianceAnnouncement"+q, nil, 200)
	if str(hc, "useOrgSettingsEnabled") != "false" || str(hc, "inboundPSTNCallsEnabled") != "false" || str(bc, "useOrgSettingsEnabled") != "true" || str(bc, "inboundPSTNCallsEnabled") != "true" {
		t.Fatalf("R17 location compliance: HQ %v, Branch %v", hc, bc)
	}

	// Users enabled in each mode (R25); refused for a workspace licence (R1).
	enable(alice, "Always", 204)
	enable(carol, "On Demand with User Initiated Start", 204)
	enable(bob, "Always with Pause/Resume", 204)
	mustContain(t, "R1", errorText(t, enable(lobby, "Always", 400)), "licen")
	for id, want := range map[string]string{alice: "Always", carol: "On Demand with User Initiated Start", bob: "Always with Pause/Resume"} {
		if p := partner.do("GET", "/v1/people/"+id+"/features/callRecording"+q, nil, 200); str(p, "enabled") != "true" || str(p, "record") != want {
			t.Fatalf("person %s settings: %v", id, p)
		}
	}
	eff := func(path string) map[string]any { return partner.do("GET", path+q, nil, 200) }
	ea := eff("/v1/people/" + alice + "/features/callRecording/effective")
	if str(ea, "recording") != "true" || str(ea, "vendorId") != builtin || str(ea, "language") != "da_DK" ||
		str(ea, "compliance", "inboundPSTNCallsEnabled") != "false" || str(ea, "compliance", "outboundPSTNCallsEnabled") != "true" || str(ea, "plan") != "go" {
		t.Fatalf("alice effective: %v", ea)
	}
	eb := eff("/v1/people/" + bob + "/features/callRecording/effective")
	if str(eb, "recording") != "true" || str(eb, "vendorId") != usID || str(eb, "vendorInherited") != "false" || str(eb, "providerTarget") != "sip:srs@liberty.example" {
		t.Fatalf("bob effective (R16): %v", eb)
	}
	ec := eff("/v1/people/" + carol + "/features/callRecording/effective")
	if str(ec, "controls", "stop") != "true" || str(ec, "controls", "pause") != "true" || str(ec, "controls", "resume") != "true" {
		t.Fatalf("carol effective (R35 on demand): %v", ec)
	}

	// A virtual line with its own language (R21, R31).
	vl := partner.do("POST", "/v1/telephony/config/virtualLines"+q, map[string]any{"firstName": "Support", "lastName": "Line", "extension": "1500",
		"locationId": hqID, "announcementLanguage": "de_DE", "assignedPeople": []string{alice}}, 200)
	vlID := str(vl, "id")
	partner.do("PUT", "/v1/telephony/config/virtualLines/"+vlID+"/callRecording"+q, map[string]any{"enabled": true, "record": "Always"}, 204)
	if v := partner.do("GET", "/v1/telephony/config/virtualLines/"+vlID+"/callRecording"+q, nil, 200); str(v, "enabled") != "true" || str(v, "record") != "Always" {
		t.Fatalf("R31 virtual line: %v", v)
	}
	if ev := eff("/v1/telephony/config/virtualLines/" + vlID + "/callRecording/effective"); str(ev, "recording") != "true" || str(ev, "language") != "de_DE" {
		t.Fatalf("virtual line effective (R21): %v", ev)
	}

	// Plans (R7, R8, R9): alice was provisioned on go; upgrade, downgrade.
	acct := partner.do("GET", "/v1/telephony/config/callRecording/providerAccount"+q, nil, 200)
	if !strings.Contains(toJSON(acct), `"plan":"go"`) {
		t.Fatalf("R7 provisioning: %v", acct)
	}
	up := partner.do("PUT", "/v1/telephony/config/callRecording/providerAccount/members/"+alice+q, map[string]any{"plan": "team"}, 200)
	if str(up, "previousPlan") != "go" || str(up, "plan") != "team" {
		t.Fatalf("R8 upgrade: %v", up)
	}
	if e := eff("/v1/people/" + alice + "/features/callRecording/effective"); str(e, "plan") != "team" {
		t.Fatalf("R9 plan after upgrade: %v", e)
	}
	down := partner.do("PUT", "/v1/telephony/config/callRecording/providerAccount/members/"+alice+q, map[string]any{"plan": "go"}, 200)
	if str(down, "previousPlan") != "team" || str(down, "plan") != "go" {
		t.Fatalf("R8 downgrade: %v", down)
	}

	// Roles: a read-only admin reads but may not change; a user sees only
	// their own settings; tokens come from the API and from the CLI.
	ro := partner.do("POST", "/v1/tokens"+q, map[string]any{"name": "auditor", "role": "readOnlyAdmin", "email": "ro@acme.example"}, 200)
	roCaller := caller{t, srv, str(ro, "token"), "read-only admin"}
	roCaller.do("GET", "/v1/people/"+alice+"/features/callRecording", nil, 200)
	roCaller.do("PUT", "/v1/people/"+alice+"/features/callRecording", map[string]any{"record": "Never"}, 403)
	ut := partner.do("POST", "/v1/tokens"+q, map[string]any{"name": "alice", "role": "user", "personId": alice, "email": "alice@acme.example"}, 200)
	user := caller{t, srv, str(ut, "token"), "alice"}
	if me := user.do("GET", "/v1/telephony/config/people/me/settings/callRecording", nil, 200); str(me, "recordingMode") != "Always" || str(me, "enabled") != "true" {
		t.Fatalf("me view: %v", me)
	}
	user.do("GET", "/v1/people/"+carol+"/features/callRecording", nil, 403)
	// Another org's admin sees nothing of Acme's (404, not 403).
	other := partner.do("POST", "/v1/organizations", map[string]any{"displayName": "Other Ltd"}, 200)
	ot := partner.do("POST", "/v1/tokens?orgId="+url.QueryEscape(str(other, "id")), map[string]any{"name": "other admin", "role": "fullAdmin", "email": "admin@other.example"}, 200)
	otherAdmin := caller{t, srv, str(ot, "token"), "other org admin"}
	otherAdmin.do("GET", "/v1/people/"+alice+"/features/callRecording", nil, 404)
	otherAdmin.do("GET", "/v1/locations"+q, nil, 404)
	out, err := runCmd(t, 30*time.Second, "", binary, "token", "create", "--data-dir", srv.dataDir, "--role", "complianceOfficer", "--org", "Acme A/S", "--email", "co@acme.example")
	if err != nil {
		t.Fatalf("callrec token create: %v\n%s", err, out)
	}
	officer := caller{t, srv, strings.TrimSpace(lastLine(out)), "compliance officer"}
	officer.do("GET", "/v1/admin/convergedRecordings", nil, 200)

	// R15: disabling recording for the org needs the confirmation flag.
	noFlag := partner.do("PUT", "/v1/telephony/config/callRecording/vendor"+q, map[string]any{"vendorId": "none"}, 400)
	mustContain(t, "R15", errorText(t, noFlag), "disableForAllUsersConfirmed")
	partner.do("PUT", "/v1/telephony/config/callRecording/vendor"+q, map[string]any{"vendorId": "none", "disableForAllUsersConfirmed": true}, 200)
	if p := partner.do("GET", "/v1/people/"+alice+"/features/callRecording"+q, nil, 200); str(p, "enabled") != "false" || str(p, "record") != "Never" {
		t.Fatalf("R15/R24 after disabling: %v", p)
	}
	if e := eff("/v1/people/" + alice + "/features/callRecording/effective"); str(e, "recording") != "false" {
		t.Fatalf("R15 effective: %v", e)
	}

	// Audit (point 8): the changes are there with before and after.
	audit := officer.do("GET", "/v1/auditEvents?objectId="+url.QueryEscape(alice)+"&max=100", nil, 200)
	text := toJSON(audit)
	mustContain(t, "audit of alice", text, "personCallRecording", `"actorEmail"`, `"before"`, `"after"`)
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
