package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// virtualLineJSON is a virtual line as the API renders it (Webex
// telephony virtual line fields, flat, plus callrec's assignedPeople and
// listeners).
type virtualLineJSON struct {
	ID                   string   `json:"id"`
	OrgID                string   `json:"orgId"`
	LocationID           string   `json:"locationId"`
	FirstName            string   `json:"firstName"`
	LastName             string   `json:"lastName"`
	DisplayName          string   `json:"displayName"`
	PhoneNumber          string   `json:"phoneNumber,omitempty"`
	Extension            string   `json:"extension,omitempty"`
	AnnouncementLanguage string   `json:"announcementLanguage"`
	AssignedPeople       []string `json:"assignedPeople" doc:"callrec: ids of the people whose devices carry the line"`
	Listeners            []string `json:"listeners" doc:"callrec: ids of the people who may listen to its recordings (R32 team)"`
	Created              string   `json:"created"`
}

// newVirtualLineBody is the body of POST /v1/telephony/config/virtualLines.
type newVirtualLineBody struct {
	FirstName            string   `json:"firstName"`
	LastName             string   `json:"lastName"`
	DisplayName          string   `json:"displayName,omitempty" doc:"default: first and last name"`
	PhoneNumber          string   `json:"phoneNumber,omitempty" doc:"E.164; phoneNumber or extension is required"`
	Extension            string   `json:"extension,omitempty"`
	LocationID           string   `json:"locationId"`
	AnnouncementLanguage string   `json:"announcementLanguage,omitempty" doc:"default the location's (R21)"`
	AssignedPeople       []string `json:"assignedPeople,omitempty"`
	Listeners            []string `json:"listeners,omitempty"`
}

// virtualLineUpdateBody is the body of PUT
// /v1/telephony/config/virtualLines/{virtualLineId}: omitted fields keep
// their value; lists given replace the old ones.
type virtualLineUpdateBody struct {
	FirstName            *string  `json:"firstName,omitempty"`
	LastName             *string  `json:"lastName,omitempty"`
	DisplayName          *string  `json:"displayName,omitempty"`
	PhoneNumber          *string  `json:"phoneNumber,omitempty"`
	Extension            *string  `json:"extension,omitempty"`
	LocationID           *string  `json:"locationId,omitempty"`
	AnnouncementLanguage *string  `json:"announcementLanguage,omitempty"`
	AssignedPeople       []string `json:"assignedPeople,omitempty"`
	Listeners            []string `json:"listeners,omitempty"`
}

// assignedPeopleJSON is GET .../virtualLines/{virtualLineId}/assignedPeople.
type assignedPeopleJSON struct {
	PhoneNumber string               `json:"phoneNumber,omitempty"`
	Extension   string               `json:"extension,omitempty"`
	People      []assignedPersonJSON `json:"people"`
}

// assignedPersonJSON is one person a virtual line is assigned to.
type assignedPersonJSON struct {
	ID          string `json:"id"`
	FirstName   string `json:"firstName,omitempty"`
	LastName    string `json:"lastName,omitempty"`
	DisplayName string `json:"displayName"`
	Email       string `json:"email"`
}

func renderVirtualLine(v *callrec.VirtualLine) virtualLineJSON {
	return virtualLineJSON{ID: webexID(idVirtualLine, v.ID), OrgID: webexID(idOrg, v.OrgID), LocationID: webexID(idLocation, v.LocationID),
		FirstName: v.FirstName, LastName: v.LastName, DisplayName: v.DisplayName, PhoneNumber: v.PhoneNumber, Extension: v.Extension,
		AnnouncementLanguage: v.Language, AssignedPeople: webexIDs(idPerson, v.People), Listeners: webexIDs(idPerson, v.Listeners),
		Created: dirTime(v.Created)}
}

