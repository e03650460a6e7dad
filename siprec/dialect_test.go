package siprec

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
)

// dialectWant is what one SIPp scenario's INVITE must parse to.
type dialectWant struct {
	scenario     string
	metadataType string
	namespace    string
	otherTypes   []string // content types of the ignored parts
	labels       []string // per m-line
	directions   []string // per m-line
	formats      [][]string
	addr         []netip.Addr // per m-line; invalid when the SDP has no c=
	// senders maps each label to the first AOR of the participant that
	// sends it; nil when the metadata has no <stream> (fallback to m-line
	// order).
	senders  map[string]string
	modes    map[string]string // label -> stream mode, when declared
	start    time.Time
	startRaw string
	vendor   callrec.VendorData
	caller   string // AOR of Caller(), "" when no extension says
}

var local = netip.MustParseAddr("192.0.2.10")

var dialects = []dialectWant{
	{
		scenario:     "rfc7866",
		metadataType: "application/rs-metadata+xml",
		namespace:    NSRecording,
		labels:       []string{"1", "2"},
		directions:   []string{"sendonly", "sendonly"},
		formats:      [][]string{{"PCMU/8000", "TELEPHONE-EVENT/8000"}, {"PCMU/8000", "TELEPHONE-EVENT/8000"}},
		addr:         []netip.Addr{local, local},
		senders:      map[string]string{"1": "sip:+14085550101@pbx.example.com", "2": "sip:+12125550199@carrier.example.net"},
		start:        time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC),
		startRaw:     "2026-03-02T10:15:00Z",
	},
	{
		scenario:     "broadworks",
		metadataType: "application/rs-metadata+xml",
		namespace:    NSSiprecPreRFC,
		labels:       []string{"1"},
		directions:   []string{"sendonly"},
		formats:      [][]string{{"OPUS/48000/2", "G722/8000", "PCMU/8000", "PCMA/8000", "TELEPHONE-EVENT/48000", "TELEPHONE-EVENT/8000"}},
		addr:         []netip.Addr{local},
		senders:      map[string]string{"1": "sip:qz7prt2mvw@51230077.int10.bcld.webex.com"},
		modes:        map[string]string{"1": "mixed"},
		start:        time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC),
		startRaw:     "2026-03-02T10:15:00+00:00",
		vendor: callrec.VendorData{
			Vendor:            "broadworks",
			ServiceProviderID: "WQKTN572204",
			GroupID:           "WQKTN572204L48815",
			UserID:            "qz7prt2mvw@51230077.int10.bcld.webex.com",
			ExtTrackingID:     "f7702144-7038-493a-8a1e-165071fe5fe0",
			CallID:            "callhalf-72914455:0",
			Direction:         "originating",
			CallingNumber:     "sip:+13125550117@10.20.30.40;user=phone",
			CalledNumber:      "sip:+13125550142@10.20.30.40;user=phone",
			DialedDigits:      "13125550142",
			RecordingType:     "on",
			RecordedParty:     "qz7prt2mvw@51230077.int10.bcld.webex.com",
		},
	},
	{
		scenario:     "cisco",
		metadataType: "application/rs-metadata+xml",
		namespace:    NSRecording,
		otherTypes:   []string{"application/gtd"},
		labels:       []string{"1", "2"},
		directions:   []string{"sendonly", "sendonly"},
		formats:      [][]string{{"PCMU/8000", "TELEPHONE-EVENT/8000"}, {"PCMU/8000", "TELEPHONE-EVENT/8000"}},
		addr:         []netip.Addr{local, local},
		senders:      map[string]string{"1": "sip:+14085550101@192.0.2.50", "2": "sip:+12125550199@198.51.100.7"},
		start:        time.Date(2026, 3, 2, 10, 15, 0, 214e6, time.UTC),
		startRaw:     "2026-03-02T10:15:00.214Z",
	},
	{
		scenario:     "avaya",
		metadataType: "application/rs-metadata+xml",
		namespace:    NSRecordingDraft,
		labels:       []string{"201835599", "201835600"},
		directions:   []string{"sendonly", "sendonly"},
		formats:      [][]string{{"PCMU/8000", "TELEPHONE-EVENT/8000"}, {"PCMU/8000", "TELEPHONE-EVENT/8000"}},
		addr:         []netip.Addr{local, local},
		senders:      map[string]string{"201835599": "sip:+14085550101@sbce.example.com", "201835600": "sip:4711@cm.example.com"},
		modes:        map[string]string{"201835599": "separate", "201835600": "separate"},
		start:        time.Date(2026, 3, 2, 10, 15, 0, 482e6, time.UTC),
		startRaw:     "2026-03-02T10:15:00.482",
		vendor: callrec.VendorData{
			Vendor:        "avaya",
			UCID:          "00FA08001E61D9C4F3A812",
			CallingNumber: "sip:+14085550101@sbce.example.com",
			CalledNumber:  "sip:4711@cm.example.com",
		},
		caller: "sip:+14085550101@sbce.example.com",
	},
	{
		scenario:     "oracle",
		metadataType: "application/rs-metadata+xml",
		namespace:    NSRecordingDraft,
		labels:       []string{"16777227", "16777228"},
		directions:   []string{"sendonly", "sendonly"},
		formats:      [][]string{{"PCMU/8000", "TELEPHONE-EVENT/8000"}, {"PCMU/8000"}},
		addr:         []netip.Addr{local, local},
		senders:      map[string]string{"16777227": "sip:+442079460321@access.example.org", "16777228": "sip:+442079460777@core.example.org"},
		modes:        map[string]string{"16777227": "separate", "16777228": "separate"},
		start:        time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC),
		startRaw:     "2026-03-02T10:15:00",
		vendor: callrec.VendorData{
			Vendor:        "oracle",
			CallingNumber: "sip:+442079460321@access.example.org",
			CalledNumber:  "sip:+442079460777@core.example.org",
		},
		caller: "sip:+442079460321@access.example.org",
	},
	{
		scenario:     "metaswitch",
		metadataType: "application/rs-metadata",
		namespace:    NSRecordingDraft,
		labels:       []string{"1"},
		directions:   []string{"sendonly"},
		formats:      [][]string{{"PCMU/8000", "PCMA/8000", "TELEPHONE-EVENT/8000"}},
		addr:         []netip.Addr{local},
		senders:      map[string]string{"1": "sip:+441632960123@cfs.example.net"},
		start:        time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC),
		startRaw:     "2026-03-02T11:15:00+01:00",
		vendor: callrec.VendorData{
			Vendor:        "metaswitch",
			Direction:     "terminating",
			RecordedParty: "+441632960123",
			DialedDigits:  "01632960123",
		},
	},
	{
		scenario:     "sonus",
		metadataType: "application/rs-metadata+xml",
		namespace:    NSRecording,
		labels:       []string{"1", "2"},
		directions:   []string{"sendonly", "sendonly"},
		formats:      [][]string{{"PCMU/8000", "TELEPHONE-EVENT/8000"}, {"PCMU/8000", "TELEPHONE-EVENT/8000"}},
		addr:         []netip.Addr{local, local},
		senders:      map[string]string{"1": "+16175550100@sbc.example.com", "2": "+16175550142@sbc.example.com"},
		start:        time.Unix(0, 0).UTC(),
		startRaw:     "1970-01-01T00:00:00Z",
		vendor: callrec.VendorData{
			Vendor:        "sonus",
			CallID:        "2104721318",
			CallingNumber: "sip:+16175550100@sbc.example.com",
			CalledNumber:  "sip:+16175550142@sbc.example.com",
		},
	},
	{
		scenario:     "opensips",
		metadataType: "application/rs-metadata+xml",
		namespace:    NSRecording,
		labels:       []string{"0", "1"},
		directions:   []string{"sendonly", "sendonly"},
		formats:      [][]string{{"PCMU/8000", "PCMA/8000", "GSM/8000", "TELEPHONE-EVENT/8000"}, {"PCMU/8000", "PCMA/8000", "GSM/8000", "TELEPHONE-EVENT/8000"}},
		addr:         []netip.Addr{{}, {}},
		start:        time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC),
		startRaw:     "2026-03-02T10:15:00Z",
	},
}

