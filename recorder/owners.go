package recorder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// Owner is who a recording belongs to within its org (interfaces.md,
// "Ownership").
type Owner struct {
	Type       string // callrec.Owner*: user, place, virtualLine, callQueue or org
	ID         string // the person, virtual line or feature; the org id when unmatched
	Email      string // the person's primary email ("" for others)
	LocationID string // the owner's location, when known
	// ExpiresAt is when retention deletes the recording under the owner's
	// plan (R3, R4); zero: kept without limit.
	ExpiresAt time.Time
}

// Owners finds the owner of a recording of org orgID that started at
// start, from its metadata. The recorder asks once when a session starts
// and once when it ends (metadata updates may have changed the recorded
// party, and the owner's plan may have changed during the call), never
// per packet.
type Owners interface {
	Owner(ctx context.Context, orgID string, start time.Time, meta *callrec.Metadata) (Owner, error)
}

// Directory gives the recorder its SIPREC sources and recording owners
// from the control plane's state store.
type Directory struct {
	store directory.Store
}

// NewDirectory returns the Sources and Owners of the recorder over st.
func NewDirectory(st directory.Store) *Directory { return &Directory{store: st} }

// SIPRECSources returns every org's SIPREC sources.
func (d *Directory) SIPRECSources(ctx context.Context) ([]callrec.SIPRECSource, error) {
	var out []callrec.SIPRECSource
	err := d.store.View(ctx, func(tx directory.Tx) error {
		var err error
		out, err = directory.Sources.List(ctx, tx, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recorder: list SIPREC sources: %w", err)
	}
	return out, nil
}

// Owner matches the recording's owner within orgID, in order
// (interfaces.md, "Ownership"):
//
//  1. the vendor's user id (BroadWorks/Webex userID, or the userId of
//     callrec's own SRC extension) against the external ids of people and
//     virtual lines (R30), then against their callrec ids (callrec's own
//     SRC names the person by id);
//  2. the numbers of the recorded side against the org's numbers and
//     extensions (people, virtual lines, features): the recorded
//     participant's AORs (user part of a SIP URI, or a tel URI), the
//     party the vendor names as recorded, the calling number when the
//     recorded party originated the call or the called number when it
//     terminated it, then the user part of the vendor's user id.
//
// A person owns as ownerType user, or place when its licence is a
// workspace or common-area one; a virtual line as virtualLine; a call
// queue as callQueue. Auto attendants and hunt groups have no Webex owner
// type and no one to keep their recordings private for: a number of one
// of them leaves the recording to the org (ownerType org) at the
// feature's location, unless a later candidate matches a person, line or
// queue. Nothing matched: ownerType org, owner id the org id.
//
// ExpiresAt follows the owner's plan in the org's built-in provider
// account (R3, R4): a person or virtual line not yet provisioned there is
// on go, the plan every user of the built-in provider has (R3, R7);
// owners on an external provider at their location, call queues and the
// org keep recordings without limit (policy.Expiry).
func (d *Directory) Owner(ctx context.Context, orgID string, start time.Time, meta *callrec.Metadata) (Owner, error) {
	out := Owner{Type: callrec.OwnerOrg, ID: orgID}
	err := d.store.View(ctx, func(tx directory.Tx) error {
		o, err := matchOwner(ctx, tx, orgID, meta)
		if err != nil {
			return err
		}
		snap, err := directory.Snapshot(ctx, tx, orgID)
		if err != nil {
			return err
		}
		o.ExpiresAt = policy.Expiry(ownerPlan(snap, o), start)
		out = o
		return nil
	})
	if err != nil {
		return Owner{Type: callrec.OwnerOrg, ID: orgID}, fmt.Errorf("recorder: owner in org %s: %w", orgID, err)
	}
	return out, nil
}

// ownerPlan is the plan whose retention applies to o's recordings.
func ownerPlan(snap *policy.Snapshot, o Owner) string {
	switch o.Type {
	case callrec.OwnerUser, callrec.OwnerPlace, callrec.OwnerVirtualLine:
	default:
		return "" // the org, a call queue: no plan, kept without limit
	}
	if p := snap.Provider(o.LocationID); p != nil && !p.BuiltIn {
		return "" // R10, R33: an external provider keeps its own recordings
	}
	if plan := snap.Plan(o.ID); plan != "" {
		return plan
	}
	return callrec.PlanGo // R3, R7: every built-in provider user has go
}

// matchOwner applies the matching order of Directory.Owner in tx.
func matchOwner(ctx context.Context, tx directory.Tx, orgID string, meta *callrec.Metadata) (Owner, error) {
	fallback := Owner{Type: callrec.OwnerOrg, ID: orgID}
	if meta == nil {
		return fallback, nil
	}
	if id := strings.TrimSpace(meta.Vendor.UserID); id != "" {
		if o, ok, err := byExternalID(ctx, tx, orgID, id); ok || err != nil {
			return o, err
		}
		if o, ok, err := byID(ctx, tx, orgID, id); ok || err != nil {
			return o, err
		}
	}
	featureFound := false
	for _, n := range ownerNumbers(meta) {
		o, ok, err := byNumber(ctx, tx, orgID, n)
		if err != nil {
			return fallback, err
		}
		if !ok {
			continue
		}
		if o.Type != callrec.OwnerOrg {
			return o, nil
		}
		if !featureFound {
			fallback, featureFound = o, true
		}
	}
	return fallback, nil
}

// ownerNumbers lists the numbers and user names of the recorded side, in
// matching order, without repeats.
func ownerNumbers(meta *callrec.Metadata) []string {
	var out []string
	seen := map[string]bool{}
	add := func(ref string) {
		n := userPart(ref)
		if n == "" || seen[n] {
			return
		}
		seen[n] = true
		out = append(out, n)
	}
	var recorded *callrec.Participant
	for i := range meta.Participants {
		if meta.Participants[i].Recorded {
			recorded = &meta.Participants[i]
			break
		}
	}
	if recorded != nil {
		add(recorded.AOR)
		for _, a := range recorded.AORs {
			add(a)
		}
	}
	if rp := meta.Vendor.RecordedParty; rp != "" && !isParticipantID(meta, rp) {
		add(rp)
	}
	switch strings.ToLower(meta.Vendor.Direction) {
	case "originating", "originator":
		add(meta.Vendor.CallingNumber)
	case "terminating", "terminator":
		add(meta.Vendor.CalledNumber)
	}
	add(meta.Vendor.UserID)
	return out
}

func isParticipantID(meta *callrec.Metadata, id string) bool {
	for i := range meta.Participants {
		if meta.Participants[i].ID == id {
			return true
		}
	}
	return false
}

// userPart returns the number or user of an AOR or number: the user part
// of a sip:/sips: URI, the number of a tel: URI (RFC 3966), or the value
// itself without URI parameters.
func userPart(ref string) string {
	s := bareURI(ref)
	if user, _, ok := strings.Cut(s, "@"); ok {
		s = user
	}
	s, _, _ = strings.Cut(s, ";")
	return strings.TrimSpace(s)
}

// byExternalID finds a person or virtual line by its provider-side id.
func byExternalID(ctx context.Context, tx directory.Tx, orgID, id string) (Owner, bool, error) {
	r, err := tx.Lookup(ctx, directory.ExternalIDKey(orgID, id))
	if directory.IsNotFound(err) {
		return Owner{}, false, nil
	}
	if err != nil {
		return Owner{}, false, err
	}
	return ownerOf(ctx, tx, orgID, r)
}

// byID finds a person or virtual line of the org by its callrec id.
func byID(ctx context.Context, tx directory.Tx, orgID, id string) (Owner, bool, error) {
	for _, kind := range []string{directory.People.Name, directory.VirtualLines.Name} {
		r, err := tx.Get(ctx, kind, id)
		if directory.IsNotFound(err) {
			continue
		}
		if err != nil {
			return Owner{}, false, err
		}
		return ownerOf(ctx, tx, orgID, r)
	}
	return Owner{}, false, nil
}

// byNumber finds a person, virtual line or feature by number or extension.
func byNumber(ctx context.Context, tx directory.Tx, orgID, number string) (Owner, bool, error) {
	if directory.NormalizeNumber(number) == "" {
		return Owner{}, false, nil
	}
	r, err := tx.Lookup(ctx, directory.NumberKey(orgID, number))
	if directory.IsNotFound(err) {
		return Owner{}, false, nil
	}
	if err != nil {
		return Owner{}, false, err
	}
	return ownerOf(ctx, tx, orgID, r)
}

// ownerOf turns a looked-up record into an owner; records of other kinds
// or other orgs are no match.
func ownerOf(ctx context.Context, tx directory.Tx, orgID string, r directory.Record) (Owner, bool, error) {
	if r.OrgID != orgID {
		return Owner{}, false, nil
	}
	switch r.Kind {
	case directory.People.Name:
		p, err := directory.People.Get(ctx, tx, orgID, r.ID)
		if err != nil {
			return Owner{}, false, notFoundIsNoMatch(err)
		}
		typ := callrec.OwnerUser
		switch p.License {
		case callrec.LicenseWorkspace, callrec.LicenseProfessionalWorkspace, callrec.LicenseCommonArea:
			typ = callrec.OwnerPlace
		}
		return Owner{Type: typ, ID: p.ID, Email: p.Email(), LocationID: p.LocationID}, true, nil
	case directory.VirtualLines.Name:
		v, err := directory.VirtualLines.Get(ctx, tx, orgID, r.ID)
		if err != nil {
			return Owner{}, false, notFoundIsNoMatch(err)
		}
		return Owner{Type: callrec.OwnerVirtualLine, ID: v.ID, LocationID: v.LocationID}, true, nil
	case directory.Features.Name:
		f, err := directory.Features.Get(ctx, tx, orgID, r.ID)
		if err != nil {
			return Owner{}, false, notFoundIsNoMatch(err)
		}
		if f.Kind == callrec.FeatureCallQueue {
			return Owner{Type: callrec.OwnerCallQueue, ID: f.ID, LocationID: f.LocationID}, true, nil
		}
		return Owner{Type: callrec.OwnerOrg, ID: orgID, LocationID: f.LocationID}, true, nil
	}
	return Owner{}, false, nil
}

func notFoundIsNoMatch(err error) error {
	if errors.Is(err, callrec.ErrNotFound) {
		return nil
	}
	return err
}

// matchOwner sets the recording's owner, its location and its expiry
// from Config.Owners (called with ss.mu held, or before the session is
// shared). at names the moment for the log ("invite" or "end"). When the
// lookup fails the recording keeps the owner it has (the org, at first):
// a recording is never refused or lost because the directory is
// unavailable.
func (ss *session) matchOwner(ctx context.Context, at string) {
	owners := ss.srv.cfg.Owners
	if owners == nil {
		return
	}
	o, err := owners.Owner(ctx, ss.orgID, ss.rec.Start, &ss.rec.Meta)
	if err != nil {
		ss.log.Warn("matching the recording's owner failed; keeping the current owner", "at", at, "owner_type", ss.rec.OwnerType, "err", err)
		return
	}
	r := ss.rec
	if r.OwnerType != o.Type || r.OwnerID != o.ID {
		ss.log.Debug("recording owner matched", "at", at, "owner_type", o.Type, "owner", o.ID)
	}
	r.OwnerType, r.OwnerID, r.OwnerEmail, r.LocationID, r.ExpiresAt = o.Type, clean(o.ID), clean(o.Email), clean(o.LocationID), o.ExpiresAt
}
