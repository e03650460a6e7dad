package api

import (
	"crypto/md5"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

const sourcesPath = "/v1/telephony/config/callRecording/siprecSources"

func TestSiprecSourceLifecycle(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("Sources")
	var src siprecSourceJSON
	e.ok(200, &src, "POST", sourcesPath+"?orgId="+o.ID, dirRoot, `{"name": "Edge SBC", "networks": ["192.0.2.10", "2001:db8:1::/48", "198.51.100.77/24"],
		"sipCredentials": {"username": "sbc-edge", "password": "very-secret"}}`)
	id := mustID(t, idSource, src.ID)
	want := siprecSourceJSON{ID: src.ID, OrgID: o.ID, Name: "Edge SBC", Networks: []string{"192.0.2.10/32", "2001:db8:1::/48", "198.51.100.0/24"},
		SIPCredentials: &sipCredentialsJSON{"sbc-edge", "callrec"}, Created: "2026-03-10T12:00:00.000Z"}
	if !reflect.DeepEqual(src, want) {
		t.Errorf("POST = %+v\n want %+v", src, want)
	}
	stored := load(e, directory.Sources, orgID, id)
	sum := md5.Sum([]byte("sbc-edge:callrec:very-secret"))
	if stored.SIP == nil || stored.SIP.HA1MD5 != hex.EncodeToString(sum[:]) {
		t.Errorf("stored credentials %+v", stored.SIP)
	}
	raw := e.ok(200, nil, "GET", sourcesPath+"/"+src.ID+"?orgId="+o.ID, dirRoot, "").Body.String()
	if strings.Contains(raw, "very-secret") || strings.Contains(raw, stored.SIP.HA1MD5) || strings.Contains(raw, "password") {
		t.Errorf("GET leaks the credential: %s", raw)
	}

	var upd siprecSourceJSON
	e.ok(200, &upd, "PUT", sourcesPath+"/"+src.ID+"?orgId="+o.ID, dirRoot, `{"networks": ["::ffff:203.0.113.5"], "sipCredentials": {"username": "", "password": ""}}`)
	want.Networks, want.SIPCredentials = []string{"203.0.113.5/32"}, nil
	if !reflect.DeepEqual(upd, want) {
		t.Errorf("PUT = %+v\n want %+v", upd, want)
	}
	wantDirError(t, e.do("PUT", sourcesPath+"/"+src.ID+"?orgId="+o.ID, dirRoot, `{"networks": []}`), 400, "networks, sipCredentials: at least one of them is required")

	if pages := e.pages(sourcesPath+"?orgId="+o.ID, dirRoot, "items"); len(pages) != 1 || len(pages[0]) != 1 || pages[0][0] != src.ID {
		t.Errorf("list %v", pages)
	}
	e.ok(204, nil, "DELETE", sourcesPath+"/"+src.ID+"?orgId="+o.ID, dirRoot, "")
	wantDirError(t, e.do("GET", sourcesPath+"/"+src.ID+"?orgId="+o.ID, dirRoot, ""), 404, "SIPREC source "+quote(src.ID)+" was not found")
	audit := e.wantAudit("siprecSource", id, orgID, "root-admin@partner.example", "delete", "update", "create")
	for _, a := range audit {
		if strings.Contains(string(a.Before)+string(a.After), stored.SIP.HA1MD5) {
			t.Errorf("audit %s holds the HA1", a.Action)
		}
	}
}

func TestSiprecSourceValidation(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("SrcVal")
	l := e.location(o.ID, "HQ")
	e.person(o.ID, l.ID, "p@sv.example", `"sipCredentials": {"username": "shared-name", "password": "password1"}`)
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"name", `{"networks": ["10.0.0.0/8"]}`, 400, "name: required"},
		{"nothing to bind by", `{"name": "S"}`, 400, "networks, sipCredentials: at least one of them is required"},
		{"bad network", `{"name": "S", "networks": ["10.0.0.0/33"]}`, 400, `networks[0]: "10.0.0.0/33" is not an IP address or CIDR prefix`},
		{"host name", `{"name": "S", "networks": ["sbc.example"]}`, 400, `networks[0]: "sbc.example" is not an IP address or CIDR prefix`},
		{"zone", `{"name": "S", "networks": ["fe80::1%eth0"]}`, 400, `networks[0]: "fe80::1%eth0" must not carry an IPv6 zone`},
		{"mapped prefix", `{"name": "S", "networks": ["::ffff:0:0/80"]}`, 400, `networks[0]: "::ffff:0:0/80" mixes IPv4-mapped and IPv6 addresses; give the IPv4 prefix`},
		{"overlap in list", `{"name": "S", "networks": ["10.1.0.0/16", "10.1.2.3"]}`, 400, "networks[1]: 10.1.2.3/32 overlaps networks[0] 10.1.0.0/16"},
		{"sip name of a person", `{"name": "S", "sipCredentials": {"username": "shared-name", "password": "password2"}}`, 409, "sipCredentials.username shared-name is already used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDirError(t, e.do("POST", sourcesPath+"?orgId="+o.ID, dirRoot, tc.body), tc.status, tc.msg)
		})
	}
}

