package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
	"github.com/callrec/callrec/store/storetest"
	"github.com/google/uuid"
)

func openTemp(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "callrec.db"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return openTemp(t) })
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "callrec.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	applied, err := s.Migrate(ctx)
	if err != nil || len(applied) == 0 {
		t.Fatalf("Migrate = %v, %v; want versions applied", applied, err)
	}
	org, err := s.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		t.Fatalf("EnsureOrg: %v", err)
	}
	rec := &callrec.Recording{
		ID: uuid.NewString(), OrgID: org.ID, Status: callrec.StatusRecording, Topic: "kept",
		Start: time.Date(2025, 3, 10, 9, 0, 0, 123000, time.UTC), SpoolPath: "/spool/x.wav",
	}
	if err := s.CreateRecording(ctx, rec); err != nil {
		t.Fatalf("CreateRecording: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if v, err := s.Version(ctx); err != nil || v != applied[len(applied)-1] {
		t.Errorf("Version after reopen = %d, %v; want %d", v, err, applied[len(applied)-1])
	}
	if again, err := s.Migrate(ctx); err != nil || len(again) != 0 {
		t.Errorf("Migrate after reopen = %v, %v; want nothing applied", again, err)
	}
	o, err := s.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil || *o != *org {
		t.Errorf("EnsureOrg after reopen = %+v, %v; want %+v", o, err, org)
	}
	got, err := s.GetRecording(ctx, rec.ID)
	if err != nil {
		t.Fatalf("GetRecording after reopen: %v", err)
	}
	if got.Topic != "kept" || !got.Start.Equal(rec.Start) || got.SpoolPath != rec.SpoolPath {
		t.Errorf("recording after reopen = %+v, want %+v", got, rec)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		path    string
		wantErr bool
	}{
		{"plain name", filepath.Join(dir, "a.db"), false},
		{"URI characters in the name", filepath.Join(dir, "odd ?#%41&name.db"), false},
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "a.db"), true},
		{"not a database", garbage, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlite.Open(t.Context(), c.path)
			if c.wantErr {
				if err == nil {
					s.Close()
					t.Fatalf("Open(%q) succeeded, want an error", c.path)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", c.path, err)
			}
			defer s.Close()
			if _, err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			// The file is where the caller said, not at a decoded name.
			if _, err := os.Stat(c.path); err != nil {
				t.Errorf("database file: %v", err)
			}
		})
	}
	t.Run("empty path is invalid", func(t *testing.T) {
		if _, err := sqlite.Open(t.Context(), ""); !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("Open(\"\") error = %v, want ErrInvalid", err)
		}
	})
}

func TestWALMode(t *testing.T) {
	s := sqlitetest.New(t)
	mode, err := sqlite.JournalMode(t.Context(), s)
	if err != nil {
		t.Fatalf("journal mode: %v", err)
	}
	if mode != "wal" {
		t.Errorf("journal mode = %q, want wal", mode)
	}
}

// TestListUsesIndexes checks that the list queries the API and the
// recorder run are served by an index in list order, without sorting.
func TestListUsesIndexes(t *testing.T) {
	s := sqlitetest.New(t)
	cursor := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		q     callrec.RecordingQuery
		index string
	}{
		{"every org, first page", callrec.RecordingQuery{Limit: 100}, "recordings_start"},
		{"org, next page", callrec.RecordingQuery{OrgID: "o", BeforeStart: cursor, BeforeID: "x", Limit: 100}, "recordings_org_start"},
		{"org and status", callrec.RecordingQuery{OrgID: "o", Statuses: []string{callrec.StatusAvailable}, Limit: 100}, "recordings_org_status_start"},
		{"recordings still recording", callrec.RecordingQuery{Statuses: []string{callrec.StatusRecording}}, "recordings_status_start"},
		{"owner", callrec.RecordingQuery{OrgID: "o", OwnerID: "u", Limit: 100}, "recordings_owner_start"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan, err := sqlite.ExplainList(t.Context(), s, c.q)
			if err != nil {
				t.Fatalf("explain: %v", err)
			}
			wantIndexedPlan(t, plan, c.index)
		})
	}
}

