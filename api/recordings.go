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
)

// visible fetches a recording the token may read; anything else is 404.
func (s *server) visible(ctx context.Context, tok *callrec.Token, id string) (*callrec.Recording, error) {
	if !validText(id) {
		return nil, recordingNotFound(id)
	}
	rec, err := s.store.GetRecording(ctx, id)
	if errors.Is(err, callrec.ErrNotFound) {
		return nil, recordingNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("api: get recording %s: %w", id, err)
	}
	if rec == nil || !Allowed(tok, rec, ActionRead) {
		return nil, recordingNotFound(id)
	}
	return rec, nil
}

// getRecording is GET /v1/convergedRecordings/{id} (§10.5): the recording
// plus, when it is available and the caller may download, a signed audio
// link that expires after LinkTTL.
func (s *server) getRecording(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	loc, _, err := s.timezone(r)
	if err != nil {
		return err
	}
	rec, err := s.visible(r.Context(), tok, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := renderRecording(rec, loc)
	if rec.Status == callrec.StatusAvailable && Allowed(tok, rec, ActionDownload) {
		expires := s.now().Add(s.linkTTL).Truncate(time.Second)
		out.Links = &linksJSON{
			AudioDownloadLink: s.audioLink(rec.ID, expires.Unix()),
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
	rec, err := s.visible(r.Context(), tok, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderMetadata(rec, loc, showAll))
	return nil
}

// signature is the hex HMAC-SHA256 of a download link: it covers the
// recording id and the expiry, with a purpose prefix so the key can sign
// other things later without confusion.
func (s *server) signature(id string, expires int64) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("callrec audio link\x00"))
	mac.Write([]byte(id))
	mac.Write([]byte{0})
	mac.Write([]byte(strconv.FormatInt(expires, 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

// audioLink is the temporary direct download link of a recording.
func (s *server) audioLink(id string, expires int64) string {
	return s.publicURL + "/v1/convergedRecordings/" + url.PathEscape(id) + "/audio?expires=" +
		strconv.FormatInt(expires, 10) + "&signature=" + s.signature(id, expires)
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
	want, _ := hex.DecodeString(s.signature(id, expires))
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
