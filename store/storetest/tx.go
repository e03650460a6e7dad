package storetest

import (
	"bytes"
	"encoding/json"
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

// update runs fn in s.Update and fails the test on an error.
func update(t *testing.T, s Store, fn func(directory.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// getRecord reads kind/id in a View.
func getRecord(t *testing.T, s Store, kind, id string) (directory.Record, error) {
	t.Helper()
	var r directory.Record
	err := s.View(t.Context(), func(tx directory.Tx) error {
		var err error
		r, err = tx.Get(t.Context(), kind, id)
		return err
	})
	return r, err
}

// listRecords lists kind in org in a View and returns the ids.
func listRecords(t *testing.T, s Store, kind, orgID string) []directory.Record {
	t.Helper()
	var rs []directory.Record
	err := s.View(t.Context(), func(tx directory.Tx) error {
		var err error
		rs, err = tx.List(t.Context(), kind, orgID)
		return err
	})
	if err != nil {
		t.Fatalf("List(%s, %q): %v", kind, orgID, err)
	}
	return rs
}

func recordIDs(rs []directory.Record) []string {
	return idsOf(rs, func(r directory.Record) string { return r.ID })
}

// lookup reads the record holding key in a View.
func lookup(t *testing.T, s Store, key string) (directory.Record, error) {
	t.Helper()
	var r directory.Record
	err := s.View(t.Context(), func(tx directory.Tx) error {
		var err error
		r, err = tx.Lookup(t.Context(), key)
		return err
	})
	return r, err
}

// checkRecordEqual reports how got differs from want. Keys are compared
// as sets: the contract does not order them.
func checkRecordEqual(t *testing.T, got, want directory.Record) {
	t.Helper()
	if got.Kind != want.Kind || got.ID != want.ID || got.OrgID != want.OrgID {
		t.Errorf("record = %s %q in org %q, want %s %q in org %q", got.Kind, got.ID, got.OrgID, want.Kind, want.ID, want.OrgID)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("record %s %q data = %s, want %s", want.Kind, want.ID, got.Data, want.Data)
	}
	gk, wk := slices.Sorted(slices.Values(got.Keys)), slices.Sorted(slices.Values(want.Keys))
	if !slices.Equal(gk, wk) {
		t.Errorf("record %s %q keys = %q, want %q", want.Kind, want.ID, gk, wk)
	}
}

// putOrg stores a new org document through the directory and returns it.
func putOrg(t *testing.T, s Store, name string) *callrec.Org {
	t.Helper()
	o := &callrec.Org{ID: uuid.NewString(), Name: name, Created: time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC),
		PartnerID: "partner-1", Region: "EU", Language: "da_DK", Recording: callrec.DefaultOrgRecording()}
	update(t, s, func(tx directory.Tx) error { return directory.Orgs.Put(t.Context(), tx, o) })
	return o
}

func person(id, orgID, email, ext string) *callrec.Person {
	return &callrec.Person{ID: id, OrgID: orgID, Emails: []string{email}, FirstName: "First " + id, LastName: "Last",
		Extension: ext, License: callrec.LicenseProfessional, Recording: callrec.DefaultUserRecording(),
		Created: time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC)}
}

func testTxPutGet(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	loc := directory.Record{Kind: "location", ID: "loc-1", OrgID: org.ID,
		Keys: []string{"location:" + org.ID + ":århus", "zz:second", "aa:first"},
		Data: []byte(`{"ID": "loc-1",  "Name":"Århus\u00e6", "n":[1, 2.50, null]}`)}
	update(t, s, func(tx directory.Tx) error { return tx.Put(ctx, loc) })
	got, err := getRecord(t, s, loc.Kind, loc.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	checkRecordEqual(t, got, loc)

	t.Run("replace changes data and org-free kinds work", func(t *testing.T) {
		loc2 := loc
		loc2.Data = []byte(`{"ID":"loc-1","Name":"Aarhus"}`)
		provider := directory.Record{Kind: "provider", ID: "prov-1", Keys: []string{"provider:acme"}, Data: []byte(`{"ID":"prov-1"}`)}
		update(t, s, func(tx directory.Tx) error {
			if err := tx.Put(ctx, loc2); err != nil {
				return err
			}
			return tx.Put(ctx, provider)
		})
		got, err := getRecord(t, s, loc.Kind, loc.ID)
		if err != nil {
			t.Fatalf("Get after replace: %v", err)
		}
		checkRecordEqual(t, got, loc2)
		got, err = getRecord(t, s, provider.Kind, provider.ID)
		if err != nil {
			t.Fatalf("Get provider: %v", err)
		}
		checkRecordEqual(t, got, provider)
	})
	t.Run("kinds are separate id spaces", func(t *testing.T) {
		other := directory.Record{Kind: "trunk", ID: loc.ID, OrgID: org.ID, Data: []byte(`{"kind":"trunk"}`)}
		update(t, s, func(tx directory.Tx) error { return tx.Put(ctx, other) })
		gotTrunk, err := getRecord(t, s, "trunk", loc.ID)
		if err != nil {
			t.Fatalf("Get trunk: %v", err)
		}
		checkRecordEqual(t, gotTrunk, other)
		gotLoc, err := getRecord(t, s, "location", loc.ID)
		if err != nil || !strings.Contains(string(gotLoc.Data), "Aarhus") {
			t.Errorf("the location with the trunk's id = %s, %v; want it unchanged", gotLoc.Data, err)
		}
	})
	t.Run("missing is not found", func(t *testing.T) {
		for _, c := range [][2]string{{"location", "loc-2"}, {"person", loc.ID}, {"", ""}} {
			if _, err := getRecord(t, s, c[0], c[1]); !errors.Is(err, callrec.ErrNotFound) {
				t.Errorf("Get(%q, %q) error = %v, want ErrNotFound", c[0], c[1], err)
			}
		}
	})
	t.Run("typed objects round-trip through the directory", func(t *testing.T) {
		p := person("p-1", org.ID, "alice@example.com", "1001")
		p.PhoneNumbers = []string{"+14155550100"}
		p.SIP = &callrec.SIPCredentials{Username: "alice-sip", Realm: "callrec", HA1MD5: "0123", HA1SHA256: "4567"}
		p.Recording.Enabled, p.Recording.Mode = true, callrec.ModeAlways
		update(t, s, func(tx directory.Tx) error { return directory.People.Put(ctx, tx, p) })
		var got *callrec.Person
		err := s.View(ctx, func(tx directory.Tx) error {
			var err error
			got, err = directory.People.Get(ctx, tx, org.ID, p.ID)
			return err
		})
		if err != nil {
			t.Fatalf("People.Get: %v", err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("People.Get = %+v, want %+v", got, p)
		}
	})
}

func testTxPutInvalid(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	good := directory.Record{Kind: "location", ID: "loc-1", OrgID: org.ID, Keys: []string{"location:x"}, Data: []byte(`{}`)}
	orgData, err := json.Marshal(callrec.Org{ID: "org-x", Name: "X"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change func(r *directory.Record)
	}{
		{"empty kind", func(r *directory.Record) { r.Kind = "" }},
		{"empty id", func(r *directory.Record) { r.ID = "" }},
		{"id with NUL", func(r *directory.Record) { r.ID = "loc\x00" }},
		{"org id not UTF-8", func(r *directory.Record) { r.OrgID = "\xff" }},
		{"org that does not exist", func(r *directory.Record) { r.OrgID = uuid.NewString() }},
		{"empty key", func(r *directory.Record) { r.Keys = []string{"email:a@b.example", ""} }},
		{"key not UTF-8", func(r *directory.Record) { r.Keys = []string{"email:caf\xe9"} }},
		{"data not JSON", func(r *directory.Record) { r.Data = []byte(`{"ID": "loc-1"`) }},
		{"no data", func(r *directory.Record) { r.Data = nil }},
		{"data with invalid UTF-8 in a string", func(r *directory.Record) { r.Data = []byte("{\"Name\":\"caf\xe9\"}") }},
		{"org whose data is not an org", func(r *directory.Record) { r.Kind, r.ID, r.OrgID, r.Data = "org", "org-x", "org-x", []byte(`[1]`) }},
		{"org whose data names another id", func(r *directory.Record) { r.Kind, r.ID, r.OrgID, r.Data = "org", "org-y", "org-y", orgData }},
		{"org with an empty name", func(r *directory.Record) {
			r.Kind, r.ID, r.OrgID, r.Data = "org", "org-x", "org-x", []byte(`{"ID":"org-x","Name":""}`)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := good
			c.change(&r)
			err := s.Update(ctx, func(tx directory.Tx) error { return tx.Put(ctx, r) })
			if !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("Put error = %v, want ErrInvalid", err)
			}
			if r.Kind != "" && r.ID != "" {
				if _, err := getRecord(t, s, r.Kind, r.ID); !errors.Is(err, callrec.ErrNotFound) {
					t.Errorf("the refused record was stored: Get error = %v", err)
				}
			}
			if _, err := lookup(t, s, "location:x"); !errors.Is(err, callrec.ErrNotFound) {
				t.Errorf("the refused record's key was stored: Lookup error = %v", err)
			}
		})
	}
}

func testTxListOrder(t *testing.T, s Store) {
	ctx := t.Context()
	orgA := mustOrg(t, s, callrec.DefaultOrgName)
	orgB := mustOrg(t, s, "other")
	put := func(id, org, name string) {
		t.Helper()
		update(t, s, func(tx directory.Tx) error {
			return tx.Put(ctx, directory.Record{Kind: "location", ID: id, OrgID: org, Data: []byte(`{"Name":"` + name + `"}`)})
		})
	}
	del := func(id string) {
		t.Helper()
		update(t, s, func(tx directory.Tx) error { return tx.Delete(ctx, "location", id) })
	}
	// Ids sort against the order they are stored in, past ten records.
	var want []string
	for i := range 12 {
		id := fmt.Sprintf("loc-%02d", 11-i)
		put(id, orgA.ID, "v1")
		want = append(want, id)
	}
	if got := recordIDs(listRecords(t, s, "location", orgA.ID)); !slices.Equal(got, want) {
		t.Fatalf("List = %v, want the order stored %v", got, want)
	}
	// a, b, c, d as stored; a and c replaced; c deleted and stored again.
	put("a", orgA.ID, "v1")
	put("b", orgB.ID, "v1")
	put("c", orgA.ID, "v1")
	put("d", orgA.ID, "v1")
	put("a", orgA.ID, "v2")
	put("c", orgA.ID, "v2")
	del("c")
	put("c", orgA.ID, "v3")
	put("e", orgB.ID, "v1")
	cases := []struct {
		name, kind, org string
		want            []string
	}{
		{"one org", "location", orgA.ID, append(slices.Clone(want), "a", "d", "c")},
		{"other org", "location", orgB.ID, []string{"b", "e"}},
		{"every org", "location", "", append(slices.Clone(want), "a", "b", "d", "c", "e")},
		{"unknown org", "location", uuid.NewString(), []string{}},
		{"kind with no records", "person", "", []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := listRecords(t, s, c.kind, c.org)
			if !slices.Equal(recordIDs(got), c.want) {
				t.Errorf("List(%s, %q) = %v, want %v", c.kind, c.org, recordIDs(got), c.want)
			}
		})
	}
	t.Run("listed records hold their latest data", func(t *testing.T) {
		for _, r := range listRecords(t, s, "location", orgA.ID) {
			want := `{"Name":"v1"}`
			switch r.ID {
			case "a":
				want = `{"Name":"v2"}`
			case "c":
				want = `{"Name":"v3"}`
			}
			if string(r.Data) != want || r.OrgID != orgA.ID || r.Kind != "location" {
				t.Errorf("listed %s %q in org %q = %s, want %s in org %q", r.Kind, r.ID, r.OrgID, r.Data, want, orgA.ID)
			}
		}
	})
	t.Run("listed records hold their keys", func(t *testing.T) {
		p1, p2 := person("p1", orgA.ID, "one@example.com", "101"), person("p2", orgB.ID, "two@example.com", "102")
		update(t, s, func(tx directory.Tx) error {
			return errors.Join(directory.People.Put(ctx, tx, p1), directory.People.Put(ctx, tx, p2))
		})
		got := listRecords(t, s, "person", "")
		if len(got) != 2 {
			t.Fatalf("List(person) = %v, want p1 and p2", recordIDs(got))
		}
		wantKeys := [][]string{
			{directory.EmailKey("one@example.com"), directory.NumberKey(orgA.ID, "101")},
			{directory.EmailKey("two@example.com"), directory.NumberKey(orgB.ID, "102")},
		}
		for i, r := range got {
			if k := slices.Sorted(slices.Values(r.Keys)); !slices.Equal(k, wantKeys[i]) {
				t.Errorf("listed %s keys = %q, want %q", r.ID, k, wantKeys[i])
			}
		}
	})
}

func testTxLookup(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	p := person("p-1", org.ID, "Alice@Example.com", "1001")
	p.Emails = append(p.Emails, "alice.alias@example.com")
	p.PhoneNumbers = []string{"+45 12 34 56 78"}
	p.SIP = &callrec.SIPCredentials{Username: "alice-sip"}
	p.ExternalID = "alice@bw.example"
	update(t, s, func(tx directory.Tx) error { return directory.People.Put(ctx, tx, p) })
	want, err := getRecord(t, s, "person", p.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if len(want.Keys) != 6 {
		t.Errorf("stored keys = %q, want 6 (two emails, extension, number, SIP user, external id)", want.Keys)
	}
	for _, key := range []string{
		directory.EmailKey("ALICE@example.COM"), directory.EmailKey("alice.alias@example.com"),
		directory.NumberKey(org.ID, "1001"), directory.NumberKey(org.ID, "+4512345678"),
		directory.SIPUserKey("alice-sip"), directory.ExternalIDKey(org.ID, "Alice@BW.example"),
	} {
		t.Run(key, func(t *testing.T) {
			got, err := lookup(t, s, key)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			checkRecordEqual(t, got, want)
		})
	}
	t.Run("unknown key is not found", func(t *testing.T) {
		for _, key := range []string{directory.EmailKey("bob@example.com"), directory.NumberKey(uuid.NewString(), "1001"), "", "email:"} {
			if _, err := lookup(t, s, key); !errors.Is(err, callrec.ErrNotFound) {
				t.Errorf("Lookup(%q) error = %v, want ErrNotFound", key, err)
			}
		}
	})
	t.Run("typed lookup of another kind is not found", func(t *testing.T) {
		err := s.View(ctx, func(tx directory.Tx) error {
			_, err := directory.VirtualLines.Lookup(ctx, tx, directory.NumberKey(org.ID, "1001"))
			return err
		})
		if !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("VirtualLines.Lookup of a person's number error = %v, want ErrNotFound", err)
		}
	})
}

// putErr runs one Put in its own Update and returns its error.
func putErr[T any](t *testing.T, s Store, k directory.Kind[T], v *T) error {
	t.Helper()
	return s.Update(t.Context(), func(tx directory.Tx) error { return k.Put(t.Context(), tx, v) })
}

func testTxKeyConflicts(t *testing.T, s Store) {
	ctx := t.Context()
	orgA := mustOrg(t, s, callrec.DefaultOrgName)
	orgB := mustOrg(t, s, "other")
	alice := person("alice-id-0001", orgA.ID, "alice@example.com", "1001")
	alice.PhoneNumbers = []string{"+14155550100"}
	alice.SIP = &callrec.SIPCredentials{Username: "alice-sip"}
	if err := putErr(t, s, directory.People, alice); err != nil {
		t.Fatalf("Put alice: %v", err)
	}
	aliceRec, err := getRecord(t, s, "person", alice.ID)
	if err != nil {
		t.Fatalf("Get alice: %v", err)
	}
	cases := []struct {
		name    string
		kind    string
		id      string
		org     string // the putter's org
		put     func() error
		message string // what the error names
	}{
		{"same email in another org, other case", "person", "p-b1", orgB.ID, func() error {
			return putErr(t, s, directory.People, person("p-b1", orgB.ID, " ALICE@example.com", "2001"))
		}, `email "alice@example.com" is taken`},
		{"same number in the same org, other spelling", "person", "p-a2", orgA.ID, func() error {
			p := person("p-a2", orgA.ID, "bob@example.com", "1002")
			p.PhoneNumbers = []string{"+1 415-555-0100"}
			return putErr(t, s, directory.People, p)
		}, `num "+14155550100" is taken`},
		{"same extension held by another kind", "virtualLine", "vl-a1", orgA.ID, func() error {
			return putErr(t, s, directory.VirtualLines, &callrec.VirtualLine{ID: "vl-a1", OrgID: orgA.ID, Extension: "1001"})
		}, `num "1001" is taken`},
		{"SIP user of a person, put as a source of another org", "siprecSource", "src-b1", orgB.ID, func() error {
			return putErr(t, s, directory.Sources, &callrec.SIPRECSource{ID: "src-b1", OrgID: orgB.ID, Name: "sbc",
				SIP: &callrec.SIPCredentials{Username: "alice-sip"}})
		}, `sipuser "alice-sip" is taken`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.put()
			if !errors.Is(err, callrec.ErrConflict) {
				t.Fatalf("Put error = %v, want ErrConflict", err)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q does not say %s", err, c.message)
			}
			if strings.Contains(err.Error(), alice.ID) {
				t.Errorf("error %q names the id of the record holding the key", err)
			}
			if c.org != orgA.ID && strings.Contains(err.Error(), orgA.ID) {
				t.Errorf("error %q names the other org", err)
			}
			if _, err := getRecord(t, s, c.kind, c.id); !errors.Is(err, callrec.ErrNotFound) {
				t.Errorf("the conflicting record was stored: Get error = %v", err)
			}
			for _, key := range aliceRec.Keys {
				got, err := lookup(t, s, key)
				if err != nil || got.ID != alice.ID {
					t.Errorf("Lookup(%q) after the conflict = %q, %v; want alice", key, got.ID, err)
				}
			}
		})
	}
	t.Run("numbers are per org", func(t *testing.T) {
		if err := putErr(t, s, directory.People, person("p-b2", orgB.ID, "carol@example.org", "1001")); err != nil {
			t.Errorf("Put of extension 1001 in another org: %v", err)
		}
	})
	t.Run("a failed re-put leaves the stored version", func(t *testing.T) {
		bob := person("bob", orgA.ID, "bob@example.com", "1003")
		if err := putErr(t, s, directory.People, bob); err != nil {
			t.Fatalf("Put bob: %v", err)
		}
		before, _ := getRecord(t, s, "person", "bob")
		changed := person("bob", orgA.ID, "bob.new@example.com", "1004")
		changed.Emails = append(changed.Emails, "alice@example.com")
		if err := putErr(t, s, directory.People, changed); !errors.Is(err, callrec.ErrConflict) {
			t.Fatalf("re-Put with alice's email error = %v, want ErrConflict", err)
		}
		after, err := getRecord(t, s, "person", "bob")
		if err != nil {
			t.Fatalf("Get bob: %v", err)
		}
		checkRecordEqual(t, after, before)
		for _, key := range []string{directory.EmailKey("bob.new@example.com"), directory.NumberKey(orgA.ID, "1004")} {
			if _, err := lookup(t, s, key); !errors.Is(err, callrec.ErrNotFound) {
				t.Errorf("Lookup(%q) of the refused version error = %v, want ErrNotFound", key, err)
			}
		}
		if got, err := lookup(t, s, directory.EmailKey("bob@example.com")); err != nil || got.ID != "bob" {
			t.Errorf("Lookup of bob's old email = %q, %v; want bob", got.ID, err)
		}
	})
	t.Run("a handled conflict commits the other puts only", func(t *testing.T) {
		x := person("x", orgB.ID, "x@example.org", "3001")
		y := person("y", orgB.ID, "y@example.org", "3002")
		y.Emails = append(y.Emails, "alice@example.com")
		z := person("z", orgB.ID, "z@example.org", "3003")
		var yErr error
		update(t, s, func(tx directory.Tx) error {
			if err := directory.People.Put(ctx, tx, x); err != nil {
				return err
			}
			yErr = directory.People.Put(ctx, tx, y)
			return directory.People.Put(ctx, tx, z)
		})
		if !errors.Is(yErr, callrec.ErrConflict) {
			t.Fatalf("Put y error = %v, want ErrConflict", yErr)
		}
		for id, stored := range map[string]bool{"x": true, "y": false, "z": true} {
			_, err := getRecord(t, s, "person", id)
			if stored && err != nil || !stored && !errors.Is(err, callrec.ErrNotFound) {
				t.Errorf("person %s: Get error = %v, want stored = %v", id, err, stored)
			}
		}
		for _, key := range []string{directory.EmailKey("y@example.org"), directory.NumberKey(orgB.ID, "3002")} {
			if _, err := lookup(t, s, key); !errors.Is(err, callrec.ErrNotFound) {
				t.Errorf("Lookup(%q) of the refused y error = %v, want ErrNotFound", key, err)
			}
		}
	})
	t.Run("duplicate keys of one record are one key", func(t *testing.T) {
		r := directory.Record{Kind: "trunk", ID: "t1", OrgID: orgA.ID, Keys: []string{"trunk:a", "trunk:a"}, Data: []byte(`{}`)}
		if err := s.Update(ctx, func(tx directory.Tx) error { return tx.Put(ctx, r) }); err != nil {
			t.Fatalf("Put with a repeated key: %v", err)
		}
		got, err := getRecord(t, s, "trunk", "t1")
		if err != nil || !slices.Equal(got.Keys, []string{"trunk:a"}) {
			t.Errorf("Get = keys %q, %v; want [trunk:a]", got.Keys, err)
		}
	})
}

func testTxKeyReplacement(t *testing.T, s Store) {
	org := mustOrg(t, s, callrec.DefaultOrgName)
	p := person("p-1", org.ID, "old@example.com", "1001")
	p.SIP = &callrec.SIPCredentials{Username: "dev-1"}
	if err := putErr(t, s, directory.People, p); err != nil {
		t.Fatalf("Put: %v", err)
	}
	p.Emails = []string{"new@example.com"}
	p.Extension = "1002"
	p.SIP = nil
	if err := putErr(t, s, directory.People, p); err != nil {
		t.Fatalf("re-Put: %v", err)
	}
	got, err := getRecord(t, s, "person", p.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	wantKeys := []string{directory.EmailKey("new@example.com"), directory.NumberKey(org.ID, "1002")}
	if k := slices.Sorted(slices.Values(got.Keys)); !slices.Equal(k, wantKeys) {
		t.Errorf("keys after re-Put = %q, want %q", k, wantKeys)
	}
	for _, key := range []string{directory.EmailKey("old@example.com"), directory.NumberKey(org.ID, "1001"), directory.SIPUserKey("dev-1")} {
		if _, err := lookup(t, s, key); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("Lookup(%q) after re-Put error = %v, want ErrNotFound", key, err)
		}
	}
	for _, key := range wantKeys {
		if r, err := lookup(t, s, key); err != nil || r.ID != p.ID {
			t.Errorf("Lookup(%q) = %q, %v; want %s", key, r.ID, err, p.ID)
		}
	}
	// The freed keys are anyone's now.
	other := person("p-2", org.ID, "old@example.com", "1001")
	other.SIP = &callrec.SIPCredentials{Username: "dev-1"}
	if err := putErr(t, s, directory.People, other); err != nil {
		t.Errorf("Put of another person with the freed keys: %v", err)
	}
	// Keeping a key across a re-Put is no conflict with itself.
	p.FirstName = "Renamed"
	if err := putErr(t, s, directory.People, p); err != nil {
		t.Errorf("re-Put with the same keys: %v", err)
	}
}

func testTxDelete(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	p := person("p-1", org.ID, "gone@example.com", "1001")
	kept := person("p-2", org.ID, "kept@example.com", "1002")
	for _, v := range []*callrec.Person{p, kept} {
		if err := putErr(t, s, directory.People, v); err != nil {
			t.Fatalf("Put %s: %v", v.ID, err)
		}
	}
	update(t, s, func(tx directory.Tx) error { return tx.Delete(ctx, "person", p.ID) })
	if _, err := getRecord(t, s, "person", p.ID); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("Get after Delete error = %v, want ErrNotFound", err)
	}
	for _, key := range []string{directory.EmailKey("gone@example.com"), directory.NumberKey(org.ID, "1001")} {
		if _, err := lookup(t, s, key); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("Lookup(%q) after Delete error = %v, want ErrNotFound", key, err)
		}
	}
	if got := recordIDs(listRecords(t, s, "person", org.ID)); !slices.Equal(got, []string{kept.ID}) {
		t.Errorf("List after Delete = %v, want [%s]", got, kept.ID)
	}
	for _, c := range [][2]string{{"person", p.ID}, {"location", kept.ID}, {"person", "never"}} {
		err := s.Update(ctx, func(tx directory.Tx) error { return tx.Delete(ctx, c[0], c[1]) })
		if !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("Delete(%s, %s) error = %v, want ErrNotFound", c[0], c[1], err)
		}
	}
	if _, err := getRecord(t, s, "person", kept.ID); err != nil {
		t.Errorf("Get of the other person after a Delete of a missing one: %v", err)
	}
	taker := person("p-3", org.ID, "gone@example.com", "1001")
	if err := putErr(t, s, directory.People, taker); err != nil {
		t.Errorf("Put with the deleted person's keys: %v", err)
	}
}

