package siprecclient

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/callrec/callrec/siprec"
)

// Announcement kinds for Session.Announce (R22): which prompt played.
const (
	AnnounceCompliance = "compliance"
	AnnounceStart      = "start"
	AnnounceStop       = "stop"
	AnnouncePause      = "pause"
	AnnounceResume     = "resume"
)

// labels are the a=label values (RFC 4574) of stream 0 and stream 1: the
// recorder also falls back to "the lowest label is the recorded party"
// (interfaces.md) when it cannot read the metadata.
var labels = [2]string{"1", "2"}

// announcement is one played prompt, kept for the metadata.
type announcement struct {
	kind, lang string
	at         time.Time
}

// model is the RFC 7865 metadata state of one recording session: ids are
// fixed for its life so partial updates refer to the same objects
// (RFC 7865 §5).
type model struct {
	call          CallInfo
	session       string
	streams       [2]string
	participants  [2]string      // current sender of each stream
	people        [2]Participant // current participant of each stream
	announcements []announcement
	holds         []holdChange // hold.go
}

// randomBytes returns n random bytes; crypto/rand.Read never fails.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// newID is the RFC 7865 example form of an id: base64 of 128 random bits.
func newID() string { return base64.StdEncoding.EncodeToString(randomBytes(16)) }

func newModel(call CallInfo) *model {
	if call.SessionID == "" {
		call.SessionID = hex.EncodeToString(randomBytes(16))
	}
	if call.RemoteSessionID == "" {
		call.RemoteSessionID = strings.Repeat("0", 32) // RFC 7989 §7: the null UUID until the peer's is known
	}
	if call.Start.IsZero() {
		call.Start = time.Now()
	}
	return &model{
		call:         call,
		session:      newID(),
		streams:      [2]string{newID(), newID()},
		participants: [2]string{newID(), newID()},
		people:       [2]Participant{call.Recorded, call.Other},
	}
}

// esc escapes XML character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

const header = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
	`<recording xmlns="` + siprec.NSRecording + `">` + "\n"

// sessionExtensions writes callrec's extension data of the session: the
// call's direction and Call-ID, and every announcement played so far
// (R22). Partial updates repeat all of them, because an SRS merging a
// partial update replaces the extensions of the session it names.
func (m *model) sessionExtensions(b *strings.Builder) {
	fmt.Fprintf(b, "    <callrec:call xmlns:callrec=\"%s\" direction=\"%s\" callId=\"%s\"/>\n",
		siprec.CallrecNamespace, esc(m.call.Direction), esc(m.call.CallID))
	for _, a := range m.announcements {
		fmt.Fprintf(b, "    <callrec:announcement xmlns:callrec=\"%s\" kind=\"%s\" lang=\"%s\" at=\"%s\"/>\n",
			siprec.CallrecNamespace, esc(a.kind), esc(a.lang), stamp(a.at))
	}
	m.holdExtensions(b)
}

// participant writes one <participant> (RFC 7865 §6.4) with callrec's
// <recorded userId> mark when it is a recorded user.
func participant(b *strings.Builder, id string, p Participant) {
	fmt.Fprintf(b, "  <participant participant_id=\"%s\">\n", esc(id))
	if p.AOR != "" || p.Name != "" {
		fmt.Fprintf(b, "    <nameID aor=\"%s\">", esc(p.AOR))
		if p.Name != "" {
			fmt.Fprintf(b, "<name>%s</name>", esc(p.Name))
		}
		b.WriteString("</nameID>\n")
	}
	if p.UserID != "" {
		fmt.Fprintf(b, "    <callrec:recorded xmlns:callrec=\"%s\" userId=\"%s\"/>\n", siprec.CallrecNamespace, esc(p.UserID))
	}
	b.WriteString("  </participant>\n")
}