// parseInvite runs the INVITE of a scenario through ParseBody, ParseSDP and
// ParseMetadata.
func parseInvite(t *testing.T, msg sippMsg) (*Body, *SessionDescription, *Metadata) {
	t.Helper()
	ct, _ := msg.Header("Content-Type")
	body, err := ParseBody(ct, msg.Body)
	if err != nil {
		t.Fatalf("ParseBody: %v", err)
	}
	sd, err := ParseSDP(body.SDP)
	if err != nil {
		t.Fatalf("ParseSDP: %v", err)
	}
	var md *Metadata
	if body.Metadata != nil {
		md, err = ParseMetadata(body.Metadata)
		if err != nil {
			t.Fatalf("ParseMetadata: %v", err)
		}
	}
	return body, sd, md
}

func TestDialectInvites(t *testing.T) {
	for _, want := range dialects {
		t.Run(want.scenario, func(t *testing.T) {
			invite := nthRequest(t, loadScenario(t, want.scenario, testValues), "INVITE", 0)
			body, sd, md := parseInvite(t, invite)

			if body.MetadataType != want.metadataType {
				t.Errorf("metadata type %q, want %q", body.MetadataType, want.metadataType)
			}
			var others []string
			for _, p := range body.Other {
				others = append(others, p.ContentType)
			}
			if !reflect.DeepEqual(others, want.otherTypes) {
				t.Errorf("other parts %q, want %q", others, want.otherTypes)
			}
			if len(body.Problems) != 0 {
				t.Errorf("unexpected problems: %q", body.Problems)
			}
			// The metadata bytes are exactly the part's content.
			if !strings.HasPrefix(string(body.Metadata), "<?xml") || !strings.HasSuffix(string(body.Metadata), ">") {
				t.Errorf("metadata part not framed exactly: %q...%q", body.Metadata[:10], body.Metadata[len(body.Metadata)-10:])
			}

			if len(sd.Media) != len(want.labels) {
				t.Fatalf("%d m-lines, want %d", len(sd.Media), len(want.labels))
			}
			for i, m := range sd.Media {
				if m.Index != i || m.Type != "audio" || m.Proto != "RTP/AVP" {
					t.Errorf("m-line %d: index %d type %q proto %q", i, m.Index, m.Type, m.Proto)
				}
				if m.Port != testValues.MediaPort+2*i {
					t.Errorf("m-line %d: port %d, want %d", i, m.Port, testValues.MediaPort+2*i)
				}
				if m.Label != want.labels[i] {
					t.Errorf("m-line %d: label %q, want %q", i, m.Label, want.labels[i])
				}
				if m.Direction != want.directions[i] {
					t.Errorf("m-line %d: direction %q, want %q", i, m.Direction, want.directions[i])
				}
				if m.Addr != want.addr[i] {
					t.Errorf("m-line %d: addr %v, want %v", i, m.Addr, want.addr[i])
				}
				if m.Paused() {
					t.Errorf("m-line %d: paused in an initial offer", i)
				}
				var fs []string
				for _, f := range m.Formats {
					fs = append(fs, f.String())
				}
				if !reflect.DeepEqual(fs, want.formats[i]) {
					t.Errorf("m-line %d: formats %q, want %q", i, fs, want.formats[i])
				}
			}

			if md.Namespace != want.namespace {
				t.Errorf("namespace %q, want %q", md.Namespace, want.namespace)
			}
			if md.IsPartial() {
				t.Errorf("initial metadata is partial")
			}
			if len(md.Sessions) != 1 {
				t.Fatalf("%d sessions, want 1", len(md.Sessions))
			}
			if s := md.Sessions[0]; s.StartTime != want.startRaw || !s.Start.Equal(want.start) {
				t.Errorf("start %q = %v, want %q = %v", s.StartTime, s.Start, want.startRaw, want.start)
			}
			for _, m := range sd.Media {
				st := md.StreamByLabel(m.Label)
				if want.senders == nil {
					if st != nil {
						t.Errorf("label %s: unexpected stream %+v", m.Label, st)
					}
					continue
				}
				if st == nil {
					t.Fatalf("label %s: no stream in metadata", m.Label)
				}
				p := md.SenderOf(st.ID)
				if p == nil || len(p.AORs) == 0 {
					t.Fatalf("label %s: no sender with an AOR", m.Label)
				}
				if p.AORs[0] != want.senders[m.Label] {
					t.Errorf("label %s: sender %q, want %q", m.Label, p.AORs[0], want.senders[m.Label])
				}
				if st.Mode != want.modes[m.Label] {
					t.Errorf("label %s: mode %q, want %q", m.Label, st.Mode, want.modes[m.Label])
				}
			}
			if got := md.Vendor(); got != want.vendor {
				t.Errorf("vendor\n got %+v\nwant %+v", got, want.vendor)
			}
			caller := ""
			if p := md.Caller(); p != nil && len(p.AORs) > 0 {
				caller = p.AORs[0]
			}
			if caller != want.caller {
				t.Errorf("caller %q, want %q", caller, want.caller)
			}
		})
	}
}

