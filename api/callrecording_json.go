package api

// This file holds the JSON shapes of the call recording settings API
// (reference §3, §5-§9) and the small renderers they share. Type names
// follow Webex's schema names, so the OpenAPI document reads like Webex's
// and no other part of the package collides with them.

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

// idWorkspacePlace is Webex's id type of a workspace (a place). callrec
// keeps workspaces as people with a workspace licence, so their ids decode
// from PLACE and PEOPLE ids alike.
const idWorkspacePlace = "PLACE"

// crVendorNoneName is the display name of the pseudo-vendor none
// (interfaces.md: {"id": "none", "name": "None"}).
const crVendorNoneName = "None"

// crJobName is the job name Webex gives vendor changes (§6.2).
const crJobName = "managecallrecordingprovider"

// crJobTime renders job timestamps as Webex does: 2024-05-08T14:12:28.371Z.
const crJobTime = "2006-01-02T15:04:05.000Z07:00"

// crFailureBehaviors are the X1 failure behaviours (§2.1).
var crFailureBehaviors = []string{
	callrec.FailureProceedNoAnnouncement,
	callrec.FailureProceedWithAnnouncement,
	callrec.FailureEndWithAnnouncement,
}

// crRegionNames names the storage region codes (§2.5, §5.3).
var crRegionNames = map[string]string{
	"US": "United States",
	"SG": "Singapore",
	"GB": "United Kingdom",
	"JP": "Japan",
	"DE": "Germany",
	"AU": "Australia",
	"IN": "India",
	"CA": "Canada",
}

// The record enum as Webex spells it (§9.2), and the legacy spelling
// accepted on input only (§12 D5).
const (
	crRecordAlways      = "Always"
	crRecordNever       = "Never"
	crRecordPauseResume = "Always with Pause/Resume"
	crRecordOnDemand    = "On Demand with User Initiated Start"
	crRecordLegacy      = "On Demand"
)

// crRecordOut maps a stored mode (R25) to its Webex spelling.
var crRecordOut = map[string]string{
	callrec.ModeNever:                 crRecordNever,
	callrec.ModeAlways:                crRecordAlways,
	callrec.ModeAlwaysWithPauseResume: crRecordPauseResume,
	callrec.ModeOnDemand:              crRecordOnDemand,
}

// crRecordIn maps every accepted spelling to the stored mode; the legacy
// "On Demand" is the user-initiated on-demand mode (§12 D5).
var crRecordIn = map[string]string{
	crRecordNever:       callrec.ModeNever,
	crRecordAlways:      callrec.ModeAlways,
	crRecordPauseResume: callrec.ModeAlwaysWithPauseResume,
	crRecordOnDemand:    callrec.ModeOnDemand,
	crRecordLegacy:      callrec.ModeOnDemand,
}

// Notification types as Webex spells them (§9.2, R28).
const (
	crNotifyNone         = "None"
	crNotifyBeep         = "Beep"
	crNotifyAnnouncement = "Play Announcement"
)

// crNotifyOut maps a stored notification kind to its Webex spelling.
var crNotifyOut = map[string]string{
	callrec.NotifyNone:         crNotifyNone,
	callrec.NotifyBeep:         crNotifyBeep,
	callrec.NotifyAnnouncement: crNotifyAnnouncement,
}

// recordSpelling renders a stored mode; an unknown stored value is shown as
// it is rather than hidden.
func recordSpelling(mode string) string {
	if s, ok := crRecordOut[mode]; ok {
		return s
	}
	return mode
}

// notifySpelling renders a stored notification kind.
func notifySpelling(kind string) string {
	if s, ok := crNotifyOut[kind]; ok {
		return s
	}
	if kind == "" {
		return crNotifyNone
	}
	return kind
}

// vendorRef is how a vendor id of the store is shown: its Webex id (the
// string "none" for the pseudo-vendor and for no vendor at all), name and
// terms URL.
type vendorRef struct {
	ID, Name, TermsURL, LoginURL string
}

// crVendorRef describes vendorID with what the snapshot knows of it.
func crVendorRef(snap *policy.Snapshot, vendorID string) vendorRef {
	switch vendorID {
	case "", callrec.VendorNone:
		return vendorRef{ID: callrec.VendorNone, Name: crVendorNoneName}
	}
	ref := vendorRef{ID: webexID(idVendor, vendorID)}
	if p, ok := snap.Providers[vendorID]; ok {
		ref.Name, ref.TermsURL, ref.LoginURL = p.Name, p.TermsURL, p.LoginURL
	}
	return ref
}

