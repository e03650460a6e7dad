package siprec

import (
	"fmt"
	"strings"
	"time"
)

// Metadata namespaces seen in SIPREC traffic (siprec-interop.md §4.1).
const (
	// NSRecording is the RFC 7865 namespace; Marshal writes it.
	NSRecording = "urn:ietf:params:xml:ns:recording:1"
	// NSRecordingDraft is the namespace of the drafts before RFC 7865,
	// still sent by Oracle/Acme, Avaya and Metaswitch.
	NSRecordingDraft = "urn:ietf:params:xml:ns:recording"
	// NSSiprecPreRFC is the pre-RFC namespace of BroadWorks and Webex
	// Calling, whose root element is recording_metadata.
	NSSiprecPreRFC = "urn:ietf:params:xml:ns:siprec"
)

// Data modes of a metadata document (RFC 7865 §6.1 datamode).
const (
	DataModeComplete = "complete"
	DataModePartial  = "partial"
)

// Metadata is an RFC 7865 recording metadata document, read from any of the
// three namespaces, any prefix and any element order.
type Metadata struct {
	Namespace    string // namespace of the root element as received
	DataMode     string // "complete" or "partial" ("" is treated as complete); from datamode or dataMode
	Groups       []Group
	Sessions     []Session
	Participants []Participant
	Streams      []Stream
	// Extensions holds foreign XML (vendor extension data) verbatim, with
	// the id of the element it belongs to.
	Extensions []Extension
}

// Group is a communication session group (RFC 7865 §6.2).
type Group struct {
	ID            string
	Initiator     string // pre-RFC model (BroadWorks): the recorded user's AOR
	AssociateTime string // raw
}

// Session is a communication session, the call being recorded (RFC 7865 §6.3).
type Session struct {
	ID, GroupID   string
	SIPSessionIDs []string  // RFC 7989 values of <sipSessionID>, ";remote=" included
	StartTime     string    // raw as received
	StopTime      string    // raw as received
	Start, Stop   time.Time // parsed when possible (UTC when no zone given); zero otherwise
}

// Participant is a party of the communication session (RFC 7865 §6.4).
type Participant struct {
	ID    string
	AORs  []string
	Names []string
	// Send and Recv are stream ids, from participantstreamassoc (RFC 7865
	// §6.8) and from <send>/<recv> inside <participant> (Oracle/Acme,
	// BroadWorks, which wraps each id in <id>).
	Send, Recv []string
	SessionIDs []string
	// Disassociated is true when a participantsessionassoc carries a
	// disassociate-time: the participant left the session.
	Disassociated    bool
	DisassociateTime string // raw disassociate-time, when given
	// StreamInfo is true when the document said which streams this
	// participant sends and receives (a participantstreamassoc, or <send>/
	// <recv> in a model that puts them in <participant>). Merge uses it to
	// tell a hold (stream info without <send>) from an update that does not
	// touch the streams.
	StreamInfo bool
}

// Stream is one media stream of the recording session, tied to an SDP m-line
// by its label (RFC 7865 §6.5, RFC 4574).
type Stream struct {
	ID, SessionID string
	Label         string // the SDP a=label value
	Mode          string // "separate" or "mixed" when the SRC says (Oracle, BroadWorks)
}

// Extension is one foreign element kept verbatim. ParentID is the id of the
// group, session, participant or stream it was found in (or the parent=
// attribute of a top-level <extensiondata>); "" for document-level data.
type Extension struct {
	ParentID string
	XML      string
}

// ParseMetadata parses a recording metadata document (RFC 7865 §9; the
// draft namespace; the pre-RFC recording_metadata model). It is liberal: it
// returns an error only when the document is not well-formed XML
// (ErrMalformedXML), is too large (ErrTooLarge) or its root element is not
// recording or recording_metadata (ErrUnknownRoot). Unknown elements are
// kept as extensions, references to unknown objects create them, and odd
// values are kept raw.
func ParseMetadata(data []byte) (*Metadata, error) {
	if len(data) > MaxBodySize {
		return nil, fmt.Errorf("siprec: metadata of %d bytes: %w", len(data), ErrTooLarge)
	}
	root, doc, err := parseXML(data)
	if err != nil {
		return nil, fmt.Errorf("siprec: metadata: %w", err)
	}
	if !isRootName(root.name.Local) {
		return nil, fmt.Errorf("siprec: metadata root <%s>: %w", root.name.Local, ErrUnknownRoot)
	}
	b := &mdBuilder{
		m:    &Metadata{Namespace: root.name.Space},
		doc:  doc,
		root: root,
	}
	hasAssoc := false
	for _, c := range root.children {
		if c.is("participantstreamassoc") {
			hasAssoc = true
		}
	}
	b.inParticipantModel = !hasAssoc && root.name.Space != NSRecording
	for _, c := range root.children {
		b.top(c)
	}
	return b.m, nil
}

