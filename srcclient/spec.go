package srcclient

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialects of the recording-session INVITE (siprec-interop.md §2.5, §7).
const (
	// DialectRFC7866 is the RFC 7866 form of siprec-interop.md §2.5:
	// SDP part first, application/rs-metadata+xml (RFC 9806) with
	// Content-Disposition: recording-session, Require: siprec and a
	// +sip.src Contact.
	DialectRFC7866 = "rfc7866"
	// DialectBroadWorks imitates BroadWorks / Webex Calling (siprec-interop.md
	// §7.2): pre-RFC recording_metadata (urn:ietf:params:xml:ns:siprec) sent
	// first, part headers without a space after the colon, ;src in the
	// Contact URI, no Require header, a broadWorksRecordingMetadata block
	// naming the recorded user.
	DialectBroadWorks = "broadworks"
	// DialectAudioCodes imitates an AudioCodes Mediant SBC: RFC 7866
	// headers, but the multipart body uses bare LF line endings and the
	// metadata type is application/rs-metadata.
	DialectAudioCodes = "audiocodes"
)

// Codec names accepted in StreamSpec.Codec.
const (
	CodecPCMU = "PCMU"
	CodecPCMA = "PCMA"
	CodecG722 = "G722"
	CodecOpus = "OPUS"
)

// Ptime is the packet interval of every stream this client sends.
const Ptime = 20 * time.Millisecond

// DefaultAmplitude is the tone amplitude used when StreamSpec.Amplitude is
// zero: 0.25 of full scale (about -12 dBFS), loud enough to measure and far
// from clipping after G.711 companding.
const DefaultAmplitude = 0.25

// TimestampJump is how far the RTP timestamp jumps at
// StreamSpec.TimestampJumpAt: 60 s of the stream's RTP clock, far beyond any
// plausible jitter, so a receiver must treat it as a discontinuity.
const TimestampJump = 60 * time.Second

// DTMFSpec is one RFC 4733 telephone event sent on a stream.
type DTMFSpec struct {
	At       time.Duration // offset from the start of media
	Digit    string        // one of 0-9, *, #, A-D
	Duration time.Duration // event length; 0 means 100 ms; rounded up to 20 ms
}

// StreamSpec describes one recorded stream (one SDP m-line) of a call.
type StreamSpec struct {
	Label           string  // a=label value; default: the 1-based stream index
	Codec           string  // PCMU (default), PCMA, G722 or OPUS
	ToneHz          float64 // sine frequency; 0 sends digital silence
	Amplitude       float64 // fraction of full scale in (0, 1]; 0 means DefaultAmplitude
	ParticipantAOR  string  // default sip:partyN@src.callrec.test
	ParticipantName string  // optional display name in the metadata

	// Impairments. Times are offsets from the start of media; a packet
	// belongs to the time it is due at (start + n × 20 ms).

	DropFrom, DropTo time.Duration // packets due in [DropFrom, DropTo) are not sent (loss)
	ReorderEvery     int           // every Nth packet is sent after the one that follows it
	DuplicateEvery   int           // every Nth packet is sent twice
	SSRCChangeAt     time.Duration // new SSRC, sequence and timestamp base from here; 0 = never
	TimestampJumpAt  time.Duration // timestamps jump forward by TimestampJump from here; 0 = never
	DTMF             []DTMFSpec    // telephone events on this stream
	Silent           bool          // offer the stream but send no RTP at all
}

// PauseSpec is one recording pause (siprec-interop.md §3.3).
type PauseSpec struct {
	At       time.Duration // offset from the start of media
	Duration time.Duration
	Legacy   bool // BroadWorks style: c=IN IP4 0.0.0.0 and no direction attribute instead of a=inactive
}

