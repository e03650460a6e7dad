package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

func TestFeatureLifecycle(t *testing.T) {
	for _, k := range []featureKind{kindAutoAttendant, kindCallQueue, kindHuntGroup} {
		t.Run(k.segment, func(t *testing.T) {
			e := newDirEnv(t)
			o, orgID := e.org("Features")
			l := e.location(o.ID, "HQ")
			ann := e.person(o.ID, l.ID, "ann@feat.example", `"displayName": "Ann A"`)
			bob := e.person(o.ID, l.ID, "bob@feat.example", `"displayName": "Bob B"`)
			base := "/v1/telephony/config/locations/" + l.ID + "/" + k.segment
			q := "?orgId=" + o.ID
			extra := `"menu": [{"key": "1", "extension": "1001"}, {"key": "#", "extension": "1002"}]`
			if k.agents {
				extra = `"agents": [{"id": "` + bob.ID + `"}, {"id": "` + ann.ID + `"}]`
			}
			var created map[string]any
			e.ok(200, &created, "POST", base+q, dirRoot, `{"name": "Main", "extension": "5000", "languageCode": "en_us", `+extra+`}`)
			id := mustID(t, k.idType, created["id"].(string))
			want := map[string]any{"id": created["id"], "name": "Main", "locationId": l.ID, "extension": "5000", "languageCode": "en_US",
				"created": "2026-03-10T12:00:00.000Z"}
			if k.agents {
				want["agents"] = []any{
					map[string]any{"id": bob.ID, "firstName": "Ann", "lastName": "Berg", "displayName": "Bob B"},
					map[string]any{"id": ann.ID, "firstName": "Ann", "lastName": "Berg", "displayName": "Ann A"}}
			} else {
				want["menu"] = []any{map[string]any{"key": "1", "extension": "1001"}, map[string]any{"key": "#", "extension": "1002"}}
			}
			if !reflect.DeepEqual(created, want) {
				t.Errorf("POST = %v\n want %v", created, want)
			}
			f := load(e, directory.Features, orgID, id)
			if f.Kind != k.kind || f.Language != "en_US" {
				t.Errorf("stored %+v", f)
			}

			var got map[string]any
			e.ok(200, &got, "GET", base+"/"+created["id"].(string)+q, dirRoot, "")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("GET = %v", got)
			}
			var upd map[string]any
			e.ok(200, &upd, "PUT", base+"/"+created["id"].(string)+q, dirRoot, `{"name": "Renamed", "phoneNumber": "+4570000000"}`)
			want["name"], want["phoneNumber"] = "Renamed", "+4570000000"
			if !reflect.DeepEqual(upd, want) {
				t.Errorf("PUT = %v\n want %v", upd, want)
			}
			for _, list := range []string{base + q, "/v1/telephony/config/" + k.segment + q, "/v1/telephony/config/" + k.segment + q + "&locationId=" + l.ID} {
				if pages := e.pages(list, dirRoot, k.segment); fmt.Sprint(pages) != fmt.Sprint([][]string{{created["id"].(string)}}) {
					t.Errorf("%s lists %v", list, pages)
				}
			}
			e.ok(204, nil, "DELETE", base+"/"+created["id"].(string)+q, dirRoot, "")
			wantDirError(t, e.do("GET", base+"/"+created["id"].(string)+q, dirRoot, ""), 404, k.thing+" "+quote(created["id"].(string))+" was not found")
			e.wantAudit(k.kind, id, orgID, "root-admin@partner.example", "delete", "update", "create")
		})
	}
}

func TestFeatureLanguageDefaultsToLocation(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("FeatLang")
	l := e.location(o.ID, "HQ")
	var hg huntGroupJSON
	e.ok(200, &hg, "POST", "/v1/telephony/config/locations/"+l.ID+"/huntGroups?orgId="+o.ID, dirRoot, `{"name": "HG", "extension": "60"}`)
	if hg.LanguageCode != "da_DK" || hg.Agents == nil || len(hg.Agents) != 0 {
		t.Errorf("hunt group = %+v, want the location's da_DK (R21) and an empty agents list", hg)
	}
}

