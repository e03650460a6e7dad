// Package storetest is the conformance suite every callrec state store
// passes (sqlite now, postgres later): call Run from the implementation's
// tests. It declares the Store interface it tests; the planes declare their
// own, smaller interfaces.
//
// This package is for tests only: production code must never import it,
// and it must never depend on a concrete store.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/google/uuid"
)

// Store is the state store the suite tests.
type Store interface {
	// Migrate applies pending schema migrations and returns the versions applied.
	Migrate(ctx context.Context) ([]int64, error)
	// Version returns the current schema version (0 before any migration).
	Version(ctx context.Context) (int64, error)
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error

	// EnsureOrg returns the org named name, creating it when missing.
	EnsureOrg(ctx context.Context, name string) (*callrec.Org, error)
	// OrgByID returns an org, or callrec.ErrNotFound.
	OrgByID(ctx context.Context, id string) (*callrec.Org, error)

	// CreateToken stores a token, filling an empty ID and a zero Created.
	CreateToken(ctx context.Context, t *callrec.Token) error
	// TokenByHash returns a token by its hash, or callrec.ErrNotFound.
	TokenByHash(ctx context.Context, hash string) (*callrec.Token, error)
	// CountTokensByRole counts the tokens holding role.
	CountTokensByRole(ctx context.Context, role string) (int, error)
	// ListTokens returns the tokens of an org and/or a partner ("" = any), oldest first.
	ListTokens(ctx context.Context, orgID, partnerID string) ([]callrec.Token, error)
	// DeleteToken revokes a token (callrec.ErrNotFound if absent).
	DeleteToken(ctx context.Context, id string) error
	// DeleteTokensOfPerson revokes every token of a person and returns how many.
	DeleteTokensOfPerson(ctx context.Context, personID string) (int, error)

	// CreateRecording stores a new recording (callrec.ErrConflict on a duplicate ID).
	CreateRecording(ctx context.Context, r *callrec.Recording) error
	// UpdateRecording replaces every field but the ID (callrec.ErrNotFound if absent).
	UpdateRecording(ctx context.Context, r *callrec.Recording) error
	// GetRecording returns a recording, or callrec.ErrNotFound.
	GetRecording(ctx context.Context, id string) (*callrec.Recording, error)
	// ListRecordings returns the selected recordings, newest Start first, then ID descending.
	ListRecordings(ctx context.Context, q callrec.RecordingQuery) ([]callrec.Recording, error)
	// DeleteRecording removes a recording (callrec.ErrNotFound if absent).
	DeleteRecording(ctx context.Context, id string) error
	// ExpiredRecordings returns up to limit recordings due for deletion at
	// now: expired, not on hold, not purged; soonest expiry first.
	ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]callrec.Recording, error)
	// SetRecordingOwner sets a recording's owner, location and expiry.
	SetRecordingOwner(ctx context.Context, id, ownerType, ownerID, ownerEmail, locationID string, expiresAt time.Time) error

	// View and Update run the control plane's document transactions.
	directory.Store
}