// streamAssoc writes the participantstreamassoc of the sender of stream
// k (RFC 7865 §6.8): it sends k and receives the other stream.
func (m *model) streamAssoc(b *strings.Builder, k int) {
	fmt.Fprintf(b, "  <participantstreamassoc participant_id=\"%s\"><send>%s</send><recv>%s</recv></participantstreamassoc>\n",
		esc(m.participants[k]), esc(m.streams[k]), esc(m.streams[1-k]))
}

// complete is the full snapshot (RFC 7865 §6.1 datamode complete) sent
// with the INVITE and on an SRS's snapshot request.
func (m *model) complete(now time.Time) []byte {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("  <datamode>complete</datamode>\n")
	fmt.Fprintf(&b, "  <session session_id=\"%s\">\n", esc(m.session))
	fmt.Fprintf(&b, "    <sipSessionID>%s;remote=%s</sipSessionID>\n", esc(m.call.SessionID), esc(m.call.RemoteSessionID))
	fmt.Fprintf(&b, "    <start-time>%s</start-time>\n", stamp(m.call.Start))
	m.sessionExtensions(&b)
	b.WriteString("  </session>\n")
	for k := range 2 {
		participant(&b, m.participants[k], m.people[k])
	}
	for k := range 2 {
		fmt.Fprintf(&b, "  <stream stream_id=\"%s\" session_id=\"%s\"><label>%s</label></stream>\n", esc(m.streams[k]), esc(m.session), labels[k])
	}
	fmt.Fprintf(&b, "  <sessionrecordingassoc session_id=\"%s\"><associate-time>%s</associate-time></sessionrecordingassoc>\n", esc(m.session), stamp(now))
	for k := range 2 {
		fmt.Fprintf(&b, "  <participantsessionassoc participant_id=\"%s\" session_id=\"%s\"><associate-time>%s</associate-time></participantsessionassoc>\n",
			esc(m.participants[k]), esc(m.session), stamp(m.call.Start))
	}
	for k := range 2 {
		m.streamAssoc(&b, k)
	}
	b.WriteString("</recording>\n")
	return []byte(b.String())
}

// announced records an announcement and returns the partial update
// (RFC 7865 §6.1 datamode partial) that tells the SRS (R22, R37).
func (m *model) announced(kind, lang string, at time.Time) []byte {
	m.announcements = append(m.announcements, announcement{kind: kind, lang: lang, at: at})
	return m.sessionUpdate()
}

// sessionUpdate is the partial update (RFC 7865 §6.1) of the session's
// extensions alone: announcements and hold changes so far.
func (m *model) sessionUpdate() []byte {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("  <datamode>partial</datamode>\n")
	fmt.Fprintf(&b, "  <session session_id=\"%s\">\n", esc(m.session))
	m.sessionExtensions(&b)
	b.WriteString("  </session>\n")
	b.WriteString("</recording>\n")
	return []byte(b.String())
}

// replaced makes p the sender of stream k and returns the partial update
// of RFC 7866 §6.3 / RFC 8068 §5 (transfer): the old participant leaves
// the session and stops sending, the new one joins and sends stream k.
func (m *model) replaced(k int, p Participant, now time.Time) []byte {
	old := m.participants[k]
	m.participants[k], m.people[k] = newID(), p
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("  <datamode>partial</datamode>\n")
	participant(&b, m.participants[k], p)
	fmt.Fprintf(&b, "  <participantsessionassoc participant_id=\"%s\" session_id=\"%s\"><disassociate-time>%s</disassociate-time></participantsessionassoc>\n",
		esc(old), esc(m.session), stamp(now))
	fmt.Fprintf(&b, "  <participantsessionassoc participant_id=\"%s\" session_id=\"%s\"><associate-time>%s</associate-time></participantsessionassoc>\n",
		esc(m.participants[k]), esc(m.session), stamp(now))
	fmt.Fprintf(&b, "  <participantstreamassoc participant_id=\"%s\"></participantstreamassoc>\n", esc(old))
	m.streamAssoc(&b, k)
	b.WriteString("</recording>\n")
	return []byte(b.String())
}