// TestDialectSignalling checks the SIP-level quirks each scenario promises,
// which the recorder relies on to recognise a recording session.
func TestDialectSignalling(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		require  bool   // Require: siprec on the INVITE
		contact  string // substring of the Contact that marks the SRC, "" for none
		extra    map[string]string
	}{
		{"rfc7866", true, ">;+sip.src", nil},
		{"broadworks", false, ";src>", map[string]string{"Supported": "", "Recv-Info": "", "X-BroadWorks-Correlation-Info": "f7702144-7038-493a-8a1e-165071fe5fe0"}},
		{"cisco", true, ">;+sip.src", map[string]string{"Cisco-Guid": "2769171840-1183646191-2159907137-3735416112"}},
		{"avaya", true, ">;+sip.src", nil},
		{"oracle", true, ">;+sip.src", nil},
		{"metaswitch", true, ">;+sip.src", nil},
		{"sonus", true, ">;+sip.src", map[string]string{"Accept": "application/sdp, application/rs-metadata-request"}},
		{"opensips", true, "", nil},
		{"not-siprec", false, "", nil},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			invite := nthRequest(t, loadScenario(t, tc.scenario, testValues), "INVITE", 0)
			req, _ := invite.Header("Require")
			if got := strings.Contains(req, "siprec"); got != tc.require {
				t.Errorf("Require %q: siprec present %v, want %v", req, got, tc.require)
			}
			contact, _ := invite.Header("Contact")
			hasSrc := strings.Contains(contact, "+sip.src") || strings.Contains(contact, ";src")
			if tc.contact == "" && hasSrc || tc.contact != "" && !strings.Contains(contact, tc.contact) {
				t.Errorf("Contact %q, want marker %q", contact, tc.contact)
			}
			for name, want := range tc.extra {
				got, ok := invite.Header(name)
				if !ok || got != want {
					t.Errorf("header %s = %q (present %v), want %q", name, got, ok, want)
				}
			}
		})
	}
}

