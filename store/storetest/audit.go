package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/google/uuid"
)

func listAudit(t *testing.T, s Store, q directory.AuditQuery) ([]callrec.AuditEntry, error) {
	t.Helper()
	var out []callrec.AuditEntry
	err := s.View(t.Context(), func(tx directory.Tx) error {
		var err error
		out, err = tx.ListAudit(t.Context(), q)
		return err
	})
	return out, err
}

func appendAudit(t *testing.T, s Store, e *callrec.AuditEntry) error {
	t.Helper()
	return s.Update(t.Context(), func(tx directory.Tx) error { return tx.AppendAudit(t.Context(), e) })
}

// checkAudit reports how got differs from want: Time equal and UTC,
// every other field deeply equal (nil Before/After stay nil).
func checkAudit(t *testing.T, got, want callrec.AuditEntry) {
	t.Helper()
	if got.Time.Location() != time.UTC || !got.Time.Equal(want.Time) {
		t.Errorf("audit %s: Time = %v, want %v in UTC", want.ID, got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("audit entry = %+v\nwant          %+v", got, want)
	}
}

func testAuditAppend(t *testing.T, s Store) {
	org := mustOrg(t, s, callrec.DefaultOrgName)
	before := time.Now()
	filled := &callrec.AuditEntry{OrgID: org.ID, Actor: "admin@example.com", ActorRole: callrec.RoleFullAdmin,
		Action: "update", ObjectType: "orgRecording", ObjectID: org.ID,
		Before: []byte(`{"entitled":false}`), After: []byte(`{"entitled": true, "note": "Ærø"}`), TrackingID: "ROUTER_1234"}
	if err := appendAudit(t, s, filled); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	if _, err := uuid.Parse(filled.ID); err != nil {
		t.Errorf("filled audit id %q is not a UUID: %v", filled.ID, err)
	}
	if filled.Time.Location() != time.UTC || filled.Time.Before(before.Add(-time.Second)) || filled.Time.After(time.Now().Add(time.Second)) {
		t.Errorf("filled audit time = %v, want about now, UTC", filled.Time)
	}
	if !filled.Time.Equal(filled.Time.Truncate(time.Microsecond)) {
		t.Errorf("filled audit time %v is finer than the microsecond the store keeps", filled.Time)
	}
	given := &callrec.AuditEntry{ID: "audit-given", Time: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC),
		Actor: "token:abc", ActorRole: callrec.RolePartnerAdmin, Action: "create", ObjectType: "provider", ObjectID: "prov-1",
		After: []byte(`{"name":"Acme Recording"}`)}
	wantGiven := *given
	if err := appendAudit(t, s, given); err != nil {
		t.Fatalf("AppendAudit with id and time: %v", err)
	}
	if !reflect.DeepEqual(*given, wantGiven) {
		t.Errorf("AppendAudit changed an entry with ID and Time set: %+v, want %+v", *given, wantGiven)
	}
	deleted := &callrec.AuditEntry{OrgID: org.ID, Actor: "co@example.com", ActorRole: callrec.RoleComplianceOfficer,
		Action: "delete", ObjectType: "recording", ObjectID: recID(1), Before: []byte(`{"id":"x"}`)}
	if err := appendAudit(t, s, deleted); err != nil {
		t.Fatalf("AppendAudit of a deletion: %v", err)
	}
	got, err := listAudit(t, s, directory.AuditQuery{})
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	// Newest first: deleted and filled are now, given is from 2025.
	if len(got) != 3 {
		t.Fatalf("ListAudit = %d entries, want 3", len(got))
	}
	checkAudit(t, got[0], *deleted)
	checkAudit(t, got[1], *filled)
	checkAudit(t, got[2], wantGiven)
	if got[2].Before != nil || got[0].After != nil {
		t.Errorf("absent Before/After read back as %q / %q, want nil", got[2].Before, got[0].After)
	}

	t.Run("invalid entries", func(t *testing.T) {
		cases := []struct {
			name string
			e    callrec.AuditEntry
			want error
		}{
			{"duplicate id", callrec.AuditEntry{ID: "audit-given", Action: "create"}, callrec.ErrConflict},
			{"before not JSON", callrec.AuditEntry{Action: "update", Before: []byte(`{"a":`)}, callrec.ErrInvalid},
			{"after not JSON", callrec.AuditEntry{Action: "update", After: []byte(`nope`)}, callrec.ErrInvalid},
			{"actor not UTF-8", callrec.AuditEntry{Action: "update", Actor: "caf\xe9"}, callrec.ErrInvalid},
			{"time after year 9999", callrec.AuditEntry{Action: "update", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, callrec.ErrInvalid},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := c.e
				if err := appendAudit(t, s, &e); !errors.Is(err, c.want) {
					t.Errorf("AppendAudit error = %v, want %v", err, c.want)
				}
			})
		}
		if got, err := listAudit(t, s, directory.AuditQuery{}); err != nil || len(got) != 3 {
			t.Errorf("ListAudit after refused entries = %d entries, %v; want 3", len(got), err)
		}
	})
}

