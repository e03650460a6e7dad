// Package srcclaim lets callrec's own call plane tell callrec's own
// recorder which org a SIPREC session records for. The call plane sends
// its sessions from an address (often 127.0.0.1) that the recorder would
// otherwise bind to the default org; the claim, an HMAC over the org and
// the session's Call-ID under a key both share, names the org instead.
// No other SRC can make one without the key, and one cannot be moved to
// another session. The package must never log or expose the key.
package srcclaim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Header is the SIP header that carries the claim in the SIPREC INVITE.
const Header = "X-Callrec-Org"

// Sign returns the header value claiming orgID for the session callID.
func Sign(key []byte, orgID, callID string) string {
	return orgID + ";sig=" + mac(key, orgID, callID)
}

// Verify returns the org a header value claims for callID, and whether
// the claim is genuine.
func Verify(key []byte, value, callID string) (orgID string, ok bool) {
	if len(key) == 0 {
		return "", false
	}
	org, sig, found := strings.Cut(strings.TrimSpace(value), ";sig=")
	if !found || org == "" || callID == "" {
		return "", false
	}
	want := mac(key, org, callID)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return "", false
	}
	return org, true
}

func mac(key []byte, orgID, callID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(orgID))
	m.Write([]byte{0})
	m.Write([]byte(callID))
	return hex.EncodeToString(m.Sum(nil))
}
