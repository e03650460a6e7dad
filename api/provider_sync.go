package api

// User sync for external providers (R10, R33): callrec creates no
// accounts at an external provider; the provider's sync tool reads the
// org's recorded users here, with exactly what R13 shares about them.

import (
	"net/http"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/provider"
)

// providerUsersJSON is one page of a provider's users in an org.
type providerUsersJSON struct {
	VendorID string             `json:"vendorId"`
	Items    []providerUserJSON `json:"items"`
}

// providerUserJSON is one person or virtual line recorded by the provider.
type providerUserJSON struct {
	ID            string            `json:"id"`   // PEOPLE or VIRTUAL_LINE id
	Type          string            `json:"type"` // PEOPLE or VIRTUAL_LINE
	LocationID    string            `json:"locationId"`
	RecordingMode string            `json:"recordingMode" doc:"Always, Never, Always with Pause/Resume or On Demand with User Initiated Start (R25)"`
	Fields        map[string]string `json:"fields" doc:"exactly the fields shared under R13: timezone, firstName, lastName, email (people), customerName (external providers)"`
}

// provModes spells the recording modes (R25) as Webex does.
var provModes = map[string]string{
	callrec.ModeNever:                 "Never",
	callrec.ModeAlways:                "Always",
	callrec.ModeAlwaysWithPauseResume: "Always with Pause/Resume",
	callrec.ModeOnDemand:              "On Demand with User Initiated Start",
}

// provUsers is GET .../providers/{providerId}/users (R10, R33).
func (s *server) provUsers(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, err := s.actingOrg(r, tok)
	if err != nil {
		return err
	}
	if !managesOrg(tok, org) && !(tok.Role == callrec.RoleFullAdmin && tok.OrgID == org.ID) {
		return forbidden("Only full and partner administrators may read a provider's users (R10)")
	}
	start, max, err := pageParams(r, 2000, 10000)
	if err != nil {
		return err
	}
	var users []provider.User
	var vendorID string
	err = s.store.View(r.Context(), func(tx directory.Tx) error {
		p, err := provLoad(r, tx, "providerId", "Provider")
		if err != nil {
			return err
		}
		vendorID = webexID(idVendor, p.ID)
		snap, err := directory.Snapshot(r.Context(), tx, org.ID)
		if err != nil {
			return err
		}
		if users, err = provider.Users(r.Context(), tx, snap, p.ID); err != nil {
			return ruleError(err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	items := make([]providerUserJSON, 0, len(users))
	for _, u := range users {
		mode, ok := provModes[u.Mode]
		if !ok {
			mode = u.Mode
		}
		loc := ""
		if u.LocationID != "" {
			loc = webexID(idLocation, u.LocationID)
		}
		items = append(items, providerUserJSON{ID: provMemberID(u.Type, u.ID), Type: u.Type, LocationID: loc, RecordingMode: mode, Fields: u.Fields})
	}
	writePage(s, w, r, items, start, max, "items", map[string]any{"vendorId": vendorID})
	return nil
}
