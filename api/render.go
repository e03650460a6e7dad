package api

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/callrec/callrec"
)

// Values callrec fills in where Webex has an enum and we have one answer.
const (
	serviceTypeCalling   = "calling"
	defaultFormat        = "WAV"
	defaultStorageRegion = "US"
	metadataVersion      = "1.2"
)

// preciseLayout renders callrec's own timestamps (pauses, DTMF) with
// milliseconds; Webex fields use time.RFC3339 as Webex does.
const preciseLayout = "2006-01-02T15:04:05.000Z07:00"

// recordingJSON is a Webex RecordingObject (§10.2) plus the callrec object.
type recordingJSON struct {
	ID              string          `json:"id"`
	Topic           string          `json:"topic"`
	CreateTime      string          `json:"createTime"`
	TimeRecorded    string          `json:"timeRecorded"`
	Format          string          `json:"format"`
	ServiceType     string          `json:"serviceType"`
	DurationSeconds int64           `json:"durationSeconds"`
	SizeBytes       int64           `json:"sizeBytes"`
	Status          string          `json:"status"`
	OwnerID         string          `json:"ownerId"`
	OwnerEmail      string          `json:"ownerEmail"`
	OwnerType       string          `json:"ownerType"`
	StorageRegion   string          `json:"storageRegion"`
	ServiceData     serviceDataJSON `json:"serviceData"`
	Links           *linksJSON      `json:"temporaryDirectDownloadLinks,omitempty"`
	Callrec         callrecJSON     `json:"callrec"`
}

type serviceDataJSON struct {
	CallSessionID string `json:"callSessionId,omitempty"`
}

// linksJSON is temporaryDirectDownloadLinks (§10.5); only the audio link exists.
type linksJSON struct {
	AudioDownloadLink string `json:"audioDownloadLink"`
	Expiration        string `json:"expiration"`
}

// callrecJSON is what Webex has no field for (interfaces.md, the callrec object).
type callrecJSON struct {
	OrgID          string                `json:"orgId"`                // Webex org id
	LocationID     string                `json:"locationId,omitempty"` // the owner's location (Webex id)
	ExpiresAt      *string               `json:"expiresAt"`            // when retention deletes it (R3, R9); null: kept without limit
	Hold           bool                  `json:"hold"`                 // legal hold (X3)
	Partial        bool                  `json:"partial"`
	EndReason      string                `json:"endReason"`
	DurationMS     int64                 `json:"durationMs"`
	StartTime      *string               `json:"startTime"` // the file's first sample, in ms
	StopTime       *string               `json:"stopTime"`
	PauseIntervals []intervalJSON        `json:"pauseIntervals"`
	Streams        []callrec.Stream      `json:"streams"`
	Channels       []callrec.Channel     `json:"channels"`
	Participants   []callrec.Participant `json:"participants"`
	SHA256         string                `json:"sha256"`
	DTMF           []dtmfJSON            `json:"dtmf"`
	SampleRate     int                   `json:"sampleRate"`
	ChannelCount   int                   `json:"channelCount"`
	SIPCallID      string                `json:"sipCallId"`
}

type intervalJSON struct {
	Start *string `json:"start"`
	End   *string `json:"end"` // null while the pause is open
}

type dtmfJSON struct {
	Digit       string `json:"digit"`
	Time        string `json:"time"`
	OffsetMS    int64  `json:"offsetMs"`
	DurationMS  int64  `json:"durationMs"`
	StreamLabel string `json:"streamLabel"`
}

// webexTime renders a Webex timestamp in loc (second precision, as Webex).
func webexTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.RFC3339)
}

// preciseTime renders a callrec timestamp in loc; nil for the zero time.
func preciseTime(t time.Time, loc *time.Location) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(loc).Format(preciseLayout)
	return &s
}

