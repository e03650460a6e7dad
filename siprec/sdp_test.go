package siprec

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseSDP(t *testing.T) {
	tests := []struct {
		name   string
		sdp    string
		origin string
		addr   netip.Addr
		want   []Media
	}{
		{
			name: "OpenSIPS 2.x: no c= and no t=, o= with 0.0.0.0, junk attribute",
			sdp: crlf("v=0", "o=- 1180541287 1180541287 IN IP4 0.0.0.0", "s=-",
				"m=audio 40000 RTP/AVP 0 3", "a=rtpmap:0 PCMU/8000", "a=3gOoBTC", "a=label:0", "a=sendonly",
				"m=audio 40002 RTP/AVP 8", "a=label:1", "a=sendonly", ""),
			origin: "- 1180541287 1180541287 IN IP4 0.0.0.0",
			want: []Media{
				{Index: 0, Type: "audio", Port: 40000, Proto: "RTP/AVP", Direction: "sendonly", Label: "0",
					Formats: []Format{{PT: 0, Name: "PCMU", ClockRate: 8000, Channels: 1}, {PT: 3, Name: "GSM", ClockRate: 8000, Channels: 1}}},
				{Index: 1, Type: "audio", Port: 40002, Proto: "RTP/AVP", Direction: "sendonly", Label: "1",
					Formats: []Format{{PT: 8, Name: "PCMA", ClockRate: 8000, Channels: 1}}},
			},
		},
		{
			name:   "bare LF, no line ending at the end, session direction inherited, media c= wins",
			sdp:    "v=0\no=x 1 2 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1/127\nt=0 0\na=inactive\nm=audio 5004/2 RTP/AVP 9 18\nc=IN IP4 198.51.100.7\nm=audio 5008 RTP/SAVP 96\na=sendonly\na=rtpmap:96 opus/48000/2\na=fmtp:96 useinbandfec=1; stereo=1\na=rtcp:5009 IN IP4 192.0.2.1\na=rtcp-mux\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
			origin: "x 1 2 IN IP4 192.0.2.1",
			addr:   netip.MustParseAddr("192.0.2.1"),
			want: []Media{
				{Index: 0, Type: "audio", Port: 5004, Proto: "RTP/AVP", Addr: netip.MustParseAddr("198.51.100.7"), Direction: "inactive",
					Formats: []Format{{PT: 9, Name: "G722", ClockRate: 8000, Channels: 1}, {PT: 18, Name: "G729", ClockRate: 8000, Channels: 1}}},
				{Index: 1, Type: "audio", Port: 5008, Proto: "RTP/SAVP", Addr: netip.MustParseAddr("192.0.2.1"), Direction: "sendonly",
					Formats:  []Format{{PT: 96, Name: "OPUS", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1; stereo=1"}},
					RTCPPort: 5009, RTCPMux: true,
					Crypto: []string{"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32"}},
			},
		},
		{
			name: "attributes wrapped across lines (SEMS), CR line endings, a=direction junk",
			sdp: "v=0\ro=sems 1 1 IN IP6 2001:db8::1\rs=-\rc=IN IP6 2001:db8::1\rt=0 0\r" +
				"m=audio 6000 RTP/AVP 0 101\ra=rtpmap:101\r telephone-event/8000\ra=fmtp:101 0-\r15\ra=direction:both\ra=sendonly\ra=label:a_leg\r",
			origin: "sems 1 1 IN IP6 2001:db8::1",
			addr:   netip.MustParseAddr("2001:db8::1"),
			want: []Media{
				{Index: 0, Type: "audio", Port: 6000, Proto: "RTP/AVP", Addr: netip.MustParseAddr("2001:db8::1"), Direction: "sendonly", Label: "a_leg",
					Formats: []Format{{PT: 0, Name: "PCMU", ClockRate: 8000, Channels: 1}, {PT: 101, Name: "TELEPHONE-EVENT", ClockRate: 8000, Channels: 1, Fmtp: "0-15"}}},
			},
		},
		{
			name: "unknown dynamic type, duplicate and out-of-range formats, host name in c=, port 0, video",
			sdp: crlf("v=0", "o=- 1 1 IN IP4 pbx.example.com", "s=-", "c=IN IP4 pbx.example.com", "t=0 0",
				"m=audio 0 RTP/AVP 0", "a=label:gone",
				"m=audio 7000 RTP/AVP 97 0 0 200 x", "a=rtpmap:bad", "a=rtpmap:0 PCMU", "a=recvonly",
				"m=video 7002 RTP/AVP 31", "a=label:v"),
			origin: "- 1 1 IN IP4 pbx.example.com",
			want: []Media{
				{Index: 0, Type: "audio", Port: 0, Proto: "RTP/AVP", Label: "gone",
					Formats: []Format{{PT: 0, Name: "PCMU", ClockRate: 8000, Channels: 1}}},
				{Index: 1, Type: "audio", Port: 7000, Proto: "RTP/AVP", Direction: "recvonly",
					Formats: []Format{{PT: 97}, {PT: 0, Name: "PCMU", Channels: 1}}},
				{Index: 2, Type: "video", Port: 7002, Proto: "RTP/AVP", Label: "v",
					Formats: []Format{{PT: 31, Name: "H261", ClockRate: 90000}}},
			},
		},
		{
			name: "m-line with garbage keeps its place",
			sdp:  crlf("v=0", "m=audio", "m=audio notaport RTP/AVP 0", "m=audio 4000 RTP/AVP 8"),
			want: []Media{
				{Index: 0, Type: "audio"},
				{Index: 1, Type: "audio", Proto: "RTP/AVP", Formats: []Format{{PT: 0, Name: "PCMU", ClockRate: 8000, Channels: 1}}},
				{Index: 2, Type: "audio", Port: 4000, Proto: "RTP/AVP", Formats: []Format{{PT: 8, Name: "PCMA", ClockRate: 8000, Channels: 1}}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSDP([]byte(tc.sdp))
			if err != nil {
				t.Fatalf("ParseSDP: %v", err)
			}
			if got.Origin != tc.origin || got.SessionAddr != tc.addr {
				t.Errorf("origin %q addr %v, want %q %v", got.Origin, got.SessionAddr, tc.origin, tc.addr)
			}
			if !reflect.DeepEqual(got.Media, tc.want) {
				t.Errorf("media\n got %+v\nwant %+v", got.Media, tc.want)
			}
		})
	}
}

func TestParseSDPErrors(t *testing.T) {
	for _, in := range []string{"", "\r\n", "hello world", "<recording/>", "x=1\r\ny=2"} {
		if _, err := ParseSDP([]byte(in)); !errors.Is(err, ErrNotSDP) {
			t.Errorf("ParseSDP(%q) err = %v, want ErrNotSDP", in, err)
		}
	}
}

func TestMediaPaused(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		name    string
		m       Media
		paused  bool
		removed bool
	}{
		{"sendonly", Media{Port: 4000, Direction: "sendonly", Addr: v4}, false, false},
		{"no direction", Media{Port: 4000, Addr: v4}, false, false},
		{"inactive", Media{Port: 4000, Direction: "inactive", Addr: v4}, true, false},
		{"recvonly: the SRC will not send", Media{Port: 4000, Direction: "recvonly", Addr: v4}, true, false},
		{"BroadWorks hold: 0.0.0.0 and no direction", Media{Port: 4000, Addr: netip.IPv4Unspecified()}, true, false},
		{"IPv6 unspecified", Media{Port: 4000, Addr: netip.IPv6Unspecified()}, true, false},
		{"no address at all (OpenSIPS) is not a hold", Media{Port: 4000, Direction: "sendonly"}, false, false},
		{"port 0 is removed, not paused", Media{Port: 0, Direction: "sendonly", Addr: v4}, false, true},
	} {
		if tc.m.Paused() != tc.paused || tc.m.Removed() != tc.removed {
			t.Errorf("%s: Paused %v Removed %v, want %v %v", tc.name, tc.m.Paused(), tc.m.Removed(), tc.paused, tc.removed)
		}
	}
}

func TestOriginVersion(t *testing.T) {
	for _, tc := range []struct {
		origin string
		v      uint64
		ok     bool
	}{
		{"BroadWorks 2218846 7 IN IP4 192.0.2.1", 7, true},
		{"- 1 x IN IP4 0.0.0.0", 0, false},
		{"", 0, false},
	} {
		sd := &SessionDescription{Origin: tc.origin}
		if v, ok := sd.OriginVersion(); v != tc.v || ok != tc.ok {
			t.Errorf("OriginVersion(%q) = %d %v, want %d %v", tc.origin, v, ok, tc.v, tc.ok)
		}
	}
}

func TestBuildAnswer(t *testing.T) {
	pcmu := Format{PT: 0, Name: "PCMU", ClockRate: 8000, Channels: 1}
	te := Format{PT: 101, Name: "TELEPHONE-EVENT", ClockRate: 8000, Channels: 1, Fmtp: "0-15"}
	opus := Format{PT: 116, Name: "OPUS", ClockRate: 48000, Channels: 2, Fmtp: "useinbandfec=1"}
	got := string(BuildAnswer(Answer{
		Origin: "callrec", SessionID: 1700000000, Version: 2, Addr: netip.MustParseAddr("192.0.2.1"),
		Media: []AnswerMedia{
			{Type: "audio", Proto: "RTP/AVP", Port: 30000, Formats: []Format{pcmu, te}, Label: "16777227", Direction: "recvonly"},
			{Type: "audio", Proto: "RTP/SAVP", Port: 30002, Formats: []Format{opus}, Label: "a_leg", Direction: "recvonly", RTCPMux: true},
			{Type: "video", Proto: "RTP/AVP", Port: 0, Formats: []Format{{PT: 96}, {PT: 97}}, Label: "v"},
			{Type: "audio", Proto: "RTP/AVP", Port: 30006, Label: "empty"},
		},
	}))
	want := crlf(
		"v=0",
		"o=callrec 1700000000 2 IN IP4 192.0.2.1",
		"s=-",
		"c=IN IP4 192.0.2.1",
		"t=0 0",
		"m=audio 30000 RTP/AVP 0 101",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-15",
		"a=label:16777227",
		"a=recvonly",
		"m=audio 30002 RTP/SAVP 116",
		"a=rtpmap:116 opus/48000/2",
		"a=fmtp:116 useinbandfec=1",
		"a=label:a_leg",
		"a=rtcp-mux",
		"a=recvonly",
		"m=video 0 RTP/AVP 96",
		"a=label:v",
		"m=audio 0 RTP/AVP 0",
		"a=label:empty",
		"")
	if got != want {
		t.Errorf("answer\n%s\nwant\n%s", got, want)
	}
}

func TestBuildAnswerSanitises(t *testing.T) {
	got := string(BuildAnswer(Answer{
		Origin: "my user", Addr: netip.Addr{},
		Media: []AnswerMedia{{Port: 4000, Formats: []Format{{PT: 8, Name: "PCMA", ClockRate: 8000, Fmtp: "a\r\nb"}}, Label: "x y\r\na=sendrecv", Direction: "RecvOnly"}},
	}))
	want := crlf("v=0", "o=myuser 0 0 IN IP4 0.0.0.0", "s=-", "c=IN IP4 0.0.0.0", "t=0 0",
		"m=audio 4000 RTP/AVP 8", "a=rtpmap:8 PCMA/8000", "a=fmtp:8 ab", "a=label:xya=sendrecv", "a=recvonly", "")
	if got != want {
		t.Errorf("answer\n%q\nwant\n%q", got, want)
	}
	v6 := string(BuildAnswer(Answer{Addr: netip.MustParseAddr("2001:db8::5")}))
	if !strings.Contains(v6, "o=- 0 0 IN IP6 2001:db8::5\r\n") || !strings.Contains(v6, "c=IN IP6 2001:db8::5\r\n") {
		t.Errorf("IPv6 answer %q", v6)
	}
}
