package mix

import (
	"testing"
	"time"
)

// BenchmarkPush measures one 20 ms PCMU-sized packet (160 payload bytes,
// table decoder as G.711 uses) through Push: parse, sequence and timing
// bookkeeping, decode, ring write. Reads run outside the timer.
func BenchmarkPush(b *testing.B) {
	m := newMixer(b, 8000, 2)
	s := m.AddStream("1", 0)
	s.SetCodecs(map[uint8]Codec{0: {Decoder: byteDec{8000, linearTable(100)}, ClockRate: 8000}})
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(i)
	}
	pkt := rtpPacket(0, false, 0, 0, 0x1234, payload)
	var out []int16
	b.ReportAllocs()
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		pkt[2], pkt[3] = byte(k>>8), byte(k)
		ts := uint32(160 * k)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		at := t0.Add(time.Duration(k) * 20 * time.Millisecond)
		s.Push(pkt, at)
		if k%25 == 24 {
			b.StopTimer()
			out, _ = m.Read(at, out[:0])
			b.StartTimer()
		}
	}
	b.StopTimer()
	if st := s.Stats(); st.Received != uint64(b.N) {
		b.Fatalf("received %d of %d", st.Received, b.N)
	}
}

// BenchmarkRead measures reading 1 s of stereo 8 kHz (two streams full of
// audio): mix, interleave, gap scan, ring clear. Pushes run outside the
// timer.
func BenchmarkRead(b *testing.B) {
	m := newMixer(b, 8000, 2)
	streams := []*Stream{m.AddStream("1", 0), m.AddStream("2", 1)}
	for _, s := range streams {
		s.SetCodecs(map[uint8]Codec{0: {Decoder: byteDec{8000, linearTable(100)}, ClockRate: 8000}})
	}
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(i)
	}
	out := make([]int16, 0, 16000)
	b.ReportAllocs()
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		b.StopTimer()
		base := t0.Add(time.Duration(k) * time.Second)
		for i, s := range streams {
			for p := range 50 {
				n := 50*k + p
				s.Push(rtpPacket(0, false, uint16(n), uint32(160*n), uint32(i), payload), base.Add(time.Duration(p)*20*time.Millisecond))
			}
		}
		b.StartTimer()
		out, _ = m.Read(base.Add(time.Second+DefaultReorderWindow), out[:0])
		if len(out) != 16000 {
			b.Fatalf("read %d samples, want 16000", len(out))
		}
	}
}

func BenchmarkParseRTP(b *testing.B) {
	pkt := rtpPacket(0, false, 1, 160, 0x1234, make([]byte, 160))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseRTP(pkt); err != nil {
			b.Fatal(err)
		}
	}
}