// TestNotSIPREC: the plain call has an SDP body and nothing that makes it a
// recording session.
func TestNotSIPREC(t *testing.T) {
	invite := nthRequest(t, loadScenario(t, "not-siprec", testValues), "INVITE", 0)
	ct, _ := invite.Header("Content-Type")
	body, err := ParseBody(ct, invite.Body)
	if err != nil {
		t.Fatal(err)
	}
	if body.Metadata != nil || body.SDP == nil {
		t.Fatalf("SDP %v metadata %v, want SDP only", body.SDP != nil, body.Metadata != nil)
	}
	sd, err := ParseSDP(body.SDP)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Media) != 1 || sd.Media[0].Direction != "sendrecv" || sd.Media[0].Label != "" {
		t.Errorf("media %+v, want one unlabelled sendrecv m-line", sd.Media)
	}
}

func TestPauseResumeScenario(t *testing.T) {
	msgs := loadScenario(t, "pause-resume", testValues)
	for i, tc := range []struct {
		direction string
		paused    bool
		version   uint64
	}{
		{"sendonly", false, 1},
		{"inactive", true, 2},
		{"sendonly", false, 3},
	} {
		inv := nthRequest(t, msgs, "INVITE", i)
		ct, _ := inv.Header("Content-Type")
		body, err := ParseBody(ct, inv.Body)
		if err != nil {
			t.Fatalf("INVITE %d: %v", i, err)
		}
		if i > 0 && body.Metadata != nil {
			t.Errorf("INVITE %d carries metadata; pause/resume are SDP-only", i)
		}
		sd, err := ParseSDP(body.SDP)
		if err != nil {
			t.Fatalf("INVITE %d: %v", i, err)
		}
		if v, ok := sd.OriginVersion(); !ok || v != tc.version {
			t.Errorf("INVITE %d: o= version %d, want %d", i, v, tc.version)
		}
		if len(sd.Media) != 2 {
			t.Fatalf("INVITE %d: %d m-lines", i, len(sd.Media))
		}
		for j, m := range sd.Media {
			if m.Direction != tc.direction || m.Paused() != tc.paused {
				t.Errorf("INVITE %d m-line %d: direction %q paused %v, want %q %v", i, j, m.Direction, m.Paused(), tc.direction, tc.paused)
			}
			if want := []string{"1", "2"}[j]; m.Label != want {
				t.Errorf("INVITE %d m-line %d: label %q, want %q", i, j, m.Label, want)
			}
		}
	}
	// In-dialog requests go to the SRS's Contact with the dialog's To tag.
	for i := 1; i < 3; i++ {
		inv := nthRequest(t, msgs, "INVITE", i)
		if !strings.HasPrefix(inv.StartLine, "INVITE "+testValues.NextURL+" ") {
			t.Errorf("re-INVITE %d start line %q", i, inv.StartLine)
		}
		if to, _ := inv.Header("To"); !strings.Contains(to, "tag=") {
			t.Errorf("re-INVITE %d To %q has no tag", i, to)
		}
	}
}

