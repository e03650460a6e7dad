package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// hostingRegions are the regions an org can be hosted in (R6 compares a
// provider's regions with it).
var hostingRegions = []string{"US", "SG", "GB", "JP", "DE", "AU", "IN", "CA"}

// organizationJSON is an org as the API renders it.
type organizationJSON struct {
	ID              string `json:"id"`
	DisplayName     string `json:"displayName"`
	Created         string `json:"created"`
	HostingRegion   string `json:"hostingRegion"`
	DefaultLanguage string `json:"defaultLanguage"`
}

// newOrganizationBody is the body of POST /v1/organizations.
type newOrganizationBody struct {
	DisplayName     string `json:"displayName"`
	HostingRegion   string `json:"hostingRegion,omitempty" doc:"US, SG, GB, JP, DE, AU, IN or CA; default US"`
	DefaultLanguage string `json:"defaultLanguage,omitempty" doc:"announcement language of the org (R21); default en_US"`
}

// organizationUpdateBody is the body of PUT /v1/organizations/{orgId}:
// omitted fields keep their value.
type organizationUpdateBody struct {
	DisplayName     *string `json:"displayName,omitempty"`
	HostingRegion   *string `json:"hostingRegion,omitempty"`
	DefaultLanguage *string `json:"defaultLanguage,omitempty"`
}

func renderOrg(o *callrec.Org) organizationJSON {
	lang := o.Language
	if lang == "" {
		lang = callrec.DefaultLanguage
	}
	return organizationJSON{ID: webexID(idOrg, o.ID), DisplayName: o.Name, Created: dirTime(o.Created), HostingRegion: o.Region, DefaultLanguage: lang}
}

// organizationRoutes registers the organizations.
func (s *server) organizationRoutes() {
	const tag = "Organizations"
	s.register(op{Method: "GET", Path: "/v1/organizations", Summary: "List organizations: a partner admin's managed orgs, or the caller's own org", Tag: tag,
		Access: "any token: partner admins see the orgs they manage, everybody else their own org", Query: []param{qStart, qMax},
		Resp: struct {
			Items []organizationJSON `json:"items"`
		}{}, Handler: s.authed(s.listOrganizations)})
	s.register(op{Method: "POST", Path: "/v1/organizations", Summary: "Create an organization (callrec: Webex creates orgs in Partner Hub). It belongs to the caller's partner, is not entitled to recording (R2) and has the built-in provider chosen with its terms not yet accepted (R13)", Tag: tag,
		Access: "partner admins", Body: newOrganizationBody{}, Resp: organizationJSON{}, Handler: s.authed(s.createOrganization)})
	s.register(op{Method: "GET", Path: "/v1/organizations/{orgId}", Summary: "Get an organization", Tag: tag,
		Access: "partner admins managing it; any token of the org", Resp: organizationJSON{}, Handler: s.authed(s.getOrganization)})
	s.register(op{Method: "PUT", Path: "/v1/organizations/{orgId}", Summary: "Update an organization's display name, hosting region or default language", Tag: tag,
		Access: "partner admins managing it", Body: organizationUpdateBody{}, Resp: organizationJSON{}, Handler: s.authed(s.updateOrganization)})
	s.register(op{Method: "DELETE", Path: "/v1/organizations/{orgId}", Summary: "Delete an empty organization (409 while it has locations, people, other objects, tokens or recordings)", Tag: tag,
		Access: "partner admins managing it", Handler: s.authed(s.deleteOrganization)})
}

// listOrganizations is GET /v1/organizations.
func (s *server) listOrganizations(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	return dirList(s, w, r, directory.Orgs, "", "items", func(o *callrec.Org) bool { return inOrg(tok, o) }, renderOrg)
}

// orgType is the organizations for the shared store helpers.
var orgType = dirType[callrec.Org]{kind: directory.Orgs, thing: "Organization", noun: "organization", auditType: "organization",
	id: func(o *callrec.Org) string { return o.ID },
	keys: func(o *callrec.Org) []keyUse {
		return []keyUse{{directory.OrgNameKey(o.Name), "displayName", o.Name, ""}}
	}}

