package api

// Org and location call recording settings: the partner entitlement (§3),
// vendors, regions, vendor users and the vendor-change jobs they create
// (§5). Every rule is asked of policy/; this file reads, writes and
// audits.

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// Audit object types of this part of the API.
const (
	auditOrgRecording      = "orgCallRecording"
	auditLocationRecording = "locationCallRecording"
	auditPersonRecording   = "personCallRecording"
	auditLineRecording     = "virtualLineCallRecording"
	auditRecordingJob      = "callRecordingJob"
)

// callRecordingOrganizationJSON names the org (§3.1).
type callRecordingOrganizationJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// getCallRecordingJSON is GetCallRecordingObject (§3.1).
type getCallRecordingJSON struct {
	Organization      callRecordingOrganizationJSON `json:"organization"`
	Enabled           bool                          `json:"enabled" doc:"the partner has entitled the org to call recording (R2)"`
	VendorID          string                        `json:"vendorId" doc:"the org's vendor; \"none\" when recording is disabled (R14, R15)"`
	VendorName        string                        `json:"vendorName"`
	TermsOfServiceURL string                        `json:"termsOfServiceUrl"`
}

// modifyCallRecordingBody is ModifyCallRecordingSettingsObject (§3.2).
type modifyCallRecordingBody struct {
	Enabled *bool `json:"enabled" doc:"required: entitle the org to call recording (R2)"`
}

// crSnapshot reads the policy snapshot of the org in tx.
func crSnapshot(ctx context.Context, tx directory.Tx, orgID string) (*policy.Snapshot, error) {
	snap, err := directory.Snapshot(ctx, tx, orgID)
	if err != nil {
		return nil, fmt.Errorf("api: snapshot: %w", err)
	}
	return snap, nil
}

// crView runs fn with the org's snapshot in a read transaction.
func (s *server) crView(ctx context.Context, orgID string, fn func(tx directory.Tx, snap *policy.Snapshot) error) error {
	return s.store.View(ctx, func(tx directory.Tx) error {
		snap, err := crSnapshot(ctx, tx, orgID)
		if err != nil {
			return err
		}
		return fn(tx, snap)
	})
}

// crGetOrg is GET /v1/telephony/config/callRecording (§3.1).
func (s *server) crGetOrg(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.crViewJSON(w, r, org.ID, func(_ directory.Tx, snap *policy.Snapshot) (any, error) {
		v := crVendorRef(snap, snap.Org.Recording.VendorID)
		return getCallRecordingJSON{
			Organization: callRecordingOrganizationJSON{ID: webexID(idOrg, snap.Org.ID), Name: snap.Org.Name},
			Enabled:      snap.Org.Recording.Entitled,
			VendorID:     v.ID, VendorName: v.Name, TermsOfServiceURL: v.TermsURL,
		}, nil
	})
}

// crPutOrg is PUT /v1/telephony/config/callRecording (§3.2): the partner's
// entitlement of the org (R2). Webex documents it "for Cisco partners
// only"; callrec lets partner administrators do it (§12 D15).
func (s *server) crPutOrg(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var body modifyCallRecordingBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	if body.Enabled == nil {
		return badRequest("enabled: required")
	}
	return noContent(w, s.crUpdateOrg(r.Context(), tok, org.ID, func(_ directory.Tx, rec *callrec.OrgRecording) error {
		rec.Entitled = *body.Enabled
		return nil
	}))
}

// callRecordingVendorsListJSON is CallRecordingVendorsList (§5.1); vendors
// is a plain array (§12 D1).
type callRecordingVendorsListJSON struct {
	VendorID        string                    `json:"vendorId"`
	VendorName      string                    `json:"vendorName"`
	Vendors         []callRecordingVendorJSON `json:"vendors" doc:"the vendors the org may choose (R6), and the pseudo-vendor none"`
	StorageRegion   string                    `json:"storageRegion,omitempty" doc:"where the org's recordings are stored (X2)"`
	FailureBehavior string                    `json:"failureBehavior" doc:"PROCEED_WITH_CALL_NO_ANNOUNCEMENT, PROCEED_CALL_WITH_ANNOUNCEMENT or END_CALL_WITH_ANNOUNCEMENT (X1)"`
}

