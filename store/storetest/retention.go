package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/google/uuid"
)

func setRetention(t *testing.T, s Store, owner string, unlimited bool, now time.Time) (int, error) {
	t.Helper()
	var n int
	err := s.Update(t.Context(), func(tx directory.Tx) error {
		var err error
		n, err = tx.SetRetention(t.Context(), owner, unlimited, now)
		return err
	})
	return n, err
}

// testSetRetention checks R9 (and X3: hold stops every change): an
// upgrade to a paid plan clears the expiry of the owner's recordings; a
// downgrade keeps each 30 days from its start, as on the free plan, and
// a recording already older than that 30 days from the downgrade, so none
// is deleted at once.
func testSetRetention(t *testing.T, s Store) {
	org := mustOrg(t, s, callrec.DefaultOrgName)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	heldExpiry := now.Add(-day)
	type rec struct {
		n       int
		owner   string
		start   time.Time
		status  string
		hold    bool
		expires time.Time
	}
	recs := []rec{
		{1, "alice", now.Add(-90 * day), callrec.StatusAvailable, false, time.Time{}},     // older than 30 days, unlimited
		{2, "alice", now.Add(-time.Hour), callrec.StatusAvailable, false, time.Time{}},    // fresh
		{3, "alice", now.Add(2 * time.Hour), callrec.StatusRecording, false, time.Time{}}, // starts after now (clock of another node)
		{4, "alice", now.Add(-40 * day), callrec.StatusAvailable, true, time.Time{}},      // on hold, unlimited
		{5, "alice", now.Add(-40 * day), callrec.StatusAvailable, true, heldExpiry},       // on hold, with an expiry
		{6, "alice", now.Add(-60 * day), callrec.StatusPurged, false, time.Time{}},        // purged: nothing left
		{7, "bob", now.Add(-90 * day), callrec.StatusAvailable, false, time.Time{}},       // another owner
		{8, "alice", now.Add(-10 * day), callrec.StatusDeleted, false, time.Time{}},       // in the trash
	}
	for _, r := range recs {
		full := fullRecording(recID(r.n), org.ID, r.start)
		full.OwnerID, full.Status, full.Hold, full.ExpiresAt = r.owner, r.status, r.hold, r.expires
		mustCreate(t, s, full)
	}
	check := func(t *testing.T, want map[int]time.Time) {
		t.Helper()
		for _, r := range recs {
			got := mustGet(t, s, recID(r.n)).ExpiresAt
			if w := want[r.n]; !got.Equal(w) {
				t.Errorf("recording %d (%s, start %v, hold %v, %s): expires %v, want %v", r.n, r.owner, r.start, r.hold, r.status, got, w)
			}
		}
	}
	month := callrec.FreeRetention
	downgraded := map[int]time.Time{
		1: now.Add(month),           // older than 30 days: 30 days from the downgrade
		2: recs[1].start.Add(month), // fresh: 30 days from its start, as on go
		3: recs[2].start.Add(month), // started after now: 30 days from its start
		5: heldExpiry,               // hold: untouched (X3)
		8: recs[7].start.Add(month), // soft-deleted recordings expire too (10 days old: 20 days left)
	}
	t.Run("downgrade keeps 30 days from start, or from now when older", func(t *testing.T) {
		n, err := setRetention(t, s, "alice", false, now)
		if err != nil {
			t.Fatalf("SetRetention: %v", err)
		}
		if n != 4 {
			t.Errorf("SetRetention changed %d recordings, want 4 (1, 2, 3 and 8)", n)
		}
		check(t, downgraded)
	})
	t.Run("a second downgrade at the same time changes nothing", func(t *testing.T) {
		n, err := setRetention(t, s, "alice", false, now)
		if err != nil || n != 0 {
			t.Errorf("SetRetention = %d, %v; want 0", n, err)
		}
		check(t, downgraded)
	})
	t.Run("a later downgrade moves only the recordings older than 30 days", func(t *testing.T) {
		later := now.Add(3 * day)
		n, err := setRetention(t, s, "alice", false, later)
		if err != nil || n != 1 {
			t.Errorf("SetRetention = %d, %v; want 1", n, err)
		}
		want := map[int]time.Time{1: later.Add(month), 2: downgraded[2], 3: downgraded[3], 5: heldExpiry, 8: downgraded[8]}
		check(t, want)
	})
	t.Run("upgrade clears the expiry except on hold", func(t *testing.T) {
		n, err := setRetention(t, s, "alice", true, now)
		if err != nil {
			t.Fatalf("SetRetention: %v", err)
		}
		if n != 4 {
			t.Errorf("SetRetention changed %d recordings, want 4", n)
		}
		check(t, map[int]time.Time{5: heldExpiry})
		if n, err := setRetention(t, s, "alice", true, now); err != nil || n != 0 {
			t.Errorf("second upgrade = %d, %v; want 0", n, err)
		}
	})
	t.Run("unknown owner changes nothing", func(t *testing.T) {
		if n, err := setRetention(t, s, uuid.NewString(), false, now); err != nil || n != 0 {
			t.Errorf("SetRetention(unknown) = %d, %v; want 0", n, err)
		}
	})
	t.Run("empty owner is invalid", func(t *testing.T) {
		if _, err := setRetention(t, s, "", false, now); !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("SetRetention(\"\") error = %v, want ErrInvalid (it would touch every unowned recording)", err)
		}
	})
}

