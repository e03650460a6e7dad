package api

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

func TestPersonLifecycle(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("People Inc")
	l := e.location(o.ID, "HQ")
	var p personJSON
	e.ok(200, &p, "POST", "/v1/people?orgId="+o.ID, dirRoot, `{"emails": ["Ann.Berg@people.example"], "firstName": "Ann", "lastName": "Berg",
		"locationId": "`+l.ID+`", "extension": "1001", "phoneNumbers": [{"type": "work", "value": "+45 12 34 56 78"}],
		"sipCredentials": {"username": "ann-desk", "password": "s3cret-pass"}}`)
	id := mustID(t, idPerson, p.ID)
	want := personJSON{ID: p.ID, Emails: []string{"Ann.Berg@people.example"}, PhoneNumbers: []phoneNumberJSON{{"work", "+4512345678"}},
		Extension: "1001", LocationID: l.ID, DisplayName: "Ann Berg", FirstName: "Ann", LastName: "Berg", OrgID: o.ID,
		LicenseType: callrec.LicenseProfessional, AnnouncementLanguage: "da_DK", SIPCredentials: &sipCredentialsJSON{"ann-desk", "callrec"},
		Created: "2026-03-10T12:00:00.000Z"}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("POST = %+v\n want %+v", p, want)
	}
	// The password is kept only as HA1 = H(user:realm:password), MD5 and SHA-256.
	stored := load(e, directory.People, orgID, id)
	md := md5.Sum([]byte("ann-desk:callrec:s3cret-pass"))
	sh := sha256.Sum256([]byte("ann-desk:callrec:s3cret-pass"))
	if stored.SIP == nil || stored.SIP.HA1MD5 != hex.EncodeToString(md[:]) || stored.SIP.HA1SHA256 != hex.EncodeToString(sh[:]) || stored.SIP.Realm != "callrec" {
		t.Errorf("stored SIP = %+v", stored.SIP)
	}
	if stored.Recording != callrec.DefaultUserRecording() {
		t.Errorf("new person's recording = %+v, want DefaultUserRecording", stored.Recording)
	}
	raw := e.ok(200, nil, "GET", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, "").Body.String()
	if strings.Contains(raw, "password") || strings.Contains(raw, "s3cret") || strings.Contains(raw, stored.SIP.HA1MD5) {
		t.Errorf("GET leaks the credential: %s", raw)
	}
	var got personJSON
	if err := json.Unmarshal([]byte(raw), &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("GET = %+v (%v)\n want %+v", got, err, want)
	}

	// Recording settings belong to another API: a PUT keeps them.
	mutate(e, directory.People, orgID, id, func(p *callrec.Person) { p.Recording.Mode = callrec.ModeAlways })
	var upd personJSON
	e.ok(200, &upd, "PUT", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, `{"displayName": "Ann B.", "phoneNumbers": [], "licenseType": "BASIC_USER",
		"sipCredentials": {"username": "ann-desk"}}`)
	want.DisplayName, want.PhoneNumbers, want.LicenseType = "Ann B.", []phoneNumberJSON{}, callrec.LicenseBasic
	if !reflect.DeepEqual(upd, want) {
		t.Errorf("PUT = %+v\n want %+v", upd, want)
	}
	after := load(e, directory.People, orgID, id)
	if after.Recording.Mode != callrec.ModeAlways || after.SIP.HA1MD5 != stored.SIP.HA1MD5 {
		t.Errorf("PUT changed recording %+v or credentials %+v", after.Recording, after.SIP)
	}
	// The number is free again.
	e.person(o.ID, l.ID, "other@people.example", `"phoneNumbers": [{"value": "+4512345678"}]`)

	e.ok(204, nil, "DELETE", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, "")
	wantDirError(t, e.do("GET", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, ""), 404, fmt.Sprintf("Person %s was not found", quote(p.ID)))
	audit := e.wantAudit("person", id, orgID, "root-admin@partner.example", "delete", "update", "create")
	for _, a := range audit {
		for _, doc := range [][]byte{a.Before, a.After} {
			if strings.Contains(string(doc), stored.SIP.HA1MD5) || strings.Contains(string(doc), stored.SIP.HA1SHA256) {
				t.Errorf("audit %s keeps the HA1: %s", a.Action, doc)
			}
		}
	}
}

