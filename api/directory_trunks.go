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
		Access: "org admins (read)", Query: []param{qOrgID}, Resp: trunkJSON{}, Handler: s.inOrgScope(permRead, s.getTrunk)})
	s.register(op{Method: "PUT", Path: base + "/{trunkId}", Summary: "Update a trunk (partial)", Tag: tag,
		Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID},
		Body: trunkUpdateBody{}, Resp: trunkJSON{}, Handler: s.inOrgScope(permWrite, s.updateTrunk)})
	s.register(op{Method: "DELETE", Path: base + "/{trunkId}", Summary: "Delete a trunk", Tag: tag,
		Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID}, Handler: s.inOrgScope(permWrite, s.deleteTrunk)})
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
func trunkFields(ctx context.Context, tx directory.Tx, orgID string, t *callrec.Trunk, u *trunkUpdateBody) error {
	if u.Name != nil {
		v, err := dirRequiredText("name", *u.Name, maxNameLen)
		if err != nil {
			return err
		}
		t.Name = v
	}
	if u.LocationID != nil {
		loc, err := dirLocationRef(ctx, tx, orgID, "locationId", *u.LocationID)
		if err != nil {
			return err
		}
		t.LocationID = loc.ID
	}
	if u.Address != nil {
		v, err := dirHost("address", *u.Address)
		if err != nil {
			return err
		}
		t.Address = v
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

// listTrunks is GET .../premisePstn/trunks.
func (s *server) listTrunks(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	start, max, err := listParams100(r)
	if err != nil {
		return err
	}
	prefix := strings.ToLower(r.URL.Query().Get("name"))
	locID, locSet, locOK := locationFilter(r.URL.Query().Get("locationId"))
	var trunks []callrec.Trunk
	if locOK {
		if err := s.store.View(r.Context(), func(tx directory.Tx) error {
			var err error
			trunks, err = directory.Trunks.List(r.Context(), tx, org.ID)
			return err
		}); err != nil {
			return fmt.Errorf("api: list trunks: %w", err)
		}
	}
	items := make([]trunkJSON, 0, len(trunks))
	for i := range trunks {
		t := &trunks[i]
		if (locSet && t.LocationID != locID) || !strings.HasPrefix(strings.ToLower(t.Name), prefix) {
			continue
		}
		items = append(items, renderTrunk(t))
	}
	writePage(s, w, r, items, start, max, "trunks", nil)
	return nil
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
	err := s.store.Update(r.Context(), func(tx directory.Tx) error {
		if err := trunkFields(r.Context(), tx, org.ID, t, &u); err != nil {
			return err
		}
		if err := require(tok, org, permWrite, t.LocationID); err != nil {
			return err
		}
		if err := checkKeysFree(r.Context(), tx, directory.Trunks.Name, t.ID, trunkKeys(t)); err != nil {
			return err
		}
		if err := checkTrunkNumbers(r.Context(), tx, t); err != nil {
			return err
		}
		if err := directory.Trunks.Put(r.Context(), tx, t); err != nil {
			return dirPutErr("trunk", err)
		}
		return s.audit(r.Context(), tx, tok, org.ID, "create", "trunk", t.ID, nil, t)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderTrunk(t))
	return nil
}

// pathTrunk reads the {trunkId} trunk of the org.
func pathTrunk(ctx context.Context, tx directory.Tx, r *http.Request, org *callrec.Org) (*callrec.Trunk, error) {
	id, err := dirPathID(r, "trunkId", idTrunk, "Trunk")
	if err != nil {
		return nil, err
	}
	return dirGet(ctx, tx, directory.Trunks, org.ID, id, "Trunk", r.PathValue("trunkId"))
}

// getTrunk is GET .../trunks/{trunkId}.
func (s *server) getTrunk(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	var t *callrec.Trunk
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		t, err = pathTrunk(r.Context(), tx, r, org)
		return err
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderTrunk(t))
	return nil
}

// updateTrunk is PUT .../trunks/{trunkId}.
func (s *server) updateTrunk(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var body trunkUpdateBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	var out *callrec.Trunk
	err := s.store.Update(r.Context(), func(tx directory.Tx) error {
		before, err := pathTrunk(r.Context(), tx, r, org)
		if err != nil {
			return err
		}
		if err := require(tok, org, permWrite, before.LocationID); err != nil {
			return err
		}
		next := *before
		if err := trunkFields(r.Context(), tx, org.ID, &next, &body); err != nil {
			return err
		}
		out = &next
		if sameJSON(before, &next) {
			return nil
		}
		if next.LocationID != before.LocationID {
			if err := require(tok, org, permWrite, next.LocationID); err != nil {
				return err
			}
		}
		if err := checkKeysFree(r.Context(), tx, directory.Trunks.Name, next.ID, trunkKeys(&next)); err != nil {
			return err
		}
		if err := checkTrunkNumbers(r.Context(), tx, &next); err != nil {
			return err
		}
		if err := directory.Trunks.Put(r.Context(), tx, &next); err != nil {
			return dirPutErr("trunk", err)
		}
		return s.audit(r.Context(), tx, tok, org.ID, "update", "trunk", next.ID, before, &next)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderTrunk(out))
	return nil
}

// deleteTrunk is DELETE .../trunks/{trunkId}.
func (s *server) deleteTrunk(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	err := s.store.Update(r.Context(), func(tx directory.Tx) error {
		t, err := pathTrunk(r.Context(), tx, r, org)
		if err != nil {
			return err
		}
		if err := require(tok, org, permWrite, t.LocationID); err != nil {
			return err
		}
		if err := directory.Trunks.Delete(r.Context(), tx, org.ID, t.ID); err != nil {
			return fmt.Errorf("api: delete trunk: %w", err)
		}
		return s.audit(r.Context(), tx, tok, org.ID, "delete", "trunk", t.ID, t, nil)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
