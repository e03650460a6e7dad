package callpath

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/sipdigest"
)

// lookupTimeout bounds the directory reads of one call setup.
const lookupTimeout = 3 * time.Second

// party is one side of a call as routing sees it.
type party struct {
	orgID  string
	person *callrec.Person // nil for a PSTN party
	trunk  *callrec.Trunk  // the trunk a PSTN party is reached through
	number string          // the PSTN party's number (From user or dialled)
	name   string          // display name
	// A callee that is not a person (features.go): a virtual line (R31)
	// or an auto attendant, call queue or hunt group; members are the
	// people whose devices ring for it. via is the feature the call came
	// through (an auto attendant, or the hunt group or queue whose member
	// answered): its language applies (R21).
	line    *callrec.VirtualLine
	feature *callrec.Feature
	members []*callrec.Person
	via     *callrec.Feature
	// answerer is the person whose device answered for a virtual line
	// (activecalls.go): the call is theirs to see and control.
	answerer *callrec.Person
}

// aor is the party's address-of-record for SIPREC metadata.
func (p *party) aor(host string) string {
	if u := p.serviceUser(); u != "" {
		return "sip:" + u + "@" + host
	}
	if p.person != nil {
		user := p.person.Extension
		if user == "" && p.person.SIP != nil {
			user = p.person.SIP.Username
		}
		return "sip:" + user + "@" + host
	}
	return "tel:" + p.number
}

// kind of call.
type kind int

const (
	internal kind = iota // person to person
	outbound             // person to the PSTN
	inbound              // PSTN to person
)

func (k kind) String() string {
	switch k {
	case outbound:
		return "outbound"
	case inbound:
		return "inbound"
	}
	return "internal"
}

// refusal is a final answer to an INVITE that is not routed.
type refusal struct {
	code   int
	reason string
	hdrs   []sip.Header
	why    string
}

func (r *refusal) Error() string { return fmt.Sprintf("%d %s: %s", r.code, r.reason, r.why) }

// identify finds who is calling: a trunk by its source address, else a
// person whose device answered the digest challenge (RFC 3261 §22.3:
// a proxy-like B2BUA challenges with 407 and Proxy-Authenticate).
func (s *Server) identify(ctx context.Context, req *sip.Request) (*party, *refusal) {
	src, err := netip.ParseAddrPort(req.Source())
	if err == nil {
		if t, err := s.trunkFrom(ctx, src); err != nil {
			return nil, &refusal{code: 503, reason: "Service Unavailable", why: err.Error()}
		} else if t != nil {
			from := ""
			name := ""
			if f := req.From(); f != nil {
				from, name = f.Address.User, f.DisplayName
			}
			return &party{orgID: t.OrgID, trunk: t, number: from, name: name}, nil
		}
	}
	now := s.cfg.Now()
	hdrs := req.GetHeaders("Proxy-Authorization")
	challenge := func(stale bool, why string) *refusal {
		var ch []sip.Header
		for _, h := range s.cfg.Nonces.Challenge(now, stale) {
			ch = append(ch, sip.NewHeader("Proxy-Authenticate", h.Value()))
		}
		return &refusal{code: 407, reason: "Proxy Authentication Required", hdrs: ch, why: why}
	}
	if len(hdrs) == 0 {
		return nil, challenge(false, "no credentials")
	}
	stale := false
	var why []string
	for _, h := range hdrs {
		a, err := sipdigest.ParseAuthorization(h.Value())
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		if err := s.cfg.Nonces.Check(a.Nonce, now); err != nil {
			stale = stale || errors.Is(err, sipdigest.ErrStaleNonce)
			why = append(why, err.Error())
			continue
		}
		acc, err := s.deps.Credentials.Lookup(ctx, a.Username)
		if err != nil {
			if errors.Is(err, callrec.ErrNotFound) {
				why = append(why, fmt.Sprintf("unknown user %q", a.Username))
				continue
			}
			return nil, &refusal{code: 503, reason: "Service Unavailable", why: err.Error()}
		}
		secret := sipdigest.Secret{Realm: acc.Realm, HA1MD5: acc.HA1MD5, HA1SHA256: acc.HA1SHA256}
		if err := a.Verify(string(req.Method), req.Recipient, secret, s.cfg.Nonces, now); err != nil {
			why = append(why, err.Error())
			continue
		}
		var p *callrec.Person
		err = s.deps.Store.View(ctx, func(tx directory.Tx) error {
			var err error
			p, err = directory.People.Get(ctx, tx, acc.OrgID, acc.PersonID)
			return err
		})
		if err != nil {
			if directory.IsNotFound(err) {
				return nil, &refusal{code: 403, reason: "Forbidden", why: "account of no person"}
			}
			return nil, &refusal{code: 503, reason: "Service Unavailable", why: err.Error()}
		}
		return &party{orgID: p.OrgID, person: p, name: displayName(p)}, nil
	}
	return nil, challenge(stale, strings.Join(why, "; "))
}

