package provider

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// accountID is the id of an org's built-in provider account.
func accountID(orgID string) string { return directory.PairID(orgID, callrec.BuiltInProviderID) }

// Account returns the org's built-in provider account, or a not-found
// error saying when it will exist (R7).
func Account(ctx context.Context, tx directory.Tx, orgID string) (*callrec.ProviderAccount, error) {
	acc, err := directory.Accounts.Get(ctx, tx, orgID, accountID(orgID))
	if directory.IsNotFound(err) {
		return nil, notFound("R7", "", "The organization has no account at the built-in provider yet: it is created when its terms of service are accepted or a user is enabled for recording (R7)")
	}
	if err != nil {
		return nil, fmt.Errorf("provider: account of org %s: %w", orgID, err)
	}
	return acc, nil
}

// ensureAccount returns the org's built-in provider account, a new one
// (not yet stored) when it has none (R7).
func ensureAccount(ctx context.Context, tx directory.Tx, orgID string, now time.Time) (acc *callrec.ProviderAccount, created bool, err error) {
	acc, err = directory.Accounts.Get(ctx, tx, orgID, accountID(orgID))
	if directory.IsNotFound(err) {
		return &callrec.ProviderAccount{OrgID: orgID, ProviderID: callrec.BuiltInProviderID, Created: now.UTC()}, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("provider: account of org %s: %w", orgID, err)
	}
	return acc, false, nil
}

// addMember adds the target to the account on the free plan when it is
// not a member yet (R7, R3), and reports whether it did.
func addMember(acc *callrec.ProviderAccount, t policy.Target, now time.Time) bool {
	id, typ, _ := targetInfo(t)
	if id == "" || slices.ContainsFunc(acc.Members, func(m callrec.AccountMember) bool { return m.ID == id }) {
		return false
	}
	now = now.UTC()
	acc.Members = append(acc.Members, callrec.AccountMember{ID: id, Type: typ, Plan: callrec.PlanGo, PlanSince: now, Added: now})
	return true
}

// normEmail is the form emails are compared and stored in: trimmed, lower case.
func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// validEmail reports whether e is a bare address (local@domain).
func validEmail(e string) bool {
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && a.Name == "" && strings.Contains(e, "@")
}

// IsAdmin reports whether email is an admin of the account (R11),
// compared without case. An empty email never is.
func IsAdmin(acc *callrec.ProviderAccount, email string) bool {
	email = normEmail(email)
	if acc == nil || email == "" {
		return false
	}
	return slices.ContainsFunc(acc.Admins, func(a string) bool { return normEmail(a) == email })
}

// builtInAccounts returns every org's built-in provider account, with
// acc (possibly not stored yet) in place of the stored one of its org.
func builtInAccounts(ctx context.Context, tx directory.Tx, acc *callrec.ProviderAccount) ([]callrec.ProviderAccount, error) {
	all, err := directory.Accounts.List(ctx, tx, "")
	if err != nil {
		return nil, fmt.Errorf("provider: list accounts: %w", err)
	}
	out := make([]callrec.ProviderAccount, 0, len(all)+1)
	for _, a := range all {
		if a.ProviderID == callrec.BuiltInProviderID && a.OrgID != acc.OrgID {
			out = append(out, a)
		}
	}
	return append(out, *acc), nil
}