// wantIndexedPlan checks that a query plan reads index in order: it
// names the index and sorts nothing in a temporary b-tree.
func wantIndexedPlan(t *testing.T, plan, index string) {
	t.Helper()
	if !strings.Contains(plan, "INDEX "+index) {
		t.Errorf("plan does not use %s:\n%s", index, plan)
	}
	if strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("plan sorts in a temporary b-tree:\n%s", plan)
	}
}

func BenchmarkUpdateRecording(b *testing.B) {
	ctx := context.Background()
	s := sqlitetest.New(b)
	org, err := s.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		b.Fatalf("EnsureOrg: %v", err)
	}
	r := &callrec.Recording{
		ID: uuid.NewString(), OrgID: org.ID, Status: callrec.StatusRecording, Start: time.Now(),
		SampleRate: 8000, Channels: 2, Format: "WAV", SpoolPath: "/spool/x.wav",
		Meta: callrec.Metadata{
			Participants: []callrec.Participant{{ID: "p1", AOR: "sip:alice@example.com", Recorded: true}, {ID: "p2", AOR: "sip:bob@example.com"}},
			Streams:      []callrec.Stream{{Label: "1", Channel: 1, Codec: "PCMU/8000"}, {Label: "2", Channel: 2, Codec: "PCMU/8000"}},
		},
	}
	if err := s.CreateRecording(ctx, r); err != nil {
		b.Fatalf("CreateRecording: %v", err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.SizeBytes = int64(i)
		if err := s.UpdateRecording(ctx, r); err != nil {
			b.Fatalf("UpdateRecording: %v", err)
		}
	}
}

// TestControlPlaneQueriesUseIndexes checks that the document lists, the
// audit log's filters and the retention worker's query are served by an
// index in their order, without sorting.
func TestControlPlaneQueriesUseIndexes(t *testing.T) {
	s := sqlitetest.New(t)
	cases := []struct {
		name, query string
		audit       directory.AuditQuery
		index       string
	}{
		{"objects of a kind in every org", "objects", directory.AuditQuery{}, "objects_kind_seq"},
		{"objects of a kind in one org", "org objects", directory.AuditQuery{}, "objects_kind_org_seq"},
		{"expired recordings", "expired", directory.AuditQuery{}, "recordings_expires"},
		{"audit of every org", "audit", directory.AuditQuery{Max: 100}, "audit_time"},
		{"audit of one org", "audit", directory.AuditQuery{OrgID: "o", Start: 100, Max: 100}, "audit_org_time"},
		{"audit of an org in a time range", "audit", directory.AuditQuery{OrgID: "o", From: time.Now().Add(-time.Hour), To: time.Now()}, "audit_org_time"},
		{"audit of one object", "audit", directory.AuditQuery{ObjectType: "person", ObjectID: "p1"}, "audit_object_time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plans, err := sqlite.ExplainControlPlane(t.Context(), s, c.audit)
			if err != nil {
				t.Fatalf("explain: %v", err)
			}
			wantIndexedPlan(t, plans[c.query], c.index)
		})
	}
}

