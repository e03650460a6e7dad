//go:build linux && (amd64 || arm64)

package udpread

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// TestLoopDrainsABacklogInBatches: datagrams queued before the reader
// starts are all delivered, in order, and those read by one call share
// its time (the batch's), so a batch of 4 gives at most 4 per time.
func TestLoopDrainsABacklogInBatches(t *testing.T) {
	c := listen(t, "127.0.0.1")
	src := listen(t, "127.0.0.1")
	const n = 40
	for i := range n {
		if _, err := src.WriteToUDPAddrPort([]byte{byte(i)}, addr(c)); err != nil {
			t.Fatal(err)
		}
	}
	for Queued(c) == 0 {
		time.Sleep(time.Millisecond) // loopback delivers at once; wait only if not yet
	}
	if q := Queued(c); q == 0 {
		t.Fatalf("Queued = 0 with %d datagrams sent", n)
	}
	out, _ := start(c, 4)
	perTime := map[time.Time]int{}
	for i := range n {
		g := recv(t, out)
		if g.pkt[0] != byte(i) {
			t.Fatalf("datagram %d carries %d: out of order", i, g.pkt[0])
		}
		perTime[g.now]++
	}
	for at, k := range perTime {
		if k > 4 {
			t.Errorf("%d datagrams share the time %v; a batch is at most 4", k, at)
		}
	}
	if len(perTime) >= n {
		t.Errorf("every one of %d queued datagrams was read by its own call: no batching", n)
	}
}

// BenchmarkRead is one datagram at a time, each reaching a reader that
// has parked (as a 20 ms media stream does), read by Loop or by the
// ReadFromUDPAddrPort loop Loop replaces. cpu-µs/pkt is the process's
// user+system CPU per datagram (the sender's sendto included, the same in
// both).
func BenchmarkRead(b *testing.B) {
	for _, tc := range []struct {
		name string
		read func(c *net.UDPConn, h Handler)
	}{
		{"Loop", func(c *net.UDPConn, h Handler) { _ = Loop(c, 4, h) }},
		{"ReadFromUDPAddrPort", func(c *net.UDPConn, h Handler) {
			buf := make([]byte, MaxDatagram)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				h(buf[:n], from, time.Now())
			}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := listen(b, "127.0.0.1")
			src := listen(b, "127.0.0.1")
			seen := make(chan struct{}, 1)
			go tc.read(c, func([]byte, netip.AddrPort, time.Time) { seen <- struct{}{} })
			dst := addr(c)
			pkt := make([]byte, 172)
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := src.WriteToUDPAddrPort(pkt, dst); err != nil {
					b.Fatal(err)
				}
				<-seen
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/pkt")
		})
	}
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