// crGetVendors is GET /v1/telephony/config/callRecording/vendors (§5.1).
func (s *server) crGetVendors(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.crViewJSON(w, r, org.ID, func(tx directory.Tx, snap *policy.Snapshot) (any, error) {
		providers, err := crProviders(r.Context(), tx)
		if err != nil {
			return nil, err
		}
		v := crVendorRef(snap, snap.Org.Recording.VendorID)
		return callRecordingVendorsListJSON{
			VendorID: v.ID, VendorName: v.Name,
			Vendors:         crVendorList(snap, providers),
			StorageRegion:   snap.StorageRegion(""),
			FailureBehavior: snap.FailureBehavior(""),
		}, nil
	})
}

// callRecordingVendorPatchBody is CallRecordingVendorPatch (§5.2) with
// callrec's confirmation flag (R15).
type callRecordingVendorPatchBody struct {
	VendorID                    *string `json:"vendorId" doc:"required: a RECORDING_VENDOR id, or \"none\" to disable recording for the whole org"`
	StorageRegion               *string `json:"storageRegion" doc:"one of the vendor's regions (X2)"`
	FailureBehavior             *string `json:"failureBehavior"`
	DisableForAllUsersConfirmed *bool   `json:"disableForAllUsersConfirmed" doc:"must be true with vendorId none: it disables recording for all users and virtual lines (R15)"`
}

// callRecordingJobIDJSON is the 200 body of a vendor change (§5.2).
type callRecordingJobIDJSON struct {
	JobID string `json:"jobId"`
}

