package siprecclient

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// ms is a queue time of the tests, in the ring's nanoseconds.
func ms(n int) int64 { return int64(n) * int64(time.Millisecond) }

// marked returns a payload of n bytes whose first four carry i.
func marked(i, n int) []byte {
	p := bytes.Repeat([]byte{byte(i)}, n)
	binary.BigEndian.PutUint32(p, uint32(i))
	return p
}

// TestR19_BacklogKeepsTheNewestTwoSeconds: before the SRS answers a
// stream keeps what Send gave it, bounded by BacklogLimit; older packets
// (and, when the ring is full, the oldest) are dropped and counted as
// Expired, never the newest.
func TestR19_BacklogKeepsTheNewestTwoSeconds(t *testing.T) {
	cases := []struct {
		name      string
		n, size   int
		step      int // ms between Sends
		wantFirst int // index of the oldest packet kept
	}{
		{"3 s of 20 ms packets keep the last 2 s", 150, 160, 20, 150 - int(BacklogLimit/(20*time.Millisecond)) - 1},
		{"1 s of packets is kept whole", 50, 160, 20, 0},
		{"a full arena drops the oldest", 120, MaxPayload, 1, 120 - arenaBytes/MaxPayload},
		{"full slots drop the oldest", ringSlots + 40, 20, 1, 40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, rx := loopStream(t, route{pt: 0}, pcmu)
			st.ring.live = false
			for i := range c.n {
				if q, _ := st.push(marked(i, c.size), uint32(i*160), ms(i*c.step)); !q {
					t.Fatalf("packet %d refused before the SRS answered; the oldest should go instead", i)
				}
			}
			kept := c.n - c.wantFirst
			if s := st.stats(); s.Expired != uint64(c.wantFirst) || s.Dropped != 0 {
				t.Errorf("stats %+v, want %d expired, none dropped", s, c.wantFirst)
			}
			st.ring.live = true
			st.drain()
			got := receive(t, rx, kept)
			for k, p := range got {
				want := marked(c.wantFirst+k, c.size)
				if !bytes.Equal(p.Payload, want) || p.Timestamp-got[0].Timestamp != uint32(k*160) {
					t.Fatalf("packet %d: payload of #%d, timestamp +%d; want #%d in order", k,
						binary.BigEndian.Uint32(p.Payload), p.Timestamp-got[0].Timestamp, c.wantFirst+k)
				}
			}
		})
	}
}

// TestRingArenaWraps pushes payloads of changing sizes through a live
// ring many times round its arena: every payload comes out whole, in
// order, and nothing is dropped while the consumer keeps up.
func TestRingArenaWraps(t *testing.T) {
	st, rx := loopStream(t, route{pt: 0}, pcmu)
	sizes := []int{160, 33, MaxPayload, 80, 320, 7}
	const n = 600 // about 80 KiB: the 32 KiB arena wraps twice
	next := 0
	for i := range n {
		if q, _ := st.push(marked(i, sizes[i%len(sizes)]), uint32(i*160), 0); !q {
			t.Fatalf("packet %d dropped", i)
		}
		if i%50 == 49 {
			st.drain()
			for _, p := range receive(t, rx, i+1-next) {
				if want := marked(next, sizes[next%len(sizes)]); !bytes.Equal(p.Payload, want) {
					t.Fatalf("packet %d: %d bytes of #%d, want %d bytes of #%d", next, len(p.Payload),
						binary.BigEndian.Uint32(p.Payload), len(want), next)
				}
				next++
			}
		}
	}
	if s := st.stats(); s.Sent != n || s.Dropped+s.Expired+s.Skipped != 0 {
		t.Errorf("stats %+v, want %d sent and nothing lost", s, n)
	}
}

// TestSendDueKeepsTheDelay: with a delay D each packet leaves D after its
// Send, not before; sendDue reports when the next one is due.
func TestSendDueKeepsTheDelay(t *testing.T) {
	st, rx := loopStream(t, route{pt: 0}, pcmu)
	delay := ms(300)
	for i := range 5 {
		st.push(marked(i, 160), uint32(i*160), ms(i*20))
	}
	steps := []struct {
		now      int64
		sent     int
		next     int64
		nextSeen bool
	}{
		{ms(299), 0, ms(300), true},
		{ms(300), 1, ms(320), true},
		{ms(359), 3, ms(360), true},
		{ms(400), 5, 0, false},
	}
	for _, s := range steps {
		next, more := st.sendDue(s.now, delay, false)
		if got := st.stats().Sent; got != uint64(s.sent) || next != s.next || more != s.nextSeen {
			t.Errorf("at %v: %d sent, next %v (%v); want %d, next %v (%v)", time.Duration(s.now), got,
				time.Duration(next), more, s.sent, time.Duration(s.next), s.nextSeen)
		}
	}
	receive(t, rx, 5)
}
