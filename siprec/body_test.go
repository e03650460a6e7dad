package siprec

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const (
	testSDP = "v=0\r\no=src 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=label:1\r\na=sendonly"
	testXML = `<?xml version="1.0" encoding="UTF-8"?>` + "\r\n" + `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><datamode>complete</datamode></recording>`
	// bare-LF metadata, as AudioCodes sends it.
	testXMLLF = "<?xml version=\"1.0\"?>\n<recording xmlns='urn:ietf:params:xml:ns:recording:1'>\n  <datamode>complete</datamode>\n</recording>"
	testBW    = "<?xml version=\"1.0\"?>\n<recording_metadata xmlns=\"urn:ietf:params:xml:ns:siprec\"><dataMode>complete</dataMode></recording_metadata>"
)

// crlf joins lines with CRLF.
func crlf(lines ...string) string { return strings.Join(lines, "\r\n") }

func TestParseBody(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		sdp         string // "" means nil
		metadata    string // "" means nil
		mdType      string
		others      []string // content types of Other
		problems    int
	}{
		{
			name:        "plain SDP re-INVITE",
			contentType: "application/sdp",
			body:        testSDP + "\r\n",
			sdp:         testSDP + "\r\n",
		},
		{
			name:        "plain metadata-only update, RFC 9806 type",
			contentType: "application/rs-metadata+xml",
			body:        testXML,
			metadata:    testXML,
			mdType:      "application/rs-metadata+xml",
		},
		{
			name:        "plain metadata-only update, RFC 7866 example type",
			contentType: "Application/RS-Metadata",
			body:        testXML,
			metadata:    testXML,
			mdType:      "Application/RS-Metadata",
		},
		{
			name:        "RFC 7866 multipart",
			contentType: "multipart/mixed;boundary=rs",
			body: crlf("--rs", "Content-Type: application/sdp", "", testSDP, "",
				"--rs", "Content-Type: application/rs-metadata+xml", "Content-Disposition: recording-session", "", testXML,
				"--rs--", ""),
			sdp:      testSDP + "\r\n",
			metadata: testXML,
			mdType:   "application/rs-metadata+xml",
		},
		{
			name:        "parameters in any case and spacing, quoted boundary",
			contentType: `Multipart/Mixed ; Boundary = "b 1;x"`,
			body: crlf("--b 1;x", "Content-Type: application/sdp", "", testSDP,
				"--b 1;x", "Content-Type: application/rs-metadata+xml", "", testXML, "--b 1;x--"),
			sdp:      testSDP,
			metadata: testXML,
			mdType:   "application/rs-metadata+xml",
		},
		{
			name:        "metadata first, part headers without space (BroadWorks)",
			contentType: "multipart/mixed;boundary=UniqueBroadWorksBoundary",
			body: crlf("--UniqueBroadWorksBoundary", "Content-Type:application/rs-metadata+xml", "Content-Disposition:recording-session", "", testBW,
				"--UniqueBroadWorksBoundary", "Content-Type:application/sdp", "", testSDP, "--UniqueBroadWorksBoundary--"),
			sdp:      testSDP,
			metadata: testBW,
			mdType:   "application/rs-metadata+xml",
		},
		{
			name:        "bare LF everywhere keeps the XML byte for byte (AudioCodes)",
			contentType: "multipart/mixed; boundary=lf",
			body: "--lf\nContent-Type: application/sdp\n\nv=0\nm=audio 4 RTP/AVP 0\n" +
				"--lf\nContent-Type: application/rs-metadata\nContent-Disposition: recording-session\n\n" + testXMLLF + "\n--lf--\n",
			sdp:      "v=0\nm=audio 4 RTP/AVP 0",
			metadata: testXMLLF,
			mdType:   "application/rs-metadata",
		},
		{
			name:        "trailing white space on boundary and header lines (Cisco)",
			contentType: "multipart/mixed;boundary=uniqueBoundary",
			body: crlf("--uniqueBoundary ", "Content-Type: application/sdp  ", "Content-Disposition: session;handling=required\t", "", testSDP,
				"--uniqueBoundary \t", "Content-Type: application/rs-metadata+xml ", "Content-Disposition: recording-session ", "", testXML,
				"--uniqueBoundary", "Content-Type: application/gtd ", "Content-Disposition: signal;handling=optional ", "", "IAM,", "GCI,a50e84e0",
				"--uniqueBoundary-- ", ""),
			sdp:      testSDP,
			metadata: testXML,
			mdType:   "application/rs-metadata+xml",
			others:   []string{"application/gtd"},
		},
		{
			name:        "per-part Content-Length frames the content and drops padding",
			contentType: "multipart/mixed;boundary=cl",
			body: crlf("--cl", "Content-Type: application/sdp", "Content-Length: 10", "", "v=0\r\nm=x\r\n", "", "",
				"--cl", "Content-Type: application/rs-metadata+xml", "Content-Length: 4", "", "<r/>", "--cl--"),
			sdp:      "v=0\r\nm=x\r\n",
			metadata: "<r/>",
			mdType:   "application/rs-metadata+xml",
		},
		{
			name:        "wrong per-part Content-Length: the boundary wins",
			contentType: "multipart/mixed;boundary=cl",
			body: crlf("--cl", "Content-Type: application/sdp", "Content-Length: 999", "", testSDP,
				"--cl", "Content-Type: application/rs-metadata+xml", "Content-Length: 5", "", testXML, "--cl--"),
			sdp:      testSDP,
			metadata: testXML,
			mdType:   "application/rs-metadata+xml",
			problems: 2,
		},
		{
			name:        "preamble and epilogue are ignored",
			contentType: "multipart/mixed;boundary=pe",
			body: crlf("This is a multi-part message in MIME format.", "--pe-not-a-delimiter", "",
				"--pe", "Content-Type: application/sdp", "", testSDP,
				"--pe--", "epilogue text", "--pe", "Content-Type: application/rs-metadata+xml", "", testXML),
			sdp: testSDP,
		},
		{
			name:        "a line that merely starts with the boundary is content",
			contentType: "multipart/mixed;boundary=b",
			body: crlf("--b", "Content-Type: application/sdp", "", "v=0", "--bogus line", "m=audio 4 RTP/AVP 0",
				"--b--"),
			sdp: crlf("v=0", "--bogus line", "m=audio 4 RTP/AVP 0"),
		},
		{
			name:        "corrupted BroadWorks type, recognised by the disposition",
			contentType: "multipart/mixed;boundary=UniqueBroadWorksBoundary",
			body: crlf("--UniqueBroadWorksBoundary", "Content-Type:application/ +xml", "Content-Disposition:recording-session", "", testBW,
				"--UniqueBroadWorksBoundary", "Content-Type:application/sdp", "", testSDP, "--UniqueBroadWorksBoundary--"),
			sdp:      testSDP,
			metadata: testBW,
			mdType:   "application/ +xml",
			problems: 1,
		},
		{
			name:        "odd type without disposition, recognised by the XML root",
			contentType: "multipart/mixed;boundary=x",
			body: crlf("--x", "Content-Type: application/xml", "", testBW,
				"--x", "Content-Type: application/sdp", "", testSDP, "--x--"),
			sdp:      testSDP,
			metadata: testBW,
			mdType:   "application/xml",
			problems: 1,
		},
		{
			name:        "non-metadata XML part stays in Other",
			contentType: "multipart/mixed;boundary=x",
			body: crlf("--x", "Content-Type: application/sdp", "", testSDP,
				"--x", "Content-Type: application/pidf+xml", "", `<presence xmlns="urn:ietf:params:xml:ns:pidf"/>`, "--x--"),
			sdp:    testSDP,
			others: []string{"application/pidf+xml"},
		},
		{
			name:        "missing closing boundary, parts complete",
			contentType: "multipart/mixed;boundary=mc",
			body: crlf("--mc", "Content-Type: application/sdp", "", testSDP,
				"--mc", "Content-Type: application/rs-metadata+xml", "", testXML, ""),
			sdp:      testSDP,
			metadata: testXML,
			mdType:   "application/rs-metadata+xml",
			problems: 1,
		},
		{
			name:        "missing closing boundary, last part truncated by its Content-Length",
			contentType: "multipart/mixed;boundary=mc",
			body: crlf("--mc", "Content-Type: application/sdp", "", testSDP,
				"--mc", "Content-Type: application/rs-metadata+xml", "Content-Length: 500", "", testXML[:40]),
			sdp:      testSDP,
			problems: 1,
		},
		{
			name:        "missing closing boundary, last part headers cut off",
			contentType: "multipart/mixed;boundary=mc",
			body:        crlf("--mc", "Content-Type: application/sdp", "", testSDP, "--mc", "Content-Type: applic"),
			sdp:         testSDP,
			problems:    1,
		},
		{
			name:        "boundary parameter lost, taken from the body",
			contentType: "multipart/mixed",
			body:        crlf("", "--inferred", "Content-Type: application/sdp", "", testSDP, "--inferred--"),
			sdp:         testSDP,
			problems:    1,
		},
		{
			name:        "part without headers sniffed as SDP, folded header",
			contentType: "multipart/mixed;boundary=nh",
			body: crlf("--nh", "", testSDP,
				"--nh", "Content-Type:", " application/rs-metadata+xml", "", testXML, "--nh--"),
			sdp:      testSDP,
			metadata: testXML,
			mdType:   "application/rs-metadata+xml",
			problems: 1,
		},
		{
			name:        "empty metadata part is ignored, not half-classified",
			contentType: "multipart/mixed;boundary=e",
			body: crlf("--e", "Content-Type: application/sdp", "", testSDP,
				"--e", "Content-Type: application/rs-metadata+xml", "Content-Disposition: recording-session", "", "", "--e--"),
			sdp:      testSDP,
			others:   []string{"application/rs-metadata+xml"},
			problems: 1,
		},
		{
			name:        "body without Content-Type sniffed",
			contentType: "",
			body:        testBW,
			metadata:    testBW,
			problems:    1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			got, err := ParseBody(tc.contentType, body)
			if err != nil {
				t.Fatalf("ParseBody: %v", err)
			}
			check := func(what string, part []byte, want string) {
				t.Helper()
				if want == "" {
					if part != nil {
						t.Errorf("%s = %q, want none", what, part)
					}
					return
				}
				if string(part) != want {
					t.Errorf("%s =\n%q\nwant\n%q", what, part, want)
				}
				if !bytes.Contains(body, part) {
					t.Errorf("%s is not a slice of the body as received", what)
				}
			}
			check("SDP", got.SDP, tc.sdp)
			check("metadata", got.Metadata, tc.metadata)
			if got.MetadataType != tc.mdType {
				t.Errorf("metadata type %q, want %q", got.MetadataType, tc.mdType)
			}
			var others []string
			for _, p := range got.Other {
				if p.ContentType != "" || len(p.Body) > 0 {
					others = append(others, p.ContentType)
				}
			}
			if strings.Join(others, ",") != strings.Join(tc.others, ",") {
				t.Errorf("other parts %q, want %q", others, tc.others)
			}
			if len(got.Problems) != tc.problems {
				t.Errorf("problems %q, want %d", got.Problems, tc.problems)
			}
		})
	}
}

