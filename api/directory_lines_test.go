package api

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

const linesPath = "/v1/telephony/config/virtualLines"

func TestVirtualLineLifecycle(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("Lines")
	l := e.location(o.ID, "HQ")
	ann := e.person(o.ID, l.ID, "ann@lines.example", "")
	bob := e.person(o.ID, l.ID, "bob@lines.example", "")
	var v virtualLineJSON
	e.ok(200, &v, "POST", linesPath+"?orgId="+o.ID, dirRoot, `{"firstName": "Support", "lastName": "Desk", "phoneNumber": "+4533000000",
		"locationId": "`+l.ID+`", "assignedPeople": ["`+ann.ID+`", "`+bob.ID+`"], "listeners": ["`+bob.ID+`"]}`)
	id := mustID(t, idVirtualLine, v.ID)
	want := virtualLineJSON{ID: v.ID, OrgID: o.ID, LocationID: l.ID, FirstName: "Support", LastName: "Desk", DisplayName: "Support Desk",
		PhoneNumber: "+4533000000", AnnouncementLanguage: "da_DK", AssignedPeople: []string{ann.ID, bob.ID}, Listeners: []string{bob.ID},
		Created: "2026-03-10T12:00:00.000Z"}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("POST = %+v\n want %+v", v, want)
	}
	// R31: recording is off on a new virtual line.
	if rec := load(e, directory.VirtualLines, orgID, id).Recording; rec != callrec.DefaultUserRecording() {
		t.Errorf("TestR31: new line's recording = %+v", rec)
	}
	var got virtualLineJSON
	e.ok(200, &got, "GET", linesPath+"/"+v.ID+"?orgId="+o.ID, dirRoot, "")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GET = %+v", got)
	}
	var assigned assignedPeopleJSON
	e.ok(200, &assigned, "GET", linesPath+"/"+v.ID+"/assignedPeople?orgId="+o.ID, dirRoot, "")
	wantAssigned := assignedPeopleJSON{PhoneNumber: "+4533000000", People: []assignedPersonJSON{
		{ID: ann.ID, FirstName: "Ann", LastName: "Berg", DisplayName: "Ann Berg", Email: "ann@lines.example"},
		{ID: bob.ID, FirstName: "Ann", LastName: "Berg", DisplayName: "Ann Berg", Email: "bob@lines.example"}}}
	if !reflect.DeepEqual(assigned, wantAssigned) {
		t.Errorf("assignedPeople = %+v\n want %+v", assigned, wantAssigned)
	}

	var upd virtualLineJSON
	e.ok(200, &upd, "PUT", linesPath+"/"+v.ID+"?orgId="+o.ID, dirRoot, `{"extension": "4000", "phoneNumber": "", "assignedPeople": ["`+bob.ID+`"], "listeners": []}`)
	want.Extension, want.PhoneNumber, want.AssignedPeople, want.Listeners = "4000", "", []string{bob.ID}, []string{}
	if !reflect.DeepEqual(upd, want) {
		t.Errorf("PUT = %+v\n want %+v", upd, want)
	}
	wantDirError(t, e.do("PUT", linesPath+"/"+v.ID+"?orgId="+o.ID, dirRoot, `{"extension": ""}`), 400, "phoneNumber, extension: one of them is required")

	var list struct {
		VirtualLines []virtualLineJSON `json:"virtualLines"`
	}
	e.ok(200, &list, "GET", linesPath+"?orgId="+o.ID+"&locationId="+l.ID, dirRoot, "")
	if len(list.VirtualLines) != 1 || list.VirtualLines[0].ID != v.ID {
		t.Errorf("list = %+v", list.VirtualLines)
	}
	e.ok(204, nil, "DELETE", linesPath+"/"+v.ID+"?orgId="+o.ID, dirRoot, "")
	wantDirError(t, e.do("GET", linesPath+"/"+v.ID+"?orgId="+o.ID, dirRoot, ""), 404, fmt.Sprintf("Virtual line %s was not found", quote(v.ID)))
	e.wantAudit("virtualLine", id, orgID, "root-admin@partner.example", "delete", "update", "create")
}