// Run runs the suite. open must return a new, empty store that has not been
// migrated; each subtest opens its own and Run closes it when the subtest
// ends.
func Run(t *testing.T, open func(t *testing.T) Store) {
	fresh := func(t *testing.T) Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	migrated := func(t *testing.T) Store {
		t.Helper()
		s := fresh(t)
		if _, err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		return s
	}
	t.Run("MigrateTwiceIsNoOp", func(t *testing.T) { testMigrate(t, fresh(t)) })
	t.Run("EnsureOrgIsIdempotent", func(t *testing.T) { testOrgs(t, migrated(t)) })
	t.Run("TokenRoundTrip", func(t *testing.T) { testTokens(t, migrated(t)) })
	t.Run("RecordingRoundTrip", func(t *testing.T) { testRecordingRoundTrip(t, migrated(t)) })
	t.Run("RecordingTimes", func(t *testing.T) { testRecordingTimes(t, migrated(t)) })
	t.Run("RecordingInvalid", func(t *testing.T) { testRecordingInvalid(t, migrated(t)) })
	t.Run("UpdateRecording", func(t *testing.T) { testUpdate(t, migrated(t)) })
	t.Run("ListFilters", func(t *testing.T) { testListFilters(t, migrated(t)) })
	t.Run("ListPagination", func(t *testing.T) { testPagination(t, migrated(t)) })
	t.Run("DeleteRecording", func(t *testing.T) { testDelete(t, migrated(t)) })
	t.Run("ConcurrentWrites", func(t *testing.T) { testConcurrentWrites(t, migrated(t)) })

	t.Run("TokenFieldsRoundTrip", func(t *testing.T) { testTokenFields(t, migrated(t)) })
	t.Run("ExpiredTokenIsNotFound", func(t *testing.T) { testTokenExpiry(t, migrated(t)) })
	t.Run("ListTokensFilters", func(t *testing.T) { testListTokens(t, migrated(t)) })
	t.Run("DeleteTokens", func(t *testing.T) { testDeleteTokens(t, migrated(t)) })

	t.Run("TxPutGetReplace", func(t *testing.T) { testTxPutGet(t, migrated(t)) })
	t.Run("TxPutInvalid", func(t *testing.T) { testTxPutInvalid(t, migrated(t)) })
	t.Run("TxListInFirstStoredOrder", func(t *testing.T) { testTxListOrder(t, migrated(t)) })
	t.Run("TxLookupByKey", func(t *testing.T) { testTxLookup(t, migrated(t)) })
	t.Run("TxKeyConflictsAcrossKindsAndOrgs", func(t *testing.T) { testTxKeyConflicts(t, migrated(t)) })
	t.Run("TxRePutReplacesKeys", func(t *testing.T) { testTxKeyReplacement(t, migrated(t)) })
	t.Run("TxDeleteFreesKeys", func(t *testing.T) { testTxDelete(t, migrated(t)) })
	t.Run("TxOrgPutKeepsOrgRegistry", func(t *testing.T) { testTxOrgRegistry(t, migrated(t)) })
	t.Run("TxOrgDeleteRefusedWhileInUse", func(t *testing.T) { testTxOrgDelete(t, migrated(t)) })
	t.Run("EnsureOrgWritesDefaultDocument", func(t *testing.T) { testEnsureOrgDocument(t, migrated(t)) })
	t.Run("UpdateRollsBackOnError", func(t *testing.T) { testRollbackOnError(t, migrated(t)) })
	t.Run("UpdateRollsBackOnPanic", func(t *testing.T) { testRollbackOnPanic(t, migrated(t)) })
	t.Run("ViewIsReadOnly", func(t *testing.T) { testViewReadOnly(t, migrated(t)) })
	t.Run("ViewSeesOneSnapshot", func(t *testing.T) { testViewSnapshot(t, migrated(t)) })
	t.Run("ConcurrentUpdatesSerialise", func(t *testing.T) { testConcurrentUpdates(t, migrated(t)) })

	t.Run("AuditAppendFillsIDAndTime", func(t *testing.T) { testAuditAppend(t, migrated(t)) })
	t.Run("AuditListFiltersAndPages", func(t *testing.T) { testAuditList(t, migrated(t)) })

	t.Run("R9_SetRetention", func(t *testing.T) { testSetRetention(t, migrated(t)) })
	t.Run("ExpiredRecordings", func(t *testing.T) { testExpiredRecordings(t, migrated(t)) })
	t.Run("SetRecordingOwner", func(t *testing.T) { testSetRecordingOwner(t, migrated(t)) })
}

func testMigrate(t *testing.T, s Store) {
	ctx := t.Context()
	v, err := s.Version(ctx)
	if err != nil {
		t.Fatalf("Version before migrating: %v", err)
	}
	if v != 0 {
		t.Fatalf("Version before migrating = %d, want 0", v)
	}
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if len(applied) == 0 {
		t.Fatal("first Migrate applied nothing")
	}
	for i, a := range applied {
		if a <= 0 || (i > 0 && a <= applied[i-1]) {
			t.Fatalf("applied versions %v are not positive and ascending", applied)
		}
	}
	if v, err = s.Version(ctx); err != nil || v != applied[len(applied)-1] {
		t.Fatalf("Version after migrating = %d, %v; want %d", v, err, applied[len(applied)-1])
	}
	again, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if len(again) != 0 {
		t.Fatalf("second Migrate applied %v, want nothing", again)
	}
	if v2, err := s.Version(ctx); err != nil || v2 != v {
		t.Fatalf("Version after second Migrate = %d, %v; want %d", v2, err, v)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testOrgs(t *testing.T, s Store) {
	ctx := t.Context()
	before := time.Now()
	o1, err := s.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		t.Fatalf("EnsureOrg: %v", err)
	}
	if _, err := uuid.Parse(o1.ID); err != nil {
		t.Errorf("org id %q is not a UUID: %v", o1.ID, err)
	}
	if o1.Name != callrec.DefaultOrgName {
		t.Errorf("org name = %q, want %q", o1.Name, callrec.DefaultOrgName)
	}
	if o1.Created.Location() != time.UTC || o1.Created.Before(before.Add(-time.Second)) || o1.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("org created = %v, want about now, UTC", o1.Created)
	}
	o2, err := s.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		t.Fatalf("second EnsureOrg: %v", err)
	}
	if *o2 != *o1 {
		t.Errorf("second EnsureOrg = %+v, want the first %+v", *o2, *o1)
	}
	got, err := s.OrgByID(ctx, o1.ID)
	if err != nil {
		t.Fatalf("OrgByID: %v", err)
	}
	if *got != *o1 {
		t.Errorf("OrgByID = %+v, want %+v", *got, *o1)
	}
	other, err := s.EnsureOrg(ctx, "other")
	if err != nil {
		t.Fatalf("EnsureOrg other: %v", err)
	}
	if other.ID == o1.ID || other.Name != "other" {
		t.Errorf("EnsureOrg(other) = %+v, want a new org named other", *other)
	}
	if _, err := s.OrgByID(ctx, uuid.NewString()); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("OrgByID(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.EnsureOrg(ctx, ""); !errors.Is(err, callrec.ErrInvalid) {
		t.Errorf("EnsureOrg(\"\") error = %v, want ErrInvalid", err)
	}

	// Racing first starts agree on one org.
	const n = 8
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			o, err := s.EnsureOrg(ctx, "raced")
			errs[i] = err
			if err == nil {
				ids[i] = o.ID
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("concurrent EnsureOrg: %v", errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("concurrent EnsureOrg returned ids %v, want one id", ids)
		}
	}
}

