package provider

import (
	"context"
	"fmt"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// User is one person or virtual line as a provider's sync tool reads it
// (R10): exactly the fields R13 shares, and how it is recorded.
type User struct {
	ID         string            // person or virtual line id
	Type       string            // TypePerson or TypeVirtualLine
	LocationID string            // its location
	Mode       string            // callrec.Mode* (R25)
	Fields     map[string]string // policy.SharedFields: timezone, firstName, lastName, email, customerName (external)
}

// Users returns the org's people and virtual lines that have recording
// enabled and whose effective vendor (R14, R16) is the provider, people
// first, each in creation order: what the provider (or its sync tool)
// reads to keep its accounts in step, since callrec creates none for it
// (R10). Virtual lines are listed but never provisioned automatically
// (R33). The org must have accepted the provider's terms: nothing is
// shared before (R13, a *policy.TermsError). An unknown provider is
// ErrNotFound.
func Users(ctx context.Context, tx directory.Tx, snap *policy.Snapshot, providerID string) ([]User, error) {
	if snap == nil {
		return nil, invalid("R10", "", "an org is required")
	}
	p, ok := snap.Providers[providerID]
	if !ok {
		return nil, notFound("R10", "providerId", "Provider %s was not found", quote(providerID))
	}
	if !snap.TermsAccepted(p.ID) {
		return nil, &policy.TermsError{VendorID: p.ID, VendorName: p.Name, TermsURL: p.TermsURL}
	}
	targets, err := enabledTargets(ctx, tx, snap, p.ID)
	if err != nil {
		return nil, fmt.Errorf("provider: users of %s in org %s: %w", p.ID, snap.Org.ID, err)
	}
	out := make([]User, 0, len(targets))
	for _, t := range targets {
		id, typ, loc := targetInfo(t)
		var mode string
		if t.Person != nil {
			mode = t.Person.Recording.Mode
		} else {
			mode = t.Line.Recording.Mode
		}
		if mode == "" {
			mode = callrec.ModeNever
		}
		out = append(out, User{ID: id, Type: typ, LocationID: loc, Mode: mode, Fields: sharedFields(snap, &p, t)})
	}
	return out, nil
}
