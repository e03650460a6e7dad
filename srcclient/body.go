package srcclient

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

// direction of the offered streams (RFC 3264 §5.1, siprec-interop.md §3.3).
type direction int

const (
	dirSendOnly direction = iota // recording
	dirInactive                  // paused with a=inactive
	dirLegacy                    // paused BroadWorks style: c=0.0.0.0, no direction attribute
)

// ids are the identifiers of one recording session's metadata, fixed for
// the life of the call so partial updates refer to the same objects.
type ids struct {
	session, group, recording string
	participants              []string
	streams                   []string
	transfer                  string // participant joining in the metadata update
	extension                 string // BroadWorks extensiondata id
	sipSessionID              string // RFC 7989 local UUID (hex)
	sipSessionRemote          string
	correlation               string // BroadWorks X-BroadWorks-Correlation-Info / extTrackingID
	callHalf                  string // BroadWorks callID
	sdpSession                uint64
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// rfcID is the RFC 7865 §6 example form of an ID: base64 of a 128-bit UUID.
func rfcID() string { return base64.StdEncoding.EncodeToString(randomBytes(16)) }

// uuidURN is the urn:uuid form BroadWorks uses.
func uuidURN() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return "urn:uuid:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newIDs(dialect string, nstreams int) ids {
	id := rfcID
	if dialect == DialectBroadWorks {
		id = uuidURN
	}
	v := ids{
		session:          id(),
		group:            id(),
		recording:        id(),
		transfer:         id(),
		extension:        id(),
		sipSessionID:     hex.EncodeToString(randomBytes(16)),
		sipSessionRemote: hex.EncodeToString(randomBytes(16)),
		correlation:      strings.TrimPrefix(uuidURN(), "urn:uuid:"),
		callHalf:         fmt.Sprintf("callhalf-%d:0", 100000+int(randomBytes(2)[0])*1000+int(randomBytes(1)[0])),
		sdpSession:       uint64(time.Now().Unix()),
	}
	for range nstreams {
		v.participants = append(v.participants, id())
		v.streams = append(v.streams, id())
	}
	return v
}

// esc escapes XML character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder cannot fail
	return b.String()
}

// offerSDP builds the RS offer (RFC 7866 §8.1, siprec-interop.md §2.5): one
// m-line per stream with its codec and telephone-event, a=label (RFC 4574)
// and a=sendonly, lines in v o s c t m order. ports[i] is the local RTP
// port written for stream i.
func offerSDP(spec *CallSpec, ip string, ports []int, sessID, version uint64, dir direction) string {
	var b strings.Builder
	origin := "callrec"
	if spec.Dialect == DialectBroadWorks {
		origin = "BroadWorks"
	}
	conn := ip
	if dir == dirLegacy {
		conn = "0.0.0.0"
	}
	fmt.Fprintf(&b, "v=0\r\no=%s %d %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", origin, sessID, version, ip, conn)
	for i, st := range spec.Streams {
		c := codecs[st.Codec]
		fmt.Fprintf(&b, "m=audio %d RTP/AVP %d %d\r\n", ports[i], c.pt, c.eventPT)
		if c.channels > 1 {
			fmt.Fprintf(&b, "a=rtpmap:%d %s/%d/%d\r\n", c.pt, c.encoding, c.clock, c.channels)
		} else {
			fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", c.pt, c.encoding, c.clock)
		}
		if st.Codec == CodecOpus {
			fmt.Fprintf(&b, "a=fmtp:%d useinbandfec=1\r\n", c.pt)
		}
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/%d\r\na=fmtp:%d 0-15\r\n", c.eventPT, c.eventRate, c.eventPT)
		b.WriteString("a=ptime:20\r\n")
		if spec.Dialect == DialectBroadWorks {
			b.WriteString("a=maxptime:20\r\n")
		}
		fmt.Fprintf(&b, "a=label:%s\r\n", st.Label)
		switch dir {
		case dirSendOnly:
			b.WriteString("a=sendonly\r\n")
		case dirInactive:
			b.WriteString("a=inactive\r\n")
		case dirLegacy:
			// BroadWorks pauses with the null address only (siprec-interop.md §3.3).
		}
	}
	return b.String()
}

// metadataType is the Content-Type of the metadata part per dialect.
func metadataType(dialect string) string {
	if dialect == DialectAudioCodes {
		return "application/rs-metadata" // RFC 7866 examples' name, as AudioCodes sends it
	}
	return "application/rs-metadata+xml" // RFC 9806
}

// metadata builds the complete metadata snapshot of the call.
func metadata(spec *CallSpec, v *ids, now time.Time) string {
	if spec.Dialect == DialectBroadWorks {
		return broadworksMetadata(spec, v, now, false)
	}
	return rfcMetadata(spec, v, now, false)
}

// metadataUpdate builds the partial update sent at MetadataUpdateAt: a new
// participant (a transfer target) takes over the last stream.
func metadataUpdate(spec *CallSpec, v *ids, now time.Time) string {
	if spec.Dialect == DialectBroadWorks {
		return broadworksMetadata(spec, v, now, true)
	}
	return rfcMetadata(spec, v, now, true)
}

