// Package events publishes recording state changes (R34: started, paused,
// resumed, stopped, failed) to the apps that show a recording indicator:
// server-sent event streams of the REST API (through [Hub.Subscribe]) and
// Webex-style webhooks (resource telephony_calls) that the [Hub] delivers
// with an X-Spark-Signature, retries and a timeout per delivery.
//
// The call plane calls [Hub.Publish] once per state change. Publish never
// blocks and never does I/O: it hands the event to bounded queues and
// counts what it has to drop, so a slow stream or a dead webhook receiver
// can never hold up a call. Webhook subscriptions are directory documents
// of kind [Webhooks]; the REST handlers in api/ create and change them,
// the Hub only reads them and marks a failing one inactive.
//
// The package must never block a publisher, never deliver to anything but
// an http or https URL, never follow a redirect, and never hold a
// business rule about who may see which event: the caller of Subscribe
// (api/) filters a stream for its token, and a webhook's scope (its org,
// its person) is fixed by api/ when it is created.
package events

import (
	"time"

	"github.com/callrec/callrec/webexid"
)

// Recording states an [Event] carries (R34). They are also the values of
// recordingState in the delivered JSON.
const (
	StateStarted = "started"
	StatePaused  = "paused"
	StateResumed = "resumed"
	StateStopped = "stopped"
	StateFailed  = "failed"
)

// States lists every recording state, in the order a recording may pass them.
var States = []string{StateStarted, StatePaused, StateResumed, StateStopped, StateFailed}

// Event is one recording state change of one call (R34).
type Event struct {
	// ID identifies the event; Publish sets a random UUID when empty.
	ID string
	// OrgID is the org of the call (internal id); events of no org are dropped.
	OrgID string
	// CallID is the call's id as the call plane knows it (the B2BUA's
	// call id, shown to apps as callId).
	CallID string
	// PersonID is the recorded person (internal id); "" when the recorded
	// party is no person (a virtual line, a feature).
	PersonID string
	// State is one of the State* constants.
	State string
	// Time is when the state changed; Publish sets the hub's clock when zero.
	Time time.Time
	// RecordingSessionID is the SIPREC recording session (RFC 7865 §6.1
	// session id) the state belongs to, when one exists.
	RecordingSessionID string
	// Reason says why, for failed and stopped events (e.g. "srs-unreachable",
	// "user", "hangup"); free text for display and logs.
	Reason string
}

// Data is an event as apps receive it: the data object of a webhook
// delivery and the data line of a server-sent event. Its shape follows
// Webex's telephony_calls call events (eventType, eventTimestamp, callId,
// personId, recordingState); ids are Webex ids.
type Data struct {
	// EventID is the event's id (the SSE id line repeats it).
	EventID string `json:"eventId"`
	// EventType is always "recording": the event is about the recording state.
	EventType string `json:"eventType"`
	// EventTimestamp is when the state changed, RFC 3339 UTC with milliseconds.
	EventTimestamp string `json:"eventTimestamp"`
	// OrgID is the Webex id of the call's org.
	OrgID string `json:"orgId"`
	// CallID is the call plane's call id.
	CallID string `json:"callId"`
	// PersonID is the Webex id of the recorded person, when one is.
	PersonID string `json:"personId,omitempty"`
	// RecordingState is started, paused, resumed, stopped or failed.
	RecordingState string `json:"recordingState"`
	// RecordingSessionID is the SIPREC recording session, when one exists.
	RecordingSessionID string `json:"recordingSessionId,omitempty"`
	// Reason says why a recording stopped or failed.
	Reason string `json:"reason,omitempty"`
}

// EventTypeRecording is the eventType of every recording state event.
const EventTypeRecording = "recording"

// Data renders the event for apps.
func (e Event) Data() Data {
	return Data{
		EventID:            e.ID,
		EventType:          EventTypeRecording,
		EventTimestamp:     FormatTime(e.Time),
		OrgID:              WebexID(IDTypeOrg, e.OrgID),
		CallID:             e.CallID,
		PersonID:           WebexID(IDTypePerson, e.PersonID),
		RecordingState:     e.State,
		RecordingSessionID: e.RecordingSessionID,
		Reason:             e.Reason,
	}
}

// ValidState says whether s is one of the recording states.
func ValidState(s string) bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// FormatTime renders t as the API does: RFC 3339 in UTC with milliseconds
// (2024-05-08T14:12:28.371Z).
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// Webex id types used in deliveries (the same as api/ids.go hands out).
const (
	IDTypeOrg     = "ORGANIZATION"
	IDTypePerson  = "PEOPLE"
	IDTypeWebhook = "WEBHOOK"
)

// WebexID renders an internal id (a UUID) as a Webex id (package webexid).
func WebexID(typ, id string) string { return webexid.Encode(typ, id) }
