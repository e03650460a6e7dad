package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// visible fetches a recording the token may read, with what it may do
// with it; anything it may not read is 404.
func (s *server) visible(ctx context.Context, acc *recAccess, id string) (*callrec.Recording, policy.Access, error) {
	if !validText(id) {
		return nil, policy.Access{}, recordingNotFound(id)
	}
	rec, err := s.store.GetRecording(ctx, id)
	if errors.Is(err, callrec.ErrNotFound) || (err == nil && rec == nil) {
		return nil, policy.Access{}, recordingNotFound(id)
	}
	if err != nil {
		return nil, policy.Access{}, fmt.Errorf("api: get recording %s: %w", id, err)
	}
	a, err := acc.of(ctx, rec)
	if err != nil {
		return nil, policy.Access{}, err
	}
	if !a.Read {
		return nil, policy.Access{}, recordingNotFound(id)
	}
	return rec, a, nil
}

// recordingState is what the audit log keeps of a recording before and
// after an action (X4): not the metadata, which no action changes.
type recordingState struct {
	Status     string     `json:"status"`
	OwnerType  string     `json:"ownerType"`
	OwnerID    string     `json:"ownerId"`
	OwnerEmail string     `json:"ownerEmail,omitempty"`
	LocationID string     `json:"locationId,omitempty"`
	ExpiresAt  *time.Time `json:"expiresAt,omitempty"`
	Hold       bool       `json:"hold"`
	Reason     string     `json:"reason,omitempty"`  // DELETE's reason
	Comment    string     `json:"comment,omitempty"` // DELETE's comment
}

func stateOf(rec *callrec.Recording) *recordingState {
	st := &recordingState{Status: rec.Status, OwnerType: ownerType(rec), OwnerID: rec.OwnerID, OwnerEmail: rec.OwnerEmail,
		LocationID: rec.LocationID, Hold: rec.Hold}
	if !rec.ExpiresAt.IsZero() {
		t := rec.ExpiresAt.UTC()
		st.ExpiresAt = &t
	}
	return st
}

// recChange is one recording an action changed (or read: before and
// after nil).
type recChange struct {
	rec           *callrec.Recording
	before, after any
}

// Audit actions on recordings (X4); objectType is "recording".
const (
	auditRecording   = "recording"
	actionDownload   = "download" // details read with a download link
	actionListen     = "listen"   // audio fetched through a signed link
	actionDelete     = "delete"   // DELETE: purged at once
	actionSoftDelete = "softDelete"
	actionRestore    = "restore"
	actionPurge      = "purge"
	actionReassign   = "reassign"
)

