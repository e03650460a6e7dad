// Package registrar is the call plane's SIP registrar (RFC 3261 §10):
// people's devices REGISTER on --sip with digest credentials (RFC 3261
// §22 with the SHA-256 and MD5 algorithms of RFC 7616 / RFC 8760), and
// the location service keeps their contacts (several per person, each
// with its own expiry) with the address each REGISTER really came from,
// so the B2BUA can reach devices behind NAT.
//
// Use it with a sipgo server: srv.OnRegister(reg.HandleRegister), and
// run reg.Location().Run(ctx, 0) to sweep lapsed bindings. The B2BUA
// asks reg.Location().Contacts(personID) where to ring a person.
//
// The package must never accept a REGISTER it has not authenticated,
// never let one user bind another's address-of-record, never keep or log
// a password, and never block the SIP server on anything but the
// credential lookup (bounded by Config.LookupTimeout). It keeps bindings
// in memory only: after a restart devices register again on their next
// refresh.
package registrar

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/sipdigest"
)

// Defaults of Config, each used when the field is zero.
const (
	// DefaultMinExpires is the shortest registration accepted: a
	// shorter non-zero one gets 423 Interval Too Brief (RFC 3261 §10.3
	// step 7). A minute bounds the REGISTER rate a device can cause;
	// devices behind NAT keep their binding alive with keep-alives, not
	// with registrations.
	DefaultMinExpires = 60 * time.Second
	// DefaultMaxExpires is the longest registration kept; longer ones
	// are cut to it. An hour is the RFC 3261 §10.2.1.1 default and
	// bounds how long a vanished device is rung.
	DefaultMaxExpires = time.Hour
	// DefaultExpires applies when a REGISTER states no expiry (RFC 3261
	// §10.2.1.1 suggests 3600 seconds).
	DefaultExpires = time.Hour
	// DefaultMaxContacts is how many devices a person may have
	// registered at once: desk phone, softphones, mobile app, with room
	// for stale bindings of rebooted devices until they lapse.
	DefaultMaxContacts = 10
	// DefaultLookupTimeout bounds a credential lookup, so a stuck store
	// answers devices with 503 instead of stalling the SIP server.
	DefaultLookupTimeout = 2 * time.Second
)

// Config configures a Registrar.
type Config struct {
	// Credentials finds people's SIP accounts (required).
	Credentials Credentials
	// Location keeps the bindings (nil = a new one on Now).
	Location *Location
	// Nonces issues the digest challenges' nonces (nil = a new one in
	// realm sipdigest.DefaultRealm challenging SHA-256 then MD5). Set
	// its Algorithms to []string{"MD5"} for devices that give up on a
	// SHA-256 challenge (baresip 1.0 does).
	Nonces *sipdigest.Nonces
	// Now is the clock (nil = time.Now); tests inject theirs.
	Now func() time.Time
	// MinExpires, MaxExpires, DefaultExpires, MaxContacts and
	// LookupTimeout: zero means the Default* of the same name.
	MinExpires     time.Duration
	MaxExpires     time.Duration
	DefaultExpires time.Duration
	MaxContacts    int
	LookupTimeout  time.Duration
	// Logger gets one line per refused REGISTER and per change of
	// bindings (nil = slog.Default()).
	Logger *slog.Logger
}

// Registrar answers REGISTER requests. It is safe for concurrent use.
type Registrar struct {
	cfg    Config
	lim    limits
	loc    *Location
	nonces *sipdigest.Nonces
	now    func() time.Time
	log    *slog.Logger
}

