package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// audit records a change (X4, issue 4 point 8) in the same transaction
// as the change itself: who, when, which object, before and after (nil
// when created or deleted).
func (s *server) audit(ctx context.Context, tx directory.Tx, tok *callrec.Token, orgID, action, objType, objID string, before, after any) error {
	e := &callrec.AuditEntry{
		OrgID:      orgID,
		Time:       s.now().UTC(),
		Actor:      actor(tok),
		ActorRole:  tok.Role,
		Action:     action,
		ObjectType: objType,
		ObjectID:   objID,
		TrackingID: info(ctx).trackingID,
	}
	var err error
	if e.Before, err = marshalAudit(before); err != nil {
		return err
	}
	if e.After, err = marshalAudit(after); err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("api: audit %s %s %s: %w", action, objType, objID, err)
	}
	return nil
}

func marshalAudit(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("api: audit: %w", err)
	}
	if string(b) == "null" {
		return nil, nil
	}
	return b, nil
}

// auditJSON is one audit event as the API renders it.
type auditJSON struct {
	ID         string          `json:"id"`
	OrgID      string          `json:"orgId,omitempty"`
	Time       string          `json:"time"`
	Actor      string          `json:"actorEmail"`
	ActorRole  string          `json:"actorRole"`
	Action     string          `json:"action"`
	ObjectType string          `json:"objectType"`
	ObjectID   string          `json:"objectId"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	TrackingID string          `json:"trackingId,omitempty"`
}

// auditRoutes registers the audit log.
func (s *server) auditRoutes() {
	s.register(op{Method: "GET", Path: "/v1/auditEvents", Summary: "List audit events: every change and every listen, download and deletion, newest first", Tag: "Audit",
		Access: "partner admins, org full and read-only admins, compliance officers",
		Query: []param{qOrgID, qStart, qMax,
			{"objectType", "string", "only events about this kind of object (person, orgCallRecording, recording, ...); partner admins read provider changes, which belong to no org, with objectType=provider"},
			{"objectId", "string", "only events about this object"},
			{"actorEmail", "string", "only events by this actor"},
			{"from", "string", "ISO 8601 start (inclusive)"},
			{"to", "string", "ISO 8601 end (exclusive)"}},
		Resp: struct {
			Items []auditJSON `json:"items"`
		}{}, Handler: s.authed(s.listAudit)})
}

// listAudit is GET /v1/auditEvents.
func (s *server) listAudit(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, err := s.actingOrg(r, tok)
	if err != nil {
		return err
	}
	if tok.Role != callrec.RoleComplianceOfficer {
		if err := require(tok, org, permRead, ""); err != nil {
			return err
		}
		if tok.Role == callrec.RoleLocationAdmin {
			return forbidden("A location administrator may not read the audit log")
		}
	}
	start, max, err := pageParams(r, 100, 1000)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	aq := directory.AuditQuery{OrgID: org.ID, ObjectType: q.Get("objectType"), ObjectID: internalID(q.Get("objectId")), Actor: q.Get("actorEmail"), Start: start, Max: max + 1}
	for name, dst := range map[string]*time.Time{"from": &aq.From, "to": &aq.To} {
		if v := q.Get(name); v != "" {
			t, ok := parseISOTime(v, time.UTC)
			if !ok {
				return badRequestf("%s: %s is not an ISO 8601 date-time", name, quote(v))
			}
			*dst = t
		}
	}
	// Providers belong to no org (R5): their changes are audited without
	// one and are shown to partner admins, who may change them.
	if aq.ObjectType == auditProvider && isPartner(tok) {
		aq.OrgID = ""
	}
	var entries []callrec.AuditEntry
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		entries, err = tx.ListAudit(r.Context(), aq)
		return err
	}); err != nil {
		return fmt.Errorf("api: list audit: %w", err)
	}
	items := make([]auditJSON, 0, len(entries))
	for _, e := range entries {
		items = append(items, auditJSON{ID: e.ID, OrgID: webexID(idOrg, e.OrgID), Time: e.Time.UTC().Format(time.RFC3339Nano),
			Actor: e.Actor, ActorRole: e.ActorRole, Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID,
			Before: e.Before, After: e.After, TrackingID: e.TrackingID})
	}
	// The store was asked for one more than a page: it says whether more remain.
	more := len(items) > max
	if more {
		items = items[:max]
	}
	s.setPageLinks(w, r, start, max, more)
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

// auditProvider is the object type of provider changes (no org).
const auditProvider = "provider"
