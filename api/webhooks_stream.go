package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/events"
)

// streamEvents is GET /v1/telephony/calls/events: a server-sent event
// stream (HTML Living Standard §9.2, text/event-stream) of the recording
// state events the caller may see: an admin the org's (or one person's
// with personId), a user its own. Each event is
//
//	id: <eventId>
//	event: recording
//	data: <events.Data as JSON>
//
// A comment line opens the stream (": connected", sent once the
// subscription is in place) and repeats as a heartbeat while it is idle.
// Last-Event-ID is not supported: a reconnecting client gets new events
// only. The stream ends when the client goes away or the hub closes it.
func (s *server) streamEvents(w http.ResponseWriter, r *http.Request, tok *callrec.Token, hub EventHub) error {
	org, v, err := s.eventScope(r, tok)
	if err != nil {
		return err
	}
	person := ""
	if !v.admin {
		person = v.personID
	} else if raw := r.URL.Query().Get("personId"); raw != "" {
		id, ok := parseID(idPerson, raw)
		if !ok {
			return notFoundThing("Person", raw)
		}
		if err := s.store.View(r.Context(), func(tx directory.Tx) error {
			_, err := directory.People.Get(r.Context(), tx, org.ID, id)
			return err
		}); isNotFound(err) {
			return notFoundThing("Person", raw)
		} else if err != nil {
			return fmt.Errorf("api: event stream person: %w", err)
		}
		person = id
	}
	if hub == nil {
		return &apiError{kind: callrec.ErrUnavailable, msgs: []string{"The call event stream is not available on this server"}}
	}
	ch, cancel := hub.Subscribe(org.ID)
	defer cancel()

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout; not every writer supports it
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // proxies must not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(": connected\n\n")); err != nil {
		return nil // the client went away; the status is sent
	}
	if err := rc.Flush(); err != nil {
		s.log.Warn("api: event stream cannot flush", "err", err, "trackingId", info(r.Context()).trackingID)
		return nil
	}
	beat := time.NewTicker(hub.Heartbeat())
	defer beat.Stop()
	var buf bytes.Buffer
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-beat.C:
			if _, err := w.Write([]byte(": heartbeat\n\n")); err != nil {
				return nil
			}
		case e, ok := <-ch:
			if !ok {
				return nil // the hub closed the stream (shutdown)
			}
			if person != "" && e.PersonID != person {
				continue
			}
			buf.Reset()
			writeSSE(&buf, &e)
			if _, err := w.Write(buf.Bytes()); err != nil {
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// writeSSE renders one event as a server-sent event. The JSON has no
// newline, so it fits one data line; an id with a line break (a
// publisher's mistake) is left out rather than break the framing.
func writeSSE(buf *bytes.Buffer, e *events.Event) {
	data, _ := json.Marshal(e.Data()) // events.Data is strings only: it always marshals
	id := e.ID
	if bytes.ContainsAny([]byte(id), "\r\n\x00") {
		id = "" // an id with a line break would break the framing
	}
	if id != "" {
		buf.WriteString("id: " + id + "\n")
	}
	buf.WriteString("event: " + events.EventTypeRecording + "\n")
	buf.WriteString("data: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}
