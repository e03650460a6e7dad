package mix

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callrec/callrec"
)

func value(base int) func(int) int16 { return func(k int) int16 { return int16(base + k) } }

func TestTwoStreamsLandOnTheirChannelsAtTheirOffsets(t *testing.T) {
	tests := []struct {
		name   string
		jitter func(k int) time.Duration
	}{
		{"in order, no jitter", nil},
		{"jitter up to 15 ms", func(k int) time.Duration {
			if k == 0 {
				return 0
			}
			return ms(k * 7 % 16)
		}},
		{"every other pair swapped", func(k int) time.Duration {
			if k > 0 && k%2 == 0 {
				return ms(25) // k arrives after k+1
			}
			return 0
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMixer(t, 8000, 2)
			a := &sender{s: m.AddStream("1", 0), pt: ptL16, ssrc: 0x1111, seq: 100, ts: 5000}
			b := &sender{s: m.AddStream("2", 1), pt: ptL16, ssrc: 0x2222, seq: 9000, ts: 77}
			a.s.SetCodecs(stdCodecs(8000))
			b.s.SetCodecs(stdCodecs(8000))
			acts := a.talk(t0, 50, value(1000), tc.jitter)
			acts = append(acts, b.talk(t0.Add(ms(300)), 50, value(-2000), tc.jitter)...)
			out := sim(t, m, acts, t0.Add(2*time.Second))

			left, right := channel(out, 2, 0), channel(out, 2, 1)
			if len(left) != 16000 {
				t.Fatalf("got %d frames, want 16000", len(left))
			}
			for k := range 50 {
				checkRun(t, "left", left, 160*k, 160, int16(1000+k))
				checkRun(t, "right", right, 2400+160*k, 160, int16(-2000+k))
			}
			checkRun(t, "left after", left, 8000, 8000, 0)
			checkRun(t, "right before", right, 0, 2400, 0)
			checkRun(t, "right after", right, 10400, 5600, 0)
			want := callrec.StreamStats{Received: 50}
			for _, s := range []*Stream{a.s, b.s} {
				if got := s.Stats(); got != want {
					t.Errorf("stream %s stats %+v, want %+v", s.Label(), got, want)
				}
			}
		})
	}
}

