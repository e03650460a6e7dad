package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// locationJSON is a location as the API renders it (Webex /v1/locations
// shape). callrec keeps one language per location, so
// preferredLanguage and announcementLanguage are always equal.
type locationJSON struct {
	ID                   string          `json:"id"`
	OrgID                string          `json:"orgId"`
	Name                 string          `json:"name"`
	TimeZone             string          `json:"timeZone"`
	PreferredLanguage    string          `json:"preferredLanguage"`
	AnnouncementLanguage string          `json:"announcementLanguage"`
	Address              callrec.Address `json:"address"`
	Created              string          `json:"created"`
}

// newLocationBody is the body of POST /v1/locations.
type newLocationBody struct {
	Name                 string           `json:"name"`
	TimeZone             string           `json:"timeZone" doc:"IANA time zone name, e.g. Europe/Copenhagen"`
	PreferredLanguage    string           `json:"preferredLanguage,omitempty" doc:"language code such as en_US; callrec keeps one language per location"`
	AnnouncementLanguage string           `json:"announcementLanguage,omitempty" doc:"language code such as en_US; wins over preferredLanguage; default the org's"`
	Address              *callrec.Address `json:"address,omitempty"`
}

// locationUpdateBody is the body of PUT /v1/locations/{locationId}:
// omitted fields keep their value; an address replaces the whole address.
type locationUpdateBody struct {
	Name                 *string          `json:"name,omitempty"`
	TimeZone             *string          `json:"timeZone,omitempty"`
	PreferredLanguage    *string          `json:"preferredLanguage,omitempty"`
	AnnouncementLanguage *string          `json:"announcementLanguage,omitempty"`
	Address              *callrec.Address `json:"address,omitempty"`
}

func renderLocation(l *callrec.Location) locationJSON {
	return locationJSON{ID: webexID(idLocation, l.ID), OrgID: webexID(idOrg, l.OrgID), Name: l.Name, TimeZone: l.TimeZone,
		PreferredLanguage: l.Language, AnnouncementLanguage: l.Language, Address: l.Address, Created: dirTime(l.Created)}
}

// locationRoutes registers the locations.
func (s *server) locationRoutes() {
	const tag = "Locations"
	s.register(op{Method: "GET", Path: "/v1/locations", Summary: "List the organization's locations", Tag: tag,
		Access: "org admins (read)", Query: append(append([]param{}, orgDirectoryQuery...), param{"name", "string", "only locations whose name starts with this (case-insensitive)"}, param{"id", "string", "comma-separated location ids"}),
		Resp: struct {
			Items []locationJSON `json:"items"`
		}{}, Handler: s.inOrgScope(permRead, s.listLocations)})
	s.register(op{Method: "POST", Path: "/v1/locations", Summary: "Create a location. It starts on the org's recording vendor and compliance announcement (R16, R17); callrec adds the created field", Tag: tag,
		Access: "full and partner admins", Query: []param{qOrgID}, Body: newLocationBody{}, Resp: locationJSON{}, Handler: s.inOrgScope(permWrite, s.createLocation)})
	s.register(op{Method: "GET", Path: "/v1/locations/{locationId}", Summary: "Get a location", Tag: tag,
		Access: "org admins (read)", Query: []param{qOrgID}, Resp: locationJSON{}, Handler: s.inOrgScope(permRead, s.getLocation)})
	s.register(op{Method: "PUT", Path: "/v1/locations/{locationId}", Summary: "Update a location (partial: omitted fields keep their value)", Tag: tag,
		Access: "full and partner admins; location admins for their own locations", Query: []param{qOrgID}, Body: locationUpdateBody{}, Resp: locationJSON{}, Handler: s.inOrgScope(permWrite, s.updateLocation)})
	s.register(op{Method: "DELETE", Path: "/v1/locations/{locationId}", Summary: "Delete a location (409 while people, virtual lines, features, trunks or announcement files are in it)", Tag: tag,
		Access: "full and partner admins", Query: []param{qOrgID}, Handler: s.inOrgScope(permWrite, s.deleteLocation)})
}

