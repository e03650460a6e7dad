package api

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestDirectoryOpenAPIMatchesBodies checks that the OpenAPI document
// describes what the directory operations really answer: every member of
// a response object is a documented property (recursively, through
// arrays and $refs), and every required property is present.
func TestDirectoryOpenAPIMatchesBodies(t *testing.T) {
	e := newDirEnv(t)
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	e.ok(200, &doc, "GET", "/v1/openapi.json", "", "")

	o, _ := e.org("Documented")
	l := e.location(o.ID, "HQ")
	p := e.person(o.ID, l.ID, "doc@doc.example", `"extension": "1001", "phoneNumbers": [{"value": "+4512121212"}], "sipCredentials": {"username": "doc-desk", "password": "password1"}`)
	q := "?orgId=" + o.ID
	post := func(path, body string) string {
		var out struct {
			ID string `json:"id"`
		}
		e.ok(200, &out, "POST", path+q, dirRoot, body)
		return out.ID
	}
	vl := post("/v1/telephony/config/virtualLines", `{"firstName": "V", "lastName": "L", "extension": "2000", "locationId": "`+l.ID+`", "assignedPeople": ["`+p.ID+`"]}`)
	base := "/v1/telephony/config/locations/" + l.ID
	aa := post(base+"/autoAttendants", `{"name": "AA", "extension": "3000", "menu": [{"key": "1", "extension": "1001"}]}`)
	cq := post(base+"/queues", `{"name": "Q", "extension": "3001", "agents": [{"id": "`+p.ID+`"}]}`)
	hg := post(base+"/huntGroups", `{"name": "H", "extension": "3002", "agents": [{"id": "`+p.ID+`"}]}`)
	tr := post("/v1/telephony/config/premisePstn/trunks", `{"name": "T", "locationId": "`+l.ID+`", "address": "sbc.doc.example", "numbers": ["+4512121213"]}`)
	src := post("/v1/telephony/config/callRecording/siprecSources", `{"name": "S", "networks": ["192.0.2.0/24"], "sipCredentials": {"username": "doc-sbc", "password": "password1"}}`)
	post("/v1/tokens", `{"name": "t", "role": "locationAdmin", "email": "la@doc.example", "locationIds": ["`+l.ID+`"], "expires": "2099-01-01T00:00:00Z"}`)

	for _, tc := range []struct{ docPath, target string }{
		{"/v1/organizations", "/v1/organizations"},
		{"/v1/organizations/{orgId}", "/v1/organizations/" + o.ID},
		{"/v1/locations", "/v1/locations" + q},
		{"/v1/locations/{locationId}", "/v1/locations/" + l.ID + q},
		{"/v1/people", "/v1/people" + q},
		{"/v1/people/{personId}", "/v1/people/" + p.ID + q},
		{"/v1/telephony/config/virtualLines", "/v1/telephony/config/virtualLines" + q},
		{"/v1/telephony/config/virtualLines/{virtualLineId}", "/v1/telephony/config/virtualLines/" + vl + q},
		{"/v1/telephony/config/virtualLines/{virtualLineId}/assignedPeople", "/v1/telephony/config/virtualLines/" + vl + "/assignedPeople" + q},
		{"/v1/telephony/config/autoAttendants", "/v1/telephony/config/autoAttendants" + q},
		{"/v1/telephony/config/locations/{locationId}/autoAttendants/{autoAttendantId}", base + "/autoAttendants/" + aa + q},
		{"/v1/telephony/config/queues", "/v1/telephony/config/queues" + q},
		{"/v1/telephony/config/locations/{locationId}/queues/{queueId}", base + "/queues/" + cq + q},
		{"/v1/telephony/config/locations/{locationId}/huntGroups", base + "/huntGroups" + q},
		{"/v1/telephony/config/locations/{locationId}/huntGroups/{huntGroupId}", base + "/huntGroups/" + hg + q},
		{"/v1/telephony/config/premisePstn/trunks", "/v1/telephony/config/premisePstn/trunks" + q},
		{"/v1/telephony/config/premisePstn/trunks/{trunkId}", "/v1/telephony/config/premisePstn/trunks/" + tr + q},
		{"/v1/telephony/config/callRecording/siprecSources", "/v1/telephony/config/callRecording/siprecSources" + q},
		{"/v1/telephony/config/callRecording/siprecSources/{sourceId}", "/v1/telephony/config/callRecording/siprecSources/" + src + q},
		{"/v1/tokens", "/v1/tokens" + q},
	} {
		t.Run(tc.docPath, func(t *testing.T) {
			var opDoc struct {
				Responses map[string]struct {
					Content map[string]struct {
						Schema json.RawMessage `json:"schema"`
					} `json:"content"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(doc.Paths[tc.docPath]["get"], &opDoc); err != nil {
				t.Fatalf("GET %s is not documented: %v", tc.docPath, err)
			}
			schema := opDoc.Responses["200"].Content["application/json"].Schema
			var body any
			e.ok(200, &body, "GET", tc.target, dirRoot, "")
			for _, problem := range schemaProblems(doc.Components.Schemas, schema, body, "body") {
				t.Error(problem)
			}
		})
	}
	// The created token's value is documented too.
	var postDoc struct {
		Responses map[string]struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(doc.Paths["/v1/tokens"]["post"], &postDoc); err != nil {
		t.Fatal(err)
	}
	var created any
	e.ok(200, &created, "POST", "/v1/tokens"+q, dirRoot, `{"name": "t2", "role": "user", "personId": "`+p.ID+`"}`)
	for _, problem := range schemaProblems(doc.Components.Schemas, postDoc.Responses["200"].Content["application/json"].Schema, created, "token") {
		t.Error(problem)
	}
}

// schemaProblems compares a decoded JSON value with its schema (the
// subset registry.go generates: $ref, allOf, object properties and
// required, arrays, scalars).
func schemaProblems(schemas map[string]json.RawMessage, raw json.RawMessage, v any, at string) []string {
	var s struct {
		Ref        string                     `json:"$ref"`
		AllOf      []json.RawMessage          `json:"allOf"`
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
		Items      json.RawMessage            `json:"items"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return []string{at + ": bad schema " + string(raw)}
	}
	switch {
	case s.Ref != "":
		return schemaProblems(schemas, schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")], v, at)
	case len(s.AllOf) == 1:
		return schemaProblems(schemas, s.AllOf[0], v, at)
	}
	var out []string
	switch val := v.(type) {
	case map[string]any:
		if s.Type != "object" {
			return []string{at + ": an object, documented as " + s.Type}
		}
		keys := make([]string, 0, len(val))
		for k := range val {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := s.Properties[k]
			if !ok {
				out = append(out, at+"."+k+": not documented")
				continue
			}
			out = append(out, schemaProblems(schemas, ps, val[k], at+"."+k)...)
		}
		for _, r := range s.Required {
			if !slices.Contains(keys, r) {
				out = append(out, at+"."+r+": documented as required, absent")
			}
		}
	case []any:
		if s.Type != "array" {
			return []string{at + ": an array, documented as " + s.Type}
		}
		for _, it := range val {
			out = append(out, schemaProblems(schemas, s.Items, it, at+"[]")...)
		}
	case string:
		if s.Type != "string" {
			out = append(out, at+": a string, documented as "+s.Type)
		}
	case float64:
		if s.Type != "integer" && s.Type != "number" {
			out = append(out, at+": a number, documented as "+s.Type)
		}
	case bool:
		if s.Type != "boolean" {
			out = append(out, at+": a boolean, documented as "+s.Type)
		}
	}
	return out
}
