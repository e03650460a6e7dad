package siprec

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
)

func mustParse(t *testing.T, doc string) *Metadata {
	t.Helper()
	m, err := ParseMetadata([]byte(doc))
	if err != nil {
		t.Fatalf("ParseMetadata: %v", err)
	}
	return m
}

func TestParseMetadataDialects(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want *Metadata
	}{
		{
			name: "RFC 7865, associations before the objects they name",
			doc: `<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <participantstreamassoc participant_id="p1"><send>s1</send><recv>s2</recv></participantstreamassoc>
  <participantsessionassoc participant_id="p1" session_id="cs1"><associate-time>2026-03-02T10:15:00Z</associate-time></participantsessionassoc>
  <stream stream_id="s1" session_id="cs1"><label>10</label></stream>
  <participant participant_id="p1"><nameID aor="sip:a@example.com"><name xml:lang="en">A</name></nameID></participant>
  <session session_id="cs1"><sipSessionID>ab;remote=cd</sipSessionID><group-ref>g1</group-ref><start-time>2026-03-02T10:15:00Z</start-time><stop-time>2026-03-02T10:16:00.5+01:00</stop-time></session>
  <datamode>partial</datamode>
</recording>`,
			want: &Metadata{
				Namespace: NSRecording,
				DataMode:  "partial",
				Sessions: []Session{{
					ID: "cs1", GroupID: "g1", SIPSessionIDs: []string{"ab;remote=cd"},
					StartTime: "2026-03-02T10:15:00Z", StopTime: "2026-03-02T10:16:00.5+01:00",
					Start: time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC), Stop: time.Date(2026, 3, 2, 9, 16, 0, 5e8, time.UTC),
				}},
				Participants: []Participant{{
					ID: "p1", AORs: []string{"sip:a@example.com"}, Names: []string{"A"},
					Send: []string{"s1"}, Recv: []string{"s2"}, SessionIDs: []string{"cs1"}, StreamInfo: true,
				}},
				Streams: []Stream{{ID: "s1", SessionID: "cs1", Label: "10"}},
			},
		},
		{
			name: "any prefix, dataMode camelCase, disassociated participant, sessiongroupassoc",
			doc: `<?xml version="1.0"?>
<x:recording xmlns:x="urn:ietf:params:xml:ns:recording:1">
  <x:dataMode>Complete</x:dataMode>
  <x:session session_id="cs"/>
  <x:sessiongroupassoc session_id="cs" group_id="g"/>
  <x:participant participant_id="p"><x:nameID aor="bob@example.com"/></x:participant>
  <x:participantsessionassoc participant_id="p" session_id="cs"><x:disassociate-time>2026-03-02T10:20:00Z</x:disassociate-time></x:participantsessionassoc>
</x:recording>`,
			want: &Metadata{
				Namespace: NSRecording,
				DataMode:  "complete",
				Sessions:  []Session{{ID: "cs", GroupID: "g"}},
				Participants: []Participant{{
					ID: "p", AORs: []string{"bob@example.com"}, SessionIDs: []string{"cs"},
					Disassociated: true, DisassociateTime: "2026-03-02T10:20:00Z",
				}},
			},
		},
		{
			name: "pre-RFC BroadWorks model: send ids wrapped in <id>",
			doc: `<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec">
<dataMode>complete</dataMode>
<group id="g" recording="r"><initiator>sip:u@example.com</initiator></group>
<session id="s" group="g"><start-time>2026-03-02T10:15:00+00:00</start-time></session>
<participant id="p" session="s"><aor>sip:u@example.com</aor><name>U</name><send><id>st1</id><id>st2</id></send></participant>
<stream id="st1" session="s"><label>1</label><mode>Separate</mode></stream>
</recording_metadata>`,
			want: &Metadata{
				Namespace: NSSiprecPreRFC,
				DataMode:  "complete",
				Groups:    []Group{{ID: "g", Initiator: "sip:u@example.com"}},
				Sessions:  []Session{{ID: "s", GroupID: "g", StartTime: "2026-03-02T10:15:00+00:00", Start: time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)}},
				Participants: []Participant{{
					ID: "p", AORs: []string{"sip:u@example.com"}, Names: []string{"U"},
					Send: []string{"st1", "st2"}, SessionIDs: []string{"s"}, StreamInfo: true,
				}},
				Streams: []Stream{{ID: "st1", SessionID: "s", Label: "1", Mode: "separate"}},
			},
		},
		{
			name: "no namespace at all, unknown elements kept as extensions",
			doc:  `<recording><session session_id="s"><channel>3</channel></session><role>calling</role></recording>`,
			want: &Metadata{
				Sessions:   []Session{{ID: "s"}},
				Extensions: []Extension{{ParentID: "s", XML: "<channel>3</channel>"}, {XML: "<role>calling</role>"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustParse(t, tc.doc)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestParseMetadataExtensionsVerbatim(t *testing.T) {
	doc := `<recording xmlns='urn:ietf:params:xml:ns:recording' xmlns:apkt="http://acmepacket.com/siprec/extensiondata">
<participant id="p1"><apkt:callingParty  a="1">true</apkt:callingParty></participant>
<session id="s1"><extensiondata><apkt:ucid>00FA;encoding=hex</apkt:ucid></extensiondata></session>
<extensiondata id="e" parent="s1"><vendorData xmlns="http://vendor.example/x">
  <v>1 &amp; 2</v>
</vendorData></extensiondata>
</recording>`
	got := mustParse(t, doc)
	want := []Extension{
		{ParentID: "p1", XML: `<apkt:callingParty xmlns:apkt="http://acmepacket.com/siprec/extensiondata"  a="1">true</apkt:callingParty>`},
		{ParentID: "s1", XML: `<extensiondata xmlns:apkt="http://acmepacket.com/siprec/extensiondata"><apkt:ucid>00FA;encoding=hex</apkt:ucid></extensiondata>`},
		{ParentID: "s1", XML: "<extensiondata id=\"e\" parent=\"s1\"><vendorData xmlns=\"http://vendor.example/x\">\n  <v>1 &amp; 2</v>\n</vendorData></extensiondata>"},
	}
	if !reflect.DeepEqual(got.Extensions, want) {
		t.Errorf("extensions\n%q\nwant\n%q", got.Extensions, want)
	}
	// The prefix declared on the root travels with the fragment, so Vendor
	// still recognises Acme data after the fragment is stored alone.
	v := got.Vendor()
	if v.Vendor != VendorAvaya || v.UCID != "00FA" {
		t.Errorf("vendor %+v", v)
	}
}

func TestParseMetadataLatin1(t *testing.T) {
	doc := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><recording xmlns=\"urn:ietf:params:xml:ns:recording:1\"><participant participant_id=\"p\"><nameID aor=\"sip:x@y\"><name>Jos\xe9</name></nameID></participant></recording>")
	m, err := ParseMetadata(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Participants[0].Names; len(got) != 1 || got[0] != "José" {
		t.Errorf("names %q, want José", got)
	}
}

func TestParseMetadataErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  []byte
		want error
	}{
		{"empty", nil, ErrMalformedXML},
		{"not XML", []byte("v=0\r\n"), ErrMalformedXML},
		{"unclosed", []byte(`<recording xmlns="urn:ietf:params:xml:ns:recording:1"><session>`), ErrMalformedXML},
		{"mismatched tags", []byte(`<recording><a></b></recording>`), ErrMalformedXML},
		{"two roots", []byte(`<recording/><recording/>`), ErrMalformedXML},
		{"too deep", []byte(strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)), ErrMalformedXML},
		{"unknown root", []byte(`<presence xmlns="urn:ietf:params:xml:ns:pidf"/>`), ErrUnknownRoot},
		{"too large", append([]byte("<recording>"), bytes.Repeat([]byte(" "), MaxBodySize)...), ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseMetadata(tc.doc); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-03-02T10:15:00Z", time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)},
		{"2026-03-02T10:15:00.123456Z", time.Date(2026, 3, 2, 10, 15, 0, 123456000, time.UTC)},
		{"2026-03-02T11:15:00+01:00", time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)},
		{"2026-03-02T05:15:00-0500", time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)},
		{"2026-03-02T10:15:00", time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)},
		{"2026-03-02T10:15:00.5", time.Date(2026, 3, 2, 10, 15, 0, 5e8, time.UTC)},
		{" 2026-03-02 10:15:00 ", time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)},
		{"1970-01-01T00:00:00Z", time.Unix(0, 0).UTC()},
		{"yesterday", time.Time{}},
		{"", time.Time{}},
	} {
		if got := parseTime(tc.in); !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, want %v UTC", tc.in, got, tc.want)
		}
	}
}

