package api

// Helpers shared by the directory handlers (directory_*.go): input
// validation that names the field at fault, unique-key checks that answer
// 409 naming the field, id references, SIP digest credentials, and the
// redaction of secrets from audit entries.

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// Limits of directory input.
const (
	maxNameLen   = 128 // names, display names, first and last names
	maxEmails    = 10  // emails per person
	maxNumbers   = 50  // phone numbers per person or trunk
	maxRefs      = 1000
	maxNetworks  = 100
	minPassword  = 8
	maxPassword  = 128
	maxSIPUser   = 64
	maxHostLen   = 253
	maxAddrField = 256
)

// sipRealm is the digest realm of every callrec SIP credential (people
// and SIPREC sources): HA1 hashes are computed over it (RFC 7616 §3.4.2).
const sipRealm = "callrec"

// dirTime renders a directory timestamp as RFC 3339 UTC with
// milliseconds ("2024-05-08T14:12:28.371Z"); "" for the zero time.
func dirTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(preciseLayout)
}

// dirText validates a free-text field: valid UTF-8, no control
// characters, at most max characters after trimming. Empty is allowed
// (callers check required fields).
func dirText(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) {
		return "", badRequestf("%s: must be valid UTF-8", field)
	}
	if utf8.RuneCountInString(v) > max {
		return "", badRequestf("%s: must be at most %d characters", field, max)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return "", badRequestf("%s: must not contain control characters", field)
		}
	}
	return v, nil
}

// dirRequiredText is dirText for a required field.
func dirRequiredText(field, v string, max int) (string, error) {
	v, err := dirText(field, v, max)
	if err != nil {
		return "", err
	}
	if v == "" {
		return "", badRequestf("%s: required", field)
	}
	return v, nil
}

// dirEmail validates one email address (a bare addr-spec, RFC 5322
// §3.4.1) and returns it trimmed.
func dirEmail(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", badRequestf("%s: required", field)
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || len(v) > 254 || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		return "", badRequestf("%s: %s is not a valid email address", field, quote(v))
	}
	return v, nil
}

// dirEmails validates a person's email list: at least one, each valid,
// no duplicates (case-insensitive).
func dirEmails(field string, in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, badRequestf("%s: at least one email address is required", field)
	}
	if len(in) > maxEmails {
		return nil, badRequestf("%s: at most %d email addresses", field, maxEmails)
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for i, e := range in {
		v, err := dirEmail(fmt.Sprintf("%s[%d]", field, i), e)
		if err != nil {
			return nil, err
		}
		if seen[strings.ToLower(v)] {
			return nil, badRequestf("%s[%d]: %s is listed twice", field, i, quote(v))
		}
		seen[strings.ToLower(v)] = true
		out = append(out, v)
	}
	return out, nil
}

// dirExtension validates an extension: 2 to 10 digits ("" = none).
func dirExtension(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if len(v) < 2 || len(v) > 10 || strings.Trim(v, "0123456789") != "" {
		return "", badRequestf("%s: %s must be 2 to 10 digits", field, quote(v))
	}
	return v, nil
}

// dirE164 validates a phone number in E.164 form (ITU-T E.164: "+", a
// country code not starting with 0, at most 15 digits); spaces, dashes,
// dots and parentheses are dropped. "" means none.
func dirE164(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	n := directory.NormalizeNumber(v)
	digits := strings.TrimPrefix(n, "+")
	if !strings.HasPrefix(n, "+") || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
		return "", badRequestf("%s: %s is not an E.164 number such as +4512345678", field, quote(v))
	}
	return n, nil
}

// dirLanguage validates a language code such as en_US (also en-us,
// EN_us) and returns it as language_COUNTRY. Unknown languages are kept:
// announcements fall back to the org's language, then en_US (R21).
func dirLanguage(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	lang, country, ok := strings.Cut(strings.ReplaceAll(v, "-", "_"), "_")
	if !ok || len(lang) < 2 || len(lang) > 3 || len(country) != 2 || !isLetters(lang) || !isLetters(country) {
		return "", badRequestf("%s: %s is not a language code such as en_US", field, quote(v))
	}
	return strings.ToLower(lang) + "_" + strings.ToUpper(country), nil
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// dirTimeZone validates an IANA time zone name with time.LoadLocation.
func dirTimeZone(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", badRequestf("%s: required", field)
	}
	if len(v) > 64 || v == "Local" || strings.ContainsAny(v, "\\\x00") {
		return "", badRequestf("%s: %s is not a known IANA time zone name (e.g. Europe/Copenhagen)", field, quote(v))
	}
	if _, err := time.LoadLocation(v); err != nil {
		return "", badRequestf("%s: %s is not a known IANA time zone name (e.g. Europe/Copenhagen)", field, quote(v))
	}
	return v, nil
}