func testTxOrgRegistry(t *testing.T, s Store) {
	ctx := t.Context()
	acme := putOrg(t, s, "Acme")
	got, err := s.OrgByID(ctx, acme.ID)
	if err != nil {
		t.Fatalf("OrgByID of an org put through the directory: %v", err)
	}
	if !reflect.DeepEqual(got, acme) {
		t.Errorf("OrgByID = %+v, want %+v", got, acme)
	}
	if e, err := s.EnsureOrg(ctx, "Acme"); err != nil || e.ID != acme.ID {
		t.Errorf("EnsureOrg(Acme) = %+v, %v; want the org put, %s", e, err, acme.ID)
	}
	// The org registry lets recordings and tokens reference it.
	mustCreate(t, s, fullRecording(recID(1), acme.ID, time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)))
	mustToken(t, s, &callrec.Token{Hash: hashOf("acme admin"), Role: callrec.RoleFullAdmin, OrgID: acme.ID})

	t.Run("rename", func(t *testing.T) {
		acme.Name = "Acme Corp"
		update(t, s, func(tx directory.Tx) error { return directory.Orgs.Put(ctx, tx, acme) })
		if got, err := s.OrgByID(ctx, acme.ID); err != nil || got.Name != "Acme Corp" {
			t.Errorf("OrgByID after rename = %+v, %v; want name Acme Corp", got, err)
		}
		if e, err := s.EnsureOrg(ctx, "Acme Corp"); err != nil || e.ID != acme.ID {
			t.Errorf("EnsureOrg(Acme Corp) = %+v, %v; want %s", e, err, acme.ID)
		}
		fresh, err := s.EnsureOrg(ctx, "Acme")
		if err != nil || fresh.ID == acme.ID {
			t.Errorf("EnsureOrg(Acme) after the rename = %+v, %v; want a new org", fresh, err)
		}
	})
	t.Run("name taken, other case", func(t *testing.T) {
		dup := &callrec.Org{ID: uuid.NewString(), Name: "ACME CORP"}
		err := s.Update(ctx, func(tx directory.Tx) error { return directory.Orgs.Put(ctx, tx, dup) })
		if !errors.Is(err, callrec.ErrConflict) {
			t.Fatalf("Put of an org with a taken name error = %v, want ErrConflict", err)
		}
		if strings.Contains(err.Error(), acme.ID) {
			t.Errorf("error %q names the other org's id", err)
		}
		if _, err := s.OrgByID(ctx, dup.ID); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("OrgByID of the refused org error = %v, want ErrNotFound", err)
		}
		if err := s.CreateRecording(ctx, fullRecording(recID(2), dup.ID, time.Now())); !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("CreateRecording in the refused org error = %v, want ErrInvalid (no such org)", err)
		}
	})
	t.Run("objects need an existing org", func(t *testing.T) {
		err := putErr(t, s, directory.Locations, &callrec.Location{ID: "loc-x", OrgID: uuid.NewString(), Name: "Nowhere"})
		if !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("Put of a location in no org error = %v, want ErrInvalid", err)
		}
		if err := putErr(t, s, directory.Locations, &callrec.Location{ID: "loc-y", OrgID: acme.ID, Name: "HQ"}); err != nil {
			t.Errorf("Put of a location in the org: %v", err)
		}
	})
}