func TestPersonValidation(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("Valid People")
	l := e.location(o.ID, "HQ")
	e.person(o.ID, l.ID, "taken@valid.example", `"extension": "2000", "phoneNumbers": [{"value": "+4511111111"}], "sipCredentials": {"username": "taken-user", "password": "password1"}`)
	loc := `"locationId": "` + l.ID + `"`
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"emails missing", `{` + loc + `}`, 400, "emails: at least one email address is required"},
		{"emails empty", `{"emails": [], ` + loc + `}`, 400, "emails: at least one email address is required"},
		{"email invalid", `{"emails": ["not-an-email"], ` + loc + `}`, 400, `emails[0]: "not-an-email" is not a valid email address`},
		{"email with name", `{"emails": ["Ann <ann@x.example>"], ` + loc + `}`, 400, `emails[0]: "Ann <ann@x.example>" is not a valid email address`},
		{"email twice", `{"emails": ["a@x.example", "A@X.example"], ` + loc + `}`, 400, `emails[1]: "A@X.example" is listed twice`},
		{"location missing", `{"emails": ["a@x.example"]}`, 400, "locationId: required"},
		{"location unknown", `{"emails": ["a@x.example"], "locationId": "nope"}`, 400, `locationId: location "nope" was not found`},
		{"licence", `{"emails": ["a@x.example"], ` + loc + `, "licenseType": "GOLD"}`, 400, `licenseType: "GOLD" is not one of PROFESSIONAL_USER, BASIC_USER, WORKSPACE, PROFESSIONAL_WORKSPACE, VIRTUAL_PROFILE, COMMON_AREA`},
		{"extension letters", `{"emails": ["a@x.example"], ` + loc + `, "extension": "12a"}`, 400, `extension: "12a" must be 2 to 10 digits`},
		{"number not E.164", `{"emails": ["a@x.example"], ` + loc + `, "phoneNumbers": [{"value": "12345678"}]}`, 400, `phoneNumbers[0].value: "12345678" is not an E.164 number such as +4512345678`},
		{"number type", `{"emails": ["a@x.example"], ` + loc + `, "phoneNumbers": [{"type": "mobile", "value": "+4512345678"}]}`, 400, `phoneNumbers[0].type: "mobile" is not one of work`},
		{"sip without password", `{"emails": ["a@x.example"], ` + loc + `, "sipCredentials": {"username": "new-user"}}`, 400, "sipCredentials.password: required when the username is set or changed"},
		{"sip short password", `{"emails": ["a@x.example"], ` + loc + `, "sipCredentials": {"username": "new-user", "password": "short"}}`, 400, "sipCredentials.password: must be 8 to 128 characters of valid UTF-8"},
		{"sip user chars", `{"emails": ["a@x.example"], ` + loc + `, "sipCredentials": {"username": "a b", "password": "password1"}}`, 400, `sipCredentials.username: "a b" may hold only letters, digits and -_.!~*'()&=+$,;?/`},
		{"emails wrong type", `{"emails": "a@x.example", ` + loc + `}`, 400, "Field emails must be an array of strings, not string"},
		{"email taken", `{"emails": ["TAKEN@valid.example"], ` + loc + `}`, 409, "emails[0] TAKEN@valid.example is already used"},
		{"extension taken", `{"emails": ["a@x.example"], ` + loc + `, "extension": "2000"}`, 409, "extension 2000 is already used in this organization"},
		{"number taken", `{"emails": ["a@x.example"], ` + loc + `, "phoneNumbers": [{"value": "+45-1111-1111"}]}`, 409, "phoneNumbers[0].value +4511111111 is already used in this organization"},
		{"sip user taken", `{"emails": ["a@x.example"], ` + loc + `, "sipCredentials": {"username": "taken-user", "password": "password1"}}`, 409, "sipCredentials.username taken-user is already used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDirError(t, e.do("POST", "/v1/people?orgId="+o.ID, dirRoot, tc.body), tc.status, tc.msg)
		})
	}
}