func hashOf(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func testTokens(t *testing.T, s Store) {
	ctx := t.Context()
	org, err := s.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		t.Fatalf("EnsureOrg: %v", err)
	}
	admin := &callrec.Token{Hash: hashOf("admin secret"), Name: "bootstrap", Role: callrec.RolePartnerAdmin}
	if err := s.CreateToken(ctx, admin); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if _, err := uuid.Parse(admin.ID); err != nil {
		t.Errorf("filled token id %q is not a UUID: %v", admin.ID, err)
	}
	if admin.Created.IsZero() {
		t.Error("CreateToken left Created zero")
	}
	officer := &callrec.Token{
		ID:      uuid.NewString(),
		Hash:    hashOf("officer secret"),
		Name:    "compliance",
		Role:    callrec.RoleComplianceOfficer,
		OrgID:   org.ID,
		Created: time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC),
	}
	wantOfficer := *officer
	if err := s.CreateToken(ctx, officer); err != nil {
		t.Fatalf("CreateToken with id and org: %v", err)
	}
	if !reflect.DeepEqual(*officer, wantOfficer) {
		t.Errorf("CreateToken changed a token with ID and Created set: %+v, want %+v", *officer, wantOfficer)
	}
	for _, want := range []*callrec.Token{admin, officer} {
		got, err := s.TokenByHash(ctx, want.Hash)
		if err != nil {
			t.Fatalf("TokenByHash(%s): %v", want.Name, err)
		}
		if got.Created.Location() != time.UTC || !got.Created.Equal(want.Created) {
			t.Errorf("token %s created = %v, want %v in UTC", want.Name, got.Created, want.Created)
		}
		checkToken(t, got, want)
	}
	if _, err := s.TokenByHash(ctx, hashOf("never issued")); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("TokenByHash(unknown) error = %v, want ErrNotFound", err)
	}
	dup := &callrec.Token{Hash: admin.Hash, Name: "copy", Role: callrec.RolePartnerAdmin}
	if err := s.CreateToken(ctx, dup); !errors.Is(err, callrec.ErrConflict) {
		t.Errorf("CreateToken with a stored hash error = %v, want ErrConflict", err)
	}
	orphan := &callrec.Token{Hash: hashOf("orphan"), Role: callrec.RoleComplianceOfficer, OrgID: uuid.NewString()}
	if err := s.CreateToken(ctx, orphan); !errors.Is(err, callrec.ErrInvalid) {
		t.Errorf("CreateToken with an unknown org error = %v, want ErrInvalid", err)
	}
	if err := s.CreateToken(ctx, &callrec.Token{Role: callrec.RolePartnerAdmin}); !errors.Is(err, callrec.ErrInvalid) {
		t.Errorf("CreateToken without hash error = %v, want ErrInvalid", err)
	}
	second := &callrec.Token{Hash: hashOf("second admin"), Name: "ops", Role: callrec.RolePartnerAdmin}
	if err := s.CreateToken(ctx, second); err != nil {
		t.Fatalf("CreateToken second admin: %v", err)
	}
	for role, want := range map[string]int{callrec.RolePartnerAdmin: 2, callrec.RoleComplianceOfficer: 1, "nobody": 0} {
		n, err := s.CountTokensByRole(ctx, role)
		if err != nil {
			t.Fatalf("CountTokensByRole(%s): %v", role, err)
		}
		if n != want {
			t.Errorf("CountTokensByRole(%s) = %d, want %d", role, n, want)
		}
	}
}

