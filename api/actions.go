package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/callrec/callrec"
)

// maxIDs is the most recordingIds one action takes (§10.8-10.11).
const maxIDs = 100

// maxComment is the longest DELETE comment, in characters (§10.7).
const maxComment = 255

// decodeBody reads a JSON object into v. An empty body is an error only
// when required. The body is already capped at 1 MiB (413 beyond).
func decodeBody(r *http.Request, v any, required bool) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return badRequest("Request body could not be read")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if required {
			return badRequest(msgBodyMissing)
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return badRequest(describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("Request body must hold a single JSON object")
	}
	return nil
}

// describeJSONError names what is wrong with a JSON body.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("Request body is not valid JSON: %s (at byte %d)", syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "Request body must be a JSON object"
		}
		return fmt.Sprintf("Field %s must be %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "Request body is not valid JSON: unexpected end of input"
	}
	return "Request body is not valid JSON"
}

// jsonKind names a Go type the way a JSON user would.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a number"
}

// deleteBody is the optional body of DELETE (§10.7).
type deleteBody struct {
	Reason  string `json:"reason"`
	Comment string `json:"comment"`
}

// deleteRecording is DELETE /v1/convergedRecordings/{id} (§10.7): the audio
// is deleted for good and the row stays with status purged, visible to
// compliance officers only. Repeating it is harmless (and not audited
// again).
func (s *server) deleteRecording(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	var body deleteBody
	if err := decodeBody(r, &body, false); err != nil {
		return err
	}
	if utf8.RuneCountInString(body.Comment) > maxComment {
		return badRequestf("comment must be at most %d characters", maxComment)
	}
	rec, acc, err := s.visible(r.Context(), s.accessFor(tok), r.PathValue("id"))
	if err != nil {
		return err
	}
	already := rec.Status == callrec.StatusPurged
	if !acc.Delete && !already {
		return forbidden("The token may not delete this recording")
	}
	before := stateOf(rec)
	if err := s.purgeOne(r.Context(), rec); err != nil {
		return err
	}
	if !already {
		after := stateOf(rec)
		after.Status, after.Reason, after.Comment = callrec.StatusPurged, body.Reason, body.Comment
		if err := s.auditRecordings(r.Context(), tok, actionDelete, []recChange{{rec, before, after}}); err != nil {
			return err
		}
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "recording purged",
		slog.String("recording", rec.ID), slog.String("org", rec.OrgID), slog.String("token", tok.ID),
		slog.String("reason", body.Reason), slog.String("comment", body.Comment),
		slog.String("trackingId", info(r.Context()).trackingID))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// purgeOne deletes a recording's audio, then marks it purged. The blob goes
// first: if the update fails the request can be repeated, and the audio
// never outlives a purged row.
func (s *server) purgeOne(ctx context.Context, rec *callrec.Recording) error {
	if rec.BlobKey != "" {
		if err := s.blobs.Delete(ctx, rec.BlobKey); err != nil && !errors.Is(err, callrec.ErrNotFound) {
			return fmt.Errorf("api: purge %s: delete audio: %w", rec.ID, err)
		}
	}
	if rec.Status == callrec.StatusPurged {
		return nil
	}
	upd := *rec
	upd.Status = callrec.StatusPurged
	if err := s.store.UpdateRecording(ctx, &upd); err != nil {
		return fmt.Errorf("api: purge %s: %w", rec.ID, err)
	}
	return nil
}

// bulkBody is the body of softDelete, restore and purge (§10.8-10.10);
// each reads its own "all" flag.
type bulkBody struct {
	TrashAll     bool     `json:"trashAll"`
	RestoreAll   bool     `json:"restoreAll"`
	PurgeAll     bool     `json:"purgeAll"`
	OwnerEmail   string   `json:"ownerEmail"`
	RecordingIDs []string `json:"recordingIds"`
}

// bulkAction describes one of the recycle-bin actions.
type bulkAction struct {
	name    string // softDelete, restore, purge
	allFlag string // trashAll, restoreAll, purgeAll
	all     func(*bulkBody) bool
	audit   string // the audit action
	from    string // the status it moves recordings out of
	to      string // the status it moves them to
	// refuse returns why a recording in status st cannot take the action
	// ("" when it can; a recording already in to is left alone).
	refuse func(id, st string) error
}

var (
	softDeleteAction = bulkAction{
		name: "softDelete", allFlag: "trashAll", all: func(b *bulkBody) bool { return b.TrashAll },
		audit: actionSoftDelete, from: callrec.StatusAvailable, to: callrec.StatusDeleted,
		refuse: func(id, st string) error {
			if st == callrec.StatusPurged {
				return conflictf("Recording %s is purged and cannot be moved to the recycle bin", quote(id))
			}
			return nil
		},
	}
	restoreAction = bulkAction{
		name: "restore", allFlag: "restoreAll", all: func(b *bulkBody) bool { return b.RestoreAll },
		audit: actionRestore, from: callrec.StatusDeleted, to: callrec.StatusAvailable,
		refuse: func(id, st string) error {
			if st == callrec.StatusPurged {
				return conflictf("Recording %s is purged and cannot be restored", quote(id))
			}
			return nil
		},
	}
	purgeAction = bulkAction{
		name: "purge", allFlag: "purgeAll", all: func(b *bulkBody) bool { return b.PurgeAll },
		audit: actionPurge, from: callrec.StatusDeleted, to: callrec.StatusPurged,
		refuse: func(id, st string) error {
			if st == callrec.StatusAvailable {
				return conflictf("Recording %s is not in the recycle bin; move it there with softDelete first", quote(id))
			}
			return nil
		},
	}
)

// validateBulk applies the body rules of §10.8 to b; every broken rule
// gives one message naming the field.
func validateBulk(a *bulkAction, b *bulkBody, admin bool) error {
	var bad []string
	if a.all(b) {
		if len(b.RecordingIDs) > 0 {
			bad = append(bad, fmt.Sprintf("recordingIds must be empty when %s is true", a.allFlag))
		}
		if admin && b.OwnerEmail == "" {
			bad = append(bad, fmt.Sprintf("ownerEmail is required when %s is true", a.allFlag))
		}
		if !admin && b.OwnerEmail != "" {
			bad = append(bad, "ownerEmail must be empty for a user's own recordings")
		}
	} else {
		if b.OwnerEmail != "" {
			bad = append(bad, fmt.Sprintf("ownerEmail must be empty when %s is false", a.allFlag))
		}
		if len(b.RecordingIDs) == 0 {
			bad = append(bad, fmt.Sprintf("recordingIds must not be empty when %s is false", a.allFlag))
		}
	}
	bad = append(bad, validateIDs(b.RecordingIDs)...)
	bad = append(bad, validateEmails("ownerEmail", b.OwnerEmail)...)
	if len(bad) > 0 {
		return badRequest(bad...)
	}
	return nil
}

// validateIDs checks a recordingIds list: at most 100, none empty.
func validateIDs(ids []string) []string {
	var bad []string
	if len(ids) > maxIDs {
		bad = append(bad, fmt.Sprintf("recordingIds must hold at most %d ids, not %d", maxIDs, len(ids)))
	}
	for _, id := range ids {
		if id == "" {
			bad = append(bad, "recordingIds must not contain empty ids")
			break
		}
	}
	for _, id := range ids {
		if id != "" && !validText(id) {
			bad = append(bad, fmt.Sprintf("recordingIds must hold ids of at most %d bytes without control characters", maxText))
			break
		}
	}
	return bad
}

// validateEmails checks the free-text fields of a body.
func validateEmails(fields ...string) []string {
	var bad []string
	for i := 0; i+1 < len(fields); i += 2 {
		if v := fields[i+1]; v != "" && !validText(v) {
			bad = append(bad, fmt.Sprintf("%s must be text of at most %d bytes without control characters", fields[i], maxText))
		}
	}
	return bad
}

func (s *server) softDelete(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	return s.bulk(w, r, tok, &softDeleteAction)
}

func (s *server) restore(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	return s.bulk(w, r, tok, &restoreAction)
}

func (s *server) purge(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	return s.bulk(w, r, tok, &purgeAction)
}

// bulk runs softDelete, restore or purge. With recordingIds every id is
// checked first (404 when not visible, 403 when not allowed, 409 when its
// status refuses the action) and only then are they changed. With the
// "all" flag every recording in the from status moves: of ownerEmail for
// admins, of the caller for users. Each change is audited (X4).
func (s *server) bulk(w http.ResponseWriter, r *http.Request, tok *callrec.Token, a *bulkAction) error {
	var body bulkBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	admin := isAdmin(tok)
	if err := validateBulk(a, &body, admin); err != nil {
		return err
	}
	ctx := r.Context()
	acc := s.accessFor(tok)
	var targets []callrec.Recording
	if a.all(&body) {
		org, err := s.recordingOrgScope(r, tok)
		if err != nil {
			return err
		}
		q := callrec.RecordingQuery{OrgID: org, OwnerEmail: body.OwnerEmail, Statuses: []string{a.from}}
		if !admin {
			q.OwnerID = tok.PersonID
			if q.OwnerID == "" {
				q.OwnerID = "\x00none" // a token of no person owns nothing
			}
		}
		targets, err = s.collect(ctx, q, 0, func(rec *callrec.Recording) (bool, error) {
			ra, err := acc.of(ctx, rec)
			return rec.Status == a.from && ra.Delete, err
		})
		if err != nil {
			return err
		}
	} else {
		seen := map[string]bool{}
		for _, id := range body.RecordingIDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			rec, ra, err := s.visible(ctx, acc, id)
			if err != nil {
				return err
			}
			if err := a.refuse(id, rec.Status); err != nil {
				return err
			}
			if rec.Status == a.to {
				continue // already there: nothing to do, nothing to audit
			}
			if !ra.Delete {
				return forbidden(fmt.Sprintf("The token may not %s recording %s", a.name, quote(id)))
			}
			targets = append(targets, *rec)
		}
	}
	changes := make([]recChange, 0, len(targets))
	for i := range targets {
		rec := &targets[i]
		before := stateOf(rec)
		var err error
		if a.to == callrec.StatusPurged {
			err = s.purgeOne(ctx, rec)
		} else {
			upd := *rec
			upd.Status = a.to
			if err = s.store.UpdateRecording(ctx, &upd); err != nil {
				err = fmt.Errorf("api: %s %s: %w", a.name, rec.ID, err)
			}
		}
		if err != nil {
			// Audit what was done before the failure.
			return errors.Join(err, s.auditRecordings(ctx, tok, a.audit, changes))
		}
		after := stateOf(rec)
		after.Status = a.to
		changes = append(changes, recChange{rec, before, after})
	}
	if err := s.auditRecordings(ctx, tok, a.audit, changes); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "recordings "+a.name,
		slog.Int("count", len(targets)), slog.String("token", tok.ID),
		slog.String("trackingId", info(ctx).trackingID))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// reassignBody is the body of reassign (§10.11); note the capital ID of ownerID.