// notFoundThing is the 404 of an object the caller cannot see.
func notFoundThing(thing, raw string) error {
	return notFoundf("%s %s was not found", thing, quote(raw))
}

// dirGet reads an object of the org through kind, mapping "not found"
// (also: of another org) to the 404 of thing and raw id.
func dirGet[T any](ctx context.Context, tx directory.Tx, k directory.Kind[T], orgID, id, thing, raw string) (*T, error) {
	v, err := k.Get(ctx, tx, orgID, id)
	if directory.IsNotFound(err) {
		return nil, notFoundThing(thing, raw)
	}
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	return v, nil
}

// dirLocationRef resolves a locationId of a request body: it must name a
// location of the org (400 naming the field otherwise).
func dirLocationRef(ctx context.Context, tx directory.Tx, orgID, field, raw string) (*callrec.Location, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, badRequestf("%s: required", field)
	}
	id, ok := parseID(idLocation, strings.TrimSpace(raw))
	if ok {
		loc, err := directory.Locations.Get(ctx, tx, orgID, id)
		if err == nil {
			return loc, nil
		}
		if !directory.IsNotFound(err) {
			return nil, fmt.Errorf("api: %w", err)
		}
	}
	return nil, badRequestf("%s: location %s was not found", field, quote(raw))
}

// dirPeopleRefs resolves a list of person ids of a request body: each
// must name a person of the org; duplicates are refused. Messages name
// field[i] followed by suffix (e.g. agents[0].id). It returns the
// internal ids in the given order.
func dirPeopleRefs(ctx context.Context, tx directory.Tx, orgID, field, suffix string, raw []string) ([]string, error) {
	if len(raw) > maxRefs {
		return nil, badRequestf("%s: at most %d people", field, maxRefs)
	}
	out := make([]string, 0, len(raw))
	for i, s := range raw {
		f := fmt.Sprintf("%s[%d]%s", field, i, suffix)
		id, ok := parseID(idPerson, strings.TrimSpace(s))
		if ok {
			if _, err := directory.People.Get(ctx, tx, orgID, id); err != nil {
				if !directory.IsNotFound(err) {
					return nil, fmt.Errorf("api: %w", err)
				}
				ok = false
			}
		}
		if !ok {
			return nil, badRequestf("%s: person %s was not found", f, quote(s))
		}
		if slices.Contains(out, id) {
			return nil, badRequestf("%s: person %s is listed twice", f, quote(s))
		}
		out = append(out, id)
	}
	return out, nil
}

// webexIDs renders internal ids as Webex ids of typ (never nil).
func webexIDs(typ string, ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, webexID(typ, id))
	}
	return out
}

// keyUse is a unique key an object is about to hold, with the field and
// value a 409 names.
type keyUse struct {
	key   string
	field string
	value string
	scope string // " in this organization" for org-scoped keys, "" for global ones
}

// numUse is the key use of an extension or phone number in an org.
func numUse(orgID, field, number string) keyUse {
	return keyUse{directory.NumberKey(orgID, number), field, number, " in this organization"}
}

// checkKeysFree answers 409 naming the field when one of the keys is
// held by another object than (kind, id). The 409 never says which object
// holds it: it may belong to another org.
func checkKeysFree(ctx context.Context, tx directory.Tx, kind, id string, uses []keyUse) error {
	for _, u := range uses {
		rec, err := tx.Lookup(ctx, u.key)
		if directory.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("api: key lookup: %w", err)
		}
		if rec.Kind == kind && rec.ID == id {
			continue
		}
		return conflictf("%s %s is already used%s", u.field, u.value, u.scope)
	}
	return nil
}

