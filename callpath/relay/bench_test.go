package relay

import (
	"bytes"
	"net"
	"slices"
	"testing"
	"time"
)

// benchCall is a bridge whose B side sends to a socket drained by a
// goroutine, so the benchmark measures the relay's own path.
func benchCall(b *testing.B, ca, cb Codec) *callFixture {
	f := newCall(b, ca, cb)
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := f.eb.rtp.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	return f
}

// BenchmarkRelayPacket is the per-packet relay path: parse, latch check,
// send to the other leg, tap. It must not allocate.
func BenchmarkRelayPacket(b *testing.B) {
	for _, tc := range []struct {
		name     string
		ca, cb   Codec
		rewrite  bool
		transcod bool
	}{
		{"passthrough", pcmu, pcmu, false, false},
		{"passthrough after a prompt (rewriting)", pcmu, pcmu, true, false},
		{"transcode PCMU to PCMA", pcmu, pcma, false, true},
		{"transcode PCMU to G722", pcmu, g722, false, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := benchCall(b, tc.ca, tc.cb)
			var taps int
			f.br.Tap(A, func([]byte, time.Time) { taps++ })
			if tc.rewrite {
				p, err := f.br.Play(B, &frames{n: 1})
				if err != nil {
					b.Fatal(err)
				}
				<-p.Done()
			}
			pkt := rtpPacket(0, false, 1, 0, 0x42, bytes.Repeat([]byte{0xd5}, 160))
			from := f.ea.addr()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				put16(pkt[2:], uint16(i))
				put32(pkt[4:], uint32(160*i))
				f.la.handleRTP(pkt, from, time.Now())
			}
			b.StopTimer()
			if s := f.la.Stats(); s.Dropped != 0 || taps == 0 {
				b.Fatalf("dropped %d, taps %d", s.Dropped, taps)
			}
		})
	}
}

// BenchmarkRelayLatency measures the delay the relay adds on loopback:
// packets go alternately straight from one socket to another (baseline)
// and through a bridge (sender -> leg A -> leg B -> receiver), one every
// pace (in alternating order), each stamped with its send time; the
// figures are percentiles of the one-way times and, per percentile,
// bridge minus baseline. Run it with a fixed count, e.g.
// -benchtime=20000x.
func BenchmarkRelayLatency(b *testing.B) {
	const pace = time.Millisecond
	f := newCall(b, pcmu, pcmu)
	direct := newEndpoint(b)
	base := time.Now()
	stamp := func(pkt []byte) { put32(pkt[12:], uint32(time.Since(base)/time.Microsecond)) }
	recvDelays := func(c *net.UDPConn, n int, out chan<- []time.Duration) {
		d := make([]time.Duration, 0, n)
		buf := make([]byte, 2048)
		for len(d) < n {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			m, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			if m >= 16 {
				sent := time.Duration(be32(buf[12:])) * time.Microsecond
				d = append(d, time.Since(base)-sent)
			}
		}
		out <- d
	}
	n := b.N
	viaBridge, straight := make(chan []time.Duration, 1), make(chan []time.Duration, 1)
	go recvDelays(f.eb.rtp, n, viaBridge)
	go recvDelays(direct.rtp, n, straight)
	pkt := rtpPacket(0, false, 0, 0, 0x77, make([]byte, 160))
	tk := time.NewTicker(pace)
	defer tk.Stop()
	b.ResetTimer()
	for i := range n {
		// Alternate which path goes first, so neither gets the head start.
		first, second := direct.addr(), f.la.LocalRTP()
		if i%2 == 1 {
			first, second = second, first
		}
		put16(pkt[2:], uint16(i))
		stamp(pkt)
		f.ea.send(first, pkt)
		stamp(pkt)
		f.ea.send(second, pkt)
		<-tk.C
	}
	viaD, dirD := <-viaBridge, <-straight
	b.StopTimer()
	if len(viaD) < n*99/100 || len(dirD) < n*99/100 {
		b.Fatalf("received %d via bridge, %d direct, of %d", len(viaD), len(dirD), n)
	}
	slices.Sort(viaD)
	slices.Sort(dirD)
	pct := func(d []time.Duration, p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	for _, q := range []struct {
		name string
		p    float64
	}{{"p50", 0.50}, {"p99", 0.99}, {"p99.9", 0.999}} {
		b.ReportMetric(float64(pct(viaD, q.p).Microseconds()), "µs-bridge-"+q.name)
		b.ReportMetric(float64(pct(dirD, q.p).Microseconds()), "µs-direct-"+q.name)
		b.ReportMetric(float64((pct(viaD, q.p) - pct(dirD, q.p)).Microseconds()), "µs-added-"+q.name)
	}
}