// trunkFrom returns the trunk whose address is src (its IP, and its port
// when the trunk names one), or nil.
func (s *Server) trunkFrom(ctx context.Context, src netip.AddrPort) (*callrec.Trunk, error) {
	var found *callrec.Trunk
	err := s.deps.Store.View(ctx, func(tx directory.Tx) error {
		trunks, err := directory.Trunks.List(ctx, tx, "")
		if err != nil {
			return err
		}
		for i := range trunks {
			t := &trunks[i]
			ip, err := netip.ParseAddr(t.Address)
			if err != nil || ip.Unmap() != src.Addr().Unmap() {
				continue
			}
			if t.Port != 0 && t.Port != int(src.Port()) {
				continue
			}
			found = t
			return nil
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("callpath: trunks: %w", err)
	}
	return found, nil
}

func displayName(p *callrec.Person) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return strings.TrimSpace(p.FirstName + " " + p.LastName)
}

// route decides where a call from caller to the dialled user part goes.
func (s *Server) route(ctx context.Context, caller *party, dialled string) (kind, *party, *refusal) {
	num := directory.NormalizeNumber(dialled)
	if num == "" {
		return 0, nil, &refusal{code: 404, reason: "Not Found", why: "empty number"}
	}
	var callee *party
	var trunk *callrec.Trunk
	err := s.deps.Store.View(ctx, func(tx directory.Tx) error {
		p, err := lookupNumber(ctx, tx, caller.orgID, num)
		if p != nil || err != nil {
			callee = p
			return err
		}
		if caller.trunk != nil || !dialable(num) {
			return nil
		}
		trunks, err := directory.Trunks.List(ctx, tx, caller.orgID)
		if err != nil {
			return err
		}
		for i := range trunks {
			if trunk == nil || trunks[i].LocationID == caller.person.LocationID && trunk.LocationID != caller.person.LocationID {
				trunk = &trunks[i]
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, &refusal{code: 503, reason: "Service Unavailable", why: err.Error()}
	}
	switch {
	case callee != nil && caller.trunk != nil:
		return inbound, callee, nil
	case callee != nil:
		return internal, callee, nil
	case trunk != nil:
		return outbound, &party{orgID: caller.orgID, trunk: trunk, number: num}, nil
	}
	return 0, nil, &refusal{code: 404, reason: "Not Found", why: fmt.Sprintf("no person, virtual line, feature or trunk for %q", dialled)}
}

// dialable reports whether num looks like a telephone number (a + and
// digits, at least three): what is sent to a trunk.
func dialable(num string) bool {
	d := strings.TrimPrefix(num, "+")
	if len(d) < 3 {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// target is where one INVITE of a callee leg goes.
type target struct {
	uri       sip.Uri
	dest      string          // host:port to send to
	transport string          // "UDP" or "TCP"
	person    *callrec.Person // whose device it is (a virtual line's or feature's member)
}

// targets lists where to ring callee: each registered device of a person
// (sent to the address its REGISTER came from, RFC 3581/RFC 5626), or the
// trunk for a PSTN number.
func (s *Server) targets(callee *party) []target {
	if callee.person == nil && callee.trunk == nil {
		return s.memberTargets(callee.members)
	}
	if callee.person != nil {
		var out []target
		for _, c := range s.deps.Registrar.Location().Contacts(callee.person.ID) {
			out = append(out, target{uri: c.URI, dest: c.Source.String(), transport: c.Transport})
		}
		return out
	}
	t := callee.trunk
	port := t.Port
	if port == 0 {
		port = 5060
	}
	tr := "UDP"
	if strings.EqualFold(t.Transport, "tcp") {
		tr = "TCP"
	}
	u := sip.Uri{Scheme: "sip", User: callee.number, Host: t.Address, Port: port}
	if tr == "TCP" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", "tcp")
	}
	return []target{{uri: u, dest: hostPort(t.Address, port), transport: tr}}
}
