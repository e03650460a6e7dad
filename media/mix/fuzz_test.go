package mix

import (
	"encoding/binary"
	"testing"
	"time"
)

func FuzzParseRTP(f *testing.F) {
	f.Add(rtpPacket(0, false, 1, 160, 0x11223344, make([]byte, 160)))
	f.Add(rtpPacket(101, true, 2, 320, 0x11223344, eventPayload(5, true, 800)))
	f.Add([]byte{0x92, 0x88, 0, 1, 0, 0, 0, 160, 0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1, 0, 0, 0, 2, 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0, 0xd5})
	f.Add([]byte{0xa0, 9, 0, 7, 0, 0, 0, 8, 0, 0, 0, 9, 1, 2, 0, 2})
	f.Add([]byte{0x81, 200, 0, 6, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := ParseRTP(b)
		if err != nil {
			return
		}
		n := h.HeaderLen()
		if h.Version != 2 || n+len(p)+int(h.PaddingLength) != len(b) {
			t.Fatalf("header %d + payload %d + padding %d != %d bytes", n, len(p), h.PaddingLength, len(b))
		}
		if len(p) > 0 && &p[0] != &b[n] {
			t.Fatalf("payload does not alias the datagram at %d", n)
		}
		// Rebuild the header from the parsed fields: it must match.
		r := make([]byte, 12, n)
		r[0] = 2<<6 | h.CSRCCount
		if h.Padding {
			r[0] |= 0x20
		}
		if h.Extension {
			r[0] |= 0x10
		}
		r[1] = h.PayloadType
		if h.Marker {
			r[1] |= 0x80
		}
		binary.BigEndian.PutUint16(r[2:], h.SequenceNumber)
		binary.BigEndian.PutUint32(r[4:], h.Timestamp)
		binary.BigEndian.PutUint32(r[8:], h.SSRC)
		for _, c := range h.CSRC[:h.CSRCCount] {
			r = binary.BigEndian.AppendUint32(r, c)
		}
		if h.Extension {
			r = binary.BigEndian.AppendUint16(r, h.ExtensionProfile)
			r = binary.BigEndian.AppendUint16(r, uint16(len(h.ExtensionData)/4))
			r = append(r, h.ExtensionData...)
		}
		if string(r) != string(b[:n]) {
			t.Fatalf("rebuilt header %x, datagram starts %x", r, b[:n])
		}
		if h.Padding && int(b[len(b)-1]) != int(h.PaddingLength) {
			t.Fatalf("padding length %d, last byte %d", h.PaddingLength, b[len(b)-1])
		}
	})
}

func FuzzParseTelephoneEvent(f *testing.F) {
	f.Add(eventPayload(1, false, 160))
	f.Add(eventPayload(11, true, 800))
	f.Add([]byte{16, 0xff, 0xff, 0xff, 0})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseTelephoneEvent(b)
		if len(b) < 4 {
			if err == nil {
				t.Fatalf("%d bytes accepted", len(b))
			}
			return
		}
		if err != nil || ev.Event != b[0] || ev.End != (b[1]&0x80 != 0) || ev.Volume != b[1]&0x3f || ev.Duration != binary.BigEndian.Uint16(b[2:]) || ev.Volume > 63 {
			t.Fatalf("%x parsed as %+v, %v", b, ev, err)
		}
		if DigitName(ev.Event) == "" {
			t.Fatalf("no name for event %d", ev.Event)
		}
	})
}

// fuzzSeed builds a FuzzPush program from records.
func fuzzSeed(recs ...[]byte) []byte {
	var b []byte
	for _, r := range recs {
		b = append(b, r...)
	}
	return b
}

// rec is one synthesised-packet record: control, stream/pt selector,
// sequence step, timestamp step (×20 samples), payload length.
func rec(ctrl, sel byte, seqStep int8, tsStep int8, plen byte) []byte {
	return []byte{ctrl, sel, byte(seqStep), byte(tsStep), plen}
}

