package siprec

import (
	"bytes"
	"net/netip"
	"testing"
)

// scenarioNames are the SIPp scenarios whose INVITE bodies seed the fuzzers.
var scenarioNames = []string{"rfc7866", "broadworks", "cisco", "avaya", "oracle", "metaswitch", "sonus", "opensips", "pause-resume", "broadworks-hold", "cancel", "not-siprec"}

// scenarioBodies returns every request body of every scenario with its
// Content-Type.
func scenarioBodies(tb testing.TB) (cts []string, bodies [][]byte) {
	tb.Helper()
	for _, name := range scenarioNames {
		for _, m := range loadScenario(tb, name, testValues) {
			if len(m.Body) == 0 {
				continue
			}
			ct, _ := m.Header("Content-Type")
			cts = append(cts, ct)
			bodies = append(bodies, m.Body)
		}
	}
	return cts, bodies
}

func FuzzParseBody(f *testing.F) {
	cts, bodies := scenarioBodies(f)
	for i := range bodies {
		f.Add(cts[i], bodies[i])
		f.Add(cts[i], bytes.ReplaceAll(bodies[i], []byte("\r\n"), []byte("\n")))
	}
	f.Add("multipart/mixed", []byte("--x\r\n\r\nv=0\r\n--x"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		b, err := ParseBody(ct, body)
		if err != nil {
			return
		}
		if b.SDP == nil && b.Metadata == nil {
			t.Fatal("success without SDP or metadata")
		}
		// Parts are handed back as received, never rewritten.
		for _, part := range [][]byte{b.SDP, b.Metadata} {
			if part != nil && !bytes.Contains(body, part) {
				t.Fatalf("part %q is not in the body", part)
			}
		}
		for _, p := range b.Other {
			if !bytes.Contains(body, p.Body) {
				t.Fatalf("other part %q is not in the body", p.Body)
			}
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	cts, bodies := scenarioBodies(f)
	for i := range bodies {
		if b, err := ParseBody(cts[i], bodies[i]); err == nil && b.Metadata != nil {
			f.Add(b.Metadata)
		}
	}
	f.Add([]byte(snapshot))
	f.Add([]byte(`<a:recording xmlns:a="urn:ietf:params:xml:ns:recording:1" xmlns:b="urn:b"><a:session session_id="s"><b:x/></a:session></a:recording>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMetadata(data)
		if err != nil {
			return
		}
		_ = m.Vendor()
		_ = m.Caller()
		var merged Metadata
		merged.Merge(m)
		// What we parse, we can write, and what we write reads back to the
		// same model.
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := ParseMetadata(out)
		if err != nil {
			t.Fatalf("ParseMetadata(Marshal(m)): %v\n%s", err, out)
		}
		out2, err := back.Marshal()
		if err != nil {
			t.Fatalf("second Marshal: %v", err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("Marshal is not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

func FuzzParseSDP(f *testing.F) {
	cts, bodies := scenarioBodies(f)
	for i := range bodies {
		if b, err := ParseBody(cts[i], bodies[i]); err == nil && b.SDP != nil {
			f.Add(b.SDP)
		}
	}
	f.Add([]byte("v=0\nm=audio 0 RTP/AVP\nm=video 9/2 RTP/SAVPF 96 97\na=rtpmap:96 VP8/90000\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		offer, err := ParseSDP(b)
		if err != nil {
			return
		}
		for _, m := range offer.Media {
			_ = m.Paused()
		}
		ans := answerFor(offer, netip.MustParseAddr("192.0.2.1"), 30000)
		again, err := ParseSDP(BuildAnswer(ans))
		if err != nil {
			t.Fatalf("answer does not parse: %v", err)
		}
		if len(again.Media) != len(offer.Media) {
			t.Fatalf("answer has %d m-lines, offer %d", len(again.Media), len(offer.Media))
		}
		for i, m := range again.Media {
			if m.Label != sdpToken(offer.Media[i].Label) {
				t.Fatalf("m-line %d: label %q, offered %q", i, m.Label, offer.Media[i].Label)
			}
			if m.Port != 0 && m.Direction != "recvonly" {
				t.Fatalf("m-line %d: direction %q", i, m.Direction)
			}
		}
	})
}

func BenchmarkParseBroadWorksInvite(b *testing.B) {
	invite := nthRequest(b, loadScenario(b, "broadworks", testValues), "INVITE", 0)
	ct, _ := invite.Header("Content-Type")
	b.ReportAllocs()
	for b.Loop() {
		body, err := ParseBody(ct, invite.Body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseSDP(body.SDP); err != nil {
			b.Fatal(err)
		}
		md, err := ParseMetadata(body.Metadata)
		if err != nil {
			b.Fatal(err)
		}
		_ = md.Vendor()
	}
}