func testAuditList(t *testing.T, s Store) {
	orgA := mustOrg(t, s, callrec.DefaultOrgName)
	orgB := mustOrg(t, s, "other")
	base := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	m := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
	type row struct {
		n               int
		org             string
		minute          int
		actor, typ, obj string
		action          string
	}
	rows := []row{
		{1, orgA.ID, 0, "alice@example.com", "person", "p1", "create"},
		{2, orgA.ID, 1, "alice@example.com", "person", "p1", "update"},
		{3, orgB.ID, 1, "carol@example.org", "person", "p9", "create"},
		{4, orgA.ID, 2, "bob@example.com", "recording", recID(7), "download"},
		{5, "", 3, "token:root", "provider", "prov-1", "create"},
		{6, orgA.ID, 2, "alice@example.com", "person", "p1", "update"}, // same minute as 4, appended later
		{7, orgB.ID, 5, "carol@example.org", "recording", recID(7), "delete"},
	}
	for _, r := range rows {
		e := &callrec.AuditEntry{ID: fmt.Sprintf("audit-%d", r.n), OrgID: r.org, Time: m(r.minute), Actor: r.actor,
			ActorRole: callrec.RoleFullAdmin, Action: r.action, ObjectType: r.typ, ObjectID: r.obj}
		if err := appendAudit(t, s, e); err != nil {
			t.Fatalf("AppendAudit %d: %v", r.n, err)
		}
	}
	// Newest first; minute 2 holds 6 (appended last) before 4; minute 1 holds 3 before 2.
	cases := []struct {
		name string
		q    directory.AuditQuery
		want []int
	}{
		{"everything", directory.AuditQuery{}, []int{7, 5, 6, 4, 3, 2, 1}},
		{"one org", directory.AuditQuery{OrgID: orgA.ID}, []int{6, 4, 2, 1}},
		{"other org", directory.AuditQuery{OrgID: orgB.ID}, []int{7, 3}},
		{"object type", directory.AuditQuery{ObjectType: "recording"}, []int{7, 4}},
		{"object", directory.AuditQuery{ObjectType: "person", ObjectID: "p1"}, []int{6, 2, 1}},
		{"object id in one org", directory.AuditQuery{OrgID: orgA.ID, ObjectID: recID(7)}, []int{4}},
		{"actor", directory.AuditQuery{Actor: "carol@example.org"}, []int{7, 3}},
		{"from is inclusive", directory.AuditQuery{From: m(2)}, []int{7, 5, 6, 4}},
		{"to is exclusive", directory.AuditQuery{To: m(2)}, []int{3, 2, 1}},
		{"from and to in another zone", directory.AuditQuery{From: m(1).In(time.FixedZone("CET", 3600)), To: m(3)}, []int{6, 4, 3, 2}},
		{"org and time", directory.AuditQuery{OrgID: orgA.ID, From: m(1), To: m(2)}, []int{2}},
		{"no match", directory.AuditQuery{Actor: "nobody"}, []int{}},
		{"first page", directory.AuditQuery{Max: 3}, []int{7, 5, 6}},
		{"second page", directory.AuditQuery{Start: 3, Max: 3}, []int{4, 3, 2}},
		{"last page", directory.AuditQuery{Start: 6, Max: 3}, []int{1}},
		{"past the end", directory.AuditQuery{Start: 7, Max: 3}, []int{}},
		{"start without max", directory.AuditQuery{Start: 5}, []int{2, 1}},
		{"page of a filter", directory.AuditQuery{OrgID: orgA.ID, Start: 1, Max: 2}, []int{4, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := listAudit(t, s, c.q)
			if err != nil {
				t.Fatalf("ListAudit(%+v): %v", c.q, err)
			}
			ids := make([]string, len(got))
			for i, e := range got {
				ids[i] = e.ID
			}
			want := make([]string, len(c.want))
			for i, n := range c.want {
				want[i] = fmt.Sprintf("audit-%d", n)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("ListAudit(%+v) = %v, want %v", c.q, ids, want)
			}
		})
	}
	for _, q := range []directory.AuditQuery{{Start: -1}, {Max: -1}} {
		if _, err := listAudit(t, s, q); !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("ListAudit(%+v) error = %v, want ErrInvalid", q, err)
		}
	}
}
