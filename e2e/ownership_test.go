package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec/srcclient"
)

// TestRecordingOwnershipAndRoles shows issue 4 point 10 through the real
// binary: a SIPREC source bound to an org by network, and one by digest
// credentials, make recordings of that org; each recording belongs to the
// person its recorded party's number matches; the converged-recordings
// endpoints then follow R3 (go: only the user) and R4 (paid: admins too).
func TestRecordingOwnershipAndRoles(t *testing.T) {
	// Only 127.0.0.1 feeds the default org, so other loopback addresses
	// must be bound to an org by a SIPREC source.
	srv := startServer(t, serverOpts{extra: []string{"--siprec-allow", "127.0.0.1/32"}})
	partner := caller{t, srv, srv.token, "partner"}
	org := partner.do("POST", "/v1/organizations", map[string]any{"displayName": "Ownership Ltd"}, 200)
	q := "?orgId=" + url.QueryEscape(str(org, "id"))
	loc := partner.do("POST", "/v1/locations"+q, map[string]any{"name": "HQ", "timeZone": "Europe/Copenhagen"}, 200)
	person := func(first, ext string) string {
		p := partner.do("POST", "/v1/people"+q, map[string]any{"emails": []string{strings.ToLower(first) + "@own.example"}, "firstName": first,
			"lastName": "Test", "locationId": str(loc, "id"), "extension": ext}, 200)
		return str(p, "id")
	}
	alice, bob := person("Alice", "1001"), person("Bob", "1002")
	partner.do("PUT", "/v1/telephony/config/callRecording"+q, map[string]any{"enabled": true}, 204)
	vendors := partner.do("GET", "/v1/telephony/config/callRecording/vendors"+q, nil, 200)
	partner.do("PUT", "/v1/telephony/config/callRecording/vendors/"+str(vendors, "vendorId")+"/termsOfService"+q, map[string]any{"termsOfServiceEnabled": true}, 204)
	for _, id := range []string{alice, bob} {
		partner.do("PUT", "/v1/people/"+id+"/features/callRecording"+q, map[string]any{"enabled": true, "record": "Always"}, 204)
	}
	partner.do("POST", "/v1/telephony/config/callRecording/siprecSources"+q, map[string]any{"name": "SBC by network", "networks": []string{"127.0.0.2/32"}}, 200)
	partner.do("POST", "/v1/telephony/config/callRecording/siprecSources"+q, map[string]any{"name": "PBX by login",
		"sipCredentials": map[string]any{"username": "pbx-own", "password": "s3cret-pbx"}}, 200)

	token := func(role, personID, email string) caller {
		body := map[string]any{"name": role, "role": role, "email": email}
		if personID != "" {
			body["personId"] = personID
		}
		tok := partner.do("POST", "/v1/tokens"+q, body, 200)
		return caller{t, srv, str(tok, "token"), role + " " + email}
	}
	aliceTok := token("user", alice, "alice@own.example")
	bobTok := token("user", bob, "bob@own.example")
	admin := token("fullAdmin", "", "admin@own.example")
	officer := token("complianceOfficer", "", "co@own.example")

	// The call: stream 1 (the recorded party, channel 1) is extension 1001.
	spec := srcclient.CallSpec{Duration: 2 * time.Second, Streams: []srcclient.StreamSpec{
		{Label: "1", Codec: "PCMU", ToneHz: 440, ParticipantAOR: "sip:1001@pbx.own.example"},
		{Label: "2", Codec: "PCMU", ToneHz: 1000, ParticipantAOR: "sip:+4570000000@pstn.example"},
	}}
	client := func(ip, user, pass string) *srcclient.Client {
		c, err := srcclient.New(srcclient.Config{Target: "sip:srs@" + srv.siprec, LocalIP: ip, MediaPorts: [2]int{43000, 43099}, Username: user, Password: pass})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	byNetwork := call(t, client("127.0.0.2", "", ""), spec)
	if byNetwork.Status != 200 {
		t.Fatalf("call from a bound network: %d %s", byNetwork.Status, byNetwork.Reason)
	}
	byLogin := call(t, client("127.0.0.3", "pbx-own", "s3cret-pbx"), spec)
	if byLogin.Status != 200 {
		t.Fatalf("call with digest credentials: %d %s", byLogin.Status, byLogin.Reason)
	}
	if res := call(t, client("127.0.0.4", "pbx-own", "wrong"), spec); res.Status != 403 && res.Status != 401 {
		t.Fatalf("call with a wrong password: %d %s, want 401 or 403", res.Status, res.Reason)
	}

	for name, res := range map[string]*srcclient.Result{"network": byNetwork, "digest": byLogin} {
		rec := srv.recordingByCallID(res.CallID)
		if rec.OwnerType != "user" {
			t.Fatalf("%s: ownerType %q, want user", name, rec.OwnerType)
		}
		// R3: on go, the user sees and downloads their own; nobody else
		// but the compliance officer does.
		d := aliceTok.do("GET", "/v1/convergedRecordings/"+rec.ID, nil, 200)
		if str(d, "ownerId") != alice || str(d, "temporaryDirectDownloadLinks", "audioDownloadLink") == "" {
			t.Fatalf("%s: alice's view: %v", name, d)
		}
		if exp := str(d, "callrec", "expiresAt"); exp == "" {
			t.Fatalf("%s: a go recording has no expiry (R3): %v", name, d)
		}
		if !strings.Contains(toJSON(aliceTok.do("GET", "/v1/convergedRecordings?max=100", nil, 200)), rec.ID) {
			t.Fatalf("%s: alice's own list lacks the recording", name)
		}
		bobTok.do("GET", "/v1/convergedRecordings/"+rec.ID, nil, 404)
		if strings.Contains(toJSON(bobTok.do("GET", "/v1/convergedRecordings?max=100", nil, 200)), rec.ID) {
			t.Fatalf("%s: bob's list shows alice's recording", name)
		}
		admin.do("GET", "/v1/convergedRecordings/"+rec.ID, nil, 404)
		if od := officer.do("GET", "/v1/convergedRecordings/"+rec.ID, nil, 200); str(od, "temporaryDirectDownloadLinks", "audioDownloadLink") == "" {
			t.Fatalf("%s: the compliance officer gets no download link: %v", name, od)
		}
		_, chans := srv.download(recordingJSON{ID: rec.ID, Links: rec.Links})
		if len(chans) != 2 {
			t.Fatalf("%s: %d channels", name, len(chans))
		}
	}

	// R4: on team, org admins see the org's recordings (without download
	// links, Webex §10.5) and the expiry is gone (R9).
	partner.do("PUT", "/v1/telephony/config/callRecording/providerAccount/members/"+alice+q, map[string]any{"plan": "team"}, 200)
	rec := srv.recordingByCallID(byNetwork.CallID)
	ad := admin.do("GET", "/v1/convergedRecordings/"+rec.ID, nil, 200)
	if str(ad, "temporaryDirectDownloadLinks", "audioDownloadLink") != "" {
		t.Fatalf("an org admin got a download link: %v", ad)
	}
	if str(ad, "callrec", "expiresAt") != "" {
		t.Fatalf("a team recording still expires (R9): %v", ad)
	}
	if !strings.Contains(toJSON(admin.do("GET", "/v1/admin/convergedRecordings?max=100", nil, 200)), rec.ID) {
		t.Fatal("the admin list lacks the org's team recording (R4)")
	}

	// X4: alice's download is in the audit log as a listen.
	audit := officer.do("GET", "/v1/auditEvents?objectId="+rec.ID+"&max=200", nil, 200)
	mustContain(t, "audit of the recording", toJSON(audit), `"listen"`, `"download"`)
}