const transferAOR = "sip:transfer-target@src.callrec.test"

// rfcMetadata writes RFC 7865 XML in the shape of siprec-interop.md §2.5.
func rfcMetadata(spec *CallSpec, v *ids, now time.Time, partial bool) string {
	ts := now.UTC().Format(time.RFC3339)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<recording xmlns="urn:ietf:params:xml:ns:recording:1">` + "\n")
	last := len(spec.Streams) - 1
	if partial {
		b.WriteString("  <datamode>partial</datamode>\n")
		fmt.Fprintf(&b, "  <participant participant_id=\"%s\">\n    <nameID aor=\"%s\"><name xml:lang=\"en\">Transfer Target</name></nameID>\n  </participant>\n", esc(v.transfer), transferAOR)
		fmt.Fprintf(&b, "  <participantsessionassoc participant_id=\"%s\" session_id=\"%s\">\n    <disassociate-time>%s</disassociate-time>\n  </participantsessionassoc>\n", esc(v.participants[last]), esc(v.session), ts)
		fmt.Fprintf(&b, "  <participantsessionassoc participant_id=\"%s\" session_id=\"%s\">\n    <associate-time>%s</associate-time>\n  </participantsessionassoc>\n", esc(v.transfer), esc(v.session), ts)
		fmt.Fprintf(&b, "  <participantstreamassoc participant_id=\"%s\">\n    %s\n  </participantstreamassoc>\n", esc(v.transfer), sendRecv(v, last))
		b.WriteString("</recording>\n")
		return b.String()
	}
	b.WriteString("  <datamode>complete</datamode>\n")
	fmt.Fprintf(&b, "  <session session_id=\"%s\">\n    <sipSessionID>%s;remote=%s</sipSessionID>\n    <start-time>%s</start-time>\n  </session>\n",
		esc(v.session), v.sipSessionID, v.sipSessionRemote, ts)
	for i, st := range spec.Streams {
		fmt.Fprintf(&b, "  <participant participant_id=\"%s\">\n    <nameID aor=\"%s\">", esc(v.participants[i]), esc(st.ParticipantAOR))
		if st.ParticipantName != "" {
			fmt.Fprintf(&b, "<name xml:lang=\"en\">%s</name>", esc(st.ParticipantName))
		}
		b.WriteString("</nameID>\n")
		if i == 0 && spec.RecordedUserID != "" {
			fmt.Fprintf(&b, "    <callrec:recorded xmlns:callrec=\"%s\" userId=\"%s\"/>\n", siprec.CallrecNamespace, esc(spec.RecordedUserID))
		}
		b.WriteString("  </participant>\n")
	}
	for i, st := range spec.Streams {
		fmt.Fprintf(&b, "  <stream stream_id=\"%s\" session_id=\"%s\"><label>%s</label></stream>\n", esc(v.streams[i]), esc(v.session), esc(st.Label))
	}
	fmt.Fprintf(&b, "  <sessionrecordingassoc session_id=\"%s\">\n    <associate-time>%s</associate-time>\n  </sessionrecordingassoc>\n", esc(v.session), ts)
	for i := range spec.Streams {
		fmt.Fprintf(&b, "  <participantsessionassoc participant_id=\"%s\" session_id=\"%s\">\n    <associate-time>%s</associate-time>\n  </participantsessionassoc>\n", esc(v.participants[i]), esc(v.session), ts)
	}
	for i := range spec.Streams {
		fmt.Fprintf(&b, "  <participantstreamassoc participant_id=\"%s\">\n    %s\n  </participantstreamassoc>\n", esc(v.participants[i]), sendRecv(v, i))
	}
	b.WriteString("</recording>\n")
	return b.String()
}

// sendRecv is the <send>/<recv> list of the participant sending stream i:
// it receives every other stream.
func sendRecv(v *ids, i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<send>%s</send>", esc(v.streams[i]))
	for j, s := range v.streams {
		if j != i {
			fmt.Fprintf(&b, "<recv>%s</recv>", esc(s))
		}
	}
	return b.String()
}

// broadworksMetadata writes the pre-RFC model BroadWorks and Webex Calling
// send (siprec-interop.md §7.2): root recording_metadata, dataMode in
// camelCase, <send><id> inside <participant>, and the
// broadWorksRecordingMetadata extension naming the recorded user.
func broadworksMetadata(spec *CallSpec, v *ids, now time.Time, partial bool) string {
	ts := now.UTC().Format("2006-01-02T15:04:05-07:00")
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec">` + "\n")
	last := len(spec.Streams) - 1
	if partial {
		b.WriteString("<dataMode>partial</dataMode>\n")
		fmt.Fprintf(&b, "<participant id=\"%s\" session=\"%s\">\n<aor>%s</aor>\n<send><id>%s</id></send>\n</participant>\n",
			esc(v.transfer), esc(v.session), transferAOR, esc(v.streams[last]))
		b.WriteString("</recording_metadata>\n")
		return b.String()
	}
	mode := "separate"
	if len(spec.Streams) == 1 {
		mode = "mixed"
	}
	user := spec.RecordedUserID
	if user == "" {
		user = strings.TrimPrefix(spec.Streams[0].ParticipantAOR, "sip:")
	}
	b.WriteString("<dataMode>complete</dataMode>\n")
	fmt.Fprintf(&b, "<recording id=\"%s\"><requestor>SRC</requestor><type>selective</type></recording>\n", esc(v.recording))
	fmt.Fprintf(&b, "<group id=\"%s\" recording=\"%s\"><initiator>%s</initiator></group>\n", esc(v.group), esc(v.recording), esc(spec.Streams[0].ParticipantAOR))
	fmt.Fprintf(&b, "<session id=\"%s\" group=\"%s\"><start-time>%s</start-time></session>\n", esc(v.session), esc(v.group), ts)
	for i, st := range spec.Streams {
		fmt.Fprintf(&b, "<participant id=\"%s\" session=\"%s\">\n<aor>%s</aor>\n<send><id>%s</id></send>\n</participant>\n",
			esc(v.participants[i]), esc(v.session), esc(st.ParticipantAOR), esc(v.streams[i]))
	}
	for i, st := range spec.Streams {
		fmt.Fprintf(&b, "<stream id=\"%s\" session=\"%s\"><label>%s</label><mode>%s</mode></stream>\n", esc(v.streams[i]), esc(v.session), esc(st.Label), mode)
	}
	calling := spec.Streams[0].ParticipantAOR
	called := spec.Streams[last].ParticipantAOR
	fmt.Fprintf(&b, "<extensiondata id=\"%s\" parent=\"%s\">\n", esc(v.extension), esc(v.session))
	b.WriteString("<broadWorksRecordingMetadata xmlns=\"http://schema.broadsoft.com/broadworksCallRecording\" version=\"3.0\">\n")
	fmt.Fprintf(&b, "<extTrackingID>%s</extTrackingID>\n", v.correlation)
	b.WriteString("<serviceProviderID>CALLRECSP01</serviceProviderID>\n<groupID>CALLRECSP01L0001</groupID>\n")
	fmt.Fprintf(&b, "<userID>%s</userID>\n<callID>%s</callID>\n", esc(user), v.callHalf)
	fmt.Fprintf(&b, "<callType><origCall><callingPartyNumber>%s</callingPartyNumber><calledPartyNumber>%s</calledPartyNumber><dialedDigits>%s</dialedDigits></origCall></callType>\n",
		esc(calling), esc(called), esc(aorUser(called)))
	b.WriteString("<recordingType>on</recordingType>\n</broadWorksRecordingMetadata>\n</extensiondata>\n")
	b.WriteString("</recording_metadata>\n")
	return b.String()
}

