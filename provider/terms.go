package provider

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// Terms returns the org's acceptance of the provider's terms, or nil when
// the org never answered them.
func Terms(ctx context.Context, tx directory.Tx, orgID, providerID string) (*callrec.TermsAcceptance, error) {
	t, err := directory.Terms.Get(ctx, tx, orgID, directory.PairID(orgID, providerID))
	if directory.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("provider: terms of %s for org %s: %w", providerID, orgID, err)
	}
	return t, nil
}

// AcceptTerms records an org admin's answer to the provider's terms of
// service (R13) and returns the acceptance as stored.
//
// Accepting records who (by.Email), when (now), which terms version, the
// customer's name for an external provider, and, per user, exactly the
// fields policy.SharedFields gives. The users shared at acceptance are the
// people and virtual lines of the org that have recording enabled and
// whose effective vendor is this provider; later ones are added when they
// are enabled (Provision). That is the data the acceptance hands over:
// the provider learns of a user when it records them, and no earlier, so
// an org that accepts first and enables users later shares nobody at
// acceptance. For the built-in provider accepting also creates the org's
// provider account and provisions the users shared, on plan go (R7).
//
// Accepting terms already accepted in the same version changes nothing
// (the first acceptance is kept); a new terms version is a new
// acceptance. accepted=false withdraws: the record keeps the version,
// who withdrew and when, and shares nobody any more; the audit log keeps
// the history. The built-in provider's account and recordings stay.
// Withdrawing terms never accepted stores nothing.
func AcceptTerms(ctx context.Context, tx directory.Tx, org *callrec.Org, p *callrec.Provider, by Actor, accepted bool, now time.Time) (*callrec.TermsAcceptance, error) {
	if org == nil || p == nil {
		return nil, invalid("R13", "", "an org and a provider are required")
	}
	if p.ID == callrec.VendorNone {
		return nil, notFound("R13", "vendorId", "Vendor %s has no terms of service", quote(p.ID))
	}
	now = now.UTC()
	prev, err := Terms(ctx, tx, org.ID, p.ID)
	if err != nil {
		return nil, err
	}
	if !accepted {
		if prev == nil || !prev.Accepted {
			if prev == nil {
				prev = &callrec.TermsAcceptance{OrgID: org.ID, ProviderID: p.ID}
			}
			return prev, nil
		}
		t := *prev
		t.Accepted, t.By, t.At, t.Shared = false, normEmail(by.Email), now, nil
		if err := directory.Terms.Put(ctx, tx, &t); err != nil {
			return nil, fmt.Errorf("provider: withdraw terms of %s for org %s: %w", p.ID, org.ID, err)
		}
		return &t, nil
	}
	if prev != nil && prev.Accepted && prev.Version == p.TermsVersion {
		return prev, nil
	}
	t := &callrec.TermsAcceptance{
		OrgID: org.ID, ProviderID: p.ID, Accepted: true,
		By: normEmail(by.Email), At: now, Version: p.TermsVersion,
	}
	if !p.BuiltIn {
		t.CustomerName = org.Name
	}
	snap, err := directory.Snapshot(ctx, tx, org.ID)
	if err != nil {
		return nil, fmt.Errorf("provider: accept terms of %s for org %s: %w", p.ID, org.ID, err)
	}
	targets, err := enabledTargets(ctx, tx, snap, p.ID)
	if err != nil {
		return nil, fmt.Errorf("provider: accept terms of %s for org %s: %w", p.ID, org.ID, err)
	}
	for _, tg := range targets {
		share(t, snap, p, tg, now)
	}
	if p.BuiltIn {
		acc, _, err := ensureAccount(ctx, tx, org.ID, now)
		if err != nil {
			return nil, err
		}
		for _, tg := range targets {
			addMember(acc, tg, now)
		}
		if err := directory.Accounts.Put(ctx, tx, acc); err != nil {
			return nil, fmt.Errorf("provider: accept terms: store account of org %s: %w", org.ID, err)
		}
	}
	if err := directory.Terms.Put(ctx, tx, t); err != nil {
		return nil, fmt.Errorf("provider: accept terms of %s for org %s: %w", p.ID, org.ID, err)
	}
	return t, nil
}

// enabledTargets returns the org's people and virtual lines that have
// recording enabled and whose effective vendor is providerID (R14, R16),
// people first, each in creation order.
func enabledTargets(ctx context.Context, tx directory.Tx, snap *policy.Snapshot, providerID string) ([]policy.Target, error) {
	people, err := directory.People.List(ctx, tx, snap.Org.ID)
	if err != nil {
		return nil, err
	}
	lines, err := directory.VirtualLines.List(ctx, tx, snap.Org.ID)
	if err != nil {
		return nil, err
	}
	var out []policy.Target
	for i := range people {
		if v, _ := snap.Vendor(people[i].LocationID); people[i].Recording.Enabled && v == providerID {
			out = append(out, policy.Target{Person: &people[i]})
		}
	}
	for i := range lines {
		if v, _ := snap.Vendor(lines[i].LocationID); lines[i].Recording.Enabled && v == providerID {
			out = append(out, policy.Target{Line: &lines[i]})
		}
	}
	return out, nil
}

// targetInfo returns the id, member type and location of a target.
func targetInfo(t policy.Target) (id, typ, locationID string) {
	switch {
	case t.Person != nil:
		return t.Person.ID, TypePerson, t.Person.LocationID
	case t.Line != nil:
		return t.Line.ID, TypeVirtualLine, t.Line.LocationID
	}
	return "", "", ""
}

// sharedFields returns what R13 shares about a target with p, as
// policy.SharedFields (people) and policy.SharedLineFields (virtual lines,
// which have no email) decide.
func sharedFields(snap *policy.Snapshot, p *callrec.Provider, t policy.Target) map[string]string {
	_, _, locID := targetInfo(t)
	var loc *callrec.Location
	if l, ok := snap.Locations[locID]; ok {
		loc = &l
	}
	if t.Line != nil {
		return policy.SharedLineFields(t.Line, loc, !p.BuiltIn, snap.Org.Name)
	}
	return policy.SharedFields(t.Person, loc, !p.BuiltIn, snap.Org.Name)
}

// share records in t what is shared with p about target tg (R13): a new
// entry, or a new time and fields when they changed. It reports whether t
// changed.
func share(t *callrec.TermsAcceptance, snap *policy.Snapshot, p *callrec.Provider, tg policy.Target, now time.Time) bool {
	id, typ, _ := targetInfo(tg)
	if id == "" {
		return false
	}
	fields := sharedFields(snap, p, tg)
	i := slices.IndexFunc(t.Shared, func(u callrec.SharedUser) bool { return u.ID == id })
	if i >= 0 {
		if equalFields(t.Shared[i].Fields, fields) && t.Shared[i].Type == typ {
			return false
		}
		t.Shared[i] = callrec.SharedUser{ID: id, Type: typ, At: now, Fields: fields}
		return true
	}
	t.Shared = append(t.Shared, callrec.SharedUser{ID: id, Type: typ, At: now, Fields: fields})
	return true
}

func equalFields(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