// locationFields validates and applies a location body to l.
func locationFields(l *callrec.Location, u *locationUpdateBody) error {
	if u.Name != nil {
		v, err := dirRequiredText("name", *u.Name, maxNameLen)
		if err != nil {
			return err
		}
		l.Name = v
	}
	if u.TimeZone != nil {
		v, err := dirTimeZone("timeZone", *u.TimeZone)
		if err != nil {
			return err
		}
		l.TimeZone = v
	}
	// One language: announcementLanguage wins when both are given.
	for _, f := range []struct {
		name string
		v    *string
	}{{"preferredLanguage", u.PreferredLanguage}, {"announcementLanguage", u.AnnouncementLanguage}} {
		if f.v == nil {
			continue
		}
		v, err := dirLanguage(f.name, *f.v)
		if err != nil {
			return err
		}
		if v != "" {
			l.Language = v
		}
	}
	if u.Address != nil {
		a := *u.Address
		for _, f := range []struct {
			name string
			v    *string
		}{{"address.address1", &a.Address1}, {"address.address2", &a.Address2}, {"address.city", &a.City},
			{"address.state", &a.State}, {"address.postalCode", &a.PostalCode}, {"address.country", &a.Country}} {
			v, err := dirText(f.name, *f.v, maxAddrField)
			if err != nil {
				return err
			}
			*f.v = v
		}
		l.Address = a
	}
	return nil
}

// listLocations is GET /v1/locations.
func (s *server) listLocations(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	start, max, err := listParams100(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	ids := idFilter(q.Get("id"), idLocation)
	prefix := strings.ToLower(q.Get("name"))
	var locs []callrec.Location
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		locs, err = directory.Locations.List(r.Context(), tx, org.ID)
		return err
	}); err != nil {
		return fmt.Errorf("api: list locations: %w", err)
	}
	items := make([]locationJSON, 0, len(locs))
	for i := range locs {
		l := &locs[i]
		if (ids != nil && !ids[l.ID]) || !strings.HasPrefix(strings.ToLower(l.Name), prefix) {
			continue
		}
		items = append(items, renderLocation(l))
	}
	writePage(s, w, r, items, start, max, "items", nil)
	return nil
}

// createLocation is POST /v1/locations.
func (s *server) createLocation(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	if err := require(tok, org, permWrite, ""); err != nil {
		return err
	}
	var body newLocationBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	loc := &callrec.Location{ID: uuid.NewString(), OrgID: org.ID, Language: org.Language, Created: s.now().UTC()}
	u := locationUpdateBody{Name: &body.Name, TimeZone: &body.TimeZone, Address: body.Address}
	if body.PreferredLanguage != "" {
		u.PreferredLanguage = &body.PreferredLanguage
	}
	if body.AnnouncementLanguage != "" {
		u.AnnouncementLanguage = &body.AnnouncementLanguage
	}
	if err := locationFields(loc, &u); err != nil {
		return err
	}
	if loc.Language == "" {
		loc.Language = callrec.DefaultLanguage
	}
	// New locations use the org's vendor and compliance settings (R16,
	// R17): the zero LocationRecording overrides nothing.
	loc.Recording = callrec.LocationRecording{}
	err := s.store.Update(r.Context(), func(tx directory.Tx) error {
		if err := checkKeysFree(r.Context(), tx, directory.Locations.Name, loc.ID, locationKeys(loc)); err != nil {
			return err
		}
		if err := directory.Locations.Put(r.Context(), tx, loc); err != nil {
			return dirPutErr("location", err)
		}
		return s.audit(r.Context(), tx, tok, org.ID, "create", "location", loc.ID, nil, loc)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderLocation(loc))
	return nil
}

// locationKeys are the unique keys of a location (its name in the org).
func locationKeys(l *callrec.Location) []keyUse {
	return []keyUse{{directory.LocationNameKey(l.OrgID, l.Name), "name", l.Name, " in this organization"}}
}

// pathLocation reads the {locationId} location of the org.
func pathLocation(ctx context.Context, tx directory.Tx, r *http.Request, org *callrec.Org) (*callrec.Location, error) {
	id, err := dirPathID(r, "locationId", idLocation, "Location")
	if err != nil {
		return nil, err
	}
	return dirGet(ctx, tx, directory.Locations, org.ID, id, "Location", r.PathValue("locationId"))
}

// getLocation is GET /v1/locations/{locationId}.
func (s *server) getLocation(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	var loc *callrec.Location
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		loc, err = pathLocation(r.Context(), tx, r, org)
		return err
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderLocation(loc))
	return nil
}

