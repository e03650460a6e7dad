package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// licenseTypes are the licences a person can hold (R1: only the first
// two can record).
var licenseTypes = []string{callrec.LicenseProfessional, callrec.LicenseBasic, callrec.LicenseWorkspace,
	callrec.LicenseProfessionalWorkspace, callrec.LicenseVirtualProfile, callrec.LicenseCommonArea}

// phoneNumberJSON is one of a person's numbers (Webex people shape).
// callrec keeps E.164 work numbers only.
type phoneNumberJSON struct {
	Type  string `json:"type" doc:"work"`
	Value string `json:"value" doc:"E.164 number, e.g. +4512345678"`
}

// personJSON is a person as the API renders it (Webex /v1/people shape
// plus callrec's licenseType, announcementLanguage and sipCredentials).
type personJSON struct {
	ID                   string              `json:"id"`
	Emails               []string            `json:"emails"`
	PhoneNumbers         []phoneNumberJSON   `json:"phoneNumbers"`
	Extension            string              `json:"extension,omitempty"`
	LocationID           string              `json:"locationId"`
	DisplayName          string              `json:"displayName"`
	FirstName            string              `json:"firstName,omitempty"`
	LastName             string              `json:"lastName,omitempty"`
	OrgID                string              `json:"orgId"`
	LicenseType          string              `json:"licenseType"`
	AnnouncementLanguage string              `json:"announcementLanguage"`
	SIPCredentials       *sipCredentialsJSON `json:"sipCredentials,omitempty" doc:"the person's SIP digest user name; the password is never shown"`
	Created              string              `json:"created"`
}

// newPersonBody is the body of POST /v1/people.
type newPersonBody struct {
	Emails               []string          `json:"emails"`
	DisplayName          string            `json:"displayName,omitempty" doc:"default: first and last name, else the email"`
	FirstName            string            `json:"firstName,omitempty"`
	LastName             string            `json:"lastName,omitempty"`
	LocationID           string            `json:"locationId"`
	LicenseType          string            `json:"licenseType,omitempty" doc:"callrec: PROFESSIONAL_USER (default), BASIC_USER, WORKSPACE, PROFESSIONAL_WORKSPACE, VIRTUAL_PROFILE or COMMON_AREA (R1)"`
	Extension            string            `json:"extension,omitempty"`
	PhoneNumbers         []phoneNumberJSON `json:"phoneNumbers,omitempty"`
	AnnouncementLanguage string            `json:"announcementLanguage,omitempty" doc:"callrec: language code; default the location's (R21)"`
	SIPCredentials       *sipLoginBody     `json:"sipCredentials,omitempty" doc:"callrec: SIP digest credentials of the person's devices (realm callrec); write-only password"`
}

// personUpdateBody is the body of PUT /v1/people/{personId}: omitted
// fields keep their value; sipCredentials with an empty username and
// password removes them, and the current username without a password
// keeps them. The person's recording settings are not changed here.
type personUpdateBody struct {
	Emails               []string          `json:"emails,omitempty"`
	DisplayName          *string           `json:"displayName,omitempty"`
	FirstName            *string           `json:"firstName,omitempty"`
	LastName             *string           `json:"lastName,omitempty"`
	LocationID           *string           `json:"locationId,omitempty"`
	LicenseType          *string           `json:"licenseType,omitempty"`
	Extension            *string           `json:"extension,omitempty"`
	PhoneNumbers         []phoneNumberJSON `json:"phoneNumbers,omitempty"`
	AnnouncementLanguage *string           `json:"announcementLanguage,omitempty"`
	SIPCredentials       *sipLoginBody     `json:"sipCredentials,omitempty"`
}

func renderPerson(p *callrec.Person) personJSON {
	nums := make([]phoneNumberJSON, 0, len(p.PhoneNumbers))
	for _, n := range p.PhoneNumbers {
		nums = append(nums, phoneNumberJSON{Type: "work", Value: n})
	}
	emails := p.Emails
	if emails == nil {
		emails = []string{}
	}
	return personJSON{ID: webexID(idPerson, p.ID), Emails: emails, PhoneNumbers: nums, Extension: p.Extension,
		LocationID: webexID(idLocation, p.LocationID), DisplayName: p.DisplayName, FirstName: p.FirstName, LastName: p.LastName,
		OrgID: webexID(idOrg, p.OrgID), LicenseType: p.License, AnnouncementLanguage: p.Language,
		SIPCredentials: renderSIP(p.SIP), Created: dirTime(p.Created)}
}

