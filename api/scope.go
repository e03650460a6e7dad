package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// Permissions an admin operation needs. Who holds which:
//
//	                      read  write  partner
//	partner admin          yes   yes    yes   (orgs of its partner; root: every org)
//	org full admin         yes   yes    -
//	read-only admin        yes   -      -
//	location admin         yes   own locations only
//	user                   -     -      -     (its own settings through /me)
//	compliance officer     -     -      -     (recordings and the audit log)
type perm int

const (
	permRead    perm = iota // read configuration of the org (or of a location)
	permWrite               // change configuration of the org (or of a location)
	permPartner             // partner-only operations (R2 entitlement, orgs, providers)
)

// isPartner says whether the token is a partner admin.
func isPartner(tok *callrec.Token) bool { return tok.Role == callrec.RolePartnerAdmin }

// managesOrg says whether a partner admin manages the org.
func managesOrg(tok *callrec.Token, org *callrec.Org) bool {
	return isPartner(tok) && (tok.PartnerID == callrec.RootPartner || tok.PartnerID == org.PartnerID)
}

// inOrg says whether the token belongs to the org or manages it.
func inOrg(tok *callrec.Token, org *callrec.Org) bool {
	return managesOrg(tok, org) || (tok.OrgID != "" && tok.OrgID == org.ID)
}

// require checks that tok may do p in org, at locationID when the object
// is a location's ("" = org level). A token of another org never gets
// here (actingOrg answers 404 first); a role without the permission gets
// 403 naming what it lacks.
func require(tok *callrec.Token, org *callrec.Org, p perm, locationID string) error {
	if !inOrg(tok, org) {
		return notFoundf("Organization was not found")
	}
	if managesOrg(tok, org) {
		return nil
	}
	switch p {
	case permPartner:
		return forbidden("Only a partner administrator may do this")
	case permRead:
		switch tok.Role {
		case callrec.RoleFullAdmin, callrec.RoleReadOnlyAdmin, callrec.RoleLocationAdmin:
			return nil
		}
		return forbidden("The " + tok.Role + " role may not read the organization's configuration")
	case permWrite:
		switch tok.Role {
		case callrec.RoleFullAdmin:
			return nil
		case callrec.RoleLocationAdmin:
			if locationID != "" && slices.Contains(tok.LocationIDs, locationID) {
				return nil
			}
			return forbidden("A location administrator may change only its own locations")
		}
		return forbidden("The " + tok.Role + " role may not change the organization's configuration")
	}
	return forbidden(msgForbidden)
}

// actingOrg resolves the org a request acts on (§1.3): the orgId query
// parameter when given, else the token's own org. A partner admin without
// an orgId acts on the default org when it is the root partner, and must
// name one otherwise. An org the token may not act on is 404, so a
// caller never learns that another org exists.
func (s *server) actingOrg(r *http.Request, tok *callrec.Token) (*callrec.Org, error) {
	raw := r.URL.Query().Get("orgId")
	var id string
	switch {
	case raw != "":
		var ok bool
		if id, ok = parseID(idOrg, raw); !ok {
			return nil, notFoundf("Organization %s was not found", quote(raw))
		}
	case tok.OrgID != "":
		id = tok.OrgID
	case tok.PartnerID == callrec.RootPartner:
		org, err := s.defaultOrg(r.Context())
		if err != nil {
			return nil, err
		}
		return org, nil
	default:
		return nil, badRequest("orgId: a partner administrator must name the organization to act on")
	}
	var org *callrec.Org
	err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		org, err = directory.Orgs.Get(r.Context(), tx, "", id)
		return err
	})
	if directory.IsNotFound(err) || (err == nil && !inOrg(tok, org)) {
		return nil, notFoundf("Organization %s was not found", quote(raw))
	}
	if err != nil {
		return nil, fmt.Errorf("api: acting org: %w", err)
	}
	return org, nil
}

// defaultOrg returns the built-in default org.
func (s *server) defaultOrg(ctx context.Context) (*callrec.Org, error) {
	var org *callrec.Org
	err := s.store.View(ctx, func(tx directory.Tx) error {
		var err error
		org, err = directory.Orgs.Lookup(ctx, tx, directory.OrgNameKey(callrec.DefaultOrgName))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("api: default org: %w", err)
	}
	return org, nil
}

// orgHandler is an admin handler that runs for a token in the org it acts on.
type orgHandler func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error

// inOrgScope authenticates, resolves the acting org and checks p at org
// level before calling h. Location-scoped handlers check their location
// again with require.
func (s *server) inOrgScope(p perm, h orgHandler) http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
		org, err := s.actingOrg(r, tok)
		if err != nil {
			return err
		}
		// Location admins pass the org-level write check here; the
		// handler checks the location with require(.., locationID).
		check := p
		if p == permWrite && tok.Role == callrec.RoleLocationAdmin {
			check = permRead
		}
		if err := require(tok, org, check, ""); err != nil {
			return err
		}
		return h(w, r, tok, org)
	})
}

// actor names the caller in audit entries and provider-admin lists.
func actor(tok *callrec.Token) string {
	if tok.Email != "" {
		return tok.Email
	}
	return "token:" + tok.ID
}