// CallSpec describes one recording session.
type CallSpec struct {
	Streams  []StreamSpec  // default: two PCMU streams, 400 Hz and 1000 Hz, labels 1 and 2
	Duration time.Duration // media duration; default 5 s

	// Pauses: the SRC stops sending before it signals the pause (PCI
	// practice), then re-INVITEs; at the end of the pause it re-INVITEs
	// with a=sendonly and only then sends media again.
	Pauses []PauseSpec

	Dialect        string // DialectRFC7866 (default), DialectBroadWorks or DialectAudioCodes
	RecordedUserID string // the recorded party: BroadWorks userID, or callrec's own extension

	// MetadataUpdateAt sends a partial metadata update (a transfer: a new
	// participant takes over the last stream) at this offset; 0 = never.
	MetadataUpdateAt     time.Duration
	MetadataUpdateMethod string // "UPDATE" (default, metadata-only body) or "INVITE" (multipart re-INVITE)

	// CancelAfter sends CANCEL this long after the INVITE instead of
	// waiting for the answer; 0 = off. When the answer wins the race the
	// call is acknowledged and ended with BYE at once.
	CancelAfter time.Duration

	ExtraHeaders map[string]string // added to the INVITE as given

	// RawBody replaces the generated INVITE body (malformed-input tests);
	// RawContentType is its Content-Type (default: the generated one).
	RawBody        []byte
	RawContentType string
}

// StreamResult is what was sent on one stream.
type StreamResult struct {
	Label       string
	Codec       string // codec name as answered, e.g. "PCMU"
	PayloadType uint8  // audio payload type used (the answer's)
	Dest        string // host:port the RTP went to; empty when not sent
	SSRC        uint32 // first SSRC
	Sent        uint64 // distinct RTP packets sent (audio and DTMF, without duplicates)
	Duplicates  uint64 // extra copies sent by DuplicateEvery
	Dropped     uint64 // packets withheld by DropFrom/DropTo (and a reordered packet cut by a pause)
	DTMF        uint64 // telephone-event packets among Sent
	SendErrors  uint64 // packets the kernel refused
	RTCP        uint64 // RTCP sender reports sent
}

// Result is the outcome of one call.
type Result struct {
	CallID      string
	Status      int    // final status of the INVITE (e.g. 200, 488, 487)
	Reason      string // its reason phrase
	AnswerSDP   []byte // SDP of the 2xx answer
	Sent        map[string]uint64
	Streams     []StreamResult
	Answered    time.Time     // when the final answer arrived
	ByeSent     time.Time     // when our BYE left (zero when none was sent)
	ByeReceived time.Time     // when the SRS's BYE arrived (zero when none came)
	Started     time.Time     // start of media (after the ACK)
	Duration    time.Duration // media duration actually run
	ByeStatus   int           // status of our BYE; 0 when none was answered
	RemoteBye   bool          // the SRS ended the session
	Cancelled   bool          // CANCEL was sent
	Warnings    []string      // odd things that did not fail the call (e.g. a refused re-INVITE)
}

// Failed reports whether the call did not do what was asked: the INVITE was
// refused (unless a CANCEL was requested and got 487) or the BYE was not
// answered with 200.
func (r *Result) Failed() bool {
	if r == nil {
		return true
	}
	if r.Cancelled {
		return r.Status != 487 && (r.Status < 200 || r.Status > 299 || r.ByeStatus != 200)
	}
	if r.Status < 200 || r.Status > 299 {
		return true
	}
	return !r.RemoteBye && r.ByeStatus != 200
}

// Validation errors.
var (
	// ErrBadSpec is wrapped by every CallSpec validation error.
	ErrBadSpec = errors.New("srcclient: invalid call spec")
)

// Validate reports whether Call would accept the spec, with the reason
// when not (an error wrapping ErrBadSpec).
func (s CallSpec) Validate() error {
	_, err := normalise(s)
	return err
}

// dtmfCode maps an RFC 4733 §3.2 DTMF digit to its event code.
func dtmfCode(d string) (uint8, bool) {
	if len(d) != 1 {
		return 0, false
	}
	c := d[0]
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c == '*':
		return 10, true
	case c == '#':
		return 11, true
	case c >= 'A' && c <= 'D':
		return 12 + c - 'A', true
	case c >= 'a' && c <= 'd':
		return 12 + c - 'a', true
	}
	return 0, false
}