// TestMigrationKeepsOldRows builds a database as the recorder of issue 3
// left it (migration 00001 only, the default org, a token and a
// recording) and checks that migrating gives the org its control-plane
// document with EnsureOrg's defaults and the old rows their new fields'
// zero values.
func TestMigrationKeepsOldRows(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	defer s.Close()
	if err := sqlite.MigrateTo(ctx, s, 1); err != nil {
		t.Fatalf("migrate to 1: %v", err)
	}
	orgID := uuid.NewString()
	created := time.Date(2025, 1, 15, 8, 30, 0, 0, time.UTC)
	start := time.Date(2025, 2, 1, 10, 0, 0, 0, time.UTC)
	for _, stmt := range []struct {
		query string
		args  []any
	}{
		{`INSERT INTO orgs (id, name, created_us) VALUES ($1, $2, $3)`, []any{orgID, callrec.DefaultOrgName, created.UnixMicro()}},
		{`INSERT INTO tokens (id, hash, name, role, org_id, created_us) VALUES ($1, $2, $3, $4, NULL, $5)`,
			[]any{"tok-1", "abc123", "bootstrap partner admin", callrec.RolePartnerAdmin, created.UnixMicro()}},
		{`INSERT INTO recordings (id, org_id, sip_call_id, status, topic, topic_fold, owner_id, owner_type, owner_email,
			start_us, stop_us, created_us, duration_ms, size_bytes, sample_rate, channels, format, partial,
			end_reason, sha256, blob_key, spool_path, meta)
			VALUES ($1, $2, 'call-1', 'available', 'Old call', 'old call', '', 'org', '', $3, NULL, NULL, 1000, 16044, 8000, 2, 'WAV', FALSE,
			'bye', '', 'k', '', '{"participants":null,"streams":null,"channels":null,"pauseIntervals":null,"dtmf":null,"vendor":{}}')`,
			[]any{"rec-1", orgID, start.UnixMicro()}},
	} {
		if err := sqlite.Exec(ctx, s, stmt.query, stmt.args...); err != nil {
			t.Fatalf("seed %q: %v", stmt.query, err)
		}
	}
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if len(applied) != 1 || applied[0] != 2 {
		t.Errorf("Migrate applied %v, want [2]", applied)
	}
	want := callrec.Org{ID: orgID, Name: callrec.DefaultOrgName, Created: created, PartnerID: callrec.RootPartner,
		Region: "US", Language: callrec.DefaultLanguage, Recording: callrec.DefaultOrgRecording()}
	var doc *callrec.Org
	err = s.View(ctx, func(tx directory.Tx) error {
		var err error
		doc, err = directory.Orgs.Get(ctx, tx, orgID, orgID)
		return err
	})
	if err != nil {
		t.Fatalf("directory.Orgs.Get of the old default org: %v", err)
	}
	if !doc.Created.Equal(created) {
		t.Errorf("org document created = %v, want the row's %v", doc.Created, created)
	}
	doc.Created = created
	if *doc != want {
		t.Errorf("org document = %+v, want %+v", *doc, want)
	}
	if o, err := s.EnsureOrg(ctx, callrec.DefaultOrgName); err != nil || o.ID != orgID {
		t.Errorf("EnsureOrg(default) after migrating = %+v, %v; want %s", o, err, orgID)
	}
	tok, err := s.TokenByHash(ctx, "abc123")
	if err != nil {
		t.Fatalf("TokenByHash of the old token: %v", err)
	}
	// The bootstrap partner admin of issue 3 becomes the root partner's,
	// so it still manages every org.
	if tok.ID != "tok-1" || tok.PartnerID != callrec.RootPartner || tok.PersonID != "" || tok.Email != "" || tok.LocationIDs != nil || !tok.Expires.IsZero() {
		t.Errorf("old token after migrating = %+v, want partner %q and the other new fields empty", tok, callrec.RootPartner)
	}
	rec, err := s.GetRecording(ctx, "rec-1")
	if err != nil {
		t.Fatalf("GetRecording of the old recording: %v", err)
	}
	if rec.LocationID != "" || !rec.ExpiresAt.IsZero() || rec.Hold || rec.Topic != "Old call" || !rec.Start.Equal(start) {
		t.Errorf("old recording after migrating = %+v, want its new fields empty", rec)
	}
	// Migrating again changes nothing and keeps the document.
	if again, err := s.Migrate(ctx); err != nil || len(again) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing applied", again, err)
	}
}
