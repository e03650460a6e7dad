package directory

import (
	"context"
	"fmt"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

// Snapshot reads what the policy engine needs about one org in tx: the
// org, its locations, every provider, and the org's terms acceptances and
// provider accounts.
func Snapshot(ctx context.Context, tx Tx, orgID string) (*policy.Snapshot, error) {
	org, err := Orgs.Get(ctx, tx, "", orgID)
	if err != nil {
		return nil, fmt.Errorf("directory: snapshot: %w", err)
	}
	s := &policy.Snapshot{
		Org:       *org,
		Locations: map[string]callrec.Location{},
		Providers: map[string]callrec.Provider{},
		Terms:     map[string]callrec.TermsAcceptance{},
		Accounts:  map[string]callrec.ProviderAccount{},
	}
	locs, err := Locations.List(ctx, tx, orgID)
	if err != nil {
		return nil, fmt.Errorf("directory: snapshot: %w", err)
	}
	for _, l := range locs {
		s.Locations[l.ID] = l
	}
	provs, err := Providers.List(ctx, tx, "")
	if err != nil {
		return nil, fmt.Errorf("directory: snapshot: %w", err)
	}
	for _, p := range provs {
		s.Providers[p.ID] = p
	}
	terms, err := Terms.List(ctx, tx, orgID)
	if err != nil {
		return nil, fmt.Errorf("directory: snapshot: %w", err)
	}
	for _, t := range terms {
		s.Terms[t.ProviderID] = t
	}
	accts, err := Accounts.List(ctx, tx, orgID)
	if err != nil {
		return nil, fmt.Errorf("directory: snapshot: %w", err)
	}
	for _, a := range accts {
		s.Accounts[a.ProviderID] = a
	}
	return s, nil
}
