package e2e

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callrec/callrec/srcclient"
)

// clientPorts hands each parallel subtest its own local RTP range.
var (
	portsMu   sync.Mutex
	nextPorts = 42000
)

func ports() [2]int {
	portsMu.Lock()
	defer portsMu.Unlock()
	p := [2]int{nextPorts, nextPorts + 99}
	nextPorts += 100
	return p
}

// TestTwoStreamCalls records real two-stream SIPREC calls (R36: one stream
// per party) from our Go SRC through the real binary and checks the files: channel count, rate,
// duration within 40 ms, each channel its own tone and not the other's,
// pause intervals silent, gaps counted.
func TestTwoStreamCalls(t *testing.T) {
	srv := startServer(t, serverOpts{})
	const low, high = 440.0, 1000.0
	two := func(codecA, codecB string) []srcclient.StreamSpec {
		return []srcclient.StreamSpec{
			{Label: "1", Codec: codecA, ToneHz: low},
			{Label: "2", Codec: codecB, ToneHz: high},
		}
	}
	cases := []struct {
		name      string
		transport string
		spec      srcclient.CallSpec
		rate      int
		check     func(t *testing.T, r recordingJSON, res *srcclient.Result, ch [][]int16, rate int)
	}{
		{name: "PCMU over TCP", transport: "tcp", rate: 8000, spec: srcclient.CallSpec{Streams: two("PCMU", "PCMU"), Duration: 3 * time.Second}},
		{name: "PCMA over UDP", transport: "udp", rate: 8000, spec: srcclient.CallSpec{Streams: two("PCMA", "PCMA"), Duration: 3 * time.Second}},
		{name: "G722 at 16 kHz", transport: "tcp", rate: 16000, spec: srcclient.CallSpec{Streams: two("G722", "G722"), Duration: 3 * time.Second}},
		{name: "Opus at 48 kHz", transport: "tcp", rate: 48000, spec: srcclient.CallSpec{Streams: two("OPUS", "OPUS"), Duration: 3 * time.Second}},
		{name: "PCMU and G722 mixed rates", transport: "tcp", rate: 16000, spec: srcclient.CallSpec{Streams: two("PCMU", "G722"), Duration: 3 * time.Second}},
		{
			name: "pause and resume with a=inactive", transport: "tcp", rate: 8000,
			spec: srcclient.CallSpec{Streams: two("PCMU", "PCMU"), Duration: 4 * time.Second,
				Pauses: []srcclient.PauseSpec{{At: 1 * time.Second, Duration: 1500 * time.Millisecond}}},
			check: checkPause,
		},
		{
			name: "BroadWorks legacy pause with c=0.0.0.0", transport: "tcp", rate: 8000,
			spec: srcclient.CallSpec{Streams: two("PCMU", "PCMU"), Duration: 4 * time.Second,
				Pauses: []srcclient.PauseSpec{{At: 1 * time.Second, Duration: 1500 * time.Millisecond, Legacy: true}}},
			check: checkPause,
		},
		{
			name: "100 ms loss becomes one counted gap of silence", transport: "tcp", rate: 8000,
			spec: srcclient.CallSpec{Duration: 3 * time.Second, Streams: []srcclient.StreamSpec{
				{Label: "1", Codec: "PCMU", ToneHz: low, DropFrom: 1000 * time.Millisecond, DropTo: 1100 * time.Millisecond},
				{Label: "2", Codec: "PCMU", ToneHz: high},
			}},
			check: func(t *testing.T, r recordingJSON, res *srcclient.Result, ch [][]int16, rate int) {
				s := r.Callrec.Streams[0].Stats
				if s.Gaps != 1 || s.GapMS < 80 || s.GapMS > 120 || s.Lost != 5 {
					t.Errorf("stream 1 stats %+v, want 1 gap of ~100 ms and 5 lost", s)
				}
				if s2 := r.Callrec.Streams[1].Stats; s2.Gaps != 0 || s2.Lost != 0 {
					t.Errorf("stream 2 stats %+v, want no gap", s2)
				}
				// The gap sits 1 s into the media; the sender's 20 ms tick may
				// put the first packet up to 20 ms after media start.
				off := res.Started.Sub(mustTime(t, r))
				assertSilent(t, "gap on channel 1", ch[0], rate, off+1025*time.Millisecond, off+1095*time.Millisecond)
				assertTone(t, "channel 2 during the gap", ch[1], rate, off+1000*time.Millisecond, off+1100*time.Millisecond, high, low)
			},
		},
		{
			name: "reordered and duplicated packets", transport: "tcp", rate: 8000,
			spec: srcclient.CallSpec{Duration: 3 * time.Second, Streams: []srcclient.StreamSpec{
				{Label: "1", Codec: "PCMU", ToneHz: low, ReorderEvery: 7, DuplicateEvery: 11},
				{Label: "2", Codec: "PCMU", ToneHz: high},
			}},
			check: func(t *testing.T, r recordingJSON, res *srcclient.Result, ch [][]int16, rate int) {
				s := r.Callrec.Streams[0].Stats
				if s.Duplicated != res.Streams[0].Duplicates || s.Lost != 0 || s.Gaps != 0 || s.Received != res.Streams[0].Sent {
					t.Errorf("stats %+v; client sent %d with %d duplicates", s, res.Streams[0].Sent, res.Streams[0].Duplicates)
				}
			},
		},
		{
			name: "SSRC change and timestamp jump keep the channel aligned", transport: "tcp", rate: 8000,
			spec: srcclient.CallSpec{Duration: 4 * time.Second, Streams: []srcclient.StreamSpec{
				{Label: "1", Codec: "PCMU", ToneHz: low, SSRCChangeAt: 1500 * time.Millisecond, TimestampJumpAt: 2500 * time.Millisecond},
				{Label: "2", Codec: "PCMU", ToneHz: high},
			}},
			check: func(t *testing.T, r recordingJSON, res *srcclient.Result, ch [][]int16, rate int) {
				s := r.Callrec.Streams[0].Stats
				if s.SSRCChanges != 1 || s.TimestampJumps != 1 {
					t.Errorf("stats %+v, want 1 SSRC change and 1 timestamp jump", s)
				}
			},
		},
		{
			name: "DTMF kept as events, never as audio", transport: "tcp", rate: 8000,
			spec: srcclient.CallSpec{Duration: 3 * time.Second, Streams: []srcclient.StreamSpec{
				{Label: "1", Codec: "PCMU", ToneHz: low, DTMF: []srcclient.DTMFSpec{{At: time.Second, Digit: "5", Duration: 200 * time.Millisecond}}},
				{Label: "2", Codec: "PCMU", ToneHz: high},
			}},
			check: func(t *testing.T, r recordingJSON, res *srcclient.Result, ch [][]int16, rate int) {
				if len(r.Callrec.DTMF) != 1 || r.Callrec.DTMF[0].Digit != "5" {
					t.Fatalf("dtmf = %+v, want one event 5", r.Callrec.DTMF)
				}
				off := res.Started.Sub(mustTime(t, r))
				if d := time.Duration(r.Callrec.DTMF[0].OffsetMS)*time.Millisecond - (off + time.Second); d < -40*time.Millisecond || d > 40*time.Millisecond {
					t.Errorf("DTMF offset %d ms, media started %v after the file: off by %v", r.Callrec.DTMF[0].OffsetMS, off, d)
				}
				// '5' is 770 Hz + 1336 Hz (ITU-T Q.23): none of it in the file.
				w := window(ch[0], rate, off+time.Second, off+1200*time.Millisecond)
				assertNoEnergy(t, w, rate, 770, 1336)
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cl := newClient(t, srv, c.transport, ports())
			res := call(t, cl, c.spec)
			if res.Status != 200 || res.ByeStatus != 200 {
				t.Fatalf("call status %d %s, BYE %d", res.Status, res.Reason, res.ByeStatus)
			}
			r := srv.recordingByCallID(res.CallID)
			if r.Callrec.Partial || r.Callrec.EndReason != "bye" || r.Format != "WAV" {
				t.Errorf("recording partial=%v endReason=%q format=%q", r.Callrec.Partial, r.Callrec.EndReason, r.Format)
			}
			info, ch := srv.download(r)
			if info.Channels != 2 || len(ch) != 2 || info.Rate != c.rate || info.Bits != 16 {
				t.Fatalf("file has %d channels at %d Hz, %d bits; want 2 at %d, 16 bits", info.Channels, info.Rate, info.Bits, c.rate)
			}
			assertDuration(t, fileDuration(info.Frames, info.Rate), span(t, res))
			// Channel 1 is the recorded party (lowest label), channel 2 the other side.
			off := res.Started.Sub(mustTime(t, r))
			assertTone(t, "channel 1", ch[0], info.Rate, off+200*time.Millisecond, off+900*time.Millisecond, low, high)
			assertTone(t, "channel 2", ch[1], info.Rate, off+200*time.Millisecond, off+900*time.Millisecond, high, low)
			if c.check != nil {
				c.check(t, r, res, ch, info.Rate)
			}
		})
	}
}