func TestLossBecomesOneGap(t *testing.T) {
	tests := []struct {
		name     string
		missing  []int // packet indexes never sent
		gaps     uint64
		gapMS    int64
		lost     uint64
		silences [][2]int // [from, n) samples expected silent
	}{
		{"100 ms loss", []int{20, 21, 22, 23, 24}, 1, 100, 5, [][2]int{{3200, 800}}},
		{"two separate losses", []int{10, 30, 31}, 2, 60, 3, [][2]int{{1600, 160}, {4800, 320}}},
		{"loss across a read boundary", []int{4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, 1, 220, 11, [][2]int{{640, 1760}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMixer(t, 8000, 2)
			g := &sender{s: m.AddStream("1", 0), pt: ptL16, ssrc: 1}
			g.s.SetCodecs(stdCodecs(8000))
			var acts []action
			for k, a := range g.talk(t0, 50, value(500), nil) {
				if !contains(tc.missing, k) {
					acts = append(acts, a)
				}
			}
			left := channel(sim(t, m, acts, t0.Add(2*time.Second)), 2, 0)
			for k := range 50 {
				if !contains(tc.missing, k) {
					checkRun(t, "audio", left, 160*k, 160, int16(500+k))
				}
			}
			for _, s := range tc.silences {
				checkRun(t, "silence", left, s[0], s[1], 0)
			}
			want := callrec.StreamStats{Received: uint64(50 - len(tc.missing)), Lost: tc.lost, Gaps: tc.gaps, GapMS: tc.gapMS}
			if got := g.s.Stats(); got != want {
				t.Errorf("stats %+v, want %+v", got, want)
			}
		})
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestDuplicatesAreCountedNotDoubled(t *testing.T) {
	m := newMixer(t, 8000, 2)
	g := &sender{s: m.AddStream("1", 0), pt: ptL16, ssrc: 1}
	g.s.SetCodecs(stdCodecs(8000))
	acts := g.talk(t0, 50, value(100), nil)
	// Packet 10 again at once, packet 30 again 100 ms later (still in the
	// window), packet 5 again 900 ms later (its span long written).
	for _, d := range []struct {
		k     int
		delay time.Duration
	}{{10, 0}, {30, ms(100)}, {5, ms(900)}} {
		b := rtpPacket(ptL16, false, uint16(d.k), uint32(160*d.k), 1, constL16(160, int16(100+d.k)))
		at := t0.Add(ms(20*d.k) + d.delay)
		acts = append(acts, action{at, func() { g.s.Push(b, at) }})
	}
	left := channel(sim(t, m, acts, t0.Add(2*time.Second)), 2, 0)
	for k := range 50 {
		checkRun(t, "audio", left, 160*k, 160, int16(100+k))
	}
	want := callrec.StreamStats{Received: 50, Duplicated: 3}
	if got := g.s.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestLatePacketIsCountedAndLeavesAGap(t *testing.T) {
	m := newMixer(t, 8000, 2)
	g := &sender{s: m.AddStream("1", 0), pt: ptL16, ssrc: 1}
	g.s.SetCodecs(stdCodecs(8000))
	acts := g.talk(t0, 50, value(100), func(k int) time.Duration {
		if k == 25 {
			return ms(600) // well past the 200 ms window
		}
		return 0
	})
	left := channel(sim(t, m, acts, t0.Add(2*time.Second)), 2, 0)
	checkRun(t, "late span", left, 4000, 160, 0)
	checkRun(t, "after it", left, 4160, 160, 126)
	want := callrec.StreamStats{Received: 49, Late: 1, Gaps: 1, GapMS: 20}
	if got := g.s.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestReorderedWithinWindowIsPlacedByTimestamp(t *testing.T) {
	m := newMixer(t, 8000, 1)
	g := &sender{s: m.AddStream("1", 0), pt: ptL16, ssrc: 7}
	g.s.SetCodecs(stdCodecs(8000))
	// Packets 10..14 arrive in reverse, the last of them 150 ms late.
	acts := g.talk(t0, 50, value(0), func(k int) time.Duration {
		if k >= 10 && k <= 14 {
			return ms(30 * (15 - k))
		}
		return 0
	})
	out := sim(t, m, acts, t0.Add(time.Second))
	for k := range 50 {
		checkRun(t, "audio", out, 160*k, 160, int16(k))
	}
	if got, want := g.s.Stats(), (callrec.StreamStats{Received: 50}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestSSRCChangeContinuesAtArrival(t *testing.T) {
	tests := []struct {
		name   string
		startB time.Duration // arrival of the new SSRC's first packet
		jitter time.Duration // extra delay of that first packet only
		posB   int
		gaps   uint64
		gapMS  int64
	}{
		{"seamless switch", time.Second, 0, 8000, 0, 0},
		{"first packet of new SSRC 12 ms late", time.Second, ms(12), 8000, 0, 0},
		{"switch after 500 ms of nothing", 1500 * time.Millisecond, 0, 12000, 1, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMixer(t, 8000, 2)
			s := m.AddStream("1", 1)
			s.SetCodecs(stdCodecs(8000))
			a := &sender{s: s, pt: ptL16, ssrc: 0xaaaa, seq: 60000, ts: 1 << 31}
			b := &sender{s: s, pt: ptL16, ssrc: 0xbbbb, seq: 123, ts: 98765}
			acts := a.talk(t0, 50, value(1000), nil)
			acts = append(acts, b.talk(t0.Add(tc.startB), 50, value(3000), func(k int) time.Duration {
				if k == 0 {
					return tc.jitter
				}
				return 0
			})...)
			right := channel(sim(t, m, acts, t0.Add(4*time.Second)), 2, 1)
			for k := range 50 {
				checkRun(t, "old SSRC", right, 160*k, 160, int16(1000+k))
				checkRun(t, "new SSRC", right, tc.posB+160*k, 160, int16(3000+k))
			}
			want := callrec.StreamStats{Received: 100, SSRCChanges: 1, Gaps: tc.gaps, GapMS: tc.gapMS}
			if got := s.Stats(); got != want {
				t.Errorf("stats %+v, want %+v", got, want)
			}
		})
	}
}

func TestTimestampJumpReanchors(t *testing.T) {
	tests := []struct {
		name    string
		tsDelta uint32        // added to the timestamp after packet 49
		resume  time.Duration // arrival of packet 50
		pos     int           // where packet 50 lands
	}{
		{"forward jump", 1_000_000, time.Second, 8000},
		{"backward jump", math.MaxUint32 - 500_000, time.Second, 8000},
		{"timestamps frozen while the sender was silent", 0, 6 * time.Second, 48000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMixer(t, 8000, 1)
			g := &sender{s: m.AddStream("1", 0), pt: ptL16, ssrc: 5, seq: 65000, ts: 4_000_000_000}
			g.s.SetCodecs(stdCodecs(8000))
			acts := g.talk(t0, 50, value(10), nil)
			g.ts += tc.tsDelta
			acts = append(acts, g.talk(t0.Add(tc.resume), 50, value(2000), nil)...)
			out := sim(t, m, acts, t0.Add(tc.resume+2*time.Second))
			for k := range 50 {
				checkRun(t, "before", out, 160*k, 160, int16(10+k))
				checkRun(t, "after", out, tc.pos+160*k, 160, int16(2000+k))
			}
			// The sequence numbers are contiguous, so nothing is lost and
			// the sender's silence is not a gap.
			want := callrec.StreamStats{Received: 100, TimestampJumps: 1}
			if got := g.s.Stats(); got != want {
				t.Errorf("stats %+v, want %+v", got, want)
			}
		})
	}
}

func TestSequenceAndTimestampWrap(t *testing.T) {
	tests := []struct {
		name    string
		missing []int
		lost    uint64
		gaps    uint64
	}{
		{"clean wrap", nil, 0, 0},
		{"loss across the wrap", []int{35, 36}, 2, 1}, // seq 65535 and 0
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMixer(t, 8000, 1)
			g := &sender{s: m.AddStream("1", 0), pt: ptL16, ssrc: 9, seq: 65500, ts: math.MaxUint32 - 160*20 + 1}
			g.s.SetCodecs(stdCodecs(8000))
			var acts []action
			for k, a := range g.talk(t0, 100, value(0), nil) {
				if !contains(tc.missing, k) {
					acts = append(acts, a)
				}
			}
			out := sim(t, m, acts, t0.Add(3*time.Second))
			for k := range 100 {
				v := int16(k)
				if contains(tc.missing, k) {
					v = 0
				}
				checkRun(t, "audio", out, 160*k, 160, v)
			}
			want := callrec.StreamStats{Received: uint64(100 - len(tc.missing)), Lost: tc.lost, Gaps: tc.gaps, GapMS: int64(20 * len(tc.missing))}
			if got := g.s.Stats(); got != want {
				t.Errorf("stats %+v, want %+v", got, want)
			}
		})
	}
}

func TestPauseDropsPacketsAndWritesSilenceWithoutGaps(t *testing.T) {
	m := newMixer(t, 8000, 2)
	s := m.AddStream("1", 0)
	s.SetCodecs(stdCodecs(8000))
	g := &sender{s: s, pt: ptL16, ssrc: 3}
	pauseAt, resumeAt := t0.Add(time.Second), t0.Add(2*time.Second)
	acts := []action{
		{pauseAt, func() { s.SetPaused(true, pauseAt) }},
		{resumeAt, func() { s.SetPaused(false, resumeAt) }},
	}
	acts = append(acts, g.talk(t0, 49, value(100), nil)...)
	// Packet 49 carries 40 ms: its second half falls in the pause and must
	// be muted there.
	acts = append(acts, g.push(t0.Add(ms(980)), constL16(320, 149)))
	acts = append(acts, g.talk(t0.Add(time.Second), 100, value(150), nil)...)
	// A telephone event during the pause is not stored.
	ev := rtpPacket(ptDTMF, true, 9999, 12000, 3, eventPayload(1, true, 400))
	evAt := t0.Add(1500 * time.Millisecond)
	acts = append(acts, action{evAt, func() { s.Push(ev, evAt) }})

	left := channel(sim(t, m, acts, t0.Add(3*time.Second)), 2, 0)
	for k := range 49 {
		checkRun(t, "before pause", left, 160*k, 160, int16(100+k))
	}
	checkRun(t, "last packet before pause", left, 7840, 160, 149)
	checkRun(t, "pause", left, 8000, 8000, 0)
	for k := 50; k < 100; k++ {
		checkRun(t, "after resume", left, 16000+160*(k-50), 160, int16(150+k))
	}
	want := callrec.StreamStats{Received: 100, Dropped: 51}
	if got := s.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	if ev := m.DTMF(); len(ev) != 0 {
		t.Errorf("DTMF during pause stored: %+v", ev)
	}
}

func TestSetCodecsMidStream(t *testing.T) {
	m := newMixer(t, 8000, 1)
	s := m.AddStream("1", 0)
	s.SetCodecs(map[uint8]Codec{0: {Decoder: byteDec{8000, linearTable(10)}, ClockRate: 8000}})
	g := &sender{s: s, pt: 0, ssrc: 4}
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = 7
	}
	var acts []action
	for k := range 50 {
		acts = append(acts, g.push(t0.Add(ms(20*k)), payload))
	}
	switchAt := t0.Add(time.Second)
	acts = append(acts, action{switchAt, func() {
		s.SetCodecs(map[uint8]Codec{8: {Decoder: byteDec{8000, linearTable(-3)}, ClockRate: 8000}})
	}})
	g.pt = 8
	for k := 50; k < 100; k++ {
		acts = append(acts, g.push(t0.Add(ms(20*k)), payload))
	}
	g.pt = 0 // a stray packet of the old payload type
	acts = append(acts, g.push(t0.Add(2*time.Second), payload))

	out := sim(t, m, acts, t0.Add(2*time.Second))
	checkRun(t, "old codec", out, 0, 8000, 70)
	checkRun(t, "new codec", out, 8000, 8000, -21)
	if got, want := s.Stats(), (callrec.StreamStats{Received: 100, Dropped: 1}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestClockRates(t *testing.T) {
	t.Run("G.722-like: RTP clock 8000, audio 16 kHz", func(t *testing.T) {
		m := newMixer(t, 16000, 1)
		s := m.AddStream("1", 0)
		s.SetCodecs(map[uint8]Codec{9: {Decoder: twiceDec{}, ClockRate: 8000}})
		g := &sender{s: s, pt: 9, ssrc: 1}
		var acts []action
		for k := range 50 {
			p := make([]byte, 160)
			for i := range p {
				p[i] = byte(k)
			}
			acts = append(acts, g.push(t0.Add(ms(20*k)), p))
		}
		out := sim(t, m, acts, t0.Add(time.Second))
		for k := range 50 {
			checkRun(t, "audio", out, 320*k, 320, int16(10*k))
		}
	})
	t.Run("Opus-like: RTP clock 48000, mixer 8 kHz", func(t *testing.T) {
		m := newMixer(t, 8000, 1)
		s := m.AddStream("1", 0)
		s.SetCodecs(map[uint8]Codec{111: {Decoder: l16{8000}, ClockRate: 48000}})
		var acts []action
		for k := range 50 {
			b := rtpPacket(111, false, uint16(k), uint32(960*k), 1, constL16(160, int16(k)))
			at := t0.Add(ms(20 * k))
			acts = append(acts, action{at, func() { s.Push(b, at) }})
		}
		out := sim(t, m, acts, t0.Add(time.Second))
		for k := range 50 {
			checkRun(t, "audio", out, 160*k, 160, int16(k))
		}
	})
	t.Run("clock rate changes with the codec on one SSRC", func(t *testing.T) {
		m := newMixer(t, 8000, 1)
		s := m.AddStream("1", 0)
		s.SetCodecs(map[uint8]Codec{
			ptL16: {Decoder: l16{8000}, ClockRate: 8000},
			111:   {Decoder: l16{8000}, ClockRate: 48000},
		})
		var acts []action
		for k := range 100 {
			pt, ts := uint8(ptL16), uint32(160*k)
			if k >= 50 {
				pt, ts = 111, uint32(777_777+960*(k-50))
			}
			b := rtpPacket(pt, false, uint16(k), ts, 1, constL16(160, int16(k)))
			at := t0.Add(ms(20 * k))
			acts = append(acts, action{at, func() { s.Push(b, at) }})
		}
		out := sim(t, m, acts, t0.Add(2*time.Second))
		for k := range 100 {
			checkRun(t, "audio", out, 160*k, 160, int16(k))
		}
		if got, want := s.Stats(), (callrec.StreamStats{Received: 100}); got != want {
			t.Errorf("stats %+v, want %+v", got, want)
		}
	})
}

func TestSilenceSuppression(t *testing.T) {
	tests := []struct {
		name  string
		seqUp uint16 // sequence step over the 2 s silence
		lost  uint64
		gaps  uint64
		gapMS int64
	}{
		{"contiguous sequence: sender was silent, not a gap", 1, 0, 0, 0},
		{"sequence gap: packets lost, a gap", 4, 3, 1, 2000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMixer(t, 8000, 1)
			s := m.AddStream("1", 0)
			s.SetCodecs(stdCodecs(8000))
			g := &sender{s: s, pt: ptL16, ssrc: 1}
			acts := g.talk(t0, 50, value(100), nil)
			g.seq += tc.seqUp - 1
			g.ts += 16000 // 2 s of silence, timestamps honest
			acts = append(acts, g.talk(t0.Add(3*time.Second), 50, value(500), nil)...)
			out := sim(t, m, acts, t0.Add(5*time.Second))
			checkRun(t, "silence", out, 8000, 16000, 0)
			for k := range 50 {
				checkRun(t, "after", out, 24000+160*k, 160, int16(500+k))
			}
			want := callrec.StreamStats{Received: 100, Lost: tc.lost, Gaps: tc.gaps, GapMS: tc.gapMS}
			if got := s.Stats(); got != want {
				t.Errorf("stats %+v, want %+v", got, want)
			}
		})
	}
}

func TestDTMF(t *testing.T) {
	m := newMixer(t, 8000, 2)
	a := m.AddStream("a", 0)
	b := m.AddStream("b", 1)
	a.SetCodecs(stdCodecs(8000))
	b.SetCodecs(stdCodecs(8000))
	var acts []action
	at := func(d time.Duration, s *Stream, pkt []byte) {
		when := t0.Add(d)
		acts = append(acts, action{when, func() { s.Push(pkt, when) }})
	}
	// Stream a: audio 0-1 s (seq 0-49), digit 5 from 1.0 s for 100 ms with
	// the end packet sent three times (seq 50-53), audio again from 1.1 s.
	ga := &sender{s: a, pt: ptL16, ssrc: 0xa}
	acts = append(acts, ga.talk(t0, 50, value(100), nil)...)
	at(ms(1050), a, rtpPacket(ptDTMF, true, 50, 8000, 0xa, eventPayload(5, false, 400)))
	at(ms(1100), a, rtpPacket(ptDTMF, false, 51, 8000, 0xa, eventPayload(5, true, 800)))
	at(ms(1101), a, rtpPacket(ptDTMF, false, 52, 8000, 0xa, eventPayload(5, true, 800)))
	at(ms(1102), a, rtpPacket(ptDTMF, false, 53, 8000, 0xa, eventPayload(5, true, 800)))
	ga.seq, ga.ts = 54, 8800
	acts = append(acts, ga.talk(t0.Add(ms(1100)), 45, value(200), nil)...)
	// Digit # at 2.0 s whose end packets are all lost; digit 16 at 2.5 s
	// whose last end packet is delayed until digit A (2.7 s) has begun.
	at(ms(2020), a, rtpPacket(ptDTMF, true, 99, 16000, 0xa, eventPayload(11, false, 160)))
	at(ms(2040), a, rtpPacket(ptDTMF, false, 100, 16000, 0xa, eventPayload(11, false, 320)))
	at(ms(2550), a, rtpPacket(ptDTMF, true, 101, 20000, 0xa, eventPayload(16, false, 400)))
	at(ms(2600), a, rtpPacket(ptDTMF, false, 102, 20000, 0xa, eventPayload(16, true, 480)))
	at(ms(2601), a, rtpPacket(ptDTMF, false, 103, 20000, 0xa, eventPayload(16, true, 480)))
	at(ms(2720), a, rtpPacket(ptDTMF, true, 105, 21600, 0xa, eventPayload(12, false, 160)))
	at(ms(2750), a, rtpPacket(ptDTMF, false, 104, 20000, 0xa, eventPayload(16, true, 480)))
	at(ms(2760), a, rtpPacket(ptDTMF, false, 106, 21600, 0xa, eventPayload(12, true, 320)))
	// Stream b: digit 9 at 1.5 s, only an end packet.
	at(ms(1560), b, rtpPacket(ptDTMF, true, 1, 4000, 0xb, eventPayload(9, true, 480)))

	out := sim(t, m, acts, t0.Add(3*time.Second))
	left := channel(out, 2, 0)
	checkRun(t, "event span is silence", left, 8000, 800, 0)
	checkRun(t, "audio after event", left, 8800, 160, 200)

	// Stream b anchors on its event; its start is the arrival minus the
	// duration (60 ms).
	want := []callrec.DTMFEvent{
		{Digit: "5", OffsetMS: 1000, DurationMS: 100, StreamLabel: "a"},
		{Digit: "9", OffsetMS: 1500, DurationMS: 60, StreamLabel: "b"},
		{Digit: "#", OffsetMS: 2000, DurationMS: 40, StreamLabel: "a"},
		{Digit: "event-16", OffsetMS: 2500, DurationMS: 60, StreamLabel: "a"},
		{Digit: "A", OffsetMS: 2700, DurationMS: 40, StreamLabel: "a"},
	}
	got := m.DTMF()
	if len(got) != len(want) {
		t.Fatalf("DTMF() = %+v, want %d events", got, len(want))
	}
	for i := range want {
		want[i].Time = t0.Add(ms(int(want[i].OffsetMS)))
		if !got[i].Time.Equal(want[i].Time) || got[i].Digit != want[i].Digit || got[i].OffsetMS != want[i].OffsetMS ||
			got[i].DurationMS != want[i].DurationMS || got[i].StreamLabel != want[i].StreamLabel {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Audio stopped during digit 5 (covered by the event) and ended at
	// 2 s; neither is a gap.
	if st := a.Stats(); st.Gaps != 0 || st.Lost != 0 || st.Received != 107 {
		t.Errorf("stream a stats %+v, want 107 received, no gaps, no loss", st)
	}
}

func TestMixingSaturates(t *testing.T) {
	tests := []struct {
		name     string
		channels int
		chans    [3]int // channel asked for each of three streams
		values   [3]int16
		want     []int16 // per output channel
	}{
		{"mono sums two streams", 1, [3]int{0, 1, -1}, [3]int16{1000, 2000, 0}, []int16{3000}},
		{"mono clips high", 1, [3]int{0, 0, 0}, [3]int16{30000, 30000, 100}, []int16{math.MaxInt16}},
		{"mono clips low", 1, [3]int{0, 1, 0}, [3]int16{-30000, -30000, 0}, []int16{math.MinInt16}},
		{"stereo: others mixed on channel 2", 2, [3]int{0, 1, 2}, [3]int16{-5, 20000, 20000}, []int16{-5, math.MaxInt16}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMixer(t, 8000, tc.channels)
			var acts []action
			for i := range 3 {
				s := m.AddStream(string(rune('a'+i)), tc.chans[i])
				s.SetCodecs(stdCodecs(8000))
				g := &sender{s: s, pt: ptL16, ssrc: uint32(i + 1)}
				v := tc.values[i]
				acts = append(acts, g.talk(t0, 50, func(int) int16 { return v }, nil)...)
			}
			out := sim(t, m, acts, t0.Add(time.Second))
			for ch, w := range tc.want {
				checkRun(t, "mixed", channel(out, tc.channels, ch), 0, 8000, w)
			}
		})
	}
}

func TestFirstPacketDelayedIsCorrected(t *testing.T) {
	m := newMixer(t, 8000, 1)
	g := &sender{s: m.AddStream("1", 0), pt: ptL16, ssrc: 1}
	g.s.SetCodecs(stdCodecs(8000))
	// The first six packets are held up and arrive together at 100 ms, so
	// the first packet's arrival, which anchors the stream, is 100 ms late;
	// every later packet is on time.
	acts := g.talk(t0, 200, value(0), func(k int) time.Duration {
		if k <= 5 {
			return ms(100 - 20*k)
		}
		return 0
	})
	out := sim(t, m, acts, t0.Add(5*time.Second))
	// Once the first 2 s window has shown the packets' true timing the
	// stream is placed on time.
	for k := 110; k < 200; k++ {
		checkRun(t, "after correction", out, 160*k, 160, int16(k))
	}
	if st := g.s.Stats(); st.TimestampJumps != 0 || st.Gaps != 0 {
		t.Errorf("stats %+v, want no jumps and no gaps", st)
	}
}

// TestDriftStaysAligned plays an hour of two streams, one from a sender
// whose clock is 0.1 % off, with up to 20 ms of jitter, and checks that a
// marker both senders send at the same wall-clock moment near the end lands
// at the same place in both channels.
func TestDriftStaysAligned(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ratio float64 // sender clock / true clock
	}{
		{"sender clock 0.1% fast", 1.001},
		{"sender clock 0.1% slow", 0.999},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMixer(t, 8000, 2)
			ref, drift := m.AddStream("ref", 0), m.AddStream("drift", 1)
			ref.SetCodecs(stdCodecs(8000))
			drift.SetCodecs(stdCodecs(8000))
			const hour = 3600 * time.Second
			const markAt = 3590 * time.Second
			type pkt struct {
				arrival, sent time.Duration
				s             *Stream
				seq           uint16
				ts            uint32
			}
			var pkts []pkt
			rnd := uint64(12345)
			jitter := func() time.Duration { // xorshift: 0..20 ms
				rnd ^= rnd << 13
				rnd ^= rnd >> 7
				rnd ^= rnd << 17
				return time.Duration(rnd % uint64(20*time.Millisecond))
			}
			for i, s := range []*Stream{ref, drift} {
				ratio := 1.0
				if i == 1 {
					ratio = tc.ratio
				}
				for k := 0; ; k++ {
					sent := time.Duration(float64(k) * float64(20*time.Millisecond) / ratio)
					if sent > hour {
						break
					}
					arr := sent + 5*time.Millisecond
					if k > 0 {
						arr += jitter()
					}
					pkts = append(pkts, pkt{arr, sent, s, uint16(k), uint32(160 * k)})
				}
			}
			slices.SortStableFunc(pkts, func(a, b pkt) int { return cmp.Compare(a.arrival, b.arrival) })

			plain, mark := constL16(160, 100), constL16(160, 20000)
			markSent := map[*Stream]time.Duration{}
			found := map[int]int64{}
			var buf []int16
			var err error
			frame := int64(0)
			read := func(now time.Time) {
				if buf, err = m.Read(now, buf[:0]); err != nil {
					t.Fatal(err)
				}
				if now.Before(t0.Add(markAt - 10*time.Second)) {
					frame += int64(len(buf) / 2)
					return
				}
				for i, v := range buf {
					if v == 20000 {
						if _, ok := found[i%2]; !ok {
							found[i%2] = frame + int64(i/2)
						}
					}
				}
				frame += int64(len(buf) / 2)
			}
			next := 100 * time.Millisecond
			b := rtpPacket(ptL16, false, 0, 0, 1, plain)
			for _, p := range pkts {
				for next <= p.arrival {
					read(t0.Add(next))
					next += 100 * time.Millisecond
				}
				payload := plain
				if p.sent >= markAt && p.sent < markAt+100*time.Millisecond {
					payload = mark
					if _, ok := markSent[p.s]; !ok {
						markSent[p.s] = p.sent
					}
				}
				binary.BigEndian.PutUint16(b[2:], p.seq)
				binary.BigEndian.PutUint32(b[4:], p.ts)
				copy(b[12:], payload)
				p.s.Push(b, t0.Add(p.arrival))
			}
			read(t0.Add(hour + time.Second))

			for ch, s := range []*Stream{ref, drift} {
				exp := int64((markSent[s] + 5*time.Millisecond) * 8000 / time.Second)
				got, ok := found[ch]
				if !ok {
					t.Fatalf("marker of channel %d not found", ch)
				}
				if d := got - exp; d < -160 || d > 160 {
					t.Errorf("channel %d: marker at %d, want %d ± 20 ms (off by %d ms)", ch, got, exp, d/8)
				}
				if st := s.Stats(); st.Gaps != 0 || st.Lost != 0 || st.Late != 0 || st.TimestampJumps != 0 {
					t.Errorf("channel %d stats %+v, want no gaps, loss, late packets or jumps", ch, st)
				}
			}
			// The senders marked the same moment to within a packet.
			skew := (found[1] - found[0]) - int64((markSent[drift]-markSent[ref])*8000/time.Second)
			if skew < -240 || skew > 240 {
				t.Errorf("channels %d ms apart, want within 30 ms", skew/8)
			}
			t.Logf("marker error: ref %d samples, drift %d samples",
				found[0]-int64((markSent[ref]+5*time.Millisecond)*8000/time.Second),
				found[1]-int64((markSent[drift]+5*time.Millisecond)*8000/time.Second))
		})
	}
}

func TestRingOverflowIsSafe(t *testing.T) {
	t.Run("flusher stalled for 5 s", func(t *testing.T) {
		m := newMixer(t, 8000, 2)
		s := m.AddStream("1", 0)
		s.SetCodecs(stdCodecs(8000))
		g := &sender{s: s, pt: ptL16, ssrc: 1}
		for _, a := range g.talk(t0, 250, value(1), nil) {
			a.do()
		}
		out, err := m.Read(t0.Add(5*time.Second), nil)
		if err != nil {
			t.Fatal(err)
		}
		st := s.Stats()
		if st.Received+st.Dropped != 250 || st.Dropped == 0 {
			t.Fatalf("stats %+v: want every packet received or dropped, some dropped", st)
		}
		// What fitted in the ring is in place, the rest is silence.
		left, ring := channel(out, 2, 0), m.RingSamples()
		for i, v := range left {
			want := int16(0)
			if i < ring {
				want = int16(1 + i/160)
			}
			if v != want {
				t.Fatalf("sample %d = %d, want %d", i, v, want)
			}
		}
	})
	t.Run("timestamp ahead beyond the ring re-anchors at arrival", func(t *testing.T) {
		m, err := New(Config{Rate: 8000, Channels: 1, Start: t0, ReorderWindow: ms(10)})
		if err != nil {
			t.Fatal(err)
		}
		s := m.AddStream("1", 0)
		s.SetCodecs(stdCodecs(8000))
		s.Push(rtpPacket(ptL16, false, 1, 0, 1, constL16(160, 1)), t0)
		// No Read for 1.5 s, then a packet whose timestamp says 2.4 s
		// (0.9 s ahead of its arrival): within the jump limit, but beyond
		// the 2.048 s ring.
		s.Push(rtpPacket(ptL16, false, 2, 2400*8, 1, constL16(160, 2)), t0.Add(1500*time.Millisecond))
		out := m.Drain(t0.Add(3*time.Second), nil)
		checkRun(t, "first", out, 0, 160, 1)
		checkRun(t, "re-anchored", out, 12000, 160, 2)
		if st := s.Stats(); st.TimestampJumps != 1 || st.Received != 2 {
			t.Errorf("stats %+v, want 1 jump, 2 received", st)
		}
	})
}

func TestStreamAddedMidCall(t *testing.T) {
	m := newMixer(t, 8000, 2)
	a := m.AddStream("1", 0)
	a.SetCodecs(stdCodecs(8000))
	ga := &sender{s: a, pt: ptL16, ssrc: 1}
	acts := ga.talk(t0, 100, value(1), nil)
	addAt := t0.Add(ms(1200))
	acts = append(acts, action{addAt, func() {
		b := m.AddStream("2", 1)
		b.SetCodecs(stdCodecs(8000))
		gb := &sender{s: b, pt: ptL16, ssrc: 2}
		// Pushed at once: they lie ahead of the read position.
		for _, a := range gb.talk(addAt, 10, value(-50), nil) {
			a.do()
		}
	}})
	out := sim(t, m, acts, t0.Add(2*time.Second))
	right := channel(out, 2, 1)
	checkRun(t, "before", right, 0, 9600, 0)
	for k := range 10 {
		checkRun(t, "added stream", right, 9600+160*k, 160, int16(-50+k))
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"8 kHz stereo", Config{Rate: 8000, Channels: 2, Start: t0}, true},
		{"48 kHz mono, 1 s window", Config{Rate: 48000, Channels: 1, Start: t0, ReorderWindow: time.Second}, true},
		{"rate too low", Config{Rate: 4000, Channels: 2, Start: t0}, false},
		{"three channels", Config{Rate: 8000, Channels: 3, Start: t0}, false},
		{"no channels", Config{Rate: 8000, Start: t0}, false},
		{"no start", Config{Rate: 8000, Channels: 2}, false},
		{"negative window", Config{Rate: 8000, Channels: 2, Start: t0, ReorderWindow: -time.Millisecond}, false},
		{"window too long", Config{Rate: 8000, Channels: 2, Start: t0, ReorderWindow: time.Minute}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.cfg)
			if tc.ok != (err == nil) {
				t.Fatalf("New(%+v) error %v, want ok=%v", tc.cfg, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, callrec.ErrInvalid) {
					t.Errorf("error %v does not wrap ErrInvalid", err)
				}
				return
			}
			w := tc.cfg.ReorderWindow
			if w == 0 {
				w = DefaultReorderWindow
			}
			n := m.RingSamples()
			if min := int((w + 1500*time.Millisecond) * time.Duration(tc.cfg.Rate) / time.Second); n < min || n&(n-1) != 0 {
				t.Errorf("ring %d samples, want a power of two >= %d", n, min)
			}
		})
	}
}

