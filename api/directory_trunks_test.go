package api

import (
	"reflect"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

const trunksPath = "/v1/telephony/config/premisePstn/trunks"

func TestTrunkLifecycle(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("Trunks")
	l := e.location(o.ID, "HQ")
	var tr trunkJSON
	e.ok(200, &tr, "POST", trunksPath+"?orgId="+o.ID, dirRoot, `{"name": "PSTN 1", "locationId": "`+l.ID+`", "address": "SBC.Carrier.example",
		"numbers": ["+45 70 10 20 30", "+4570102031"]}`)
	id := mustID(t, idTrunk, tr.ID)
	want := trunkJSON{ID: tr.ID, OrgID: o.ID, Name: "PSTN 1", LocationID: l.ID, Address: "sbc.carrier.example", Port: 5060, Transport: "UDP",
		Numbers: []string{"+4570102030", "+4570102031"}, Created: "2026-03-10T12:00:00.000Z"}
	if !reflect.DeepEqual(tr, want) {
		t.Errorf("POST = %+v\n want %+v", tr, want)
	}
	if st := load(e, directory.Trunks, orgID, id); st.Transport != "udp" {
		t.Errorf("stored transport %q, want udp (domain spelling)", st.Transport)
	}
	var upd trunkJSON
	e.ok(200, &upd, "PUT", trunksPath+"/"+tr.ID+"?orgId="+o.ID, dirRoot, `{"address": "[2001:db8::10]", "port": 5080, "transport": "tcp", "numbers": []}`)
	want.Address, want.Port, want.Transport, want.Numbers = "2001:db8::10", 5080, "TCP", []string{}
	if !reflect.DeepEqual(upd, want) {
		t.Errorf("PUT = %+v\n want %+v", upd, want)
	}
	var list struct {
		Trunks []trunkJSON `json:"trunks"`
	}
	e.ok(200, &list, "GET", trunksPath+"?orgId="+o.ID, dirRoot, "")
	if len(list.Trunks) != 1 || !reflect.DeepEqual(list.Trunks[0], want) {
		t.Errorf("list = %+v", list.Trunks)
	}
	e.ok(204, nil, "DELETE", trunksPath+"/"+tr.ID+"?orgId="+o.ID, dirRoot, "")
	wantDirError(t, e.do("GET", trunksPath+"/"+tr.ID+"?orgId="+o.ID, dirRoot, ""), 404, "Trunk "+quote(tr.ID)+" was not found")
	e.wantAudit("trunk", id, orgID, "root-admin@partner.example", "delete", "update", "create")
}

func TestTrunkValidation(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("TrunkVal")
	l := e.location(o.ID, "HQ")
	e.ok(200, nil, "POST", trunksPath+"?orgId="+o.ID, dirRoot, `{"name": "Taken", "locationId": "`+l.ID+`", "address": "10.0.0.1", "numbers": ["+4580000000"]}`)
	loc := `"locationId": "` + l.ID + `"`
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"name", `{` + loc + `, "address": "a.example"}`, 400, "name: required"},
		{"location", `{"name": "T", "address": "a.example"}`, 400, "locationId: required"},
		{"address missing", `{"name": "T", ` + loc + `}`, 400, "address: required"},
		{"address with port", `{"name": "T", ` + loc + `, "address": "a.example:5060"}`, 400, `address: "a.example:5060" is not an IP address or host name (give the port in port)`},
		{"address mistyped IP", `{"name": "T", ` + loc + `, "address": "10.0.0.300"}`, 400, `address: "10.0.0.300" is not an IP address or host name (give the port in port)`},
		{"address zone", `{"name": "T", ` + loc + `, "address": "fe80::1%eth0"}`, 400, `address: "fe80::1%eth0" must not carry an IPv6 zone`},
		{"port", `{"name": "T", ` + loc + `, "address": "a.example", "port": 70000}`, 400, "port: 70000 is out of range; allowed: 1..65535"},
		{"transport", `{"name": "T", ` + loc + `, "address": "a.example", "transport": "TLS"}`, 400, `transport: "TLS" is not one of UDP, TCP`},
		{"number", `{"name": "T", ` + loc + `, "address": "a.example", "numbers": ["5551234"]}`, 400, `numbers[0]: "5551234" is not an E.164 number such as +4512345678`},
		{"number twice", `{"name": "T", ` + loc + `, "address": "a.example", "numbers": ["+4580000001", "+45 8000 0001"]}`, 400, `numbers[1]: "+45 8000 0001" is listed twice`},
		{"name taken", `{"name": "TAKEN", ` + loc + `, "address": "a.example"}`, 409, "name TAKEN is already used in this organization"},
		{"number on another trunk", `{"name": "T", ` + loc + `, "address": "a.example", "numbers": ["+4580000000"]}`, 409, `numbers[0] +4580000000 is already routed through trunk "Taken"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDirError(t, e.do("POST", trunksPath+"?orgId="+o.ID, dirRoot, tc.body), tc.status, tc.msg)
		})
	}
	w := e.do("PUT", trunksPath+"/junk?orgId="+o.ID, dirRoot, `{"port": 0}`)
	wantDirError(t, w, 404, `Trunk "junk" was not found`)
}

func TestTrunkRolesAndIsolation(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("TrunkRoles")
	_, otherID := e.org("TrunkOther")
	l := e.location(o.ID, "HQ")
	var tr trunkJSON
	e.ok(200, &tr, "POST", trunksPath+"?orgId="+o.ID, dirRoot, `{"name": "T", "locationId": "`+l.ID+`", "address": "a.example"}`)
	ro := e.token(callrec.RoleReadOnlyAdmin, orgID)
	e.ok(200, nil, "GET", trunksPath+"/"+tr.ID, ro, "")
	wantDirError(t, e.do("DELETE", trunksPath+"/"+tr.ID, ro, ""), 403, "The readOnlyAdmin role may not change the organization's configuration")
	other := e.token(callrec.RoleFullAdmin, otherID)
	wantDirError(t, e.do("DELETE", trunksPath+"/"+tr.ID, other, ""), 404, "Trunk "+quote(tr.ID)+" was not found")
}