func TestParseBodyErrors(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        []byte
		want        error
	}{
		{"empty body", "application/sdp", nil, ErrEmptyBody},
		{"white space only", "multipart/mixed;boundary=x", []byte(" \r\n\t\r\n"), ErrEmptyBody},
		{"over 256 KiB", "application/sdp", bytes.Repeat([]byte("a"), MaxBodySize+1), ErrTooLarge},
		{"boundary never occurs", "multipart/mixed;boundary=nope", []byte(crlf("--other", "Content-Type: application/sdp", "", testSDP, "--other--")), ErrNoBoundary},
		{"no boundary parameter, nothing to infer", "multipart/mixed", []byte(testSDP), ErrNoBoundary},
		{"only a GTD part", "multipart/mixed;boundary=g", []byte(crlf("--g", "Content-Type: application/gtd", "", "IAM,", "--g--")), ErrNoSDPOrMetadata},
		{"plain text", "text/plain", []byte("hello"), ErrNoSDPOrMetadata},
		{"metadata request is not metadata", TypeMetadataRequest, []byte("<recording/>"), ErrNoSDPOrMetadata},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBody(tc.contentType, tc.body)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v (body %+v), want %v", err, got, tc.want)
			}
		})
	}
}

func TestParseMediaType(t *testing.T) {
	for _, tc := range []struct {
		in, typ, boundary string
	}{
		{"multipart/mixed;boundary=abc", "multipart/mixed", "abc"},
		{` MULTIPART/MIXED ;  BOUNDARY="a;b\"c" ; charset=x`, "multipart/mixed", `a;b"c`},
		{"multipart/mixed;;boundary=x;junk", "multipart/mixed", "x"},
		{"application/ +xml", "application/ +xml", ""},
		{"", "", ""},
	} {
		typ, params := parseMediaType(tc.in)
		if typ != tc.typ || params["boundary"] != tc.boundary {
			t.Errorf("parseMediaType(%q) = %q %q, want %q %q", tc.in, typ, params["boundary"], tc.typ, tc.boundary)
		}
	}
}