// mustTime returns when the recording's file starts (callrec.startTime,
// millisecond precision; Webex's timeRecorded has whole seconds).
func mustTime(t *testing.T, r recordingJSON) time.Time {
	t.Helper()
	if r.Callrec.StartTime.IsZero() {
		t.Fatal("recording has no callrec.startTime")
	}
	return r.Callrec.StartTime
}

func checkPause(t *testing.T, r recordingJSON, res *srcclient.Result, ch [][]int16, rate int) {
	t.Helper()
	if len(r.Callrec.PauseIntervals) != 1 {
		t.Fatalf("pauseIntervals = %+v, want one", r.Callrec.PauseIntervals)
	}
	p := r.Callrec.PauseIntervals[0]
	start := mustTime(t, r)
	from, to := p.Start.Sub(start), p.End.Sub(start)
	if d := to - from; d < 1400*time.Millisecond || d > 1600*time.Millisecond {
		t.Errorf("pause lasted %v, want ~1.5 s", d)
	}
	assertSilent(t, "channel 1 paused", ch[0], rate, from+20*time.Millisecond, to-20*time.Millisecond)
	assertSilent(t, "channel 2 paused", ch[1], rate, from+20*time.Millisecond, to-20*time.Millisecond)
	assertTone(t, "channel 1 after resume", ch[0], rate, to+200*time.Millisecond, to+800*time.Millisecond, 440, 1000)
	for i, s := range r.Callrec.Streams {
		if s.Stats.Gaps != 0 {
			t.Errorf("stream %d counted %d gaps: a pause is not a gap", i+1, s.Stats.Gaps)
		}
	}
}

