package siprec

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Format is one RTP payload format of an m-line (RFC 4566 §6 a=rtpmap,
// a=fmtp).
type Format struct {
	PT        uint8
	Name      string // encoding name upper-cased: "PCMU", "PCMA", "G722", "OPUS", "TELEPHONE-EVENT"; "" when unknown
	ClockRate int    // 0 when unknown
	Channels  int    // 1 unless the rtpmap says otherwise (audio); 0 when unknown
	Fmtp      string // a=fmtp parameters, raw
}

// String returns the format as in an rtpmap, e.g. "PCMU/8000" or
// "OPUS/48000/2".
func (f Format) String() string {
	s := f.Name + "/" + strconv.Itoa(f.ClockRate)
	if f.Channels > 1 {
		s += "/" + strconv.Itoa(f.Channels)
	}
	return s
}

// staticFormats is the static payload type table of RFC 3551 §6 (Table 4
// and 5), used when an m-line lists a static payload type without an
// a=rtpmap (allowed by RFC 4566 §6; Oracle's second m-line does it).
var staticFormats = map[uint8]Format{
	0:  {Name: "PCMU", ClockRate: 8000, Channels: 1},
	3:  {Name: "GSM", ClockRate: 8000, Channels: 1},
	4:  {Name: "G723", ClockRate: 8000, Channels: 1},
	5:  {Name: "DVI4", ClockRate: 8000, Channels: 1},
	6:  {Name: "DVI4", ClockRate: 16000, Channels: 1},
	7:  {Name: "LPC", ClockRate: 8000, Channels: 1},
	8:  {Name: "PCMA", ClockRate: 8000, Channels: 1},
	9:  {Name: "G722", ClockRate: 8000, Channels: 1},
	10: {Name: "L16", ClockRate: 44100, Channels: 2},
	11: {Name: "L16", ClockRate: 44100, Channels: 1},
	12: {Name: "QCELP", ClockRate: 8000, Channels: 1},
	13: {Name: "CN", ClockRate: 8000, Channels: 1},
	14: {Name: "MPA", ClockRate: 90000},
	15: {Name: "G728", ClockRate: 8000, Channels: 1},
	16: {Name: "DVI4", ClockRate: 11025, Channels: 1},
	17: {Name: "DVI4", ClockRate: 22050, Channels: 1},
	18: {Name: "G729", ClockRate: 8000, Channels: 1},
	25: {Name: "CELB", ClockRate: 90000},
	26: {Name: "JPEG", ClockRate: 90000},
	28: {Name: "NV", ClockRate: 90000},
	31: {Name: "H261", ClockRate: 90000},
	32: {Name: "MPV", ClockRate: 90000},
	33: {Name: "MP2T", ClockRate: 90000},
	34: {Name: "H263", ClockRate: 90000},
}

// Media is one m-line of an SDP offer (RFC 4566 §5.14) with what the SRS
// needs from its attributes.
type Media struct {
	Index     int        // 0-based position among the m-lines
	Type      string     // "audio", "video", ...
	Port      int        // 0 means the stream is removed (RFC 3264 §8.2)
	Proto     string     // "RTP/AVP", "RTP/SAVP", ...
	Addr      netip.Addr // media-level c= else session-level c=; invalid when neither
	Direction string     // "sendonly", "recvonly", "sendrecv", "inactive", or "" when absent (media level wins)
	Label     string     // a=label (RFC 4574)
	Formats   []Format   // in offer order
	RTCPPort  int        // from a=rtcp (RFC 3605); 0 if absent
	RTCPMux   bool       // a=rtcp-mux (RFC 5761)
	Crypto    []string   // raw a=crypto values (RFC 4568)
}

// Paused reports whether the SRC has stopped sending on this m-line: it says
// a=inactive or a=recvonly (RFC 3264 §5.1), or its connection address is
// 0.0.0.0 (the RFC 2543 hold BroadWorks still uses, with no direction
// attribute). A removed m-line (port 0) is not paused; see Removed.
func (m Media) Paused() bool {
	if m.Direction == "inactive" || m.Direction == "recvonly" {
		return true
	}
	return m.Addr.IsValid() && m.Addr.IsUnspecified()
}

// Removed reports whether the m-line has port 0: rejected or removed
// (RFC 3264 §8.2).
func (m Media) Removed() bool { return m.Port == 0 }

// Format returns the offered format with payload type pt, if any.
func (m Media) Format(pt uint8) (Format, bool) {
	for _, f := range m.Formats {
		if f.PT == pt {
			return f, true
		}
	}
	return Format{}, false
}

// SessionDescription is a parsed SDP offer.
type SessionDescription struct {
	Origin      string     // o= value as received
	SessionAddr netip.Addr // session-level c=; invalid when absent
	Media       []Media
}

// OriginVersion returns the <sess-version> field of the o= line (RFC 4566
// §5.2), which an SRC increments when the offer changes.
func (s *SessionDescription) OriginVersion() (uint64, bool) {
	f := strings.Fields(s.Origin)
	if len(f) < 3 {
		return 0, false
	}
	v, err := strconv.ParseUint(f[2], 10, 64)
	return v, err == nil
}

// ParseSDP parses an SDP offer leniently. It accepts what real SRCs send:
// no c= or t= line (OpenSIPS), o= with 0.0.0.0, CRLF, LF or CR line endings,
// no line ending on the last line, attributes wrapped onto continuation
// lines, junk attributes and unknown lines (ignored), a= lines in any order.
// Every m-line yields a Media, even one it cannot fully read, so that an
// answer keeps the offer's m-line count. The only error is ErrNotSDP, when
// the body has no v=, o= or m= line at all.
func ParseSDP(b []byte) (*SessionDescription, error) {
	if len(b) > MaxBodySize {
		return nil, fmt.Errorf("siprec: SDP of %d bytes: %w", len(b), ErrTooLarge)
	}
	sd := &SessionDescription{}
	var sessionDir string
	var cur *Media
	var fmtps map[uint8]string
	var rtpmaps map[uint8]Format
	seen := false
	finish := func() {
		if cur == nil {
			return
		}
		for i := range cur.Formats {
			f := &cur.Formats[i]
			if rm, ok := rtpmaps[f.PT]; ok {
				f.Name, f.ClockRate, f.Channels = rm.Name, rm.ClockRate, rm.Channels
			} else if st, ok := staticFormats[f.PT]; ok {
				f.Name, f.ClockRate, f.Channels = st.Name, st.ClockRate, st.Channels
			}
			f.Fmtp = fmtps[f.PT]
		}
		if !cur.Addr.IsValid() {
			cur.Addr = sd.SessionAddr
		}
		if cur.Direction == "" {
			cur.Direction = sessionDir
		}
		sd.Media = append(sd.Media, *cur)
		cur = nil
	}
	for _, line := range sdpLines(b) {
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		typ, val := line[0], strings.TrimSpace(line[2:])
		switch typ {
		case 'v':
			seen = true
		case 'o':
			seen = true
			if cur == nil {
				sd.Origin = val
			}
		case 'c':
			addr := parseConnection(val)
			if cur == nil {
				sd.SessionAddr = addr
			} else {
				cur.Addr = addr
			}
		case 'm':
			seen = true
			finish()
			cur = parseMLine(val)
			cur.Index = len(sd.Media)
			fmtps = map[uint8]string{}
			rtpmaps = map[uint8]Format{}
		case 'a':
			name, value, _ := strings.Cut(val, ":")
			name = strings.ToLower(strings.TrimSpace(name))
			value = strings.TrimSpace(value)
			switch name {
			case "sendonly", "recvonly", "sendrecv", "inactive":
				if cur == nil {
					sessionDir = name
				} else {
					cur.Direction = name
				}
			}
			if cur == nil {
				continue
			}
			switch name {
			case "label":
				cur.Label = value
			case "rtpmap":
				if pt, f, ok := parseRtpmap(value, cur.Type); ok {
					rtpmaps[pt] = f
				}
			case "fmtp":
				ptText, params, _ := strings.Cut(value, " ")
				if pt, err := strconv.ParseUint(strings.TrimSpace(ptText), 10, 8); err == nil {
					fmtps[uint8(pt)] = strings.TrimSpace(params)
				}
			case "rtcp":
				portText, _, _ := strings.Cut(value, " ")
				if p, err := strconv.Atoi(portText); err == nil && p > 0 && p < 65536 {
					cur.RTCPPort = p
				}
			case "rtcp-mux":
				cur.RTCPMux = true
			case "crypto":
				cur.Crypto = append(cur.Crypto, value)
			}
		}
	}
	finish()
	if !seen {
		return nil, ErrNotSDP
	}
	return sd, nil
}

// sdpLines splits an SDP body into logical lines. Any of CRLF, LF and CR
// ends a line; trailing white space is dropped. A line that starts with
// white space, or does not start with "<letter>=", continues the line
// before it (an attribute wrapped by a sloppy SRC): a continuation after
// white space is joined with one space, otherwise with none.
func sdpLines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		var raw []byte
		if i < 0 {
			raw, b = b, nil
		} else {
			raw = b[:i]
			if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
				b = b[i+2:]
			} else {
				b = b[i+1:]
			}
		}
		line := strings.TrimRight(string(raw), " \t")
		if line == "" {
			continue
		}
		isNew := len(line) >= 2 && line[1] == '=' && line[0] >= 'a' && line[0] <= 'z'
		switch {
		case isNew || len(out) == 0:
			out = append(out, line)
		case line[0] == ' ' || line[0] == '\t':
			out[len(out)-1] += " " + strings.TrimSpace(line)
		default:
			out[len(out)-1] += line
		}
	}
	return out
}