// mdBuilder turns an element tree into Metadata.
type mdBuilder struct {
	m    *Metadata
	doc  []byte
	root *node
	// inParticipantModel: the dialect puts <send>/<recv> inside
	// <participant> (draft and pre-RFC namespaces), so a <participant>
	// element is itself a statement about the participant's streams.
	inParticipantModel bool
}

// isModel reports whether an element belongs to the recording model rather
// than to a vendor extension: it is in the root's namespace, one of the
// recording namespaces, or no namespace.
func (b *mdBuilder) isModel(n *node) bool {
	switch n.name.Space {
	case "", b.root.name.Space, NSRecording, NSRecordingDraft, NSSiprecPreRFC:
		return true
	}
	return false
}

func (b *mdBuilder) ext(parent string, n *node) {
	b.m.Extensions = append(b.m.Extensions, Extension{ParentID: parent, XML: rawXML(n, b.doc)})
}

func (b *mdBuilder) top(n *node) {
	if !b.isModel(n) {
		b.ext("", n)
		return
	}
	switch {
	case n.is("datamode"):
		b.m.DataMode = strings.ToLower(n.value())
	case n.is("group"):
		b.group(n)
	case n.is("session"):
		b.session(n)
	case n.is("participant"):
		b.participant(n)
	case n.is("stream"):
		b.stream(n)
	case n.is("participantsessionassoc"):
		p := b.participantByID(n.attr("participant_id", "participant"))
		if sid := n.attr("session_id", "session"); sid != "" {
			p.SessionIDs = appendUnique(p.SessionIDs, sid)
		}
		if d := n.child("disassociate-time"); d != nil {
			p.Disassociated = true
			p.DisassociateTime = d.value()
		}
	case n.is("participantstreamassoc"):
		p := b.participantByID(n.attr("participant_id", "participant"))
		p.StreamInfo = true
		b.streamRefs(p, n)
	case n.is("sessiongroupassoc"):
		if sid := n.attr("session_id", "session"); sid != "" {
			s := b.sessionByID(sid)
			if g := n.attr("group_id", "group"); g != "" {
				s.GroupID = g
			}
		}
	case n.is("sessionrecordingassoc", "recording"):
		// The session-to-recording tie (RFC 7865 §6.6) and the pre-RFC
		// <recording> description carry nothing the SRS uses.
	case n.is("extensiondata"):
		b.ext(n.attr("parent"), n)
	default:
		b.ext("", n)
	}
}

func (b *mdBuilder) group(n *node) {
	id := n.attr("group_id", "id")
	g := b.groupByID(id)
	for _, c := range n.children {
		switch {
		case !b.isModel(c):
			b.ext(id, c)
		case c.is("initiator"):
			g.Initiator = c.value()
		case c.is("associate-time"):
			g.AssociateTime = c.value()
		case c.is("disassociate-time"):
		default:
			b.ext(id, c)
		}
	}
}

func (b *mdBuilder) session(n *node) {
	id := n.attr("session_id", "id")
	s := b.sessionByID(id)
	if g := n.attr("group_id", "group"); g != "" {
		s.GroupID = g
	}
	var associate string
	for _, c := range n.children {
		switch {
		case !b.isModel(c):
			b.ext(id, c)
		case c.is("sipSessionID"):
			if v := c.value(); v != "" {
				s.SIPSessionIDs = appendUnique(s.SIPSessionIDs, v)
			}
		case c.is("group-ref"):
			s.GroupID = c.value()
		case c.is("start-time"):
			s.StartTime = c.value()
		case c.is("stop-time"):
			s.StopTime = c.value()
		case c.is("associate-time"):
			associate = c.value()
		case c.is("disassociate-time", "reason"):
		default:
			b.ext(id, c)
		}
	}
	if s.StartTime == "" && associate != "" {
		// Oracle/Acme give the session only an associate-time.
		s.StartTime = associate
	}
	s.Start = parseTime(s.StartTime)
	s.Stop = parseTime(s.StopTime)
}

func (b *mdBuilder) participant(n *node) {
	id := n.attr("participant_id", "id")
	p := b.participantByID(id)
	if sid := n.attr("session_id", "session"); sid != "" {
		p.SessionIDs = appendUnique(p.SessionIDs, sid)
	}
	if b.inParticipantModel {
		p.StreamInfo = true
	}
	for _, c := range n.children {
		switch {
		case !b.isModel(c):
			b.ext(id, c)
		case c.is("nameID"):
			if aor := c.attr("aor"); aor != "" {
				p.AORs = appendUnique(p.AORs, aor)
			}
			for _, nm := range c.children {
				if nm.is("name") && nm.value() != "" {
					p.Names = append(p.Names, nm.value())
				}
			}
		case c.is("aor"):
			if v := c.value(); v != "" {
				p.AORs = appendUnique(p.AORs, v)
			}
		case c.is("name"):
			if v := c.value(); v != "" {
				p.Names = append(p.Names, v)
			}
		case c.is("send", "recv"):
			p.StreamInfo = true
			b.streamRef(p, c)
		case c.is("associate-time", "disassociate-time"):
		default:
			b.ext(id, c)
		}
	}
}

