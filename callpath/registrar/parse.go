package registrar

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// refusal is a REGISTER's failure response.
type refusal struct {
	code   int
	reason string
	hdrs   []sip.Header
	why    string // logged, not sent
}

func (r *refusal) Error() string { return fmt.Sprintf("%d %s: %s", r.code, r.reason, r.why) }

// errOutOfOrder says a binding update carried a CSeq not higher than the
// stored binding's for the same Call-ID (RFC 3261 §10.3 steps 6, 7).
var errOutOfOrder = errors.New("registrar: CSeq is not higher than the binding's for this Call-ID")

func badRequest(reason, why string) *refusal { return &refusal{code: 400, reason: reason, why: why} }

// contactReq is one Contact of a REGISTER, validated.
type contactReq struct {
	key     string // binding identity (bindingKey)
	uri     sip.Uri
	params  sip.HeaderParams // without expires
	expires time.Duration    // 0 removes the binding
}

// limits are the registrar's expiry bounds (RFC 3261 §10.3 step 7).
type limits struct {
	min, max, def time.Duration
	maxContacts   int
}

// registerRequest is what a REGISTER asks, parsed and validated.
type registerRequest struct {
	wildcard bool
	contacts []contactReq // empty and !wildcard: a query
}

// parseRegister reads the Contact and Expires headers of a REGISTER
// (RFC 3261 §10.3 steps 6 and 7): a Contact "*" only alone and with
// Expires: 0; each contact's expiry from its expires parameter, else
// the Expires header, else the default; a malformed value counts as the
// default (RFC 3261 §20.10, §20.19); a non-zero expiry below the minimum
// refuses the whole request with 423 and Min-Expires; one above the
// maximum is cut to it.
func parseRegister(req *sip.Request, lim limits) (*registerRequest, *refusal) {
	hdrExp, hasHdrExp := expiresValue(req.GetHeaders("Expires"), lim.def)
	var r registerRequest
	var shorts bool
	for _, h := range req.GetHeaders("Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok {
			// sipgo parses every Contact; anything else is not one we can read.
			var c sip.ContactHeader
			if err := parseContactValue(h.Value(), &c); err != nil {
				return nil, badRequest("Bad Contact", fmt.Sprintf("contact %q: %v", h.Value(), err))
			}
			ch = &c
		}
		if ch.Address.Wildcard {
			r.wildcard = true
			continue
		}
		scheme := strings.ToLower(ch.Address.Scheme)
		if scheme != "sip" && scheme != "sips" {
			return nil, badRequest("Bad Contact", fmt.Sprintf("contact %q: only sip and sips URIs can be reached", ch.Value()))
		}
		if ch.Address.Host == "" {
			return nil, badRequest("Bad Contact", fmt.Sprintf("contact %q: no host", ch.Value()))
		}
		exp := hdrExp
		if v, ok := ch.Params.Get("expires"); ok {
			exp = expiresParam(v, lim.def)
		}
		switch {
		case exp == 0:
		case exp < lim.min:
			shorts = true
		case exp > lim.max:
			exp = lim.max
		}
		params := ch.Params.Clone()
		params.Remove("expires")
		r.contacts = append(r.contacts, contactReq{key: bindingKey(&ch.Address, params), uri: *ch.Address.Clone(), params: params, expires: exp})
	}
	if r.wildcard {
		// §10.3 step 6: "*" must be the only Contact, with Expires: 0.
		if len(r.contacts) > 0 {
			return nil, badRequest("Invalid Wildcard", "Contact * with other contacts")
		}
		if !hasHdrExp || hdrExp != 0 {
			return nil, badRequest("Invalid Wildcard", "Contact * without Expires: 0")
		}
		return &r, nil
	}
	if shorts {
		// §10.3 step 7: 423 with the shortest interval we accept.
		return nil, &refusal{code: 423, reason: "Interval Too Brief",
			hdrs: []sip.Header{sip.NewHeader("Min-Expires", strconv.Itoa(int(lim.min/time.Second)))},
			why:  fmt.Sprintf("an expiry below %v", lim.min)}
	}
	if lim.maxContacts > 0 && len(r.contacts) > lim.maxContacts {
		return nil, &refusal{code: 403, reason: "Too Many Contacts", why: fmt.Sprintf("%d contacts in one REGISTER, at most %d", len(r.contacts), lim.maxContacts)}
	}
	return &r, nil
}

// parseContactValue reads a Contact value sipgo did not parse.
func parseContactValue(v string, c *sip.ContactHeader) error {
	v = strings.TrimSpace(v)
	if v == "*" {
		c.Address.Wildcard = true
		return nil
	}
	name, err := sip.ParseAddressValue(v, &c.Address, &c.Params)
	c.DisplayName = name
	return err
}

// expiresValue reads the Expires header (RFC 3261 §20.19): its value and
// whether there was one. A malformed value counts as def.
func expiresValue(hdrs []sip.Header, def time.Duration) (time.Duration, bool) {
	if len(hdrs) == 0 {
		return def, false
	}
	if e, ok := hdrs[0].(*sip.ExpiresHeader); ok {
		return time.Duration(*e) * time.Second, true
	}
	return expiresParam(hdrs[0].Value(), def), true
}

// expiresParam reads a delta-seconds expires value: decimal digits,
// values beyond 2^32-1 taken as 2^32-1 (RFC 3261 §25.1 delta-seconds);
// anything else counts as def (RFC 3261 §20.10: malformed values SHOULD
// be treated as 3600, our default).
func expiresParam(v string, def time.Duration) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		n = math.MaxUint32
	}
	return time.Duration(n) * time.Second
}

// bindingKey is the identity of a binding within an AOR. With the RFC
// 5626 §6 instance id and reg-id, the pair is the identity (the device,
// whatever address it registers from); otherwise the Contact URI under
// RFC 3261 §19.1.4's rules: scheme and host case-insensitive, user and
// port as written, and the transport, user, method, maddr and ttl
// parameters compared when present.
func bindingKey(u *sip.Uri, params sip.HeaderParams) string {
	if inst, ok := params.Get("+sip.instance"); ok && inst != "" {
		if regID, ok := params.Get("reg-id"); ok && regID != "" {
			return "instance\x00" + strings.Trim(inst, `"`) + "\x00" + regID
		}
	}
	var b strings.Builder
	b.WriteString("uri\x00")
	b.WriteString(strings.ToLower(u.Scheme))
	b.WriteByte(':')
	b.WriteString(u.User)
	b.WriteByte('@')
	b.WriteString(strings.ToLower(u.Host))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(u.Port))
	for _, p := range []string{"transport", "user", "method", "maddr", "ttl"} {
		if v, ok := u.UriParams.Get(p); ok {
			b.WriteString(";" + p + "=" + strings.ToLower(v))
		}
	}
	return b.String()
}