// parseConnection reads "IN IP4 192.0.2.1[/ttl[/n]]" (RFC 4566 §5.7). A
// host name or garbage gives an invalid Addr.
func parseConnection(v string) netip.Addr {
	f := strings.Fields(v)
	if len(f) < 3 {
		return netip.Addr{}
	}
	host, _, _ := strings.Cut(f[2], "/")
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap()
}

// parseMLine reads "<media> <port>[/<n>] <proto> <fmt> ..." (RFC 4566
// §5.14). Unreadable fields stay zero; non-numeric formats (non-RTP
// protocols) are skipped.
func parseMLine(v string) *Media {
	f := strings.Fields(v)
	m := &Media{}
	if len(f) > 0 {
		m.Type = strings.ToLower(f[0])
	}
	if len(f) > 1 {
		portText, _, _ := strings.Cut(f[1], "/")
		if p, err := strconv.Atoi(portText); err == nil && p >= 0 && p < 65536 {
			m.Port = p
		}
	}
	if len(f) > 2 {
		m.Proto = f[2]
	}
	for _, ft := range f[min(3, len(f)):] {
		pt, err := strconv.ParseUint(ft, 10, 8)
		if err != nil || pt > 127 {
			continue
		}
		dup := false
		for _, x := range m.Formats {
			if x.PT == uint8(pt) {
				dup = true
			}
		}
		if !dup {
			m.Formats = append(m.Formats, Format{PT: uint8(pt)})
		}
	}
	return m
}

// parseRtpmap reads "<pt> <name>/<rate>[/<channels>]" (RFC 4566 §6).
func parseRtpmap(v, mediaType string) (uint8, Format, bool) {
	ptText, enc, ok := strings.Cut(v, " ")
	if !ok {
		return 0, Format{}, false
	}
	pt, err := strconv.ParseUint(strings.TrimSpace(ptText), 10, 8)
	if err != nil || pt > 127 {
		return 0, Format{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	f := Format{PT: uint8(pt), Name: strings.ToUpper(strings.TrimSpace(parts[0]))}
	if len(parts) > 1 {
		f.ClockRate, _ = strconv.Atoi(strings.TrimSpace(parts[1]))
	}
	if len(parts) > 2 {
		f.Channels, _ = strconv.Atoi(strings.TrimSpace(parts[2]))
	}
	if f.Channels <= 0 && mediaType == "audio" {
		f.Channels = 1
	}
	if f.Channels < 0 {
		f.Channels = 0
	}
	return uint8(pt), f, true
}
