package api

// The org's account at the built-in provider (R7, R8, R9, R11, R12):
// its admins and members, plan changes with their effect on retention,
// and admin management. Provider admins are not a role: a token is one
// when its email is in the account's admins (R11).

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/provider"
)

// providerAccountJSON is the org's built-in provider account.
type providerAccountJSON struct {
	VendorID string                      `json:"vendorId"`
	Created  string                      `json:"created"`
	Admins   []string                    `json:"admins" doc:"emails of the provider admins (R11)"`
	Members  []providerAccountMemberJSON `json:"members"`
}

// providerAccountMemberJSON is one provisioned person or virtual line.
type providerAccountMemberJSON struct {
	ID        string `json:"id"`   // PEOPLE or VIRTUAL_LINE id
	Type      string `json:"type"` // PEOPLE or VIRTUAL_LINE
	Plan      string `json:"plan" doc:"go (free, 30-day retention), team or premier (R3, R4)"`
	PlanSince string `json:"planSince"`
}

// planChangeBody sets a member's plan.
type planChangeBody struct {
	Plan string `json:"plan" doc:"go, team or premier"`
}

// planChangeJSON is the result of a plan change (R8, R9).
type planChangeJSON struct {
	ID                string `json:"id"`
	Plan              string `json:"plan"`
	PreviousPlan      string `json:"previousPlan"`
	RecordingsUpdated int    `json:"recordingsUpdated" doc:"recordings whose expiry changed (R9)"`
}

// providerAdminBody names a new provider admin.
type providerAdminBody struct {
	Email string `json:"email"`
}

func renderAccount(acc *callrec.ProviderAccount) providerAccountJSON {
	out := providerAccountJSON{VendorID: webexID(idVendor, acc.ProviderID), Created: provTime(acc.Created),
		Admins: provStrings(acc.Admins), Members: make([]providerAccountMemberJSON, 0, len(acc.Members))}
	for _, m := range acc.Members {
		plan := m.Plan
		if plan == "" {
			plan = callrec.PlanGo // R3
		}
		out.Members = append(out.Members, providerAccountMemberJSON{ID: provMemberID(m.Type, m.ID), Type: m.Type, Plan: plan, PlanSince: provTime(m.PlanSince)})
	}
	return out
}

// provAccount reads the org's built-in account, nil when it has none.
func provAccount(ctx context.Context, tx directory.Tx, orgID string) (*callrec.ProviderAccount, error) {
	acc, err := provider.Account(ctx, tx, orgID)
	if errors.Is(err, callrec.ErrNotFound) {
		return nil, nil
	}
	return acc, err
}

// provIsProviderAdmin says whether the token is an admin of the org's
// provider account (R11): its email is among the admins. actingOrg has
// already held the token to orgs it belongs to or manages.
func provIsProviderAdmin(tok *callrec.Token, acc *callrec.ProviderAccount) bool {
	return tok.Email != "" && provider.IsAdmin(acc, tok.Email)
}

// provViewer describes the token to the policy engine.
func provViewer(tok *callrec.Token, acc *callrec.ProviderAccount) policy.Viewer {
	return policy.Viewer{Role: tok.Role, OrgID: tok.OrgID, PartnerID: tok.PartnerID, PersonID: tok.PersonID,
		ProviderAdmin: provIsProviderAdmin(tok, acc), Bootstrap: isPartner(tok) && tok.PartnerID == callrec.RootPartner}
}

// provManagesAdmins says whether the token may add and remove provider
// admins of org (R11): provider admins, the org's full admins and the
// partner admins that manage it.
func provManagesAdmins(tok *callrec.Token, org *callrec.Org, acc *callrec.ProviderAccount) bool {
	return managesOrg(tok, org) || (tok.Role == callrec.RoleFullAdmin && tok.OrgID == org.ID) || provIsProviderAdmin(tok, acc)
}

// provAccountNotFound is the 404 of an org without an account (R7).
func provAccountNotFound() error {
	return notFoundf("The organization has no account at the built-in provider yet: it is created when its terms of service are accepted or a user is enabled for recording (R7)")
}

// provGetAccount is GET .../providerAccount.
func (s *server) provGetAccount(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, err := s.actingOrg(r, tok)
	if err != nil {
		return err
	}
	var acc *callrec.ProviderAccount
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		acc, err = provAccount(r.Context(), tx, org.ID)
		return err
	}); err != nil {
		return err
	}
	if !provIsProviderAdmin(tok, acc) {
		if err := require(tok, org, permRead, ""); err != nil {
			return err
		}
	}
	if acc == nil {
		return provAccountNotFound()
	}
	writeJSON(w, http.StatusOK, renderAccount(acc))
	return nil
}

// provMemberParam parses the memberId path parameter: a person's or a
// virtual line's id.
func provMemberParam(r *http.Request) (string, error) {
	raw := r.PathValue("memberId")
	if id, ok := parseID(idPerson, raw); ok {
		return id, nil
	}
	if id, ok := parseID(idVirtualLine, raw); ok {
		return id, nil
	}
	return "", notFoundf("Member %s was not found", quote(raw))
}

