package api

// Webex-style webhooks (POST/GET/PUT/DELETE /v1/webhooks) on resource
// telephony_calls, whose deliveries carry recording state events (R34).
// Who sees what: an admin's webhook (ownedBy org) sees every call of the
// org, a user's (ownedBy creator) only the user's own; a personId filter
// narrows either to one person. The hub in events/ reads the stored
// webhooks and delivers; these handlers only store them.

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/events"
)

// Limits of webhook input.
const (
	maxWebhookSecret = 256
	auditWebhook     = "webhook"
)

// webhookJSON is a webhook as the API renders it (Webex's fields).
type webhookJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	TargetURL string `json:"targetUrl"`
	Resource  string `json:"resource" doc:"telephony_calls"`
	Event     string `json:"event" doc:"created, updated, deleted or all; recording state events go to updated and all"`
	Filter    string `json:"filter,omitempty" doc:"personId=<id>: only that person's calls"`
	Secret    string `json:"secret,omitempty" doc:"HMAC-SHA1 key of the X-Spark-Signature header"`
	Status    string `json:"status" doc:"active or inactive (set after repeated failed deliveries)"`
	Created   string `json:"created"`
	OrgID     string `json:"orgId"`
	CreatedBy string `json:"createdBy"`
	AppID     string `json:"appId"`
	OwnedBy   string `json:"ownedBy" doc:"org (an admin's: the org's calls) or creator (the creator's own calls)"`
}

// newWebhookBody is the body of POST /v1/webhooks.
type newWebhookBody struct {
	Name      string `json:"name"`
	TargetURL string `json:"targetUrl" doc:"http or https URL that receives a POST per event"`
	Resource  string `json:"resource" doc:"telephony_calls"`
	Event     string `json:"event" doc:"created, updated, deleted or all"`
	Filter    string `json:"filter,omitempty" doc:"personId=<id>"`
	Secret    string `json:"secret,omitempty"`
	OwnedBy   string `json:"ownedBy,omitempty" doc:"org (default for admins) or creator (default for users)"`
}

// webhookUpdateBody is the body of PUT /v1/webhooks/{webhookId}: omitted
// fields keep their value. Read-only fields a client PUTs back (id,
// resource, event, filter, created, ...) are ignored.
type webhookUpdateBody struct {
	Name      *string `json:"name,omitempty"`
	TargetURL *string `json:"targetUrl,omitempty"`
	Secret    *string `json:"secret,omitempty" doc:"\"\" removes the secret"`
	Status    *string `json:"status,omitempty" doc:"active or inactive"`
	OwnedBy   *string `json:"ownedBy,omitempty" doc:"must stay what it is"`
}

func renderWebhook(w *events.Webhook) webhookJSON {
	return webhookJSON{ID: webexID(idWebhook, w.ID), Name: w.Name, TargetURL: w.TargetURL, Resource: w.Resource,
		Event: w.Event, Filter: w.Filter, Secret: w.Secret, Status: w.Status, Created: dirTime(w.Created),
		OrgID: webexID(idOrg, w.OrgID), CreatedBy: w.CreatedBy(), AppID: events.AppID, OwnedBy: w.OwnedBy}
}

// eventViewer is what a token may see of an org's call events: every
// call (admin) or one person's (user).
type eventViewer struct {
	admin    bool
	personID string // a user's person; an admin's own person when it is one
	// manageAll: may change and delete any webhook of the org.
	manageAll bool
}

// eventScope resolves the acting org (§1.3) and what tok may see of its
// call events. Admins of the org see every call; a user sees its own;
// other roles (compliance officers) are refused.
func (s *server) eventScope(r *http.Request, tok *callrec.Token) (*callrec.Org, eventViewer, error) {
	org, err := s.actingOrg(r, tok)
	if err != nil {
		return nil, eventViewer{}, err
	}
	// The token's person, when it is a person of this org.
	person := ""
	if tok.PersonID != "" && tok.OrgID == org.ID {
		person = tok.PersonID
	}
	if managesOrg(tok, org) {
		return org, eventViewer{admin: true, manageAll: true, personID: person}, nil
	}
	switch tok.Role {
	case callrec.RoleFullAdmin:
		return org, eventViewer{admin: true, manageAll: true, personID: person}, nil
	case callrec.RoleReadOnlyAdmin, callrec.RoleLocationAdmin:
		return org, eventViewer{admin: true, personID: person}, nil
	case callrec.RoleUser:
		if person != "" {
			return org, eventViewer{personID: person}, nil
		}
	}
	return nil, eventViewer{}, forbidden("The " + tok.Role + " role may not subscribe to call events")
}

// ownsWebhook says whether tok created w.
func ownsWebhook(tok *callrec.Token, w *events.Webhook) bool {
	return (tok.PersonID != "" && w.CreatorPersonID == tok.PersonID) || w.Actor == actor(tok)
}

