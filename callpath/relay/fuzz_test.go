package relay

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/callrec/callrec/media/mix"
)

// FuzzHandleDatagram feeds arbitrary datagrams through a bridged leg's
// RTP and RTCP paths (passthrough and transcoding): nothing may panic,
// a datagram mix.ParseRTP refuses is counted as malformed, and the
// received buffer is left as it came (taps see what the party sent).
func FuzzHandleDatagram(f *testing.F) {
	f.Add(rtpPacket(0, true, 1, 160, 0x1234, bytes.Repeat([]byte{0xd5}, 160)), false)
	f.Add(rtpPacket(101, false, 2, 160, 0x1234, []byte{10, 0x8a, 0x03, 0x20}), true)
	f.Add(rtpPacket(13, false, 3, 320, 0x1234, []byte{40}), false)
	f.Add(append([]byte{0x90}, rtpPacket(0, false, 4, 480, 1, []byte{0, 1, 0, 1, 9, 9, 9, 9, 0xff})[1:]...), false)
	f.Add(rtcpRR(0x99), false)
	f.Add([]byte{0x80}, true)
	ports := testPorts(f)
	sink := newEndpoint(f) // never read: what the kernel cannot queue it drops
	legs := map[bool][2]*Leg{}
	for _, transcode := range []bool{false, true} {
		cb := pcmu
		if transcode {
			cb = g722
		}
		a, b := newTestLeg(f, ports, pcmu), newTestLeg(f, ports, cb)
		b.SetRemote(sink.addr(), sink.rtcpAddr())
		br, err := NewBridge(a, b)
		if err != nil {
			f.Fatal(err)
		}
		br.Tap(A, func([]byte, time.Time) {})
		br.OnDigit(func(Side, string) {})
		legs[transcode] = [2]*Leg{a, b}
	}
	from := sink.addr()
	f.Fuzz(func(t *testing.T, pkt []byte, transcode bool) {
		a := legs[transcode][0]
		orig := bytes.Clone(pkt)
		before := a.Stats()
		a.handleRTP(pkt, from, time.Now())
		after := a.Stats()
		if !bytes.Equal(pkt, orig) {
			t.Fatalf("the relay changed the received datagram: % x -> % x", orig, pkt)
		}
		_, _, err := mix.ParseRTP(pkt)
		switch {
		case err == mix.ErrRTCP:
			if after.RTCPIn != before.RTCPIn+1 {
				t.Fatal("muxed RTCP not counted")
			}
		case err != nil:
			if after.Malformed != before.Malformed+1 || after.Dropped != before.Dropped+1 {
				t.Fatalf("malformed datagram counted %d/%d", after.Malformed-before.Malformed, after.Dropped-before.Dropped)
			}
		default:
			if after.PacketsIn != before.PacketsIn+1 {
				t.Fatal("RTP packet not counted")
			}
		}
		a.handleRTCP(pkt, from, false)
		if validRTCP(pkt) {
			for b := pkt; len(b) > 0; {
				n := 4 * (int(binary.BigEndian.Uint16(b[2:])) + 1)
				b = b[n:]
			}
		}
	})
}
