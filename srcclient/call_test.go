package srcclient

import (
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec/siprec"
)

// newTestClient returns a Client aimed at srs, closed with the test.
func newTestClient(t *testing.T, srs *fakeSRS, transport string) *Client {
	t.Helper()
	c, err := New(Config{Target: srs.uri(), Transport: transport, MediaPorts: [2]int{43000, 43999}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// runCall runs spec and fails the test on error.
func runCall(t *testing.T, c *Client, spec CallSpec) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.Call(ctx, spec)
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	return res
}

// audioOf returns the packets of payload type pt.
func audioOf(pkts []rtpPacket, pt uint8) []rtpPacket {
	var out []rtpPacket
	for _, p := range pkts {
		if p.pt == pt {
			out = append(out, p)
		}
	}
	return out
}

// frameIndexes checks that every audio packet's timestamp sits on the
// 20 ms grid of the first (step per frame) and that the timestamps
// increase; it returns the frame numbers.
func frameIndexes(t *testing.T, pkts []rtpPacket, step uint32) []int64 {
	t.Helper()
	if len(pkts) == 0 {
		t.Fatal("no packets")
	}
	first := pkts[0]
	var idx []int64
	for i, p := range pkts {
		d := p.ts - first.ts
		if d%step != 0 {
			t.Fatalf("packet %d: timestamp %d is not on the %d-sample grid of %d", i, p.ts, step, first.ts)
		}
		n := int64(d / step)
		if i > 0 && n <= idx[i-1] {
			t.Fatalf("packet %d: frame %d after frame %d", i, n, idx[i-1])
		}
		idx = append(idx, n)
	}
	return idx
}

// checkPacing checks that the stream follows the wall clock: frame n is
// due at start + n × 20 ms (start: Result.Started). No packet leaves
// before its frame is due, and a packet that leaves late (the process got
// no CPU for a while, as happens on a shared 2-core machine) is part of a
// catch-up burst that ends with an on-time packet, or with the call's last
// frame. So the sender never drifts, whatever the stalls. Arrival times are
// kernel timestamps. pkts are all packets of the stream in arrival order;
// ts0 is the timestamp of frame 0; DTMF packets (eventPT) are placed by
// their event start and duration (RFC 4733), the two end retransmissions
// in the two frames after the end.
func checkPacing(t *testing.T, pkts []rtpPacket, audioPT, eventPT uint8, ts0, step uint32, start time.Time, lastFrame int64) {
	t.Helper()
	const onTime, burstGap = 30 * time.Millisecond, 5 * time.Millisecond
	frames := make([]int64, len(pkts))
	ends := map[uint32]int64{} // end packets seen per event timestamp
	for i, p := range pkts {
		n := int64((p.ts - ts0) / step)
		if p.pt == eventPT && len(p.payload) >= 4 {
			d := int64(binary.BigEndian.Uint16(p.payload[2:])) / int64(step)
			n += d - 1
			if p.payload[1]&0x80 != 0 {
				n += ends[p.ts]
				ends[p.ts]++
			}
		} else if p.pt != audioPT {
			t.Fatalf("packet %d: payload type %d", i, p.pt)
		}
		frames[i] = n
	}
	lateness := func(i int) time.Duration {
		return pkts[i].at.Sub(start.Add(time.Duration(frames[i]) * Ptime))
	}
	for i := range pkts {
		late := lateness(i)
		if late < -2*time.Millisecond {
			t.Errorf("frame %d left %v before it was due", frames[i], -late)
		}
		if late <= onTime {
			continue
		}
		j := i
		for j+1 < len(pkts) && pkts[j+1].at.Sub(pkts[j].at) <= burstGap {
			j++
		}
		if lateness(j) <= onTime || frames[j] == lastFrame {
			continue
		}
		t.Errorf("frame %d arrived %v late, and the burst it is in does not end on time", frames[i], late)
	}
}

// missing lists the frames in [0, total) absent from idx.
func missing(idx []int64, total int64) []int64 {
	var out []int64
	j := 0
	for n := int64(0); n < total; n++ {
		if j < len(idx) && idx[j] == n {
			j++
			continue
		}
		out = append(out, n)
	}
	return out
}

// hdr returns the value of the first header line named name in raw.
func hdr(raw, name string) string {
	for _, line := range strings.Split(raw, "\r\n") {
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestCallRFC7866(t *testing.T) {
	t.Parallel()
	srs := newFakeSRS(t)
	c := newTestClient(t, srs, "tcp")
	spec := CallSpec{
		Streams: []StreamSpec{
			{ToneHz: 400, ParticipantName: "Alice", DTMF: []DTMFSpec{{At: 200 * time.Millisecond, Digit: "5", Duration: 100 * time.Millisecond}}},
			{ToneHz: 1000},
		},
		Duration:         1400 * time.Millisecond,
		Pauses:           []PauseSpec{{At: 600 * time.Millisecond, Duration: 300 * time.Millisecond}},
		MetadataUpdateAt: 400 * time.Millisecond,
		RecordedUserID:   "alice-42",
	}
	res := runCall(t, c, spec)
	if res.Status != 200 || res.ByeStatus != 200 || res.Failed() {
		t.Fatalf("status %d, BYE %d, failed %v", res.Status, res.ByeStatus, res.Failed())
	}
	if len(res.Warnings) > 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
	fc := srs.call(res.CallID)
	awaitPackets(t, fc, res)
	defer func() {
		if t.Failed() {
			t.Logf("sent %v, streams %+v, warnings %v", res.Sent, res.Streams, res.Warnings)
			for _, m := range fc.msgs {
				t.Logf("%s %s at +%v", m.method, m.ctype, m.at.Sub(res.Started))
			}
			for i, s := range fc.sinks {
				pk := s.packets()
				if len(pk) > 0 {
					t.Logf("sink %d: %d packets, first at +%v, last at +%v", i, len(pk), pk[0].at.Sub(res.Started), pk[len(pk)-1].at.Sub(res.Started))
				}
			}
		}
	}()

	t.Run("INVITE is an RFC 7866 multipart offer", func(t *testing.T) {
		invites := fc.requests("INVITE")
		if len(invites) != 3 {
			t.Fatalf("%d INVITEs, want initial + pause + resume", len(invites))
		}
		inv := invites[0]
		if got := hdr(inv.raw, "Require"); got != "siprec" {
			t.Errorf("Require = %q", got)
		}
		contact := hdr(inv.raw, "Contact")
		if !strings.HasSuffix(contact, ";+sip.src") || !strings.Contains(contact, ";transport=tcp>") {
			t.Errorf("Contact = %q, want <…;transport=tcp>;+sip.src", contact)
		}
		if inv.ctype != "multipart/mixed;boundary=rs-boundary" {
			t.Errorf("Content-Type = %q", inv.ctype)
		}
		body := string(inv.body)
		if !strings.HasPrefix(body, "--rs-boundary\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n") {
			t.Errorf("body does not open with the SDP part:\n%s", body)
		}
		if i, j := strings.Index(body, "application/sdp"), strings.Index(body, "Content-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n"); j < 0 || i > j {
			t.Errorf("metadata part missing or before the SDP part")
		}
		if !strings.HasSuffix(body, "--rs-boundary--\r\n") {
			t.Errorf("body does not end with the closing delimiter")
		}
		b, err := siprec.ParseBody(inv.ctype, inv.body)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Problems) > 0 {
			t.Errorf("body problems: %v", b.Problems)
		}
		offer, err := siprec.ParseSDP(b.SDP)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range offer.Media {
			if m.Direction != "sendonly" || m.Label != []string{"1", "2"}[i] || m.Formats[0].Name != "PCMU" {
				t.Errorf("m-line %d: direction %q label %q codec %q", i, m.Direction, m.Label, m.Formats[0].Name)
			}
		}
		md, err := siprec.ParseMetadata(b.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if md.Namespace != siprec.NSRecording || len(md.Participants) != 2 || len(md.Streams) != 2 {
			t.Fatalf("metadata: namespace %q, %d participants, %d streams", md.Namespace, len(md.Participants), len(md.Streams))
		}
		for i, label := range []string{"1", "2"} {
			st := md.StreamByLabel(label)
			if st == nil {
				t.Fatalf("no metadata stream for label %s", label)
			}
			if p := md.SenderOf(st.ID); p == nil || p.ID != md.Participants[i].ID {
				t.Errorf("label %s: sender %+v, want participant %d", label, p, i)
			}
		}
		if !strings.Contains(string(b.Metadata), `<callrec:recorded xmlns:callrec="`+siprec.CallrecNamespace+`" userId="alice-42"/>`) {
			t.Errorf("metadata lacks the recorded-party extension")
		}
	})

	t.Run("audio is paced at 50 packets/s with timestamps on the 160-sample grid", func(t *testing.T) {
		for i, sink := range fc.sinks {
			pkts := sink.packets()
			audio := audioOf(pkts, 0)
			if uint64(len(pkts)) != res.Sent[fc.labels[i]] {
				t.Errorf("stream %s: received %d packets, client says %d sent", fc.labels[i], len(pkts), res.Sent[fc.labels[i]])
			}
			for j := 1; j < len(pkts); j++ {
				if pkts[j].seq != pkts[j-1].seq+1 {
					t.Errorf("stream %s: seq %d after %d", fc.labels[i], pkts[j].seq, pkts[j-1].seq)
				}
				if pkts[j].ssrc != pkts[0].ssrc {
					t.Errorf("stream %s: SSRC changed", fc.labels[i])
				}
			}
			if !audio[0].marker {
				t.Errorf("stream %s: first packet has no marker", fc.labels[i])
			}
			idx := frameIndexes(t, audio, 160)
			checkPacing(t, pkts, 0, 101, audio[0].ts, 160, res.Started, 69)
			gap := missing(idx, 70)
			if i == 0 {
				// frames 10-14 carry the DTMF event instead of audio
				if !slices.Equal(gap[:5], []int64{10, 11, 12, 13, 14}) {
					t.Errorf("stream 1: frames without audio %v, want 10-14 first", gap)
				}
				gap = gap[5:]
			}
			// The pause: one run of frames, starting at 600 ms (frame 30)
			// or later but not after the pause re-INVITE left (media stops
			// first), ending no earlier than 900 ms and not before the
			// resume re-INVITE (media resumes after it).
			invites := fc.requests("INVITE")
			if len(gap) == 0 || gap[len(gap)-1]-gap[0] != int64(len(gap)-1) {
				t.Fatalf("stream %s: frames not sent %v, want one run", fc.labels[i], gap)
			}
			due := func(n int64) time.Time { return res.Started.Add(time.Duration(n) * Ptime) }
			slack := 40 * time.Millisecond
			// (A sender tick that is late when the pause begins skips the
			// frames then due, hence a little room before frame 30.)
			if gap[0] < 27 || due(gap[0]).After(invites[1].at.Add(slack)) {
				t.Errorf("stream %s: pause starts at frame %d (due +%v), pause re-INVITE at +%v",
					fc.labels[i], gap[0], due(gap[0]).Sub(res.Started), invites[1].at.Sub(res.Started))
			}
			resumed := gap[len(gap)-1] + 1
			if resumed < 45 || due(resumed).Before(invites[2].at.Add(-slack)) {
				t.Errorf("stream %s: media resumes at frame %d (due +%v), resume re-INVITE at +%v",
					fc.labels[i], resumed, due(resumed).Sub(res.Started), invites[2].at.Sub(res.Started))
			}
		}
	})

	t.Run("DTMF follows RFC 4733 with three end packets", func(t *testing.T) {
		events := audioOf(fc.sinks[0].packets(), 101)
		if len(events) != 7 {
			t.Fatalf("%d telephone-event packets, want 5 updates/end + 2 retransmissions", len(events))
		}
		audio := audioOf(fc.sinks[0].packets(), 0)
		wantTS := audio[0].ts + 10*160
		for i, p := range events {
			dur := binary.BigEndian.Uint16(p.payload[2:])
			wantDur := uint16(min(i+1, 5) * 160)
			end := p.payload[1]&0x80 != 0
			if p.ts != wantTS || p.payload[0] != 5 || p.payload[1]&0x3f != 10 || dur != wantDur || end != (i >= 4) || p.marker != (i == 0) {
				t.Errorf("event packet %d: ts %d (want %d) code %d vol %d duration %d (want %d) end %v marker %v",
					i, p.ts, wantTS, p.payload[0], p.payload[1]&0x3f, dur, wantDur, end, p.marker)
			}
		}
		if len(audioOf(fc.sinks[1].packets(), 101)) != 0 {
			t.Errorf("DTMF leaked onto stream 2")
		}
		if res.Streams[0].DTMF != 7 {
			t.Errorf("result counts %d DTMF packets", res.Streams[0].DTMF)
		}
	})

	t.Run("pause re-INVITE says a=inactive and no RTP flows until resumed", func(t *testing.T) {
		invites := fc.requests("INVITE")
		pause, resume := invites[1], invites[2]
		if strings.Count(string(pause.body), "a=inactive\r\n") != 2 || strings.Contains(string(pause.body), "a=sendonly") {
			t.Errorf("pause offer:\n%s", pause.body)
		}
		if strings.Count(string(resume.body), "a=sendonly\r\n") != 2 {
			t.Errorf("resume offer:\n%s", resume.body)
		}
		for i, inv := range invites {
			if want := " " + string(rune('1'+i)) + " IN IP4"; !strings.Contains(string(inv.body), want) {
				t.Errorf("INVITE %d: o= version is not %c", i, '1'+i)
			}
		}
		for _, sink := range fc.sinks {
			for _, p := range sink.packets() {
				if p.at.After(pause.at) && p.at.Before(resume.at) {
					t.Errorf("packet seq %d arrived during the pause", p.seq)
				}
			}
		}
	})

	t.Run("partial metadata goes in an UPDATE", func(t *testing.T) {
		updates := fc.requests("UPDATE")
		if len(updates) != 1 {
			t.Fatalf("%d UPDATEs", len(updates))
		}
		u := updates[0]
		if u.ctype != "application/rs-metadata+xml" || hdr(u.raw, "Content-Disposition") != "recording-session" {
			t.Errorf("UPDATE Content-Type %q, disposition %q", u.ctype, hdr(u.raw, "Content-Disposition"))
		}
		md, err := siprec.ParseMetadata(u.body)
		if err != nil {
			t.Fatal(err)
		}
		if !md.IsPartial() || len(md.Participants) != 2 {
			t.Errorf("update: partial %v, %d participants", md.IsPartial(), len(md.Participants))
		}
	})

	t.Run("BYE ends the session", func(t *testing.T) {
		if n := len(fc.requests("BYE")); n != 1 {
			t.Errorf("%d BYEs", n)
		}
		if n := len(fc.requests("ACK")); n != 3 {
			t.Errorf("%d ACKs, want one per INVITE", n)
		}
	})
}

func TestCallBroadWorksOverUDP(t *testing.T) {
	t.Parallel()
	srs := newFakeSRS(t)
	c := newTestClient(t, srs, "udp")
	user := "kculs9klre@44936045.int10.bcld.webex.test"
	res := runCall(t, c, CallSpec{
		Dialect:        DialectBroadWorks,
		Duration:       1 * time.Second,
		RecordedUserID: user,
		Streams:        []StreamSpec{{ToneHz: 400, ParticipantName: "Kim Culs"}, {ToneHz: 1000}},
		Pauses:         []PauseSpec{{At: 400 * time.Millisecond, Duration: 200 * time.Millisecond, Legacy: true}},
	})
	if res.Status != 200 || res.ByeStatus != 200 {
		t.Fatalf("status %d, BYE %d, warnings %v", res.Status, res.ByeStatus, res.Warnings)
	}
	fc := srs.call(res.CallID)
	awaitPackets(t, fc, res)
	invites := fc.requests("INVITE")
	if len(invites) != 3 {
		t.Fatalf("%d INVITEs", len(invites))
	}
	inv := invites[0]
	if len(inv.raw) <= 1300 {
		t.Errorf("INVITE is %d bytes: the test does not cover large UDP messages", len(inv.raw))
	}
	if got := hdr(inv.raw, "Require"); got != "" {
		t.Errorf("BroadWorks sends no Require, got %q", got)
	}
	if contact := hdr(inv.raw, "Contact"); !strings.HasSuffix(contact, ";transport=udp;src>") {
		t.Errorf("Contact = %q, want ;src inside the URI", contact)
	}
	if hdr(inv.raw, "X-BroadWorks-Correlation-Info") == "" {
		t.Errorf("no X-BroadWorks-Correlation-Info")
	}
	if !strings.HasPrefix(string(inv.body), "--UniqueBroadWorksBoundary\r\nContent-Type:application/rs-metadata+xml\r\nContent-Disposition:recording-session\r\n\r\n<?xml") {
		t.Errorf("body does not open with the metadata part:\n%.200s", inv.body)
	}
	b, err := siprec.ParseBody(inv.ctype, inv.body)
	if err != nil {
		t.Fatal(err)
	}
	md, err := siprec.ParseMetadata(b.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if md.Namespace != siprec.NSSiprecPreRFC {
		t.Errorf("namespace %q", md.Namespace)
	}
	if v := md.Vendor(); v.Vendor != siprec.VendorBroadWorks || v.UserID != user {
		t.Errorf("vendor data %+v", v)
	}
	pause, resume := invites[1], invites[2]
	pb := string(pause.body)
	if !strings.Contains(pb, "c=IN IP4 0.0.0.0\r\n") || strings.Contains(pb, "a=inactive") || strings.Contains(pb, "a=sendonly") {
		t.Errorf("legacy pause offer:\n%s", pb)
	}
	if rb := string(resume.body); strings.Contains(rb, "0.0.0.0") || strings.Count(rb, "a=sendonly") != 2 {
		t.Errorf("resume offer:\n%s", rb)
	}
	for i, sink := range fc.sinks {
		pkts := sink.packets()
		if len(pkts) == 0 || uint64(len(pkts)) != res.Sent[fc.labels[i]] {
			t.Errorf("stream %s: %d packets received, %d sent", fc.labels[i], len(pkts), res.Sent[fc.labels[i]])
		}
		for _, p := range pkts {
			if p.at.After(pause.at) && p.at.Before(resume.at) {
				t.Errorf("packet seq %d arrived during the pause", p.seq)
			}
		}
	}
}

func TestCallAudioCodesBareLF(t *testing.T) {
	t.Parallel()
	srs := newFakeSRS(t)
	c := newTestClient(t, srs, "tcp")
	res := runCall(t, c, CallSpec{
		Dialect:              DialectAudioCodes,
		Duration:             400 * time.Millisecond,
		MetadataUpdateAt:     200 * time.Millisecond,
		MetadataUpdateMethod: "INVITE",
	})
	if res.Status != 200 || res.ByeStatus != 200 || len(res.Warnings) > 0 {
		t.Fatalf("status %d, BYE %d, warnings %v", res.Status, res.ByeStatus, res.Warnings)
	}
	fc := srs.call(res.CallID)
	invites := fc.requests("INVITE")
	if len(invites) != 2 {
		t.Fatalf("%d INVITEs, want initial + metadata update", len(invites))
	}
	for i, inv := range invites {
		if strings.Contains(string(inv.body), "\r") {
			t.Errorf("INVITE %d: body has CR characters", i)
		}
		b, err := siprec.ParseBody(inv.ctype, inv.body)
		if err != nil {
			t.Fatalf("INVITE %d: %v", i, err)
		}
		if b.MetadataType != "application/rs-metadata" || b.SDP == nil {
			t.Errorf("INVITE %d: metadata type %q, SDP %v", i, b.MetadataType, b.SDP != nil)
		}
		md, err := siprec.ParseMetadata(b.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if md.IsPartial() != (i == 1) {
			t.Errorf("INVITE %d: partial = %v", i, md.IsPartial())
		}
	}
	if hdr(invites[0].raw, "Require") != "siprec" {
		t.Errorf("no Require: siprec")
	}
}

func TestCallCodecTimestamps(t *testing.T) {
	t.Parallel()
	srs := newFakeSRS(t)
	c := newTestClient(t, srs, "tcp")
	res := runCall(t, c, CallSpec{
		Duration: 500 * time.Millisecond,
		Streams:  []StreamSpec{{Codec: "G722", ToneHz: 1000}, {Codec: "OPUS", ToneHz: 400}, {Codec: "PCMA", ToneHz: 800}},
	})
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	fc := srs.call(res.CallID)
	awaitPackets(t, fc, res)
	for i, tc := range []struct {
		name string
		pt   uint8
		step uint32
	}{
		{"G.722 advances 160 per 20 ms", 9, 160},
		{"Opus advances 960 per 20 ms", 111, 960},
		{"PCMA advances 160 per 20 ms", 8, 160},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkts := fc.sinks[i].packets()
			if len(audioOf(pkts, tc.pt)) != len(pkts) {
				t.Fatalf("payload types other than %d", tc.pt)
			}
			idx := frameIndexes(t, pkts, tc.step)
			checkPacing(t, pkts, tc.pt, 255, pkts[0].ts, tc.step, res.Started, 24)
			if got := missing(idx, 25); len(got) != 0 || len(idx) != 25 {
				t.Errorf("frames %v missing, %d sent", got, len(idx))
			}
		})
	}
}

func TestCallImpairments(t *testing.T) {
	t.Parallel()
	srs := newFakeSRS(t)
	c := newTestClient(t, srs, "tcp")
	res := runCall(t, c, CallSpec{
		Duration: 1200 * time.Millisecond,
		Streams: []StreamSpec{
			{ToneHz: 400, DropFrom: 200 * time.Millisecond, DropTo: 300 * time.Millisecond, SSRCChangeAt: 600 * time.Millisecond},
			{ToneHz: 1000, ReorderEvery: 10, DuplicateEvery: 7, TimestampJumpAt: 800 * time.Millisecond},
		},
	})
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	fc := srs.call(res.CallID)
	awaitPackets(t, fc, res)

	t.Run("loss window withholds five packets and their sequence numbers", func(t *testing.T) {
		pkts := fc.sinks[0].packets()
		if res.Streams[0].Dropped != 5 || len(pkts) != 55 {
			t.Fatalf("dropped %d, received %d, want 5 and 55", res.Streams[0].Dropped, len(pkts))
		}
		if pkts[10].seq-pkts[9].seq != 6 || pkts[10].ts-pkts[9].ts != 6*160 {
			t.Errorf("gap: seq %d→%d ts %d→%d", pkts[9].seq, pkts[10].seq, pkts[9].ts, pkts[10].ts)
		}
	})
	t.Run("SSRC changes once at frame 30 with a marker", func(t *testing.T) {
		pkts := fc.sinks[0].packets()
		var changes []int
		for i := 1; i < len(pkts); i++ {
			if pkts[i].ssrc != pkts[i-1].ssrc {
				changes = append(changes, i)
			}
		}
		// frames 0-9 and 15-29 precede the change: 25 packets
		if !slices.Equal(changes, []int{25}) || !pkts[25].marker {
			t.Errorf("SSRC changes at packets %v (marker %v), want [25]", changes, len(changes) == 1 && pkts[changes[0]].marker)
		}
	})
	t.Run("reordering, duplication and the timestamp jump", func(t *testing.T) {
		pkts := fc.sinks[1].packets()
		seen := map[uint16]int{}
		tsOf := map[uint16]uint32{}
		inversions := 0
		for i, p := range pkts {
			seen[p.seq]++
			tsOf[p.seq] = p.ts
			if i > 0 && int16(p.seq-pkts[i-1].seq) < 0 {
				inversions++
			}
		}
		jumps := 0
		for seq, ts := range tsOf {
			prev, ok := tsOf[seq-1]
			if !ok || ts-prev == 160 {
				continue
			}
			jumps++
			if ts-prev != 160+uint32(TimestampJump/Ptime)*160 {
				t.Errorf("timestamp step of %d at seq %d", ts-prev, seq)
			}
		}
		dups := 0
		for _, n := range seen {
			dups += n - 1
		}
		if len(seen) != 60 || uint64(dups) != res.Streams[1].Duplicates || dups < 7 {
			t.Errorf("%d distinct packets, %d duplicates (client says %d)", len(seen), dups, res.Streams[1].Duplicates)
		}
		if inversions < 5 {
			t.Errorf("%d sequence inversions, want one per 10 packets", inversions)
		}
		if jumps != 1 {
			t.Errorf("%d timestamp jumps", jumps)
		}
	})
}

func TestCallOutcomes(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	srs := newFakeSRS(t)
	c := newTestClient(t, srs, "tcp")
	for _, tc := range []struct {
		name          string
		spec          CallSpec
		status        int
		cancelled     bool
		failed        bool
		remoteBye     bool
		wantPackets   *bool // nil: either
		srsRequestsOK func(*fakeCall) bool
	}{
		{
			name:   "refusal is a status, not an error",
			spec:   CallSpec{Duration: time.Second, ExtraHeaders: map[string]string{"X-Fake-Reject": "488"}},
			status: 488, failed: true, wantPackets: &no,
		},
		{
			name:   "CANCEL while ringing gets 487",
			spec:   CallSpec{Duration: time.Second, CancelAfter: 150 * time.Millisecond, ExtraHeaders: map[string]string{"X-Fake-Ring": "3s"}},
			status: 487, cancelled: true, wantPackets: &no,
		},
		{
			name:   "BYE from the SRS ends the call early",
			spec:   CallSpec{Duration: 3 * time.Second, ExtraHeaders: map[string]string{"X-Fake-Bye-After": "300ms"}},
			status: 200, remoteBye: true, wantPackets: &yes,
			srsRequestsOK: func(fc *fakeCall) bool { return len(fc.requests("BYE")) == 0 },
		},
		{
			name: "491 on the pause re-INVITE is retried after the RFC 3261 back-off",
			spec: CallSpec{Duration: 600 * time.Millisecond, ExtraHeaders: map[string]string{"X-Fake-Glare": "1"},
				Pauses: []PauseSpec{{At: 100 * time.Millisecond, Duration: 200 * time.Millisecond}}},
			status: 200,
			srsRequestsOK: func(fc *fakeCall) bool {
				inv := fc.requests("INVITE")
				if len(inv) != 4 || !strings.Contains(string(inv[1].body), "a=inactive") || !strings.Contains(string(inv[2].body), "a=inactive") {
					return false
				}
				gap := inv[2].at.Sub(inv[1].at)
				return gap >= 2100*time.Millisecond && gap < 4100*time.Millisecond && strings.Contains(string(inv[3].body), "a=sendonly")
			},
		},
		{
			name:   "raw body is sent verbatim",
			spec:   CallSpec{Duration: 200 * time.Millisecond, RawBody: []byte("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=label:1\r\na=sendonly\r\n"), RawContentType: "application/sdp"},
			status: 200, wantPackets: &yes,
			srsRequestsOK: func(fc *fakeCall) bool {
				inv := fc.requests("INVITE")
				return len(inv) == 1 && inv[0].ctype == "application/sdp" && strings.HasPrefix(string(inv[0].body), "v=0\r\no=x 1 1")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res := runCall(t, c, tc.spec)
			if res.Status != tc.status || res.Cancelled != tc.cancelled || res.Failed() != tc.failed || res.RemoteBye != tc.remoteBye {
				t.Errorf("status %d cancelled %v failed %v remoteBye %v", res.Status, res.Cancelled, res.Failed(), res.RemoteBye)
			}
			if took := time.Since(start); (tc.cancelled || tc.remoteBye) && took > 2*time.Second {
				t.Errorf("call took %v", took)
			}
			if len(res.Warnings) > 0 && tc.status == 200 && tc.spec.RawBody == nil {
				t.Errorf("warnings: %v", res.Warnings)
			}
			fc := srs.call(res.CallID)
			awaitPackets(t, fc, res)
			n := 0
			for _, s := range fc.sinks {
				n += len(s.packets())
			}
			if tc.wantPackets != nil && (n > 0) != *tc.wantPackets {
				t.Errorf("%d packets received", n)
			}
			if tc.srsRequestsOK != nil && !tc.srsRequestsOK(fc) {
				t.Errorf("SRS saw unexpected requests")
			}
		})
	}
}
