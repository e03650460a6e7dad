// Package callrec holds the domain types that every plane of callrec shares:
// recordings and their metadata, the built-in org, and the error kinds the
// API maps to HTTP status codes. It must never import a package that does
// I/O; packages that talk to sockets, disks or databases depend on it.
package callrec

import (
	"errors"
	"time"
)

// Error kinds. Packages wrap these with context (fmt.Errorf("...: %w",
// callrec.ErrNotFound)); the API maps each to one HTTP status in one place.
var (
	// ErrNotFound means the object does not exist or is not visible to the caller.
	ErrNotFound = errors.New("not found")
	// ErrInvalid means the input was malformed or out of range.
	ErrInvalid = errors.New("invalid")
	// ErrConflict means the request conflicts with the current state.
	ErrConflict = errors.New("conflict")
	// ErrForbidden means the caller is known but not allowed to do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable means the service cannot take the request now (disk, ports, draining).
	ErrUnavailable = errors.New("unavailable")
)

// DefaultOrgName is the name of the org that owns recordings until orgs are
// created through the API (interfaces.md, "First org").
const DefaultOrgName = "default"

// Recording status values. The first three are Webex's converged-recording
// statuses; StatusRecording marks a recording whose call is still running
// (never listed through the API).
const (
	StatusRecording = "recording"
	StatusAvailable = "available"
	StatusDeleted   = "deleted"
	StatusPurged    = "purged"
)

// EndReason says why a recording ended (interfaces.md, the callrec object).
type EndReason string

// The end reasons of interfaces.md.
const (
	EndBye            EndReason = "bye"
	EndCancel         EndReason = "cancel"
	EndMediaTimeout   EndReason = "media-timeout"
	EndShutdown       EndReason = "shutdown"
	EndCrashRecovered EndReason = "crash-recovered"
	EndError          EndReason = "error"
)

// Owner types. The first four are Webex's; OwnerOrg is callrec's extension
// for recordings not matched to a person, line or feature.
const (
	OwnerUser        = "user"
	OwnerPlace       = "place"
	OwnerVirtualLine = "virtualLine"
	OwnerCallQueue   = "callQueue"
	OwnerOrg         = "org"
)

// Recording is one recording session's result: the stored file and all it
// is known about. Times are UTC.
type Recording struct {
	ID         string // UUID, also the blob key stem
	OrgID      string
	SIPCallID  string // Call-ID of the recording session (RS) dialog
	Status     string // StatusRecording, StatusAvailable, StatusDeleted, StatusPurged
	Topic      string
	OwnerID    string
	OwnerType  string
	OwnerEmail string
	// Start is when recording began (Webex timeRecorded); Stop when it
	// ended; Created when the file was produced (Webex createTime).
	Start, Stop, Created time.Time
	DurationMS           int64 // length of the file, paused spans included
	SizeBytes            int64
	SampleRate           int
	Channels             int
	Format               string // "WAV"
	Partial              bool   // audio may be missing (crash, error)
	EndReason            EndReason
	SHA256               string // hex digest of the finished file
	BlobKey              string // key of the audio in the blob store
	SpoolPath            string // local file while recording
	LocationID           string // the owner's location, when known
	// ExpiresAt is when retention deletes the recording (R3, R9); zero
	// means kept without limit. Hold (X3) stops every deletion.
	ExpiresAt time.Time
	Hold      bool
	Meta      Metadata
}

// Metadata is everything known about the recorded call, kept as JSON with
// the recording. It is built from the SIPREC metadata (RFC 7865) and SDP.
type Metadata struct {
	SessionIDs     []string          `json:"sessionIds,omitempty"`    // RFC 7865 CS session ids
	SIPSessionIDs  []string          `json:"sipSessionIds,omitempty"` // RFC 7989 values of <sipSessionID>
	GroupID        string            `json:"groupId,omitempty"`
	Participants   []Participant     `json:"participants"`
	Streams        []Stream          `json:"streams"`
	Channels       []Channel         `json:"channels"`
	PauseIntervals []Interval        `json:"pauseIntervals"`
	DTMF           []DTMFEvent       `json:"dtmf"`
	Vendor         VendorData        `json:"vendor"`
	RawMetadata    []RawMetadata     `json:"rawMetadata,omitempty"` // every metadata body received, in order
	Events         []SessionEvent    `json:"events,omitempty"`      // re-INVITE/UPDATE/pause/resume log
	Problems       []string          `json:"problems,omitempty"`    // odd input recorded, not refused
	SourceAddr     string            `json:"sourceAddr,omitempty"`
	UserAgent      string            `json:"userAgent,omitempty"`
	Extra          map[string]string `json:"extra,omitempty"`
}