// peopleRoutes registers the people.
func (s *server) peopleRoutes() {
	const tag = "People"
	s.register(op{Method: "GET", Path: "/v1/people", Summary: "List the organization's people", Tag: tag,
		Access: "org admins (read)", Query: append(append([]param{}, orgDirectoryQuery...),
			param{"email", "string", "only the person with this email (case-insensitive)"},
			param{"displayName", "string", "only people whose display name starts with this (case-insensitive)"},
			param{"id", "string", "comma-separated person ids"},
			param{"locationId", "string", "only people of this location"}),
		Resp: struct {
			Items []personJSON `json:"items"`
		}{}, Handler: s.inOrgScope(permRead, s.listPeople)})
	s.register(op{Method: "POST", Path: "/v1/people", Summary: "Create a person. Recording starts off (R25 defaults); callrec adds licenseType, announcementLanguage, sipCredentials and created", Tag: tag,
		Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID},
		Body: newPersonBody{}, Resp: personJSON{}, Handler: s.inOrgScope(permWrite, s.createPerson)})
	s.register(op{Method: "GET", Path: "/v1/people/{personId}", Summary: "Get a person", Tag: tag,
		Access: "org admins (read)", Query: []param{qOrgID}, Resp: personJSON{}, Handler: s.inOrgScope(permRead, dirGetHandler(s, &personType, plainRender(renderPerson)))})
	s.register(op{Method: "PUT", Path: "/v1/people/{personId}", Summary: "Update a person (partial: omitted fields keep their value; recording settings are at /features/callRecording)", Tag: tag,
		Access: "full and partner admins; location admins for people of their locations", Query: []param{qOrgID},
		Body: personUpdateBody{}, Resp: personJSON{}, Handler: s.inOrgScope(permWrite, dirUpdateHandler(s, &personType, personFields, plainRender(renderPerson)))})
	s.register(op{Method: "DELETE", Path: "/v1/people/{personId}", Summary: "Delete a person: its tokens are revoked and it leaves virtual lines, call queues and hunt groups; its recordings are kept", Tag: tag,
		Access: "full and partner admins; location admins for people of their locations", Query: []param{qOrgID}, Handler: s.inOrgScope(permWrite, s.deletePerson)})
}

// personFields validates and applies a person body to p. Location
// references are resolved in tx.
func personFields(ctx context.Context, tx directory.Tx, org *callrec.Org, p *callrec.Person, u *personUpdateBody) error {
	if u.Emails != nil {
		v, err := dirEmails("emails", u.Emails)
		if err != nil {
			return err
		}
		p.Emails = v
	}
	if err := applyStrFields(strField{"displayName", u.DisplayName, &p.DisplayName, textField(maxNameLen)},
		strField{"firstName", u.FirstName, &p.FirstName, textField(maxNameLen)},
		strField{"lastName", u.LastName, &p.LastName, textField(maxNameLen)}); err != nil {
		return err
	}
	if u.LocationID != nil {
		loc, err := dirLocationRef(ctx, tx, org.ID, "locationId", *u.LocationID)
		if err != nil {
			return err
		}
		p.LocationID = loc.ID
	}
	if u.LicenseType != nil {
		v := strings.TrimSpace(*u.LicenseType)
		if err := checkEnum("licenseType", v, licenseTypes...); err != nil {
			return err
		}
		p.License = v
	}
	if err := applyStrFields(strField{"extension", u.Extension, &p.Extension, dirExtension}); err != nil {
		return err
	}
	if u.PhoneNumbers != nil {
		if len(u.PhoneNumbers) > maxNumbers {
			return badRequestf("phoneNumbers: at most %d numbers", maxNumbers)
		}
		nums := make([]string, 0, len(u.PhoneNumbers))
		for i, n := range u.PhoneNumbers {
			if n.Type != "" && n.Type != "work" {
				return badRequestf("phoneNumbers[%d].type: %s is not one of work", i, quote(n.Type))
			}
			v, err := dirE164(fmt.Sprintf("phoneNumbers[%d].value", i), n.Value)
			if err != nil {
				return err
			}
			if v == "" {
				return badRequestf("phoneNumbers[%d].value: required", i)
			}
			if slices.Contains(nums, v) {
				return badRequestf("phoneNumbers[%d].value: %s is listed twice", i, quote(n.Value))
			}
			nums = append(nums, v)
		}
		p.PhoneNumbers = nums
	}
	if err := applyStrFields(strField{"announcementLanguage", u.AnnouncementLanguage, &p.Language, dirLanguage}); err != nil {
		return err
	}
	sip, err := applySIP("sipCredentials", p.SIP, u.SIPCredentials)
	if err != nil {
		return err
	}
	p.SIP = sip
	if p.DisplayName == "" {
		p.DisplayName = strings.TrimSpace(p.FirstName + " " + p.LastName)
	}
	if p.DisplayName == "" {
		p.DisplayName = p.Email()
	}
	return nil
}

