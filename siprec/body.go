package siprec

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// Media types of recording session bodies (RFC 7866 §9, RFC 9806).
const (
	// TypeSDP is the media type of the SDP part.
	TypeSDP = "application/sdp"
	// TypeMetadata is the metadata media type registered by RFC 9806 and
	// the one an SRC should send.
	TypeMetadata = "application/rs-metadata+xml"
	// TypeMetadataLegacy is the metadata media type of RFC 7866's examples,
	// still sent by many SRCs.
	TypeMetadataLegacy = "application/rs-metadata"
	// TypeMetadataRequest is the body type of an SRS's snapshot request
	// (RFC 7866 §9.2).
	TypeMetadataRequest = "application/rs-metadata-request"
	// DispositionRecordingSession is the Content-Disposition of the
	// metadata part (RFC 7866 §11.3).
	DispositionRecordingSession = "recording-session"
)

// Part is one body part of a multipart body (RFC 2046 §5.1). Body aliases the
// bytes passed to ParseBody.
type Part struct {
	ContentType string // header value as received, trimmed; "" when absent
	Disposition string // Content-Disposition value as received, trimmed
	Body        []byte
}

// Body is a recording session body split into what the SRS needs. Byte
// slices alias the body passed to ParseBody and are never rewritten: line
// endings, white space and encoding are exactly as received.
type Body struct {
	SDP          []byte // nil when there is no SDP part
	Metadata     []byte // nil when there is no metadata part
	MetadataType string // Content-Type of the metadata part as received
	Other        []Part // parts that are neither (e.g. Cisco application/gtd), ignored
	// Problems lists oddities that did not stop parsing (missing closing
	// boundary, a wrong part Content-Length, a metadata part recognised by
	// sniffing...), for the session's problem log.
	Problems []string
}

// ParseBody splits a SIP message body into its SDP and recording metadata
// parts (RFC 7866 §9). contentType is the message's Content-Type header
// value. A plain application/sdp body (a re-INVITE without metadata) and a
// plain metadata body (a metadata-only update) are accepted as well as
// multipart/mixed bodies.
//
// Parsing is lenient (siprec-interop.md §6.1 item 2): parts in any order,
// Content-Type parameters in any case and spacing, part headers without a
// space after the colon, bare-LF line endings, trailing white space on
// boundary and header lines, per-part Content-Length, preamble and epilogue,
// extra parts, a missing closing boundary when the parts are complete, and
// metadata parts with an odd type (recognised by Content-Disposition
// recording-session or by their XML root element).
func ParseBody(contentType string, body []byte) (*Body, error) {
	if len(body) > MaxBodySize {
		return nil, fmt.Errorf("siprec: body of %d bytes: %w", len(body), ErrTooLarge)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, ErrEmptyBody
	}
	typ, params := parseMediaType(contentType)
	out := &Body{}
	if strings.HasPrefix(typ, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			boundary = inferBoundary(body)
			if boundary == "" {
				return nil, fmt.Errorf("siprec: %q has no boundary parameter: %w", contentType, ErrNoBoundary)
			}
			out.Problems = append(out.Problems, "multipart Content-Type without boundary parameter; boundary taken from the body")
		}
		parts, problems, err := splitMultipart(body, boundary)
		out.Problems = append(out.Problems, problems...)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			out.classify(p)
		}
	} else {
		out.classify(Part{ContentType: strings.TrimSpace(contentType), Body: body})
	}
	if out.SDP == nil && out.Metadata == nil {
		return nil, fmt.Errorf("siprec: body of type %q: %w", typ, ErrNoSDPOrMetadata)
	}
	return out, nil
}

// classify files one part as SDP, metadata or other. The first SDP part and
// the first metadata part win; later ones go to Other.
func (b *Body) classify(p Part) {
	typ, _ := parseMediaType(p.ContentType)
	disp, _ := parseMediaType(p.Disposition)
	if len(bytes.TrimSpace(p.Body)) == 0 {
		b.Other = append(b.Other, p)
		if typ != "" {
			b.Problems = append(b.Problems, fmt.Sprintf("empty part of type %q ignored", p.ContentType))
		}
		return
	}
	switch {
	case typ == TypeSDP && b.SDP == nil:
		b.SDP = p.Body
	case (typ == TypeMetadata || typ == TypeMetadataLegacy || disp == DispositionRecordingSession) && b.Metadata == nil:
		b.Metadata = p.Body
		b.MetadataType = p.ContentType
		if typ != TypeMetadata && typ != TypeMetadataLegacy {
			b.Problems = append(b.Problems, fmt.Sprintf("metadata part with Content-Type %q recognised by its Content-Disposition", p.ContentType))
		}
	case typ != TypeSDP && typ != TypeMetadataRequest && b.Metadata == nil && sniffMetadata(p.Body):
		b.Metadata = p.Body
		b.MetadataType = p.ContentType
		b.Problems = append(b.Problems, fmt.Sprintf("metadata part with Content-Type %q recognised by its XML root", p.ContentType))
	case typ == "" && b.SDP == nil && sniffSDP(p.Body):
		b.SDP = p.Body
		b.Problems = append(b.Problems, "SDP part without Content-Type recognised by its v= line")
	default:
		b.Other = append(b.Other, p)
	}
}