// virtualLineRoutes registers the virtual lines.
func (s *server) virtualLineRoutes() {
	const tag = "Virtual Lines"
	const base = "/v1/telephony/config/virtualLines"
	s.register(op{Method: "GET", Path: base, Summary: "List the organization's virtual lines", Tag: tag,
		Access: "org admins (read)", Query: append(append([]param{}, orgDirectoryQuery...),
			param{"locationId", "string", "only virtual lines of this location"}, param{"id", "string", "comma-separated virtual line ids"}),
		Resp: struct {
			VirtualLines []virtualLineJSON `json:"virtualLines"`
		}{}, Handler: s.inOrgScope(permRead, s.listVirtualLines)})
	s.register(op{Method: "POST", Path: base, Summary: "Create a virtual line. Recording starts off (R31); callrec adds assignedPeople and listeners (R32)", Tag: tag,
		Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID},
		Body: newVirtualLineBody{}, Resp: virtualLineJSON{}, Handler: s.inOrgScope(permWrite, s.createVirtualLine)})
	s.register(op{Method: "GET", Path: base + "/{virtualLineId}", Summary: "Get a virtual line", Tag: tag,
		Access: "org admins (read)", Query: []param{qOrgID}, Resp: virtualLineJSON{}, Handler: s.inOrgScope(permRead, dirGetHandler(s, &virtualLineType, plainRender(renderVirtualLine)))})
	s.register(op{Method: "PUT", Path: base + "/{virtualLineId}", Summary: "Update a virtual line (partial; recording settings are at /callRecording)", Tag: tag,
		Access: "full and partner admins; location admins for lines of their locations", Query: []param{qOrgID},
		Body: virtualLineUpdateBody{}, Resp: virtualLineJSON{}, Handler: s.inOrgScope(permWrite, dirUpdateHandler(s, &virtualLineType, virtualLineFields, plainRender(renderVirtualLine)))})
	s.register(op{Method: "DELETE", Path: base + "/{virtualLineId}", Summary: "Delete a virtual line; its recordings are kept", Tag: tag,
		Access: "full and partner admins; location admins for lines of their locations", Query: []param{qOrgID}, Handler: s.inOrgScope(permWrite, dirDeleteHandler(s, &virtualLineType))})
	s.register(op{Method: "GET", Path: base + "/{virtualLineId}/assignedPeople", Summary: "List the people a virtual line is assigned to", Tag: tag,
		Access: "org admins (read)", Query: []param{qOrgID}, Resp: assignedPeopleJSON{}, Handler: s.inOrgScope(permRead, s.getAssignedPeople)})
}

// virtualLineFields validates and applies a virtual line body to v.
func virtualLineFields(ctx context.Context, tx directory.Tx, org *callrec.Org, v *callrec.VirtualLine, u *virtualLineUpdateBody) error {
	if err := applyStrFields(strField{"firstName", u.FirstName, &v.FirstName, textField(maxNameLen)},
		strField{"lastName", u.LastName, &v.LastName, textField(maxNameLen)},
		strField{"displayName", u.DisplayName, &v.DisplayName, textField(maxNameLen)},
		strField{"phoneNumber", u.PhoneNumber, &v.PhoneNumber, dirE164},
		strField{"extension", u.Extension, &v.Extension, dirExtension}); err != nil {
		return err
	}
	if u.LocationID != nil {
		loc, err := dirLocationRef(ctx, tx, org.ID, "locationId", *u.LocationID)
		if err != nil {
			return err
		}
		v.LocationID = loc.ID
	}
	if err := applyStrFields(strField{"announcementLanguage", u.AnnouncementLanguage, &v.Language, dirLanguage}); err != nil {
		return err
	}
	if u.AssignedPeople != nil {
		ids, err := dirPeopleRefs(ctx, tx, org.ID, "assignedPeople", "", u.AssignedPeople)
		if err != nil {
			return err
		}
		v.People = ids
	}
	if u.Listeners != nil {
		ids, err := dirPeopleRefs(ctx, tx, org.ID, "listeners", "", u.Listeners)
		if err != nil {
			return err
		}
		v.Listeners = ids
	}
	switch {
	case v.FirstName == "":
		return badRequest("firstName: required")
	case v.LastName == "":
		return badRequest("lastName: required")
	case v.PhoneNumber == "" && v.Extension == "":
		return badRequest("phoneNumber, extension: one of them is required")
	}
	if v.DisplayName == "" {
		v.DisplayName = v.FirstName + " " + v.LastName
	}
	return nil
}

// virtualLineKeys are the unique keys a virtual line holds.
func virtualLineKeys(v *callrec.VirtualLine) []keyUse {
	var uses []keyUse
	if v.Extension != "" {
		uses = append(uses, numUse(v.OrgID, "extension", v.Extension))
	}
	if v.PhoneNumber != "" {
		uses = append(uses, numUse(v.OrgID, "phoneNumber", v.PhoneNumber))
	}
	return uses
}