// streamRefs reads the <send>/<recv> children of an association element.
func (b *mdBuilder) streamRefs(p *Participant, n *node) {
	for _, c := range n.children {
		if c.is("send", "recv") {
			b.streamRef(p, c)
		}
	}
}

// streamRef reads one <send> or <recv>: a stream id as text, or one or more
// <id> children (BroadWorks).
func (b *mdBuilder) streamRef(p *Participant, c *node) {
	ids := []string{}
	if v := c.value(); v != "" {
		ids = append(ids, v)
	}
	for _, idn := range c.children {
		if idn.is("id") && idn.value() != "" {
			ids = append(ids, idn.value())
		}
	}
	for _, id := range ids {
		if c.is("send") {
			p.Send = appendUnique(p.Send, id)
		} else {
			p.Recv = appendUnique(p.Recv, id)
		}
	}
}

func (b *mdBuilder) stream(n *node) {
	id := n.attr("stream_id", "id")
	s := b.streamByID(id)
	if sid := n.attr("session_id", "session"); sid != "" {
		s.SessionID = sid
	}
	for _, c := range n.children {
		switch {
		case !b.isModel(c):
			b.ext(id, c)
		case c.is("label"):
			s.Label = c.value()
		case c.is("mode"):
			s.Mode = strings.ToLower(c.value())
		case c.is("associate-time", "disassociate-time", "content-type"):
		default:
			b.ext(id, c)
		}
	}
}

// The xxxByID helpers return the object with that id, creating it (in order
// of first mention) when the document refers to one it did not describe.

func (b *mdBuilder) groupByID(id string) *Group {
	return findOrAdd(&b.m.Groups, id, groupID, func(id string) Group { return Group{ID: id} })
}

func (b *mdBuilder) sessionByID(id string) *Session {
	return findOrAdd(&b.m.Sessions, id, sessionID, func(id string) Session { return Session{ID: id} })
}

func (b *mdBuilder) participantByID(id string) *Participant {
	return findOrAdd(&b.m.Participants, id, participantID, func(id string) Participant { return Participant{ID: id} })
}

func (b *mdBuilder) streamByID(id string) *Stream {
	return findOrAdd(&b.m.Streams, id, streamID, func(id string) Stream { return Stream{ID: id} })
}

func groupID(g *Group) string             { return g.ID }
func sessionID(s *Session) string         { return s.ID }
func participantID(p *Participant) string { return p.ID }
func streamID(s *Stream) string           { return s.ID }
func streamLabel(s *Stream) string        { return s.Label }

// find returns the element of list whose key is k, or nil; the pointer
// refers into list.
func find[T any](list []T, k string, key func(*T) string) *T {
	for i := range list {
		if key(&list[i]) == k {
			return &list[i]
		}
	}
	return nil
}

// findOrAdd is find, appending mk(k) to the list when k is absent.
func findOrAdd[T any](list *[]T, k string, key func(*T) string, mk func(string) T) *T {
	if e := find(*list, k, key); e != nil {
		return e
	}
	*list = append(*list, mk(k))
	return &(*list)[len(*list)-1]
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// timeLayouts are the xs:dateTime spellings seen in SIPREC metadata: with
// "Z" or a numeric offset, without a zone (Oracle/Acme), with fractional
// seconds, and a few sloppy variants.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
}

// parseTime parses an xs:dateTime leniently. A time without a zone is taken
// as UTC. The result is in UTC; zero when the value cannot be parsed.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// IsPartial reports whether the document is a partial update (RFC 7865
// §6.1): anything but an explicit "partial" is a complete snapshot.
func (m *Metadata) IsPartial() bool {
	return strings.EqualFold(strings.TrimSpace(m.DataMode), DataModePartial)
}

// StreamByLabel returns the stream whose label is label, or nil. Labels are
// opaque tokens compared exactly (RFC 4574); the pointer refers into
// m.Streams.
func (m *Metadata) StreamByLabel(label string) *Stream {
	return find(m.Streams, label, streamLabel)
}

// SenderOf returns the first participant that sends streamID, or nil. The
// pointer refers into m.Participants.
func (m *Metadata) SenderOf(streamID string) *Participant {
	if streamID == "" {
		return nil
	}
	for i := range m.Participants {
		for _, s := range m.Participants[i].Send {
			if s == streamID {
				return &m.Participants[i]
			}
		}
	}
	return nil
}

// Participant returns the participant with the given id, or nil.
func (m *Metadata) Participant(id string) *Participant {
	return find(m.Participants, id, participantID)
}