func testTxOrgDelete(t *testing.T, s Store) {
	ctx := t.Context()
	org := putOrg(t, s, "Short-lived")
	deleteOrg := func() error {
		return s.Update(ctx, func(tx directory.Tx) error { return directory.Orgs.Delete(ctx, tx, org.ID, org.ID) })
	}
	refused := func(what string) {
		t.Helper()
		err := deleteOrg()
		if !errors.Is(err, callrec.ErrConflict) {
			t.Fatalf("Delete of an org with %s error = %v, want ErrConflict", what, err)
		}
		if _, err := s.OrgByID(ctx, org.ID); err != nil {
			t.Fatalf("OrgByID after a refused Delete: %v", err)
		}
	}

	loc := &callrec.Location{ID: "loc-1", OrgID: org.ID, Name: "HQ"}
	if err := putErr(t, s, directory.Locations, loc); err != nil {
		t.Fatalf("Put location: %v", err)
	}
	refused("a location")
	update(t, s, func(tx directory.Tx) error { return directory.Locations.Delete(ctx, tx, org.ID, loc.ID) })

	rec := fullRecording(recID(1), org.ID, time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC))
	mustCreate(t, s, rec)
	refused("a recording")
	if err := s.DeleteRecording(ctx, rec.ID); err != nil {
		t.Fatalf("DeleteRecording: %v", err)
	}

	tok := mustToken(t, s, &callrec.Token{Hash: hashOf("short"), Role: callrec.RoleFullAdmin, OrgID: org.ID})
	refused("a token")
	if err := s.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}

	if err := deleteOrg(); err != nil {
		t.Fatalf("Delete of an empty org: %v", err)
	}
	if _, err := s.OrgByID(ctx, org.ID); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("OrgByID after Delete error = %v, want ErrNotFound", err)
	}
	if err := s.CreateRecording(ctx, fullRecording(recID(2), org.ID, time.Now())); !errors.Is(err, callrec.ErrInvalid) {
		t.Errorf("CreateRecording in the deleted org error = %v, want ErrInvalid", err)
	}
	// The name is free again, for a new org.
	again, err := s.EnsureOrg(ctx, "Short-lived")
	if err != nil || again.ID == org.ID {
		t.Errorf("EnsureOrg(Short-lived) after Delete = %+v, %v; want a new org", again, err)
	}
	if err := deleteOrg(); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("second Delete error = %v, want ErrNotFound", err)
	}
}

