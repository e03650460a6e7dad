package api

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// trunkJSON is a premises PSTN trunk as the API renders it.
type trunkJSON struct {
	ID         string   `json:"id"`
	OrgID      string   `json:"orgId"`
	Name       string   `json:"name"`
	LocationID string   `json:"locationId"`
	Address    string   `json:"address" doc:"host name or IP address of the peer"`
	Port       int      `json:"port"`
	Transport  string   `json:"transport" doc:"UDP or TCP"`
	Numbers    []string `json:"numbers" doc:"callrec: E.164 numbers routed through the trunk"`
	Created    string   `json:"created"`
}

// newTrunkBody is the body of POST /v1/telephony/config/premisePstn/trunks.
type newTrunkBody struct {
	Name       string   `json:"name"`
	LocationID string   `json:"locationId"`
	Address    string   `json:"address"`
	Port       int      `json:"port,omitempty" doc:"1..65535, default 5060"`
	Transport  string   `json:"transport,omitempty" doc:"UDP (default) or TCP"`
	Numbers    []string `json:"numbers,omitempty"`
}

// trunkUpdateBody is the body of PUT .../trunks/{trunkId}: omitted fields
// keep their value; numbers given replace the old list.
type trunkUpdateBody struct {
	Name       *string  `json:"name,omitempty"`
	LocationID *string  `json:"locationId,omitempty"`
	Address    *string  `json:"address,omitempty"`
	Port       *int     `json:"port,omitempty"`
	Transport  *string  `json:"transport,omitempty"`
	Numbers    []string `json:"numbers,omitempty"`
}

func renderTrunk(t *callrec.Trunk) trunkJSON {
	nums := t.Numbers
	if nums == nil {
		nums = []string{}
	}
	return trunkJSON{ID: webexID(idTrunk, t.ID), OrgID: webexID(idOrg, t.OrgID), Name: t.Name, LocationID: webexID(idLocation, t.LocationID),
		Address: t.Address, Port: t.Port, Transport: strings.ToUpper(t.Transport), Numbers: nums, Created: dirTime(t.Created)}
}

// trunkRoutes registers the premises PSTN trunks.
func (s *server) trunkRoutes() {
	const tag = "Trunks"
	const base = "/v1/telephony/config/premisePstn/trunks"
	s.register(op{Method: "GET", Path: base, Summary: "List the organization's trunks", Tag: tag,
		Access: "org admins (read)", Query: append(append([]param{}, orgDirectoryQuery...), param{"locationId", "string", "only trunks of this location"}, param{"name", "string", "only trunks whose name starts with this (case-insensitive)"}),
		Resp: struct {
			Trunks []trunkJSON `json:"trunks"`
		}{}, Handler: s.inOrgScope(permRead, s.listTrunks)})
	s.register(op{Method: "POST", Path: base, Summary: "Create a trunk: a PSTN peer of a location, whose calls count as PSTN calls; callrec adds transport and numbers", Tag: tag,
		Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID},
		Body: newTrunkBody{}, Resp: trunkJSON{}, Handler: s.inOrgScope(permWrite, s.createTrunk)})
	s.register(op{Method: "GET", Path: base + "/{trunkId}", Summary: "Get a trunk", Tag: tag,
		Access: "org admins (read)", Query: []param{qOrgID}, Resp: trunkJSON{}, Handler: s.inOrgScope(permRead, dirGetHandler(s, &trunkType, plainRender(renderTrunk)))})
	s.register(op{Method: "PUT", Path: base + "/{trunkId}", Summary: "Update a trunk (partial)", Tag: tag,
		Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID},
		Body: trunkUpdateBody{}, Resp: trunkJSON{}, Handler: s.inOrgScope(permWrite, dirUpdateHandler(s, &trunkType, trunkFields, plainRender(renderTrunk)))})
	s.register(op{Method: "DELETE", Path: base + "/{trunkId}", Summary: "Delete a trunk", Tag: tag,
		Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID}, Handler: s.inOrgScope(permWrite, dirDeleteHandler(s, &trunkType))})
}

// dirHost validates a peer address: an IP address (no zone) or a DNS
// host name (RFC 1123 §2.1 labels), without a port.
func dirHost(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", badRequestf("%s: required", field)
	}
	if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
		if a.Zone() != "" {
			return "", badRequestf("%s: %s must not carry an IPv6 zone", field, quote(v))
		}
		return a.Unmap().String(), nil
	}
	bad := badRequestf("%s: %s is not an IP address or host name (give the port in port)", field, quote(v))
	name := strings.TrimSuffix(v, ".")
	if len(name) > maxHostLen || name == "" {
		return "", bad
	}
	labels := strings.Split(name, ".")
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", bad // an all-numeric top label: a mistyped IPv4 address
	}
	for _, label := range labels {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", bad
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return "", bad
			}
		}
	}
	return strings.ToLower(name), nil
}