// TestMoreThanTwoStreams puts the recorded party left and mixes the rest right.
func TestMoreThanTwoStreams(t *testing.T) {
	srv := startServer(t, serverOpts{})
	cl := newClient(t, srv, "tcp", ports())
	res := call(t, cl, srcclient.CallSpec{Duration: 2 * time.Second, Streams: []srcclient.StreamSpec{
		{Label: "10", Codec: "PCMU", ToneHz: 500},
		{Label: "2", Codec: "PCMU", ToneHz: 700},
		{Label: "30", Codec: "PCMU", ToneHz: 1300},
	}})
	r := srv.recordingByCallID(res.CallID)
	info, ch := srv.download(r)
	if info.Channels != 2 {
		t.Fatalf("channels = %d, want 2", info.Channels)
	}
	off := res.Started.Sub(mustTime(t, r))
	// Label 2 is the lowest as integers (bytes would pick "10").
	assertTone(t, "channel 1 = label 2", ch[0], info.Rate, off+200*time.Millisecond, off+1500*time.Millisecond, 700, 500, 1300)
	w := window(ch[1], info.Rate, off+200*time.Millisecond, off+1500*time.Millisecond)
	assertTone(t, "channel 2 has label 10", w, info.Rate, 0, time.Second, 500, 700)
	assertTone(t, "channel 2 has label 30", w, info.Rate, 0, time.Second, 1300, 700)
}