// Participant is a party of the recorded call (RFC 7865 participant).
type Participant struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	AOR      string   `json:"aor,omitempty"`
	AORs     []string `json:"aors,omitempty"`
	Sends    []string `json:"sends,omitempty"`    // stream ids it sends
	Receives []string `json:"receives,omitempty"` // stream ids it receives
	Recorded bool     `json:"recorded"`           // the recorded party (channel 1)
}

// Stream is one media stream (one SDP m-line) of the recording session.
type Stream struct {
	ID            string      `json:"id,omitempty"` // RFC 7865 stream_id
	Label         string      `json:"label"`
	MLineIndex    int         `json:"mLineIndex"`
	ParticipantID string      `json:"participantId,omitempty"` // who sends it
	Codec         string      `json:"codec,omitempty"`         // e.g. "PCMU/8000"
	Mode          string      `json:"mode,omitempty"`          // "separate" or "mixed" when declared
	Channel       int         `json:"channel"`                 // 1-based file channel it is written to
	Stats         StreamStats `json:"stats"`
}

// StreamStats counts what arrived on one stream.
type StreamStats struct {
	Received       uint64 `json:"received"`       // RTP packets accepted (audio and DTMF)
	Lost           uint64 `json:"lost"`           // sequence numbers never received
	Duplicated     uint64 `json:"duplicated"`     // packets received twice
	Late           uint64 `json:"late"`           // arrived after their span was written
	Dropped        uint64 `json:"dropped"`        // malformed, unknown payload type, or sent while paused
	Gaps           uint64 `json:"gaps"`           // silence spans inserted while the stream was active
	GapMS          int64  `json:"gapMs"`          // total length of those spans
	SSRCChanges    uint64 `json:"ssrcChanges"`    // new SSRCs after the first
	TimestampJumps uint64 `json:"timestampJumps"` // re-anchored timestamp discontinuities
}

// Channel says what one channel of the file holds (interfaces.md table).
type Channel struct {
	Index          int      `json:"index"` // 1-based
	Role           string   `json:"role"`  // "recorded", "other", "mixed"
	ParticipantIDs []string `json:"participantIds,omitempty"`
	StreamLabels   []string `json:"streamLabels"`
}

// Interval is a span of the call, e.g. a pause. End is zero while open.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// DTMFEvent is one RFC 4733 telephone event.
type DTMFEvent struct {
	Digit       string    `json:"digit"`
	Time        time.Time `json:"time"`
	OffsetMS    int64     `json:"offsetMs"` // from the start of the file
	DurationMS  int64     `json:"durationMs"`
	StreamLabel string    `json:"streamLabel"`
}

// VendorData is vendor extension data mapped to fields.
type VendorData struct {
	Vendor            string `json:"vendor,omitempty"` // "broadworks", "cisco", "oracle", "avaya", "metaswitch", "sonus", ...
	ServiceProviderID string `json:"serviceProviderId,omitempty"`
	GroupID           string `json:"groupId,omitempty"`
	UserID            string `json:"userId,omitempty"`
	ExtTrackingID     string `json:"extTrackingId,omitempty"`
	CallID            string `json:"callId,omitempty"`    // BroadWorks call-half id
	Direction         string `json:"direction,omitempty"` // "originating" or "terminating"
	CallingNumber     string `json:"callingNumber,omitempty"`
	CalledNumber      string `json:"calledNumber,omitempty"`
	DialedDigits      string `json:"dialedDigits,omitempty"`
	RecordingType     string `json:"recordingType,omitempty"`
	UCID              string `json:"ucid,omitempty"` // Avaya/Oracle UCID
	CiscoGUID         string `json:"ciscoGuid,omitempty"`
	RecordedParty     string `json:"recordedParty,omitempty"` // as a vendor names it (AOR, number or participant id)
}

// RawMetadata is one metadata body exactly as received.
type RawMetadata struct {
	Received    time.Time `json:"received"`
	ContentType string    `json:"contentType"`
	Body        string    `json:"body"`
}

// SessionEvent is a notable event of the recording session.
type SessionEvent struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"` // "invite", "reinvite", "update", "pause", "resume", "metadata", "ssrc-change", ...
	Detail string    `json:"detail,omitempty"`
}

// RecordingQuery selects recordings from a store.
type RecordingQuery struct {
	OrgID      string // empty: every org
	OwnerID    string // empty: every owner
	OwnerEmail string
	OwnerType  string
	Statuses   []string  // empty: every status
	From, To   time.Time // on Start; zero means unbounded; From inclusive, To exclusive
	Topic      string    // case-insensitive substring
	// Cursor for keyset pagination, newest first: recordings strictly
	// older than (BeforeStart, BeforeID).
	BeforeStart time.Time
	BeforeID    string
	Limit       int // 0: no limit
}
