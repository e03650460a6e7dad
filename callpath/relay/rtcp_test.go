package relay

import (
	"bytes"
	"testing"
	"time"
)

// rtcpSRWithSDES is a compound SR (one report block about block) plus an
// SDES CNAME chunk (RFC 3550 §6.4.1, §6.5), as a softphone sends it.
func rtcpSRWithSDES(ssrc, ts, pkts, octets, block uint32, ext uint32) []byte {
	b := make([]byte, 52)
	b[0], b[1] = 0x81, ptSR
	put16(b[2:], 12)
	put32(b[4:], ssrc)
	put32(b[8:], 0xe1a2b3c4) // NTP seconds
	put32(b[12:], 0x80000000)
	put32(b[16:], ts)
	put32(b[20:], pkts)
	put32(b[24:], octets)
	rb := b[28:]
	put32(rb, block)
	put32(rb[4:], 0x02000003) // fraction lost 2, cumulative 3
	put32(rb[12:], ext)
	put32(rb[16:], 17)     // jitter
	put32(rb[20:], 0xaaaa) // LSR; DLSR stays 0 (it is rb[20:24] in RFC order: LSR then DLSR)
	cname := []byte("alice@192.0.2.1")
	sdes := []byte{0x81, ptSDES, 0, 0, 0, 0, 0, 0, 1, byte(len(cname))}
	put32(sdes[4:], ssrc)
	sdes = append(sdes, cname...)
	sdes = append(sdes, 0)
	for len(sdes)%4 != 0 {
		sdes = append(sdes, 0)
	}
	put16(sdes[2:], uint16(len(sdes)/4-1))
	return append(b, sdes...)
}

// RTCP after rewriting (RFC 3550 §7.2): once a prompt made the relay
// rewrite the stream toward B, A's SR reaches B with the SSRC, RTP
// timestamp and counts of the stream B actually receives (its SDES chunk
// too), and B's report block about that stream reaches A with A's SSRC
// and A's sequence numbering; everything else is byte for byte.
func TestRTCPTranslatedAfterPrompt(t *testing.T) {
	f := newCall(t, pcmu, pcmu)
	const ssrcA, ssrcB = 0xa1a1a1a1, 0xb2b2b2b2
	// A talks, B hears it verbatim: nothing to translate yet.
	payload := bytes.Repeat([]byte{0x7f}, 160)
	f.ea.send(f.la.LocalRTP(), rtpPacket(0, false, 100, 16000, ssrcA, payload))
	recvOn(t, f.eb.rtp, 2*time.Second)
	sr := rtcpSRWithSDES(ssrcA, 16000, 1, 160, ssrcB, 0x0001_0010)
	if _, err := f.ea.rtcp.WriteToUDPAddrPort(sr, rtcpOf(f.la)); err != nil {
		t.Fatal(err)
	}
	if got := recvOn(t, f.eb.rtcp, 2*time.Second); !bytes.Equal(got, sr) {
		t.Fatalf("before any prompt B got RTCP % x, want it untouched", got)
	}
	// A prompt toward B, then A's audio again: B's stream is rewritten.
	pb, err := f.lb.Play(&frames{n: 3})
	if err != nil {
		t.Fatal(err)
	}
	<-pb.Done()
	for range 3 {
		recvOn(t, f.eb.rtp, 2*time.Second)
	}
	f.ea.send(f.la.LocalRTP(), rtpPacket(0, false, 101, 16160, ssrcA, payload))
	got := recvOn(t, f.eb.rtp, 2*time.Second)
	outSSRC, outSeq, outTS := be32(got[8:]), be16(got[2:]), be32(got[4:])
	if outSeq != 104 || outTS == 16160 {
		t.Fatalf("toward B after the prompt: seq %d ts %d, want the rewritten 104 (three prompt packets after 100) and a shifted timestamp", outSeq, outTS)
	}
	waitFor(t, "B's out counters", func() bool { return f.lb.Stats().PacketsOut == 5 })
	st := f.lb.Stats()

	sr = rtcpSRWithSDES(ssrcA, 16160, 2, 320, 0x99, 0x0001_0010)
	if _, err := f.ea.rtcp.WriteToUDPAddrPort(sr, rtcpOf(f.la)); err != nil {
		t.Fatal(err)
	}
	got = recvOn(t, f.eb.rtcp, 2*time.Second)
	want := append([]byte(nil), sr...)
	put32(want[4:], outSSRC)
	put32(want[16:], outTS) // the packet A stamped 16160 reached B as outTS
	put32(want[20:], uint32(st.PacketsOut))
	put32(want[24:], uint32(st.BytesOut-12*st.PacketsOut))
	put32(want[52+4:], outSSRC) // SDES chunk
	if !bytes.Equal(got, want) {
		t.Fatalf("B got SR\n% x\nwant\n% x", got, want)
	}

	// B reports on the stream it receives: A must read it as a report on
	// its own stream, sequence 101 being the highest.
	rr := rtcpRR(ssrcB)
	put32(rr[8:], outSSRC)
	put32(rr[8+4:], 0x01000000)
	put32(rr[8+12:], 0x0002_0000|uint32(outSeq))
	put32(rr[8+16:], 40)
	if _, err := f.eb.rtcp.WriteToUDPAddrPort(rr, rtcpOf(f.lb)); err != nil {
		t.Fatal(err)
	}
	got = recvOn(t, f.ea.rtcp, 2*time.Second)
	want = append([]byte(nil), rr...)
	put32(want[8:], ssrcA)
	put32(want[8+12:], 0x0002_0000|101)
	if !bytes.Equal(got, want) {
		t.Fatalf("A got RR\n% x\nwant\n% x", got, want)
	}
}

