package siprecclient

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/callrec/callrec/internal/testnet"
	"github.com/callrec/callrec/media/g711"
)

// clickFrames returns n 20 ms PCMU payloads, silent but for one click per
// frame at a sample offset that changes from frame to frame (offset(i)):
// in the recording, where each click lands says which frame it was, so a
// frame missing, repeated or out of order shows at once.
func clickFrames(n int, offset func(int) int) [][]byte {
	out := make([][]byte, n)
	pcm := make([]int16, 160)
	for i := range out {
		clear(pcm)
		pcm[offset(i)] = 16000
		out[i] = make([]byte, 160)
		g711.EncodeUlaw(out[i], pcm)
	}
	return out
}

// clicks returns the sample positions of the clicks in ch.
func clicks(ch []int16) []int {
	var at []int
	for i, v := range ch {
		if v > 8000 {
			at = append(at, i)
		}
	}
	return at
}

// TestR19_SlowSRSLosesNoAudio: the SRS answers the INVITE 500 ms after
// it was sent, while the relay keeps calling Send from the recorded
// party's answer on. The recording holds every frame from the first Send,
// once each, in order, at its exact place (RTP timing), with both streams
// aligned; it starts at the file's start and lasts the span of the Sends.
func TestR19_SlowSRSLosesNoAudio(t *testing.T) {
	const slow = 500 * time.Millisecond
	rec := startSRS(t)
	b := newB2BUA(t)
	cfg := b.config(fmt.Sprintf("sip:srs@%s;transport=tcp", testnet.SlowProxy(t, rec.target[len("sip:srs@"):], slow)))
	cfg.InviteTimeout = 3 * time.Second
	s, err := New(cfg, callInfo())
	if err != nil {
		t.Fatal(err)
	}
	off := [2]func(int) int{
		func(i int) int { return (i*37 + 5) % 150 },
		func(i int) int { return (i*53 + 71) % 150 },
	}
	const n = 100 // 2 s: 0.5 s before the SRS answers, the rest after
	frames := [2][][]byte{clickFrames(n, off[0]), clickFrames(n, off[1])}
	started := make(chan error, 1)
	sent := time.Now()
	go func() { started <- s.Start(t.Context()) }()
	tick := time.NewTicker(20 * time.Millisecond)
	var answered int // frames sent before Start returned
	for i := range n {
		s.Send(0, frames[0][i], uint32(i*160))
		s.Send(1, frames[1][i], uint32(i*160))
		select {
		case err := <-started:
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			answered = i + 1
		default:
		}
		<-tick.C
	}
	tick.Stop()
	span := time.Since(sent)
	if answered == 0 {
		if err := <-started; err != nil {
			t.Fatalf("Start: %v", err)
		}
		answered = n
	}
	if err := s.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stats := s.Stats()
	rec.shutdown(t, 10*time.Second)
	r := rec.recordingOf(t, s.CallID())
	info, chans := readAudio(t, rec, r)

	t.Run("the SRS answered late and the backlog was kept", func(t *testing.T) {
		if answered < int(slow/(20*time.Millisecond))-2 || s.Delay() < slow-40*time.Millisecond || s.Delay() > BacklogLimit {
			t.Errorf("Start returned after %d frames with delay %v; want about %v (the test's slow SRS)", answered, s.Delay(), slow)
		}
		for k, st := range stats {
			if st.Sent+st.Expired+st.Dropped+st.Skipped != n || st.Expired+st.Dropped+st.Skipped != 0 {
				t.Errorf("stream %d: %+v, want %d sent, nothing dropped", k, st, n)
			}
		}
	})
	for c := range 2 {
		t.Run(fmt.Sprintf("channel %d holds every frame once, in order, at its place", c+1), func(t *testing.T) {
			at := clicks(chans[c])
			if len(at) != n {
				t.Fatalf("%d clicks, want %d (one a frame): %v; file %d samples", len(at), n, at, len(chans[c]))
			}
			base := at[0] - off[c](0)
			for i, p := range at {
				if want := base + i*160 + off[c](i); p != want {
					t.Fatalf("click %d at sample %d, want %d: frame missing, repeated or moved", i, p, want)
				}
			}
			if first := time.Duration(base) * time.Second / 8000; first > 100*time.Millisecond {
				t.Errorf("first frame starts %v into the file, want at its start", first)
			}
		})
	}
	t.Run("channels aligned", func(t *testing.T) {
		a, o := clicks(chans[0]), clicks(chans[1])
		if len(a) == 0 || len(o) == 0 {
			t.Fatal("no clicks")
		}
		d := (a[0] - off[0](0)) - (o[0] - off[1](0))
		if math.Abs(float64(d)) > 40 { // 5 ms
			t.Errorf("channel 2 starts %d samples after channel 1, want aligned", -d)
		}
	})
	t.Run("file lasts the span of the Sends", func(t *testing.T) {
		got := time.Duration(info.Frames) * time.Second / 8000
		want := span
		if got < want-40*time.Millisecond || got > want+100*time.Millisecond {
			t.Errorf("file lasts %v, Sends spanned %v", got, want)
		}
		for _, m := range r.Meta.Streams {
			if st := m.Stats; st.Received != n || st.Lost+st.Duplicated+st.Late+st.Gaps+st.TimestampJumps != 0 {
				t.Errorf("recorder's stream %s: %+v", m.Label, st)
			}
		}
	})
}
