package siprecclient

import (
	"context"
	"errors"

	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/media/g711"
	"github.com/callrec/callrec/media/tone"
	"github.com/callrec/callrec/media/wav"
)

// Tones of the two parties.
const (
	recordedHz = 440.0
	otherHz    = 1000.0
)

var candidates = []float64{recordedHz, otherHz}

// pcmuTone returns n 20 ms PCMU payloads of a sine at freq.
func pcmuTone(freq float64, n int) [][]byte {
	pcm := make([]int16, 160*n)
	var phase float64
	tone.Sine(pcm, 8000, freq, 0.3, &phase)
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, 160)
		g711.EncodeUlaw(out[i], pcm[i*160:(i+1)*160])
	}
	return out
}

// callInfo is a call of the recorded user Alice with an outside number.
func callInfo() CallInfo {
	return CallInfo{
		CallID:    "leg-a@pbx.test",
		Recorded:  Participant{Name: "Alice", AOR: "sip:1001@pbx.acme.example", UserID: personAlice},
		Other:     Participant{Name: "Bob Outside", AOR: "tel:+4535359999"},
		Direction: DirectionInbound,
		Start:     time.Now(),
	}
}

func start(t *testing.T, cfg Config) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := Start(ctx, cfg, callInfo())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return s
}

// startRecorded starts the real recorder, a B2BUA and a session from it
// to the recorder, makes n packets of each party's tone (recordedHz,
// otherHz) and feeds the first fed of them through the session.
func startRecorded(t *testing.T, n, fed int) (*srs, *b2bua, *Session, [][]byte, [][]byte) {
	t.Helper()
	rec := startSRS(t)
	b := newB2BUA(t)
	s := start(t, b.config(rec.target))
	a, o := pcmuTone(recordedHz, n), pcmuTone(otherHz, n)
	feed(s, a, o, 0, fed)
	return rec, b, s, a, o
}

// feed sends packets [from, to) of both tones through s at the real 20 ms
// pace, as the relay's tap would; timestamps follow the relay's clock.
func feed(s *Session, a, b [][]byte, from, to int) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := from; i < to; i++ {
		s.Send(0, a[i], uint32(i*160))
		s.Send(1, b[i], uint32(i*160))
		<-tick.C
	}
}

// span returns the samples of [from, to) seconds of ch.
func span(ch []int16, from, to float64) []int16 {
	lo, hi := int(from*8000), int(to*8000)
	hi = min(hi, len(ch))
	lo = min(lo, hi)
	return ch[lo:hi]
}

func readAudio(t *testing.T, s *srs, r callrec.Recording) (wav.Info, [][]int16) {
	t.Helper()
	info, chans, err := wav.ReadFile(filepath.Join(s.blobs.Root(), filepath.FromSlash(r.BlobKey)))
	if err != nil {
		t.Fatal(err)
	}
	return info, chans
}