// parseVendorID reads a vendor id of a request body: "none" or a
// RECORDING_VENDOR id. An id that names nothing is 404 naming the field.
func parseVendorID(field, s string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(s), callrec.VendorNone) {
		return callrec.VendorNone, nil
	}
	id, ok := parseID(idVendor, s)
	if !ok {
		return "", notFoundf("%s: recording vendor %s was not found", field, quote(s))
	}
	return id, nil
}

// callRecordingVendorJSON is a Vendor (§2.2).
type callRecordingVendorJSON struct {
	ID                         string `json:"id"`
	Name                       string `json:"name"`
	Description                string `json:"description"`
	MigrateUserCreationEnabled bool   `json:"migrateUserCreationEnabled" doc:"a recording account is created at the vendor when a user is enabled (R7, R10)"`
	LoginURL                   string `json:"loginUrl"`
	TermsOfServiceURL          string `json:"termsOfServiceUrl"`
}

// crVendorList lists the vendors an org may choose: every registered
// provider the policy does not refuse for the org's hosting region (R6),
// then the pseudo-vendor none (interfaces.md).
func crVendorList(snap *policy.Snapshot, providers []callrec.Provider) []callRecordingVendorJSON {
	out := make([]callRecordingVendorJSON, 0, len(providers)+1)
	for _, p := range providers {
		var re *policy.RuleError
		if err := policy.CheckOrgVendor(snap, p.ID, true); errors.As(err, &re) && re.Rule == "R6" {
			continue
		}
		out = append(out, callRecordingVendorJSON{
			ID: webexID(idVendor, p.ID), Name: p.Name, Description: p.Description,
			MigrateUserCreationEnabled: p.AutoProvisioning, LoginURL: p.LoginURL, TermsOfServiceURL: p.TermsURL,
		})
	}
	return append(out, callRecordingVendorJSON{
		ID: callrec.VendorNone, Name: crVendorNoneName,
		Description: "No call recording: choosing it disables recording (R15, R16)",
	})
}

// crProviders returns every registered provider, in registration order.
func crProviders(ctx context.Context, tx directory.Tx) ([]callrec.Provider, error) {
	ps, err := directory.Providers.List(ctx, tx, "")
	if err != nil {
		return nil, fmt.Errorf("api: list providers: %w", err)
	}
	return ps, nil
}

// callRecordingAnnouncementFileJSON is an AudioAnnouncementFile (§2.3).
type callRecordingAnnouncementFileJSON struct {
	ID             string `json:"id"`
	FileName       string `json:"fileName"`
	MediaFileType  string `json:"mediaFileType"`
	Level          string `json:"level" doc:"ORGANIZATION or LOCATION"`
	IsTextToSpeech bool   `json:"isTextToSpeech"`
}

// crAnnouncementFile renders the announcement file with id, or nil when
// id is empty or the file no longer exists.
func crAnnouncementFile(ctx context.Context, tx directory.Tx, orgID, id string) (*callRecordingAnnouncementFileJSON, error) {
	if id == "" {
		return nil, nil
	}
	f, err := directory.AnnouncementFiles.Get(ctx, tx, orgID, id)
	if directory.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("api: announcement file: %w", err)
	}
	level := "ORGANIZATION"
	if f.LocationID != "" {
		level = "LOCATION"
	}
	return &callRecordingAnnouncementFileJSON{ID: webexID(idAnnouncement, f.ID), FileName: f.Name, MediaFileType: "WAV", Level: level}, nil
}

// crFileID resolves an audioAnnouncementFileId of a request: the file
// must belong to the org and be an org-level file or one of locationID
// ("" = org level: org files only). Anything else is 404 naming field.
func crFileID(ctx context.Context, tx directory.Tx, orgID, locationID, field, raw string) (string, error) {
	id, ok := parseID(idAnnouncement, raw)
	if !ok {
		return "", notFoundf("%s: announcement file %s was not found", field, quote(raw))
	}
	f, err := directory.AnnouncementFiles.Get(ctx, tx, orgID, id)
	if directory.IsNotFound(err) || (err == nil && f.LocationID != "" && f.LocationID != locationID) {
		return "", notFoundf("%s: announcement file %s was not found", field, quote(raw))
	}
	if err != nil {
		return "", fmt.Errorf("api: announcement file: %w", err)
	}
	return id, nil
}

// crLocation resolves a location id of the path in the org: 404 when it
// does not parse or names another org's location.
func crLocation(ctx context.Context, tx directory.Tx, orgID, raw string) (*callrec.Location, error) {
	return dirLoad(ctx, tx, directory.Locations, orgID, idLocation, "Location", raw)
}

// crElapsed renders a duration as Webex's timeElapsed (ISO 8601, e.g. PT0.012S).
func crElapsed(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("PT%.3fS", d.Seconds())
}

// crTime renders a job timestamp (UTC, milliseconds), "" for the zero time.
func crTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(crJobTime)
}