func TestCodecValidate(t *testing.T) {
	tests := []struct {
		name string
		c    Codec
		ok   bool
	}{
		{"PCMU", Codec{Decoder: l16{8000}, ClockRate: 8000}, true},
		{"telephone-event", Codec{ClockRate: 8000, DTMF: true}, true},
		{"no decoder", Codec{ClockRate: 8000}, false},
		{"decoder at another rate", Codec{Decoder: l16{16000}, ClockRate: 8000}, false},
		{"zero clock", Codec{Decoder: l16{8000}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Validate(8000); (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	// A stream given an invalid codec drops its packets.
	m := newMixer(t, 8000, 1)
	s := m.AddStream("1", 0)
	s.SetCodecs(map[uint8]Codec{0: {Decoder: l16{16000}, ClockRate: 8000}})
	s.Push(rtpPacket(0, false, 1, 0, 1, constL16(160, 1)), t0)
	if st := s.Stats(); st.Dropped != 1 || st.Received != 0 {
		t.Errorf("stats %+v, want the packet dropped", st)
	}
}

func TestMalformedAndUnknownPacketsAreDropped(t *testing.T) {
	m := newMixer(t, 8000, 1)
	s := m.AddStream("1", 0)
	s.SetCodecs(stdCodecs(8000))
	good := rtpPacket(ptL16, false, 1, 0, 1, constL16(160, 1))
	bad := [][]byte{
		nil,
		good[:11],
		append([]byte{0x40}, good[1:]...), // version 1
		rtpPacket(0, false, 2, 160, 1, constL16(160, 1)),                // payload type not negotiated
		rtpPacket(ptL16, false, 3, 320, 1, []byte{1, 2, 3}),             // decoder error (odd L16)
		rtpPacket(ptDTMF, false, 4, 480, 1, []byte{1}),                  // short telephone-event
		{0x81, 0xc8, 0, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, // RTCP SR
	}
	s.Push(good, t0)
	for _, b := range bad {
		s.Push(b, t0.Add(ms(10)))
	}
	st := s.Stats()
	if st.Received != 1 || st.Dropped != uint64(len(bad)) {
		t.Errorf("stats %+v, want 1 received, %d dropped", st, len(bad))
	}
	if got := s.LastPacket(); !got.Equal(t0) {
		t.Errorf("LastPacket = %v, want %v (dropped packets do not count)", got, t0)
	}
}

func TestReadAfterDrain(t *testing.T) {
	m := newMixer(t, 8000, 2)
	out := m.Drain(t0.Add(time.Second), nil)
	if len(out) != 16000 || m.Frames() != 8000 {
		t.Fatalf("Drain gave %d samples, Frames %d; want 16000 and 8000", len(out), m.Frames())
	}
	if _, err := m.Read(t0.Add(time.Hour), nil); !errors.Is(err, ErrDrained) {
		t.Errorf("Read after Drain: %v, want ErrDrained", err)
	}
	if out := m.Drain(t0.Add(time.Hour), nil); len(out) != 0 {
		t.Errorf("second Drain gave %d samples", len(out))
	}
}

// TestConcurrentUse runs two pushing goroutines against a reading one, as
// the recorder does; run with -race.
func TestConcurrentUse(t *testing.T) {
	m := newMixer(t, 8000, 2)
	streams := []*Stream{m.AddStream("1", 0), m.AddStream("2", 1)}
	const n = 2000
	var progress [2]struct {
		sync.Mutex
		k int
	}
	var wg sync.WaitGroup
	for i, s := range streams {
		s.SetCodecs(stdCodecs(8000))
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := constL16(160, int16(i+1))
			for k := range n {
				s.Push(rtpPacket(ptL16, false, uint16(k), uint32(160*k), uint32(i), payload), t0.Add(ms(20*k)))
				progress[i].Lock()
				progress[i].k = k
				progress[i].Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var out []int16
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		k := n
		for i := range progress {
			progress[i].Lock()
			k = min(k, progress[i].k)
			progress[i].Unlock()
		}
		var err error
		if out, err = m.Read(t0.Add(ms(20*k)), out); err != nil {
			t.Fatal(err)
		}
		_ = streams[k%2].Stats()
		_ = streams[k%2].LastPacket()
		_ = m.DTMF()
	}
	out = m.Drain(t0.Add(ms(20*n)), out)
	if int64(len(out)) != 2*m.Frames() || m.Frames() != 8*20*n {
		t.Fatalf("%d samples, %d frames; want %d frames", len(out), m.Frames(), 8*20*n)
	}
	for _, s := range streams {
		st := s.Stats()
		if st.Received+st.Dropped+st.Late != n {
			t.Errorf("stream %s: %+v does not account for %d packets", s.Label(), st, n)
		}
	}
}

func TestSilenceAroundPauseIsNotAGap(t *testing.T) {
	// The source stops forwarding 100 ms before it signals the pause and
	// starts again 60 ms after it signals the resume; an event in progress
	// when the pause starts is still reported.
	m := newMixer(t, 8000, 1)
	s := m.AddStream("1", 0)
	s.SetCodecs(stdCodecs(8000))
	g := &sender{s: s, pt: ptL16, ssrc: 3}
	pauseAt, resumeAt := t0.Add(time.Second), t0.Add(2*time.Second)
	acts := []action{
		{pauseAt, func() { s.SetPaused(true, pauseAt) }},
		{resumeAt, func() { s.SetPaused(false, resumeAt) }},
	}
	acts = append(acts, g.talk(t0, 45, value(1), nil)...)
	ev := rtpPacket(ptDTMF, true, g.seq, g.ts, 3, eventPayload(7, false, 320))
	evAt := t0.Add(ms(940))
	acts = append(acts, action{evAt, func() { s.Push(ev, evAt) }})
	g.seq += 100
	acts = append(acts, g.talk(resumeAt.Add(ms(60)), 20, value(100), nil)...)
	out := sim(t, m, acts, t0.Add(3*time.Second))
	checkRun(t, "pause", out, 7200, 9280, 0)
	for k := range 20 {
		checkRun(t, "after resume", out, 16480+160*k, 160, int16(100+k))
	}
	if got, want := s.Stats(), (callrec.StreamStats{Received: 66}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	if got := m.DTMF(); len(got) != 1 || got[0].Digit != "7" || got[0].OffsetMS != 900 || got[0].DurationMS != 40 {
		t.Errorf("DTMF %+v, want digit 7 at 900 ms lasting 40 ms", got)
	}
}

// shortDec decodes L16 but loses the last sample, as a resampler with a
// little delay might.
type shortDec struct{ l16 }

func (d shortDec) Decode(dst []int16, p []byte) ([]int16, error) {
	out, err := d.l16.Decode(dst, p)
	return out[:max(len(out)-1, 0)], err
}

func TestShortDecoderOutputIsBridged(t *testing.T) {
	m := newMixer(t, 8000, 1)
	s := m.AddStream("1", 0)
	s.SetCodecs(map[uint8]Codec{ptL16: {Decoder: shortDec{l16{8000}}, ClockRate: 8000}})
	g := &sender{s: s, pt: ptL16, ssrc: 1}
	out := sim(t, m, g.talk(t0, 50, func(int) int16 { return 1000 }, nil), t0.Add(time.Second))
	// Each packet leaves one sample; the last one's is after the stream
	// ended and stays silent.
	checkRun(t, "audio", out, 0, 7999, 1000)
	if got, want := s.Stats(), (callrec.StreamStats{Received: 50}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}