func testExpiredRecordings(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	type rec struct {
		n       int
		expires time.Time
		status  string
		hold    bool
	}
	recs := []rec{
		{1, now.Add(-2 * day), callrec.StatusAvailable, false},
		{2, now.Add(-day), callrec.StatusDeleted, false},
		{3, now, callrec.StatusAvailable, false}, // due at the instant
		{4, now.Add(time.Microsecond), callrec.StatusAvailable, false},
		{5, time.Time{}, callrec.StatusAvailable, false}, // kept without limit
		{6, now.Add(-3 * day), callrec.StatusAvailable, true},
		{7, now.Add(-5 * day), callrec.StatusPurged, false},
		{8, now.Add(-day), callrec.StatusAvailable, false}, // same expiry as 2: by id
	}
	for _, r := range recs {
		full := fullRecording(recID(r.n), org.ID, now.Add(-40*day))
		full.ExpiresAt, full.Status, full.Hold = r.expires, r.status, r.hold
		mustCreate(t, s, full)
	}
	cases := []struct {
		name  string
		now   time.Time
		limit int
		want  []int
	}{
		{"every due recording, soonest first", now, 0, []int{1, 2, 8, 3}},
		{"limit", now, 2, []int{1, 2}},
		{"limit above count", now, 10, []int{1, 2, 8, 3}},
		{"earlier", now.Add(-day - time.Microsecond), 0, []int{1}},
		{"nothing due yet", now.Add(-10 * day), 0, []int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ExpiredRecordings(ctx, c.now, c.limit)
			if err != nil {
				t.Fatalf("ExpiredRecordings: %v", err)
			}
			want := make([]string, len(c.want))
			for i, n := range c.want {
				want[i] = recID(n)
			}
			if !slices.Equal(ids(got), want) {
				t.Errorf("ExpiredRecordings(%v, %d) = %v, want %v", c.now, c.limit, ids(got), want)
			}
		})
	}
	t.Run("rows are complete", func(t *testing.T) {
		got, err := s.ExpiredRecordings(ctx, now, 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("ExpiredRecordings = %d rows, %v; want 1", len(got), err)
		}
		checkRecording(t, &got[0], mustGet(t, s, recID(1)))
	})
	t.Run("negative limit", func(t *testing.T) {
		if _, err := s.ExpiredRecordings(ctx, now, -1); !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("ExpiredRecordings(limit -1) error = %v, want ErrInvalid", err)
		}
	})
}

func testSetRecordingOwner(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	start := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	want := fullRecording(recID(1), org.ID, start)
	mustCreate(t, s, want)
	other := fullRecording(recID(2), org.ID, start)
	mustCreate(t, s, other)

	expires := start.Add(callrec.FreeRetention)
	if err := s.SetRecordingOwner(ctx, want.ID, callrec.OwnerVirtualLine, "vl-1", "", "loc-2", expires); err != nil {
		t.Fatalf("SetRecordingOwner: %v", err)
	}
	want.OwnerType, want.OwnerID, want.OwnerEmail, want.LocationID, want.ExpiresAt = callrec.OwnerVirtualLine, "vl-1", "", "loc-2", expires
	checkRecording(t, mustGet(t, s, want.ID), want) // Hold and everything else kept
	checkRecording(t, mustGet(t, s, other.ID), other)

	if err := s.SetRecordingOwner(ctx, want.ID, callrec.OwnerUser, "p-1", "alice@example.com", "loc-1", time.Time{}); err != nil {
		t.Fatalf("SetRecordingOwner without expiry: %v", err)
	}
	want.OwnerType, want.OwnerID, want.OwnerEmail, want.LocationID, want.ExpiresAt = callrec.OwnerUser, "p-1", "alice@example.com", "loc-1", time.Time{}
	checkRecording(t, mustGet(t, s, want.ID), want)

	if err := s.SetRecordingOwner(ctx, uuid.NewString(), callrec.OwnerUser, "p-1", "", "", time.Time{}); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("SetRecordingOwner(unknown) error = %v, want ErrNotFound", err)
	}
	if err := s.SetRecordingOwner(ctx, want.ID, callrec.OwnerUser, "p\x00", "", "", time.Time{}); !errors.Is(err, callrec.ErrInvalid) {
		t.Errorf("SetRecordingOwner with a NUL in the owner id error = %v, want ErrInvalid", err)
	}
	checkRecording(t, mustGet(t, s, want.ID), want)
}
