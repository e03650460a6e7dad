package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// Who may do what with a recording is decided by policy.RecordingAccess
// (R3, R4; interfaces.md "First admin"); this file builds its inputs from
// the token and the store: the policy.Viewer (the token's role in the
// recording's org, whether it is the bootstrap partner admin, whether its
// email is an admin of the org's built-in provider account, the virtual
// lines whose recordings it listens to) and the owner's plan. Handlers
// answer 404 when Read is refused (the caller must not learn that the
// recording exists) and 403 when a visible recording refuses another
// action.

// recAccess resolves access to recordings for one request's token. It
// reads each org it meets once, so a list of many recordings costs one
// read transaction per org.
type recAccess struct {
	s    *server
	tok  *callrec.Token
	orgs map[string]*orgView
}

// orgView is what the token is in one org.
type orgView struct {
	in     bool // the token belongs to the org or manages it (or is the bootstrap admin)
	viewer policy.Viewer
	snap   *policy.Snapshot // nil when the org has no document
}

// accessFor starts resolving access for tok.
func (s *server) accessFor(tok *callrec.Token) *recAccess {
	return &recAccess{s: s, tok: tok, orgs: map[string]*orgView{}}
}

// isBootstrap says whether tok is the bootstrap partner admin, who holds
// compliance-officer rights over every org (interfaces.md, "First admin").
func isBootstrap(tok *callrec.Token) bool {
	return tok.Role == callrec.RolePartnerAdmin && tok.PartnerID == callrec.RootPartner
}

