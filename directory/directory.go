// Package directory is typed access to the control plane's state: orgs,
// locations, people, virtual lines, features, trunks, providers, terms,
// provider accounts, jobs, SIPREC sources, announcement files and the audit
// log, kept as JSON documents in a transactional store (the [Tx] a store
// such as store/sqlite implements).
//
// Each kind of object has a [Kind] value (People, Locations, ...) whose
// methods read and write it with its unique lookup keys (email, number,
// extension, SIP user name). Org scoping is enforced here: reading an
// object through the wrong org is ErrNotFound, so no caller can leak
// another org's objects by id.
//
// The package does no network I/O and holds no business rules: the rules
// are in policy/, who may do what in api/.
package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callrec/callrec"
)

// Record is one stored document.
type Record struct {
	Kind  string
	ID    string
	OrgID string   // "" for objects of no org (providers)
	Keys  []string // unique lookup keys across every kind, e.g. "email:a@b.example"
	Data  []byte   // JSON of the typed object
}

// Tx is a transaction on the state store. Implementations serialise
// writers; a View transaction must not write.
type Tx interface {
	// Get returns the record, or an error wrapping callrec.ErrNotFound.
	Get(ctx context.Context, kind, id string) (Record, error)
	// Put inserts or replaces the record and its keys. A key held by
	// another record is callrec.ErrConflict. Storing kind "org" also
	// keeps the store's org registry (id, name) in step.
	Put(ctx context.Context, r Record) error
	// Delete removes the record and its keys; missing is ErrNotFound.
	Delete(ctx context.Context, kind, id string) error
	// List returns the records of kind in orgID ("" = every org), in the
	// order they were first stored.
	List(ctx context.Context, kind, orgID string) ([]Record, error)
	// Lookup returns the record holding key, or ErrNotFound.
	Lookup(ctx context.Context, key string) (Record, error)
	// AppendAudit stores an audit entry (ID and Time are set when empty).
	AppendAudit(ctx context.Context, e *callrec.AuditEntry) error
	// ListAudit returns audit entries matching q, newest first.
	ListAudit(ctx context.Context, q AuditQuery) ([]callrec.AuditEntry, error)
	// SetRetention applies R9 to every recording of the owner that is
	// not on hold: unlimited clears the expiry; otherwise each is kept
	// callrec.FreeRetention from its start, or from now when it is
	// already older than that. It returns how many recordings changed.
	SetRetention(ctx context.Context, ownerID string, unlimited bool, now time.Time) (int, error)
}

// Store opens transactions.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committed when fn
	// returns nil and rolled back otherwise.
	Update(ctx context.Context, fn func(Tx) error) error
}

// AuditQuery selects audit entries.
type AuditQuery struct {
	OrgID      string // "" = every org
	ObjectType string
	ObjectID   string
	Actor      string
	From, To   time.Time // zero: unbounded; From inclusive, To exclusive
	Start, Max int       // offset and page size (Max 0: no limit)
}

// Kind describes one kind of object: how to find its id, org and keys.
type Kind[T any] struct {
	// Name is the stored kind name.
	Name string
	id   func(*T) string
	org  func(*T) string
	keys func(*T) []string
}

