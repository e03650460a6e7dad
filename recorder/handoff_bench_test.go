//go:build unix

package recorder

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/mix"
	"github.com/callrec/callrec/siprec"
)

// benchStream is a live stream of a server, as a session's startStream
// leaves it, without SIP: a mixer stream decoding PCMU, its socket pair
// bound and read.
func benchStream(b *testing.B) (*Server, *stream, *mix.Mixer, netip.AddrPort) {
	b.Helper()
	ports, err := newPortPool(nil, 47300, 47399)
	if err != nil {
		b.Fatal(err)
	}
	srv := &Server{ports: ports, bindIP: netip.MustParseAddr("127.0.0.1")}
	start := time.Now()
	m, err := mix.New(mix.Config{Rate: 8000, Channels: 1, Start: start, ReorderWindow: reorderWindow})
	if err != nil {
		b.Fatal(err)
	}
	dec, err := media.NewDecoder("PCMU", 8000, 1, 8000)
	if err != nil {
		b.Fatal(err)
	}
	ss := &session{srv: srv, local: srv.bindIP, src: netip.AddrPortFrom(srv.bindIP, 5060)}
	st := &stream{label: "0", done: make(chan struct{})}
	if err := ss.bindStream(st, siprec.Media{Addr: srv.bindIP}, netip.Addr{}); err != nil {
		b.Fatal(err)
	}
	st.mx = m.AddStream("0", 0)
	st.mx.SetCodecs(map[uint8]mix.Codec{0: {Decoder: dec, ClockRate: 8000}})
	ss.streams = []*stream{st}
	ss.startStream(st)
	b.Cleanup(ss.closeSockets)
	return srv, st, m, netip.AddrPortFrom(srv.bindIP, uint16(st.port))
}

// BenchmarkLocalSink measures one 20 ms PCMU packet handed to a stream
// in-process: the guard, the source check and the aligner's Push. The
// mixer is read every 25 packets, as in BenchmarkLoopbackHop, which it
// replaces.
func BenchmarkLocalSink(b *testing.B) {
	srv, st, m, dst := benchStream(b)
	sink, ok := srv.LocalSink(dst)
	if !ok {
		b.Fatal("no sink")
	}
	pkt := rtpPacket(0x5eed, 0)
	var out []int16
	t0 := time.Now()
	b.ReportAllocs()
	cpu := cpuTime(b)
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		binary.BigEndian.PutUint16(pkt[2:], uint16(k))
		binary.BigEndian.PutUint32(pkt[4:], uint32(160*k))
		at := t0.Add(time.Duration(k) * 20 * time.Millisecond)
		if !sink(pkt, at) {
			b.Fatal("refused")
		}
		if k%25 == 24 {
			out, _ = m.Read(at, out[:0])
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
	if s := st.mx.Stats(); s.Received != uint64(b.N) {
		b.Fatalf("received %d of %d", s.Received, b.N)
	}
}

// BenchmarkLoopbackHop measures what the hand-off replaces: packets sent
// with write(2) on loopback to the stream's socket and taken by its
// reader goroutine into the aligner, 25 at a time (then the benchmark
// waits until they are counted and reads the mixer). cpu-ns/op is the
// process's CPU per packet, the reader's included.
func BenchmarkLoopbackHop(b *testing.B) {
	_, st, m, dst := benchStream(b)
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	pkt := rtpPacket(0x5eed, 0)
	var out []int16
	b.ReportAllocs()
	cpu := cpuTime(b)
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		binary.BigEndian.PutUint16(pkt[2:], uint16(k))
		binary.BigEndian.PutUint32(pkt[4:], uint32(160*k))
		if _, err := conn.Write(pkt); err != nil {
			b.Fatal(err)
		}
		if k%25 == 24 || k == b.N-1 {
			for st.mx.Stats().Received != uint64(k+1) {
				time.Sleep(20 * time.Microsecond)
			}
			out, _ = m.Read(time.Now(), out[:0])
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system CPU time so far, in ns.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