// ownerWireID is the owner id clients see: the Webex id of the person,
// virtual line, call queue or org (ids that are not UUIDs as they are).
func ownerWireID(rec *callrec.Recording) string {
	return webexID(ownerIDType(ownerType(rec)), rec.OwnerID)
}

// ownerType is the recording's owner type; unmatched recordings belong to the org.
func ownerType(rec *callrec.Recording) string {
	if rec.OwnerType == "" {
		return callrec.OwnerOrg
	}
	return rec.OwnerType
}

// callSessionID is Webex's callSessionId: the RFC 7989 Session-ID the SRC
// reported for the recorded call, else the RFC 7865 session id.
func callSessionID(m *callrec.Metadata) string {
	for _, ids := range [][]string{m.SIPSessionIDs, m.SessionIDs} {
		for _, id := range ids {
			if id != "" {
				return id
			}
		}
	}
	return ""
}

// renderRecording builds the list item / details JSON of rec.
func renderRecording(rec *callrec.Recording, loc *time.Location) recordingJSON {
	created := rec.Created
	if created.IsZero() {
		created = rec.Stop
	}
	format := rec.Format
	if format == "" {
		format = defaultFormat
	}
	return recordingJSON{
		ID:              rec.ID,
		Topic:           rec.Topic,
		CreateTime:      webexTime(created, loc),
		TimeRecorded:    webexTime(rec.Start, loc),
		Format:          format,
		ServiceType:     serviceTypeCalling,
		DurationSeconds: int64(math.Round(float64(rec.DurationMS) / 1000)),
		SizeBytes:       rec.SizeBytes,
		Status:          rec.Status,
		OwnerID:         ownerWireID(rec),
		OwnerEmail:      rec.OwnerEmail,
		OwnerType:       ownerType(rec),
		StorageRegion:   defaultStorageRegion,
		ServiceData:     serviceDataJSON{CallSessionID: callSessionID(&rec.Meta)},
		Callrec:         renderCallrec(rec, loc),
	}
}

func renderCallrec(rec *callrec.Recording, loc *time.Location) callrecJSON {
	m := &rec.Meta
	c := callrecJSON{
		OrgID:          webexID(idOrg, rec.OrgID),
		ExpiresAt:      preciseTime(rec.ExpiresAt, loc),
		Hold:           rec.Hold,
		Partial:        rec.Partial,
		EndReason:      string(rec.EndReason),
		DurationMS:     rec.DurationMS,
		StartTime:      preciseTime(rec.Start, loc),
		StopTime:       preciseTime(rec.Stop, loc),
		PauseIntervals: make([]intervalJSON, 0, len(m.PauseIntervals)),
		Streams:        make([]callrec.Stream, len(m.Streams)),
		Channels:       make([]callrec.Channel, len(m.Channels)),
		Participants:   make([]callrec.Participant, len(m.Participants)),
		SHA256:         rec.SHA256,
		DTMF:           make([]dtmfJSON, 0, len(m.DTMF)),
		SampleRate:     rec.SampleRate,
		ChannelCount:   rec.Channels,
		SIPCallID:      rec.SIPCallID,
	}
	if rec.LocationID != "" {
		c.LocationID = webexID(idLocation, rec.LocationID)
	}
	for _, iv := range m.PauseIntervals {
		c.PauseIntervals = append(c.PauseIntervals, intervalJSON{Start: preciseTime(iv.Start, loc), End: preciseTime(iv.End, loc)})
	}
	copy(c.Streams, m.Streams)
	copy(c.Participants, m.Participants)
	for i, ch := range m.Channels {
		if ch.StreamLabels == nil {
			ch.StreamLabels = []string{}
		}
		c.Channels[i] = ch
	}
	for _, d := range m.DTMF {
		t := ""
		if p := preciseTime(d.Time, loc); p != nil {
			t = *p
		}
		c.DTMF = append(c.DTMF, dtmfJSON{Digit: d.Digit, Time: t, OffsetMS: d.OffsetMS, DurationMS: d.DurationMS, StreamLabel: d.StreamLabel})
	}
	return c
}