// personKeys are the unique keys a person holds, with the fields a 409 names.
func personKeys(p *callrec.Person) []keyUse {
	var uses []keyUse
	for i, e := range p.Emails {
		uses = append(uses, keyUse{directory.EmailKey(e), fmt.Sprintf("emails[%d]", i), e, ""})
	}
	if p.Extension != "" {
		uses = append(uses, numUse(p.OrgID, "extension", p.Extension))
	}
	for i, n := range p.PhoneNumbers {
		uses = append(uses, numUse(p.OrgID, fmt.Sprintf("phoneNumbers[%d].value", i), n))
	}
	if p.SIP != nil {
		uses = append(uses, keyUse{directory.SIPUserKey(p.SIP.Username), "sipCredentials.username", p.SIP.Username, ""})
	}
	return uses
}

// personType is the people for the shared handlers; the audit log keeps
// their SIP credentials without the hashes.
var personType = dirType[callrec.Person]{kind: directory.People, wildcard: "personId", idType: idPerson,
	thing: "Person", noun: "person", auditType: "person",
	id: func(p *callrec.Person) string { return p.ID }, keys: personKeys,
	location: func(p *callrec.Person) string { return p.LocationID },
	// A person who records must still record with the new licence or at
	// the new location.
	changed: func(ctx context.Context, tx directory.Tx, orgID string, before, next *callrec.Person) error {
		var changed []string
		if next.License != before.License {
			changed = append(changed, "licenseType")
		}
		if next.LocationID != before.LocationID {
			changed = append(changed, "locationId")
		}
		if len(changed) == 0 {
			return nil
		}
		return stillRecordable(ctx, tx, orgID, strings.Join(changed, ", "), policy.Target{Person: before}, policy.Target{Person: next}, next.Recording)
	},
	audited: func(p *callrec.Person) any { return auditPerson(p) },
	member:  true}

// listPeople is GET /v1/people.
func (s *server) listPeople(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	q := r.URL.Query()
	ids := idFilter(q.Get("id"), idPerson)
	email := strings.ToLower(strings.TrimSpace(q.Get("email")))
	prefix := strings.ToLower(q.Get("displayName"))
	locID, locSet, locOK := locationFilter(q.Get("locationId"))
	return dirList(s, w, r, directory.People, org.ID, "items", func(p *callrec.Person) bool {
		switch {
		case !locOK,
			ids != nil && !ids[p.ID],
			locSet && p.LocationID != locID,
			!strings.HasPrefix(strings.ToLower(p.DisplayName), prefix),
			email != "" && !slices.ContainsFunc(p.Emails, func(e string) bool { return strings.EqualFold(e, email) }):
			return false
		}
		return true
	}, renderPerson)
}