// seesWebhook says whether v may read w: admins every webhook of the
// org, users their own.
func (v eventViewer) seesWebhook(tok *callrec.Token, w *events.Webhook) bool {
	return v.admin || ownsWebhook(tok, w)
}

// loadWebhook reads the webhook the path names, as tok may see it; any
// other is 404.
func (s *server) loadWebhook(ctx context.Context, tx directory.Tx, r *http.Request, tok *callrec.Token, org *callrec.Org, v eventViewer) (*events.Webhook, error) {
	raw := r.PathValue("webhookId")
	id, ok := parseID(idWebhook, raw)
	if !ok {
		return nil, notFoundThing("Webhook", raw)
	}
	w, err := events.Webhooks.Get(ctx, tx, org.ID, id)
	if isNotFound(err) || (err == nil && !v.seesWebhook(tok, w)) {
		return nil, notFoundThing("Webhook", raw)
	}
	if err != nil {
		return nil, fmt.Errorf("api: webhook %s: %w", id, err)
	}
	return w, nil
}

// mayChangeWebhook refuses a change to another's webhook unless tok is
// a full or partner admin.
func (v eventViewer) mayChangeWebhook(tok *callrec.Token, w *events.Webhook) error {
	if v.manageAll || ownsWebhook(tok, w) {
		return nil
	}
	return forbidden("Only its creator or a full administrator may change this webhook")
}

// listWebhooks is GET /v1/webhooks.
func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, v, err := s.eventScope(r, tok)
	if err != nil {
		return err
	}
	start, max, err := pageParams(r, 100, 1000)
	if err != nil {
		return err
	}
	var all []events.Webhook
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		all, err = events.Webhooks.List(r.Context(), tx, org.ID)
		return err
	}); err != nil {
		return fmt.Errorf("api: list webhooks: %w", err)
	}
	items := []webhookJSON{}
	for i := range all {
		if v.seesWebhook(tok, &all[i]) {
			items = append(items, renderWebhook(&all[i]))
		}
	}
	writePage(s, w, r, items, start, max, "items", nil)
	return nil
}

// getWebhook is GET /v1/webhooks/{webhookId}.
func (s *server) getWebhook(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, v, err := s.eventScope(r, tok)
	if err != nil {
		return err
	}
	return s.viewJSON(w, r, func(ctx context.Context, tx directory.Tx) (any, error) {
		hook, err := s.loadWebhook(ctx, tx, r, tok, org, v)
		if err != nil {
			return nil, err
		}
		return renderWebhook(hook), nil
	})
}

// createWebhook is POST /v1/webhooks.
func (s *server) createWebhook(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, v, err := s.eventScope(r, tok)
	if err != nil {
		return err
	}
	var body newWebhookBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	hook := &events.Webhook{ID: uuid.NewString(), OrgID: org.ID, Status: events.StatusActive,
		Actor: actor(tok), CreatorTokenRole: tok.Role, Created: s.now().UTC()}
	hook.CreatorPersonID = v.personID
	if hook.Name, err = dirRequiredText("name", body.Name, maxNameLen); err != nil {
		return err
	}
	if err := ruleError(events.ValidateTargetURL(body.TargetURL)); err != nil {
		return err
	}
	hook.TargetURL = body.TargetURL
	if body.Resource == "" {
		return badRequestf("resource: required; allowed: %s", events.ResourceTelephonyCalls)
	}
	if err := checkEnum("resource", body.Resource, events.Resources...); err != nil {
		return err
	}
	hook.Resource = body.Resource
	if body.Event == "" {
		return badRequest("event: required; allowed: created, updated, deleted, all")
	}
	if err := checkEnum("event", body.Event, events.WebhookEvents...); err != nil {
		return err
	}
	hook.Event = body.Event
	if hook.Secret, err = webhookSecret(body.Secret); err != nil {
		return err
	}
	if err := webhookOwner(hook, v, body.OwnedBy); err != nil {
		return err
	}
	return s.updateJSON(w, r, func(ctx context.Context, tx directory.Tx) (any, error) {
		if err := webhookFilter(ctx, tx, hook, body.Filter); err != nil {
			return nil, err
		}
		if err := events.Webhooks.Put(ctx, tx, hook); err != nil {
			return nil, fmt.Errorf("api: create webhook: %w", err)
		}
		if err := s.audit(ctx, tx, tok, org.ID, "create", auditWebhook, hook.ID, nil, hook.Redacted()); err != nil {
			return nil, err
		}
		return renderWebhook(hook), nil
	})
}

// webhookSecret validates a secret: printable, at most 256 bytes.
func webhookSecret(v string) (string, error) {
	if len(v) > maxWebhookSecret {
		return "", badRequestf("secret: longer than %d bytes", maxWebhookSecret)
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return "", badRequest("secret: must not hold control characters")
		}
	}
	return v, nil
}