func TestBroadWorksHoldScenario(t *testing.T) {
	msgs := loadScenario(t, "broadworks-hold", testValues)
	hold := nthRequest(t, msgs, "INVITE", 1)
	ct, _ := hold.Header("Content-Type")
	body, err := ParseBody(ct, hold.Body)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ParseSDP(body.SDP)
	if err != nil {
		t.Fatal(err)
	}
	if m := sd.Media[0]; !m.Paused() || m.Direction != "" || m.Addr != netip.IPv4Unspecified() || m.Label != "1" {
		t.Errorf("hold m-line: paused %v direction %q addr %v label %q; want paused, no direction, 0.0.0.0, label 1", m.Paused(), m.Direction, m.Addr, m.Label)
	}

	resume := nthRequest(t, msgs, "INVITE", 2)
	_, sd, md := parseInvite(t, resume)
	if m := sd.Media[0]; m.Paused() || m.Direction != "sendonly" || m.Addr != local {
		t.Errorf("resume m-line: paused %v direction %q addr %v", m.Paused(), m.Direction, m.Addr)
	}
	if md == nil || md.Vendor().Vendor != VendorBroadWorks || md.IsPartial() {
		t.Errorf("resume metadata: %+v", md)
	}
}

func TestCancelScenario(t *testing.T) {
	msgs := loadScenario(t, "cancel", testValues)
	invite := nthRequest(t, msgs, "INVITE", 0)
	cancel := nthRequest(t, msgs, "CANCEL", 0)
	ack487 := nthRequest(t, msgs, "ACK", 0)
	ack200 := nthRequest(t, msgs, "ACK", 1)
	branch := func(m sippMsg) string {
		via, _ := m.Header("Via")
		_, b, _ := strings.Cut(via, "branch=")
		return b
	}
	// RFC 3261 §9.1: CANCEL and the ACK of a non-2xx share the INVITE's
	// branch and Request-URI; the ACK of a 2xx is a new transaction.
	if branch(cancel) != branch(invite) || branch(ack487) != branch(invite) {
		t.Errorf("branches INVITE %q CANCEL %q ACK %q must match", branch(invite), branch(cancel), branch(ack487))
	}
	if branch(ack200) == branch(invite) {
		t.Errorf("ACK of a 2xx reuses the INVITE branch %q", branch(invite))
	}
	ruri := func(m sippMsg) string { return strings.Fields(m.StartLine)[1] }
	if ruri(cancel) != ruri(invite) || ruri(ack487) != ruri(invite) {
		t.Errorf("Request-URIs INVITE %q CANCEL %q ACK %q must match", ruri(invite), ruri(cancel), ruri(ack487))
	}
	if cseq, _ := cancel.Header("CSeq"); cseq != "1 CANCEL" {
		t.Errorf("CANCEL CSeq %q", cseq)
	}
	_, sd, md := parseInvite(t, invite)
	if len(sd.Media) != 2 || md.Vendor().Vendor != VendorAvaya {
		t.Errorf("cancel INVITE: %d m-lines, vendor %q", len(sd.Media), md.Vendor().Vendor)
	}
}

