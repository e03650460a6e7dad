// Package sipdigest is the server side of SIP digest authentication
// (RFC 3261 §22, with the RFC 7616 algorithms SHA-256 and MD5 that RFC
// 8760 brings to SIP): stateless nonces that expire, the WWW-Authenticate
// challenges of a 401, and the check of an Authorization header against
// the HA1 hashes the directory stores (callrec.SIPCredentials).
//
// It is shared by every SIP server of callrec that authenticates a peer:
// the recorder (SIPREC sources) and the call plane's registrar (devices).
//
// The package never sees, stores or logs a password (HA1 hashes one for
// the control plane and tests, and forgets it), does no I/O, and keeps no
// per-client state: a nonce carries its own expiry under an HMAC.
package sipdigest

import (
	"cmp"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// DefaultRealm is the realm of callrec's challenges (RFC 7616 §3.3) and
// the realm the control plane hashes SIP passwords for.
const DefaultRealm = "callrec"

// DefaultNonceTTL is how long a nonce is accepted when Nonces.TTL is
// zero. Five minutes covers a client's slow retry of a challenged request
// while keeping a captured Authorization useful only briefly; an older
// nonce gets a new challenge with stale=true, which clients answer
// without asking the user again (RFC 7616 §3.3).
const DefaultNonceTTL = 5 * time.Minute

// Nonce errors. Check and Authorization.Verify wrap them.
var (
	// ErrBadNonce says a nonce was not issued by this Nonces (another
	// server, an earlier process, or forged).
	ErrBadNonce = errors.New("nonce was not issued by this server")
	// ErrStaleNonce says a nonce of ours has expired: the client should be
	// challenged again with stale=true.
	ErrStaleNonce = errors.New("nonce has expired")
)

// Nonces issues and checks stateless nonces: the expiry time and an HMAC
// of it under a random key that lives as long as the value (a restart
// makes outstanding nonces unknown, which clients answer by
// authenticating again). The zero value is ready to use and safe for
// concurrent use; set the fields before the first use.
type Nonces struct {
	// Realm is the realm of the challenges ("" = DefaultRealm). It is
	// bound into the nonce, so a nonce of one realm is bad in another.
	Realm string
	// TTL is how long a nonce is accepted (0 = DefaultNonceTTL).
	TTL time.Duration
	// Algorithms are the algorithms Challenge offers, one
	// WWW-Authenticate each, in order of preference ("SHA-256", "MD5";
	// nil = both, SHA-256 first). Some clients give up on a challenge
	// set holding an algorithm they lack instead of picking the one
	// they support (baresip 1.0 with libre 1.x answers SHA-256 with
	// ENOSYS): a server that must serve them offers "MD5" alone.
	// Verification accepts either algorithm regardless.
	Algorithms []string

	once sync.Once
	key  [32]byte
}

// realm returns the realm of the challenges.
func (n *Nonces) realm() string { return cmp.Or(n.Realm, DefaultRealm) }

func (n *Nonces) init() {
	n.once.Do(func() { _, _ = rand.Read(n.key[:]) })
}

func (n *Nonces) mac(expiry []byte) []byte {
	m := hmac.New(sha256.New, n.key[:])
	m.Write([]byte("callrec digest nonce\x00" + n.realm() + "\x00"))
	m.Write(expiry)
	return m.Sum(nil)[:16]
}

// Issue returns a new nonce that expires TTL after now.
func (n *Nonces) Issue(now time.Time) string {
	n.init()
	ttl := cmp.Or(n.TTL, DefaultNonceTTL)
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.Add(ttl).Unix()))
	copy(b[8:], n.mac(b[:8]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Check reports whether nonce was issued by n (ErrBadNonce otherwise) and
// has not expired at now (ErrStaleNonce otherwise).
func (n *Nonces) Check(nonce string, now time.Time) error {
	n.init()
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return ErrBadNonce
	}
	if !hmac.Equal(b[8:], n.mac(b[:8])) {
		return ErrBadNonce
	}
	if now.Unix() >= int64(binary.BigEndian.Uint64(b[:8])) {
		return ErrStaleNonce
	}
	return nil
}

// defaultAlgorithms are the algorithms challenged by default, in order
// of preference.
var defaultAlgorithms = []string{"SHA-256", "MD5"}

// Challenge returns the WWW-Authenticate headers of a 401 with one fresh
// nonce: by default SHA-256 first, then MD5 for older clients (RFC 8760
// §2.4: in order of preference), each with qop "auth"; stale=true when
// the client's nonce had expired (RFC 7616 §3.3).
func (n *Nonces) Challenge(now time.Time, stale bool) []sip.Header {
	nonce := n.Issue(now)
	algs := n.Algorithms
	if len(algs) == 0 {
		algs = defaultAlgorithms
	}
	hdrs := make([]sip.Header, 0, len(algs))
	for _, alg := range algs {
		v := fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=%s, qop="auth"`, n.realm(), nonce, alg)
		if stale {
			v += ", stale=true"
		}
		hdrs = append(hdrs, sip.NewHeader("WWW-Authenticate", v))
	}
	return hdrs
}

// Authorization is a parsed Digest Authorization header (RFC 7616 §3.4).
type Authorization struct {
	Username  string
	Realm     string
	Nonce     string
	URI       string // the digest-uri the client hashed
	Algorithm string // "", "MD5" or "SHA-256" as sent ("" means MD5)
	QOP       string // "" (RFC 2069 form) or "auth"
	Cnonce    string
	Nc        int
	Response  string
}

// ParseAuthorization reads the value of an Authorization header. Only
// the Digest scheme is accepted, and not userhash (RFC 7616 §3.4.4: our
// store keeps user names in the clear, so a hashed one cannot be found).
func ParseAuthorization(value string) (*Authorization, error) {
	c, err := digest.ParseCredentials(value)
	if err != nil {
		return nil, fmt.Errorf("authorization: %w", err)
	}
	if c.Userhash {
		return nil, errors.New("authorization: userhash is not supported")
	}
	return &Authorization{
		Username: c.Username, Realm: c.Realm, Nonce: c.Nonce, URI: c.URI,
		Algorithm: c.Algorithm, QOP: c.QOP, Cnonce: c.Cnonce, Nc: c.Nc, Response: c.Response,
	}, nil
}

// Secret is what a server knows of a user's password: the RFC 7616
// §3.4.2 HA1 hashes (hex) for Realm, as callrec.SIPCredentials stores
// them. An empty hash disables its algorithm for the user.
type Secret struct {
	Realm     string // "" = DefaultRealm
	HA1MD5    string
	HA1SHA256 string
}

// Verify checks a against a request with method and request URI
// (RFC 7616 §3.4, RFC 3261 §22.4): the secret's realm, a nonce of nonces
// that has not expired at now, a digest-uri naming the request URI, qop
// absent or "auth", and the response computed from the secret's HA1 of
// the algorithm. The error says which check failed and wraps
// ErrBadNonce or ErrStaleNonce for nonce failures.
//
// Nonce counts are not tracked: an Authorization replayed within the
// nonce's lifetime is accepted again. Callers must make sure such a
// replay grants nothing the original request did not.
func (a *Authorization) Verify(method string, requestURI sip.Uri, secret Secret, nonces *Nonces, now time.Time) error {
	realm := cmp.Or(secret.Realm, DefaultRealm)
	if a.Realm != realm {
		return fmt.Errorf("authorization: realm %q, want %q", a.Realm, realm)
	}
	if err := nonces.Check(a.Nonce, now); err != nil {
		return fmt.Errorf("authorization: %w", err)
	}
	var h hash.Hash
	var ha1 string
	switch strings.ToUpper(a.Algorithm) {
	case "", "MD5":
		h, ha1 = md5.New(), secret.HA1MD5
	case "SHA-256":
		h, ha1 = sha256.New(), secret.HA1SHA256
	default:
		return fmt.Errorf("authorization: algorithm %q is not supported", a.Algorithm)
	}
	if ha1 == "" {
		return fmt.Errorf("authorization: no %s credentials for user %q", cmp.Or(a.Algorithm, "MD5"), a.Username)
	}
	if !SameRequestURI(a.URI, requestURI) {
		return fmt.Errorf("authorization: uri %q is not the request URI", a.URI)
	}
	if a.QOP != "" && a.QOP != "auth" {
		return fmt.Errorf("authorization: qop %q is not supported", a.QOP)
	}
	if a.QOP == "auth" && a.Cnonce == "" {
		return errors.New("authorization: qop=auth without cnonce")
	}
	want := response(h, ha1, a.Nonce, a.Nc, a.Cnonce, a.QOP, method, a.URI)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(a.Response))) != 1 {
		return fmt.Errorf("authorization: wrong response for user %q", a.Username)
	}
	return nil
}

// Response computes a digest response (hex) with algorithm "MD5" (or "")
// or "SHA-256": the RFC 7616 §3.4.1 form for qop "auth", or the RFC 2069
// form when qop is empty.
func Response(algorithm, ha1, nonce string, nc int, cnonce, qop, method, uri string) (string, error) {
	switch strings.ToUpper(algorithm) {
	case "", "MD5":
		return response(md5.New(), ha1, nonce, nc, cnonce, qop, method, uri), nil
	case "SHA-256":
		return response(sha256.New(), ha1, nonce, nc, cnonce, qop, method, uri), nil
	}
	return "", fmt.Errorf("sipdigest: algorithm %q is not supported", algorithm)
}

func response(h hash.Hash, ha1, nonce string, nc int, cnonce, qop, method, uri string) string {
	a2 := hexHash(h, method+":"+uri)
	ha1 = strings.ToLower(ha1)
	if qop == "" {
		return hexHash(h, ha1+":"+nonce+":"+a2)
	}
	return hexHash(h, fmt.Sprintf("%s:%s:%08x:%s:%s:%s", ha1, nonce, nc, cnonce, qop, a2))
}

func hexHash(h hash.Hash, s string) string {
	h.Reset()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// SameRequestURI compares a digest-uri with the request URI (RFC 7616
// §3.4.6): same user, host (case-insensitive) and port.
// Parameters are not compared, since clients differ in which they copy.
func SameRequestURI(digestURI string, recipient sip.Uri) bool {
	var u sip.Uri
	if err := sip.ParseUri(digestURI, &u); err != nil {
		return false
	}
	return u.User == recipient.User && strings.EqualFold(u.Host, recipient.Host) && u.Port == recipient.Port
}

// HA1 computes the RFC 7616 §3.4.2 HA1 values (MD5 and SHA-256, hex) of
// a user name and password in realm, as callrec.SIPCredentials stores
// them.
func HA1(username, realm, password string) (md5Hex, sha256Hex string) {
	s := username + ":" + realm + ":" + password
	return hexHash(md5.New(), s), hexHash(sha256.New(), s)
}
