package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

// Messages clients see for conditions that have no more specific text.
const (
	// msgUnauthorized is Webex's own 401 text.
	msgUnauthorized = "The request requires a valid access token set in the Authorization request header."
	msgNoRoute      = "The requested resource could not be found."
	msgNotFound     = "The requested resource was not found"
	msgInvalid      = "The request is not valid"
	msgConflict     = "The request conflicts with the current state of the resource"
	msgForbidden    = "The caller is not allowed to do this"
	msgUnavailable  = "The service is unavailable; try again later"
	msgTooLarge     = "Request body must not be larger than 1 MiB (1048576 bytes)"
	msgInternal     = "An unexpected error occurred; quote the trackingId when reporting it"
	msgBodyMissing  = "Required request body is missing"
)

// apiError is an error whose message a client may see. kind is one of the
// callrec error kinds (it decides the status) unless status is set; cause
// is internal and only logged.
type apiError struct {
	status int
	kind   error
	msgs   []string
	cause  error
}

func (e *apiError) Error() string {
	msg := strings.Join(e.msgs, "; ")
	if e.cause != nil {
		return msg + ": " + e.cause.Error()
	}
	return msg
}

// Unwrap exposes the kind and the cause to errors.Is and errors.As.
func (e *apiError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// badRequest is a 400 whose every message names the offending field.
func badRequest(msgs ...string) error {
	return &apiError{kind: callrec.ErrInvalid, msgs: msgs}
}

func badRequestf(format string, args ...any) error {
	return badRequest(fmt.Sprintf(format, args...))
}

func notFoundf(format string, args ...any) error {
	return &apiError{kind: callrec.ErrNotFound, msgs: []string{fmt.Sprintf(format, args...)}}
}

func conflictf(format string, args ...any) error {
	return &apiError{kind: callrec.ErrConflict, msgs: []string{fmt.Sprintf(format, args...)}}
}

func forbidden(msg string) error {
	return &apiError{kind: callrec.ErrForbidden, msgs: []string{msg}}
}

// recordingNotFound is the 404 for a recording the caller cannot see; it
// does not say whether the recording exists.
func recordingNotFound(id string) error {
	return notFoundf("Recording %s was not found", quote(id))
}

// quote renders client input inside a message, shortened and quoted.
func quote(s string) string {
	const max = 120
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// classify maps an error to its HTTP status and the messages a client may
// see. This is the one place where error kinds become status codes:
// ErrNotFound 404, ErrInvalid 400, ErrConflict 409, ErrForbidden 403,
// ErrUnavailable 503, an oversized body 413, anything else 500.
func classify(err error) (status int, msgs []string) {
	var ae *apiError
	if errors.As(err, &ae) && len(ae.msgs) > 0 {
		status = ae.status
		if status == 0 {
			status, _ = kindStatus(ae.kind)
		}
		return status, ae.msgs
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge, []string{msgTooLarge}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return http.StatusServiceUnavailable, []string{msgUnavailable}
	}
	status, msg := kindStatus(err)
	return status, []string{msg}
}

// kindStatus maps a callrec error kind to a status and a generic message.
func kindStatus(err error) (int, string) {
	switch {
	case err == nil:
		return http.StatusInternalServerError, msgInternal
	case errors.Is(err, callrec.ErrNotFound):
		return http.StatusNotFound, msgNotFound
	case errors.Is(err, callrec.ErrInvalid):
		return http.StatusBadRequest, msgInvalid
	case errors.Is(err, callrec.ErrConflict):
		return http.StatusConflict, msgConflict
	case errors.Is(err, callrec.ErrForbidden):
		return http.StatusForbidden, msgForbidden
	case errors.Is(err, callrec.ErrUnavailable):
		return http.StatusServiceUnavailable, msgUnavailable
	}
	return http.StatusInternalServerError, msgInternal
}

// errorBody is the Webex error body (reference §1.5).
type errorBody struct {
	Message    string        `json:"message"`
	Errors     []errorDetail `json:"errors"`
	TrackingID string        `json:"trackingId"`
	// The terms-of-service conflict of R13 also carries Webex's 409 body
	// fields (§4.2, §12 D10).
	VendorID          string `json:"vendorId,omitempty"`
	VendorName        string `json:"vendorName,omitempty"`
	TermsOfServiceURL string `json:"termsOfServiceUrl,omitempty"`
}

type errorDetail struct {
	Description string `json:"description"`
}

// writeError writes err as a Webex error body. Server-side failures are
// logged with the trackingId; their text never reaches the client.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msgs := classify(err)
	ri := info(r.Context())
	if status >= 500 {
		s.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path,
			"status", status, "err", err, "trackingId", ri.trackingID)
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="callrec"`)
	}
	body := errorBody{Message: strings.Join(msgs, "; "), TrackingID: ri.trackingID}
	for _, m := range msgs {
		body.Errors = append(body.Errors, errorDetail{Description: m})
	}
	var terms *policy.TermsError
	if status == http.StatusConflict && errors.As(err, &terms) {
		body.VendorID, body.VendorName, body.TermsOfServiceURL = webexID(idVendor, terms.VendorID), terms.VendorName, terms.TermsURL
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as the JSON response body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a failed write means the client went away
}

// handlerFunc is a handler that returns its error to be rendered by writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc to http.Handler.
func (s *server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// ruleError turns an error of the policy engine (or another domain
// package whose messages are written for clients) into one the client
// sees: its kind decides the status and its text is the message. Errors
// of no client kind stay internal (500).
func ruleError(err error) error {
	if err == nil {
		return nil
	}
	for _, kind := range []error{callrec.ErrInvalid, callrec.ErrConflict, callrec.ErrForbidden, callrec.ErrNotFound} {
		if errors.Is(err, kind) {
			return &apiError{kind: kind, msgs: []string{err.Error()}, cause: err}
		}
	}
	return err
}

// checkEnum checks an enum field of a request: v must be one of allowed
// (exact spelling). The 400 names the field and every allowed value.
func checkEnum(field, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return badRequestf("%s: %s is not one of %s", field, quote(v), strings.Join(allowed, ", "))
}
