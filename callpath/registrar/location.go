package registrar

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Contact is one registered device of a person: a binding of the
// person's address-of-record to a Contact URI (RFC 3261 §10), with where
// the REGISTER really came from so the B2BUA can reach a device behind
// NAT.
//
// To send a request to the device, use URI as the Request-URI and send it
// to Source over Transport (sipgo: req.SetDestination(c.Source.String())
// and req.SetTransport(c.Transport)): the connection or NAT binding the
// device opened towards us, as RFC 3581 (rport) and RFC 5626 §5.3
// (flow reuse) do. Over TCP the device's connection is the only way in.
type Contact struct {
	PersonID string
	OrgID    string
	Username string // the SIP user name the device authenticated as
	// AOR is the address-of-record: the To URI of the REGISTER.
	AOR sip.Uri
	// URI is the Contact URI the device registered.
	URI sip.Uri
	// Params are the Contact header's parameters as sent (q,
	// +sip.instance, reg-id, feature tags), without expires.
	Params sip.HeaderParams
	// Source is the address and port the REGISTER came from: the
	// "received" and "rport" of RFC 3581 §4.
	Source netip.AddrPort
	// Transport is the REGISTER's transport: "UDP", "TCP", "TLS", "WS"...
	Transport string
	CallID    string
	CSeq      uint32
	UserAgent string
	// Registered is when a REGISTER last added or refreshed the binding.
	Registered time.Time
	// Expires is when the binding lapses unless refreshed.
	Expires time.Time
}

// NAT reports whether the device's Contact URI names another address or
// port than the one its REGISTER came from: a device behind NAT (or one
// that registered a contact elsewhere). Requests should go to Source.
func (c *Contact) NAT() bool {
	a, err := netip.ParseAddr(c.URI.Host)
	if err != nil {
		return true // a host name: only Source is known to reach it
	}
	port := c.URI.Port
	if port == 0 {
		port = 5060
		if c.URI.IsEncrypted() {
			port = 5061
		}
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port)) != netip.AddrPortFrom(c.Source.Addr().Unmap(), c.Source.Port())
}

// Remaining is how long the binding has left at now, rounded up to whole
// seconds as the expires parameter of a 200 OK states it (0 if expired).
func (c *Contact) Remaining(now time.Time) time.Duration {
	d := c.Expires.Sub(now)
	if d <= 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// header returns the Contact header the 200 OK lists for c at now
// (RFC 3261 §10.3 step 8: every current binding with an expires
// parameter of its remaining time).
func (c *Contact) header(now time.Time) *sip.ContactHeader {
	h := &sip.ContactHeader{Address: *c.URI.Clone(), Params: c.Params.Clone()}
	if h.Params == nil {
		h.Params = sip.NewParams()
	}
	h.Params.Add("expires", strconv.FormatInt(int64(c.Remaining(now)/time.Second), 10))
	return h
}

// clone returns a deep copy of c, so readers never share parameter
// slices with the location service.
func (c *Contact) clone() Contact {
	d := *c
	d.AOR = *c.AOR.Clone()
	d.URI = *c.URI.Clone()
	d.Params = c.Params.Clone()
	return d
}

// binding is a stored Contact with its comparison key.
type binding struct {
	key string
	Contact
}

// Location is the location service (RFC 3261 §10.2): the registered
// contacts of each person. It is safe for concurrent use. Expired
// bindings are invisible at once (each read checks the clock) and are
// removed by Sweep, which Run calls periodically, so no call or REGISTER
// pays for expiry.
type Location struct {
	now func() time.Time

	mu     sync.RWMutex
	people map[string][]*binding // person id -> bindings, newest first
}

// NewLocation returns an empty location service reading the time from
// now (nil = time.Now).
func NewLocation(now func() time.Time) *Location {
	if now == nil {
		now = time.Now
	}
	return &Location{now: now, people: map[string][]*binding{}}
}

// Contacts returns the unexpired contacts of a person, the most recently
// registered first (nil when none). The B2BUA forks a call to a person
// to these.
func (l *Location) Contacts(personID string) []Contact {
	now := l.now()
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []Contact
	for _, b := range l.people[personID] {
		if b.Expires.After(now) {
			out = append(out, b.clone())
		}
	}
	return out
}

// Len returns the number of stored bindings, expired ones not yet swept
// included.
func (l *Location) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	n := 0
	for _, bs := range l.people {
		n += len(bs)
	}
	return n
}

