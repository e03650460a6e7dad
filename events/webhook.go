package events

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// Webhook resources, events, statuses and owners, spelled as Webex does.
const (
	// ResourceTelephonyCalls is the only resource callrec's webhooks watch.
	ResourceTelephonyCalls = "telephony_calls"

	EventCreated = "created"
	EventUpdated = "updated"
	EventDeleted = "deleted"
	EventAll     = "all"

	StatusActive   = "active"
	StatusInactive = "inactive"

	// OwnedByCreator is a webhook that sees its creator's own calls.
	OwnedByCreator = "creator"
	// OwnedByOrg is an admin's webhook that sees every call of the org.
	OwnedByOrg = "org"

	// AppID names callrec as the app of every webhook (Webex's appId).
	AppID = "callrec"

	// SignatureHeader carries the HMAC-SHA1 of the body when the webhook
	// has a secret (Webex's scheme).
	SignatureHeader = "X-Spark-Signature"
)

// Resources, WebhookEvents and Statuses are the allowed values of a
// webhook's fields.
var (
	Resources     = []string{ResourceTelephonyCalls}
	WebhookEvents = []string{EventCreated, EventUpdated, EventDeleted, EventAll}
	Statuses      = []string{StatusActive, StatusInactive}
	Owners        = []string{OwnedByCreator, OwnedByOrg}
)

// Webhook is a subscription to recording state events of an org,
// stored as a directory document of kind [Webhooks].
type Webhook struct {
	ID        string
	OrgID     string
	Name      string
	TargetURL string
	Resource  string // ResourceTelephonyCalls
	Event     string // one of WebhookEvents; updated and all receive recording events
	Filter    string // as the creator wrote it, e.g. "personId=<id>"
	Secret    string // HMAC key of X-Spark-Signature; "" sends none
	Status    string // StatusActive or StatusInactive
	OwnedBy   string // OwnedByCreator or OwnedByOrg
	// PersonID limits the webhook to one person's events ("" = the whole
	// org): a user's webhook is limited to the user, and a personId
	// filter limits any webhook. api/ sets it when it stores the webhook.
	PersonID string
	// CreatorPersonID is the person who created it, when the token was a
	// person's; Actor names the creator otherwise (audit actor style).
	CreatorPersonID string
	Actor           string
	// CreatorTokenRole is the role of the token that created it.
	CreatorTokenRole string
	Created          time.Time
}

// Webhooks is the directory kind of webhook subscriptions.
var Webhooks = directory.NewKind[Webhook]("webhook",
	func(w *Webhook) string { return w.ID },
	func(w *Webhook) string { return w.OrgID },
	nil)

// Matches says whether the webhook receives the event: it is active,
// watches telephony_calls with event updated or all, belongs to the
// event's org, and its person (if any) is the event's.
func (w *Webhook) Matches(e *Event) bool {
	return w.Status == StatusActive &&
		w.Resource == ResourceTelephonyCalls &&
		(w.Event == EventUpdated || w.Event == EventAll) &&
		w.OrgID != "" && w.OrgID == e.OrgID &&
		(w.PersonID == "" || w.PersonID == e.PersonID)
}

// Redacted is the webhook without its secret, for audit entries and logs.
func (w Webhook) Redacted() Webhook {
	if w.Secret != "" {
		w.Secret = "(redacted)"
	}
	return w
}

// CreatedBy is the creator as Webex shows it: the Webex id of the
// creator's person, or the actor (an email or token:<id>).
func (w *Webhook) CreatedBy() string {
	if w.CreatorPersonID != "" {
		return WebexID(IDTypePerson, w.CreatorPersonID)
	}
	return w.Actor
}

// Envelope is the body POSTed to a webhook's targetUrl: the webhook's
// own fields, the actor and the event data, in Webex's shape.
type Envelope struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	TargetURL string `json:"targetUrl"`
	Resource  string `json:"resource"`
	Event     string `json:"event"`
	Filter    string `json:"filter,omitempty"`
	OrgID     string `json:"orgId"`
	CreatedBy string `json:"createdBy"`
	AppID     string `json:"appId"`
	OwnedBy   string `json:"ownedBy"`
	Status    string `json:"status"`
	Created   string `json:"created"`
	// ActorID is the Webex id of the person whose call changed state.
	ActorID string `json:"actorId,omitempty"`
	Data    Data   `json:"data"`
}