func TestVirtualLineValidation(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("Line checks")
	other, _ := e.org("Elsewhere")
	l := e.location(o.ID, "HQ")
	stranger := e.person(other.ID, e.location(other.ID, "X").ID, "stranger@else.example", "")
	ann := e.person(o.ID, l.ID, "ann@lc.example", "")
	loc := `"locationId": "` + l.ID + `"`
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"first name", `{"lastName": "L", "extension": "10", ` + loc + `}`, 400, "firstName: required"},
		{"last name", `{"firstName": "F", "extension": "10", ` + loc + `}`, 400, "lastName: required"},
		{"no number", `{"firstName": "F", "lastName": "L", ` + loc + `}`, 400, "phoneNumber, extension: one of them is required"},
		{"location missing", `{"firstName": "F", "lastName": "L", "extension": "10"}`, 400, "locationId: required"},
		{"bad number", `{"firstName": "F", "lastName": "L", "phoneNumber": "+0123", ` + loc + `}`, 400, `phoneNumber: "+0123" is not an E.164 number such as +4512345678`},
		{"person of another org", `{"firstName": "F", "lastName": "L", "extension": "10", ` + loc + `, "assignedPeople": ["` + stranger.ID + `"]}`, 400,
			fmt.Sprintf("assignedPeople[0]: person %s was not found", quote(stranger.ID))},
		{"listener twice", `{"firstName": "F", "lastName": "L", "extension": "10", ` + loc + `, "listeners": ["` + ann.ID + `", "` + ann.ID + `"]}`, 400,
			fmt.Sprintf("listeners[1]: person %s is listed twice", quote(ann.ID))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDirError(t, e.do("POST", linesPath+"?orgId="+o.ID, dirRoot, tc.body), tc.status, tc.msg)
		})
	}
}

func TestVirtualLineIsolationAndRoles(t *testing.T) {
	e := newDirEnv(t)
	a, aID := e.org("VA")
	_, bID := e.org("VB")
	la := e.location(a.ID, "A1")
	la2 := e.location(a.ID, "A2")
	var v virtualLineJSON
	e.ok(200, &v, "POST", linesPath+"?orgId="+a.ID, dirRoot, `{"firstName": "F", "lastName": "L", "extension": "10", "locationId": "`+la.ID+`"}`)
	adminB := e.token(callrec.RoleFullAdmin, bID)
	wantDirError(t, e.do("GET", linesPath+"/"+v.ID, adminB, ""), 404, fmt.Sprintf("Virtual line %s was not found", quote(v.ID)))
	wantDirError(t, e.do("DELETE", linesPath+"/"+v.ID, adminB, ""), 404, fmt.Sprintf("Virtual line %s was not found", quote(v.ID)))
	wantDirError(t, e.do("GET", linesPath+"/"+v.ID+"?orgId="+a.ID, adminB, ""), 404, fmt.Sprintf("Organization %s was not found", quote(a.ID)))

	locAdmin := e.token(callrec.RoleLocationAdmin, aID, func(t *callrec.Token) { t.LocationIDs = []string{mustID(e.t, idLocation, la2.ID)} })
	wantDirError(t, e.do("PUT", linesPath+"/"+v.ID, locAdmin, `{"firstName": "G"}`), 403, "A location administrator may change only its own locations")
	wantDirError(t, e.do("POST", linesPath, locAdmin, `{"firstName": "F", "lastName": "L", "extension": "11", "locationId": "`+la.ID+`"}`), 403,
		"A location administrator may change only its own locations")
	e.ok(200, nil, "POST", linesPath, locAdmin, `{"firstName": "F", "lastName": "L", "extension": "11", "locationId": "`+la2.ID+`"}`)
	e.ok(200, nil, "GET", linesPath+"/"+v.ID, locAdmin, "")
}

// TestR31_MoveOfRecordedVirtualLineToLocationWithoutVendorRefused: a
// virtual line records only where a provider is chosen (R31); moving an
// enabled line to a location whose vendor is none is refused, moving a
// disabled one is not.
func TestR31_MoveOfRecordedVirtualLineToLocationWithoutVendorRefused(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("R31")
	e.builtInAccepted(orgID)
	l1, l2 := e.location(o.ID, "Recorded"), e.location(o.ID, "Unrecorded")
	mutate(e, directory.Locations, orgID, mustID(t, idLocation, l2.ID), func(l *callrec.Location) { l.Recording.VendorID = callrec.VendorNone })
	var v virtualLineJSON
	e.ok(200, &v, "POST", linesPath+"?orgId="+o.ID, dirRoot, `{"firstName": "F", "lastName": "L", "extension": "10", "locationId": "`+l1.ID+`"}`)
	id := mustID(t, idVirtualLine, v.ID)
	mutate(e, directory.VirtualLines, orgID, id, func(v *callrec.VirtualLine) { v.Recording.Enabled = true; v.Recording.Mode = callrec.ModeAlways })
	w := e.do("PUT", linesPath+"/"+v.ID+"?orgId="+o.ID, dirRoot, `{"locationId": "`+l2.ID+`"}`)
	if w.Code != 409 || !strings.Contains(w.Body.String(), "locationId: recording is enabled for this virtual line") || !strings.Contains(w.Body.String(), "(R31)") {
		t.Errorf("move = %d %s, want 409 citing R31", w.Code, w.Body.String())
	}
	mutate(e, directory.VirtualLines, orgID, id, func(v *callrec.VirtualLine) { v.Recording = callrec.DefaultUserRecording() })
	e.ok(200, nil, "PUT", linesPath+"/"+v.ID+"?orgId="+o.ID, dirRoot, `{"locationId": "`+l2.ID+`"}`)
}
