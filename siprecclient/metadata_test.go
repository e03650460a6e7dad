package siprecclient

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec/siprec"
)

var t0 = time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)

func testModel() *model {
	c := callInfo()
	c.Start = t0
	c.Recorded.Name = `Alice "A&B" <x>`
	return newModel(c)
}

// TestMetadataComplete parses our snapshot with the recorder's parser and
// checks what the recorder relies on.
func TestMetadataComplete(t *testing.T) {
	m := testModel()
	md := parseMetadata(t, m.complete(t0))
	if md.IsPartial() || md.Namespace != siprec.NSRecording {
		t.Errorf("datamode %q namespace %q", md.DataMode, md.Namespace)
	}
	if len(md.Sessions) != 1 || !md.Sessions[0].Start.Equal(t0) || len(md.Sessions[0].SIPSessionIDs) != 1 {
		t.Errorf("sessions %+v", md.Sessions)
	}
	v := md.Vendor()
	if v.Vendor != siprec.VendorCallrec || v.UserID != personAlice || v.RecordedParty != m.participants[0] {
		t.Errorf("vendor %+v, want callrec naming %s as %s", v, m.participants[0], personAlice)
	}
	if v.CallID != m.call.CallID || v.Direction != m.call.Direction {
		t.Errorf("vendor call %q %q, want the call's %q %q", v.CallID, v.Direction, m.call.CallID, m.call.Direction)
	}
	for k, label := range labels {
		st := md.StreamByLabel(label)
		if st == nil {
			t.Fatalf("no stream labelled %s", label)
		}
		p := md.SenderOf(st.ID)
		if p == nil || p.ID != m.participants[k] {
			t.Fatalf("stream %s sent by %+v, want %s", label, p, m.participants[k])
		}
		want := []Participant{m.call.Recorded, m.call.Other}[k]
		if len(p.AORs) != 1 || p.AORs[0] != want.AOR || len(p.Names) != 1 || p.Names[0] != want.Name {
			t.Errorf("participant %d: %v %v, want %s %q", k, p.AORs, p.Names, want.AOR, want.Name)
		}
	}
}

