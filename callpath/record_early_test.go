package callpath

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/internal/testnet"
	"github.com/callrec/callrec/media/tone"
	"github.com/callrec/callrec/media/wav"
)

// slowSRS puts a relay in front of the recorder of srv's built-in
// target, so the recorder answers each SIPREC INVITE about delay late, as
// a busy SRS does (testnet.SlowProxy).
func slowSRS(t *testing.T, srv *Server, delay time.Duration) {
	t.Helper()
	host := strings.TrimPrefix(srv.cfg.BuiltInTarget, "sip:srs@")
	srv.cfg.BuiltInTarget = fmt.Sprintf("sip:srs@%s;transport=tcp", testnet.SlowProxy(t, host, delay))
}

// TestR19_SlowSRSRecordingHoldsTheAnswer: Bob, recorded always, speaks
// from the moment he answers; the recording service answers the SIPREC
// INVITE 600 ms late. The recording still starts with Bob's voice and
// lasts from the answer to the hangup: the audio said while the SRS was
// answering is kept and sent first (siprecclient's backlog), not lost.
func TestR19_SlowSRSRecordingHoldsTheAnswer(t *testing.T) {
	const slow = 600 * time.Millisecond
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways, server: func(s *Server) { slowSRS(t, s, slow) }})
	r.bobAnswers(t, newRTPPeer(t, 660), 0)
	gwRTP := newRTPPeer(t, 440)
	dc, answeredAt := r.dialFromPSTN(t, "+4535351002", gwRTP)
	gwRTP.waitHeard(t, 1500*time.Millisecond)
	waitUntil(t, "recording started", func() bool {
		s := r.states()
		return len(s) > 0 && s[0] == personBob+":started"
	})
	time.Sleep(time.Until(answeredAt.Add(1500 * time.Millisecond))) // the call's length is what is measured
	byeAt := time.Now()
	if err := dc.Bye(t.Context()); err != nil {
		t.Fatal(err)
	}
	call := byeAt.Sub(answeredAt)
	waitCalls(t, r.env, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.rec.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := r.store.ListRecordings(t.Context(), callrec.RecordingQuery{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings %v %v, want one", recs, err)
	}
	_, chans, err := wav.ReadFile(filepath.Join(r.blobs.Root(), filepath.FromSlash(recs[0].BlobKey)))
	if err != nil || len(chans) != 2 {
		t.Fatalf("recording audio: %d channels, err %v", len(chans), err)
	}
	got := time.Duration(len(chans[0])) * time.Second / 8000
	t.Run("the recording lasts from the answer to the hangup", func(t *testing.T) {
		// Without the backlog it would be the SRS's 600 ms shorter.
		if got < call-100*time.Millisecond || got > call+200*time.Millisecond {
			t.Errorf("recording lasts %v, the call %v from answer to hangup", got, call)
		}
	})
	t.Run("it starts with Bob's voice", func(t *testing.T) {
		first := chans[0][:min(len(chans[0]), 320)] // 40 ms
		if rms := tone.RMS(first[160:]); rms < 0.05 {
			t.Errorf("channel 1 in 20-40 ms: RMS %.3f, want Bob's tone", rms)
		}
		for _, w := range [][2]int{{160, 1760}, {len(chans[0]) / 2, len(chans[0])/2 + 1600}} {
			if f, ratio := tone.Dominant(chans[0][w[0]:w[1]], 8000, candidates); f != 660 || ratio < 10 {
				t.Errorf("channel 1 at samples %d-%d: %v Hz (ratio %.1f), want Bob's 660", w[0], w[1], f, ratio)
			}
		}
		mid := len(chans[1]) / 2
		if f, _ := tone.Dominant(chans[1][mid:mid+1600], 8000, candidates); f != 440 {
			t.Errorf("channel 2 has %v Hz, want the caller's 440", f)
		}
	})
}