func testEnsureOrgDocument(t *testing.T, s Store) {
	ctx := t.Context()
	o, err := s.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		t.Fatalf("EnsureOrg: %v", err)
	}
	want := callrec.Org{ID: o.ID, Name: callrec.DefaultOrgName, Created: o.Created, PartnerID: callrec.RootPartner,
		Region: "US", Language: callrec.DefaultLanguage, Recording: callrec.DefaultOrgRecording()}
	if *o != want {
		t.Errorf("EnsureOrg = %+v, want %+v", *o, want)
	}
	var doc *callrec.Org
	var listed []callrec.Org
	var byName *callrec.Org
	err = s.View(ctx, func(tx directory.Tx) error {
		var err error
		if doc, err = directory.Orgs.Get(ctx, tx, o.ID, o.ID); err != nil {
			return err
		}
		if byName, err = directory.Orgs.Lookup(ctx, tx, "orgname:"+callrec.DefaultOrgName); err != nil {
			return err
		}
		listed, err = directory.Orgs.List(ctx, tx, "")
		return err
	})
	if err != nil {
		t.Fatalf("directory.Orgs: %v", err)
	}
	if *doc != want || *byName != want {
		t.Errorf("directory.Orgs.Get = %+v, Lookup = %+v; want %+v", *doc, *byName, want)
	}
	if len(listed) != 1 || listed[0] != want {
		t.Errorf("directory.Orgs.List = %+v, want [%+v]", listed, want)
	}
	// A second EnsureOrg keeps what the control plane changed.
	doc.Recording.Entitled = true
	doc.Region = "EU"
	update(t, s, func(tx directory.Tx) error { return directory.Orgs.Put(ctx, tx, doc) })
	again, err := s.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		t.Fatalf("second EnsureOrg: %v", err)
	}
	if *again != *doc {
		t.Errorf("EnsureOrg after a change = %+v, want the changed %+v", *again, *doc)
	}
}

