package relay

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestR38_PassthroughBothWays: packets cross the bridge in both
// directions at once, byte-identical and in order (no jitter buffer, no
// rewrite while nothing is injected).
func TestR38_PassthroughBothWays(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ca, cb Codec
	}{
		{"same codec same payload type", pcmu, pcmu},
		{"same codec different payload types", opus, Codec{Name: "opus", PayloadType: 96, ClockRate: 48000, Channels: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCall(t, tc.ca, tc.cb)
			if f.br.Transcoding() {
				t.Fatal("Transcoding() = true for one codec")
			}
			const n = 100
			mk := func(from Side, i int) []byte {
				pt := tc.ca.PayloadType
				if from == B {
					pt = tc.cb.PayloadType
				}
				return rtpPacket(pt, i == 0, uint16(1000+i), uint32(160*i), 0x1000+uint32(from), []byte(fmt.Sprintf("%s-%03d-%s", from, i, bytes.Repeat([]byte{byte(i)}, 150))))
			}
			var wg sync.WaitGroup
			for _, s := range []Side{A, B} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					src, to := f.ea, f.la.LocalRTP()
					if s == B {
						src, to = f.eb, f.lb.LocalRTP()
					}
					for i := range n {
						src.send(to, mk(s, i))
					}
				}()
			}
			for _, s := range []Side{A, B} {
				rx := f.eb
				if s == B {
					rx = f.ea
				}
				for i := range n {
					got := recvOn(t, rx.rtp, 2*time.Second)
					want := mk(s, i)
					// The payload type is the receiving leg's.
					outPT := tc.cb.PayloadType
					if s == B {
						outPT = tc.ca.PayloadType
					}
					want[1] = want[1]&0x80 | outPT
					if !bytes.Equal(got, want) {
						t.Fatalf("from %s packet %d: got % x..., want % x...", s, i, got[:16], want[:16])
					}
				}
			}
			wg.Wait()
			// A leg counts a packet after its write returns, which may be
			// after the far end has read it.
			waitFor(t, "the out counters", func() bool { return f.la.Stats().PacketsOut == n && f.lb.Stats().PacketsOut == n })
			sa, sb := f.la.Stats(), f.lb.Stats()
			if sa.PacketsIn != n || sb.PacketsOut != n || sb.PacketsIn != n || sa.PacketsOut != n {
				t.Errorf("stats: A in %d out %d, B in %d out %d; want %d each", sa.PacketsIn, sa.PacketsOut, sb.PacketsIn, sb.PacketsOut, n)
			}
			if sa.Dropped != 0 || sb.Dropped != 0 {
				t.Errorf("dropped: A %d B %d", sa.Dropped, sb.Dropped)
			}
			if sa.Latched != f.ea.addr() || sb.Latched != f.eb.addr() {
				t.Errorf("latched A %s B %s, want %s %s", sa.Latched, sb.Latched, f.ea.addr(), f.eb.addr())
			}
		})
	}
}