func TestMetadataUpdates(t *testing.T) {
	m := testModel()
	first := m.announced(AnnounceCompliance, "en_US", t0)
	second := m.announced(AnnounceStart, "da_DK", t0.Add(5*time.Second))
	carol := Participant{Name: "Carol", AOR: "sip:carol@example.net"}
	oldOther := m.participants[1]
	transfer := m.replaced(1, carol, t0.Add(time.Minute))
	cases := []struct {
		name  string
		doc   []byte
		check func(t *testing.T, md *siprec.Metadata)
	}{
		{"first announcement", first, func(t *testing.T, md *siprec.Metadata) {
			if n := countExt(md, "announcement"); n != 1 {
				t.Errorf("%d announcements, want 1", n)
			}
		}},
		{"second announcement repeats the first", second, func(t *testing.T, md *siprec.Metadata) {
			if n := countExt(md, "announcement"); n != 2 {
				t.Errorf("%d announcements, want 2", n)
			}
			if !strings.Contains(extXML(md), `kind="start" lang="da_DK" at="2026-03-02T10:15:05Z"`) {
				t.Errorf("extensions %s", extXML(md))
			}
		}},
		{"transfer", transfer, func(t *testing.T, md *siprec.Metadata) {
			old := md.Participant(oldOther)
			if old == nil || !old.Disassociated || len(old.Send) != 0 || !old.StreamInfo {
				t.Errorf("old participant %+v, want left and sending nothing", old)
			}
			p := md.Participant(m.participants[1])
			if p == nil || len(p.AORs) != 1 || p.AORs[0] != carol.AOR || len(p.Send) != 1 || p.Send[0] != m.streams[1] {
				t.Errorf("new participant %+v, want Carol sending stream 2", p)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			md := parsePartial(t, c.doc)
			c.check(t, md)
		})
	}
	// A later snapshot holds the transfer and both announcements.
	md := parseMetadata(t, m.complete(t0))
	if n := countExt(md, "announcement"); n != 2 || md.Participant(oldOther) != nil {
		t.Errorf("snapshot after the updates: %d announcements, old participant %+v", n, md.Participant(oldOther))
	}
}

// parseMetadata parses doc as recording metadata, failing the test if
// it is not.
func parseMetadata(t *testing.T, doc []byte) *siprec.Metadata {
	t.Helper()
	md, err := siprec.ParseMetadata(doc)
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// parsePartial parses doc as recording metadata and checks that it is a
// partial update (dataMode "partial": only the changed objects).
func parsePartial(t *testing.T, doc []byte) *siprec.Metadata {
	t.Helper()
	md := parseMetadata(t, doc)
	if !md.IsPartial() {
		t.Error("not a partial update")
	}
	return md
}

func countExt(md *siprec.Metadata, local string) int {
	return strings.Count(extXML(md), "<callrec:"+local+" ")
}

func extXML(md *siprec.Metadata) string {
	var b strings.Builder
	for _, e := range md.Extensions {
		b.WriteString(e.XML)
	}
	return b.String()
}

// answerSDP is an SRS answer in the recorder's style.
const answerSDP = "v=0\r\no=callrec-srs 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\na=label:1\r\na=recvonly\r\n" +
	"m=audio 40002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=label:2\r\na=recvonly\r\n"

func TestParseAnswer(t *testing.T) {
	g722 := siprec.Format{PT: 9, Name: "G722", ClockRate: 8000, Channels: 1}
	opus := siprec.Format{PT: 111, Name: "OPUS", ClockRate: 48000, Channels: 2}
	addr := netip.MustParseAddr("192.0.2.7")
	cases := []struct {
		name    string
		answer  string
		codecs  [2]siprec.Format
		want    [2]route
		wantErr bool
	}{
		{"relay codec kept, other stream PCMU", answerSDP, [2]siprec.Format{g722, pcmu},
			[2]route{{dst: netip.AddrPortFrom(addr, 40000), pt: 9}, {dst: netip.AddrPortFrom(addr, 40002), pt: 0}}, false},
		{"only PCMU: transcode", answerSDP, [2]siprec.Format{opus, opus},
			[2]route{{why: "answer keeps neither opus/48000/2 nor PCMU/8000"}, {dst: netip.AddrPortFrom(addr, 40002), pt: 0, transcode: true}}, false},
		{"labels swapped: matched by label", strings.NewReplacer("label:1", "label:2", "label:2", "label:1").Replace(answerSDP),
			[2]siprec.Format{pcmu, g722},
			[2]route{{dst: netip.AddrPortFrom(addr, 40002), pt: 0}, {dst: netip.AddrPortFrom(addr, 40000), pt: 9}}, false},
		{"no labels: matched by position", strings.NewReplacer("a=label:1\r\n", "", "a=label:2\r\n", "").Replace(answerSDP),
			[2]siprec.Format{g722, pcmu},
			[2]route{{dst: netip.AddrPortFrom(addr, 40000), pt: 9}, {dst: netip.AddrPortFrom(addr, 40002), pt: 0}}, false},
		{"one stream rejected", strings.Replace(answerSDP, "40000", "0", 1), [2]siprec.Format{g722, pcmu},
			[2]route{{why: "rejected (port 0)"}, {dst: netip.AddrPortFrom(addr, 40002), pt: 0}}, false},
		{"both rejected", strings.NewReplacer("40000", "0", "40002", "0").Replace(answerSDP), [2]siprec.Format{g722, pcmu}, [2]route{}, true},
		{"null address", strings.Replace(answerSDP, "192.0.2.7", "0.0.0.0", 1), [2]siprec.Format{g722, pcmu}, [2]route{}, true},
		{"not SDP", "hello", [2]siprec.Format{pcmu, pcmu}, [2]route{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseAnswer([]byte(c.answer), c.codecs)
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want error %v", err, c.wantErr)
			}
			if !c.wantErr && got != c.want {
				t.Errorf("routes %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestOfferIsParseable checks our offer with the recorder's SDP parser.
func TestOfferIsParseable(t *testing.T) {
	opus := siprec.Format{PT: 111, Name: "OPUS", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"}
	for _, dir := range []string{dirSendOnly, dirInactive} {
		t.Run(dir, func(t *testing.T) {
			sd, err := siprec.ParseSDP(offer(netip.MustParseAddr("127.0.0.1"), [2]int{40000, 40002}, [2]siprec.Format{opus, pcmu}, 7, 3, dir))
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := sd.OriginVersion(); v != 3 || len(sd.Media) != 2 {
				t.Fatalf("version %d, %d m-lines", v, len(sd.Media))
			}
			for k, m := range sd.Media {
				if m.Label != labels[k] || m.Direction != dir || m.Port != 40000+2*k {
					t.Errorf("m-line %d: %+v", k, m)
				}
			}
			if f := sd.Media[0].Formats; len(f) != 2 || f[0].Name != "OPUS" || f[0].Fmtp != "useinbandfec=1" || f[1].Name != "PCMU" {
				t.Errorf("stream 0 formats %+v, want opus then PCMU", f)
			}
			if f := sd.Media[1].Formats; len(f) != 1 || f[0].Name != "PCMU" {
				t.Errorf("stream 1 formats %+v, want PCMU only", f)
			}
		})
	}
}

// FuzzParseAnswer feeds SRS answers to parseAnswer: it must never panic,
// and a route it returns must be a real destination with a payload type.
func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte(answerSDP))
	f.Add([]byte(strings.ReplaceAll(answerSDP, "\r\n", "\n")))
	f.Add([]byte("v=0\r\no=- 0 0 IN IP6 ::1\r\nc=IN IP6 ::1\r\nm=audio 5004 RTP/AVP 0 8\r\nm=audio 0 RTP/AVP 0\r\n"))
	f.Add([]byte("m=audio 40000/2 RTP/AVP 0\r\nc=IN IP4 10.0.0.1/127\r\na=label:2\r\na=label:1\r\n"))
	f.Add([]byte(""))
	codecs := [2]siprec.Format{{PT: 9, Name: "G722", ClockRate: 8000, Channels: 1}, pcmu}
	f.Fuzz(func(t *testing.T, b []byte) {
		routes, err := parseAnswer(b, codecs)
		if err != nil {
			return
		}
		ok := 0
		for _, r := range routes {
			if r.why != "" {
				continue
			}
			ok++
			if !r.dst.IsValid() || r.dst.Port() == 0 || r.dst.Addr().IsUnspecified() || r.pt > 127 {
				t.Fatalf("route %+v", r)
			}
		}
		if ok == 0 {
			t.Fatal("no error but no usable stream")
		}
	})
}