// view returns what the token is in org orgID.
func (a *recAccess) view(ctx context.Context, orgID string) (*orgView, error) {
	if ov, ok := a.orgs[orgID]; ok {
		return ov, nil
	}
	tok := a.tok
	ov := &orgView{viewer: policy.Viewer{Role: tok.Role, PartnerID: tok.PartnerID, Bootstrap: isBootstrap(tok)}}
	err := a.s.store.View(ctx, func(tx directory.Tx) error {
		snap, err := directory.Snapshot(ctx, tx, orgID)
		if directory.IsNotFound(err) {
			return nil // an org without a document: only the bootstrap admin sees into it
		}
		if err != nil {
			return err
		}
		ov.snap = snap
		org := &snap.Org
		if !inOrg(tok, org) {
			return nil
		}
		ov.in = true
		ov.viewer.OrgID = org.ID
		if acc, ok := snap.Accounts[callrec.BuiltInProviderID]; ok && tok.Email != "" {
			ov.viewer.ProviderAdmin = slices.ContainsFunc(acc.Admins, func(e string) bool {
				return strings.EqualFold(strings.TrimSpace(e), strings.TrimSpace(tok.Email))
			})
		}
		if tok.PersonID != "" && tok.OrgID == org.ID {
			ov.viewer.PersonID = tok.PersonID
			lines, err := directory.VirtualLines.List(ctx, tx, org.ID)
			if err != nil {
				return err
			}
			for _, l := range lines {
				if slices.Contains(l.Listeners, tok.PersonID) {
					ov.viewer.Listens = append(ov.viewer.Listens, l.ID)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("api: recording access in org %s: %w", orgID, err)
	}
	ov.in = ov.in || ov.viewer.Bootstrap
	a.orgs[orgID] = ov
	return ov, nil
}

// of returns what the token may do with rec.
func (a *recAccess) of(ctx context.Context, rec *callrec.Recording) (policy.Access, error) {
	if rec == nil {
		return policy.Access{}, nil
	}
	ov, err := a.view(ctx, rec.OrgID)
	if err != nil {
		return policy.Access{}, err
	}
	if !ov.in {
		return policy.Access{}, nil
	}
	return policy.RecordingAccess(ov.viewer, rec, ov.snap.Plan(rec.OwnerID)), nil
}

// isAdmin says whether the role administers recordings of others: it may
// use the admin list, must name an owner in the bulk "all" actions
// (§10.8: admins give ownerEmail), and may reassign. Users who are
// provider admins use the admin list too (see listAdmin).
func isAdmin(tok *callrec.Token) bool {
	switch tok.Role {
	case callrec.RolePartnerAdmin, callrec.RoleFullAdmin, callrec.RoleReadOnlyAdmin, callrec.RoleLocationAdmin, callrec.RoleComplianceOfficer:
		return true
	}
	return false
}

// recordingOrgScope returns the org a recordings query of tok is limited
// to ("" = every org the token may see). The orgId parameter (a Webex org
// id or a UUID) narrows a partner admin to one org it manages; for any
// other token it may only name the token's own org. An org the token may
// not act on is 404, as everywhere (§1.3).
func (s *server) recordingOrgScope(r *http.Request, tok *callrec.Token) (string, error) {
	if r.URL.Query().Get("orgId") != "" {
		org, err := s.actingOrg(r, tok)
		if err != nil {
			return "", err
		}
		return org.ID, nil
	}
	if tok.Role == callrec.RolePartnerAdmin {
		return "", nil
	}
	if tok.OrgID == "" {
		// No org and no partner rights: a scope that matches nothing.
		return "\x00none", nil
	}
	return tok.OrgID, nil
}

// ownerPlan is the plan whose retention applies to recordings of a person
// or virtual line (R3, R4): its plan in the org's built-in provider
// account; go when it is not yet provisioned there and its location
// records with the built-in provider (R3, R7: every user has go); none
// (kept without limit) at an external provider's location (R10, R33).
// The recorder applies the same rule when it matches an owner.
func ownerPlan(snap *policy.Snapshot, memberID, locationID string) string {
	if p := snap.Provider(locationID); p != nil && !p.BuiltIn {
		return ""
	}
	if plan := snap.Plan(memberID); plan != "" {
		return plan
	}
	return callrec.PlanGo
}

// reassignExpiry is a recording's expiry under a new owner on plan at
// now: none when the plan keeps without limit; otherwise the expiry it
// has when it is already counting down, else 30 days from now, so a
// reassignment never deletes at once (as a downgrade, R9).
func reassignExpiry(rec *callrec.Recording, plan string, now time.Time) time.Time {
	if policy.Expiry(plan, rec.Start).IsZero() {
		return time.Time{}
	}
	if !rec.ExpiresAt.IsZero() {
		return rec.ExpiresAt
	}
	return policy.Downgrade(rec.Start, now)
}

// personByEmail finds a person of org orgID by any of their emails.
func (s *server) personByEmail(ctx context.Context, orgID, email string) (*callrec.Person, error) {
	var p *callrec.Person
	err := s.store.View(ctx, func(tx directory.Tx) error {
		var err error
		p, err = directory.People.Lookup(ctx, tx, directory.EmailKey(email))
		return err
	})
	if err == nil && orgID != "" && p.OrgID != orgID {
		err = callrec.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("api: person %q: %w", email, err)
	}
	return p, nil
}

// Owner id types on the wire: recordings name their owner by the Webex id
// of the person, virtual line, call queue or org.
func ownerIDType(ownerType string) string {
	switch ownerType {
	case callrec.OwnerVirtualLine:
		return idVirtualLine
	case callrec.OwnerCallQueue:
		return idCallQueue
	case callrec.OwnerOrg, "":
		return idOrg
	}
	return idPerson
}

// parseOwnerID reads an ownerId filter or body field: a Webex id of a
// person, virtual line, call queue or org, or a bare id as stored.
func parseOwnerID(s string) string {
	for _, typ := range []string{idPerson, idVirtualLine, idCallQueue, idOrg} {
		if id, ok := parseID(typ, s); ok {
			return id
		}
	}
	return s
}

// isNotFound says whether err is a not-found error of the store.
func isNotFound(err error) bool { return errors.Is(err, callrec.ErrNotFound) }