// TestLatching: RFC 4961 symmetric RTP with the safety check of the
// package doc.
func TestLatching(t *testing.T) {
	t.Run("latches to a different source port of the SDP address", func(t *testing.T) {
		f := newCall(t, pcmu, pcmu)
		nat := newEndpoint(t) // the phone's real source: same IP, other port
		nat.send(f.lb.LocalRTP(), rtpPacket(0, true, 1, 0, 7, []byte("from-nat")))
		waitFor(t, "B to latch", func() bool { return f.lb.Stats().Latched == nat.addr() })
		if got := recvOn(t, f.ea.rtp, time.Second); !bytes.HasSuffix(got, []byte("from-nat")) {
			t.Fatalf("A got %q", got)
		}
		f.ea.send(f.la.LocalRTP(), rtpPacket(0, false, 5, 800, 9, []byte("to-nat")))
		if got := recvOn(t, nat.rtp, time.Second); !bytes.HasSuffix(got, []byte("to-nat")) {
			t.Fatalf("latched source got %q", got)
		}
		if b, ok := tryRecv(f.eb.rtp, 50*time.Millisecond); ok {
			t.Fatalf("SDP address still got %q after latching", b)
		}
		// A third source is refused once latched.
		intruder := newEndpoint(t)
		intruder.send(f.lb.LocalRTP(), rtpPacket(0, false, 2, 160, 7, []byte("hijack")))
		waitFor(t, "foreign count", func() bool { return f.lb.Stats().Foreign == 1 })
		if b, ok := tryRecv(f.ea.rtp, 50*time.Millisecond); ok {
			t.Fatalf("intruder's packet relayed: %q", b)
		}
		// A new SDP opens latching again.
		f.lb.SetRemote(intruder.addr(), netip.AddrPort{})
		intruder.send(f.lb.LocalRTP(), rtpPacket(0, false, 3, 320, 7, []byte("new-sdp")))
		waitFor(t, "relatch", func() bool { return f.lb.Stats().Latched == intruder.addr() })
	})
	t.Run("malformed packet does not latch", func(t *testing.T) {
		f := newCall(t, pcmu, pcmu)
		f.lb.SetRemote(netip.MustParseAddrPort("10.1.2.3:4000"), netip.AddrPort{}) // private: any source
		bad := newEndpoint(t)
		bad.send(f.lb.LocalRTP(), []byte{0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1})
		waitFor(t, "malformed count", func() bool { return f.lb.Stats().Malformed == 1 })
		if s := f.lb.Stats(); s.Latched.IsValid() {
			t.Fatalf("latched to %s on a malformed packet", s.Latched)
		}
		f.eb.send(f.lb.LocalRTP(), rtpPacket(0, false, 1, 0, 1, []byte("ok")))
		waitFor(t, "latch", func() bool { return f.lb.Stats().Latched == f.eb.addr() })
	})
	for _, tc := range []struct {
		name   string
		sdp    string
		latch  bool
		reason string
	}{
		{"public SDP address refuses another host", "192.0.2.10:4000", false, "foreign"},
		{"private SDP address accepts any host", "10.0.0.5:4000", true, ""},
		{"shared CGNAT SDP address accepts any host", "100.64.1.1:4000", true, ""},
		{"unspecified SDP address accepts any host", "0.0.0.0:4000", true, ""},
		{"IPv6 ULA SDP address accepts any host", "[fd00::5]:4000", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCall(t, pcmu, pcmu)
			f.lb.SetRemote(netip.MustParseAddrPort(tc.sdp), netip.AddrPort{})
			f.eb.send(f.lb.LocalRTP(), rtpPacket(0, false, 1, 0, 1, []byte("x")))
			if tc.latch {
				waitFor(t, "latch", func() bool { return f.lb.Stats().Latched == f.eb.addr() })
				recvOn(t, f.ea.rtp, time.Second)
				return
			}
			waitFor(t, "foreign", func() bool { return f.lb.Stats().Foreign == 1 })
			if s := f.lb.Stats(); s.Latched.IsValid() || s.Dropped != 1 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// TestMalformedDropped: bad datagrams are dropped and counted, never
// relayed, and the relay goes on.
func TestMalformedDropped(t *testing.T) {
	f := newCall(t, pcmu, pcmu)
	good := rtpPacket(0, false, 1, 0, 1, []byte("good"))
	cases := []struct {
		name string
		pkt  []byte
	}{
		{"empty", []byte{}},
		{"short", []byte{0x80, 0, 0, 1, 0}},
		{"version 1", append([]byte{0x40}, good[1:]...)},
		{"version 3", append([]byte{0xc0}, good[1:]...)},
		{"CSRC list truncated", append([]byte{0x83}, good[1:]...)},
		{"extension truncated", append([]byte{0x90}, good[1:]...)},
		{"padding longer than payload", func() []byte { b := append([]byte{0xa0}, good[1:]...); b[len(b)-1] = 200; return b }()},
		{"telephone-event too short", rtpPacket(101, false, 2, 0, 1, []byte{1, 2})},
	}
	for _, c := range cases {
		f.ea.send(f.la.LocalRTP(), c.pkt)
	}
	f.ea.send(f.la.LocalRTP(), rtpPacket(96, false, 3, 0, 1, []byte("unknown PT")))
	f.ea.send(f.la.LocalRTP(), good)
	if got := recvOn(t, f.eb.rtp, time.Second); !bytes.Equal(got, good) {
		t.Fatalf("B got %q, want the good packet", got)
	}
	s := f.la.Stats()
	if s.Malformed != uint64(len(cases)) {
		t.Errorf("Malformed = %d, want %d", s.Malformed, len(cases))
	}
	if s.Dropped != uint64(len(cases))+1 {
		t.Errorf("Dropped = %d, want %d (malformed + unknown payload type)", s.Dropped, len(cases)+1)
	}
	if b, ok := tryRecv(f.eb.rtp, 30*time.Millisecond); ok {
		t.Fatalf("B got an extra datagram %q", b)
	}
	// Garbage on the RTCP port too.
	f.ea.rtcp.WriteToUDPAddrPort([]byte{0x80, 200, 0, 9}, rtcpOf(f.la))
	waitFor(t, "RTCP malformed", func() bool { return f.la.Stats().Malformed == uint64(len(cases))+1 })
}

func rtcpOf(l *Leg) netip.AddrPort {
	a := l.LocalRTP()
	return netip.AddrPortFrom(a.Addr(), a.Port()+1)
}

// rtcpRR is a receiver report with one report block (RFC 3550 §6.4.2).
func rtcpRR(ssrc uint32) []byte {
	b := make([]byte, 32)
	b[0], b[1] = 0x81, 201
	put16(b[2:], 7)
	put32(b[4:], ssrc)
	put32(b[8:], 0x1234)
	return b
}

// TestRTCPRelayed: RTCP crosses on the RTCP ports untouched, and RTCP
// multiplexed on the RTP port (RFC 5761) goes to the other leg's RTCP.
func TestRTCPRelayed(t *testing.T) {
	f := newCall(t, pcmu, pcmu)
	rr := rtcpRR(0xabcdef01)
	if _, err := f.ea.rtcp.WriteToUDPAddrPort(rr, rtcpOf(f.la)); err != nil {
		t.Fatal(err)
	}
	if got := recvOn(t, f.eb.rtcp, time.Second); !bytes.Equal(got, rr) {
		t.Fatalf("B's RTCP got % x, want % x", got, rr)
	}
	if s := f.la.Stats(); s.LatchedRTCP != f.ea.rtcpAddr() || s.RTCPIn != 1 || s.PacketsIn != 0 {
		t.Fatalf("A stats %+v", s)
	}
	f.eb.send(f.lb.LocalRTP(), rr)
	if got := recvOn(t, f.ea.rtcp, time.Second); !bytes.Equal(got, rr) {
		t.Fatalf("muxed RTCP: A's RTCP got % x", got)
	}
	if s := f.lb.Stats(); s.Malformed != 0 || s.RTCPIn != 1 {
		t.Fatalf("B stats %+v", s)
	}
}

func TestValidRTCP(t *testing.T) {
	sr := make([]byte, 28)
	sr[0], sr[1] = 0x80, 200
	put16(sr[2:], 6)
	for _, tc := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"receiver report", rtcpRR(1), true},
		{"compound SR + RR", append(append([]byte{}, sr...), rtcpRR(2)...), true},
		{"empty", nil, false},
		{"length past the end", rtcpRR(1)[:28], false},
		{"trailing bytes", append(rtcpRR(1), 0, 0), false},
		{"version 1", append([]byte{0x41}, rtcpRR(1)[1:]...), false},
		{"RTP payload type", append([]byte{0x80, 0}, rtcpRR(1)[2:]...), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := validRTCP(tc.b); got != tc.want {
				t.Fatalf("validRTCP = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewBridgeErrors(t *testing.T) {
	ports := testPorts(t)
	noCodec, err := NewLeg(LegConfig{IP: loopback, Ports: ports})
	if err != nil {
		t.Fatal(err)
	}
	defer noCodec.Close()
	a := newTestLeg(t, ports, pcmu)
	b := newTestLeg(t, ports, pcmu)
	c := newTestLeg(t, ports, Codec{Name: "G729", PayloadType: 18})
	if _, err := NewBridge(a, noCodec); !errors.Is(err, ErrNoCodec) {
		t.Errorf("no codec: %v", err)
	}
	if _, err := noCodec.Play(&frames{}); !errors.Is(err, ErrNoCodec) {
		t.Errorf("play without codec: %v", err)
	}
	if _, err := NewBridge(a, c); err == nil {
		t.Error("PCMU to G729 bridged without a transcoder")
	}
	br, err := NewBridge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	c.SetCodec(pcmu)
	if _, err := NewBridge(a, c); !errors.Is(err, ErrBusy) {
		t.Errorf("second bridge on a bridged leg: %v", err)
	}
	if _, err := NewBridge(c, b); !errors.Is(err, ErrBusy) {
		t.Errorf("second bridge on a bridged leg B: %v", err)
	}
	if c.sink.Load() != nil {
		t.Error("failed bridge left a sink on its first leg")
	}
	br.Detach()
	if _, err := NewBridge(a, c); err != nil {
		t.Errorf("bridge after detach: %v", err)
	}
}

// TestCloseReleases: closing stops the readers and returns the ports.
func TestCloseReleases(t *testing.T) {
	ports := testPorts(t)
	a, err := NewLeg(LegConfig{IP: loopback, Ports: ports, Codec: &pcmu})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLeg(LegConfig{IP: loopback, Ports: ports, Codec: &pcmu})
	if err != nil {
		t.Fatal(err)
	}
	br, err := NewBridge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if ports.InUse() != 2 {
		t.Fatalf("InUse = %d", ports.InUse())
	}
	p, err := br.Play(A, &frames{n: 1000})
	if err != nil {
		t.Fatal(err)
	}
	br.Close()
	<-p.Done()
	if ports.InUse() != 0 {
		t.Fatalf("InUse after close = %d", ports.InUse())
	}
	if _, err := a.Play(&frames{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("play on closed leg: %v", err)
	}
}

func TestPortRange(t *testing.T) {
	if _, err := NewPortRange(30001, 30001); err == nil {
		t.Error("range without a pair accepted")
	}
	p, err := NewPortRange(30001, 30006) // pairs 30002, 30004 (30006 has no odd partner)
	if err != nil {
		t.Fatal(err)
	}
	got := []int{}
	for range 2 {
		port, err := p.Acquire()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, port)
	}
	if got[0] != 30002 || got[1] != 30004 {
		t.Fatalf("ports %v", got)
	}
	if _, err := p.Acquire(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("exhausted: %v", err)
	}
	p.Release(30002)
	if port, err := p.Acquire(); err != nil || port != 30002 {
		t.Fatalf("after release: %d %v", port, err)
	}
}