// metadataJSON is the Webex recording metadata (§10.6) plus the callrec object.
type metadataJSON struct {
	ID            string              `json:"id"`
	OrgID         string              `json:"orgId"`
	OwnerID       string              `json:"ownerId"`
	OwnerType     string              `json:"ownerType"`
	OwnerName     string              `json:"ownerName"`
	OwnerEmail    string              `json:"ownerEmail"`
	StorageRegion string              `json:"storageRegion"`
	ServiceType   string              `json:"serviceType"`
	Version       string              `json:"version"`
	ServiceData   metaServiceDataJSON `json:"serviceData"`
	Callrec       metaCallrecJSON     `json:"callrec"`
}

type metaServiceDataJSON struct {
	CallRecordingID  string             `json:"callRecordingId"`
	CallSessionID    string             `json:"callSessionId,omitempty"`
	CallID           string             `json:"callId,omitempty"`
	SIPCallID        string             `json:"sipCallId"`
	Personality      string             `json:"personality,omitempty"`
	RecordingType    string             `json:"recordingType,omitempty"`
	CallingParty     *partyJSON         `json:"callingParty,omitempty"`
	CalledParty      *partyJSON         `json:"calledParty,omitempty"`
	Session          sessionJSON        `json:"session"`
	RecordingActions []actionJSON       `json:"recordingActions"`
	CallActivity     []callActivityJSON `json:"callActivity"`
}

type partyJSON struct {
	Number string `json:"number,omitempty"`
	Name   string `json:"name,omitempty"`
}

type sessionJSON struct {
	StartTime string `json:"startTime"`
	StopTime  string `json:"stopTime,omitempty"`
}

type actionJSON struct {
	Action string `json:"action"` // PAUSE or RESUME
	Time   string `json:"time"`
}

type callActivityJSON struct {
	TimeStamp    string              `json:"timeStamp"`
	MediaStreams []mediaStreamJSON   `json:"mediaStreams,omitempty"`
	Participants []activityPartyJSON `json:"participants,omitempty"`
}

type mediaStreamJSON struct {
	StreamID   string `json:"streamId"`
	Mode       string `json:"mode"`
	MLineIndex string `json:"mLineIndex"`
}

type activityPartyJSON struct {
	Actor actorJSON `json:"actor"`
	AOR   string    `json:"aor"`
	Send  string    `json:"send"`
}

// actorJSON names a participant: the owner (USER, PLACE...) when the
// participant is the recorded party of an owned recording, otherwise the
// SIPREC participant (type PARTICIPANT, RFC 7865 participant_id).
type actorJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// metaCallrecJSON is the recording's callrec object plus what only the
// metadata shows: the raw metadata bodies and the vendor fields.
type metaCallrecJSON struct {
	callrecJSON
	Vendor        callrec.VendorData `json:"vendor"`
	RawMetadata   []rawMetadataJSON  `json:"rawMetadata"`
	Events        []eventJSON        `json:"events"`
	Problems      []string           `json:"problems"`
	SessionIDs    []string           `json:"sessionIds"`
	SIPSessionIDs []string           `json:"sipSessionIds"`
	GroupID       string             `json:"groupId,omitempty"`
	SourceAddr    string             `json:"sourceAddr,omitempty"`
	UserAgent     string             `json:"userAgent,omitempty"`
	Extra         map[string]string  `json:"extra,omitempty"`
}

type rawMetadataJSON struct {
	Received    *string `json:"received"`
	ContentType string  `json:"contentType"`
	Body        string  `json:"body"`
}

type eventJSON struct {
	Time   *string `json:"time"`
	Kind   string  `json:"kind"`
	Detail string  `json:"detail,omitempty"`
}