// recID returns a fixed UUID whose order follows n.
func recID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// fullRecording returns a recording with every field and every part of
// its metadata set.
func fullRecording(id, orgID string, start time.Time) *callrec.Recording {
	return &callrec.Recording{
		ID:         id,
		OrgID:      orgID,
		SIPCallID:  "a84b4c76e66710@198.51.100.7",
		Status:     callrec.StatusAvailable,
		Topic:      "Call between +14155550100 and 1001",
		OwnerID:    "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8x",
		OwnerType:  callrec.OwnerUser,
		OwnerEmail: "alice@example.com",
		Start:      start,
		Stop:       start.Add(95*time.Second + 250*time.Millisecond),
		Created:    start.Add(96*time.Second + 1500*time.Microsecond),
		DurationMS: 95250,
		SizeBytes:  3048044,
		SampleRate: 8000,
		Channels:   2,
		Format:     "WAV",
		Partial:    true,
		EndReason:  callrec.EndBye,
		SHA256:     hashOf("audio"),
		BlobKey:    orgID + "/2025/03/10/" + id + ".wav",
		SpoolPath:  "/var/lib/callrec/spool/" + id + ".wav",
		LocationID: "Y2lzY29zcGFyazovL3VzL0xPQ0FUSU9OLzE",
		ExpiresAt:  start.Add(callrec.FreeRetention + 123456*time.Microsecond),
		Hold:       true,
		Meta: callrec.Metadata{
			SessionIDs:    []string{"hVpd7YQgRW2nD22h7q60JQ=="},
			SIPSessionIDs: []string{"ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2"},
			GroupID:       "7+OTCyoxTmqmqyA/1weDAg==",
			Participants: []callrec.Participant{
				{ID: "srfBElmCRp2QB23b7Mpk0w==", Name: "Alice", AOR: "sip:alice@example.com", AORs: []string{"sip:alice@example.com", "tel:+14155550100"}, Sends: []string{"i1"}, Receives: []string{"i2"}, Recorded: true},
				{ID: "zSfPoSvdSDCmU3A3TRDxAw==", AOR: "sip:+442071838750@carrier.example", Sends: []string{"i2"}, Receives: []string{"i1"}},
			},
			Streams: []callrec.Stream{
				{ID: "i1", Label: "1", MLineIndex: 0, ParticipantID: "srfBElmCRp2QB23b7Mpk0w==", Codec: "PCMU/8000", Mode: "separate", Channel: 1,
					Stats: callrec.StreamStats{Received: 4762, Lost: 3, Duplicated: 1, Late: 2, Dropped: 4, Gaps: 1, GapMS: 60, SSRCChanges: 1, TimestampJumps: 1}},
				{ID: "i2", Label: "2", MLineIndex: 1, ParticipantID: "zSfPoSvdSDCmU3A3TRDxAw==", Codec: "G722/8000", Channel: 2,
					Stats: callrec.StreamStats{Received: 4765}},
			},
			Channels: []callrec.Channel{
				{Index: 1, Role: "recorded", ParticipantIDs: []string{"srfBElmCRp2QB23b7Mpk0w=="}, StreamLabels: []string{"1"}},
				{Index: 2, Role: "other", ParticipantIDs: []string{"zSfPoSvdSDCmU3A3TRDxAw=="}, StreamLabels: []string{"2"}},
			},
			PauseIntervals: []callrec.Interval{
				{Start: start.Add(10 * time.Second), End: start.Add(20*time.Second + 123456789)},
				{Start: start.Add(90 * time.Second)}, // still open when the call ended
			},
			DTMF: []callrec.DTMFEvent{{Digit: "5", Time: start.Add(30 * time.Second), OffsetMS: 30000, DurationMS: 120, StreamLabel: "1"}},
			Vendor: callrec.VendorData{
				Vendor: "broadworks", ServiceProviderID: "sp1", GroupID: "grp1", UserID: "alice@example.com",
				ExtTrackingID: "1234:1", CallID: "callhalf-5678:0", Direction: "originating",
				CallingNumber: "+14155550100", CalledNumber: "+442071838750", DialedDigits: "00442071838750",
				RecordingType: "Always", UCID: "00001002161234567890", CiscoGUID: "AB12CD34-0000-0000-0000-000000000000",
				RecordedParty: "sip:alice@example.com",
			},
			RawMetadata: []callrec.RawMetadata{{Received: start, ContentType: "application/rs-metadata+xml",
				Body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>complete</datamode></recording>\n"}},
			Events:     []callrec.SessionEvent{{Time: start, Kind: "invite"}, {Time: start.Add(10 * time.Second), Kind: "pause", Detail: "a=inactive"}},
			Problems:   []string{"participant without AOR"},
			SourceAddr: "198.51.100.7:5061",
			UserAgent:  "BroadWorks",
			Extra:      map[string]string{"x-custom": "1"},
		},
	}
}

// checkRecording reports how got differs from want: times must be UTC and
// equal, every other field deeply equal.
func checkRecording(t *testing.T, got, want *callrec.Recording) {
	t.Helper()
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"Start", got.Start, want.Start}, {"Stop", got.Stop, want.Stop}, {"Created", got.Created, want.Created}, {"ExpiresAt", got.ExpiresAt, want.ExpiresAt}} {
		if tm.got.Location() != time.UTC {
			t.Errorf("recording %s: %s location = %v, want UTC", want.ID, tm.name, tm.got.Location())
		}
		if !tm.got.Equal(tm.want) {
			t.Errorf("recording %s: %s = %v, want %v", want.ID, tm.name, tm.got, tm.want)
		}
	}
	g, w := *got, *want
	g.Start, g.Stop, g.Created, g.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	w.Start, w.Stop, w.Created, w.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	gv, wv := reflect.ValueOf(g), reflect.ValueOf(w)
	for i := range gv.NumField() {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("recording %s: %s = %+v, want %+v", want.ID, gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
}

func mustOrg(t *testing.T, s Store, name string) *callrec.Org {
	t.Helper()
	o, err := s.EnsureOrg(t.Context(), name)
	if err != nil {
		t.Fatalf("EnsureOrg(%s): %v", name, err)
	}
	return o
}

func mustCreate(t *testing.T, s Store, r *callrec.Recording) {
	t.Helper()
	if err := s.CreateRecording(t.Context(), r); err != nil {
		t.Fatalf("CreateRecording(%s): %v", r.ID, err)
	}
}

func mustGet(t *testing.T, s Store, id string) *callrec.Recording {
	t.Helper()
	r, err := s.GetRecording(t.Context(), id)
	if err != nil {
		t.Fatalf("GetRecording(%s): %v", id, err)
	}
	return r
}

func testRecordingRoundTrip(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	want := fullRecording(uuid.NewString(), org.ID, time.Date(2025, 3, 10, 9, 15, 42, 654321000, time.UTC))
	mustCreate(t, s, want)
	checkRecording(t, mustGet(t, s, want.ID), want)

	dup := fullRecording(want.ID, org.ID, want.Start.Add(time.Hour))
	if err := s.CreateRecording(ctx, dup); !errors.Is(err, callrec.ErrConflict) {
		t.Errorf("CreateRecording with a stored id error = %v, want ErrConflict", err)
	}
	checkRecording(t, mustGet(t, s, want.ID), want)
	if _, err := s.GetRecording(ctx, uuid.NewString()); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("GetRecording(unknown) error = %v, want ErrNotFound", err)
	}

	// A recording just started: empty metadata, unknown stop and creation.
	sparse := &callrec.Recording{ID: uuid.NewString(), OrgID: org.ID, Status: callrec.StatusRecording, Start: want.Start}
	mustCreate(t, s, sparse)
	checkRecording(t, mustGet(t, s, sparse.ID), sparse)
}

func testRecordingTimes(t *testing.T, s Store) {
	org := mustOrg(t, s, callrec.DefaultOrgName)
	plus0530 := time.FixedZone("IST", 5*3600+1800)
	cases := []struct {
		name                string
		start, stop, create time.Time
		exact               bool // microsecond input comes back equal; finer input within 1µs
	}{
		{"zero times", time.Time{}, time.Time{}, time.Time{}, true},
		{"millisecond precision", time.Date(2025, 1, 2, 3, 4, 5, 6000000, time.UTC), time.Date(2025, 1, 2, 3, 5, 0, 999000000, time.UTC), time.Date(2025, 1, 2, 3, 5, 1, 1000000, time.UTC), true},
		{"microsecond precision", time.Date(2025, 6, 30, 23, 59, 59, 999999000, time.UTC), time.Date(2025, 7, 1, 0, 0, 0, 1000, time.UTC), time.Date(2025, 7, 1, 0, 0, 1, 0, time.UTC), true},
		{"other time zone", time.Date(2025, 3, 30, 2, 30, 0, 250000000, plus0530), time.Date(2025, 3, 30, 2, 45, 0, 0, plus0530), time.Date(2025, 3, 30, 2, 45, 1, 0, plus0530), true},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 123000, time.UTC), time.Date(1969, 7, 20, 20, 18, 0, 0, time.UTC), time.Time{}, true},
		{"last representable day", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Time{}, time.Time{}, true},
		{"nanoseconds and monotonic clock", time.Now(), time.Now().Add(1500 * time.Nanosecond), time.Date(2025, 1, 1, 0, 0, 0, 999, time.UTC), false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &callrec.Recording{ID: recID(i), OrgID: org.ID, Status: callrec.StatusAvailable, Start: c.start, Stop: c.stop, Created: c.create}
			mustCreate(t, s, r)
			got := mustGet(t, s, r.ID)
			for _, tm := range []struct {
				name      string
				got, want time.Time
			}{{"Start", got.Start, c.start}, {"Stop", got.Stop, c.stop}, {"Created", got.Created, c.create}} {
				if tm.got.Location() != time.UTC {
					t.Errorf("%s location = %v, want UTC", tm.name, tm.got.Location())
				}
				if tm.want.IsZero() != tm.got.IsZero() {
					t.Errorf("%s = %v, want %v (zero stays zero)", tm.name, tm.got, tm.want)
				}
				d := tm.got.Sub(tm.want)
				if c.exact && d != 0 || d <= -time.Microsecond || d >= time.Microsecond {
					t.Errorf("%s = %v, want %v (off by %v)", tm.name, tm.got, tm.want, d)
				}
			}
		})
	}
}

