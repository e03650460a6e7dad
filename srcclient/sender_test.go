package srcclient

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// udpSink is a loopback socket that keeps the packets it receives (or
// only counts them when keep is false).
type udpSink struct {
	conn  *net.UDPConn
	count atomic.Int64
	ch    chan []byte
}

func newUDPSink(t testing.TB, keep bool) *udpSink {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(8 << 20)
	s := &udpSink{conn: conn}
	if keep {
		s.ch = make(chan []byte, 4096)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			s.count.Add(1)
			if s.ch != nil {
				s.ch <- append([]byte(nil), buf[:n]...)
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return s
}

func (s *udpSink) addrPort() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// newTestSender binds a sender socket pair on loopback.
func newTestSender(t testing.TB) *sender {
	t.Helper()
	rtp, rtcp, _, err := bindPair(net.IPv4(127, 0, 0, 1), 44000, 44999, 44000)
	if err != nil {
		t.Fatal(err)
	}
	_ = rtp.SetWriteBuffer(8 << 20)
	t.Cleanup(func() { rtp.Close(); rtcp.Close() })
	return newSender(rtp, rtcp)
}

// testStream returns a PCMU-like stream to dst starting at start.
func testStream(dst, rtcpDst netip.AddrPort, start time.Time, frames int64) *mstream {
	payload := make([]byte, 160)
	st := &mstream{
		label:   "1",
		dst:     net.UDPAddrFromAddrPort(dst),
		rtcpDst: rtcpDst,
		frames:  [][]byte{payload},
		pt:      0,
		eventPT: 101,
		tsStep:  160,
		start:   start,
		end:     frames,
		rtcp:    true,
		dropTo:  0,
		done:    make(chan struct{}),
	}
	st.newSSRCState()
	return st
}

func TestSenderCatchesUpWithoutDriftAndReports(t *testing.T) {
	s := newTestSender(t)
	rtp := newUDPSink(t, true)
	rtcp := newUDPSink(t, true)
	start := time.Unix(1_800_000_000, 0)
	st := testStream(rtp.addrPort(), rtcp.addrPort(), start, 1000)
	st.srPhase = 0
	seq0, ts0 := st.seq, st.tsBase
	if err := s.add(st); err != nil {
		t.Fatal(err)
	}
	// One tick 5.01 s late: frames 0..250 are due and all go out at once;
	// frames 0 and 250 each trigger an RTCP sender report.
	s.tick(start.Add(5010 * time.Millisecond))

	for i := 0; i < 251; i++ {
		select {
		case p := <-rtp.ch:
			seq := binary.BigEndian.Uint16(p[2:])
			ts := binary.BigEndian.Uint32(p[4:])
			if seq != seq0+uint16(i) || ts != ts0+uint32(i)*160 || len(p) != 172 {
				t.Fatalf("packet %d: seq %d ts %d len %d", i, seq, ts, len(p))
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("only %d packets arrived", i)
		}
	}
	for _, frame := range []uint32{0, 250} {
		select {
		case p := <-rtcp.ch:
			if len(p) != 28 || p[0] != 0x80 || p[1] != 200 || binary.BigEndian.Uint16(p[2:]) != 6 {
				t.Fatalf("not an RTCP SR: % x", p)
			}
			if ssrc := binary.BigEndian.Uint32(p[4:]); ssrc != st.ssrc {
				t.Errorf("SSRC %x, want %x", ssrc, st.ssrc)
			}
			// NTP time: the due time of the frame (RFC 3550 §6.4.1)
			ntpSec, ntpFrac := binary.BigEndian.Uint32(p[8:]), binary.BigEndian.Uint32(p[12:])
			if want := uint32(start.Unix()) + frame/50 + ntpEpochOffset; ntpSec != want || ntpFrac != 0 {
				t.Errorf("frame %d: NTP %d.%d, want %d.0", frame, ntpSec, ntpFrac, want)
			}
			if rtpTS := binary.BigEndian.Uint32(p[16:]); rtpTS != ts0+frame*160 {
				t.Errorf("frame %d: RTP timestamp %d, want %d", frame, rtpTS, ts0+frame*160)
			}
			if pc, oc := binary.BigEndian.Uint32(p[20:]), binary.BigEndian.Uint32(p[24:]); pc != frame+1 || oc != (frame+1)*160 {
				t.Errorf("frame %d: packet count %d, octets %d", frame, pc, oc)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("no sender report for frame %d", frame)
		}
	}
	// A tick at the same instant sends nothing more.
	s.tick(start.Add(5010 * time.Millisecond))
	select {
	case <-rtp.ch:
		t.Fatal("a second tick at the same time sent a packet")
	case <-time.After(50 * time.Millisecond):
	}
	if st.sent != 251 || s.packets.Load() != 251 {
		t.Errorf("sent counter %d, sender packets %d", st.sent, s.packets.Load())
	}
	if late := s.lateFrames.Load(); late != 250 {
		t.Errorf("late frames %d, want 250 (all but the one due at the tick)", late)
	}
}

func TestSenderTickAllocatesNothing(t *testing.T) {
	s := newTestSender(t)
	rtp := newUDPSink(t, false)
	rtcp := newUDPSink(t, false)
	start := time.Unix(1_800_000_000, 0)
	for i := range 300 {
		st := testStream(rtp.addrPort(), rtcp.addrPort(), start, 1<<40)
		// exercise every per-packet path: DTMF, loss, reordering, duplicates
		st.dtmf = []dtmfEvent{{code: 1, start: 3, frames: 5}, {code: 2, start: 40, frames: 5}}
		st.dropFrom, st.dropTo = 20, 25
		st.reorderEvery = uint64(5 + i%7)
		st.dupEvery = 9
		st.ssrcChangeFrame = 30
		st.tsJumpFrame = 35
		st.srPhase = int64(i % 50)
		if err := s.add(st); err != nil {
			t.Fatal(err)
		}
	}
	now := start
	s.tick(now) // first tick takes the streams in
	allocs := testing.AllocsPerRun(100, func() {
		now = now.Add(Ptime)
		s.tick(now)
	})
	// None at all; under the race detector sync.Pool misses cost a few per
	// batch, still far from one per packet (300 per tick).
	limit := 0.0
	if raceEnabled {
		limit = 5
	}
	if allocs > limit {
		t.Errorf("%v allocations per tick of 300 streams, want <= %v", allocs, limit)
	}
}

// BenchmarkSenderTick measures one 20 ms tick of 2,000 streams (1,000
// two-stream calls), the whole per-packet path including sendmmsg.
func BenchmarkSenderTick(b *testing.B) {
	s := newTestSender(b)
	rtp := newUDPSink(b, false)
	rtcp := newUDPSink(b, false)
	start := time.Unix(1_800_000_000, 0)
	const streams = 2000
	for range streams {
		if err := s.add(testStream(rtp.addrPort(), rtcp.addrPort(), start, 1<<40)); err != nil {
			b.Fatal(err)
		}
	}
	now := start
	s.tick(now)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(Ptime)
		s.tick(now)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*streams), "ns/packet")
}