// upperOwnerType renders an owner type the way the metadata does (USER,
// VIRTUAL_LINE, CALL_QUEUE, PLACE, ORG).
func upperOwnerType(t string) string {
	var b strings.Builder
	for i, r := range t {
		if r >= 'A' && r <= 'Z' && i > 0 {
			b.WriteByte('_')
		}
		b.WriteString(strings.ToUpper(string(r)))
	}
	return b.String()
}

// personality maps the vendor's call direction to Webex's personality.
func personality(direction string) string {
	switch strings.ToLower(direction) {
	case "originating", "originator":
		return "originator"
	case "terminating", "terminator":
		return "terminator"
	}
	return ""
}

// recordedParty returns the recorded participant, or nil.
func recordedParty(m *callrec.Metadata) *callrec.Participant {
	for i := range m.Participants {
		if m.Participants[i].Recorded {
			return &m.Participants[i]
		}
	}
	return nil
}

// parties picks the calling and called participants: by the vendor's
// direction when known (the recorded party originated or terminated the
// call), else in the order the SRC listed them.
func parties(m *callrec.Metadata) (calling, called *callrec.Participant) {
	rec := recordedParty(m)
	var other *callrec.Participant
	for i := range m.Participants {
		if p := &m.Participants[i]; p != rec {
			other = p
			break
		}
	}
	switch {
	case rec != nil && personality(m.Vendor.Direction) == "originator":
		return rec, other
	case rec != nil && personality(m.Vendor.Direction) == "terminator":
		return other, rec
	}
	if len(m.Participants) > 0 {
		calling = &m.Participants[0]
	}
	if len(m.Participants) > 1 {
		called = &m.Participants[1]
	}
	return calling, called
}

// party renders a calling/called party: the vendor's number when it has
// one, else the participant's AOR.
func party(p *callrec.Participant, number string) *partyJSON {
	out := partyJSON{Number: number}
	if p != nil {
		if out.Number == "" {
			out.Number = p.AOR
			if out.Number == "" && len(p.AORs) > 0 {
				out.Number = p.AORs[0]
			}
		}
		out.Name = p.Name
	}
	if out.Number == "" && out.Name == "" {
		return nil
	}
	return &out
}