// auditRecordings writes one audit entry per recording, each in the
// recording's org, in one transaction. Recordings live outside the
// directory's transactions, so the entries are written right after the
// change (before the read, for download and listen: no audio leaves
// without its entry).
func (s *server) auditRecordings(ctx context.Context, tok *callrec.Token, action string, changes []recChange) error {
	if len(changes) == 0 {
		return nil
	}
	err := s.store.Update(ctx, func(tx directory.Tx) error {
		for _, c := range changes {
			if err := s.audit(ctx, tx, tok, c.rec.OrgID, action, auditRecording, c.rec.ID, c.before, c.after); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("api: audit %s of %d recordings: %w", action, len(changes), err)
	}
	return nil
}

// getRecording is GET /v1/convergedRecordings/{id} (§10.5): the recording
// plus, when it is available and the caller may download, a signed audio
// link that expires after LinkTTL.
func (s *server) getRecording(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	loc, _, err := s.timezone(r)
	if err != nil {
		return err
	}
	rec, acc, err := s.visible(r.Context(), s.accessFor(tok), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := renderRecording(rec, loc)
	// §10.5: the link goes to the owner and compliance officers (and, R4,
	// provider admins on paid plans); handing it out is audited (X4).
	if rec.Status == callrec.StatusAvailable && acc.Download {
		if err := s.auditRecordings(r.Context(), tok, actionDownload, []recChange{{rec: rec}}); err != nil {
			return err
		}
		expires := s.now().Add(s.linkTTL).Truncate(time.Second)
		out.Links = &linksJSON{
			AudioDownloadLink: s.audioLink(rec.ID, expires.Unix(), actor(tok)),
			Expiration:        expires.UTC().Format(time.RFC3339), // Webex gives the expiry in UTC
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getMetadata is GET /v1/convergedRecordings/{id}/metadata (§10.6).
func (s *server) getMetadata(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	loc, _, err := s.timezone(r)
	if err != nil {
		return err
	}
	showAll := false
	if v := r.URL.Query().Get("showAllTypes"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("showAllTypes must be true or false")
		}
		showAll = b
	}
	rec, _, err := s.visible(r.Context(), s.accessFor(tok), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderMetadata(rec, loc, showAll))
	return nil
}

// signature is the hex HMAC-SHA256 of a download link: it covers the
// recording id, the expiry and who the link was handed to, with a purpose
// prefix so the key can sign other things later without confusion.
func (s *server) signature(id string, expires int64, by string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("callrec audio link 2\x00"))
	mac.Write([]byte(id))
	mac.Write([]byte{0})
	mac.Write([]byte(strconv.FormatInt(expires, 10)))
	mac.Write([]byte{0})
	mac.Write([]byte(by))
	return hex.EncodeToString(mac.Sum(nil))
}

// audioLink is the temporary direct download link of a recording, handed
// to by (the audit actor of the listens it brings, X4).
func (s *server) audioLink(id string, expires int64, by string) string {
	return s.publicURL + "/v1/convergedRecordings/" + url.PathEscape(id) + "/audio?expires=" +
		strconv.FormatInt(expires, 10) + "&by=" + url.QueryEscape(by) + "&signature=" + s.signature(id, expires, by)
}

// Messages of refused download links.
const (
	msgLinkInvalid = "The download link is not valid"
	msgLinkExpired = "The download link has expired; get a new one from GET /v1/convergedRecordings/{id}"
)

// audio serves GET (and HEAD) /v1/convergedRecordings/{id}/audio: the
// signed link is the credential, no bearer token is needed. Range,
// If-Range and conditional requests are served by http.ServeContent
// (RFC 9110 §14).
func (s *server) audio(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !validText(id) {
		return &apiError{kind: callrec.ErrForbidden, msgs: []string{msgLinkInvalid}}
	}
	q := r.URL.Query()
	expires, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	sig, sigErr := hex.DecodeString(q.Get("signature"))
	if err != nil || sigErr != nil {
		return &apiError{kind: callrec.ErrForbidden, msgs: []string{msgLinkInvalid}}
	}
	by := q.Get("by")
	want, _ := hex.DecodeString(s.signature(id, expires, by))
	if !hmac.Equal(sig, want) {
		return &apiError{kind: callrec.ErrForbidden, msgs: []string{msgLinkInvalid}}
	}
	if !s.now().Before(time.Unix(expires, 0)) {
		return &apiError{kind: callrec.ErrForbidden, msgs: []string{msgLinkExpired}}
	}
	rec, err := s.store.GetRecording(r.Context(), id)
	if errors.Is(err, callrec.ErrNotFound) || (err == nil && (rec == nil || rec.Status == callrec.StatusRecording)) {
		return recordingNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("api: audio: get recording %s: %w", id, err)
	}
	if rec.Status != callrec.StatusAvailable {
		return &apiError{status: http.StatusGone, msgs: []string{fmt.Sprintf("Recording %s is %s; its audio is no longer available", quote(id), rec.Status)}}
	}
	obj, err := s.blobs.Open(r.Context(), rec.BlobKey)
	if errors.Is(err, callrec.ErrNotFound) {
		return notFoundf("The audio of recording %s was not found", quote(id))
	}
	if err != nil {
		return fmt.Errorf("api: audio: open %s: %w", rec.BlobKey, err)
	}
	defer obj.Close()
	if r.Method == http.MethodGet {
		if err := s.auditListen(r.Context(), rec, by); err != nil {
			return err
		}
	}
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Content-Disposition", `attachment; filename="`+safeFilename(rec.ID)+`.wav"`)
	h.Set("Cache-Control", "private, no-store")
	if rec.SHA256 != "" {
		h.Set("ETag", `"`+rec.SHA256+`"`)
	}
	http.ServeContent(w, r, "", obj.ModTime(), obj)
	return nil
}

// auditListen records a fetch of the audio through a signed link (X4):
// every GET, ranges included (a player fetching in pieces listens that
// many times); HEAD reads no audio and is not recorded. The actor is the
// one the link was handed to.
func (s *server) auditListen(ctx context.Context, rec *callrec.Recording, by string) error {
	e := &callrec.AuditEntry{OrgID: rec.OrgID, Time: s.now().UTC(), Actor: by, ActorRole: "signedLink",
		Action: actionListen, ObjectType: auditRecording, ObjectID: rec.ID, TrackingID: info(ctx).trackingID}
	if e.Actor == "" {
		e.Actor = "signedLink"
	}
	if err := s.store.Update(ctx, func(tx directory.Tx) error { return tx.AppendAudit(ctx, e) }); err != nil {
		return fmt.Errorf("api: audit listen of recording %s: %w", rec.ID, err)
	}
	return nil
}

// safeFilename keeps the characters that are safe inside a quoted
// Content-Disposition filename (RFC 6266 §4.3); others become '_'.
func safeFilename(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}