// FuzzPush drives two streams with a program of datagrams, arrivals,
// reads, pauses and codec changes, and checks that nothing panics, every
// packet is accounted for exactly once, and Read hands out exactly the
// frames it promises.
//
// Program: records of 5 bytes [ctrl sel seq ts len]. ctrl bits 0-4:
// arrival advance in ms; bit 5: Read after the push; bit 6: toggle pause
// of the stream; bit 7: the record is a raw datagram of len bytes taken
// from the program instead of a synthesised packet. sel bit 0: stream;
// bits 1-2: payload type (L16, telephone-event, byte codec, unknown);
// bit 3: switch to a second SSRC; bit 4: change codecs.
func FuzzPush(f *testing.F) {
	talk := func(n int) []byte {
		var b []byte
		for i := range n {
			b = append(b, rec(20|byte(i%2)<<5, byte(i%2), 1, 8, 160)...)
		}
		return b
	}
	f.Add(talk(60))
	f.Add(fuzzSeed(talk(10), rec(20, 0, 5, 40, 160), talk(10), rec(20, 2, 1, 0, 4), rec(20, 2, 1, 0, 4), talk(10)))
	f.Add(fuzzSeed(talk(10), rec(20|0x40, 0, 1, 8, 160), talk(10), rec(20|0x40, 0, 1, 8, 160), talk(20)))
	f.Add(fuzzSeed(talk(10), rec(20, 8, 100, 127, 160), rec(20, 0x10, -3, -8, 160), rec(0x80|0x20, 0, 0, 0, 13), []byte("\x80\x60\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00"), talk(10)))
	f.Add(fuzzSeed(talk(5), rec(31|0x20, 0, 1, 127, 255), rec(31|0x20, 0, -128, -128, 0), talk(5)))

	f.Fuzz(func(t *testing.T, prog []byte) {
		m, err := New(Config{Rate: 8000, Channels: 2, Start: t0})
		if err != nil {
			t.Fatal(err)
		}
		streams := [2]*Stream{m.AddStream("a", 0), m.AddStream("b", 1)}
		codecsA := map[uint8]Codec{
			ptL16:  {Decoder: l16{8000}, ClockRate: 8000},
			ptDTMF: {ClockRate: 8000, DTMF: true},
			0:      {Decoder: byteDec{8000, linearTable(100)}, ClockRate: 8000},
		}
		codecsB := map[uint8]Codec{
			ptL16: {Decoder: l16{8000}, ClockRate: 48000},
			0:     {Decoder: byteDec{8000, linearTable(-100)}, ClockRate: 16000},
		}
		for _, s := range streams {
			s.SetCodecs(codecsA)
		}
		type gen struct {
			seq    uint16
			ts     uint32
			paused bool
		}
		var g [2][2]gen // per stream, per SSRC
		var altCodecs [2]bool
		var pushes [2]uint64
		pts := [4]uint8{ptL16, ptDTMF, 0, 13}
		now := t0
		var out []int16
		payload := make([]byte, 256)
		for i := range payload {
			payload[i] = byte(i*7 + 1)
		}
		pkt := make([]byte, 0, 512)
		for len(prog) >= 5 {
			ctrl, sel, seqStep, tsStep, plen := prog[0], prog[1], int8(prog[2]), int8(prog[3]), int(prog[4])
			prog = prog[5:]
			si, ssrc := int(sel&1), int(sel>>3&1)
			s := streams[si]
			now = now.Add(time.Duration(ctrl&31) * time.Millisecond)
			if sel&0x10 != 0 {
				altCodecs[si] = !altCodecs[si]
				if altCodecs[si] {
					s.SetCodecs(codecsB)
				} else {
					s.SetCodecs(codecsA)
				}
			}
			if ctrl&0x40 != 0 {
				g[si][0].paused = !g[si][0].paused
				s.SetPaused(g[si][0].paused, now)
			}
			if ctrl&0x80 != 0 {
				n := min(plen, len(prog))
				s.Push(prog[:n], now)
				prog = prog[n:]
			} else {
				st := &g[si][ssrc]
				st.seq += uint16(seqStep)
				st.ts += uint32(int32(tsStep) * 20)
				pt := pts[sel>>1&3]
				body := payload[:plen]
				if pt == ptDTMF {
					body = eventPayload(byte(plen%20), plen&1 == 1, uint16(plen)*8)
				}
				pkt = append(pkt[:0], rtpPacket(pt, false, st.seq, st.ts, uint32(ssrc+1), nil)...)
				pkt = append(pkt, body...)
				s.Push(pkt, now)
			}
			pushes[si]++
			if ctrl&0x20 != 0 {
				before := m.Frames()
				n := len(out)
				if out, err = m.Read(now, out); err != nil {
					t.Fatal(err)
				}
				if got := int64(len(out)-n) / 2; got != m.Frames()-before {
					t.Fatalf("Read appended %d frames, Frames advanced by %d", got, m.Frames()-before)
				}
				if len(out) > 1<<22 {
					out = out[:0]
				}
			}
		}
		before := m.Frames()
		out = m.Drain(now.Add(time.Second), nil)
		if want := m.tl.pos(now.Add(time.Second)); m.Frames() != want || int64(len(out)/2) != want-before {
			t.Fatalf("after Drain: Frames %d, %d frames appended; want %d, %d", m.Frames(), len(out)/2, want, want-before)
		}
		for i, s := range streams {
			st := s.Stats()
			if n := st.Received + st.Duplicated + st.Late + st.Dropped; n != pushes[i] {
				t.Fatalf("stream %d: %d pushes, accounted %d: %+v", i, pushes[i], n, st)
			}
			if st.GapMS < 0 || st.GapMS > (m.Frames()*1000)/8000 {
				t.Fatalf("stream %d: GapMS %d for %d frames", i, st.GapMS, m.Frames())
			}
		}
		ev := m.DTMF()
		for i := range ev {
			if ev[i].OffsetMS < 0 || ev[i].DurationMS < 0 || (i > 0 && ev[i].Time.Before(ev[i-1].Time)) {
				t.Fatalf("bad DTMF list %+v", ev)
			}
		}
	})
}
