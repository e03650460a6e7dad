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
		Access: "org admins (read)", Query: []param{qOrgID}, Resp: locationJSON{}, Handler: s.inOrgScope(permRead, dirGetHandler(s, &locationType, plainRender(renderLocation)))})
	s.register(op{Method: "PUT", Path: "/v1/locations/{locationId}", Summary: "Update a location (partial: omitted fields keep their value)", Tag: tag,
		Access: "full and partner admins; location admins for their own locations", Query: []param{qOrgID}, Body: locationUpdateBody{}, Resp: locationJSON{}, Handler: s.inOrgScope(permWrite, dirUpdateHandler(s, &locationType, applyLocationUpdate, plainRender(renderLocation)))})
	s.register(op{Method: "DELETE", Path: "/v1/locations/{locationId}", Summary: "Delete a location (409 while people, virtual lines, features, trunks or announcement files are in it)", Tag: tag,
		Access: "full and partner admins", Query: []param{qOrgID}, Handler: s.inOrgScope(permWrite, s.deleteLocation)})
}

// locationFields validates and applies a location body to l.
func locationFields(l *callrec.Location, u *locationUpdateBody) error {
	if err := applyStrFields(strField{"name", u.Name, &l.Name, requiredTextField(maxNameLen)},
		strField{"timeZone", u.TimeZone, &l.TimeZone, dirTimeZone}); err != nil {
		return err
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

// locationType is the locations for the shared handlers. A location
// admin may change its own locations; only full and partner admins
// create and delete them.
var locationType = dirType[callrec.Location]{kind: directory.Locations, wildcard: "locationId", idType: idLocation,
	thing: "Location", noun: "location", auditType: "location",
	id: func(l *callrec.Location) string { return l.ID }, keys: locationKeys,
	location: func(l *callrec.Location) string { return l.ID }}

// listLocations is GET /v1/locations.
func (s *server) listLocations(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	q := r.URL.Query()
	ids := idFilter(q.Get("id"), idLocation)
	prefix := strings.ToLower(q.Get("name"))
	return dirList(s, w, r, directory.Locations, org.ID, "items", func(l *callrec.Location) bool {
		return (ids == nil || ids[l.ID]) && strings.HasPrefix(strings.ToLower(l.Name), prefix)
	}, renderLocation)
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
	return dirCreate(s, w, r, tok, org, &locationType, loc, nil, plainRender(renderLocation))
}

// locationKeys are the unique keys of a location (its name in the org).
func locationKeys(l *callrec.Location) []keyUse {
	return []keyUse{{directory.LocationNameKey(l.OrgID, l.Name), "name", l.Name, " in this organization"}}
}

// applyLocationUpdate applies a PUT body to a location. The recording
// settings of the location are not changed here (callRecording paths).
func applyLocationUpdate(_ context.Context, _ directory.Tx, _ *callrec.Org, l *callrec.Location, body *locationUpdateBody) error {
	return locationFields(l, body)
}

// locationContents counts what is still in a location, as the words of
// the 409 that keeps it from being deleted.
func locationContents(ctx context.Context, tx directory.Tx, orgID, locID string) ([]string, error) {
	var held []string
	for _, c := range []struct {
		count     func() (int, error)
		one, many string
	}{
		{func() (int, error) { return countAt(ctx, tx, directory.People, orgID, locID, personType.location) }, "person", "people"},
		{func() (int, error) {
			return countAt(ctx, tx, directory.VirtualLines, orgID, locID, virtualLineType.location)
		}, "virtual line", "virtual lines"},
		{func() (int, error) {
			return countAt(ctx, tx, directory.Features, orgID, locID, func(f *callrec.Feature) string { return f.LocationID })
		}, "feature", "features"},
		{func() (int, error) { return countAt(ctx, tx, directory.Trunks, orgID, locID, trunkType.location) }, "trunk", "trunks"},
		{func() (int, error) {
			return countAt(ctx, tx, directory.AnnouncementFiles, orgID, locID, func(f *callrec.AnnouncementFile) string { return f.LocationID })
		}, "announcement file", "announcement files"},
	} {
		n, err := c.count()
		if err != nil {
			return nil, err
		}
		if n > 0 {
			held = append(held, plural(n, c.one, c.many))
		}
	}
	return held, nil
}

// countAt counts the objects of kind k in the org whose location is locID.
func countAt[T any](ctx context.Context, tx directory.Tx, k directory.Kind[T], orgID, locID string, location func(*T) string) (int, error) {
	all, err := k.List(ctx, tx, orgID)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range all {
		if location(&all[i]) == locID {
			n++
		}
	}
	return n, nil
}

// deleteLocation is DELETE /v1/locations/{locationId}.
func (s *server) deleteLocation(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	if err := require(tok, org, permWrite, ""); err != nil {
		return err
	}
	return s.updateNoContent(w, r, func(ctx context.Context, tx directory.Tx) error {
		loc, err := locationType.fromPath(ctx, tx, r, org.ID)
		if err != nil {
			return err
		}
		held, err := locationContents(ctx, tx, org.ID, loc.ID)
		if err != nil {
			return fmt.Errorf("api: delete location: %w", err)
		}
		if len(held) > 0 {
			return conflictf("Location %s still has %s; move or delete them first", quote(loc.Name), strings.Join(held, ", "))
		}
		return dirRemove(s, ctx, tx, tok, org.ID, &locationType, loc)
	})
}