// renderMetadata builds the metadata JSON of rec. With showAll false the
// media streams and participants of callActivity are hidden (§10.6).
func renderMetadata(rec *callrec.Recording, loc *time.Location, showAll bool) metadataJSON {
	m := &rec.Meta
	ot := ownerType(rec)
	ownerName := ""
	if p := recordedParty(m); p != nil && ot != callrec.OwnerOrg {
		ownerName = p.Name
	}
	calling, called := parties(m)
	sd := metaServiceDataJSON{
		CallRecordingID:  rec.ID,
		CallSessionID:    callSessionID(m),
		CallID:           m.Vendor.CallID,
		SIPCallID:        rec.SIPCallID,
		Personality:      personality(m.Vendor.Direction),
		RecordingType:    m.Vendor.RecordingType,
		CallingParty:     party(calling, m.Vendor.CallingNumber),
		CalledParty:      party(called, m.Vendor.CalledNumber),
		Session:          sessionJSON{StartTime: webexTime(rec.Start, loc), StopTime: webexTime(rec.Stop, loc)},
		RecordingActions: recordingActions(m.PauseIntervals, loc),
		CallActivity:     []callActivityJSON{callActivity(rec, loc, showAll)},
	}
	out := metadataJSON{
		ID:            rec.ID,
		OrgID:         webexID(idOrg, rec.OrgID),
		OwnerID:       ownerWireID(rec),
		OwnerType:     upperOwnerType(ot),
		OwnerName:     ownerName,
		OwnerEmail:    rec.OwnerEmail,
		StorageRegion: defaultStorageRegion,
		ServiceType:   serviceTypeCalling,
		Version:       metadataVersion,
		ServiceData:   sd,
		Callrec: metaCallrecJSON{
			callrecJSON:   renderCallrec(rec, loc),
			Vendor:        m.Vendor,
			RawMetadata:   make([]rawMetadataJSON, 0, len(m.RawMetadata)),
			Events:        make([]eventJSON, 0, len(m.Events)),
			Problems:      nonNil(m.Problems),
			SessionIDs:    nonNil(m.SessionIDs),
			SIPSessionIDs: nonNil(m.SIPSessionIDs),
			GroupID:       m.GroupID,
			SourceAddr:    m.SourceAddr,
			UserAgent:     m.UserAgent,
			Extra:         m.Extra,
		},
	}
	for _, raw := range m.RawMetadata {
		out.Callrec.RawMetadata = append(out.Callrec.RawMetadata, rawMetadataJSON{
			Received: preciseTime(raw.Received, loc), ContentType: raw.ContentType, Body: raw.Body,
		})
	}
	for _, ev := range m.Events {
		out.Callrec.Events = append(out.Callrec.Events, eventJSON{Time: preciseTime(ev.Time, loc), Kind: ev.Kind, Detail: ev.Detail})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// recordingActions turns pause intervals into PAUSE/RESUME actions in time order.
func recordingActions(ivs []callrec.Interval, loc *time.Location) []actionJSON {
	type act struct {
		t    time.Time
		name string
	}
	acts := make([]act, 0, 2*len(ivs))
	for _, iv := range ivs {
		if !iv.Start.IsZero() {
			acts = append(acts, act{iv.Start, "PAUSE"})
		}
		if !iv.End.IsZero() {
			acts = append(acts, act{iv.End, "RESUME"})
		}
	}
	sort.SliceStable(acts, func(i, j int) bool { return acts[i].t.Before(acts[j].t) })
	out := make([]actionJSON, 0, len(acts))
	for _, a := range acts {
		out = append(out, actionJSON{Action: a.name, Time: webexTime(a.t, loc)})
	}
	return out
}

// streamID is a stream's RFC 7865 stream_id, else its SDP label.
func streamID(st *callrec.Stream) string {
	if st.ID != "" {
		return st.ID
	}
	return st.Label
}

// callActivity is the one activity callrec knows: the session as finally
// described, stamped with the start of recording.
func callActivity(rec *callrec.Recording, loc *time.Location, showAll bool) callActivityJSON {
	out := callActivityJSON{TimeStamp: webexTime(rec.Start, loc)}
	if !showAll {
		return out
	}
	m := &rec.Meta
	out.MediaStreams = make([]mediaStreamJSON, 0, len(m.Streams))
	for i := range m.Streams {
		st := &m.Streams[i]
		mode := st.Mode
		if mode == "" {
			mode = "separate"
		}
		out.MediaStreams = append(out.MediaStreams, mediaStreamJSON{
			StreamID: streamID(st), Mode: mode, MLineIndex: strconv.Itoa(st.MLineIndex),
		})
	}
	out.Participants = make([]activityPartyJSON, 0, len(m.Participants))
	for i := range m.Participants {
		p := &m.Participants[i]
		actor := actorJSON{Type: "PARTICIPANT", ID: p.ID, Name: p.Name}
		if p.Recorded && rec.OwnerID != "" && ownerType(rec) != callrec.OwnerOrg {
			actor = actorJSON{Type: upperOwnerType(ownerType(rec)), ID: ownerWireID(rec), Name: p.Name}
		}
		aor := p.AOR
		if aor == "" && len(p.AORs) > 0 {
			aor = p.AORs[0]
		}
		send := ""
		if len(p.Sends) > 0 {
			send = p.Sends[0]
		} else {
			for j := range m.Streams {
				if m.Streams[j].ParticipantID != "" && m.Streams[j].ParticipantID == p.ID {
					send = streamID(&m.Streams[j])
					break
				}
			}
		}
		out.Participants = append(out.Participants, activityPartyJSON{Actor: actor, AOR: aor, Send: send})
	}
	return out
}