// dirPutErr maps an error of Kind.Put: a key conflict the pre-check did
// not see (a concurrent writer) is a 409; anything else stays internal.
func dirPutErr(thing string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, callrec.ErrConflict) {
		return &apiError{kind: callrec.ErrConflict, msgs: []string{fmt.Sprintf("The %s could not be stored: a name, email, number or user name it uses is already taken", thing)}, cause: err}
	}
	return fmt.Errorf("api: store %s: %w", thing, err)
}

// sipLoginBody is the write side of SIP digest credentials: the password
// is never stored or shown, only its HA1 hashes.
type sipLoginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// sipCredentialsJSON is the read side of SIP digest credentials.
type sipCredentialsJSON struct {
	Username string `json:"username"`
	Realm    string `json:"realm"`
}

// renderSIP renders credentials without their hashes (nil for none).
func renderSIP(c *callrec.SIPCredentials) *sipCredentialsJSON {
	if c == nil {
		return nil
	}
	return &sipCredentialsJSON{Username: c.Username, Realm: c.Realm}
}

// dirSIPUser validates a SIP user name: RFC 3261 §25.1 user characters
// (unreserved and user-unreserved, no escapes), 1..64 of them.
func dirSIPUser(field, v string) error {
	if v == "" {
		return badRequestf("%s: required", field)
	}
	if len(v) > maxSIPUser {
		return badRequestf("%s: must be at most %d characters", field, maxSIPUser)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()&=+$,;?/", c) >= 0
		if !ok {
			return badRequestf("%s: %s may hold only letters, digits and -_.!~*'()&=+$,;?/", field, quote(v))
		}
	}
	return nil
}

// applySIP applies a sipCredentials field of a request to cur and returns
// the credentials to store:
//   - nil body: unchanged;
//   - empty username and password: removed;
//   - the current username without a password (a GET body PUT back): unchanged;
//   - otherwise username and password are both required, and the password
//     is kept only as HA1 = H(username:realm:password) with MD5 and SHA-256
//     (RFC 7616 §3.4.2; SHA-256 digest for SIP: RFC 8760).
func applySIP(field string, cur *callrec.SIPCredentials, in *sipLoginBody) (*callrec.SIPCredentials, error) {
	if in == nil {
		return cur, nil
	}
	if in.Username == "" && in.Password == "" {
		return nil, nil
	}
	if in.Password == "" && cur != nil && in.Username == cur.Username {
		return cur, nil
	}
	if err := dirSIPUser(field+".username", in.Username); err != nil {
		return nil, err
	}
	n := utf8.RuneCountInString(in.Password)
	if in.Password == "" {
		return nil, badRequestf("%s.password: required when the username is set or changed", field)
	}
	if !utf8.ValidString(in.Password) || n < minPassword || n > maxPassword {
		return nil, badRequestf("%s.password: must be %d to %d characters of valid UTF-8", field, minPassword, maxPassword)
	}
	return &callrec.SIPCredentials{
		Username:  in.Username,
		Realm:     sipRealm,
		HA1MD5:    ha1(md5.New(), in.Username, sipRealm, in.Password),
		HA1SHA256: ha1(sha256.New(), in.Username, sipRealm, in.Password),
	}, nil
}

// ha1 is the digest HA1 of RFC 7616 §3.4.2: H(username ":" realm ":" password), hex.
func ha1(h hash.Hash, user, realm, password string) string {
	_, _ = h.Write([]byte(user + ":" + realm + ":" + password))
	return hex.EncodeToString(h.Sum(nil))
}

// redactedSIP returns a copy of c without its hashes, for audit entries:
// an HA1 is as good as the password to a digest client.
func redactedSIP(c *callrec.SIPCredentials) *callrec.SIPCredentials {
	if c == nil {
		return nil
	}
	return &callrec.SIPCredentials{Username: c.Username, Realm: c.Realm, HA1MD5: "redacted", HA1SHA256: "redacted"}
}

// auditPerson is the person as the audit log keeps it (hashes redacted).
func auditPerson(p *callrec.Person) *callrec.Person {
	if p == nil {
		return nil
	}
	c := *p
	c.SIP = redactedSIP(p.SIP)
	return &c
}

// auditSource is the SIPREC source as the audit log keeps it.
func auditSource(src *callrec.SIPRECSource) *callrec.SIPRECSource {
	if src == nil {
		return nil
	}
	c := *src
	c.SIP = redactedSIP(src.SIP)
	return &c
}

