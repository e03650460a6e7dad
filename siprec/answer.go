package siprec

import (
	"net/netip"
	"strconv"
	"strings"
)

// AnswerMedia is one m-line of an SDP answer, in the offer's order.
type AnswerMedia struct {
	Type, Proto string
	Port        int      // 0 rejects the m-line (RFC 3264 §6)
	Formats     []Format // chosen codec first, then telephone-event if any; for a rejected m-line, the offered formats
	Label       string   // the offer's a=label, echoed (RFC 4574)
	Direction   string   // normally "recvonly"
	RTCPMux     bool     // write a=rtcp-mux (only when the offer had it, RFC 5761 §5.1.1)
}

// Answer is an SRS's SDP answer (RFC 3264 §6).
type Answer struct {
	Origin             string     // o= username; "-" when empty
	SessionID, Version uint64     // o= sess-id and sess-version
	Addr               netip.Addr // o= and c= address; 0.0.0.0 when invalid
	Media              []AnswerMedia
}

// BuildAnswer writes an SDP answer: lines in the order RFC 4566 §5 requires
// (v, o, s, c, t, then m-lines; strict parsers such as Microsoft UCMA refuse
// t= before c=), CRLF line endings, one a=rtpmap per format (static types
// too), a=fmtp when a format has parameters, the label echoed and the
// direction. A rejected m-line (port 0) lists only the first offered
// payload type (RFC 3264 §6 needs at least one) and carries no attributes
// but its label; an accepted m-line with no formats is rejected the same
// way.
func BuildAnswer(a Answer) []byte {
	addr := a.Addr
	if !addr.IsValid() {
		addr = netip.IPv4Unspecified()
	}
	addr = addr.Unmap()
	ipver := "IP4"
	if addr.Is6() {
		ipver = "IP6"
	}
	user := sdpToken(a.Origin)
	if user == "" {
		user = "-"
	}
	var b strings.Builder
	b.Grow(128 + 160*len(a.Media))
	line := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteString("\r\n")
	}
	line("v=0")
	line("o=", user, " ", strconv.FormatUint(a.SessionID, 10), " ", strconv.FormatUint(a.Version, 10), " IN ", ipver, " ", addr.String())
	line("s=-")
	line("c=IN ", ipver, " ", addr.String())
	line("t=0 0")
	for _, m := range a.Media {
		typ := sdpToken(m.Type)
		if typ == "" {
			typ = "audio"
		}
		proto := sdpToken(m.Proto)
		if proto == "" {
			proto = "RTP/AVP"
		}
		port := m.Port
		if port < 0 || port > 65535 || len(m.Formats) == 0 {
			port = 0
		}
		if port == 0 {
			pt := "0"
			if len(m.Formats) > 0 {
				pt = strconv.Itoa(int(m.Formats[0].PT))
			}
			line("m=", typ, " 0 ", proto, " ", pt)
			if l := sdpToken(m.Label); l != "" {
				line("a=label:", l)
			}
			continue
		}
		b.WriteString("m=" + typ + " " + strconv.Itoa(port) + " " + proto)
		for _, f := range m.Formats {
			b.WriteString(" " + strconv.Itoa(int(f.PT)))
		}
		b.WriteString("\r\n")
		for _, f := range m.Formats {
			if f.Name == "" || f.ClockRate <= 0 {
				continue
			}
			enc := encodingName(f.Name) + "/" + strconv.Itoa(f.ClockRate)
			if f.Channels > 1 {
				enc += "/" + strconv.Itoa(f.Channels)
			}
			line("a=rtpmap:", strconv.Itoa(int(f.PT)), " ", sdpValue(enc))
			if p := sdpValue(f.Fmtp); p != "" {
				line("a=fmtp:", strconv.Itoa(int(f.PT)), " ", p)
			}
		}
		if l := sdpToken(m.Label); l != "" {
			line("a=label:", l)
		}
		if m.RTCPMux {
			line("a=rtcp-mux")
		}
		switch d := strings.ToLower(m.Direction); d {
		case "sendonly", "recvonly", "sendrecv", "inactive":
			line("a=", d)
		}
	}
	return []byte(b.String())
}

// canonicalNames spells encoding names the way their registrations do, for
// SRCs that compare them case-sensitively (RFC 4855 §3 says they must not).
var canonicalNames = map[string]string{
	"OPUS":            "opus",
	"TELEPHONE-EVENT": "telephone-event",
	"SPEEX":           "speex",
	"ILBC":            "iLBC",
	"RED":             "red",
	"AMR-WB":          "AMR-WB",
}

func encodingName(upper string) string {
	if c, ok := canonicalNames[strings.ToUpper(upper)]; ok {
		return c
	}
	return upper
}

// sdpToken keeps an SDP field to one token: white space and control
// characters would break the line.
func sdpToken(s string) string {
	s = strings.TrimSpace(s)
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// sdpValue drops line breaks and control characters from an attribute
// value.
func sdpValue(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s))
}