// TestR36_TwoStreamsToRecorder records a call through the real recorder:
// 2.4 s of two tones with a pause from 1.0 to 1.6 s and a compliance
// announcement, and checks the stored file and metadata.
func TestR36_TwoStreamsToRecorder(t *testing.T) {
	rec, _, s, a, o := startRecorded(t, 120, 0)

	announcedAt := time.Now()
	if err := s.Announce(t.Context(), AnnounceCompliance, "da_DK", announcedAt); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	feed(s, a, o, 0, 50)
	if err := s.Pause(t.Context()); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	feed(s, a, o, 50, 80) // the relay keeps calling Send while paused
	if err := s.Resume(t.Context()); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	feed(s, a, o, 80, 120)
	stats := s.Stats()
	if err := s.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err, ok := <-s.Failed(); ok || err != nil {
		t.Errorf("Failed after Stop gave %v, %v; want closed", err, ok)
	}
	rec.shutdown(t, 10*time.Second)
	r := rec.recordingOf(t, s.CallID())

	t.Run("stats count what was sent and what the pause skipped", func(t *testing.T) {
		for k, st := range stats {
			if st.Sent < 85 || st.Sent > 90 || st.Dropped != 0 || st.Skipped < 30 {
				t.Errorf("stream %d: %+v, want 90 sent, 30 skipped, none dropped", k, st)
			}
		}
	})
	t.Run("large INVITE went over TCP", func(t *testing.T) {
		if s.Transport() != "TCP" {
			t.Errorf("transport %s, want TCP", s.Transport())
		}
		if len(r.Meta.Events) == 0 || r.Meta.Events[0].Kind != "invite" || !strings.Contains(r.Meta.Events[0].Detail, "TCP") {
			t.Errorf("recorder's first event %+v, want the INVITE over TCP", r.Meta.Events)
		}
	})
	t.Run("owner matched by the recorded userId mark", func(t *testing.T) {
		if r.OwnerType != callrec.OwnerUser || r.OwnerID != personAlice || r.OwnerEmail != "alice@acme.example" {
			t.Errorf("owner %s %s %s, want user %s", r.OwnerType, r.OwnerID, r.OwnerEmail, personAlice)
		}
		if r.Meta.Vendor.Vendor != "callrec" || r.Meta.Vendor.UserID != personAlice {
			t.Errorf("vendor data %+v", r.Meta.Vendor)
		}
	})
	t.Run("announcement in the metadata", func(t *testing.T) {
		found := false
		for _, m := range r.Meta.RawMetadata {
			if strings.Contains(m.Body, `kind="compliance"`) && strings.Contains(m.Body, `lang="da_DK"`) &&
				strings.Contains(m.Body, `at="`+announcedAt.UTC().Format(time.RFC3339Nano)+`"`) {
				found = true
			}
		}
		if !found {
			t.Errorf("no metadata update names the compliance announcement: %+v", r.Meta.RawMetadata)
		}
	})
	info, chans := readAudio(t, rec, r)
	t.Run("stereo file of the call's length", func(t *testing.T) {
		if info.Channels != 2 || info.Rate != 8000 {
			t.Fatalf("file %+v, want stereo 8 kHz", info)
		}
		secs := float64(info.Frames) / 8000
		if secs < 2.2 || secs > 2.9 {
			t.Errorf("file lasts %.2f s, want about 2.4 s", secs)
		}
	})
	t.Run("channel 1 is the recorded party, channel 2 the other", func(t *testing.T) {
		for _, w := range [][2]float64{{0.2, 0.9}, {1.8, 2.3}} {
			for c, want := range candidates {
				f, ratio := tone.Dominant(span(chans[c], w[0], w[1]), 8000, candidates)
				if f != want || ratio < 10 {
					t.Errorf("channel %d at %.1f-%.1f s: %.0f Hz (ratio %.1f), want %.0f Hz", c+1, w[0], w[1], f, ratio, want)
				}
			}
		}
	})
	t.Run("pause is silence and a pause interval", func(t *testing.T) {
		if len(r.Meta.PauseIntervals) != 1 {
			t.Fatalf("pause intervals %+v, want 1", r.Meta.PauseIntervals)
		}
		pi := r.Meta.PauseIntervals[0]
		d := pi.End.Sub(pi.Start)
		if d < 450*time.Millisecond || d > 800*time.Millisecond {
			t.Errorf("pause lasted %v, want about 600 ms", d)
		}
		from := pi.Start.Sub(r.Start).Seconds() + 0.1
		to := pi.End.Sub(r.Start).Seconds() - 0.1
		for c := range chans {
			if rms := tone.RMS(span(chans[c], from, to)); rms > 0.001 {
				t.Errorf("channel %d during the pause (%.2f-%.2f s): RMS %.4f, want silence", c+1, from, to, rms)
			}
		}
	})
}