// RemovePerson drops every binding of a person (a person deleted or
// whose SIP credentials changed).
func (l *Location) RemovePerson(personID string) {
	l.mu.Lock()
	delete(l.people, personID)
	l.mu.Unlock()
}

// Sweep removes the bindings that have expired and returns how many.
func (l *Location) Sweep() int {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for id, bs := range l.people {
		kept := slices.DeleteFunc(bs, func(b *binding) bool { return !b.Expires.After(now) })
		n += len(bs) - len(kept)
		if len(kept) == 0 {
			delete(l.people, id)
		} else {
			l.people[id] = kept
		}
	}
	return n
}

// DefaultSweepInterval is how often Run sweeps when given no interval:
// a minute keeps at most a minute of lapsed registrations in memory,
// which reads already ignore.
const DefaultSweepInterval = time.Minute

// Run sweeps expired bindings every interval (0 = DefaultSweepInterval)
// until ctx is done.
func (l *Location) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.Sweep()
		}
	}
}

// change is one REGISTER's update of a person's bindings, already
// authenticated and validated.
type change struct {
	personID, orgID, username string
	aor                       sip.Uri
	callID                    string
	cseq                      uint32
	wildcard                  bool // Contact: * with Expires: 0
	contacts                  []contactReq
	source                    netip.AddrPort
	transport, userAgent      string
	maxContacts               int
}

// apply runs RFC 3261 §10.3 steps 6 and 7 for ch under the lock and
// commits the result only if every binding update succeeds. It returns
// the person's current contacts after the update, or errOutOfOrder.
//
// A refresh with the Call-ID of the stored binding must have a higher
// CSeq; another Call-ID replaces the binding (a rebooted device). When
// more than maxContacts bindings remain, the least recently registered
// are dropped: a device that rebooted behind a NAT leaves a binding at
// its old port that it can no longer remove.
func (l *Location) apply(ch *change) ([]Contact, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.people[ch.personID]
	// Work on a copy: nothing is visible until every update succeeded.
	next := make([]*binding, 0, len(old)+len(ch.contacts))
	for _, b := range old {
		if b.Expires.After(now) {
			next = append(next, b)
		}
	}
	if ch.wildcard {
		// §10.3 step 6: remove every binding, unless one has the same
		// Call-ID and a CSeq not lower than the request's.
		for _, b := range next {
			if b.CallID == ch.callID && ch.cseq <= b.CSeq {
				return nil, errOutOfOrder
			}
		}
		next = next[:0]
	}
	var added []*binding
	for _, c := range ch.contacts {
		i := slices.IndexFunc(next, func(b *binding) bool { return b.key == c.key })
		if i >= 0 {
			b := next[i]
			if b.CallID == ch.callID && ch.cseq <= b.CSeq {
				return nil, errOutOfOrder // §10.3 step 7
			}
			next = slices.Delete(next, i, i+1)
		}
		// Also drop one added earlier in this request (a repeated contact).
		added = slices.DeleteFunc(added, func(b *binding) bool { return b.key == c.key })
		if c.expires == 0 {
			continue
		}
		added = append(added, &binding{key: c.key, Contact: Contact{
			PersonID: ch.personID, OrgID: ch.orgID, Username: ch.username,
			AOR: *ch.aor.Clone(), URI: *c.uri.Clone(), Params: c.params.Clone(),
			Source: ch.source, Transport: ch.transport, CallID: ch.callID, CSeq: ch.cseq,
			UserAgent: ch.userAgent, Registered: now, Expires: now.Add(c.expires),
		}})
	}
	next = append(added, next...) // newest first
	if ch.maxContacts > 0 && len(next) > ch.maxContacts {
		next = next[:ch.maxContacts]
	}
	if len(next) == 0 {
		delete(l.people, ch.personID)
	} else {
		l.people[ch.personID] = next
	}
	out := make([]Contact, len(next))
	for i, b := range next {
		out[i] = b.clone()
	}
	return out, nil
}

// sourceAddr reads a sipgo request source ("ip:port").
func sourceAddr(s string) netip.AddrPort {
	ap, err := netip.ParseAddrPort(s)
	if err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}
	}
	a, err1 := netip.ParseAddr(host)
	p, err2 := strconv.ParseUint(port, 10, 16)
	if err1 != nil || err2 != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p))
}