// normalise fills defaults and validates spec; it returns a copy.
func normalise(spec CallSpec) (CallSpec, error) {
	bad := func(format string, a ...any) (CallSpec, error) {
		return spec, fmt.Errorf("%w: %s", ErrBadSpec, fmt.Sprintf(format, a...))
	}
	if spec.Duration == 0 {
		spec.Duration = 5 * time.Second
	}
	if spec.Duration < 0 {
		return bad("negative duration %v", spec.Duration)
	}
	if len(spec.Streams) == 0 {
		spec.Streams = []StreamSpec{{ToneHz: 400}, {ToneHz: 1000}}
	}
	switch spec.Dialect {
	case "":
		spec.Dialect = DialectRFC7866
	case DialectRFC7866, DialectBroadWorks, DialectAudioCodes:
	default:
		return bad("unknown dialect %q (want %s, %s or %s)", spec.Dialect, DialectRFC7866, DialectBroadWorks, DialectAudioCodes)
	}
	switch strings.ToUpper(spec.MetadataUpdateMethod) {
	case "", "UPDATE":
		spec.MetadataUpdateMethod = "UPDATE"
	case "INVITE":
		spec.MetadataUpdateMethod = "INVITE"
	default:
		return bad("metadata update method %q (want UPDATE or INVITE)", spec.MetadataUpdateMethod)
	}
	streams := make([]StreamSpec, len(spec.Streams))
	labels := map[string]bool{}
	for i, st := range spec.Streams {
		if st.Label == "" {
			st.Label = strconv.Itoa(i + 1)
		}
		if labels[st.Label] {
			return bad("duplicate label %q", st.Label)
		}
		labels[st.Label] = true
		st.Codec = strings.ToUpper(st.Codec)
		if st.Codec == "" {
			st.Codec = CodecPCMU
		}
		if _, ok := codecs[st.Codec]; !ok {
			return bad("stream %s: unknown codec %q (want PCMU, PCMA, G722 or OPUS)", st.Label, st.Codec)
		}
		if st.Amplitude == 0 {
			st.Amplitude = DefaultAmplitude
		}
		if st.Amplitude < 0 || st.Amplitude > 1 {
			return bad("stream %s: amplitude %v outside (0, 1]", st.Label, st.Amplitude)
		}
		if st.ToneHz < 0 || st.ToneHz > 24000 {
			return bad("stream %s: tone %v Hz out of range", st.Label, st.ToneHz)
		}
		if st.ParticipantAOR == "" {
			st.ParticipantAOR = fmt.Sprintf("sip:party%d@src.callrec.test", i+1)
		}
		if st.ReorderEvery < 0 || st.DuplicateEvery < 0 {
			return bad("stream %s: negative impairment interval", st.Label)
		}
		if st.DropTo < st.DropFrom {
			return bad("stream %s: drop window ends before it starts", st.Label)
		}
		if st.SSRCChangeAt < 0 || st.TimestampJumpAt < 0 {
			return bad("stream %s: negative impairment time", st.Label)
		}
		dtmf := make([]DTMFSpec, len(st.DTMF))
		for j, d := range st.DTMF {
			if _, ok := dtmfCode(d.Digit); !ok {
				return bad("stream %s: DTMF digit %q (want one of 0-9 * # A-D)", st.Label, d.Digit)
			}
			if d.Duration == 0 {
				d.Duration = 100 * time.Millisecond
			}
			if d.At < 0 || d.Duration < 0 {
				return bad("stream %s: negative DTMF time", st.Label)
			}
			if j > 0 && d.At < dtmf[j-1].At+dtmf[j-1].Duration+3*Ptime {
				return bad("stream %s: DTMF %s at %v overlaps the previous event", st.Label, d.Digit, d.At)
			}
			dtmf[j] = d
		}
		st.DTMF = dtmf
		streams[i] = st
	}
	spec.Streams = streams
	pauses := append([]PauseSpec(nil), spec.Pauses...)
	for j, p := range pauses {
		if p.At < 0 || p.Duration <= 0 {
			return bad("pause %d: needs At >= 0 and Duration > 0", j+1)
		}
		if j > 0 && p.At < pauses[j-1].At+pauses[j-1].Duration {
			return bad("pause %d overlaps the previous one (pauses must be in order)", j+1)
		}
	}
	spec.Pauses = pauses
	if spec.MetadataUpdateAt < 0 || spec.CancelAfter < 0 {
		return bad("negative time")
	}
	return spec, nil
}
