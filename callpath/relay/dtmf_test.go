package relay

import (
	"fmt"
	"testing"
	"time"
)

// sendDigit sends one RFC 4733 event the way phones do: three packets
// while it lasts, three end packets, all with the event's start timestamp.
func sendDigit(e *endpoint, to *Leg, pt uint8, code uint8, seq *uint16, ts uint32) {
	for i := range 6 {
		end := i >= 3
		flags := byte(10) // volume -10 dBm0
		if end {
			flags |= 0x80
		}
		dur := uint16(160 * min(i+1, 4))
		e.send(to.LocalRTP(), rtpPacket(pt, i == 0, *seq, ts, 0xd7, []byte{code, flags, byte(dur >> 8), byte(dur)}))
		*seq++
	}
}

func collectDigits(t *testing.T, ch <-chan string, n int) string {
	t.Helper()
	var s string
	for range n {
		select {
		case d := <-ch:
			s += d
		case <-time.After(2 * time.Second):
			t.Fatalf("got digits %q, waiting for %d", s, n)
		}
	}
	select {
	case d := <-ch:
		t.Fatalf("extra digit %q after %q", d, s)
	case <-time.After(30 * time.Millisecond):
	}
	return s
}

// TestR35_DTMFDigitsAndSwallow: each telephone-event is reported once
// (end bit, deduplicated over its three end packets) with its side;
// without Swallow the packets are relayed with the other leg's event
// payload type, with Swallow they are held back (feature access code
// collection) while audio still flows.
func TestR35_DTMFDigitsAndSwallow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		swallow bool
	}{
		{"relayed", false},
		{"swallowed", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cb := pcmu
			cb.EventPT = 96
			f := newCall(t, pcmu, cb)
			digits := make(chan string, 16)
			sides := make(chan Side, 16)
			f.br.OnDigit(func(s Side, d string) { sides <- s; digits <- d })
			f.br.Swallow(A, tc.swallow)
			seq := uint16(100)
			for i, code := range []uint8{10, 4, 4} { // *44
				sendDigit(f.ea, f.la, 101, code, &seq, uint32(8000*(i+1)))
			}
			f.ea.send(f.la.LocalRTP(), rtpPacket(0, false, seq, 40000, 0xd7, []byte("audio")))
			if got := collectDigits(t, digits, 3); got != "*44" {
				t.Fatalf("digits %q, want *44", got)
			}
			for range 3 {
				if s := <-sides; s != A {
					t.Fatalf("digit reported from side %s", s)
				}
			}
			var events int
			for {
				b := recvOn(t, f.eb.rtp, time.Second)
				if pt := b[1] & 0x7f; pt == 96 {
					events++
					continue
				} else if pt != 0 {
					t.Fatalf("B got payload type %d", pt)
				}
				break // the audio packet comes last
			}
			want := 18
			if tc.swallow {
				want = 0
			}
			if events != want {
				t.Fatalf("B got %d event packets, want %d", events, want)
			}
			if s := f.la.Stats(); s.Swallowed != uint64(18-want) {
				t.Fatalf("Swallowed = %d, want %d", s.Swallowed, 18-want)
			}
		})
	}
}

// TestR35_HoldDigitsHoldsWholeEvents: a HoldFunc that holds a "*" and the
// two digits after it (a feature access code) keeps every packet of those
// three events from the other party, from the "*"'s first packet to the
// last repeated end packet of the final digit, while the digits before
// and after the code are relayed whole and every digit is still reported.
func TestR35_HoldDigitsHoldsWholeEvents(t *testing.T) {
	cb := pcmu
	cb.EventPT = 96
	f := newCall(t, pcmu, cb)
	digits := make(chan string, 16)
	f.br.OnDigit(func(_ Side, d string) { digits <- d })
	var asked []string
	left := 0 // digits of the code still to hold; only the reading goroutine touches it
	f.br.HoldDigits(func(s Side, d string) bool {
		asked = append(asked, d)
		switch {
		case left > 0:
			left--
			return true
		case s == A && d == "*":
			left = 2
			return true
		}
		return false
	})
	seq := uint16(100)
	for i, code := range []uint8{1, 10, 4, 4, 5} { // 1 *44 5
		sendDigit(f.ea, f.la, 101, code, &seq, uint32(8000*(i+1)))
	}
	f.ea.send(f.la.LocalRTP(), rtpPacket(0, false, seq, 60000, 0xd7, []byte("audio")))
	if got := collectDigits(t, digits, 5); got != "1*445" {
		t.Fatalf("digits %q, want 1*445", got)
	}
	var relayed []byte // event codes B received, one per packet
	for {
		b := recvOn(t, f.eb.rtp, time.Second)
		if pt := b[1] & 0x7f; pt == 96 {
			relayed = append(relayed, b[12])
			continue
		} else if pt != 0 {
			t.Fatalf("B got payload type %d", pt)
		}
		break
	}
	want := []byte{1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5}
	if string(relayed) != string(want) {
		t.Fatalf("B got event packets %v, want only the 1 and the 5 (%v)", relayed, want)
	}
	if s := f.la.Stats(); s.Swallowed != 18 {
		t.Fatalf("Swallowed = %d, want the code's 18 packets", s.Swallowed)
	}
	if got := fmt.Sprint(asked); got != "[1 * 4 4 5]" {
		t.Fatalf("HoldFunc asked for %s, want once per event", got)
	}
}

// An event held on one bridge stays held when a new bridge takes the legs
// before its end packets arrive (an auto attendant connecting the caller
// right after the menu digit, RFC 4733 §2.5.1.4: the end packet is sent
// three times): the other party gets none of its packets.
func TestR35_EventHeldAcrossBridges(t *testing.T) {
	cb := pcmu
	cb.EventPT = 96
	f := newCall(t, pcmu, cb)
	f.br.HoldDigits(func(s Side, _ string) bool { return s == A })
	seq := uint16(500)
	for i := range 3 { // the digit's first packets, not yet ended
		dur := uint16(160 * (i + 1))
		f.ea.send(f.la.LocalRTP(), rtpPacket(101, i == 0, seq, 16000, 0xd7, []byte{1, 10, byte(dur >> 8), byte(dur)}))
		seq++
	}
	waitFor(t, "the first packets swallowed", func() bool { return f.la.Stats().Swallowed == 3 })
	f.br.Detach()
	br2, err := NewBridge(f.la, f.lb)
	if err != nil {
		t.Fatal(err)
	}
	digits := make(chan string, 4)
	br2.OnDigit(func(_ Side, d string) { digits <- d })
	for range 3 { // the three end packets, after the new bridge took over
		f.ea.send(f.la.LocalRTP(), rtpPacket(101, false, seq, 16000, 0xd7, []byte{1, 0x80 | 10, 2, 128}))
		seq++
	}
	f.ea.send(f.la.LocalRTP(), rtpPacket(0, false, seq, 17000, 0xd7, []byte("audio")))
	b := recvOn(t, f.eb.rtp, time.Second)
	if pt := b[1] & 0x7f; pt != 0 {
		t.Fatalf("B got payload type %d first, want the audio (0): the held event leaked", pt)
	}
	if s := f.la.Stats(); s.Swallowed != 6 {
		t.Fatalf("Swallowed = %d, want the event's 6 packets", s.Swallowed)
	}
	if got := collectDigits(t, digits, 1); got != "1" {
		t.Fatalf("digits %q, want the 1 reported once", got)
	}
}
