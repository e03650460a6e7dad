package retention

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/blob/fs"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// fixture is a real SQLite store and folder blob store with one org.
type fixture struct {
	t     *testing.T
	store *sqlite.Store
	blobs *fs.Store
	org   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, bl := sqlitetest.NewWithBlobs(t)
	org, err := st.EnsureOrg(t.Context(), callrec.DefaultOrgName)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, store: st, blobs: bl, org: org.ID}
}

// recording stores an available recording with audio that started at
// start and expires at expires (zero: never).
func (f *fixture) recording(id string, start, expires time.Time, mods ...func(*callrec.Recording)) {
	f.t.Helper()
	r := &callrec.Recording{ID: id, OrgID: f.org, SIPCallID: "rs-" + id, Status: callrec.StatusAvailable, OwnerType: callrec.OwnerUser,
		OwnerID: "person-1", OwnerEmail: "bob@a.example", Start: start, Stop: start.Add(time.Minute), Created: start.Add(time.Minute),
		Format: "WAV", EndReason: callrec.EndBye, BlobKey: "rec/" + id + ".wav", ExpiresAt: expires}
	for _, m := range mods {
		m(r)
	}
	if err := f.store.CreateRecording(f.t.Context(), r); err != nil {
		f.t.Fatal(err)
	}
	if r.BlobKey != "" && r.Status != callrec.StatusPurged {
		if _, err := f.blobs.Put(f.t.Context(), r.BlobKey, bytes.NewReader([]byte("RIFF"+id))); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) status(id string) string {
	f.t.Helper()
	r, err := f.store.GetRecording(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r.Status
}

func (f *fixture) hasAudio(id string) bool {
	f.t.Helper()
	o, err := f.blobs.Open(f.t.Context(), "rec/"+id+".wav")
	if errors.Is(err, callrec.ErrNotFound) {
		return false
	}
	if err != nil {
		f.t.Fatal(err)
	}
	o.Close()
	return true
}

func (f *fixture) audit() []callrec.AuditEntry {
	f.t.Helper()
	var out []callrec.AuditEntry
	err := f.store.View(f.t.Context(), func(tx directory.Tx) error {
		var err error
		out, err = tx.ListAudit(f.t.Context(), directory.AuditQuery{ObjectType: "recording"})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) worker(cfg Config, blobs Blobs) *Worker {
	f.t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return now }
	}
	if blobs == nil {
		blobs = f.blobs
	}
	w, err := New(cfg, f.store, blobs, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return w
}

func TestR3_PassPurgesWhatIsDue(t *testing.T) {
	f := newFixture(t)
	month := callrec.FreeRetention
	f.recording("go-expired", now.Add(-month-time.Hour), now.Add(-time.Hour))
	f.recording("go-due-now", now.Add(-month), now)
	f.recording("in-bin-expired", now.Add(-40*24*time.Hour), now.Add(-10*24*time.Hour), func(r *callrec.Recording) { r.Status = callrec.StatusDeleted })
	f.recording("go-not-yet", now.Add(-time.Hour), now.Add(month-time.Hour))
	f.recording("paid-unlimited", now.Add(-400*24*time.Hour), time.Time{})
	f.recording("X3-on-hold", now.Add(-month-time.Hour), now.Add(-time.Hour), func(r *callrec.Recording) { r.Hold = true })
	f.recording("audio-already-gone", now.Add(-month-2*time.Hour), now.Add(-2*time.Hour), func(r *callrec.Recording) { r.BlobKey = "rec/missing.wav" })

	n, err := f.worker(Config{}, nil).Pass(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("purged %d, want 4", n)
	}
	cases := []struct {
		id     string
		status string
		audio  bool
	}{
		{"go-expired", callrec.StatusPurged, false},
		{"go-due-now", callrec.StatusPurged, false},
		{"in-bin-expired", callrec.StatusPurged, false},
		{"go-not-yet", callrec.StatusAvailable, true},
		{"paid-unlimited", callrec.StatusAvailable, true},
		{"X3-on-hold", callrec.StatusAvailable, true},
		{"audio-already-gone", callrec.StatusPurged, false},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			if got := f.status(c.id); got != c.status {
				t.Errorf("status = %s, want %s", got, c.status)
			}
			if got := f.hasAudio(c.id); got != c.audio {
				t.Errorf("audio present = %v, want %v", got, c.audio)
			}
		})
	}

	t.Run("X4 every expiry is audited in the recording's org", func(t *testing.T) {
		entries := f.audit()
		if len(entries) != 4 {
			t.Fatalf("%d audit entries, want 4: %+v", len(entries), entries)
		}
		seen := map[string]bool{}
		for _, e := range entries {
			seen[e.ObjectID] = true
			if e.OrgID != f.org || e.Actor != "retention" || e.Action != "expire" || e.ObjectType != "recording" || !e.Time.Equal(now) {
				t.Errorf("entry %+v", e)
			}
			var before, after auditState
			if json.Unmarshal(e.Before, &before) != nil || json.Unmarshal(e.After, &after) != nil {
				t.Fatalf("before %s after %s", e.Before, e.After)
			}
			if before.Status == callrec.StatusPurged || after.Status != callrec.StatusPurged || before.ExpiresAt.After(now) || before.OwnerID != "person-1" {
				t.Errorf("%s: before %+v after %+v", e.ObjectID, before, after)
			}
		}
		for _, id := range []string{"go-expired", "go-due-now", "in-bin-expired", "audio-already-gone"} {
			if !seen[id] {
				t.Errorf("no audit entry for %s", id)
			}
		}
	})
	t.Run("a second pass finds nothing", func(t *testing.T) {
		n, err := f.worker(Config{}, nil).Pass(t.Context())
		if n != 0 || err != nil {
			t.Errorf("second pass = %d, %v", n, err)
		}
		if len(f.audit()) != 4 {
			t.Error("a second pass audited again")
		}
	})
}

func TestR9_PassWorksThroughBatches(t *testing.T) {
	f := newFixture(t)
	for i := range 7 {
		f.recording(fmt.Sprintf("r%d", i), now.Add(-40*24*time.Hour), now.Add(-time.Duration(i+1)*time.Minute))
	}
	n, err := f.worker(Config{Batch: 2}, nil).Pass(t.Context())
	if err != nil || n != 7 {
		t.Fatalf("pass = %d, %v; want 7", n, err)
	}
	for i := range 7 {
		if s := f.status(fmt.Sprintf("r%d", i)); s != callrec.StatusPurged {
			t.Errorf("r%d: %s", i, s)
		}
	}
}

// failingBlobs refuses to delete one key.
type failingBlobs struct {
	Blobs
	key string
}

func (b failingBlobs) Delete(ctx context.Context, key string) error {
	if key == b.key {
		return errors.New("fs: remove: read-only file system")
	}
	return b.Blobs.Delete(ctx, key)
}

func TestPassKeepsTheRowWhenTheAudioCannotBeDeleted(t *testing.T) {
	f := newFixture(t)
	f.recording("stuck", now.Add(-40*24*time.Hour), now.Add(-time.Hour))
	n, err := f.worker(Config{}, failingBlobs{f.blobs, "rec/stuck.wav"}).Pass(t.Context())
	if err == nil || n != 0 {
		t.Fatalf("pass = %d, %v; want an error", n, err)
	}
	if f.status("stuck") != callrec.StatusAvailable || !f.hasAudio("stuck") || len(f.audit()) != 0 {
		t.Error("a failed audio delete changed the recording or audited it")
	}
}

// TestRunPassesAtStartAndEveryInterval runs the worker with a short
// interval and a clock the test moves.
func TestRunPassesAtStartAndEveryInterval(t *testing.T) {
	f := newFixture(t)
	f.recording("first", now.Add(-40*24*time.Hour), now.Add(-time.Hour))
	f.recording("later", now.Add(-29*24*time.Hour), now.Add(24*time.Hour))
	var mu sync.Mutex
	clock := now
	w := f.worker(Config{Interval: 5 * time.Millisecond, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	waitFor := func(id string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for f.status(id) != callrec.StatusPurged {
			if time.Now().After(deadline) {
				t.Fatalf("%s not purged", id)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("first")
	if f.status("later") != callrec.StatusAvailable {
		t.Fatal("purged a recording before its expiry")
	}
	mu.Lock()
	clock = now.Add(25 * time.Hour)
	mu.Unlock()
	waitFor("later")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
}

func TestNewValidates(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name  string
		cfg   Config
		store Store
		blobs Blobs
	}{
		{"no store", Config{}, nil, f.blobs},
		{"no blobs", Config{}, f.store, nil},
		{"negative interval", Config{Interval: -time.Second}, f.store, f.blobs},
		{"negative batch", Config{Batch: -1}, f.store, f.blobs},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(c.cfg, c.store, c.blobs, nil); !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("New = %v, want ErrInvalid", err)
			}
		})
	}
}

// The stores the binary wires in satisfy the interfaces declared here.
var (
	_ Store = (*sqlite.Store)(nil)
	_ Blobs = (*fs.Store)(nil)
)