// pathOrg resolves the {orgId} of the organizations paths: an org the
// token does not belong to or manage is 404.
func (s *server) pathOrg(ctx context.Context, tx directory.Tx, r *http.Request, tok *callrec.Token) (*callrec.Org, error) {
	raw := r.PathValue("orgId")
	org, err := dirLoad(ctx, tx, directory.Orgs, "", idOrg, "Organization", raw)
	if err != nil {
		return nil, err
	}
	if !inOrg(tok, org) {
		return nil, notFoundThing("Organization", raw)
	}
	return org, nil
}

// orgFields validates the fields of an org body into o.
func orgFields(o *callrec.Org, name, region, lang *string) error {
	if err := applyStrFields(strField{"displayName", name, &o.Name, requiredTextField(maxNameLen)}); err != nil {
		return err
	}
	if region != nil {
		v := strings.ToUpper(strings.TrimSpace(*region))
		if err := checkEnum("hostingRegion", v, hostingRegions...); err != nil {
			return err
		}
		o.Region = v
	}
	if lang != nil {
		v, err := dirLanguage("defaultLanguage", *lang)
		if err != nil {
			return err
		}
		if v == "" {
			v = callrec.DefaultLanguage
		}
		o.Language = v
	}
	return nil
}

// createOrganization is POST /v1/organizations.
func (s *server) createOrganization(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	if !isPartner(tok) || tok.PartnerID == "" {
		return forbidden("Only a partner administrator may create organizations")
	}
	var body newOrganizationBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	org := &callrec.Org{
		ID:        uuid.NewString(),
		Created:   s.now().UTC(),
		PartnerID: tok.PartnerID,
		Region:    "US",
		Language:  callrec.DefaultLanguage,
		Recording: callrec.DefaultOrgRecording(),
	}
	region, lang := &body.HostingRegion, &body.DefaultLanguage
	if body.HostingRegion == "" {
		region = nil
	}
	if body.DefaultLanguage == "" {
		lang = nil
	}
	if err := orgFields(org, &body.DisplayName, region, lang); err != nil {
		return err
	}
	return dirCreate(s, w, r, tok, org, &orgType, org, nil, plainRender(renderOrg))
}

// getOrganization is GET /v1/organizations/{orgId}.
func (s *server) getOrganization(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	return s.viewJSON(w, r, func(ctx context.Context, tx directory.Tx) (any, error) {
		org, err := s.pathOrg(ctx, tx, r, tok)
		if err != nil {
			return nil, err
		}
		return renderOrg(org), nil
	})
}

// updateOrganization is PUT /v1/organizations/{orgId}.
func (s *server) updateOrganization(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	var body organizationUpdateBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	return s.updateJSON(w, r, func(ctx context.Context, tx directory.Tx) (any, error) {
		before, err := s.pathOrg(ctx, tx, r, tok)
		if err != nil {
			return nil, err
		}
		if err := require(tok, before, permPartner, ""); err != nil {
			return nil, err
		}
		next := *before
		if err := orgFields(&next, body.DisplayName, body.HostingRegion, body.DefaultLanguage); err != nil {
			return nil, err
		}
		if sameJSON(before, &next) {
			return renderOrg(&next), nil
		}
		if next.Region != before.Region {
			if err := regionStillOffered(ctx, tx, &next); err != nil {
				return nil, err
			}
		}
		if before.Name == callrec.DefaultOrgName && next.Name != before.Name {
			// Recordings of unbound sources land in the org found by this name.
			return nil, conflictf("displayName: the built-in organization %q cannot be renamed", callrec.DefaultOrgName)
		}
		if err := dirSave(s, ctx, tx, tok, next.ID, &orgType, before, &next); err != nil {
			return nil, err
		}
		return renderOrg(&next), nil
	})
}