// A source address must map to one org: a network overlapping another
// source's, of any org, is refused, whether it contains or is contained.
func TestSiprecSourceNetworksOverlapAcrossOrgs(t *testing.T) {
	e := newDirEnv(t)
	a, _ := e.org("SrcA")
	b, _ := e.org("SrcB")
	e.ok(200, nil, "POST", sourcesPath+"?orgId="+a.ID, dirRoot, `{"name": "A SBC", "networks": ["10.20.0.0/16", "2001:db8::1"]}`)
	for _, tc := range []struct{ name, network, msg string }{
		{"same", "10.20.0.0/16", "networks[0]: 10.20.0.0/16 overlaps a network already bound to another SIPREC source"},
		{"contained", "10.20.30.40", "networks[0]: 10.20.30.40/32 overlaps a network already bound to another SIPREC source"},
		{"containing", "10.0.0.0/8", "networks[0]: 10.0.0.0/8 overlaps a network already bound to another SIPREC source"},
		{"IPv6 containing", "2001:db8::/32", "networks[0]: 2001:db8::/32 overlaps a network already bound to another SIPREC source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDirError(t, e.do("POST", sourcesPath+"?orgId="+b.ID, dirRoot, `{"name": "B SBC", "networks": ["`+tc.network+`"]}`), 409, tc.msg)
			wantDirError(t, e.do("POST", sourcesPath+"?orgId="+a.ID, dirRoot, `{"name": "A second", "networks": ["`+tc.network+`"]}`), 409, tc.msg)
		})
	}
	// Neighbours are fine.
	var src siprecSourceJSON
	e.ok(200, &src, "POST", sourcesPath+"?orgId="+b.ID, dirRoot, `{"name": "B SBC", "networks": ["10.21.0.0/16", "2001:db9::/32"]}`)
	// A PUT may keep its own networks.
	e.ok(200, nil, "PUT", sourcesPath+"/"+src.ID+"?orgId="+b.ID, dirRoot, `{"name": "B SBC 2", "networks": ["10.21.0.0/16"]}`)
}

func TestSiprecSourceRolesAndIsolation(t *testing.T) {
	e := newDirEnv(t)
	o, orgID := e.org("SrcRoles")
	_, otherID := e.org("SrcRolesOther")
	l := e.location(o.ID, "HQ")
	var src siprecSourceJSON
	e.ok(200, &src, "POST", sourcesPath+"?orgId="+o.ID, dirRoot, `{"name": "S", "networks": ["192.0.2.0/24"]}`)
	full := e.token(callrec.RoleFullAdmin, orgID)
	ro := e.token(callrec.RoleReadOnlyAdmin, orgID)
	la := e.token(callrec.RoleLocationAdmin, orgID, func(t *callrec.Token) { t.LocationIDs = []string{mustID(e.t, idLocation, l.ID)} })
	other := e.token(callrec.RoleFullAdmin, otherID)

	e.ok(200, nil, "PUT", sourcesPath+"/"+src.ID, full, `{"name": "S2"}`)
	e.ok(200, nil, "GET", sourcesPath+"/"+src.ID, ro, "")
	e.ok(200, nil, "GET", sourcesPath, la, "")
	wantDirError(t, e.do("PUT", sourcesPath+"/"+src.ID, ro, `{"name": "x"}`), 403, "The readOnlyAdmin role may not change the organization's configuration")
	wantDirError(t, e.do("POST", sourcesPath, la, `{"name": "x", "networks": ["192.0.3.0/24"]}`), 403, "A location administrator may change only its own locations")
	wantDirError(t, e.do("DELETE", sourcesPath+"/"+src.ID, la, ""), 403, "A location administrator may change only its own locations")
	wantDirError(t, e.do("GET", sourcesPath+"/"+src.ID, other, ""), 404, "SIPREC source "+quote(src.ID)+" was not found")
	wantDirError(t, e.do("DELETE", sourcesPath+"/"+src.ID, other, ""), 404, "SIPREC source "+quote(src.ID)+" was not found")
	e.ok(204, nil, "DELETE", sourcesPath+"/"+src.ID, full, "")
}