func TestPersonUniqueness(t *testing.T) {
	e := newDirEnv(t)
	a, _ := e.org("A")
	b, _ := e.org("B")
	la, lb := e.location(a.ID, "A1"), e.location(b.ID, "B1")
	e.person(a.ID, la.ID, "ann@shared.example", `"extension": "1001", "phoneNumbers": [{"value": "+4520000001"}]`)
	t.Run("email unique across orgs", func(t *testing.T) {
		wantDirError(t, e.do("POST", "/v1/people?orgId="+b.ID, dirRoot, `{"emails": ["ann@shared.example"], "locationId": "`+lb.ID+`"}`),
			409, "emails[0] ann@shared.example is already used")
	})
	t.Run("extension and number per org", func(t *testing.T) {
		e.person(b.ID, lb.ID, "bob@b.example", `"extension": "1001", "phoneNumbers": [{"value": "+4520000001"}]`)
	})
	t.Run("numbers shared with virtual lines", func(t *testing.T) {
		wantDirError(t, e.do("POST", "/v1/telephony/config/virtualLines?orgId="+a.ID, dirRoot,
			`{"firstName": "V", "lastName": "L", "locationId": "`+la.ID+`", "extension": "1001"}`), 409, "extension 1001 is already used in this organization")
	})
	t.Run("PUT into a taken extension", func(t *testing.T) {
		p := e.person(a.ID, la.ID, "carl@a.example", `"extension": "1002"`)
		wantDirError(t, e.do("PUT", "/v1/people/"+p.ID+"?orgId="+a.ID, dirRoot, `{"extension": "1001"}`), 409, "extension 1001 is already used in this organization")
		// Its own keys are not a conflict.
		e.ok(200, nil, "PUT", "/v1/people/"+p.ID+"?orgId="+a.ID, dirRoot, `{"extension": "1002", "emails": ["carl@a.example"]}`)
	})
}

func TestPersonListFilters(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("Filters")
	l1, l2 := e.location(o.ID, "One"), e.location(o.ID, "Two")
	ann := e.person(o.ID, l1.ID, "ann@f.example", `"displayName": "Ann Anders"`)
	bob := e.person(o.ID, l2.ID, "bob@f.example", `"displayName": "Bob Berg"`)
	anna := e.person(o.ID, l2.ID, "anna@f.example", `"displayName": "anna Svensson"`)
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"all", "", []string{ann.ID, bob.ID, anna.ID}},
		{"email", "&email=BOB@f.example", []string{bob.ID}},
		{"display name prefix", "&displayName=ann", []string{ann.ID, anna.ID}},
		{"ids", "&id=" + anna.ID + "," + ann.ID, []string{ann.ID, anna.ID}},
		{"location", "&locationId=" + l2.ID, []string{bob.ID, anna.ID}},
		{"location and name", "&locationId=" + l2.ID + "&displayName=b", []string{bob.ID}},
		{"unknown location", "&locationId=junk", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages := e.pages("/v1/people?orgId="+o.ID+tc.query, dirRoot, "items")
			if fmt.Sprint(pages[0]) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", pages[0], tc.want)
			}
		})
	}
	pages := e.pages("/v1/people?orgId="+o.ID+"&max=1&displayName=ann", dirRoot, "items")
	if fmt.Sprint(pages) != fmt.Sprint([][]string{{ann.ID}, {anna.ID}}) {
		t.Errorf("filtered pages = %v (the next link must keep the filter)", pages)
	}
}

func TestPersonLocationAdmin(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("LocAdmin")
	own, other := e.location(o.ID, "Own"), e.location(o.ID, "Other")
	theirs := e.person(o.ID, other.ID, "theirs@l.example", "")
	la := e.token(callrec.RoleLocationAdmin, orgID, func(t *callrec.Token) { t.LocationIDs = []string{mustID(e.t, idLocation, own.ID)} })
	const refused = "A location administrator may change only its own locations"

	var mine personJSON
	e.ok(200, &mine, "POST", "/v1/people", la, `{"emails": ["mine@l.example"], "locationId": "`+own.ID+`"}`)
	wantDirError(t, e.do("POST", "/v1/people", la, `{"emails": ["x@l.example"], "locationId": "`+other.ID+`"}`), 403, refused)
	e.ok(200, nil, "PUT", "/v1/people/"+mine.ID, la, `{"firstName": "Mine"}`)
	wantDirError(t, e.do("PUT", "/v1/people/"+mine.ID, la, `{"locationId": "`+other.ID+`"}`), 403, refused)
	wantDirError(t, e.do("PUT", "/v1/people/"+theirs.ID, la, `{"firstName": "x"}`), 403, refused)
	wantDirError(t, e.do("DELETE", "/v1/people/"+theirs.ID, la, ""), 403, refused)
	e.ok(200, nil, "GET", "/v1/people/"+theirs.ID, la, "")
	e.ok(204, nil, "DELETE", "/v1/people/"+mine.ID, la, "")
	e.wantAudit("person", mustID(t, idPerson, mine.ID), orgID, "locationAdmin@org.example", "delete", "update", "create")
}

