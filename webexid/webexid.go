// Package webexid encodes and decodes the ids callrec hands out the way
// Webex does (reference §1.4): unpadded base64url of
// ciscospark://us/<TYPE>/<uuid>. It must stay free of any other callrec
// package so every package that renders ids can use it.
package webexid

import (
	"encoding/base64"
	"strings"

	"github.com/google/uuid"
)

// Encode renders an internal id (a UUID) as a Webex id of type typ. An
// empty id stays empty; an id that is not a UUID (the "none" vendor) is
// returned as it is.
func Encode(typ, id string) string {
	if id == "" {
		return ""
	}
	if _, err := uuid.Parse(id); err != nil {
		return id
	}
	return base64.RawURLEncoding.EncodeToString([]byte("ciscospark://us/" + typ + "/" + id))
}

// Decode splits a Webex id (padded or not, base64url or standard, any
// region) into its type and lower-case UUID.
func Decode(s string) (typ, id string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
			return "", "", false
		}
	}
	rest, found := strings.CutPrefix(string(raw), "ciscospark://")
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return "", "", false
	}
	if _, err := uuid.Parse(parts[2]); err != nil {
		return "", "", false
	}
	return parts[1], strings.ToLower(parts[2]), true
}