// updateLocation is PUT /v1/locations/{locationId}. The recording
// settings of the location are not changed here (callRecording paths).
func (s *server) updateLocation(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var body locationUpdateBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	var out *callrec.Location
	err := s.store.Update(r.Context(), func(tx directory.Tx) error {
		before, err := pathLocation(r.Context(), tx, r, org)
		if err != nil {
			return err
		}
		if err := require(tok, org, permWrite, before.ID); err != nil {
			return err
		}
		next := *before
		if err := locationFields(&next, &body); err != nil {
			return err
		}
		out = &next
		if sameJSON(before, &next) {
			return nil
		}
		if err := checkKeysFree(r.Context(), tx, directory.Locations.Name, next.ID, locationKeys(&next)); err != nil {
			return err
		}
		if err := directory.Locations.Put(r.Context(), tx, &next); err != nil {
			return dirPutErr("location", err)
		}
		return s.audit(r.Context(), tx, tok, org.ID, "update", "location", next.ID, before, &next)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderLocation(out))
	return nil
}

// locationContents counts what is still in a location, as the words of
// the 409 that keeps it from being deleted.
func locationContents(ctx context.Context, tx directory.Tx, orgID, locID string) ([]string, error) {
	var held []string
	count := func(n int, one, many string) {
		if n > 0 {
			held = append(held, plural(n, one, many))
		}
	}
	people, err := directory.People.List(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	count(countIf(people, func(p *callrec.Person) bool { return p.LocationID == locID }), "person", "people")
	lines, err := directory.VirtualLines.List(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	count(countIf(lines, func(v *callrec.VirtualLine) bool { return v.LocationID == locID }), "virtual line", "virtual lines")
	feats, err := directory.Features.List(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	count(countIf(feats, func(f *callrec.Feature) bool { return f.LocationID == locID }), "feature", "features")
	trunks, err := directory.Trunks.List(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	count(countIf(trunks, func(t *callrec.Trunk) bool { return t.LocationID == locID }), "trunk", "trunks")
	files, err := directory.AnnouncementFiles.List(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	count(countIf(files, func(f *callrec.AnnouncementFile) bool { return f.LocationID == locID }), "announcement file", "announcement files")
	return held, nil
}

func countIf[T any](all []T, f func(*T) bool) int {
	n := 0
	for i := range all {
		if f(&all[i]) {
			n++
		}
	}
	return n
}

// deleteLocation is DELETE /v1/locations/{locationId}.
func (s *server) deleteLocation(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	if err := require(tok, org, permWrite, ""); err != nil {
		return err
	}
	err := s.store.Update(r.Context(), func(tx directory.Tx) error {
		loc, err := pathLocation(r.Context(), tx, r, org)
		if err != nil {
			return err
		}
		held, err := locationContents(r.Context(), tx, org.ID, loc.ID)
		if err != nil {
			return fmt.Errorf("api: delete location: %w", err)
		}
		if len(held) > 0 {
			return conflictf("Location %s still has %s; move or delete them first", quote(loc.Name), strings.Join(held, ", "))
		}
		if err := directory.Locations.Delete(r.Context(), tx, org.ID, loc.ID); err != nil {
			return fmt.Errorf("api: delete location: %w", err)
		}
		return s.audit(r.Context(), tx, tok, org.ID, "delete", "location", loc.ID, loc, nil)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