// TestBroadWorksRecordedUser: the BroadWorks userID names the recorded
// party, so its stream goes left even though its label is higher.
func TestBroadWorksRecordedUser(t *testing.T) {
	srv := startServer(t, serverOpts{})
	cl := newClient(t, srv, "tcp", ports())
	res := call(t, cl, srcclient.CallSpec{Dialect: srcclient.DialectBroadWorks, Duration: 2 * time.Second,
		RecordedUserID: "bob@example.webex.test",
		Streams: []srcclient.StreamSpec{
			{Label: "1", Codec: "PCMU", ToneHz: 440, ParticipantAOR: "sip:alice@example.webex.test"},
			{Label: "2", Codec: "PCMU", ToneHz: 1000, ParticipantAOR: "sip:bob@example.webex.test"},
		}})
	if res.Status != 200 {
		t.Fatalf("status %d %s", res.Status, res.Reason)
	}
	r := srv.recordingByCallID(res.CallID)
	_, ch := srv.download(r)
	off := res.Started.Sub(mustTime(t, r))
	assertTone(t, "channel 1 = bob", ch[0], 8000, off+200*time.Millisecond, off+1500*time.Millisecond, 1000, 440)
	assertTone(t, "channel 2 = alice", ch[1], 8000, off+200*time.Millisecond, off+1500*time.Millisecond, 440, 1000)
	var md map[string]any
	if code, _, body := srv.api("GET", "/v1/convergedRecordings/"+r.ID+"/metadata", nil, &md); code != 200 {
		t.Fatalf("metadata: %d %s", code, body)
	}
	cr, _ := md["callrec"].(map[string]any)
	vendor, _ := cr["vendor"].(map[string]any)
	if vendor["userId"] != "bob@example.webex.test" || vendor["vendor"] != "broadworks" {
		t.Errorf("vendor data = %v", vendor)
	}
}

// TestOwnSRCMarksRecordedParty: callrec's own SRC extension names the
// recorded participant, which then goes left whatever its label.
func TestOwnSRCMarksRecordedParty(t *testing.T) {
	srv := startServer(t, serverOpts{})
	cl := newClient(t, srv, "tcp", ports())
	res := call(t, cl, srcclient.CallSpec{Duration: 2 * time.Second, RecordedUserID: "bob-7",
		Streams: []srcclient.StreamSpec{
			{Label: "9", Codec: "PCMU", ToneHz: 440},
			{Label: "2", Codec: "PCMU", ToneHz: 1000},
		}})
	r := srv.recordingByCallID(res.CallID)
	_, ch := srv.download(r)
	off := res.Started.Sub(mustTime(t, r))
	// srcclient marks the first participant (label 9): without the mark
	// the lowest label, 2, would be left.
	assertTone(t, "channel 1 = the marked party", ch[0], 8000, off+200*time.Millisecond, off+1500*time.Millisecond, 440, 1000)
	assertTone(t, "channel 2", ch[1], 8000, off+200*time.Millisecond, off+1500*time.Millisecond, 1000, 440)
}

// TestAudioCodesBareLF records a call whose multipart body uses bare LF.
func TestAudioCodesBareLF(t *testing.T) {
	srv := startServer(t, serverOpts{})
	cl := newClient(t, srv, "tcp", ports())
	res := call(t, cl, srcclient.CallSpec{Dialect: srcclient.DialectAudioCodes, Duration: 2 * time.Second})
	if res.Status != 200 {
		t.Fatalf("status %d %s", res.Status, res.Reason)
	}
	r := srv.recordingByCallID(res.CallID)
	if len(r.Callrec.Streams) != 2 || r.Callrec.ChannelCount != 2 {
		t.Fatalf("streams %d channels %d", len(r.Callrec.Streams), r.Callrec.ChannelCount)
	}
}