func testRecordingInvalid(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	start := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		change func(r *callrec.Recording)
	}{
		{"empty id", func(r *callrec.Recording) { r.ID = "" }},
		{"empty org", func(r *callrec.Recording) { r.OrgID = "" }},
		{"unknown org", func(r *callrec.Recording) { r.OrgID = uuid.NewString() }},
		{"unknown status", func(r *callrec.Recording) { r.Status = "finished" }},
		{"topic not UTF-8", func(r *callrec.Recording) { r.Topic = "caf\xe9" }},
		{"NUL in SIP Call-ID", func(r *callrec.Recording) { r.SIPCallID = "abc\x00def" }},
		{"stop after year 9999", func(r *callrec.Recording) { r.Stop = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"expiry after year 9999", func(r *callrec.Recording) { r.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"location id not UTF-8", func(r *callrec.Recording) { r.LocationID = "loc\xff" }},
		{"start before year 1", func(r *callrec.Recording) { r.Start = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC) }},
		{"metadata time after year 9999", func(r *callrec.Recording) {
			r.Meta.Events = append(r.Meta.Events, callrec.SessionEvent{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Kind: "invite"})
		}},
	}
	stored := fullRecording(uuid.NewString(), org.ID, start)
	mustCreate(t, s, stored)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := fullRecording(uuid.NewString(), org.ID, start)
			c.change(r)
			if err := s.CreateRecording(ctx, r); !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("CreateRecording error = %v, want ErrInvalid", err)
			}
			u := fullRecording(stored.ID, org.ID, start)
			c.change(u)
			if u.ID == "" {
				return
			}
			if err := s.UpdateRecording(ctx, u); !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("UpdateRecording error = %v, want ErrInvalid", err)
			}
			checkRecording(t, mustGet(t, s, stored.ID), stored)
		})
	}
}