// webhookOwner sets ownedBy and the person scope of a new webhook: an
// admin's defaults to org (every call of the org); creator limits it to
// the creator's own calls, which needs a token of a person. A user's
// webhook is always the user's own.
func webhookOwner(hook *events.Webhook, v eventViewer, ownedBy string) error {
	if ownedBy != "" {
		if err := checkEnum("ownedBy", ownedBy, events.Owners...); err != nil {
			return err
		}
	}
	switch {
	case !v.admin && ownedBy == events.OwnedByOrg:
		return forbidden("ownedBy: only an administrator may create a webhook of the organization")
	case !v.admin:
		hook.OwnedBy, hook.PersonID = events.OwnedByCreator, v.personID
	case ownedBy == events.OwnedByCreator:
		if v.personID == "" {
			return badRequest("ownedBy: creator needs a token of a person (its own calls); use org")
		}
		hook.OwnedBy, hook.PersonID = events.OwnedByCreator, v.personID
	default:
		hook.OwnedBy = events.OwnedByOrg
	}
	return nil
}

// webhookFilter applies a filter (personId=<id>) to a new webhook: the
// person must be of the org (404 otherwise, as every id of another org),
// and a webhook limited to its creator may name only the creator.
func webhookFilter(ctx context.Context, tx directory.Tx, hook *events.Webhook, filter string) error {
	f, err := events.ParseFilter(filter)
	if err != nil {
		return ruleError(err)
	}
	if f.PersonID == "" {
		return nil
	}
	id, ok := parseID(idPerson, f.PersonID)
	if !ok {
		return notFoundThing("Person", f.PersonID)
	}
	if _, err := directory.People.Get(ctx, tx, hook.OrgID, id); isNotFound(err) {
		return notFoundThing("Person", f.PersonID)
	} else if err != nil {
		return fmt.Errorf("api: webhook filter: %w", err)
	}
	if hook.PersonID != "" && hook.PersonID != id {
		return forbidden("filter: a webhook owned by its creator sees only the creator's own calls")
	}
	hook.PersonID = id
	hook.Filter = filter
	return nil
}

// updateWebhook is PUT /v1/webhooks/{webhookId}.
func (s *server) updateWebhook(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, v, err := s.eventScope(r, tok)
	if err != nil {
		return err
	}
	var body webhookUpdateBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	return s.updateJSON(w, r, func(ctx context.Context, tx directory.Tx) (any, error) {
		hook, err := s.loadWebhook(ctx, tx, r, tok, org, v)
		if err != nil {
			return nil, err
		}
		if err := v.mayChangeWebhook(tok, hook); err != nil {
			return nil, err
		}
		before := hook.Redacted()
		if body.Name != nil {
			if hook.Name, err = dirRequiredText("name", *body.Name, maxNameLen); err != nil {
				return nil, err
			}
		}
		if body.TargetURL != nil {
			if err := ruleError(events.ValidateTargetURL(*body.TargetURL)); err != nil {
				return nil, err
			}
			hook.TargetURL = *body.TargetURL
		}
		if body.Secret != nil {
			if hook.Secret, err = webhookSecret(*body.Secret); err != nil {
				return nil, err
			}
		}
		if body.Status != nil {
			if err := checkEnum("status", *body.Status, events.Statuses...); err != nil {
				return nil, err
			}
			hook.Status = *body.Status
		}
		if body.OwnedBy != nil && *body.OwnedBy != hook.OwnedBy {
			return nil, badRequestf("ownedBy: %s cannot be changed; delete the webhook and create another", quote(hook.OwnedBy))
		}
		if err := events.Webhooks.Put(ctx, tx, hook); err != nil {
			return nil, fmt.Errorf("api: update webhook: %w", err)
		}
		if err := s.audit(ctx, tx, tok, org.ID, "update", auditWebhook, hook.ID, before, hook.Redacted()); err != nil {
			return nil, err
		}
		return renderWebhook(hook), nil
	})
}

// deleteWebhook is DELETE /v1/webhooks/{webhookId}.
func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, v, err := s.eventScope(r, tok)
	if err != nil {
		return err
	}
	return s.updateNoContent(w, r, func(ctx context.Context, tx directory.Tx) error {
		hook, err := s.loadWebhook(ctx, tx, r, tok, org, v)
		if err != nil {
			return err
		}
		if err := v.mayChangeWebhook(tok, hook); err != nil {
			return err
		}
		if err := events.Webhooks.Delete(ctx, tx, org.ID, hook.ID); err != nil {
			return fmt.Errorf("api: delete webhook: %w", err)
		}
		return s.audit(ctx, tx, tok, org.ID, "delete", auditWebhook, hook.ID, hook.Redacted(), nil)
	})
}