func TestFeatureScopingByKindAndLocation(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("Scoping")
	l1, l2 := e.location(o.ID, "One"), e.location(o.ID, "Two")
	var q callQueueJSON
	e.ok(200, &q, "POST", "/v1/telephony/config/locations/"+l1.ID+"/queues?orgId="+o.ID, dirRoot, `{"name": "Q", "extension": "70"}`)
	// The queue is not a hunt group, and not in location Two.
	wantDirError(t, e.do("GET", "/v1/telephony/config/locations/"+l2.ID+"/queues/"+q.ID+"?orgId="+o.ID, dirRoot, ""), 404, "Call queue "+quote(q.ID)+" was not found")
	wantDirError(t, e.do("GET", "/v1/telephony/config/locations/"+l1.ID+"/huntGroups/"+q.ID+"?orgId="+o.ID, dirRoot, ""), 404, "Hunt group "+quote(q.ID)+" was not found")
	wantDirError(t, e.do("POST", "/v1/telephony/config/locations/junk/queues?orgId="+o.ID, dirRoot, `{"name": "Q2", "extension": "71"}`), 404, `Location "junk" was not found`)
	if pages := e.pages("/v1/telephony/config/huntGroups?orgId="+o.ID, dirRoot, "huntGroups"); len(pages[0]) != 0 {
		t.Errorf("hunt groups list %v", pages)
	}
	if pages := e.pages("/v1/telephony/config/queues?orgId="+o.ID+"&locationId="+l2.ID, dirRoot, "queues"); len(pages[0]) != 0 {
		t.Errorf("queues of Two %v", pages)
	}

	_, bID := e.org("Stranger")
	adminB := e.token(callrec.RoleFullAdmin, bID)
	wantDirError(t, e.do("GET", "/v1/telephony/config/locations/"+l1.ID+"/queues/"+q.ID, adminB, ""), 404, "Location "+quote(l1.ID)+" was not found")
	wantDirError(t, e.do("GET", "/v1/telephony/config/queues?orgId="+o.ID, adminB, ""), 404, "Organization "+quote(o.ID)+" was not found")
}

func TestFeatureValidation(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("FeatVal")
	l := e.location(o.ID, "HQ")
	e.person(o.ID, l.ID, "taken@fv.example", `"extension": "1001"`)
	aa := "/v1/telephony/config/locations/" + l.ID + "/autoAttendants?orgId=" + o.ID
	queues := "/v1/telephony/config/locations/" + l.ID + "/queues?orgId=" + o.ID
	for _, tc := range []struct {
		name, target, body string
		status             int
		msg                string
	}{
		{"name missing", aa, `{"extension": "50"}`, 400, "name: required"},
		{"no number", aa, `{"name": "A"}`, 400, "phoneNumber, extension: one of them is required"},
		{"menu key", aa, `{"name": "A", "extension": "50", "menu": [{"key": "10", "extension": "1001"}]}`, 400, `menu[0].key: "10" must be one of 0-9, * or #`},
		{"menu key twice", aa, `{"name": "A", "extension": "50", "menu": [{"key": "1", "extension": "1001"}, {"key": "1", "extension": "1002"}]}`, 400, `menu[1].key: "1" is listed twice`},
		{"menu extension", aa, `{"name": "A", "extension": "50", "menu": [{"key": "1"}]}`, 400, "menu[0].extension: required"},
		{"language", aa, `{"name": "A", "extension": "50", "languageCode": "x"}`, 400, `languageCode: "x" is not a language code such as en_US`},
		{"agent unknown", queues, `{"name": "Q", "extension": "51", "agents": [{"id": "nobody"}]}`, 400, `agents[0].id: person "nobody" was not found`},
		{"agents wrong type", queues, `{"name": "Q", "extension": "51", "agents": ["x"]}`, 400, "Field agents must be an object, not string"},
		{"extension of a person", queues, `{"name": "Q", "extension": "1001"}`, 409, "extension 1001 is already used in this organization"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDirError(t, e.do("POST", tc.target, dirRoot, tc.body), tc.status, tc.msg)
		})
	}
}

func TestFeaturePagination(t *testing.T) {
	e := newDirEnv(t)
	o, _ := e.org("FeatPages")
	l := e.location(o.ID, "HQ")
	var ids []string
	for i := range 5 {
		var aa autoAttendantJSON
		e.ok(200, &aa, "POST", "/v1/telephony/config/locations/"+l.ID+"/autoAttendants?orgId="+o.ID, dirRoot, fmt.Sprintf(`{"name": "AA %d", "extension": "8%d"}`, i, i))
		ids = append(ids, aa.ID)
	}
	pages := e.pages("/v1/telephony/config/autoAttendants?orgId="+o.ID+"&max=3", dirRoot, "autoAttendants")
	if fmt.Sprint(pages) != fmt.Sprint([][]string{ids[:3], ids[3:]}) {
		t.Errorf("pages %v", pages)
	}
	w := e.ok(200, nil, "GET", "/v1/telephony/config/autoAttendants?orgId="+o.ID+"&name=aa%204", dirRoot, "")
	var list struct {
		AutoAttendants []json.RawMessage `json:"autoAttendants"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.AutoAttendants) != 1 {
		t.Errorf("name filter: %s", w.Body.String())
	}
}
