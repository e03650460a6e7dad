package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// tokenPrefix starts every token value the API hands out, so a leaked
// value is recognisable (secret scanners, logs).
const tokenPrefix = "crk_"

// tokenJSON is a token as the API lists it: never its value or hash.
type tokenJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	OrgID       string   `json:"orgId,omitempty" doc:"absent for partner admin tokens"`
	PartnerID   string   `json:"partnerId,omitempty" doc:"partner admin tokens: the partner whose orgs they manage"`
	PersonID    string   `json:"personId,omitempty"`
	Email       string   `json:"email,omitempty"`
	LocationIDs []string `json:"locationIds,omitempty"`
	Created     string   `json:"created"`
	Expires     string   `json:"expires,omitempty" doc:"absent: never expires"`
}

// createdTokenJSON is the answer to POST /v1/tokens: the only time the
// token's value is shown.
type createdTokenJSON struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	OrgID       string   `json:"orgId,omitempty"`
	PartnerID   string   `json:"partnerId,omitempty"`
	PersonID    string   `json:"personId,omitempty"`
	Email       string   `json:"email,omitempty"`
	LocationIDs []string `json:"locationIds,omitempty"`
	Created     string   `json:"created"`
	Expires     string   `json:"expires,omitempty"`
	Token       string   `json:"token" doc:"the bearer value; shown once, only its SHA-256 is stored"`
}

// newTokenBody is the body of POST /v1/tokens.
type newTokenBody struct {
	Name        string   `json:"name"`
	Role        string   `json:"role" doc:"partnerAdmin, fullAdmin, readOnlyAdmin, locationAdmin, user or complianceOfficer"`
	Email       string   `json:"email,omitempty" doc:"who holds it (audit actor, provider-admin identity R11); default the person's email"`
	PersonID    string   `json:"personId,omitempty" doc:"required for role user"`
	LocationIDs []string `json:"locationIds,omitempty" doc:"required for role locationAdmin, refused otherwise"`
	Expires     string   `json:"expires,omitempty" doc:"RFC 3339 time; absent: never expires"`
}

func renderToken(t *callrec.Token) tokenJSON {
	out := tokenJSON{ID: webexID(idToken, t.ID), Name: t.Name, Role: t.Role, PartnerID: t.PartnerID, Email: t.Email,
		Created: dirTime(t.Created), Expires: dirTime(t.Expires)}
	if t.OrgID != "" {
		out.OrgID = webexID(idOrg, t.OrgID)
	}
	if t.PersonID != "" {
		out.PersonID = webexID(idPerson, t.PersonID)
	}
	if len(t.LocationIDs) > 0 {
		out.LocationIDs = webexIDs(idLocation, t.LocationIDs)
	}
	return out
}

// tokenRoutes registers the API tokens.
func (s *server) tokenRoutes() {
	const tag = "Tokens"
	s.register(op{Method: "POST", Path: "/v1/tokens", Summary: "Create an API token (callrec). The value is in the answer once; only its SHA-256 is stored. A partnerAdmin token is created without orgId and belongs to the caller's partner", Tag: tag,
		Access: "partner admins: any role in the orgs they manage, and partnerAdmin tokens of their partner; full admins: any role but partnerAdmin in their org",
		Query:  []param{qOrgID}, Body: newTokenBody{}, Resp: createdTokenJSON{}, Handler: s.authed(s.createToken)})
	s.register(op{Method: "GET", Path: "/v1/tokens", Summary: "List API tokens (never their values): the organization's, or with level=partner the partner admin tokens of the caller's partner", Tag: tag,
		Access: "partner admins, org full and read-only admins",
		Query:  []param{qOrgID, qStart, qMax, {"level", "string", "org (default) or partner"}},
		Resp: struct {
			Items []tokenJSON `json:"items"`
		}{}, Handler: s.authed(s.listTokens)})
	s.register(op{Method: "DELETE", Path: "/v1/tokens/{tokenId}", Summary: "Revoke an API token; it answers 401 from then on", Tag: tag,
		Access: "partner admins managing its org (or its partner), full admins of its org, and the token itself", Handler: s.authed(s.deleteToken)})
}

// newTokenValue returns a fresh bearer value and its stored hash.
func newTokenValue() (value, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	value = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(value))
	return value, hex.EncodeToString(sum[:])
}