// AddAdmin makes email an admin of the org's built-in provider account
// (R11) and returns the account as stored. partnerAdmin says whether the
// email is a partner admin's: such a user may be an admin in one
// customer's account only (R12, a conflict). An invalid email is
// ErrInvalid naming the field; an admin already there is a conflict; an
// org without an account is ErrNotFound.
func AddAdmin(ctx context.Context, tx directory.Tx, orgID, email string, partnerAdmin bool) (*callrec.ProviderAccount, error) {
	email = normEmail(email)
	if email == "" {
		return nil, invalid("R11", "email", "email: is required (R11)")
	}
	if err := checkText("email", email, 254); err != nil {
		return nil, err
	}
	if !validEmail(email) {
		return nil, invalid("R11", "email", "email: %s is not an email address (R11)", quote(email))
	}
	acc, err := Account(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	if IsAdmin(acc, email) {
		return nil, conflict("R11", "email", "email: %s is already an admin of the provider account (R11)", quote(email))
	}
	accounts, err := builtInAccounts(ctx, tx, acc)
	if err != nil {
		return nil, err
	}
	if !policy.MayBecomeProviderAdmin(email, partnerAdmin, orgID, accounts) {
		return nil, conflict("R12", "email", "email: partner administrator %s is already an admin of another customer's provider account; a partner admin may be an admin in one customer's account only (R12)", quote(email))
	}
	acc.Admins = append(acc.Admins, email)
	if err := directory.Accounts.Put(ctx, tx, acc); err != nil {
		return nil, fmt.Errorf("provider: add admin to account of org %s: %w", orgID, err)
	}
	return acc, nil
}

// RemoveAdmin removes email from the admins of the org's built-in
// provider account (R11) and returns the account as stored. An email that
// is not an admin is ErrNotFound. The last admin may be removed: partner
// admins and org full admins can still add admins.
func RemoveAdmin(ctx context.Context, tx directory.Tx, orgID, email string) (*callrec.ProviderAccount, error) {
	acc, err := Account(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	e := normEmail(email)
	i := slices.IndexFunc(acc.Admins, func(a string) bool { return normEmail(a) == e })
	if e == "" || i < 0 {
		return nil, notFound("R11", "email", "Provider admin %s was not found", quote(email))
	}
	acc.Admins = slices.Delete(acc.Admins, i, i+1)
	if err := directory.Accounts.Put(ctx, tx, acc); err != nil {
		return nil, fmt.Errorf("provider: remove admin from account of org %s: %w", orgID, err)
	}
	return acc, nil
}

// Provision is called, in the caller's transaction, after a person or
// virtual line is enabled for recording; snap is the org as read in that
// transaction. What it does depends on the provider at the target's
// location (R14, R16):
//
//   - the built-in provider: the org's account is created when missing
//     (R7); the target becomes a member on plan go unless it already is
//     one (R7, R3); what R13 shares about it is recorded in the terms
//     acceptance; by.Email becomes an admin of the account unless it is
//     one or R12 forbids it (policy.MayBecomeProviderAdmin; the enabling
//     still succeeds); for a virtual line, each assigned person becomes a
//     member too, so its recordings are reachable through them (R32);
//   - an external provider: no account and no user is created (R10, and
//     R33 for virtual lines); only what R13 shares about the target (the
//     user sync API hands it out) is recorded in the terms acceptance;
//   - no provider (none, unset): nothing.
//
// Assigned people that no longer exist are skipped. A by.Email that is no
// email address (a token without one) makes nobody an admin.
func Provision(ctx context.Context, tx directory.Tx, snap *policy.Snapshot, t policy.Target, by Actor, now time.Time) error {
	id, _, loc := targetInfo(t)
	if id == "" || snap == nil {
		return invalid("R7", "", "a person or virtual line and its org are required")
	}
	now = now.UTC()
	orgID := snap.Org.ID
	p := snap.Provider(loc)
	if p == nil {
		return nil
	}
	terms, err := Terms(ctx, tx, orgID, p.ID)
	if err != nil {
		return err
	}
	if terms != nil && !terms.Accepted {
		terms = nil // nothing is shared without an acceptance (R13)
	}
	sharedChanged := false
	shareWith := func(tg policy.Target) {
		if terms != nil && share(terms, snap, p, tg, now) {
			sharedChanged = true
		}
	}
	saveTerms := func() error {
		if !sharedChanged {
			return nil
		}
		if err := directory.Terms.Put(ctx, tx, terms); err != nil {
			return fmt.Errorf("provider: provision %s: record shared fields: %w", id, err)
		}
		return nil
	}
	shareWith(t)
	if !policy.AutoProvisions(p) {
		return saveTerms() // R10, R33
	}

	acc, created, err := ensureAccount(ctx, tx, orgID, now)
	if err != nil {
		return err
	}
	changed := created
	if addMember(acc, t, now) {
		changed = true
	}
	if t.Line != nil {
		for _, pid := range t.Line.People {
			person, err := directory.People.Get(ctx, tx, orgID, pid)
			if directory.IsNotFound(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("provider: provision %s: assigned person %s: %w", id, pid, err)
			}
			at := policy.Target{Person: person}
			if addMember(acc, at, now) {
				changed = true
			}
			shareWith(at)
		}
	}
	if email := normEmail(by.Email); validEmail(email) && !IsAdmin(acc, email) {
		accounts, err := builtInAccounts(ctx, tx, acc)
		if err != nil {
			return err
		}
		if policy.MayBecomeProviderAdmin(email, by.PartnerAdmin, orgID, accounts) {
			acc.Admins = append(acc.Admins, email)
			changed = true
		}
	}
	if changed {
		if err := directory.Accounts.Put(ctx, tx, acc); err != nil {
			return fmt.Errorf("provider: provision %s: store account: %w", id, err)
		}
	}
	return saveTerms()
}

// ChangePlan sets the plan of a member of the org's built-in provider
// account (R8) and applies R9 to the member's recordings through
// tx.SetRetention: moving to a plan that keeps recordings without limit
// (policy.Expiry is zero: team, premier) clears their expiry; moving to
// the free plan keeps each 30 days from its start, as on that plan, and
// one already older gets 30 days from now, so nothing is deleted at once
// (the store's SetRetention). Recordings on hold are left alone (X3). A move between
// two paid plans changes no recording. It returns the previous plan and
// how many recordings changed; setting the plan a member has changes
// nothing. An unknown plan is ErrInvalid naming the allowed ones; a
// member not in the account (or no account) is ErrNotFound.
func ChangePlan(ctx context.Context, tx directory.Tx, orgID, memberID, plan string, now time.Time) (prev string, changed int, err error) {
	if !slices.Contains(BuiltInPlans, plan) {
		return "", 0, invalid("R8", "plan", "plan: %s is not one of %s (R8)", quote(plan), strings.Join(BuiltInPlans, ", "))
	}
	acc, err := directory.Accounts.Get(ctx, tx, orgID, accountID(orgID))
	if directory.IsNotFound(err) {
		return "", 0, notFound("R8", "memberId", "Member %s was not found: the organization has no built-in provider account yet (R7, R8)", quote(memberID))
	}
	if err != nil {
		return "", 0, fmt.Errorf("provider: change plan of %s: %w", memberID, err)
	}
	i := slices.IndexFunc(acc.Members, func(m callrec.AccountMember) bool { return m.ID == memberID })
	if memberID == "" || i < 0 {
		return "", 0, notFound("R8", "memberId", "Member %s was not found in the provider account (R8)", quote(memberID))
	}
	now = now.UTC()
	prev = acc.Members[i].Plan
	if prev == "" {
		prev = callrec.PlanGo // R3: every user has the free plan
	}
	if prev == plan {
		return prev, 0, nil
	}
	acc.Members[i].Plan = plan
	acc.Members[i].PlanSince = now
	if err := directory.Accounts.Put(ctx, tx, acc); err != nil {
		return "", 0, fmt.Errorf("provider: change plan of %s: %w", memberID, err)
	}
	wasUnlimited := policy.Expiry(prev, now).IsZero()
	unlimited := policy.Expiry(plan, now).IsZero()
	if wasUnlimited == unlimited {
		return prev, 0, nil
	}
	changed, err = tx.SetRetention(ctx, memberID, unlimited, now)
	if err != nil {
		return "", 0, fmt.Errorf("provider: change plan of %s: retention: %w", memberID, err)
	}
	return prev, changed, nil
}