// TestMalformedInputWhileAGoodCallRecords sends bad INVITEs, bad RTP and
// garbage datagrams while a good call runs; each bad request gets its 4xx
// and the good call's file is intact.
func TestMalformedInputWhileAGoodCallRecords(t *testing.T) {
	srv := startServer(t, serverOpts{})
	good := newClient(t, srv, "tcp", ports())
	done := make(chan *srcclient.Result, 1)
	go func() {
		res, err := good.Call(t.Context(), srcclient.CallSpec{Duration: 4 * time.Second})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	bad := newClient(t, srv, "tcp", ports())
	sdp := "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=label:1\r\na=sendonly\r\n"
	meta := `<?xml version="1.0"?><recording xmlns="urn:ietf:params:xml:ns:recording:1"><datamode>complete</datamode></recording>`
	cases := []struct {
		name, ct, body string
		want           int
		reason         string
	}{
		{"boundary never occurs", "multipart/mixed;boundary=nothere", "--other\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "--other--\r\n", 400, "Bad SIPREC Body"},
		{"multipart without boundary", "multipart/mixed", sdp, 400, "Bad SIPREC Body"},
		{"SDP that is not SDP", "multipart/mixed;boundary=b", "--b\r\nContent-Type: application/sdp\r\n\r\nhello world\r\n--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n" + meta + "\r\n--b--\r\n", 400, "Bad SDP"},
		{"no decodable codec", "multipart/mixed;boundary=b", "--b\r\nContent-Type: application/sdp\r\n\r\n" + strings.Replace(sdp, "RTP/AVP 0", "RTP/AVP 18", 1) + "\r\n--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n" + meta + "\r\n--b--\r\n", 488, "No Decodable Audio Stream"},
		{"video only", "multipart/mixed;boundary=b", "--b\r\nContent-Type: application/sdp\r\n\r\n" + strings.Replace(sdp, "m=audio", "m=video", 1) + "\r\n--b\r\nContent-Type: application/rs-metadata+xml\r\n\r\n" + meta + "\r\n--b--\r\n", 488, "No Decodable Audio Stream"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := call(t, bad, srcclient.CallSpec{Duration: time.Second, RawBody: []byte(c.body), RawContentType: c.ct})
			if res.Status != c.want || !strings.Contains(res.Reason, c.reason) {
				t.Errorf("got %d %q, want %d %q", res.Status, res.Reason, c.want, c.reason)
			}
		})
	}
	t.Run("session interval too small", func(t *testing.T) {
		res := call(t, bad, srcclient.CallSpec{Duration: time.Second, ExtraHeaders: map[string]string{"Session-Expires": "30"}})
		if res.Status != 422 {
			t.Errorf("got %d %q, want 422", res.Status, res.Reason)
		}
	})
	t.Run("broken metadata is recorded anyway with the problem noted", func(t *testing.T) {
		body := "--b\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "\r\n--b\r\nContent-Type: application/rs-metadata+xml\r\nContent-Disposition: recording-session\r\n\r\n<recording><unclosed>\r\n--b--\r\n"
		res := call(t, bad, srcclient.CallSpec{Duration: time.Second, RawBody: []byte(body), RawContentType: "multipart/mixed;boundary=b"})
		if res.Status != 200 {
			t.Fatalf("got %d %q, want 200", res.Status, res.Reason)
		}
		var md map[string]any
		r := srv.recordingByCallID(res.CallID)
		srv.api("GET", "/v1/convergedRecordings/"+r.ID+"/metadata", nil, &md)
		if !strings.Contains(toJSON(md), "metadata not parsed") {
			t.Errorf("problem not noted in metadata: %s", toJSON(md))
		}
	})
	t.Run("garbage datagrams on SIP and RTP ports", func(t *testing.T) {
		conn, err := net.Dial("udp", srv.siprec)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, g := range []string{"\x00\x01garbage", "INVITE sip:x SIP/2.0\r\n\r\n", strings.Repeat("A", 1400)} {
			conn.Write([]byte(g))
		}
		// RTP garbage at every port of the server's media range the good call may use.
		for p := 30000; p < 30010; p++ {
			u, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", itoa(p)))
			if err != nil {
				continue
			}
			u.Write([]byte{0x80, 0x00, 0x00})                                     // too short
			u.Write([]byte{0x40, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0xff}) // version 1
			u.Close()
		}
	})
	res := <-done
	if res == nil || res.Status != 200 || res.ByeStatus != 200 {
		t.Fatalf("good call: %+v", res)
	}
	r := srv.recordingByCallID(res.CallID)
	info, ch := srv.download(r)
	assertDuration(t, fileDuration(info.Frames, info.Rate), span(t, res))
	off := res.Started.Sub(mustTime(t, r))
	assertTone(t, "good call channel 1", ch[0], info.Rate, off+200*time.Millisecond, off+res.Duration-200*time.Millisecond, 400, 1000)
	assertTone(t, "good call channel 2", ch[1], info.Rate, off+200*time.Millisecond, off+res.Duration-200*time.Millisecond, 1000, 400)
	res2, err := http.Get(srv.httpURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(res2.Body)
	res2.Body.Close()
	if strings.Contains(string(m), "callrec_sip_malformed_messages_total 0\n") || !strings.Contains(string(m), "callrec_sip_malformed_messages_total") {
		t.Errorf("malformed SIP datagrams not counted in /metrics")
	}
	var dropped uint64
	for _, s := range r.Callrec.Streams {
		if s.Stats.Gaps != 0 {
			t.Errorf("good call stream %s has %d gaps", s.Label, s.Stats.Gaps)
		}
		dropped += s.Stats.Dropped
	}
	if dropped == 0 {
		t.Errorf("bad RTP sent to the good call's ports was not counted as dropped")
	}
}