func TestPersonDeleteRevokesTokensAndMemberships(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("Leaver")
	l := e.location(o.ID, "HQ")
	leaver := e.person(o.ID, l.ID, "leaver@l.example", "")
	stayer := e.person(o.ID, l.ID, "stayer@l.example", "")
	leaverID := mustID(t, idPerson, leaver.ID)
	userTok := e.token(callrec.RoleUser, orgID, func(t *callrec.Token) { t.PersonID = leaverID })
	e.ok(200, nil, "GET", "/v1/organizations/"+o.ID, userTok, "")

	var line virtualLineJSON
	e.ok(200, &line, "POST", "/v1/telephony/config/virtualLines?orgId="+o.ID, dirRoot, `{"firstName": "Sales", "lastName": "Line", "extension": "3000",
		"locationId": "`+l.ID+`", "assignedPeople": ["`+leaver.ID+`", "`+stayer.ID+`"], "listeners": ["`+leaver.ID+`"]}`)
	var q callQueueJSON
	e.ok(200, &q, "POST", "/v1/telephony/config/locations/"+l.ID+"/queues?orgId="+o.ID, dirRoot, `{"name": "Q", "extension": "3001", "agents": [{"id": "`+leaver.ID+`"}, {"id": "`+stayer.ID+`"}]}`)

	e.ok(204, nil, "DELETE", "/v1/people/"+leaver.ID+"?orgId="+o.ID, dirRoot, "")
	if w := e.do("GET", "/v1/organizations/"+o.ID, userTok, ""); w.Code != 401 {
		t.Errorf("the deleted person's token answers %d, want 401", w.Code)
	}
	e.ok(200, &line, "GET", "/v1/telephony/config/virtualLines/"+line.ID+"?orgId="+o.ID, dirRoot, "")
	if fmt.Sprint(line.AssignedPeople) != fmt.Sprint([]string{stayer.ID}) || len(line.Listeners) != 0 {
		t.Errorf("virtual line after delete: assigned %v listeners %v", line.AssignedPeople, line.Listeners)
	}
	e.ok(200, &q, "GET", "/v1/telephony/config/locations/"+l.ID+"/queues/"+q.ID+"?orgId="+o.ID, dirRoot, "")
	if len(q.Agents) != 1 || q.Agents[0].ID != stayer.ID {
		t.Errorf("queue agents after delete: %+v", q.Agents)
	}
	e.wantAudit("virtualLine", mustID(t, idVirtualLine, line.ID), orgID, "root-admin@partner.example", "update", "create")
	e.wantAudit(callrec.FeatureCallQueue, mustID(t, idCallQueue, q.ID), orgID, "root-admin@partner.example", "update", "create")
}