// New validates cfg and returns a Registrar.
func New(cfg Config) (*Registrar, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("registrar: Config.Credentials is required")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	lim := limits{
		min:         cmp.Or(cfg.MinExpires, DefaultMinExpires),
		max:         cmp.Or(cfg.MaxExpires, DefaultMaxExpires),
		def:         cmp.Or(cfg.DefaultExpires, DefaultExpires),
		maxContacts: cmp.Or(cfg.MaxContacts, DefaultMaxContacts),
	}
	switch {
	case lim.min < time.Second || lim.min%time.Second != 0:
		return nil, fmt.Errorf("registrar: MinExpires %v: want whole seconds, at least 1 s", lim.min)
	case lim.max < lim.min:
		return nil, fmt.Errorf("registrar: MaxExpires %v is below MinExpires %v", lim.max, lim.min)
	case lim.def < lim.min || lim.def > lim.max:
		return nil, fmt.Errorf("registrar: DefaultExpires %v is outside [%v, %v]", lim.def, lim.min, lim.max)
	case lim.maxContacts < 0:
		return nil, fmt.Errorf("registrar: MaxContacts %d is negative", lim.maxContacts)
	}
	if cfg.Nonces != nil {
		for _, a := range cfg.Nonces.Algorithms {
			if a != "SHA-256" && a != "MD5" {
				return nil, fmt.Errorf("registrar: digest algorithm %q: want SHA-256 or MD5", a)
			}
		}
	}
	r := &Registrar{cfg: cfg, lim: lim, loc: cfg.Location, nonces: cfg.Nonces, now: now, log: cfg.Logger}
	if r.loc == nil {
		r.loc = NewLocation(now)
	}
	if r.nonces == nil {
		r.nonces = &sipdigest.Nonces{}
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.cfg.LookupTimeout = cmp.Or(cfg.LookupTimeout, DefaultLookupTimeout)
	return r, nil
}

// Location returns the location service the registrar fills.
func (r *Registrar) Location() *Location { return r.loc }

// HandleRegister answers a REGISTER (a sipgo RequestHandler: pass it to
// Server.OnRegister). It follows RFC 3261 §10.3:
//  1. a Require of any extension gets 420 Bad Extension (step 2);
//  2. digest authentication (step 3): no or bad credentials get 401
//     with SHA-256 and MD5 challenges (stale=true for an expired nonce);
//     a failing credential store gets 503;
//  3. the To URI's user must be the authenticated user, else 403
//     (step 5);
//  4. Contact and Expires are read (step 6): "*" with Expires: 0 removes
//     every binding; a non-zero expiry below MinExpires gets 423 with
//     Min-Expires; one above MaxExpires is cut to it;
//  5. bindings are added, refreshed or removed all or nothing, a refresh
//     with the same Call-ID needing a higher CSeq (step 7, else 400);
//  6. the 200 OK lists every current contact with its remaining expiry
//     and a Date header (step 8). A REGISTER without Contact only asks
//     for that list.
//
// The source address and transport of the request are stored with each
// binding (RFC 3581 received/rport) so the B2BUA reaches devices behind
// NAT through the flow they opened.
func (r *Registrar) HandleRegister(req *sip.Request, tx sip.ServerTransaction) {
	res := r.handle(req)
	if err := tx.Respond(res); err != nil {
		r.log.Warn("registrar: sending the REGISTER response failed", "call-id", callID(req), "status", res.StatusCode, "err", err)
	}
}

// handle decides the response to a REGISTER.
func (r *Registrar) handle(req *sip.Request) *sip.Response {
	now := r.now()
	log := r.log.With("call-id", callID(req), "source", req.Source(), "transport", req.Transport())
	refuse := func(f *refusal) *sip.Response {
		res := sip.NewResponseFromRequest(req, f.code, f.reason, nil)
		for _, h := range f.hdrs {
			res.AppendHeader(h)
		}
		if f.code != 401 || f.why != "" {
			log.Info("REGISTER refused", "status", f.code, "reason", f.reason, "why", f.why)
		}
		return res
	}
	if req.Method != sip.REGISTER {
		return refuse(&refusal{code: 405, reason: "Method Not Allowed", hdrs: []sip.Header{sip.NewHeader("Allow", "REGISTER")}, why: string(req.Method)})
	}
	if f := checkBasics(req); f != nil {
		return refuse(f)
	}
	// Step 2: we support no extension a client could require.
	if tags := requires(req); len(tags) > 0 {
		return refuse(&refusal{code: 420, reason: "Bad Extension",
			hdrs: []sip.Header{sip.NewHeader("Unsupported", strings.Join(tags, ", "))}, why: "requires " + strings.Join(tags, ", ")})
	}
	acc, username, f := r.authenticate(req, now)
	if f != nil {
		return refuse(f)
	}
	log = log.With("user", username, "person", acc.PersonID)
	// Step 5: the AOR must be the authenticated user's own.
	to := req.To()
	if to.Address.User != username {
		return refuse(&refusal{code: 403, reason: "Forbidden", why: fmt.Sprintf("user %q may not register %q", username, to.Address.String())})
	}
	rr, f := parseRegister(req, r.lim)
	if f != nil {
		return refuse(f)
	}
	var contacts []Contact
	if !rr.wildcard && len(rr.contacts) == 0 {
		contacts = r.loc.Contacts(acc.PersonID) // a query (§10.2.3)
	} else {
		ch := &change{
			personID: acc.PersonID, orgID: acc.OrgID, username: username, aor: to.Address,
			callID: req.CallID().Value(), cseq: req.CSeq().SeqNo, wildcard: rr.wildcard, contacts: rr.contacts,
			source: sourceAddr(req.Source()), transport: strings.ToUpper(req.Transport()), userAgent: headerValue(req, "User-Agent"),
			maxContacts: r.lim.maxContacts,
		}
		var err error
		contacts, err = r.loc.apply(ch)
		if errors.Is(err, errOutOfOrder) {
			return refuse(&refusal{code: 400, reason: "CSeq Out of Order", why: err.Error()})
		}
		log.Debug("registered", "contacts", len(contacts), "changed", len(rr.contacts), "wildcard", rr.wildcard)
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	for i := range contacts {
		res.AppendHeader(contacts[i].header(now))
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(http.TimeFormat)))
	return res
}

// checkBasics refuses a REGISTER without the headers §10.2 makes
// mandatory (To, From, Call-ID, CSeq of method REGISTER).
func checkBasics(req *sip.Request) *refusal {
	switch {
	case req.To() == nil:
		return badRequest("Missing To", "no To header")
	case req.From() == nil:
		return badRequest("Missing From", "no From header")
	case req.CallID() == nil || req.CallID().Value() == "":
		return badRequest("Missing Call-ID", "no Call-ID header")
	case req.CSeq() == nil || req.CSeq().MethodName != sip.REGISTER:
		return badRequest("Bad CSeq", "no CSeq of method REGISTER")
	}
	return nil
}

// requires returns the option tags of the Require headers.
func requires(req *sip.Request) []string {
	var tags []string
	for _, h := range req.GetHeaders("Require") {
		for t := range strings.SplitSeq(h.Value(), ",") {
			if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// authenticate checks the request's Authorization headers (RFC 3261
// §22.4): it returns the account of the first valid one, or the refusal.
func (r *Registrar) authenticate(req *sip.Request, now time.Time) (Account, string, *refusal) {
	hdrs := req.GetHeaders("Authorization")
	if len(hdrs) == 0 {
		return Account{}, "", &refusal{code: 401, reason: "Unauthorized", hdrs: r.nonces.Challenge(now, false)}
	}
	stale := false
	var why []string
	for _, h := range hdrs {
		a, err := sipdigest.ParseAuthorization(h.Value())
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		// A nonce check first costs no store lookup for a stale or
		// forged nonce.
		if err := r.nonces.Check(a.Nonce, now); err != nil {
			stale = stale || errors.Is(err, sipdigest.ErrStaleNonce)
			why = append(why, fmt.Sprintf("user %q: %v", a.Username, err))
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.LookupTimeout)
		acc, err := r.cfg.Credentials.Lookup(ctx, a.Username)
		cancel()
		if err != nil {
			if isUnknown(err) {
				why = append(why, fmt.Sprintf("unknown user %q", a.Username))
				continue
			}
			return Account{}, "", &refusal{code: 503, reason: "Service Unavailable",
				hdrs: []sip.Header{sip.NewHeader("Retry-After", "5")}, why: err.Error()}
		}
		secret := sipdigest.Secret{Realm: acc.Realm, HA1MD5: acc.HA1MD5, HA1SHA256: acc.HA1SHA256}
		if err := a.Verify(string(req.Method), req.Recipient, secret, r.nonces, now); err != nil {
			why = append(why, err.Error())
			continue
		}
		return acc, a.Username, nil
	}
	return Account{}, "", &refusal{code: 401, reason: "Unauthorized", hdrs: r.nonces.Challenge(now, stale), why: strings.Join(why, "; ")}
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func headerValue(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}
