package callpath

import (
	"bytes"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/audiofile"
	"github.com/callrec/callrec/blob/fs"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media/tone"
	"github.com/callrec/callrec/policy"
)

// customFile is the id of the org's uploaded compliance announcement.
const customFile = "6a70ed81-adc9-489a-88c8-31b789e84585"

// heardBefore classifies the 20 ms windows p heard before t: how many
// are dominated by the 1 kHz tone of the custom file, and how many are
// other sound (speech: the default prompt).
func (p *rtpPeer) heardBefore(t time.Time) (kHz, other int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; i+160 <= len(p.heard) && i/160 < len(p.at); i += 160 {
		if !p.at[i/160].Before(t) {
			break
		}
		w := p.heard[i : i+160]
		if tone.RMS(w) < 0.01 {
			continue
		}
		if f, ratio := tone.Dominant(w, 8000, []float64{440, 660, 1000}); f == 1000 && ratio > 20 {
			kHz++
		} else {
			other++
		}
	}
	return kHz, other
}

// promptLeak returns the first 20 ms window of a recording channel where
// the custom file's 1 kHz tone dominates, or -1.
func promptLeak(pcm []int16) int {
	for i := 0; i+160 <= len(pcm); i += 160 {
		w := pcm[i : i+160]
		if tone.RMS(w) < 0.01 {
			continue
		}
		if f, ratio := tone.Dominant(w, 8000, []float64{440, 660, 1000}); f == 1000 && ratio > 20 {
			return i / 160
		}
	}
	return -1
}

// TestR17_R22_CustomComplianceAnnouncement: the org plays its own
// uploaded compliance announcement (issue 5 point 4), a 1.5 s 1 kHz WAV
// at 16 kHz. An inbound PSTN caller (440 Hz) hears that file before the
// answer instead of the default spoken prompt; when the file cannot be
// read the default prompt plays instead. Bob (660 Hz, recorded always)
// then talks with the caller, and the recording holds neither the file
// nor the prompt (R22).
func TestR17_R22_CustomComplianceAnnouncement(t *testing.T) {
	t.Parallel()
	wav16k := make([]int16, 24000)
	var ph float64
	tone.Sine(wav16k, 16000, 1000, 0.5, &ph)
	data, err := audiofile.EncodeWAV(wav16k, 16000)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		blob      bool // the file's audio is in the blob store
		wantFile  bool // the caller hears the file (else the default prompt)
		minWindow int
	}{
		{"custom file plays", true, true, 60},
		{"unreadable file falls back to the default prompt", false, false, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			blobs, err := fs.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if tc.blob {
				if _, err := blobs.Put(t.Context(), "announcements/acme/custom.wav", bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
			}
			r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways,
				org: func(o *callrec.OrgRecording) {
					o.Compliance = callrec.ComplianceAnnouncement{Inbound: true, UseCustom: true, CustomFileID: customFile}
				},
				server: func(s *Server) { s.deps.Files = audiofile.NewFiles(s.deps.Store, blobs) }})
			if err := r.store.Update(t.Context(), func(tx directory.Tx) error {
				return directory.AnnouncementFiles.Put(t.Context(), tx, &callrec.AnnouncementFile{ID: customFile, OrgID: r.org.ID,
					Name: "Our recording notice", BlobKey: "announcements/acme/custom.wav", Size: int64(len(data))})
			}); err != nil {
				t.Fatal(err)
			}
			bobRTP, gwRTP := newRTPPeer(t, 660), newRTPPeer(t, 440)
			r.bobAnswers(t, bobRTP, 0)
			dc, answeredAt := r.dialFromPSTN(t, "+4535351002", gwRTP)
			kHz, other := gwRTP.heardBefore(answeredAt)
			if tc.wantFile {
				// 1.5 s = 75 windows; the first and last may be partial.
				if kHz < tc.minWindow || kHz > 76 || other > 3 {
					t.Errorf("before answer the caller heard %d windows of 1 kHz and %d of other sound; want the 1.5 s custom file only", kHz, other)
				}
			} else if kHz > 5 || other < tc.minWindow { // a vowel may peak near 1 kHz for a window or two
				t.Errorf("before answer the caller heard %d windows of 1 kHz and %d of other sound; want the default spoken prompt", kHz, other)
			}
			gwRTP.heardFor(t, 1500*time.Millisecond)
			if f, _ := gwRTP.heardTone(candidates); f != 660 {
				t.Errorf("caller hears %v Hz after answer, want Bob's 660", f)
			}
			recs, audio := r.finish(t, dc)
			if len(recs) != 1 || recs[0].OwnerID != personBob {
				t.Fatalf("recordings %v, want one of Bob", recs)
			}
			for ch := range audio[0] {
				if at := promptLeak(audio[0][ch]); at >= 0 {
					t.Errorf("recording channel %d has the announcement's 1 kHz at %d ms (R22)", ch+1, at*20)
				}
				if len(audio[0][ch]) < 8000 {
					t.Errorf("recording channel %d has %d samples, want the conversation", ch+1, len(audio[0][ch]))
				}
			}
		})
	}
}

// TestFileKind: only an announcement naming a file marks the kind.
func TestFileKind(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    *policy.Announcement
		want string
	}{
		{"no announcement", nil, "start"},
		{"default prompt", &policy.Announcement{Kind: "start"}, "start"},
		{"custom file", &policy.Announcement{Kind: "start", FileID: "f1"}, "start" + fileSep + "f1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fileKind("start", tc.a); got != tc.want {
				t.Errorf("fileKind = %q, want %q", got, tc.want)
			}
		})
	}
}