var errSentinel = errors.New("storetest: fn failed")

func testRollbackOnError(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	rec := fullRecording(recID(1), org.ID, time.Now().Add(-time.Hour))
	rec.Hold, rec.ExpiresAt = false, time.Time{}
	mustCreate(t, s, rec)
	err := s.Update(ctx, func(tx directory.Tx) error {
		if err := directory.People.Put(ctx, tx, person("p-1", org.ID, "a@example.com", "1001")); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, &callrec.AuditEntry{OrgID: org.ID, Action: "create", ObjectType: "person", ObjectID: "p-1"}); err != nil {
			return err
		}
		if _, err := tx.SetRetention(ctx, rec.OwnerID, false, time.Now()); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errSentinel)
	})
	if !errors.Is(err, errSentinel) {
		t.Fatalf("Update error = %v, want fn's error", err)
	}
	checkNothingCommitted(t, s, org.ID)
	if got := mustGet(t, s, rec.ID); !got.ExpiresAt.IsZero() {
		t.Errorf("recording expiry after the rolled-back SetRetention = %v, want none", got.ExpiresAt)
	}
}

// checkNothingCommitted checks that person p-1, its email and any audit
// entry of org are absent.
func checkNothingCommitted(t *testing.T, s Store, orgID string) {
	t.Helper()
	if _, err := getRecord(t, s, "person", "p-1"); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("person after rollback: Get error = %v, want ErrNotFound", err)
	}
	if _, err := lookup(t, s, directory.EmailKey("a@example.com")); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("email key after rollback: Lookup error = %v, want ErrNotFound", err)
	}
	var entries []callrec.AuditEntry
	err := s.View(t.Context(), func(tx directory.Tx) error {
		var err error
		entries, err = tx.ListAudit(t.Context(), directory.AuditQuery{OrgID: orgID})
		return err
	})
	if err != nil || len(entries) != 0 {
		t.Errorf("audit after rollback = %d entries, %v; want none", len(entries), err)
	}
}