// translateRTCP never reads past a packet, whatever the counts say.
func TestTranslateRTCPShortPackets(t *testing.T) {
	f := newCall(t, pcmu, pcmu)
	f.lb.mu.Lock()
	f.lb.out = outState{started: true, rewrite: true, anchored: true, ssrc: 9, inSSRC: 1}
	f.lb.mu.Unlock()
	f.la.mu.Lock()
	f.la.out = outState{started: true, rewrite: true, anchored: true, ssrc: 1, inSSRC: 9}
	f.la.mu.Unlock()
	for _, pkt := range [][]byte{
		{0x9f, ptRR, 0, 1, 0, 0, 0, 1},                 // RC 31, no blocks
		{0x9f, ptSR, 0, 1, 0, 0, 0, 1},                 // SR without sender info
		{0x9f, ptSDES, 0, 1, 0, 0, 0, 1},               // 31 chunks, one SSRC
		{0x85, ptSDES, 0, 2, 0, 0, 0, 1, 1, 200, 0, 0}, // item longer than the packet
		{0x9f, ptBYE, 0, 1, 0, 0, 0, 1},
	} {
		if !validRTCP(pkt) {
			t.Fatalf("test packet % x is not valid RTCP", pkt)
		}
		_ = translateRTCP(append([]byte(nil), pkt...), f.la, f.lb, time.Now())
	}
}

// FuzzTranslateRTCP: any valid RTCP compound packet translated between
// two rewritten legs keeps its length and structure (it stays valid
// RTCP) and nothing panics or reads past it.
func FuzzTranslateRTCP(f *testing.F) {
	f.Add(rtcpSRWithSDES(1, 160, 1, 160, 9, 0x10010))
	f.Add(rtcpRR(9))
	f.Add([]byte{0x81, ptBYE, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{0x85, ptSDES, 0, 2, 0, 0, 0, 1, 1, 200, 0, 0})
	ports := testPorts(f)
	a, b := newTestLeg(f, ports, pcmu), newTestLeg(f, ports, pcmu)
	a.out = outState{started: true, rewrite: true, anchored: true, ssrc: 1, inSSRC: 9, seqOff: 7, tsOff: 99}
	b.out = outState{started: true, rewrite: true, ssrc: 9, inSSRC: 1, seqOff: 3}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if !validRTCP(pkt) {
			return
		}
		in := append([]byte(nil), pkt...)
		out := translateRTCP(pkt, a, b, time.Now())
		if len(out) != len(in) || !validRTCP(out) {
			t.Fatalf("translated % x into % x", in, out)
		}
		for i := 0; i < len(in); {
			n := 4 * (int(in[i+2])<<8 | int(in[i+3]) + 1)
			if !bytes.Equal(in[i:i+4], out[i:i+4]) {
				t.Fatalf("packet header at %d changed: % x -> % x", i, in[i:i+4], out[i:i+4])
			}
			i += n
		}
	})
}