// trunkFields validates and applies a trunk body to t.
func trunkFields(ctx context.Context, tx directory.Tx, org *callrec.Org, t *callrec.Trunk, u *trunkUpdateBody) error {
	if err := applyStrFields(strField{"name", u.Name, &t.Name, requiredTextField(maxNameLen)}); err != nil {
		return err
	}
	if u.LocationID != nil {
		loc, err := dirLocationRef(ctx, tx, org.ID, "locationId", *u.LocationID)
		if err != nil {
			return err
		}
		t.LocationID = loc.ID
	}
	if err := applyStrFields(strField{"address", u.Address, &t.Address, dirHost}); err != nil {
		return err
	}
	if u.Port != nil {
		if *u.Port < 1 || *u.Port > 65535 {
			return badRequestf("port: %d is out of range; allowed: 1..65535", *u.Port)
		}
		t.Port = *u.Port
	}
	if u.Transport != nil {
		v := strings.ToUpper(strings.TrimSpace(*u.Transport))
		if err := checkEnum("transport", v, "UDP", "TCP"); err != nil {
			return err
		}
		t.Transport = strings.ToLower(v)
	}
	if u.Numbers != nil {
		nums, err := dirNumberList("numbers", u.Numbers)
		if err != nil {
			return err
		}
		t.Numbers = nums
	}
	return nil
}

// trunkKeys are the unique keys of a trunk (its name in the org).
func trunkKeys(t *callrec.Trunk) []keyUse {
	return []keyUse{{directory.TrunkNameKey(t.OrgID, t.Name), "name", t.Name, " in this organization"}}
}

// checkTrunkNumbers refuses a number already routed through another trunk
// of the org: a DID enters through one trunk.
func checkTrunkNumbers(ctx context.Context, tx directory.Tx, t *callrec.Trunk) error {
	all, err := directory.Trunks.List(ctx, tx, t.OrgID)
	if err != nil {
		return fmt.Errorf("api: trunk numbers: %w", err)
	}
	for _, o := range all {
		if o.ID == t.ID {
			continue
		}
		for i, n := range t.Numbers {
			if slices.Contains(o.Numbers, n) {
				return conflictf("numbers[%d] %s is already routed through trunk %s", i, n, quote(o.Name))
			}
		}
	}
	return nil
}

// trunkType is the trunks for the shared handlers.
var trunkType = dirType[callrec.Trunk]{kind: directory.Trunks, wildcard: "trunkId", idType: idTrunk,
	thing: "Trunk", noun: "trunk", auditType: "trunk",
	id: func(t *callrec.Trunk) string { return t.ID }, keys: trunkKeys,
	location: func(t *callrec.Trunk) string { return t.LocationID }, check: checkTrunkNumbers}

// listTrunks is GET .../premisePstn/trunks.
func (s *server) listTrunks(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	prefix := strings.ToLower(r.URL.Query().Get("name"))
	locID, locSet, locOK := locationFilter(r.URL.Query().Get("locationId"))
	return dirList(s, w, r, directory.Trunks, org.ID, "trunks", func(t *callrec.Trunk) bool {
		return locOK && (!locSet || t.LocationID == locID) && strings.HasPrefix(strings.ToLower(t.Name), prefix)
	}, renderTrunk)
}

// createTrunk is POST .../premisePstn/trunks.
func (s *server) createTrunk(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var body newTrunkBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	t := &callrec.Trunk{ID: uuid.NewString(), OrgID: org.ID, Port: 5060, Transport: "udp", Numbers: []string{}, Created: s.now().UTC()}
	u := trunkUpdateBody{Name: &body.Name, LocationID: &body.LocationID, Address: &body.Address, Numbers: body.Numbers}
	if body.Port != 0 {
		u.Port = &body.Port
	}
	if body.Transport != "" {
		u.Transport = &body.Transport
	}
	return dirCreate(s, w, r, tok, org, &trunkType, t, func(ctx context.Context, tx directory.Tx) error {
		if err := trunkFields(ctx, tx, org, t, &u); err != nil {
			return err
		}
		return require(tok, org, permWrite, t.LocationID)
	}, plainRender(renderTrunk))
}
