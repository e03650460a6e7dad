package udpread

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// got is one datagram as the handler saw it (copied: the buffer is reused).
type got struct {
	pkt  []byte
	from netip.AddrPort
	now  time.Time
}

func listen(t testing.TB, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatalf("listen on %s: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addr(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// start runs Loop on c in a goroutine; the returned channel gets each
// datagram, and done gets Loop's result.
func start(c *net.UDPConn, batch int) (<-chan got, <-chan error) {
	out := make(chan got, 1024)
	done := make(chan error, 1)
	go func() {
		done <- Loop(c, batch, func(pkt []byte, from netip.AddrPort, now time.Time) {
			out <- got{bytes.Clone(pkt), from, now}
		})
	}()
	return out, done
}

func recv(t *testing.T, out <-chan got) got {
	t.Helper()
	select {
	case g := <-out:
		return g
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram within 5 s")
		return got{}
	}
}

// TestLoopDeliversEachDatagramWithItsSource: bytes, order and source
// (address and port, IPv4-mapped addresses unmapped) of every datagram,
// whatever the batch size, on IPv4, IPv6 and a dual-stack socket.
func TestLoopDeliversEachDatagramWithItsSource(t *testing.T) {
	for _, tc := range []struct {
		name       string
		listen     string
		send       string
		batch      int
		wantSource string // the sender's address as the handler must see it
	}{
		{"IPv4, batch 1", "127.0.0.1", "127.0.0.1", 1, "127.0.0.1"},
		{"IPv4, batch 4", "127.0.0.1", "127.0.0.1", 4, "127.0.0.1"},
		{"IPv4, batch above MaxBatch is clamped", "127.0.0.1", "127.0.0.1", 100, "127.0.0.1"},
		{"IPv4, batch 0 is clamped to 1", "127.0.0.1", "127.0.0.1", 0, "127.0.0.1"},
		{"IPv6 loopback", "::1", "::1", 4, "::1"},
		{"dual-stack socket, IPv4 sender is unmapped", "::", "127.0.0.1", 4, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := listen(t, tc.listen)
			src := listen(t, tc.send)
			out, _ := start(c, tc.batch)
			dst := netip.AddrPortFrom(netip.MustParseAddr(tc.send), addr(c).Port())
			for i := range 20 {
				pkt := bytes.Repeat([]byte{byte(i)}, 10+i)
				if _, err := src.WriteToUDPAddrPort(pkt, dst); err != nil {
					t.Fatal(err)
				}
			}
			want := netip.AddrPortFrom(netip.MustParseAddr(tc.wantSource), addr(src).Port())
			for i := range 20 {
				g := recv(t, out)
				if wantPkt := bytes.Repeat([]byte{byte(i)}, 10+i); !bytes.Equal(g.pkt, wantPkt) {
					t.Fatalf("datagram %d = % x, want % x", i, g.pkt, wantPkt)
				}
				if g.from != want {
					t.Fatalf("datagram %d from %v, want %v", i, g.from, want)
				}
			}
		})
	}
}

// TestLoopTruncatesAtMaxDatagram: a datagram longer than MaxDatagram is
// handed over cut to MaxDatagram bytes, and the next one is whole.
func TestLoopTruncatesAtMaxDatagram(t *testing.T) {
	c := listen(t, "127.0.0.1")
	src := listen(t, "127.0.0.1")
	out, _ := start(c, 4)
	long := bytes.Repeat([]byte{0xab}, 2000)
	for _, p := range [][]byte{long, []byte("next")} {
		if _, err := src.WriteToUDPAddrPort(p, addr(c)); err != nil {
			t.Fatal(err)
		}
	}
	if g := recv(t, out); !bytes.Equal(g.pkt, long[:MaxDatagram]) {
		t.Errorf("long datagram handed over as %d bytes, want the first %d", len(g.pkt), MaxDatagram)
	}
	if g := recv(t, out); string(g.pkt) != "next" {
		t.Errorf("next datagram = %q, want \"next\"", g.pkt)
	}
}

// TestLoopReturnsNilWhenClosed: closing the socket ends Loop with nil,
// whether it is parked or was never given a datagram.
func TestLoopReturnsNilWhenClosed(t *testing.T) {
	for _, sendFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("after a datagram %v", sendFirst), func(t *testing.T) {
			c := listen(t, "127.0.0.1")
			out, done := start(c, 4)
			if sendFirst {
				src := listen(t, "127.0.0.1")
				if _, err := src.WriteToUDPAddrPort([]byte("x"), addr(c)); err != nil {
					t.Fatal(err)
				}
				recv(t, out)
			}
			c.Close()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Loop after Close = %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Loop did not return within 5 s of Close")
			}
		})
	}
}

// TestLoopAllocatesNothingPerDatagram pins the hot-path promise: a
// datagram read and handed over allocates nothing.
func TestLoopAllocatesNothingPerDatagram(t *testing.T) {
	c := listen(t, "127.0.0.1")
	src := listen(t, "127.0.0.1")
	seen := make(chan struct{}, 1)
	go func() {
		_ = Loop(c, 4, func([]byte, netip.AddrPort, time.Time) { seen <- struct{}{} })
	}()
	dst := addr(c)
	pkt := make([]byte, 172)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := src.WriteToUDPAddrPort(pkt, dst); err != nil {
			t.Fatal(err)
		}
		<-seen
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per datagram, want 0", allocs)
	}
}