// Kinds of objects.
var (
	Orgs = Kind[callrec.Org]{Name: "org",
		id: func(o *callrec.Org) string { return o.ID }, org: func(o *callrec.Org) string { return o.ID },
		keys: func(o *callrec.Org) []string { return []string{OrgNameKey(o.Name)} }}
	Locations = Kind[callrec.Location]{Name: "location",
		id: func(l *callrec.Location) string { return l.ID }, org: func(l *callrec.Location) string { return l.OrgID },
		keys: func(l *callrec.Location) []string { return []string{LocationNameKey(l.OrgID, l.Name)} }}
	People = Kind[callrec.Person]{Name: "person",
		id: func(p *callrec.Person) string { return p.ID }, org: func(p *callrec.Person) string { return p.OrgID },
		keys: func(p *callrec.Person) []string {
			k := make([]string, 0, len(p.Emails)+len(p.PhoneNumbers)+3)
			for _, e := range p.Emails {
				k = append(k, EmailKey(e))
			}
			k = append(k, numberKeys(p.OrgID, p.Extension, p.PhoneNumbers...)...)
			if p.SIP != nil {
				k = append(k, SIPUserKey(p.SIP.Username))
			}
			if p.ExternalID != "" {
				k = append(k, ExternalIDKey(p.OrgID, p.ExternalID))
			}
			return k
		}}
	VirtualLines = Kind[callrec.VirtualLine]{Name: "virtualLine",
		id: func(v *callrec.VirtualLine) string { return v.ID }, org: func(v *callrec.VirtualLine) string { return v.OrgID },
		keys: func(v *callrec.VirtualLine) []string {
			k := numberKeys(v.OrgID, v.Extension, v.PhoneNumber)
			if v.ExternalID != "" {
				k = append(k, ExternalIDKey(v.OrgID, v.ExternalID))
			}
			return k
		}}
	Features = Kind[callrec.Feature]{Name: "feature",
		id: func(f *callrec.Feature) string { return f.ID }, org: func(f *callrec.Feature) string { return f.OrgID },
		keys: func(f *callrec.Feature) []string { return numberKeys(f.OrgID, f.Extension, f.PhoneNumber) }}
	Trunks = Kind[callrec.Trunk]{Name: "trunk",
		id: func(t *callrec.Trunk) string { return t.ID }, org: func(t *callrec.Trunk) string { return t.OrgID },
		keys: func(t *callrec.Trunk) []string { return []string{TrunkNameKey(t.OrgID, t.Name)} }}
	Providers = Kind[callrec.Provider]{Name: "provider",
		id: func(p *callrec.Provider) string { return p.ID }, org: func(*callrec.Provider) string { return "" },
		keys: func(p *callrec.Provider) []string { return []string{"provider:" + fold(p.Name)} }}
	Terms = Kind[callrec.TermsAcceptance]{Name: "terms",
		id: func(t *callrec.TermsAcceptance) string { return PairID(t.OrgID, t.ProviderID) }, org: func(t *callrec.TermsAcceptance) string { return t.OrgID }}
	Accounts = Kind[callrec.ProviderAccount]{Name: "providerAccount",
		id: func(a *callrec.ProviderAccount) string { return PairID(a.OrgID, a.ProviderID) }, org: func(a *callrec.ProviderAccount) string { return a.OrgID }}
	Jobs = Kind[callrec.Job]{Name: "job",
		id: func(j *callrec.Job) string { return j.ID }, org: func(j *callrec.Job) string { return j.OrgID }}
	Sources = Kind[callrec.SIPRECSource]{Name: "siprecSource",
		id: func(s *callrec.SIPRECSource) string { return s.ID }, org: func(s *callrec.SIPRECSource) string { return s.OrgID },
		keys: func(s *callrec.SIPRECSource) []string {
			if s.SIP == nil {
				return nil
			}
			return []string{SIPUserKey(s.SIP.Username)}
		}}
	AnnouncementFiles = Kind[callrec.AnnouncementFile]{Name: "announcementFile",
		id: func(a *callrec.AnnouncementFile) string { return a.ID }, org: func(a *callrec.AnnouncementFile) string { return a.OrgID }}
	VoiceMessages = Kind[callrec.VoiceMessage]{Name: "voiceMessage",
		id: func(m *callrec.VoiceMessage) string { return m.ID }, org: func(m *callrec.VoiceMessage) string { return m.OrgID }}
)

// NewKind describes a kind of object that another package stores as
// directory documents (e.g. events.Webhooks): name is its stored kind
// name (unique among kinds), id and org return the object's id and org
// ("" for objects of no org), keys its unique lookup keys (nil: none).
func NewKind[T any](name string, id, org func(*T) string, keys func(*T) []string) Kind[T] {
	return Kind[T]{Name: name, id: id, org: org, keys: keys}
}

// PairID is the id of an object that exists once per org and provider.
func PairID(orgID, providerID string) string { return orgID + "/" + providerID }

// EmailKey is the lookup key of an email address (global, case-insensitive).
func EmailKey(email string) string { return "email:" + fold(email) }

// NumberKey is the lookup key of a phone number or extension in an org.
// Numbers are compared by their digits (a leading + kept), so
// "+45 12 34" and "+451234" are the same number.
func NumberKey(orgID, number string) string { return "num:" + orgID + ":" + NormalizeNumber(number) }

// SIPUserKey is the lookup key of a SIP digest user name (global).
func SIPUserKey(user string) string { return "sipuser:" + user }