func testUpdate(t *testing.T, s Store) {
	ctx := t.Context()
	orgA := mustOrg(t, s, callrec.DefaultOrgName)
	orgB := mustOrg(t, s, "other")
	start := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	id := uuid.NewString()
	initial := &callrec.Recording{
		ID: id, OrgID: orgA.ID, SIPCallID: "call-1", Status: callrec.StatusRecording, Start: start,
		OwnerType: callrec.OwnerOrg, SampleRate: 8000, Channels: 2, Format: "WAV",
		SpoolPath: "/spool/" + id + ".wav",
	}
	mustCreate(t, s, initial)

	// Finalised: every field changes, the org too (reassign).
	final := fullRecording(id, orgB.ID, start.Add(time.Minute))
	if err := s.UpdateRecording(ctx, final); err != nil {
		t.Fatalf("UpdateRecording: %v", err)
	}
	checkRecording(t, mustGet(t, s, id), final)

	// And back: fields return to their zero values, times included.
	if err := s.UpdateRecording(ctx, initial); err != nil {
		t.Fatalf("UpdateRecording back: %v", err)
	}
	checkRecording(t, mustGet(t, s, id), initial)

	missing := fullRecording(uuid.NewString(), orgA.ID, start)
	if err := s.UpdateRecording(ctx, missing); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("UpdateRecording(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.GetRecording(ctx, missing.ID); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("UpdateRecording(unknown) created it: GetRecording error = %v", err)
	}
}