func testRollbackOnPanic(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	recovered := func() (p any) {
		defer func() { p = recover() }()
		_ = s.Update(ctx, func(tx directory.Tx) error {
			if err := directory.People.Put(ctx, tx, person("p-1", org.ID, "a@example.com", "1001")); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, &callrec.AuditEntry{OrgID: org.ID, Action: "create"}); err != nil {
				return err
			}
			panic("storetest: boom")
		})
		return nil
	}()
	if recovered != "storetest: boom" {
		t.Fatalf("Update recovered %v, want the panic to go on", recovered)
	}
	checkNothingCommitted(t, s, org.ID)
	// The write connection was given back: writes go on.
	if err := putErr(t, s, directory.People, person("p-1", org.ID, "a@example.com", "1001")); err != nil {
		t.Fatalf("Update after a panic: %v", err)
	}
	mustCreate(t, s, fullRecording(recID(1), org.ID, time.Now()))
}

func testViewReadOnly(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	p := person("p-1", org.ID, "a@example.com", "1001")
	writes := []struct {
		name string
		do   func(tx directory.Tx) error
	}{
		{"Put", func(tx directory.Tx) error { return directory.People.Put(ctx, tx, p) }},
		{"Delete", func(tx directory.Tx) error { return tx.Delete(ctx, "org", org.ID) }},
		{"AppendAudit", func(tx directory.Tx) error {
			return tx.AppendAudit(ctx, &callrec.AuditEntry{OrgID: org.ID, Action: "create"})
		}},
		{"SetRetention", func(tx directory.Tx) error { _, err := tx.SetRetention(ctx, "owner", true, time.Now()); return err }},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			var inner error
			err := s.View(ctx, func(tx directory.Tx) error {
				inner = w.do(tx)
				return nil
			})
			if err != nil {
				t.Fatalf("View: %v", err)
			}
			if inner == nil {
				t.Errorf("%s in a View succeeded, want an error", w.name)
			}
		})
	}
	checkNothingCommitted(t, s, org.ID)
	if _, err := s.OrgByID(ctx, org.ID); err != nil {
		t.Errorf("org after a Delete in a View: %v", err)
	}
}

