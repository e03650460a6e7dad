package siprecclient

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/g711"
	"github.com/callrec/callrec/media/mix"
	"github.com/callrec/callrec/media/tone"
	"github.com/callrec/callrec/siprec"
)

// loopStream is a stream whose route leads to a UDP socket of the test.
func loopStream(t *testing.T, r route, codec siprec.Format) (*stream, *net.UDPConn) {
	t.Helper()
	lo := netip.MustParseAddr("127.0.0.1")
	rx, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(lo, 0)))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(lo, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close(); tx.Close() })
	r.dst = rx.LocalAddr().(*net.UDPAddr).AddrPort()
	st := newStream(tx)
	if err := st.setRoute(r, codec); err != nil {
		t.Fatal(err)
	}
	return st, rx
}

// packet is one received RTP packet.
type packet struct {
	mix.Header
	Payload []byte
}

// receive reads n RTP packets from rx.
func receive(t *testing.T, rx *net.UDPConn, n int) []packet {
	t.Helper()
	_ = rx.SetReadDeadline(time.Now().Add(5 * time.Second))
	var out []packet
	buf := make([]byte, 2048)
	for range n {
		k, err := rx.Read(buf)
		if err != nil {
			t.Fatalf("after %d packets: %v", len(out), err)
		}
		h, payload, err := mix.ParseRTP(buf[:k])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, packet{Header: h, Payload: append([]byte(nil), payload...)})
	}
	return out
}

func TestSenderPacketises(t *testing.T) {
	st, rx := loopStream(t, route{pt: 0}, pcmu)
	frames := pcmuTone(recordedHz, 4)
	for i, f := range frames {
		if q, _ := st.push(f, uint32(1000+i*160), 0); !q {
			t.Fatalf("packet %d not queued", i)
		}
	}
	st.drain()
	got := receive(t, rx, len(frames))
	for i, h := range got {
		if h.PayloadType != 0 || h.SSRC != st.ssrc || !bytes.Equal(h.Payload, frames[i]) {
			t.Errorf("packet %d: pt %d ssrc %x, payload equal %v", i, h.PayloadType, h.SSRC, bytes.Equal(h.Payload, frames[i]))
		}
		if h.Marker != (i == 0) {
			t.Errorf("packet %d: marker %v, want it on the first only (RFC 3551 §4.1)", i, h.Marker)
		}
		if i > 0 && (h.SequenceNumber != got[i-1].SequenceNumber+1 || h.Timestamp != got[i-1].Timestamp+160) {
			t.Errorf("packet %d: seq %d ts %d after seq %d ts %d", i, h.SequenceNumber, h.Timestamp, got[i-1].SequenceNumber, got[i-1].Timestamp)
		}
	}
	if s := st.stats(); s.Sent != 4 || s.Dropped != 0 {
		t.Errorf("stats %+v", s)
	}
}

// ringFits is how many 160-byte payloads a ring holds.
const ringFits = min(ringSlots, arenaBytes/160)

func TestSenderDropsAndSkips(t *testing.T) {
	cases := []struct {
		name                string
		state               int32
		payload             []byte
		n                   int
		sent, dropped, skip uint64
		oversize            uint64
	}{
		{"a full ring drops, never waits", stateSending, make([]byte, 160), ringFits + 5, ringFits, 5, 0, 0},
		{"small packets fill the slots first", stateSending, make([]byte, 20), ringSlots + 3, ringSlots, 3, 0, 0},
		{"paused skips", statePaused, make([]byte, 160), 3, 0, 0, 3, 0},
		{"stopped skips", stateStopped, make([]byte, 160), 3, 0, 0, 3, 0},
		{"oversize payload refused", stateSending, make([]byte, MaxPayload+1), 2, 0, 0, 0, 2},
		{"empty payload refused", stateSending, nil, 2, 0, 0, 0, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, rx := loopStream(t, route{pt: 0}, pcmu)
			st.state.Store(c.state)
			for i := range c.n {
				st.push(c.payload, uint32(i*160), 0)
			}
			st.drain()
			if c.sent > 0 {
				receive(t, rx, int(c.sent))
			}
			s := st.stats()
			if s.Sent != c.sent || s.Dropped != c.dropped || s.Skipped != c.skip || s.Oversize != c.oversize {
				t.Errorf("stats %+v, want sent %d dropped %d skipped %d oversize %d", s, c.sent, c.dropped, c.skip, c.oversize)
			}
		})
	}
}

// TestSenderTranscodes feeds G.722 to a stream whose SRS took only PCMU:
// the packets carry PCMU of the same tone on an 8 kHz clock.
func TestSenderTranscodes(t *testing.T) {
	g722 := siprec.Format{PT: 9, Name: "G722", ClockRate: 8000, Channels: 1}
	st, rx := loopStream(t, route{pt: 0, transcode: true}, g722)
	enc, err := media.NewEncoder("G722", 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	const n = 25
	pcm := make([]int16, 320*n)
	var phase float64
	tone.Sine(pcm, 16000, otherHz, 0.3, &phase)
	for i := range n {
		payload, err := enc.Encode(nil, pcm[i*320:(i+1)*320])
		if err != nil {
			t.Fatal(err)
		}
		st.push(payload, uint32(i*160), 0) // G.722's RTP clock is 8 kHz (RFC 3551 §4.5.2)
		st.drain()
	}
	got := receive(t, rx, n)
	var decoded []int16
	for i, h := range got {
		if h.PayloadType != 0 || len(h.Payload) != 160 {
			t.Fatalf("packet %d: pt %d, %d bytes; want PCMU, 160 bytes", i, h.PayloadType, len(h.Payload))
		}
		if i > 0 && h.Timestamp-got[i-1].Timestamp != 160 {
			t.Errorf("packet %d: timestamp step %d, want 160", i, h.Timestamp-got[i-1].Timestamp)
		}
		frame := make([]int16, 160)
		g711.DecodeUlaw(frame, h.Payload)
		decoded = append(decoded, frame...)
	}
	if f, ratio := tone.Dominant(decoded[800:], 8000, candidates); f != otherHz || ratio < 10 {
		t.Errorf("transcoded audio: %.0f Hz (ratio %.1f), want %.0f Hz", f, ratio, otherHz)
	}
}

// BenchmarkSend measures the relay's cost per packet: Send queues and
// signals the sender; it must not allocate.
func BenchmarkSend(b *testing.B) {
	lo := netip.MustParseAddr("127.0.0.1")
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(lo, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	s := &Session{wake: make(chan struct{}, 1)}
	s.streams[0], s.streams[1] = newStream(conn), newStream(conn)
	payload := make([]byte, 160)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Send(i&1, payload, uint32(i*160))
		if i%16 == 15 { // the sender goroutine's share, without its socket writes
			for _, st := range s.streams {
				st.ring.head.Store(st.ring.tail.Load())
			}
			select {
			case <-s.wake:
			default:
			}
		}
	}
}

// TestSendAllocatesNothing pins BenchmarkSend's promise in CI.
func TestSendAllocatesNothing(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(lo, 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st, _ := loopStream(t, route{pt: 0}, pcmu)
	s := &Session{wake: make(chan struct{}, 1)}
	s.streams[0], s.streams[1] = st, newStream(conn)
	payload := make([]byte, 160)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		s.Send(0, payload, uint32(i*160))
		i++
		st.drain() // the sender's work too: packetise and write
	})
	if allocs != 0 {
		t.Errorf("Send and send allocate %.1f times per packet, want 0", allocs)
	}
}