// idsOf returns id of each of xs, in order.
func idsOf[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func ids(rs []callrec.Recording) []string {
	return idsOf(rs, func(r callrec.Recording) string { return r.ID })
}

func testListFilters(t *testing.T, s Store) {
	orgA := mustOrg(t, s, callrec.DefaultOrgName)
	orgB := mustOrg(t, s, "other")
	base := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	type row struct {
		n                 int
		org               string
		owner, email, typ string
		status            string
		startHour         int
		topic             string
	}
	rows := []row{
		{1, orgA.ID, "alice", "alice@example.com", callrec.OwnerUser, callrec.StatusAvailable, 0, "Sales call with ACME"},
		{2, orgA.ID, "bob", "bob@example.com", callrec.OwnerUser, callrec.StatusAvailable, 1, "Support: printer"},
		{3, orgA.ID, "alice", "alice@example.com", callrec.OwnerUser, callrec.StatusDeleted, 2, `Weekly sync \ notes`},
		{4, orgA.ID, "q1", "", callrec.OwnerCallQueue, callrec.StatusAvailable, 3, "Queue 100% full_test"},
		{5, orgA.ID, "", "", callrec.OwnerOrg, callrec.StatusRecording, 4, ""},
		{6, orgB.ID, "carol", "carol@example.org", callrec.OwnerUser, callrec.StatusAvailable, 1, "Müller Übergabe"},
		{7, orgB.ID, "carol", "carol@example.org", callrec.OwnerUser, callrec.StatusPurged, 5, "sales follow-up"},
		{8, orgA.ID, "alice", "alice@example.com", callrec.OwnerUser, callrec.StatusAvailable, 1, "Call with ACME (2)"},
	}
	for _, r := range rows {
		rec := fullRecording(recID(r.n), r.org, h(r.startHour))
		rec.OwnerID, rec.OwnerEmail, rec.OwnerType, rec.Status, rec.Topic = r.owner, r.email, r.typ, r.status, r.topic
		mustCreate(t, s, rec)
	}
	// Newest first, ties (hour 1: 8, 6, 2) by ID descending: 7 5 4 3 8 6 2 1.
	cases := []struct {
		name string
		q    callrec.RecordingQuery
		want []int
	}{
		{"no filter", callrec.RecordingQuery{}, []int{7, 5, 4, 3, 8, 6, 2, 1}},
		{"org", callrec.RecordingQuery{OrgID: orgA.ID}, []int{5, 4, 3, 8, 2, 1}},
		{"other org", callrec.RecordingQuery{OrgID: orgB.ID}, []int{7, 6}},
		{"unknown org", callrec.RecordingQuery{OrgID: uuid.NewString()}, []int{}},
		{"owner id", callrec.RecordingQuery{OwnerID: "alice"}, []int{3, 8, 1}},
		{"owner email", callrec.RecordingQuery{OwnerEmail: "carol@example.org"}, []int{7, 6}},
		{"owner type call queue", callrec.RecordingQuery{OwnerType: callrec.OwnerCallQueue}, []int{4}},
		{"owner type org", callrec.RecordingQuery{OwnerType: callrec.OwnerOrg}, []int{5}},
		{"one status", callrec.RecordingQuery{Statuses: []string{callrec.StatusAvailable}}, []int{4, 8, 6, 2, 1}},
		{"two statuses", callrec.RecordingQuery{Statuses: []string{callrec.StatusDeleted, callrec.StatusPurged}}, []int{7, 3}},
		{"status recording", callrec.RecordingQuery{Statuses: []string{callrec.StatusRecording}}, []int{5}},
		{"from is inclusive", callrec.RecordingQuery{From: h(2)}, []int{7, 5, 4, 3}},
		{"to is exclusive", callrec.RecordingQuery{To: h(2)}, []int{8, 6, 2, 1}},
		{"from and to", callrec.RecordingQuery{From: h(1), To: h(3)}, []int{3, 8, 6, 2}},
		{"from equals to", callrec.RecordingQuery{From: h(1), To: h(1)}, []int{}},
		{"from in another zone", callrec.RecordingQuery{From: h(4).In(time.FixedZone("PST", -8*3600))}, []int{7, 5}},
		{"topic ignores case", callrec.RecordingQuery{Topic: "acme"}, []int{8, 1}},
		{"topic upper case query", callrec.RecordingQuery{Topic: "SALES"}, []int{7, 1}},
		{"topic non-ASCII lower", callrec.RecordingQuery{Topic: "müller"}, []int{6}},
		{"topic non-ASCII upper", callrec.RecordingQuery{Topic: "MÜLLER ÜBER"}, []int{6}},
		{"topic percent is literal", callrec.RecordingQuery{Topic: "%"}, []int{4}},
		{"topic underscore is literal", callrec.RecordingQuery{Topic: "_"}, []int{4}},
		{"topic backslash is literal", callrec.RecordingQuery{Topic: `\`}, []int{3}},
		{"topic with percent inside", callrec.RecordingQuery{Topic: "100% FULL_t"}, []int{4}},
		{"topic not found", callrec.RecordingQuery{Topic: "invoice"}, []int{}},
		{"org owner and status", callrec.RecordingQuery{OrgID: orgA.ID, OwnerID: "alice", Statuses: []string{callrec.StatusAvailable}}, []int{8, 1}},
		{"org status and from", callrec.RecordingQuery{OrgID: orgA.ID, Statuses: []string{callrec.StatusAvailable}, From: h(1)}, []int{4, 8, 2}},
		{"limit", callrec.RecordingQuery{Limit: 3}, []int{7, 5, 4}},
		{"limit with org", callrec.RecordingQuery{OrgID: orgA.ID, Limit: 2}, []int{5, 4}},
		{"limit above count", callrec.RecordingQuery{OrgID: orgB.ID, Limit: 10}, []int{7, 6}},
		{"cursor within equal starts", callrec.RecordingQuery{BeforeStart: h(1), BeforeID: recID(6)}, []int{2, 1}},
		{"cursor start only", callrec.RecordingQuery{BeforeStart: h(1)}, []int{1}},
		{"cursor with org", callrec.RecordingQuery{OrgID: orgA.ID, BeforeStart: h(3), BeforeID: recID(4)}, []int{3, 8, 2, 1}},
		{"cursor with limit", callrec.RecordingQuery{BeforeStart: h(3), BeforeID: recID(4), Limit: 2}, []int{3, 8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ListRecordings(t.Context(), c.q)
			if err != nil {
				t.Fatalf("ListRecordings(%+v): %v", c.q, err)
			}
			want := make([]string, len(c.want))
			for i, n := range c.want {
				want[i] = recID(n)
			}
			if !slices.Equal(ids(got), want) {
				t.Errorf("ListRecordings(%+v) = %v, want %v", c.q, ids(got), want)
			}
		})
	}
	t.Run("rows are complete", func(t *testing.T) {
		got, err := s.ListRecordings(t.Context(), callrec.RecordingQuery{OwnerType: callrec.OwnerCallQueue})
		if err != nil || len(got) != 1 {
			t.Fatalf("ListRecordings = %d rows, %v; want 1", len(got), err)
		}
		checkRecording(t, &got[0], mustGet(t, s, recID(4)))
	})
	t.Run("negative limit", func(t *testing.T) {
		if _, err := s.ListRecordings(t.Context(), callrec.RecordingQuery{Limit: -1}); !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("ListRecordings(Limit: -1) error = %v, want ErrInvalid", err)
		}
	})
}

func testPagination(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	noise := mustOrg(t, s, "noise")
	base := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	want := map[string]bool{}
	for i := range 30 {
		start := base.Add(time.Duration(i%4) * time.Minute) // many equal starts
		if i%13 == 0 {
			start = time.Time{} // unknown start sorts last
		}
		r := fullRecording(uuid.NewString(), org.ID, start)
		mustCreate(t, s, r)
		want[r.ID] = true
		mustCreate(t, s, fullRecording(uuid.NewString(), noise.ID, start))
	}
	all, err := s.ListRecordings(ctx, callrec.RecordingQuery{OrgID: org.ID})
	if err != nil {
		t.Fatalf("ListRecordings: %v", err)
	}
	if len(all) != len(want) {
		t.Fatalf("ListRecordings returned %d recordings, want %d", len(all), len(want))
	}
	for i, r := range all {
		if !want[r.ID] {
			t.Fatalf("ListRecordings returned %s of another org", r.ID)
		}
		if i > 0 {
			p := all[i-1]
			if r.Start.After(p.Start) || r.Start.Equal(p.Start) && r.ID >= p.ID {
				t.Fatalf("order broken at %d: (%v, %s) after (%v, %s)", i, r.Start, r.ID, p.Start, p.ID)
			}
		}
	}
	for _, limit := range []int{1, 4, 7, 29, 30, 31} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var got []string
			q := callrec.RecordingQuery{OrgID: org.ID, Limit: limit}
			for page := 0; ; page++ {
				if page > len(all)+1 {
					t.Fatalf("paging does not end: %d pages", page)
				}
				rs, err := s.ListRecordings(ctx, q)
				if err != nil {
					t.Fatalf("ListRecordings page %d: %v", page, err)
				}
				if len(rs) > limit {
					t.Fatalf("page %d has %d recordings, limit %d", page, len(rs), limit)
				}
				got = append(got, ids(rs)...)
				if len(rs) < limit {
					break
				}
				last := rs[len(rs)-1]
				q.BeforeStart, q.BeforeID = last.Start, last.ID
			}
			if !slices.Equal(got, ids(all)) {
				t.Errorf("pages joined = %v\nwant           %v", got, ids(all))
			}
		})
	}
}

func testDelete(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	start := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	gone := fullRecording(recID(1), org.ID, start)
	kept := fullRecording(recID(2), org.ID, start)
	mustCreate(t, s, gone)
	mustCreate(t, s, kept)
	if err := s.DeleteRecording(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteRecording: %v", err)
	}
	if _, err := s.GetRecording(ctx, gone.ID); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("GetRecording after delete error = %v, want ErrNotFound", err)
	}
	if err := s.DeleteRecording(ctx, gone.ID); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("second DeleteRecording error = %v, want ErrNotFound", err)
	}
	if err := s.UpdateRecording(ctx, gone); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("UpdateRecording after delete error = %v, want ErrNotFound", err)
	}
	rs, err := s.ListRecordings(ctx, callrec.RecordingQuery{})
	if err != nil {
		t.Fatalf("ListRecordings: %v", err)
	}
	if !slices.Equal(ids(rs), []string{kept.ID}) {
		t.Errorf("ListRecordings after delete = %v, want [%s]", ids(rs), kept.ID)
	}
	checkRecording(t, mustGet(t, s, kept.ID), kept)
	// The id is free again.
	mustCreate(t, s, gone)
	checkRecording(t, mustGet(t, s, gone.ID), gone)
}

func testConcurrentWrites(t *testing.T, s Store) {
	const writers, updates = 8, 50
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	start := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	errs := make(chan error, writers+2)
	var writing sync.WaitGroup
	for w := range writers {
		writing.Go(func() {
			r := fullRecording(recID(w), org.ID, start.Add(time.Duration(w)*time.Second))
			r.Status = callrec.StatusRecording
			if err := s.CreateRecording(ctx, r); err != nil {
				errs <- fmt.Errorf("writer %d: create: %w", w, err)
				return
			}
			for u := 1; u <= updates; u++ {
				r.SizeBytes = int64(u) * 1000
				r.DurationMS = int64(u) * 20
				r.Meta.Events = append(r.Meta.Events, callrec.SessionEvent{Time: r.Start.Add(time.Duration(u) * time.Millisecond), Kind: "update", Detail: fmt.Sprint(u)})
				if u == updates {
					r.Status = callrec.StatusAvailable
				}
				if err := s.UpdateRecording(ctx, r); err != nil {
					errs <- fmt.Errorf("writer %d: update %d: %w", w, u, err)
					return
				}
			}
		})
	}
	// Readers run while the writers write.
	done := make(chan struct{})
	var reading sync.WaitGroup
	for rd := range 2 {
		reading.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := s.ListRecordings(ctx, callrec.RecordingQuery{OrgID: org.ID, Limit: 5}); err != nil {
					errs <- fmt.Errorf("reader %d: list: %w", rd, err)
					return
				}
				if _, err := s.GetRecording(ctx, recID(rd)); err != nil && !errors.Is(err, callrec.ErrNotFound) {
					errs <- fmt.Errorf("reader %d: get: %w", rd, err)
					return
				}
			}
		})
	}
	writing.Wait()
	close(done)
	reading.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
		if strings.Contains(strings.ToLower(err.Error()), "locked") {
			t.Error("the store let a writer see a lock error instead of queueing it")
		}
	}
	for w := range writers {
		r := mustGet(t, s, recID(w))
		if r.Status != callrec.StatusAvailable || r.SizeBytes != updates*1000 || r.DurationMS != updates*20 || len(r.Meta.Events) != 2+updates {
			t.Errorf("writer %d: final recording has status %s, size %d, duration %d, %d events; want %s, %d, %d, %d",
				w, r.Status, r.SizeBytes, r.DurationMS, len(r.Meta.Events), callrec.StatusAvailable, updates*1000, updates*20, 2+updates)
		}
	}
}