func testViewSnapshot(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	a := person("a", org.ID, "a@example.com", "1001")
	if err := putErr(t, s, directory.People, a); err != nil {
		t.Fatalf("Put a: %v", err)
	}
	reading := make(chan struct{})
	written := make(chan error, 1)
	go func() {
		<-reading
		written <- s.Update(ctx, func(tx directory.Tx) error {
			changed := *a
			changed.FirstName = "Changed"
			return errors.Join(directory.People.Put(ctx, tx, &changed),
				directory.People.Put(ctx, tx, person("b", org.ID, "b@example.com", "1002")),
				tx.AppendAudit(ctx, &callrec.AuditEntry{OrgID: org.ID, Action: "create", ObjectID: "b"}))
		})
	}()
	read := func(tx directory.Tx) (people []callrec.Person, audit int, err error) {
		if people, err = directory.People.List(ctx, tx, org.ID); err != nil {
			return nil, 0, err
		}
		entries, err := tx.ListAudit(ctx, directory.AuditQuery{})
		return people, len(entries), err
	}
	err := s.View(ctx, func(tx directory.Tx) error {
		first, audit, err := read(tx)
		if err != nil {
			return err
		}
		close(reading)
		select {
		case err := <-written:
			if err != nil {
				return fmt.Errorf("an Update while a View is open: %w", err)
			}
		case <-time.After(20 * time.Second):
			return errors.New("an Update waited for an open View: Views must not block writers")
		}
		second, audit2, err := read(tx)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(first, second) || audit2 != audit {
			return fmt.Errorf("the View saw a commit made after its first read: people %+v then %+v, audit %d then %d", first, second, audit, audit2)
		}
		if _, err := directory.People.Get(ctx, tx, org.ID, "b"); !errors.Is(err, callrec.ErrNotFound) {
			return fmt.Errorf("the View found b, stored after its first read: %v", err)
		}
		if _, err := tx.Lookup(ctx, directory.EmailKey("b@example.com")); !errors.Is(err, callrec.ErrNotFound) {
			return fmt.Errorf("the View found b's key, stored after its first read: %v", err)
		}
		if len(first) != 1 || first[0].FirstName != a.FirstName {
			return fmt.Errorf("the View read %+v, want a as first stored", first)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A new View sees the commit.
	err = s.View(ctx, func(tx directory.Tx) error {
		people, audit, err := read(tx)
		if err != nil {
			return err
		}
		if len(people) != 2 || people[0].FirstName != "Changed" || audit != 1 {
			return fmt.Errorf("a View after the commit read %+v and %d audit entries, want a changed, b, and 1 entry", people, audit)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testConcurrentUpdates(t *testing.T, s Store) {
	const workers, rounds = 8, 25
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	counter := directory.Record{Kind: "job", ID: "counter", OrgID: org.ID, Data: []byte(`0`)}
	update(t, s, func(tx directory.Tx) error { return tx.Put(ctx, counter) })
	errs := make(chan error, workers+4)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				// Read, modify, write: a lost update would show in the total.
				err := s.Update(ctx, func(tx directory.Tx) error {
					r, err := tx.Get(ctx, "job", "counter")
					if err != nil {
						return err
					}
					var n int
					if err := json.Unmarshal(r.Data, &n); err != nil {
						return err
					}
					r.Data = []byte(fmt.Sprint(n + 1))
					if err := tx.Put(ctx, r); err != nil {
						return err
					}
					id := fmt.Sprintf("w%d-%d", w, i)
					if err := directory.People.Put(ctx, tx, person(id, org.ID, id+"@example.com", id)); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, &callrec.AuditEntry{OrgID: org.ID, Action: "update", ObjectType: "job", ObjectID: "counter"})
				})
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, i, err)
					return
				}
			}
		})
	}
	// Recording writes and Views run meanwhile.
	wg.Go(func() {
		for i := range rounds {
			r := fullRecording(recID(i), org.ID, time.Now())
			if err := s.CreateRecording(ctx, r); err != nil {
				errs <- fmt.Errorf("recording %d: %w", i, err)
				return
			}
		}
	})
	wg.Go(func() {
		for range rounds {
			err := s.View(ctx, func(tx directory.Tx) error {
				_, err := tx.List(ctx, "person", org.ID)
				return err
			})
			if err != nil {
				errs <- fmt.Errorf("view: %w", err)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
		if strings.Contains(strings.ToLower(err.Error()), "locked") || strings.Contains(strings.ToLower(err.Error()), "busy") {
			t.Error("the store let an Update see a lock error instead of queueing it")
		}
	}
	r, err := getRecord(t, s, "job", "counter")
	if err != nil {
		t.Fatalf("Get counter: %v", err)
	}
	if string(r.Data) != fmt.Sprint(workers*rounds) {
		t.Errorf("counter = %s after %d serialised increments", r.Data, workers*rounds)
	}
	if n := len(listRecords(t, s, "person", org.ID)); n != workers*rounds {
		t.Errorf("%d people stored, want %d", n, workers*rounds)
	}
}
