package api

import (
	"net/http"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/events"
)

// EventHub is what the webhook and event-stream routes need from the
// recording state event hub (*events.Hub implements it): a subscription
// to an org's events and the heartbeat period of idle streams.
type EventHub interface {
	// Subscribe returns the org's events in publish order and the
	// function that ends the subscription (closing the channel).
	Subscribe(orgID string) (<-chan events.Event, func())
	// Heartbeat is how often an idle stream sends a comment line.
	Heartbeat() time.Duration
}

// webhookRoutes registers the Webex-style webhook subscriptions
// (resource telephony_calls) and the server-sent event stream of
// recording state events (R34, issue 5 point 6). hub may be nil: the
// webhook routes work (the hub reads the stored webhooks itself) and the
// stream answers 503.
func (s *server) webhookRoutes(hub EventHub) {
	const tag = "Webhooks"
	const access = "org admins (partner, full, read-only and location admins): the org's calls; users: their own calls"
	s.register(op{Method: "GET", Path: "/v1/webhooks", Summary: "List webhooks: an admin sees the org's, a user its own", Tag: tag,
		Access: access, Query: []param{qOrgID, qStart, qMax},
		Resp: struct {
			Items []webhookJSON `json:"items"`
		}{}, Handler: s.authed(s.listWebhooks)})
	s.register(op{Method: "POST", Path: "/v1/webhooks", Summary: "Create a webhook on resource telephony_calls: recording state events (started, paused, resumed, stopped, failed) are POSTed to targetUrl, signed with X-Spark-Signature (HMAC-SHA1 of the body) when a secret is set", Tag: tag,
		Access: access, Query: []param{qOrgID}, Body: newWebhookBody{}, Resp: webhookJSON{}, Handler: s.authed(s.createWebhook)})
	s.register(op{Method: "GET", Path: "/v1/webhooks/{webhookId}", Summary: "Get a webhook", Tag: tag,
		Access: access, Query: []param{qOrgID}, Resp: webhookJSON{}, Handler: s.authed(s.getWebhook)})
	s.register(op{Method: "PUT", Path: "/v1/webhooks/{webhookId}", Summary: "Update a webhook (partial): name, targetUrl, secret, status (active reactivates a webhook marked inactive after failed deliveries)", Tag: tag,
		Access: "its creator; full and partner admins for any webhook of the org", Query: []param{qOrgID},
		Body: webhookUpdateBody{}, Resp: webhookJSON{}, Handler: s.authed(s.updateWebhook)})
	s.register(op{Method: "DELETE", Path: "/v1/webhooks/{webhookId}", Summary: "Delete a webhook", Tag: tag,
		Access: "its creator; full and partner admins for any webhook of the org", Query: []param{qOrgID},
		Handler: s.authed(s.deleteWebhook)})
	s.register(op{Method: "GET", Path: "/v1/telephony/calls/events", Summary: "A text/event-stream of recording state events: each event is `event: recording`, `id: <eventId>` and `data: <JSON of EventData>`; comment lines are heartbeats", Tag: tag,
		Access: access, Query: []param{qOrgID, {"personId", "string", "admins: only this person's calls"}},
		Status: http.StatusOK, Handler: s.authed(func(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
			return s.streamEvents(w, r, tok, hub)
		})})
}