// createToken is POST /v1/tokens.
func (s *server) createToken(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	ctx := r.Context()
	// Who may create tokens is settled before the body is read: another
	// org's admin learns nothing (404), other roles get 403.
	if !isPartner(tok) {
		org, err := s.actingOrg(r, tok)
		if err != nil {
			return err
		}
		if tok.Role != callrec.RoleFullAdmin || tok.OrgID != org.ID {
			return forbidden("Only full and partner administrators may create tokens")
		}
	}
	var body newTokenBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	name, err := dirRequiredText("name", body.Name, maxNameLen)
	if err != nil {
		return err
	}
	role := strings.TrimSpace(body.Role)
	if role == "" {
		return badRequest("role: required")
	}
	if err := checkEnum("role", role, callrec.Roles...); err != nil {
		return err
	}
	t := &callrec.Token{ID: uuid.NewString(), Name: name, Role: role, Created: s.now().UTC()}
	if body.Expires != "" {
		exp, err := time.Parse(time.RFC3339, strings.TrimSpace(body.Expires))
		if err != nil {
			return badRequestf("expires: %s is not an RFC 3339 time such as 2027-01-31T12:00:00Z", quote(body.Expires))
		}
		if !exp.After(s.now()) {
			return badRequestf("expires: %s is not in the future", quote(body.Expires))
		}
		t.Expires = exp.UTC()
	}
	if body.Email != "" {
		if t.Email, err = dirEmail("email", body.Email); err != nil {
			return err
		}
	}
	if role == callrec.RolePartnerAdmin {
		if !isPartner(tok) || tok.PartnerID == "" {
			return forbidden("Only a partner administrator may create partnerAdmin tokens")
		}
		if r.URL.Query().Get("orgId") != "" {
			return badRequest("orgId: a partnerAdmin token belongs to no organization; omit orgId")
		}
		if body.PersonID != "" || len(body.LocationIDs) > 0 {
			return badRequest("personId, locationIds: not allowed for role partnerAdmin")
		}
		t.PartnerID = tok.PartnerID
	} else {
		org, err := s.actingOrg(r, tok)
		if err != nil {
			return err
		}
		if !managesOrg(tok, org) && !(tok.Role == callrec.RoleFullAdmin && tok.OrgID == org.ID) {
			return forbidden("Only full and partner administrators may create tokens")
		}
		t.OrgID = org.ID
		if err := s.store.View(ctx, func(tx directory.Tx) error { return tokenRefs(ctx, tx, org, t, &body) }); err != nil {
			return err
		}
	}
	value, hash := newTokenValue()
	t.Hash = hash
	if err := s.store.CreateToken(ctx, t); err != nil {
		return fmt.Errorf("api: create token: %w", err)
	}
	r0 := renderToken(t)
	out := createdTokenJSON{ID: r0.ID, Name: r0.Name, Role: r0.Role, OrgID: r0.OrgID, PartnerID: r0.PartnerID, PersonID: r0.PersonID,
		Email: r0.Email, LocationIDs: r0.LocationIDs, Created: r0.Created, Expires: r0.Expires, Token: value}
	if err := s.store.Update(ctx, func(tx directory.Tx) error {
		return s.audit(ctx, tx, tok, t.OrgID, "create", "token", t.ID, nil, r0)
	}); err != nil {
		// No token without its audit entry.
		if derr := s.store.DeleteToken(context.WithoutCancel(ctx), t.ID); derr != nil {
			err = errors.Join(err, derr)
		}
		return fmt.Errorf("api: create token: %w", err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// tokenRefs validates the person and locations a new org token names.
func tokenRefs(ctx context.Context, tx directory.Tx, org *callrec.Org, t *callrec.Token, body *newTokenBody) error {
	if t.Role == callrec.RoleLocationAdmin {
		if len(body.LocationIDs) == 0 {
			return badRequest("locationIds: required for role locationAdmin")
		}
		if len(body.LocationIDs) > maxRefs {
			return badRequestf("locationIds: at most %d locations", maxRefs)
		}
		for i, raw := range body.LocationIDs {
			loc, err := dirLocationRef(ctx, tx, org.ID, fmt.Sprintf("locationIds[%d]", i), raw)
			if err != nil {
				return err
			}
			if !slices.Contains(t.LocationIDs, loc.ID) {
				t.LocationIDs = append(t.LocationIDs, loc.ID)
			}
		}
	} else if len(body.LocationIDs) > 0 {
		return badRequest("locationIds: only for role locationAdmin")
	}
	if body.PersonID == "" {
		if t.Role == callrec.RoleUser {
			return badRequest("personId: required for role user")
		}
		return nil
	}
	id, ok := parseID(idPerson, strings.TrimSpace(body.PersonID))
	var p *callrec.Person
	if ok {
		var err error
		p, err = directory.People.Get(ctx, tx, org.ID, id)
		if err != nil && !directory.IsNotFound(err) {
			return fmt.Errorf("api: token person: %w", err)
		}
	}
	if p == nil {
		return badRequestf("personId: person %s was not found", quote(body.PersonID))
	}
	t.PersonID = p.ID
	switch {
	case t.Email == "":
		t.Email = p.Email()
	case !slices.ContainsFunc(p.Emails, func(e string) bool { return strings.EqualFold(e, t.Email) }):
		return badRequestf("email: %s is not an email of the person", quote(t.Email))
	}
	return nil
}

// listTokens is GET /v1/tokens.
func (s *server) listTokens(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	ctx := r.Context()
	start, max, err := listParams100(r)
	if err != nil {
		return err
	}
	level := r.URL.Query().Get("level")
	if level == "" {
		level = "org"
	}
	if err := checkEnum("level", level, "org", "partner"); err != nil {
		return err
	}
	var toks []callrec.Token
	if level == "partner" {
		if !isPartner(tok) {
			return forbidden("Only a partner administrator may list partner tokens")
		}
		if r.URL.Query().Get("orgId") != "" {
			return badRequest("orgId: partner tokens belong to no organization; omit orgId with level=partner")
		}
		all, err := s.store.ListTokens(ctx, "", "")
		if err != nil {
			return fmt.Errorf("api: list tokens: %w", err)
		}
		for _, t := range all {
			if t.OrgID == "" && (tok.PartnerID == callrec.RootPartner || t.PartnerID == tok.PartnerID) {
				toks = append(toks, t)
			}
		}
	} else {
		org, err := s.actingOrg(r, tok)
		if err != nil {
			return err
		}
		if err := require(tok, org, permRead, ""); err != nil {
			return err
		}
		if tok.Role == callrec.RoleLocationAdmin {
			return forbidden("A location administrator may not list tokens")
		}
		if toks, err = s.store.ListTokens(ctx, org.ID, ""); err != nil {
			return fmt.Errorf("api: list tokens: %w", err)
		}
	}
	items := make([]tokenJSON, 0, len(toks))
	for i := range toks {
		items = append(items, renderToken(&toks[i]))
	}
	writePage(s, w, r, items, start, max, "items", nil)
	return nil
}

// deleteToken is DELETE /v1/tokens/{tokenId}. A token the caller cannot
// see is 404; one it sees but may not revoke is 403.
func (s *server) deleteToken(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	ctx := r.Context()
	raw := r.PathValue("tokenId")
	id, ok := parseID(idToken, raw)
	if !ok {
		return notFoundThing("Token", raw)
	}
	var target *callrec.Token
	if id == tok.ID {
		target = tok
	} else {
		all, err := s.store.ListTokens(ctx, "", "")
		if err != nil {
			return fmt.Errorf("api: delete token: %w", err)
		}
		for i := range all {
			if all[i].ID == id {
				target = &all[i]
				break
			}
		}
		if target == nil {
			return notFoundThing("Token", raw)
		}
		if err := s.mayRevoke(ctx, tok, target, raw); err != nil {
			return err
		}
	}
	if err := s.store.DeleteToken(ctx, target.ID); err != nil {
		if errors.Is(err, callrec.ErrNotFound) {
			return notFoundThing("Token", raw)
		}
		return fmt.Errorf("api: delete token: %w", err)
	}
	if err := s.store.Update(ctx, func(tx directory.Tx) error {
		return s.audit(ctx, tx, tok, target.OrgID, "delete", "token", target.ID, renderToken(target), nil)
	}); err != nil {
		return fmt.Errorf("api: delete token: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// mayRevoke decides whether tok may revoke target (another token).
func (s *server) mayRevoke(ctx context.Context, tok, target *callrec.Token, raw string) error {
	if target.OrgID == "" {
		if isPartner(tok) && (tok.PartnerID == callrec.RootPartner || tok.PartnerID == target.PartnerID) {
			return nil
		}
		return notFoundThing("Token", raw)
	}
	var org *callrec.Org
	err := s.store.View(ctx, func(tx directory.Tx) error {
		var err error
		org, err = directory.Orgs.Get(ctx, tx, "", target.OrgID)
		return err
	})
	if directory.IsNotFound(err) {
		return notFoundThing("Token", raw)
	}
	if err != nil {
		return fmt.Errorf("api: delete token: %w", err)
	}
	if !inOrg(tok, org) {
		return notFoundThing("Token", raw)
	}
	if managesOrg(tok, org) || tok.Role == callrec.RoleFullAdmin {
		return nil
	}
	return forbidden("Only full and partner administrators may revoke other tokens")
}