// sameJSON says whether two values render to the same JSON (nothing to
// store or audit when a PUT changes nothing).
func sameJSON(a, b any) bool {
	x, err1 := marshalAudit(a)
	y, err2 := marshalAudit(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// stillRecordable checks that a person or virtual line whose recording
// is enabled can still record after a change of licence or location, by
// the policy's verdict (CheckUserRecording). The change is refused when
// it makes a recordable target unrecordable (R13 terms of the new
// location's vendor, R14/R16/R31 no provider there), and always when the
// new licence cannot record (R1). The org's entitlement (R2) is not the
// directory's business and is left out of the comparison; field names
// what changed in the message.
func stillRecordable(ctx context.Context, tx directory.Tx, orgID, field string, before, after policy.Target, rec callrec.UserRecording) error {
	if !rec.Enabled {
		return nil
	}
	snap, err := directory.Snapshot(ctx, tx, orgID)
	if err != nil {
		return fmt.Errorf("api: snapshot: %w", err)
	}
	snap.Org.Recording.Entitled = true
	errAfter := policy.CheckUserRecording(snap, after, rec)
	if errAfter == nil {
		return nil
	}
	var re *policy.RuleError
	if !(errors.As(errAfter, &re) && re.Rule == "R1") && policy.CheckUserRecording(snap, before, rec) != nil {
		return nil // it could not record before either: not this change's doing
	}
	what := "person"
	if after.Line != nil {
		what = "virtual line"
	}
	return ruleError(fmt.Errorf("%s: recording is enabled for this %s and the change would leave it unable to record: %w", field, what, errAfter))
}

// dirNumberList validates a list of E.164 numbers (no duplicates).
func dirNumberList(field string, in []string) ([]string, error) {
	if len(in) > maxNumbers {
		return nil, badRequestf("%s: at most %d numbers", field, maxNumbers)
	}
	out := make([]string, 0, len(in))
	for i, v := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		n, err := dirE164(f, v)
		if err != nil {
			return nil, err
		}
		if n == "" {
			return nil, badRequestf("%s: empty number", f)
		}
		if slices.Contains(out, n) {
			return nil, badRequestf("%s: %s is listed twice", f, quote(v))
		}
		out = append(out, n)
	}
	return out, nil
}

// orgDirectoryQuery are the query parameters every org-scoped list takes.
var orgDirectoryQuery = []param{qOrgID, qStart, qMax}

// listParams100 reads start/max with the directory's defaults (100, at most 1000).
func listParams100(r *http.Request) (int, int, error) { return pageParams(r, 100, 1000) }

// idFilter parses an "id" list filter (comma-separated Webex ids or
// UUIDs of typ); ids that do not parse match nothing.
func idFilter(raw, typ string) map[string]bool {
	if raw == "" {
		return nil
	}
	out := map[string]bool{}
	for _, s := range strings.Split(raw, ",") {
		if id, ok := parseID(typ, strings.TrimSpace(s)); ok {
			out[id] = true
		}
	}
	return out
}

// locationFilter parses a locationId list filter: ok false when given
// but not a location id (the list is then empty).
func locationFilter(raw string) (id string, set, ok bool) {
	if raw == "" {
		return "", false, true
	}
	id, ok = parseID(idLocation, strings.TrimSpace(raw))
	return id, true, ok
}

// plural renders a count with its noun: "1 person", "2 people".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// strField is an optional string field of a request body: its name (for
// messages), the value sent (nil: not sent), where the valid value goes,
// and its validator.
type strField struct {
	name  string
	in    *string
	out   *string
	valid func(field, v string) (string, error)
}

// applyStrFields validates and stores each sent field in order; the first
// invalid one is the error.
func applyStrFields(fields ...strField) error {
	for _, f := range fields {
		if f.in == nil {
			continue
		}
		v, err := f.valid(f.name, *f.in)
		if err != nil {
			return err
		}
		*f.out = v
	}
	return nil
}

// textField is the dirText validator with max characters.
func textField(max int) func(field, v string) (string, error) {
	return func(field, v string) (string, error) { return dirText(field, v, max) }
}

// requiredTextField is the dirRequiredText validator with max characters.
func requiredTextField(max int) func(field, v string) (string, error) {
	return func(field, v string) (string, error) { return dirRequiredText(field, v, max) }
}