// TestR1_LicenceChangeOfRecordedPersonRefused: a person recording is
// enabled for cannot move to a licence that cannot record (R1).
func TestR1_LicenceChangeOfRecordedPersonRefused(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("R1")
	l := e.location(o.ID, "HQ")
	p := e.person(o.ID, l.ID, "rec@r1.example", "")
	mutate(e, directory.People, orgID, mustID(t, idPerson, p.ID), func(p *callrec.Person) { p.Recording.Enabled = true; p.Recording.Mode = callrec.ModeAlways })
	w := e.do("PUT", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, `{"licenseType": "WORKSPACE"}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "(R1)") || !strings.Contains(w.Body.String(), "licenseType: recording is enabled for this person") {
		t.Errorf("licence change = %d %s, want 400 citing R1", w.Code, w.Body.String())
	}
	if lic := load(e, directory.People, orgID, mustID(t, idPerson, p.ID)).License; lic != callrec.LicenseProfessional {
		t.Errorf("licence stored %q", lic)
	}
	// Basic can record: allowed.
	e.ok(200, nil, "PUT", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, `{"licenseType": "BASIC_USER"}`)
}

// TestR16_MoveOfRecordedPersonToLocationWithoutVendorRefused: moving a
// person who records (built-in provider, terms accepted) to a location
// whose vendor is none would leave it enabled without a provider (R14,
// R16). The org's entitlement (R2) plays no part in a directory change.
func TestR16_MoveOfRecordedPersonToLocationWithoutVendorRefused(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("R16")
	l1, l2 := e.location(o.ID, "Recorded"), e.location(o.ID, "Unrecorded")
	mutate(e, directory.Locations, orgID, mustID(t, idLocation, l2.ID), func(l *callrec.Location) { l.Recording.VendorID = callrec.VendorNone })
	e.builtInAccepted(orgID)
	p := e.person(o.ID, l1.ID, "mover@r16.example", "")
	mutate(e, directory.People, orgID, mustID(t, idPerson, p.ID), func(p *callrec.Person) { p.Recording.Enabled = true; p.Recording.Mode = callrec.ModeAlways })
	w := e.do("PUT", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, `{"locationId": "`+l2.ID+`"}`)
	if w.Code != 409 || !strings.Contains(w.Body.String(), "R16") {
		t.Errorf("move = %d %s, want 409 citing R16", w.Code, w.Body.String())
	}
	// Not enabled: it moves.
	mutate(e, directory.People, orgID, mustID(t, idPerson, p.ID), func(p *callrec.Person) { p.Recording = callrec.DefaultUserRecording() })
	e.ok(200, nil, "PUT", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, `{"locationId": "`+l2.ID+`"}`)
}

func TestPersonSIPCredentialChanges(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("SIP")
	l := e.location(o.ID, "HQ")
	p := e.person(o.ID, l.ID, "sip@sip.example", `"sipCredentials": {"username": "desk-1", "password": "first-pass"}`)
	id := mustID(t, idPerson, p.ID)
	first := load(e, directory.People, orgID, id).SIP.HA1SHA256

	e.ok(200, nil, "PUT", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, `{"sipCredentials": {"username": "desk-1", "password": "second-pass"}}`)
	if second := load(e, directory.People, orgID, id).SIP.HA1SHA256; second == first {
		t.Error("new password did not change the HA1")
	}
	var out personJSON
	e.ok(200, &out, "PUT", "/v1/people/"+p.ID+"?orgId="+o.ID, dirRoot, `{"sipCredentials": {"username": "", "password": ""}}`)
	if out.SIPCredentials != nil || load(e, directory.People, orgID, id).SIP != nil {
		t.Errorf("credentials not removed: %+v", out.SIPCredentials)
	}
	// The user name is free again.
	e.person(o.ID, l.ID, "other@sip.example", `"sipCredentials": {"username": "desk-1", "password": "third-pass"}`)
}

func TestPersonOrgIsolation(t *testing.T) {
	e := newDirEnv(t)
	a, _ := e.org("PA")
	b, bID := e.org("PB")
	la := e.location(a.ID, "A1")
	lb := e.location(b.ID, "B1")
	p := e.person(a.ID, la.ID, "a@pa.example", "")
	adminB := e.token(callrec.RoleFullAdmin, bID)
	notFound := "Person " + quote(p.ID) + " was not found"
	for _, tc := range []struct{ method, body string }{{"GET", ""}, {"PUT", `{"firstName": "X"}`}, {"DELETE", ""}} {
		t.Run(tc.method, func(t *testing.T) {
			wantDirError(t, e.do(tc.method, "/v1/people/"+p.ID, adminB, tc.body), 404, notFound)
			wantDirError(t, e.do(tc.method, "/v1/people/"+p.ID+"?orgId="+a.ID, adminB, tc.body), 404, "Organization "+quote(a.ID)+" was not found")
		})
	}
	// Org A's location is not a location of org B.
	wantDirError(t, e.do("POST", "/v1/people", adminB, `{"emails": ["b@pb.example"], "locationId": "`+la.ID+`"}`), 400, "locationId: location "+quote(la.ID)+" was not found")
	e.ok(200, nil, "POST", "/v1/people", adminB, `{"emails": ["b@pb.example"], "locationId": "`+lb.ID+`"}`)
	if pages := e.pages("/v1/people?email=a@pa.example", adminB, "items"); len(pages[0]) != 0 {
		t.Errorf("org B finds org A's person by email: %v", pages)
	}
}