// NewEnvelope is the delivery of event e to webhook w. The event field
// is "updated": a recording state change updates the call.
func NewEnvelope(w *Webhook, e *Event) Envelope {
	return Envelope{
		ID:        WebexID(IDTypeWebhook, w.ID),
		Name:      w.Name,
		TargetURL: w.TargetURL,
		Resource:  w.Resource,
		Event:     EventUpdated,
		Filter:    w.Filter,
		OrgID:     WebexID(IDTypeOrg, w.OrgID),
		CreatedBy: w.CreatedBy(),
		AppID:     AppID,
		OwnedBy:   w.OwnedBy,
		Status:    w.Status,
		Created:   FormatTime(w.Created),
		ActorID:   WebexID(IDTypePerson, e.PersonID),
		Data:      e.Data(),
	}
}

// Sign returns the X-Spark-Signature of body: the lowercase hex HMAC-SHA1
// of the raw body keyed with the webhook's secret (Webex's scheme; a
// receiver recomputes it over the bytes it received).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// maxTargetURL is the longest targetUrl accepted, in bytes.
const maxTargetURL = 2048

// ValidateTargetURL checks a webhook's targetUrl: an absolute http or
// https URL with a host, no user info and no fragment, at most 2048
// bytes. Loopback and private addresses are allowed (a self-hosted
// receiver next to callrec, and the tests' httptest receivers); the
// error says what is wrong and wraps callrec.ErrInvalid.
func ValidateTargetURL(s string) error {
	if s == "" {
		return invalidf("targetUrl: required")
	}
	if len(s) > maxTargetURL {
		return invalidf("targetUrl: longer than %d bytes", maxTargetURL)
	}
	u, err := url.Parse(s)
	if err != nil {
		return invalidf("targetUrl: %q is not a URL", s)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return invalidf("targetUrl: %q must be an http or https URL", s)
	case u.Host == "" || u.Hostname() == "":
		return invalidf("targetUrl: %q has no host", s)
	case u.User != nil:
		return invalidf("targetUrl: %q must not carry user info", s)
	case u.Fragment != "" || strings.HasSuffix(s, "#"):
		return invalidf("targetUrl: %q must not carry a fragment", s)
	}
	if p := u.Port(); p != "" {
		n := 0
		for _, c := range p {
			n = n*10 + int(c-'0')
			if n > 65535 {
				break
			}
		}
		if n < 1 || n > 65535 {
			return invalidf("targetUrl: %q has port %s out of range 1..65535", s, p)
		}
	}
	return nil
}

// invalidError is bad input: its message is written for the client (it
// names the field) and it matches callrec.ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }

// Is makes errors.Is(err, callrec.ErrInvalid) hold.
func (e *invalidError) Is(target error) bool { return target == callrec.ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// Filter is a parsed webhook filter.
type Filter struct {
	// PersonID is the personId the filter names, as written (a Webex id
	// or a UUID; the caller resolves it), "" when it names none.
	PersonID string
}

// ParseFilter parses a telephony_calls webhook filter: "" or
// "personId=<id>" (URL query syntax, as Webex filters are written).
// Other keys, a repeated or empty personId and malformed escapes are
// errors naming the filter; they wrap callrec.ErrInvalid.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	q, err := url.ParseQuery(s)
	if err != nil {
		return f, invalidf("filter: %q is not key=value", s)
	}
	for k, vs := range q {
		if k != "personId" {
			return f, invalidf("filter: %q is not a telephony_calls filter; allowed: personId", k)
		}
		if len(vs) != 1 || strings.TrimSpace(vs[0]) == "" {
			return f, invalidf("filter: personId must be given once, with a value")
		}
		f.PersonID = strings.TrimSpace(vs[0])
	}
	return f, nil
}