// provChangePlan is PUT .../providerAccount/members/{memberId} (R8, R9):
// partner admins and provider admins (policy.MayChangePlan).
func (s *server) provChangePlan(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, err := s.actingOrg(r, tok)
	if err != nil {
		return err
	}
	may := func(acc *callrec.ProviderAccount) error {
		if !policy.MayChangePlan(provViewer(tok, acc)) {
			return forbidden("Only partner administrators and admins of the provider account may change plans (R8)")
		}
		return nil
	}
	var acc *callrec.ProviderAccount
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		acc, err = provAccount(r.Context(), tx, org.ID)
		return err
	}); err != nil {
		return err
	}
	if err := may(acc); err != nil {
		return err
	}
	memberID, err := provMemberParam(r)
	if err != nil {
		return err
	}
	var body planChangeBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	if body.Plan == "" {
		return badRequestf("plan: is required; one of %s", strings.Join(provider.BuiltInPlans, ", "))
	}
	var out planChangeJSON
	err = s.store.Update(r.Context(), func(tx directory.Tx) error {
		acc, err := provAccount(r.Context(), tx, org.ID)
		if err != nil {
			return err
		}
		if err := may(acc); err != nil { // the admins may have changed meanwhile
			return err
		}
		prev, changed, err := provider.ChangePlan(r.Context(), tx, org.ID, memberID, body.Plan, s.now())
		if errors.Is(err, callrec.ErrNotFound) {
			return notFoundf("Member %s was not found in the provider account", quote(r.PathValue("memberId")))
		}
		if err != nil {
			return ruleError(err)
		}
		typ := provider.TypePerson
		for _, m := range acc.Members {
			if m.ID == memberID {
				typ = m.Type
			}
		}
		out = planChangeJSON{ID: provMemberID(typ, memberID), Plan: body.Plan, PreviousPlan: prev, RecordingsUpdated: changed}
		if prev == body.Plan {
			return nil
		}
		type planState struct {
			ID                string `json:"id"`
			Plan              string `json:"plan"`
			PreviousPlan      string `json:"previousPlan,omitempty"`
			RecordingsUpdated *int   `json:"recordingsUpdated,omitempty"`
		}
		return s.audit(r.Context(), tx, tok, org.ID, "update", "providerAccountMember", memberID,
			planState{ID: memberID, Plan: prev}, planState{ID: memberID, Plan: body.Plan, PreviousPlan: prev, RecordingsUpdated: &changed})
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// provPartnerEmail says whether email belongs to a partner admin (a
// partner-admin token carries it): R12 then holds that user to one
// customer's account.
func (s *server) provPartnerEmail(ctx context.Context, tok *callrec.Token, email string) (bool, error) {
	email = strings.TrimSpace(email)
	if isPartner(tok) && strings.EqualFold(tok.Email, email) {
		return true, nil
	}
	toks, err := s.store.ListTokens(ctx, "", "")
	if err != nil {
		return false, err
	}
	for _, t := range toks {
		if t.Role == callrec.RolePartnerAdmin && t.Email != "" && strings.EqualFold(t.Email, email) {
			return true, nil
		}
	}
	return false, nil
}

// provAdminOrg resolves the org the request acts on (§1.3) and checks
// that the token may manage its provider account's admins (R11).
func (s *server) provAdminOrg(r *http.Request, tok *callrec.Token) (*callrec.Org, error) {
	org, err := s.actingOrg(r, tok)
	if err != nil {
		return nil, err
	}
	return org, s.provAdminAccess(r, tok, org)
}

// provAdminAccess reads the account and checks that the token may manage
// its admins (R11).
func (s *server) provAdminAccess(r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var acc *callrec.ProviderAccount
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		acc, err = provAccount(r.Context(), tx, org.ID)
		return err
	}); err != nil {
		return err
	}
	if !provManagesAdmins(tok, org, acc) {
		return forbidden("Only provider admins, full admins and partner administrators may change the provider account's admins (R11)")
	}
	if acc == nil {
		return provAccountNotFound()
	}
	return nil
}

// provAddAdmin is POST .../providerAccount/admins (R11, R12).
func (s *server) provAddAdmin(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, err := s.provAdminOrg(r, tok)
	if err != nil {
		return err
	}
	var body providerAdminBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	partner, err := s.provPartnerEmail(r.Context(), tok, body.Email)
	if err != nil {
		return err
	}
	var acc *callrec.ProviderAccount
	err = s.store.Update(r.Context(), func(tx directory.Tx) error {
		var err error
		if acc, err = provider.AddAdmin(r.Context(), tx, org.ID, body.Email, partner); err != nil {
			return ruleError(err)
		}
		email := acc.Admins[len(acc.Admins)-1]
		return s.audit(r.Context(), tx, tok, org.ID, "create", "providerAdmin", email, nil, map[string]string{"email": email})
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderAccount(acc))
	return nil
}

// provRemoveAdmin is DELETE .../providerAccount/admins/{email} (R11).
func (s *server) provRemoveAdmin(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, err := s.provAdminOrg(r, tok)
	if err != nil {
		return err
	}
	email := r.PathValue("email")
	return s.updateNoContent(w, r, func(ctx context.Context, tx directory.Tx) error {
		if _, err := provider.RemoveAdmin(ctx, tx, org.ID, email); err != nil {
			return ruleError(err)
		}
		e := strings.ToLower(strings.TrimSpace(email))
		return s.audit(ctx, tx, tok, org.ID, "delete", "providerAdmin", e, map[string]string{"email": e}, nil)
	})
}
