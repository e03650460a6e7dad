package recorder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/media/wav"
)

// Recover finishes the recordings a crash left open: each spool file is
// repaired (valid header, length from the data), moved to the blob store,
// and the recording is marked partial with endReason crash-recovered. A
// recording is never dropped: one whose file is gone is kept, partial and
// empty, with the problem noted. Call it before Start.
func (s *Server) Recover(ctx context.Context) (int, error) {
	open, err := s.store.ListRecordings(ctx, callrec.RecordingQuery{Statuses: []string{callrec.StatusRecording}})
	if err != nil {
		return 0, fmt.Errorf("recorder: list unfinished recordings: %w", err)
	}
	for i := range open {
		r := &open[i]
		log := s.log.With("recording_id", r.ID, "call_id", r.SIPCallID)
		r.Status = callrec.StatusAvailable
		r.Partial = true
		r.EndReason = callrec.EndCrashRecovered
		r.Meta.Problems = append(r.Meta.Problems, "recording was open when the recorder stopped; repaired at start")
		info, rerr := wav.Repair(r.SpoolPath)
		switch {
		case rerr == nil:
			r.DurationMS = info.Frames * 1000 / int64(max(info.Rate, 1))
			r.Stop = r.Start.Add(time.Duration(r.DurationMS) * time.Millisecond)
		case errors.Is(rerr, fs.ErrNotExist):
			r.Stop = r.Start
			r.Meta.Problems = append(r.Meta.Problems, "spool file missing: no audio kept")
		default:
			r.Stop = r.Start
			r.Meta.Problems = append(r.Meta.Problems, "spool file not repairable: "+oneLine(rerr))
		}
		r.Created = s.now().UTC()
		if _, err := os.Stat(r.SpoolPath); err != nil {
			// Nothing to move: keep the row, partial and empty.
			if err := s.store.UpdateRecording(ctx, r); err != nil {
				return i, fmt.Errorf("recorder: recover %s: %w", r.ID, err)
			}
			log.Warn("recovered recording without audio")
			continue
		}
		if err := s.store_(r); err != nil {
			return i, err
		}
		log.Info("recovered recording after crash", "duration_ms", r.DurationMS, "bytes", r.SizeBytes)
	}
	return len(open), nil
}