// crPutOrgVendor is PUT /v1/telephony/config/callRecording/vendor (§5.2;
// also served on .../vendors, §12 D16). The change is applied in one
// transaction and its job is stored COMPLETED:
//   - the vendor is checked by policy (R6, R13 409, R14, R15);
//   - choosing none disables recording for every person and virtual line
//     of the org, whatever its location (R15: "for all users"), which
//     resets their settings (R24);
//   - enabled people and lines whose effective vendor changes are
//     provisioned at the new provider (R7; nothing happens for external
//     ones, R10, R33);
//   - a stored storage region the new vendor does not offer is cleared
//     (the org falls back to its hosting region, X2).
//
// The job counts the locations that follow the org vendor
// (totalNumberOfLocations, when the vendor changes), and the people and
// virtual lines whose effective vendor changed or whose recording was
// disabled (totalNumberOfUsers = updatedUsers; failedUsers is 0, as the
// change is one transaction).
func (s *server) crPutOrgVendor(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	if err := require(tok, org, permWrite, ""); err != nil {
		return err
	}
	var body callRecordingVendorPatchBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	if body.VendorID == nil || *body.VendorID == "" {
		return badRequest("vendorId: required (a vendor id, or \"none\")")
	}
	vendorID, err := parseVendorID("vendorId", *body.VendorID)
	if err != nil {
		return err
	}
	if body.FailureBehavior != nil {
		if err := checkEnum("failureBehavior", *body.FailureBehavior, crFailureBehaviors...); err != nil {
			return err
		}
	}
	ctx := r.Context()
	started := s.now().UTC()
	job := &callrec.Job{ID: uuid.NewString(), OrgID: org.ID, VendorID: vendorID, By: actor(tok), TrackingID: info(ctx).trackingID, Created: started}
	err = s.store.Update(ctx, func(tx directory.Tx) error {
		snap, err := crSnapshot(ctx, tx, org.ID)
		if err != nil {
			return err
		}
		confirmed := body.DisableForAllUsersConfirmed != nil && *body.DisableForAllUsersConfirmed
		if err := policy.CheckOrgVendor(snap, vendorID, confirmed); err != nil {
			return ruleError(err)
		}
		newProvider := providerOf(snap, vendorID)
		before := snap.Org.Recording
		next := before
		next.VendorID = vendorID
		if body.StorageRegion != nil {
			if err := policy.CheckRegion(newProvider, *body.StorageRegion); err != nil {
				return ruleError(err)
			}
			next.StorageRegion = *body.StorageRegion
		} else if next.StorageRegion != "" && newProvider != nil && policy.CheckRegion(newProvider, next.StorageRegion) != nil {
			next.StorageRegion = ""
		}
		if body.FailureBehavior != nil {
			next.FailureBehavior = *body.FailureBehavior
		}
		after := *snap
		after.Org.Recording = next
		// Locations that follow the org's vendor see the change (R16).
		moved := map[string]bool{}
		if before.VendorID != next.VendorID {
			for id, l := range snap.Locations {
				if l.Recording.VendorID == "" {
					moved[id] = true
				}
			}
		}
		users, err := s.crApplyVendorChange(ctx, tx, tok, &after, moved, vendorID == callrec.VendorNone)
		if err != nil {
			return err
		}
		changed := after.Org
		if err := directory.Orgs.Put(ctx, tx, &changed); err != nil {
			return fmt.Errorf("api: org: %w", err)
		}
		if err := s.audit(ctx, tx, tok, org.ID, "update", auditOrgRecording, org.ID, before, next); err != nil {
			return err
		}
		job.Finished = s.now().UTC()
		job.Status = "COMPLETED"
		job.Locations, job.Users, job.Updated = len(moved), users, users
		if err := directory.Jobs.Put(ctx, tx, job); err != nil {
			return fmt.Errorf("api: job: %w", err)
		}
		return s.audit(ctx, tx, tok, org.ID, "create", auditRecordingJob, job.ID, nil, job)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, callRecordingJobIDJSON{JobID: webexID(idJob, job.ID)})
	return nil
}

// providerOf returns the registered provider with id, nil for none or an
// unknown id.
func providerOf(snap *policy.Snapshot, id string) *callrec.Provider {
	p, ok := snap.Providers[id]
	if !ok {
		return nil
	}
	return &p
}

// crApplyVendorChange updates the people and virtual lines of the org
// after its vendor (or a location's) changed; after is the snapshot with
// the change applied. Those at the moved locations get their new
// provider: the enabled ones are provisioned (R7, R32; external
// providers do nothing, R10, R33). With disableAll every enabled person
// and line of the org is turned off, which resets its settings (R15,
// R24). It returns how many people and lines it updated: each one moved
// or disabled.
func (s *server) crApplyVendorChange(ctx context.Context, tx directory.Tx, tok *callrec.Token, after *policy.Snapshot, moved map[string]bool, disableAll bool) (updated int, err error) {
	orgID := after.Org.ID
	people, err := directory.People.List(ctx, tx, orgID)
	if err != nil {
		return 0, fmt.Errorf("api: people: %w", err)
	}
	lines, err := directory.VirtualLines.List(ctx, tx, orgID)
	if err != nil {
		return 0, fmt.Errorf("api: virtual lines: %w", err)
	}
	now := s.now().UTC()
	by := crActor(tok)
	off := callrec.UserRecording{Enabled: false}
	for i := range people {
		p := &people[i]
		if !moved[p.LocationID] && !(disableAll && p.Recording.Enabled) {
			continue
		}
		updated++
		switch {
		case disableAll && p.Recording.Enabled:
			before := p.Recording
			p.Recording = policy.NormalizeUserRecording(before, off)
			if err := directory.People.Put(ctx, tx, p); err != nil {
				return 0, fmt.Errorf("api: person %s: %w", p.ID, err)
			}
			if err := s.audit(ctx, tx, tok, orgID, "update", auditPersonRecording, p.ID, before, p.Recording); err != nil {
				return 0, err
			}
		case p.Recording.Enabled:
			if err := crProvision(ctx, tx, after, policy.Target{Person: p}, by, now); err != nil {
				return 0, err
			}
		}
	}
	for i := range lines {
		l := &lines[i]
		if !moved[l.LocationID] && !(disableAll && l.Recording.Enabled) {
			continue
		}
		updated++
		switch {
		case disableAll && l.Recording.Enabled:
			before := l.Recording
			l.Recording = policy.NormalizeUserRecording(before, off)
			if err := directory.VirtualLines.Put(ctx, tx, l); err != nil {
				return 0, fmt.Errorf("api: virtual line %s: %w", l.ID, err)
			}
			if err := s.audit(ctx, tx, tok, orgID, "update", auditLineRecording, l.ID, before, l.Recording); err != nil {
				return 0, err
			}
		case l.Recording.Enabled:
			if err := crProvision(ctx, tx, after, policy.Target{Line: l}, by, now); err != nil {
				return 0, err
			}
		}
	}
	return updated, nil
}

// callRecordingRegionJSON is one storage region (§5.3).
type callRecordingRegionJSON struct {
	Code           string `json:"code"`
	Name           string `json:"name"`
	DefaultEnabled bool   `json:"defaultEnabled" doc:"the org's hosting region (§12 D3: boolean)"`
}

// callRecordingRegionsJSON is the regions list (§5.3).
type callRecordingRegionsJSON struct {
	Regions []callRecordingRegionJSON `json:"regions"`
}

// crGetRegions is GET /v1/telephony/config/callRecording/regions (§5.3):
// the regions the built-in provider stores audio in (X2), the org's
// hosting region marked defaultEnabled.
func (s *server) crGetRegions(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.crViewJSON(w, r, org.ID, func(_ directory.Tx, snap *policy.Snapshot) (any, error) {
		var out callRecordingRegionsJSON
		codes := policy.StorageRegions
		if p, ok := snap.Providers[callrec.BuiltInProviderID]; ok && len(p.Regions) > 0 {
			codes = p.Regions
		}
		out.Regions = make([]callRecordingRegionJSON, 0, len(codes))
		for _, c := range codes {
			name := crRegionNames[c]
			if name == "" {
				name = c
			}
			out.Regions = append(out.Regions, callRecordingRegionJSON{Code: c, Name: name, DefaultEnabled: c == snap.Org.Region})
		}
		return out, nil
	})
}

// callRecordingMemberJSON is a vendor user (§5.4).
type callRecordingMemberJSON struct {
	ID          string `json:"id"`
	LastName    string `json:"lastName,omitempty"`
	FirstName   string `json:"firstName,omitempty"`
	Type        string `json:"type" doc:"PEOPLE, PLACE (a workspace) or VIRTUAL_LINE"`
	LicenseType string `json:"licenseType" doc:"BASIC_USER, PROFESSIONAL_USER, WORKSPACE, PROFESSIONAL_WORKSPACE or VIRTUAL_PROFILE"`
}

// callRecordingVendorUsersJSON is the vendor users page (§5.4).
type callRecordingVendorUsersJSON struct {
	VendorID string                    `json:"vendorId"`
	Members  []callRecordingMemberJSON `json:"members"`
}

// Vendor user pagination (§1.6: max defaults to 2000).
const (
	crVendorUsersDefMax = 2000
	crVendorUsersMaxMax = 10000
)

// isWorkspace says whether a person is a workspace (a place), by licence.
func isWorkspace(p *callrec.Person) bool {
	return p.License == callrec.LicenseWorkspace || p.License == callrec.LicenseProfessionalWorkspace
}

// crVendorMembers lists the people and virtual lines whose effective
// vendor is vendorID, restricted to locationID when it is set. Nobody is
// a member of none (it is no vendor).
func crVendorMembers(ctx context.Context, tx directory.Tx, snap *policy.Snapshot, vendorID, locationID string, standardOnly bool) ([]callRecordingMemberJSON, error) {
	members := []callRecordingMemberJSON{}
	if vendorID == "" || vendorID == callrec.VendorNone {
		return members, nil
	}
	in := func(loc string) bool {
		if locationID != "" && loc != locationID {
			return false
		}
		v, _ := snap.Vendor(loc)
		return v == vendorID
	}
	people, err := directory.People.List(ctx, tx, snap.Org.ID)
	if err != nil {
		return nil, fmt.Errorf("api: people: %w", err)
	}
	for i := range people {
		p := &people[i]
		if !in(p.LocationID) || (standardOnly && p.License != callrec.LicenseBasic) {
			continue
		}
		m := callRecordingMemberJSON{ID: webexID(idPerson, p.ID), FirstName: p.FirstName, LastName: p.LastName, Type: "PEOPLE", LicenseType: p.License}
		if isWorkspace(p) {
			m.ID, m.Type = webexID(idWorkspacePlace, p.ID), "PLACE"
		}
		members = append(members, m)
	}
	if standardOnly {
		return members, nil
	}
	lines, err := directory.VirtualLines.List(ctx, tx, snap.Org.ID)
	if err != nil {
		return nil, fmt.Errorf("api: virtual lines: %w", err)
	}
	for _, l := range lines {
		if in(l.LocationID) {
			members = append(members, callRecordingMemberJSON{ID: webexID(idVirtualLine, l.ID), FirstName: l.FirstName, LastName: l.LastName,
				Type: "VIRTUAL_LINE", LicenseType: callrec.LicenseVirtualProfile})
		}
	}
	return members, nil
}

// crVendorUsers serves §5.4 (locationPath false) and §5.7.
func (s *server) crVendorUsers(w http.ResponseWriter, r *http.Request, org *callrec.Org, locationPath bool) error {
	start, max, err := pageParams(r, crVendorUsersDefMax, crVendorUsersMaxMax)
	if err != nil {
		return err
	}
	standardOnly, _, err := queryBool(r.URL.Query(), "standardUserOnly")
	if err != nil {
		return err
	}
	var (
		vendor  vendorRef
		members []callRecordingMemberJSON
	)
	err = s.crView(r.Context(), org.ID, func(tx directory.Tx, snap *policy.Snapshot) error {
		locationID := ""
		if locationPath {
			loc, err := crLocation(r.Context(), tx, org.ID, r.PathValue("locationId"))
			if err != nil {
				return err
			}
			locationID = loc.ID
		}
		vendorID, _ := snap.Vendor(locationID)
		vendor = crVendorRef(snap, vendorID)
		members, err = crVendorMembers(r.Context(), tx, snap, vendorID, locationID, standardOnly)
		return err
	})
	if err != nil {
		return err
	}
	writePage(s, w, r, members, start, max, "members", map[string]any{"vendorId": vendor.ID})
	return nil
}

// crGetVendorUsers is GET /v1/telephony/config/callRecording/vendorUsers (§5.4).
func (s *server) crGetVendorUsers(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.crVendorUsers(w, r, org, false)
}

// crGetLocationVendorUsers is GET .../locations/{locationId}/callRecording/vendorUsers (§5.7).
func (s *server) crGetLocationVendorUsers(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.crVendorUsers(w, r, org, true)
}

// callRecordingLocationVendorsJSON is CallRecordingLocationVendorsResponse (§5.5).
type callRecordingLocationVendorsJSON struct {
	OrgDefaultEnabled         bool                      `json:"orgDefaultEnabled" doc:"the location uses the org's vendor (R16)"`
	OrgDefaultVendorID        string                    `json:"orgDefaultVendorId"`
	OrgDefaultVendorName      string                    `json:"orgDefaultVendorName"`
	DefaultVendorID           string                    `json:"defaultVendorId" doc:"the location's effective vendor"`
	DefaultVendorName         string                    `json:"defaultVendorName"`
	Vendors                   []callRecordingVendorJSON `json:"vendors"`
	OrgStorageRegionEnabled   bool                      `json:"orgStorageRegionEnabled"`
	OrgStorageRegion          string                    `json:"orgStorageRegion"`
	StorageRegion             string                    `json:"storageRegion"`
	OrgFailureBehaviorEnabled bool                      `json:"orgFailureBehaviorEnabled"`
	OrgFailureBehavior        string                    `json:"orgFailureBehavior"`
	FailureBehavior           string                    `json:"failureBehavior"`
}

// crGetLocationVendors is GET .../locations/{locationId}/callRecording/vendors (§5.5).
func (s *server) crGetLocationVendors(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.crViewJSON(w, r, org.ID, func(tx directory.Tx, snap *policy.Snapshot) (any, error) {
		loc, err := crLocation(r.Context(), tx, org.ID, r.PathValue("locationId"))
		if err != nil {
			return nil, err
		}
		providers, err := crProviders(r.Context(), tx)
		if err != nil {
			return nil, err
		}
		orgVendor := crVendorRef(snap, snap.Org.Recording.VendorID)
		effective, inherited := snap.Vendor(loc.ID)
		eff := crVendorRef(snap, effective)
		return callRecordingLocationVendorsJSON{
			OrgDefaultEnabled:  inherited,
			OrgDefaultVendorID: orgVendor.ID, OrgDefaultVendorName: orgVendor.Name,
			DefaultVendorID: eff.ID, DefaultVendorName: eff.Name,
			Vendors:                 crVendorList(snap, providers),
			OrgStorageRegionEnabled: loc.Recording.StorageRegion == "",
			OrgStorageRegion:        snap.StorageRegion(""),
			StorageRegion:           snap.StorageRegion(loc.ID),
			// A stored value policy does not accept is skipped (X1), so
			// the location follows the org unless its own value counts.
			OrgFailureBehaviorEnabled: !slices.Contains(crFailureBehaviors, loc.Recording.FailureBehavior),
			OrgFailureBehavior:        snap.FailureBehavior(""),
			FailureBehavior:           snap.FailureBehavior(loc.ID),
		}, nil
	})
}

// callRecordingVendorsPatchBody is CallRecordingVendorsPatchRequest (§5.6),
// with the storage region fields (§12 D2). A true org*Enabled flag
// returns that setting to the org's and wins over a value sent with it
// (Webex's own example sends both).
type callRecordingVendorsPatchBody struct {
	ID                        *string `json:"id" doc:"the location's vendor: a RECORDING_VENDOR id or \"none\""`
	OrgDefaultEnabled         *bool   `json:"orgDefaultEnabled" doc:"true: use the org's vendor (R16)"`
	StorageRegion             *string `json:"storageRegion"`
	OrgStorageRegionEnabled   *bool   `json:"orgStorageRegionEnabled" doc:"true: use the org's storage region"`
	FailureBehavior           *string `json:"failureBehavior"`
	OrgFailureBehaviorEnabled *bool   `json:"orgFailureBehaviorEnabled" doc:"true: use the org's failure behaviour"`
}

// crPutLocationVendor is PUT .../locations/{locationId}/callRecording/vendor
// (§5.6). It is applied at once (204). The usage patterns of §5.6:
// {id, orgDefaultEnabled false} overrides the vendor (R16, checked by
// policy: R6, R13 409; none needs no confirmation), {orgDefaultEnabled
// true} reverts to the org's; storage region and failure behaviour
// likewise. A false flag without a value pins the org's current value;
// a region the location's (new) vendor does not offer is cleared.
// Enabled people and lines at the location whose provider changes are
// provisioned (R7; nothing for external providers, R10, R33).
func (s *server) crPutLocationVendor(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var body callRecordingVendorsPatchBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	vendorID := ""
	if body.ID != nil && !isTrue(body.OrgDefaultEnabled) {
		var err error
		if vendorID, err = parseVendorID("id", *body.ID); err != nil {
			return err
		}
	}
	if body.FailureBehavior != nil && !isTrue(body.OrgFailureBehaviorEnabled) {
		if err := checkEnum("failureBehavior", *body.FailureBehavior, crFailureBehaviors...); err != nil {
			return err
		}
	}
	return s.updateNoContent(w, r, func(ctx context.Context, tx directory.Tx) error {
		loc, err := crLocation(ctx, tx, org.ID, r.PathValue("locationId"))
		if err != nil {
			return err
		}
		if err := require(tok, org, permWrite, loc.ID); err != nil {
			return err
		}
		snap, err := crSnapshot(ctx, tx, org.ID)
		if err != nil {
			return err
		}
		before := loc.Recording
		next := before
		switch {
		case isTrue(body.OrgDefaultEnabled):
			next.VendorID = ""
		case vendorID != "":
			next.VendorID = vendorID
		case body.OrgDefaultEnabled != nil && next.VendorID == "":
			if next.VendorID = snap.Org.Recording.VendorID; next.VendorID == "" {
				return badRequest("id: required with orgDefaultEnabled false: the org has no vendor to keep")
			}
		}
		if next.VendorID != before.VendorID && next.VendorID != "" {
			if err := policy.CheckLocationVendor(snap, loc.ID, next.VendorID); err != nil {
				return ruleError(err)
			}
		}
		after := *snap
		after.Locations = make(map[string]callrec.Location, len(snap.Locations))
		for id, l := range snap.Locations {
			after.Locations[id] = l
		}
		nl := *loc
		nl.Recording = next
		after.Locations[loc.ID] = nl
		effVendor, _ := after.Vendor(loc.ID)
		switch {
		case isTrue(body.OrgStorageRegionEnabled):
			next.StorageRegion = ""
		case body.StorageRegion != nil:
			if err := policy.CheckRegion(providerOf(&after, effVendor), *body.StorageRegion); err != nil {
				return ruleError(err)
			}
			next.StorageRegion = *body.StorageRegion
		case body.OrgStorageRegionEnabled != nil && next.StorageRegion == "":
			next.StorageRegion = snap.StorageRegion("")
		}
		// As at org level: a kept region the new vendor does not offer is
		// cleared, and the location falls back to the org's (X2).
		if p := providerOf(&after, effVendor); next.StorageRegion != "" && p != nil && policy.CheckRegion(p, next.StorageRegion) != nil {
			next.StorageRegion = ""
		}
		switch {
		case isTrue(body.OrgFailureBehaviorEnabled):
			next.FailureBehavior = ""
		case body.FailureBehavior != nil:
			next.FailureBehavior = *body.FailureBehavior
		case body.OrgFailureBehaviorEnabled != nil && next.FailureBehavior == "":
			next.FailureBehavior = snap.FailureBehavior("")
		}
		nl.Recording = next
		after.Locations[loc.ID] = nl
		if err := directory.Locations.Put(ctx, tx, &nl); err != nil {
			return fmt.Errorf("api: location: %w", err)
		}
		if err := s.audit(ctx, tx, tok, org.ID, "update", auditLocationRecording, loc.ID, before, next); err != nil {
			return err
		}
		oldVendor, _ := snap.Vendor(loc.ID)
		if oldVendor == effVendor {
			return nil
		}
		_, err = s.crApplyVendorChange(ctx, tx, tok, &after, map[string]bool{loc.ID: true}, false)
		return err
	})
}

// isTrue says whether an optional boolean is set and true.
func isTrue(b *bool) bool { return b != nil && *b }