// regionStillOffered refuses to move an org to a hosting region where a
// provider it or one of its locations has chosen is not offered (R6).
func regionStillOffered(ctx context.Context, tx directory.Tx, org *callrec.Org) error {
	snap, err := directory.Snapshot(ctx, tx, org.ID)
	if err != nil {
		return fmt.Errorf("api: region check: %w", err)
	}
	chosen := map[string]string{org.Recording.VendorID: "the organization"}
	for _, l := range snap.Locations {
		if l.Recording.VendorID != "" {
			chosen[l.Recording.VendorID] = "location " + quote(l.Name)
		}
	}
	for id, where := range chosen {
		p, ok := snap.Providers[id]
		if ok && len(p.Regions) > 0 && !slices.Contains(p.Regions, org.Region) {
			return conflictf("hostingRegion: provider %s, chosen for %s, is not offered in region %s (R6); choose another vendor first", quote(p.Name), where, org.Region)
		}
	}
	return nil
}

// orgContents are the kinds of directory objects whose presence keeps an
// org from being deleted, with the words of the 409.
var orgContents = []struct {
	kind      string
	one, many string
}{
	{directory.Locations.Name, "location", "locations"},
	{directory.People.Name, "person", "people"},
	{directory.VirtualLines.Name, "virtual line", "virtual lines"},
	{directory.Features.Name, "feature", "features"},
	{directory.Trunks.Name, "trunk", "trunks"},
	{directory.Sources.Name, "SIPREC source", "SIPREC sources"},
	{directory.AnnouncementFiles.Name, "announcement file", "announcement files"},
}

// orgSettings are the kinds of the org's own settings documents, deleted
// with it: terms acceptances, provider accounts and jobs.
var orgSettings = []string{directory.Terms.Name, directory.Accounts.Name, directory.Jobs.Name}

// deleteOrganization is DELETE /v1/organizations/{orgId}: only an empty
// org goes (no directory objects, tokens or recordings); its settings
// documents (terms acceptances, provider accounts, jobs) go with it.
func (s *server) deleteOrganization(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	ctx := r.Context()
	var org *callrec.Org
	if err := s.store.View(ctx, func(tx directory.Tx) error {
		var err error
		org, err = s.pathOrg(ctx, tx, r, tok)
		return err
	}); err != nil {
		return err
	}
	if err := require(tok, org, permPartner, ""); err != nil {
		return err
	}
	if org.Name == callrec.DefaultOrgName {
		return conflictf("The built-in organization %q cannot be deleted", callrec.DefaultOrgName)
	}
	var held []string
	toks, err := s.store.ListTokens(ctx, org.ID, "")
	if err != nil {
		return fmt.Errorf("api: delete org: %w", err)
	}
	if n := len(toks); n > 0 {
		held = append(held, plural(n, "token", "tokens"))
	}
	recs, err := s.store.ListRecordings(ctx, callrec.RecordingQuery{OrgID: org.ID, Limit: 1})
	if err != nil {
		return fmt.Errorf("api: delete org: %w", err)
	}
	if len(recs) > 0 {
		held = append(held, "recordings")
	}
	err = s.store.Update(ctx, func(tx directory.Tx) error {
		for _, c := range orgContents {
			rs, err := tx.List(ctx, c.kind, org.ID)
			if err != nil {
				return fmt.Errorf("api: delete org: %w", err)
			}
			if len(rs) > 0 {
				held = append(held, plural(len(rs), c.one, c.many))
			}
		}
		if len(held) > 0 {
			return conflictf("Organization %s still has %s; delete them first", quote(org.Name), strings.Join(held, ", "))
		}
		for _, kind := range orgSettings {
			rs, err := tx.List(ctx, kind, org.ID)
			if err != nil {
				return fmt.Errorf("api: delete org: %w", err)
			}
			for _, rec := range rs {
				if err := tx.Delete(ctx, kind, rec.ID); err != nil {
					return fmt.Errorf("api: delete org: %w", err)
				}
			}
		}
		if err := tx.Delete(ctx, directory.Orgs.Name, org.ID); err != nil {
			if errors.Is(err, callrec.ErrConflict) { // the store found what appeared meanwhile
				return &apiError{kind: callrec.ErrConflict, msgs: []string{fmt.Sprintf("Organization %s still has recordings, tokens or other objects; delete them first", quote(org.Name))}, cause: err}
			}
			return fmt.Errorf("api: delete org: %w", err)
		}
		return s.audit(ctx, tx, tok, org.ID, "delete", "organization", org.ID, org, nil)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