// ExternalIDKey is the lookup key of a provider-side user id in an org
// (BroadWorks userID style, R30).
func ExternalIDKey(orgID, id string) string { return "extid:" + orgID + ":" + fold(id) }

// NormalizeNumber keeps a leading + and the digits of a number; other
// characters (spaces, dashes, dots, parentheses) are dropped. Other
// dial strings (with * or #, or letters) are kept as they are.
func NormalizeNumber(n string) string {
	n = strings.TrimSpace(n)
	var b strings.Builder
	for i, r := range n {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return n
		}
	}
	return b.String()
}

func numberKeys(orgID, ext string, numbers ...string) []string {
	var k []string
	if ext != "" {
		k = append(k, NumberKey(orgID, ext))
	}
	for _, n := range numbers {
		if n != "" {
			k = append(k, NumberKey(orgID, n))
		}
	}
	return k
}

func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Get returns the object with id in org orgID. An object of another org
// is reported as not found; orgID "" skips the org check (callers that
// have already scoped the id, and objects of no org).
func (k Kind[T]) Get(ctx context.Context, tx Tx, orgID, id string) (*T, error) {
	r, err := tx.Get(ctx, k.Name, id)
	if err != nil {
		return nil, fmt.Errorf("directory: get %s %q: %w", k.Name, id, err)
	}
	if orgID != "" && r.OrgID != orgID {
		return nil, fmt.Errorf("directory: get %s %q: %w", k.Name, id, callrec.ErrNotFound)
	}
	return k.decode(r)
}

// List returns every object of the kind in orgID ("" = all), in creation order.
func (k Kind[T]) List(ctx context.Context, tx Tx, orgID string) ([]T, error) {
	rs, err := tx.List(ctx, k.Name, orgID)
	if err != nil {
		return nil, fmt.Errorf("directory: list %s: %w", k.Name, err)
	}
	out := make([]T, 0, len(rs))
	for _, r := range rs {
		v, err := k.decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

// Put stores v with its keys. A key another object holds (an email,
// number, extension or name already taken) is callrec.ErrConflict.
func (k Kind[T]) Put(ctx context.Context, tx Tx, v *T) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("directory: put %s: %w", k.Name, err)
	}
	r := Record{Kind: k.Name, ID: k.id(v), OrgID: k.org(v), Data: data}
	if r.ID == "" {
		return fmt.Errorf("directory: put %s: empty id: %w", k.Name, callrec.ErrInvalid)
	}
	if k.keys != nil {
		r.Keys = dedupe(k.keys(v))
	}
	if err := tx.Put(ctx, r); err != nil {
		return fmt.Errorf("directory: put %s %q: %w", k.Name, r.ID, err)
	}
	return nil
}

// Delete removes the object with id from org orgID ("" skips the org check).
func (k Kind[T]) Delete(ctx context.Context, tx Tx, orgID, id string) error {
	if _, err := k.Get(ctx, tx, orgID, id); err != nil {
		return err
	}
	if err := tx.Delete(ctx, k.Name, id); err != nil {
		return fmt.Errorf("directory: delete %s %q: %w", k.Name, id, err)
	}
	return nil
}

// Lookup returns the object of this kind that holds key, or ErrNotFound
// (also when another kind holds it).
func (k Kind[T]) Lookup(ctx context.Context, tx Tx, key string) (*T, error) {
	r, err := tx.Lookup(ctx, key)
	if err == nil && r.Kind != k.Name {
		err = callrec.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("directory: lookup %s: %w", k.Name, err)
	}
	return k.decode(r)
}

func (k Kind[T]) decode(r Record) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(r.Data, v); err != nil {
		return nil, fmt.Errorf("directory: decode %s %q: %w", k.Name, r.ID, err)
	}
	return v, nil
}

func dedupe(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := keys[:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// IsNotFound says whether err is a not-found error.
func IsNotFound(err error) bool { return errors.Is(err, callrec.ErrNotFound) }

// OrgNameKey is the lookup key of an org's name (global, case-insensitive).
func OrgNameKey(name string) string { return "orgname:" + fold(name) }

// LocationNameKey is the lookup key of a location's name in an org.
func LocationNameKey(orgID, name string) string { return "location:" + orgID + ":" + fold(name) }

// TrunkNameKey is the lookup key of a trunk's name in an org.
func TrunkNameKey(orgID, name string) string { return "trunk:" + orgID + ":" + fold(name) }