// TestAnswerEveryScenario answers each offer and parses the answer back:
// same m-line count and order, labels echoed, recvonly (siprec-interop.md
// §3.2).
func TestAnswerEveryScenario(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.scenario, func(t *testing.T) {
			invite := nthRequest(t, loadScenario(t, d.scenario, testValues), "INVITE", 0)
			_, offer, _ := parseInvite(t, invite)
			ans := answerFor(offer, netip.MustParseAddr("192.0.2.1"), 30000)
			sd, err := ParseSDP(BuildAnswer(ans))
			if err != nil {
				t.Fatal(err)
			}
			if len(sd.Media) != len(offer.Media) {
				t.Fatalf("answer has %d m-lines, offer %d", len(sd.Media), len(offer.Media))
			}
			for i, m := range sd.Media {
				if m.Label != offer.Media[i].Label || m.Direction != "recvonly" || m.Port != 30000+2*i {
					t.Errorf("m-line %d: label %q direction %q port %d", i, m.Label, m.Direction, m.Port)
				}
				if m.Formats[0].Name != "PCMU" {
					t.Errorf("m-line %d: first format %v, want PCMU (what SIPp sends)", i, m.Formats[0])
				}
			}
		})
	}
}

// answerFor is a minimal SRS answer policy for tests: PCMU if offered, else
// the first format, plus telephone-event/8000 when offered.
func answerFor(offer *SessionDescription, addr netip.Addr, port int) Answer {
	a := Answer{Origin: "callrec", SessionID: 42, Version: 1, Addr: addr}
	for i, m := range offer.Media {
		am := AnswerMedia{Type: m.Type, Proto: m.Proto, Label: m.Label, Direction: "recvonly", RTCPMux: m.RTCPMux}
		var chosen *Format
		for j := range m.Formats {
			if m.Formats[j].Name == "PCMU" {
				chosen = &m.Formats[j]
				break
			}
		}
		if chosen == nil && len(m.Formats) > 0 {
			chosen = &m.Formats[0]
		}
		if chosen != nil && m.Type == "audio" && m.Port != 0 {
			am.Port = port + 2*i
			am.Formats = append(am.Formats, *chosen)
			for _, f := range m.Formats {
				if f.Name == "TELEPHONE-EVENT" && f.ClockRate == 8000 {
					am.Formats = append(am.Formats, f)
					break
				}
			}
		} else {
			am.Formats = m.Formats
		}
		a.Media = append(a.Media, am)
	}
	return a
}