// TestX1_BackupTarget checks that the backup SRS takes the session when
// the primary refuses or does not answer, and that the session fails with
// every target's reason when none takes it.
func TestX1_BackupTarget(t *testing.T) {
	rec := startSRS(t)
	b := newB2BUA(t)
	refusing, silent := refuser(t, 503), silentPeer(t)
	cases := []struct {
		name    string
		targets []string
	}{
		{"primary refuses with 503", []string{refusing, rec.target}},
		{"primary does not answer", []string{silent, rec.target}},
		{"bad primary URI", []string{"sip:", rec.target}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			began := time.Now()
			s := start(t, b.config(c.targets...))
			if s.Target() != rec.target {
				t.Errorf("session on %s, want the backup %s", s.Target(), rec.target)
			}
			if d := time.Since(began); d > 3*time.Second {
				t.Errorf("falling back took %v", d)
			}
			a, o := pcmuTone(recordedHz, 10), pcmuTone(otherHz, 10)
			feed(s, a, o, 0, 10)
			if err := s.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st[0].Sent != 10 || st[1].Sent != 10 {
				t.Errorf("stats %+v, want 10 packets a stream", st)
			}
		})
	}
	t.Run("no target takes it", func(t *testing.T) {
		cfg := b.config(refusing, silent)
		s, err := Start(t.Context(), cfg, callInfo())
		if err == nil {
			_ = s.Stop(t.Context())
			t.Fatal("Start succeeded with no working SRS")
		}
		var re *RefusedError
		if !errors.As(err, &re) || re.Status != 503 || !errors.Is(err, ErrNoAnswer) {
			t.Errorf("error %v, want the primary's 503 and the backup's silence", err)
		}
		if n := b.dialogs.Len(); n != 0 {
			t.Errorf("%d dialogs left behind", n)
		}
	})
	rec.shutdown(t, 10*time.Second)
	recs, err := rec.store.ListRecordings(t.Context(), callrec.RecordingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(cases) {
		t.Errorf("%d recordings on the backup, want %d", len(recs), len(cases))
	}
}

// TestSRSByeFails checks that a BYE from the SRS mid-call is reported on
// Failed, stops the streams and leaves Send harmless.
func TestSRSByeFails(t *testing.T) {
	rec, b, s, a, _ := startRecorded(t, 5, 5)
	rec.shutdown(t, 0) // the recorder ends its sessions with a BYE
	select {
	case err := <-s.Failed():
		if !errors.Is(err, ErrRemoteBye) {
			t.Errorf("Failed gave %v, want ErrRemoteBye", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no failure reported after the SRS's BYE")
	}
	s.Send(0, a[0], 0) // must neither block nor panic
	if st := s.Stats(); st[0].Skipped == 0 {
		t.Errorf("stats %+v: Send after the failure was not skipped", st)
	}
	if err := s.Pause(t.Context()); !errors.Is(err, ErrStopped) {
		t.Errorf("Pause after failure: %v, want ErrStopped", err)
	}
	if err := s.Stop(t.Context()); err != nil {
		t.Errorf("Stop after failure: %v", err)
	}
	if n := b.dialogs.Len(); n != 0 {
		t.Errorf("%d dialogs left behind", n)
	}
}

// TestUpdateParticipants checks the transfer update: the recorder's merged
// metadata names the new participant as the sender of stream 1.
func TestUpdateParticipants(t *testing.T) {
	rec, _, s, _, _ := startRecorded(t, 5, 5)
	carol := Participant{Name: "Carol Transfer", AOR: "sip:+4535358888@trunk.example"}
	if err := s.UpdateParticipants(t.Context(), 1, carol); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateParticipants(t.Context(), 2, carol); err == nil {
		t.Error("stream 2 accepted")
	}
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec.shutdown(t, 10*time.Second)
	r := rec.recordingOf(t, s.CallID())
	var sender string
	for _, st := range r.Meta.Streams {
		if st.Label == labels[1] {
			sender = st.ParticipantID
		}
	}
	for _, p := range r.Meta.Participants {
		if p.ID == sender {
			if p.AOR != carol.AOR || p.Name != carol.Name {
				t.Errorf("stream 2 sent by %+v, want Carol", p)
			}
			return
		}
	}
	t.Errorf("stream 2's sender %q not among %+v", sender, r.Meta.Participants)
}

func TestChooseTransport(t *testing.T) {
	cases := []struct {
		name string
		size int
		want string
	}{
		{"small request stays on UDP", 900, TransportUDP},
		{"at the limit stays on UDP", UDPSizeLimit, TransportUDP},
		{"one byte over goes to TCP", UDPSizeLimit + 1, TransportTCP},
		{"a SIPREC INVITE goes to TCP", 2600, TransportTCP},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := chooseTransport(c.size); got != c.want {
				t.Errorf("chooseTransport(%d) = %s, want %s", c.size, got, c.want)
			}
		})
	}
}