// virtualLineType is the virtual lines for the shared handlers.
var virtualLineType = dirType[callrec.VirtualLine]{kind: directory.VirtualLines, wildcard: "virtualLineId", idType: idVirtualLine,
	thing: "Virtual line", noun: "virtual line", auditType: "virtualLine",
	id: func(v *callrec.VirtualLine) string { return v.ID }, keys: virtualLineKeys,
	location: func(v *callrec.VirtualLine) string { return v.LocationID },
	// A line that records must still record at its new location.
	changed: func(ctx context.Context, tx directory.Tx, orgID string, before, next *callrec.VirtualLine) error {
		if next.LocationID == before.LocationID {
			return nil
		}
		return stillRecordable(ctx, tx, orgID, "locationId", policy.Target{Line: before}, policy.Target{Line: next}, next.Recording)
	},
	member: true}

// listVirtualLines is GET /v1/telephony/config/virtualLines.
func (s *server) listVirtualLines(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	q := r.URL.Query()
	ids := idFilter(q.Get("id"), idVirtualLine)
	locID, locSet, locOK := locationFilter(q.Get("locationId"))
	return dirList(s, w, r, directory.VirtualLines, org.ID, "virtualLines", func(v *callrec.VirtualLine) bool {
		return locOK && (ids == nil || ids[v.ID]) && (!locSet || v.LocationID == locID)
	}, renderVirtualLine)
}

// createVirtualLine is POST /v1/telephony/config/virtualLines.
func (s *server) createVirtualLine(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var body newVirtualLineBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	if strings.TrimSpace(body.LocationID) == "" {
		return badRequest("locationId: required")
	}
	u := virtualLineUpdateBody{FirstName: &body.FirstName, LastName: &body.LastName, DisplayName: &body.DisplayName,
		PhoneNumber: &body.PhoneNumber, Extension: &body.Extension, LocationID: &body.LocationID,
		AssignedPeople: body.AssignedPeople, Listeners: body.Listeners}
	if body.AnnouncementLanguage != "" {
		u.AnnouncementLanguage = &body.AnnouncementLanguage
	}
	v := &callrec.VirtualLine{ID: uuid.NewString(), OrgID: org.ID, People: []string{}, Listeners: []string{},
		Recording: callrec.DefaultUserRecording(), Created: s.now().UTC()}
	return dirCreate(s, w, r, tok, org, &virtualLineType, v, func(ctx context.Context, tx directory.Tx) error {
		if err := virtualLineFields(ctx, tx, org, v, &u); err != nil {
			return err
		}
		if err := require(tok, org, permWrite, v.LocationID); err != nil {
			return err
		}
		return defaultLanguage(ctx, tx, org.ID, v.LocationID, &v.Language)
	}, plainRender(renderVirtualLine))
}

// defaultLanguage sets an empty language to the location's (R21: people
// and lines start with their location's announcement language).
func defaultLanguage(ctx context.Context, tx directory.Tx, orgID, locationID string, lang *string) error {
	if *lang != "" {
		return nil
	}
	loc, err := directory.Locations.Get(ctx, tx, orgID, locationID)
	if err != nil {
		return fmt.Errorf("api: default language: %w", err)
	}
	*lang = loc.Language
	return nil
}

// getAssignedPeople is GET .../virtualLines/{virtualLineId}/assignedPeople.
func (s *server) getAssignedPeople(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	out := assignedPeopleJSON{People: []assignedPersonJSON{}}
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		v, err := virtualLineType.fromPath(r.Context(), tx, r, org.ID)
		if err != nil {
			return err
		}
		out.PhoneNumber, out.Extension = v.PhoneNumber, v.Extension
		for _, id := range v.People {
			p, err := directory.People.Get(r.Context(), tx, org.ID, id)
			if directory.IsNotFound(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("api: assigned people: %w", err)
			}
			out.People = append(out.People, assignedPersonJSON{ID: webexID(idPerson, p.ID), FirstName: p.FirstName, LastName: p.LastName,
				DisplayName: p.DisplayName, Email: p.Email()})
		}
		return nil
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