// createPerson is POST /v1/people.
func (s *server) createPerson(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var body newPersonBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	if len(body.Emails) == 0 {
		return badRequest("emails: at least one email address is required")
	}
	if strings.TrimSpace(body.LocationID) == "" {
		return badRequest("locationId: required")
	}
	u := personUpdateBody{Emails: body.Emails, LocationID: &body.LocationID, PhoneNumbers: body.PhoneNumbers, SIPCredentials: body.SIPCredentials,
		DisplayName: &body.DisplayName, FirstName: &body.FirstName, LastName: &body.LastName, Extension: &body.Extension}
	if body.LicenseType != "" {
		u.LicenseType = &body.LicenseType
	}
	if body.AnnouncementLanguage != "" {
		u.AnnouncementLanguage = &body.AnnouncementLanguage
	}
	p := &callrec.Person{ID: uuid.NewString(), OrgID: org.ID, License: callrec.LicenseProfessional,
		Recording: callrec.DefaultUserRecording(), Created: s.now().UTC()}
	return dirCreate(s, w, r, tok, org, &personType, p, func(ctx context.Context, tx directory.Tx) error {
		if err := personFields(ctx, tx, org, p, &u); err != nil {
			return err
		}
		if err := require(tok, org, permWrite, p.LocationID); err != nil {
			return err
		}
		return defaultLanguage(ctx, tx, org.ID, p.LocationID, &p.Language)
	}, plainRender(renderPerson))
}

// deletePerson is DELETE /v1/people/{personId}. The person's tokens are
// revoked first, so a failure later never leaves a token of a deleted
// person working; then, in one transaction, the person leaves every
// virtual line (assigned or listener, R32) and every call queue and hunt
// group, and is deleted.
func (s *server) deletePerson(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	ctx := r.Context()
	var p *callrec.Person
	if err := s.store.View(ctx, func(tx directory.Tx) error {
		var err error
		p, err = personType.fromPath(ctx, tx, r, org.ID)
		return err
	}); err != nil {
		return err
	}
	if err := require(tok, org, permWrite, p.LocationID); err != nil {
		return err
	}
	if _, err := s.store.DeleteTokensOfPerson(ctx, p.ID); err != nil {
		return fmt.Errorf("api: delete person: revoke tokens: %w", err)
	}
	return s.updateNoContent(w, r, func(ctx context.Context, tx directory.Tx) error {
		cur, err := personType.fromPath(ctx, tx, r, org.ID)
		if err != nil {
			return err
		}
		if err := s.dropPersonRefs(ctx, tx, tok, org.ID, cur.ID); err != nil {
			return err
		}
		return dirRemove(s, ctx, tx, tok, org.ID, &personType, cur)
	})
}

// dropPersonRefs removes a person from the virtual lines and features
// of the org that name it, auditing each change.
func (s *server) dropPersonRefs(ctx context.Context, tx directory.Tx, tok *callrec.Token, orgID, personID string) error {
	drop := func(ids []string) []string {
		return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == personID })
	}
	lines, err := directory.VirtualLines.List(ctx, tx, orgID)
	if err != nil {
		return fmt.Errorf("api: delete person: %w", err)
	}
	for i := range lines {
		before := lines[i]
		next := before
		next.People, next.Listeners = drop(before.People), drop(before.Listeners)
		if len(next.People) == len(before.People) && len(next.Listeners) == len(before.Listeners) {
			continue
		}
		if err := directory.VirtualLines.Put(ctx, tx, &next); err != nil {
			return fmt.Errorf("api: delete person: %w", err)
		}
		if err := s.audit(ctx, tx, tok, orgID, "update", "virtualLine", next.ID, &before, &next); err != nil {
			return err
		}
	}
	feats, err := directory.Features.List(ctx, tx, orgID)
	if err != nil {
		return fmt.Errorf("api: delete person: %w", err)
	}
	for i := range feats {
		before := feats[i]
		next := before
		next.Members = drop(before.Members)
		if len(next.Members) == len(before.Members) {
			continue
		}
		if err := directory.Features.Put(ctx, tx, &next); err != nil {
			return fmt.Errorf("api: delete person: %w", err)
		}
		if err := s.audit(ctx, tx, tok, orgID, "update", next.Kind, next.ID, &before, &next); err != nil {
			return err
		}
	}
	return nil
}