func TestVendor(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want callrec.VendorData
	}{
		{
			name: "BroadWorks terminating call",
			doc: `<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"><session id="s"/>
<extensiondata id="e" parent="s"><broadWorksRecordingMetadata xmlns="http://schema.broadsoft.com/broadworksCallRecording">
<userID>u@example.com</userID><callType><termCall><callingPartyNumber>sip:1@x</callingPartyNumber><calledPartyNumber>sip:2@x</calledPartyNumber></termCall></callType>
</broadWorksRecordingMetadata></extensiondata></recording_metadata>`,
			want: callrec.VendorData{Vendor: "broadworks", UserID: "u@example.com", RecordedParty: "u@example.com", Direction: "terminating", CallingNumber: "sip:1@x", CalledNumber: "sip:2@x"},
		},
		{
			name: "BroadWorks block with pieces missing",
			doc:  `<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"><extensiondata><broadWorksRecordingMetadata xmlns="http://schema.broadsoft.com/broadworksCallRecording"><groupID>G</groupID></broadWorksRecordingMetadata></extensiondata></recording_metadata>`,
			want: callrec.VendorData{Vendor: "broadworks", GroupID: "G"},
		},
		{
			name: "Metaswitch originating call",
			doc:  `<recording xmlns="urn:ietf:params:xml:ns:recording"><extensiondata><metaswitchRecordingMetadata><callType>originating</callType><recordedParty>+44123</recordedParty></metaswitchRecordingMetadata></extensiondata></recording>`,
			want: callrec.VendorData{Vendor: "metaswitch", Direction: "originating", RecordedParty: "+44123"},
		},
		{
			name: "Oracle without UCID, caller unknown participant",
			doc:  `<recording xmlns="urn:ietf:params:xml:ns:recording"><session id="s"><extensiondata xmlns:apkt="http://acmepacket.com/siprec/extensiondata"><apkt:realm>core</apkt:realm></extensiondata></session></recording>`,
			want: callrec.VendorData{Vendor: "oracle"},
		},
		{
			name: "Cisco extension with a GUID (assumed shape)",
			doc:  `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><session session_id="s"><ciscoExtension xmlns="http://www.cisco.com/siprec"><callGUID>A50E84E0-468D04EF</callGUID></ciscoExtension></session></recording>`,
			want: callrec.VendorData{Vendor: "cisco", CiscoGUID: "A50E84E0-468D04EF"},
		},
		{
			name: "Sonus callData with bare header values",
			doc:  `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><group group_id="g"><callData xmlns="urn:ietf:params:xml:ns:callData"><fromhdr>sip:1@x;tag=a</fromhdr><gcid>77</gcid></callData></group></recording>`,
			want: callrec.VendorData{Vendor: "sonus", CallID: "77", CallingNumber: "sip:1@x"},
		},
		{
			name: "unknown extension",
			doc:  `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><session session_id="s"><foo xmlns="urn:x">1</foo></session></recording>`,
			want: callrec.VendorData{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustParse(t, tc.doc).Vendor(); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestStreamByLabelAndSenderOf(t *testing.T) {
	m := &Metadata{
		Streams:      []Stream{{ID: "a", Label: "01"}, {ID: "b", Label: "1"}},
		Participants: []Participant{{ID: "p1", Recv: []string{"b"}}, {ID: "p2", Send: []string{"b"}}, {ID: "p3", Send: []string{"b"}}},
	}
	if s := m.StreamByLabel("1"); s == nil || s.ID != "b" {
		t.Errorf("StreamByLabel(1) = %+v: labels are tokens, not numbers", s)
	}
	if s := m.StreamByLabel("2"); s != nil {
		t.Errorf("StreamByLabel(2) = %+v, want nil", s)
	}
	if p := m.SenderOf("b"); p == nil || p.ID != "p2" {
		t.Errorf("SenderOf(b) = %+v, want p2", p)
	}
	if p := m.SenderOf("a"); p != nil {
		t.Errorf("SenderOf(a) = %+v, want nil", p)
	}
	if p := m.SenderOf(""); p != nil {
		t.Errorf("SenderOf(\"\") = %+v, want nil", p)
	}
}
