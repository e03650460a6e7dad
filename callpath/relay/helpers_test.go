package relay

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// testPorts returns an allocator over a random 2,000-port window, so that
// parallel test processes rarely meet (NewLeg skips ports taken anyway).
func testPorts(t testing.TB) *PortRange {
	t.Helper()
	base := 20000 + 2*rand.IntN(15000)
	p, err := NewPortRange(base, base+1999)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newTestLeg(t testing.TB, ports PortAllocator, c Codec) *Leg {
	t.Helper()
	l, err := NewLeg(LegConfig{IP: loopback, Ports: ports, Codec: &c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// endpoint is a fake phone: an RTP and an RTCP socket on loopback.
type endpoint struct {
	t    testing.TB
	rtp  *net.UDPConn
	rtcp *net.UDPConn
}

func newEndpoint(t testing.TB) *endpoint {
	t.Helper()
	rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	rtcp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rtp.Close(); rtcp.Close() })
	return &endpoint{t: t, rtp: rtp, rtcp: rtcp}
}

func (e *endpoint) addr() netip.AddrPort     { return e.rtp.LocalAddr().(*net.UDPAddr).AddrPort() }
func (e *endpoint) rtcpAddr() netip.AddrPort { return e.rtcp.LocalAddr().(*net.UDPAddr).AddrPort() }

func (e *endpoint) send(to netip.AddrPort, pkt []byte) {
	e.t.Helper()
	if _, err := e.rtp.WriteToUDPAddrPort(pkt, to); err != nil {
		e.t.Fatal(err)
	}
}

// recv reads one datagram from c or fails the test after timeout.
func recvOn(t testing.TB, c *net.UDPConn, timeout time.Duration) []byte {
	t.Helper()
	b, ok := tryRecv(c, timeout)
	if !ok {
		t.Fatalf("no datagram on %s within %s", c.LocalAddr(), timeout)
	}
	return b
}

// tryRecv reads one datagram from c, or reports false after timeout.
func tryRecv(c *net.UDPConn, timeout time.Duration) ([]byte, bool) {
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	n, _, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, false
		}
		return nil, false
	}
	return buf[:n], true
}

// rtpPacket builds an RTP datagram with the fixed header.
func rtpPacket(pt uint8, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	put16(b[2:], seq)
	put32(b[4:], ts)
	put32(b[8:], ssrc)
	return append(b, payload...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

var (
	pcmu = Codec{Name: "PCMU", PayloadType: 0, EventPT: 101}
	pcma = Codec{Name: "PCMA", PayloadType: 8, EventPT: 101}
	g722 = Codec{Name: "G722", PayloadType: 9, EventPT: 101}
	opus = Codec{Name: "OPUS", PayloadType: 111, ClockRate: 48000, Channels: 2, EventPT: 110}
)

// bridged builds two legs with the given codecs, bridges them, and points
// them at two fresh endpoints.
type callFixture struct {
	br     *Bridge
	la, lb *Leg
	ea, eb *endpoint
}

func newCall(t testing.TB, ca, cb Codec) *callFixture {
	t.Helper()
	ports := testPorts(t)
	f := &callFixture{la: newTestLeg(t, ports, ca), lb: newTestLeg(t, ports, cb), ea: newEndpoint(t), eb: newEndpoint(t)}
	f.la.SetRemote(f.ea.addr(), f.ea.rtcpAddr())
	f.lb.SetRemote(f.eb.addr(), f.eb.rtcpAddr())
	br, err := NewBridge(f.la, f.lb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close() })
	f.br = br
	return f
}