// parseMediaType parses a Content-Type or Content-Disposition value
// leniently: the type is lower-cased and trimmed, parameter names are
// lower-cased, values are unquoted, white space around ';' and '=' is
// ignored, and malformed parameters are skipped (RFC 2045 §5.1 grammar,
// liberally read).
func parseMediaType(v string) (string, map[string]string) {
	typ, rest, _ := strings.Cut(v, ";")
	typ = strings.ToLower(strings.TrimSpace(typ))
	var params map[string]string
	for rest != "" {
		var seg string
		seg, rest = cutParam(rest)
		name, val, ok := strings.Cut(seg, "=")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = unquote(val[1 : len(val)-1])
		}
		if name == "" {
			continue
		}
		if params == nil {
			params = make(map[string]string)
		}
		if _, dup := params[name]; !dup {
			params[name] = val
		}
	}
	return typ, params
}

// cutParam returns the text up to the next ';' outside double quotes and
// what follows it.
func cutParam(s string) (string, string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

func unquote(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// inferBoundary returns the boundary of a multipart body whose Content-Type
// lost its boundary parameter: the first non-blank line when it starts with
// "--".
func inferBoundary(body []byte) string {
	for len(body) > 0 {
		line, rest, _ := bytes.Cut(body, []byte("\n"))
		body = rest
		line = bytes.TrimRight(line, " \t\r")
		if len(line) == 0 {
			continue
		}
		if bytes.HasPrefix(line, []byte("--")) && len(line) > 2 && len(line) <= 72 {
			return string(bytes.TrimSuffix(line[2:], []byte("--")))
		}
		return ""
	}
	return ""
}

// delimiter is one boundary line found in a multipart body.
type delimiter struct {
	start int  // index of the leading "--"
	next  int  // index just after the line, where the part's content begins
	close bool // the closing delimiter "--boundary--"
}

// findDelimiter returns the first delimiter line at or after from. A
// delimiter is "--" boundary at the start of a line, followed by "--" (the
// closing delimiter) or by optional transport padding (spaces, tabs) and the
// end of the line (RFC 2046 §5.1.1). Any other text after the boundary means
// the line is content.
func findDelimiter(body []byte, dash []byte, from int) (delimiter, bool) {
	for from <= len(body) {
		i := bytes.Index(body[from:], dash)
		if i < 0 {
			return delimiter{}, false
		}
		start := from + i
		from = start + 1
		if start > 0 && body[start-1] != '\n' {
			continue
		}
		j := start + len(dash)
		d := delimiter{start: start}
		if bytes.HasPrefix(body[j:], []byte("--")) {
			d.close = true
			j += 2
		}
		for j < len(body) && (body[j] == ' ' || body[j] == '\t') {
			j++
		}
		switch {
		case j == len(body):
			d.next = j
			return d, true
		case body[j] == '\n':
			d.next = j + 1
			return d, true
		case body[j] == '\r' && j+1 < len(body) && body[j+1] == '\n':
			d.next = j + 2
			return d, true
		case body[j] == '\r' && j+1 == len(body):
			d.next = j + 1
			return d, true
		case d.close:
			// "--boundary--epilogue" on one line: still the end.
			d.next = j
			return d, true
		}
	}
	return delimiter{}, false
}

// splitMultipart splits body at the delimiters of boundary (RFC 2046
// §5.1.1). The line break before a delimiter belongs to the delimiter, so
// part contents keep every other byte as received.
func splitMultipart(body []byte, boundary string) ([]Part, []string, error) {
	dash := []byte("--" + boundary)
	d, ok := findDelimiter(body, dash, 0)
	if !ok {
		return nil, nil, fmt.Errorf("siprec: boundary %q never occurs in the body: %w", boundary, ErrNoBoundary)
	}
	var parts []Part
	var problems []string
	for !d.close {
		next, found := findDelimiter(body, dash, d.next)
		if !found {
			// No closing delimiter: the rest is the last part if complete.
			p, complete, why := parsePart(body[d.next:], true)
			if complete {
				parts = append(parts, p)
				problems = append(problems, "multipart body has no closing boundary")
			} else {
				problems = append(problems, "multipart body has no closing boundary and its last part is incomplete ("+why+"); part ignored")
			}
			break
		}
		content := trimEOL(body[d.next:next.start])
		p, _, why := parsePart(content, false)
		if why != "" {
			problems = append(problems, why)
		}
		parts = append(parts, p)
		d = next
	}
	return parts, problems, nil
}

// trimEOL removes one trailing line break (CRLF or LF).
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// parsePart parses one part's headers and returns the part. truncated says
// the part was not closed by a delimiter (the body ended first); such a part
// is complete only when its header section ended and, if it declared a
// Content-Length, that many bytes are present. why explains an incomplete
// part or a Content-Length that did not fit.
func parsePart(content []byte, truncated bool) (p Part, complete bool, why string) {
	rest := content
	headersEnded := false
	contentLength := -1
	var lastName *string
	for len(rest) > 0 {
		line, after, hasEOL := bytes.Cut(rest, []byte("\n"))
		trimmed := bytes.TrimRight(line, " \t\r")
		if len(trimmed) == 0 {
			if hasEOL {
				rest = after
			} else {
				rest = nil
			}
			headersEnded = true
			break
		}
		if (trimmed[0] == ' ' || trimmed[0] == '\t') && lastName != nil {
			// Folded header line (RFC 5322 §2.2.3).
			if *lastName != "" {
				*lastName += " "
			}
			*lastName += string(bytes.TrimSpace(trimmed))
			rest = after
			continue
		}
		name, val, ok := bytes.Cut(trimmed, []byte(":"))
		if !ok || !isToken(bytes.TrimRight(name, " \t")) {
			// Not a header: a part without headers (or without the blank
			// line after them). The body starts here.
			headersEnded = true
			break
		}
		if !hasEOL {
			// A header line the body ends on: the header section never ended.
			rest = nil
			break
		}
		rest = after
		value := string(bytes.TrimSpace(val))
		lastName = nil
		switch strings.ToLower(string(bytes.TrimRight(name, " \t"))) {
		case "content-type", "c":
			p.ContentType = value
			lastName = &p.ContentType
		case "content-disposition":
			p.Disposition = value
			lastName = &p.Disposition
		case "content-length", "l":
			if n, err := strconv.Atoi(value); err == nil && n >= 0 {
				contentLength = n
			}
		}
	}
	if !headersEnded {
		if truncated {
			return p, false, "its header section never ends"
		}
		// A delimited part made only of headers has an empty body.
		p.Body = rest[:0:0]
		return p, true, ""
	}
	p.Body = rest
	if contentLength >= 0 {
		switch {
		case contentLength > len(rest):
			if truncated {
				return p, false, fmt.Sprintf("Content-Length %d but only %d bytes", contentLength, len(rest))
			}
			why = fmt.Sprintf("part Content-Length %d exceeds the %d bytes before the next boundary; boundary used", contentLength, len(rest))
		case len(bytes.TrimSpace(rest[contentLength:])) == 0:
			// Content-Length frames the content; what follows is padding.
			p.Body = rest[:contentLength]
		default:
			why = fmt.Sprintf("part Content-Length %d is shorter than its %d bytes of content; boundary used", contentLength, len(rest))
		}
	} else if truncated {
		p.Body = trimEOL(rest)
	}
	return p, true, why
}

// isToken reports whether b is a non-empty RFC 2045 token (a valid header
// field name).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// sniffSDP reports whether b starts like an SDP session description.
func sniffSDP(b []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("v=0"))
}

// sniffMetadata reports whether b is XML whose root element is recording or
// recording_metadata, in any namespace. It reads only up to the root start
// tag.
func sniffMetadata(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(t) == 0 || t[0] != '<' {
		return false
	}
	dec := xml.NewDecoder(bytes.NewReader(t))
	dec.Strict = false
	dec.CharsetReader = identityCharset
	for i := 0; i < 64; i++ {
		tok, err := dec.RawToken()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return isRootName(se.Name.Local)
		}
	}
	return false
}

func isRootName(local string) bool {
	return strings.EqualFold(local, "recording") || strings.EqualFold(local, "recording_metadata")
}