type reassignBody struct {
	ReassignOwnerEmail string   `json:"reassignOwnerEmail"`
	OwnerEmail         string   `json:"ownerEmail"`
	OwnerID            string   `json:"ownerID"`
	RecordingIDs       []string `json:"recordingIds"`
}

// reassign is POST /v1/convergedRecordings/reassign (§10.11). The new
// owner must be a person of the recordings' org (any of their emails);
// each recording's owner, owner email and location become the person's,
// and its expiry follows the person's plan (reassignExpiry: never sooner
// than 30 days from now when the plan has a limit, R9). Every change is
// audited (X4).
func (s *server) reassign(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	var body reassignBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	var bad []string
	if body.ReassignOwnerEmail == "" {
		bad = append(bad, "reassignOwnerEmail is required")
	}
	if body.OwnerEmail == "" && body.OwnerID == "" && len(body.RecordingIDs) == 0 {
		bad = append(bad, "give ownerEmail, ownerID or recordingIds to choose the recordings")
	}
	bad = append(bad, validateIDs(body.RecordingIDs)...)
	bad = append(bad, validateEmails("reassignOwnerEmail", body.ReassignOwnerEmail,
		"ownerEmail", body.OwnerEmail, "ownerID", body.OwnerID)...)
	if len(bad) > 0 {
		return badRequest(bad...)
	}
	if !isAdmin(tok) {
		return forbidden("Reassigning recordings needs an admin token")
	}
	ctx := r.Context()
	org, err := s.recordingOrgScope(r, tok)
	if err != nil {
		return err
	}
	newOwner, err := s.personByEmail(ctx, org, body.ReassignOwnerEmail)
	if isNotFound(err) {
		return badRequestf("reassignOwnerEmail %s is not a user of the org", quote(body.ReassignOwnerEmail))
	}
	if err != nil {
		return fmt.Errorf("api: reassign: look up %s: %w", body.ReassignOwnerEmail, err)
	}
	ownerID := parseOwnerID(body.OwnerID)

	// ownerEmail wins over ownerID when both are given (§10.11).
	ownerMatch := func(rec *callrec.Recording) bool {
		switch {
		case body.OwnerEmail != "":
			return strings.EqualFold(rec.OwnerEmail, body.OwnerEmail)
		case body.OwnerID != "":
			return rec.OwnerID == ownerID
		}
		return true
	}
	acc := s.accessFor(tok)
	var targets []callrec.Recording
	if len(body.RecordingIDs) > 0 {
		seen := map[string]bool{}
		for _, id := range body.RecordingIDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			rec, _, err := s.visible(ctx, acc, id)
			if err != nil {
				return err
			}
			if !ownerMatch(rec) {
				continue // only the ids the named owner owns move
			}
			targets = append(targets, *rec)
		}
	} else {
		q := callrec.RecordingQuery{OrgID: org, Statuses: []string{callrec.StatusAvailable, callrec.StatusDeleted}}
		if body.OwnerEmail == "" {
			q.OwnerID = ownerID
		}
		targets, err = s.collect(ctx, q, 0, func(rec *callrec.Recording) (bool, error) {
			ra, err := acc.of(ctx, rec)
			return rec.Status != callrec.StatusPurged && ownerMatch(rec) && ra.Read, err
		})
		if err != nil {
			return err
		}
	}
	for i := range targets {
		rec := &targets[i]
		ra, err := acc.of(ctx, rec)
		if err != nil {
			return err
		}
		if !ra.Reassign {
			return forbidden(fmt.Sprintf("The token may not reassign recording %s", quote(rec.ID)))
		}
		if rec.Status == callrec.StatusPurged {
			return conflictf("Recording %s is purged and cannot be reassigned", quote(rec.ID))
		}
		if rec.OrgID != newOwner.OrgID {
			return badRequestf("reassignOwnerEmail %s is not a user of the org of recording %s", quote(body.ReassignOwnerEmail), quote(rec.ID))
		}
	}
	typ := callrec.OwnerUser
	switch newOwner.License {
	case callrec.LicenseWorkspace, callrec.LicenseProfessionalWorkspace, callrec.LicenseCommonArea:
		typ = callrec.OwnerPlace
	}
	ov, err := acc.view(ctx, newOwner.OrgID)
	if err != nil {
		return err
	}
	plan := ownerPlan(ov.snap, newOwner.ID, newOwner.LocationID)
	now := s.now().UTC()
	changes := make([]recChange, 0, len(targets))
	var updErr error
	for i := range targets {
		upd := targets[i]
		before := stateOf(&upd)
		upd.OwnerType, upd.OwnerID, upd.OwnerEmail, upd.LocationID = typ, newOwner.ID, newOwner.Email(), newOwner.LocationID
		upd.ExpiresAt = reassignExpiry(&targets[i], plan, now)
		if err := s.store.SetRecordingOwner(ctx, upd.ID, upd.OwnerType, upd.OwnerID, upd.OwnerEmail, upd.LocationID, upd.ExpiresAt); err != nil {
			updErr = fmt.Errorf("api: reassign %s: %w", upd.ID, err)
			break
		}
		changes = append(changes, recChange{&targets[i], before, stateOf(&upd)})
	}
	if err := errors.Join(updErr, s.auditRecordings(ctx, tok, actionReassign, changes)); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "recordings reassigned",
		slog.Int("count", len(changes)), slog.String("to", newOwner.ID), slog.String("token", tok.ID),
		slog.String("trackingId", info(ctx).trackingID))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