// aorUser is the user part of a SIP AOR.
func aorUser(aor string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(aor, "sips:"), "sip:")
	if i := strings.IndexByte(s, '@'); i >= 0 {
		return s[:i]
	}
	return s
}

// part is one body part of a multipart/mixed body (RFC 2046 §5.1.1).
type part struct {
	contentType string
	disposition string
	body        string
}

// boundaryFor returns the boundary each dialect uses.
func boundaryFor(dialect string) string {
	switch dialect {
	case DialectBroadWorks:
		return "UniqueBroadWorksBoundary"
	case DialectAudioCodes:
		return "boundary_ac1fffff85b"
	}
	return "rs-boundary"
}

// multipartBody joins parts. The dialect decides the line ending (bare LF
// for AudioCodes) and whether part headers carry a space after the colon
// (BroadWorks writes "Content-Type:application/sdp").
func multipartBody(dialect, boundary string, parts []part) []byte {
	eol := "\r\n"
	if dialect == DialectAudioCodes {
		eol = "\n"
	}
	sep := ": "
	if dialect == DialectBroadWorks {
		sep = ":"
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--" + boundary + eol)
		b.WriteString("Content-Type" + sep + p.contentType + eol)
		if p.disposition != "" {
			b.WriteString("Content-Disposition" + sep + p.disposition + eol)
		}
		b.WriteString(eol)
		body := strings.ReplaceAll(p.body, "\r\n", "\n")
		body = strings.TrimRight(body, "\n")
		b.WriteString(strings.ReplaceAll(body, "\n", eol))
		b.WriteString(eol)
		b.WriteString(eol) // the CRLF before the delimiter belongs to it (RFC 2046 §5.1.1)
	}
	b.WriteString("--" + boundary + "--" + eol)
	return []byte(b.String())
}

// inviteBody builds the multipart body of the INVITE (or of a re-INVITE
// carrying a metadata update) and its Content-Type.
func inviteBody(spec *CallSpec, sdp, meta string) ([]byte, string) {
	boundary := boundaryFor(spec.Dialect)
	sdpPart := part{contentType: "application/sdp", body: sdp}
	metaPart := part{contentType: metadataType(spec.Dialect), disposition: "recording-session", body: meta}
	parts := []part{sdpPart, metaPart}
	if spec.Dialect == DialectBroadWorks {
		parts = []part{metaPart, sdpPart} // BroadWorks sends the metadata first
	}
	return multipartBody(spec.Dialect, boundary, parts), "multipart/mixed;boundary=" + boundary
}
