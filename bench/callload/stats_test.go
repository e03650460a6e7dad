package main

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

func TestStampPayloadRoundTripAndSilence(t *testing.T) {
	p := make([]byte, payloadLen)
	const ns = int64(1_790_000_000_123_456_789)
	stampPayload(p, ns)
	if got, ok := readStamp(p); !ok || got != ns {
		t.Fatalf("readStamp = %d, %v; want %d", got, ok, ns)
	}
	for i, b := range p[stampLen:] {
		if b != 0xFF {
			t.Fatalf("payload byte %d = %#x, want µ-law silence 0xFF", stampLen+i, b)
		}
	}
	restamp(p, ns+20e6)
	if got, _ := readStamp(p); got != ns+20e6 || p[stampLen] != 0xFF {
		t.Errorf("restamp: %d, byte 8 %#x", got, p[stampLen])
	}
	if _, ok := readStamp(p[:7]); ok {
		t.Error("a 7-byte payload gave a stamp")
	}
}

func TestParseRTP(t *testing.T) {
	var pkt [pktLen]byte
	rtpHeader(pkt[:], true, 65535, 160, 42)
	stampPayload(pkt[rtpHdr:], 7)
	seq, ssrc, payload, ok := parseRTP(pkt[:])
	if !ok || seq != 65535 || ssrc != 42 || len(payload) != payloadLen || pkt[1] != 0x80 {
		t.Fatalf("parseRTP = %d %d %d %v", seq, ssrc, len(payload), ok)
	}
	// one CSRC, a 1-word extension and 4 bytes of padding
	b := append([]byte{0xB1, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 0xBE, 0xDE, 0, 1, 9, 9, 9, 9}, []byte{0xAA, 0xBB, 0, 0, 0, 4}...)
	_, ssrc, payload, ok = parseRTP(b)
	if !ok || ssrc != 5 || string(payload) != "\xAA\xBB" {
		t.Errorf("with CSRC, extension, padding: ssrc %d payload %x ok %v", ssrc, payload, ok)
	}
	for name, bad := range map[string][]byte{"short": pkt[:11], "version 1": append([]byte{0x40}, pkt[1:]...), "extension past end": {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}} {
		if _, _, _, ok := parseRTP(bad); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

// cmsg builds one control message as the kernel lays it out.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, cmsgHdrLen+(len(data)+7)&^7)
	binary.NativeEndian.PutUint64(b, uint64(cmsgHdrLen+len(data)))
	binary.NativeEndian.PutUint32(b[8:], uint32(level))
	binary.NativeEndian.PutUint32(b[12:], uint32(typ))
	copy(b[cmsgHdrLen:], data)
	return b
}

func TestRxTime(t *testing.T) {
	ts := make([]byte, 16)
	binary.NativeEndian.PutUint64(ts, 1_790_000_000)
	binary.NativeEndian.PutUint64(ts[8:], 123_456_789)
	other := cmsg(0, 8, []byte{1, 2, 3, 4}) // IP_PKTINFO-like, 4 bytes padded to 8
	for _, tc := range []struct {
		name string
		oob  []byte
		want int64
		ok   bool
	}{
		{"timestamp alone", cmsg(solSocket, scmTimestampNS, ts), 1_790_000_000_123_456_789, true},
		{"after another message", append(other, cmsg(solSocket, scmTimestampNS, ts)...), 1_790_000_000_123_456_789, true},
		{"none", other, 0, false},
		{"empty", nil, 0, false},
		{"length past the buffer", cmsg(solSocket, scmTimestampNS, ts)[:20], 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := rxTime(tc.oob)
			if got != tc.want || ok != tc.ok {
				t.Errorf("rxTime = %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestHistQuantiles(t *testing.T) {
	h := newHist(time.Microsecond, time.Millisecond)
	for i := 1; i <= 1000; i++ { // 1..1000 µs, minus a hair: bucket i-1
		h.add(time.Duration(i)*time.Microsecond - time.Nanosecond)
	}
	h.add(5*time.Millisecond + 300*time.Microsecond) // past the fine range: coarse bucket 5 (5-6 ms), the maximum
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 501 * time.Microsecond}, {0.99, 991 * time.Microsecond}, {0.999, 1000 * time.Microsecond}, {1, 5*time.Millisecond + 300*time.Microsecond}} {
		if got := h.quantile(tc.q); got != tc.want {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	o := newHist(time.Microsecond, time.Millisecond)
	o.add(-time.Microsecond) // a clock step: bucket 0
	h.merge(o)
	if h.n != 1002 || h.counts[0] != 2 || h.max != 5*time.Millisecond+300*time.Microsecond {
		t.Errorf("merge: n %d, bucket 0 %d, max %v", h.n, h.counts[0], h.max)
	}
	h.add(20 * time.Second) // past the coarse range
	if h.over != 1 || h.quantile(1) != 20*time.Second {
		t.Errorf("overflow %d, max quantile %v", h.over, h.quantile(1))
	}
	// a quantile in a coarse bucket is its upper edge
	c := newHist(time.Microsecond, time.Millisecond)
	for range 10 {
		c.add(3*time.Millisecond + 10*time.Microsecond)
	}
	c.add(8 * time.Millisecond)
	if got := c.quantile(0.5); got != 4*time.Millisecond {
		t.Errorf("coarse median %v, want 4ms", got)
	}
	if newHist(time.Microsecond, time.Millisecond).quantile(0.5) != 0 {
		t.Error("empty histogram has a median")
	}
}

func TestSeqTrackerCountsLoss(t *testing.T) {
	seqs := func(from, n int, skip ...int) []uint16 {
		var out []uint16
		for i := range n {
			s := from + i
			drop := false
			for _, k := range skip {
				drop = drop || k == s
			}
			if !drop {
				out = append(out, uint16(s))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name           string
		seqs           []uint16
		expected, lost uint64
	}{
		{"none lost", seqs(100, 50), 50, 0},
		{"two lost", seqs(100, 50, 110, 120), 50, 2},
		{"across the wrap", seqs(65530, 12, 65535, 65536), 12, 2},
		{"reordered fills its gap", []uint16{1, 2, 4, 3, 5}, 5, 0},
		{"late packet from before the wrap", []uint16{65534, 65535, 1, 0, 2}, 5, 0},
		{"nothing", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tr seqTracker
			for _, s := range tc.seqs {
				tr.add(s)
			}
			if tr.expected() != tc.expected || tr.lost() != tc.lost {
				t.Errorf("expected %d lost %d; want %d, %d", tr.expected(), tr.lost(), tc.expected, tc.lost)
			}
		})
	}
}

func TestAudioAddr(t *testing.T) {
	b2bua := "v=0\r\no=callrec 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 20004 RTP/AVP 0 8 9 111 101\r\na=rtpmap:111 opus/48000/2\r\n"
	mediaLevel := "v=0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\nc=IN IP4 127.0.0.2\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 127.0.0.3\r\n"
	for _, tc := range []struct {
		name, sdp string
		want      string
		pcmu, err bool
	}{
		{"b2bua offer", b2bua, "127.0.0.1:20004", true, false},
		{"ours", string(offerSDP(7, netip.MustParseAddrPort("127.0.0.1:40000"))), "127.0.0.1:40000", true, false},
		{"media-level c= of the first stream", mediaLevel, "127.0.0.2:4000", false, false},
		{"no audio", "v=0\r\nc=IN IP4 127.0.0.1\r\nm=video 5000 RTP/AVP 96\r\n", "", false, true},
		{"no address", "v=0\r\nm=audio 5000 RTP/AVP 0\r\n", "", false, true},
		{"bad port", "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 99999 RTP/AVP 0\r\n", "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, pcmu, err := audioAddr([]byte(tc.sdp))
			if (err != nil) != tc.err || (!tc.err && (a.String() != tc.want || pcmu != tc.pcmu)) {
				t.Errorf("audioAddr = %v, %v, %v; want %s, %v", a, pcmu, err, tc.want, tc.pcmu)
			}
		})
	}
}

func TestMatchCallPicksNearestUnmatched(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	calls := []*ownedCall{{answered: t0}, {answered: t0.Add(20 * time.Second)}, {answered: t0.Add(40 * time.Second)}}
	if c := matchCall(calls, t0.Add(20*time.Second+30*time.Millisecond)); c != calls[1] {
		t.Fatalf("matched %v, want the second call", c)
	}
	calls[1].matched = true
	if c := matchCall(calls, t0.Add(20*time.Second)); c != nil {
		t.Errorf("matched %v: the only call near is taken", c)
	}
	if c := matchCall(calls, t0.Add(-3*time.Second)); c != nil {
		t.Errorf("matched %v outside the window", c)
	}
}

func TestAddedIsRelayMinusBaseline(t *testing.T) {
	a := added(percentilesUS{P50: 60, P99: 400, P999: 2900, N: 10}, percentilesUS{P50: 5, P99: 30, P999: 170})
	if a.P50 != 55 || a.P99 != 370 || a.P999 != 2730 || a.N != 10 {
		t.Errorf("added = %+v", a)
	}
}

func FuzzParsers(f *testing.F) {
	var pkt [pktLen]byte
	rtpHeader(pkt[:], false, 1, 2, 3)
	f.Add(pkt[:])
	f.Add([]byte("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 20004 RTP/AVP 0 8\r\n"))
	f.Add(cmsg(solSocket, scmTimestampNS, make([]byte, 16)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, _, p, ok := parseRTP(b); ok && len(p) > len(b) {
			t.Errorf("payload longer than the packet")
		}
		_, _ = rxTime(b)
		_, _ = readStamp(b)
		if a, _, err := audioAddr(b); err == nil && !a.IsValid() {
			t.Errorf("no error and no address")
		}
	})
}
