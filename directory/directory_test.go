package directory_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite"
)

func TestNormalizeNumber(t *testing.T) {
	for in, want := range map[string]string{
		"+45 12 34 56 78": "+4512345678",
		"(555) 010-0199":  "5550100199",
		" 1001 ":          "1001",
		"+1.555.010.0199": "+15550100199",
		"*44":             "*44", // a dial string stays as it is
		"sales":           "sales",
		"45+12":           "45+12", // a + inside is no E.164 number
	} {
		if got := directory.NormalizeNumber(in); got != want {
			t.Errorf("NormalizeNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestKindsScopeToTheirOrg checks the promise of the package doc: an
// object read through another org is not found, keys are unique across
// kinds and orgs where they must be, and Lookup answers only for its kind.
func TestKindsScopeToTheirOrg(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := callrec.Org{ID: "00000000-0000-4000-8000-00000000000a", Name: "A"}, callrec.Org{ID: "00000000-0000-4000-8000-00000000000b", Name: "B"}
	p := callrec.Person{ID: "00000000-0000-4000-8000-000000000001", OrgID: a.ID, Emails: []string{"Ann@Example.com"}, Extension: "1001", PhoneNumbers: []string{"+45 1234 5678"}}
	err = st.Update(ctx, func(tx directory.Tx) error {
		for _, o := range []*callrec.Org{&a, &b} {
			if err := directory.Orgs.Put(ctx, tx, o); err != nil {
				return err
			}
		}
		return directory.People.Put(ctx, tx, &p)
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = st.View(ctx, func(tx directory.Tx) error {
		if _, err := directory.People.Get(ctx, tx, a.ID, p.ID); err != nil {
			t.Errorf("Get in its own org: %v", err)
		}
		if _, err := directory.People.Get(ctx, tx, b.ID, p.ID); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("Get through another org = %v, want not found", err)
		}
		for _, key := range []string{directory.EmailKey("ann@example.COM"), directory.NumberKey(a.ID, "1001"), directory.NumberKey(a.ID, "+4512345678")} {
			if got, err := directory.People.Lookup(ctx, tx, key); err != nil || got.ID != p.ID {
				t.Errorf("Lookup(%s) = %v, %v", key, got, err)
			}
		}
		if _, err := directory.People.Lookup(ctx, tx, directory.NumberKey(b.ID, "1001")); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("the extension is found in another org: %v", err)
		}
		if _, err := directory.VirtualLines.Lookup(ctx, tx, directory.NumberKey(a.ID, "1001")); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("a person's number is found as a virtual line: %v", err)
		}
		return nil
	})
	// The same extension in another org is fine; the same email is not.
	err = st.Update(ctx, func(tx directory.Tx) error {
		q := callrec.Person{ID: "00000000-0000-4000-8000-000000000002", OrgID: b.ID, Emails: []string{"bob@example.com"}, Extension: "1001"}
		return directory.People.Put(ctx, tx, &q)
	})
	if err != nil {
		t.Errorf("extension 1001 in org B: %v", err)
	}
	err = st.Update(ctx, func(tx directory.Tx) error {
		q := callrec.Person{ID: "00000000-0000-4000-8000-000000000003", OrgID: b.ID, Emails: []string{"ann@example.com"}}
		return directory.People.Put(ctx, tx, &q)
	})
	if !errors.Is(err, callrec.ErrConflict) {
		t.Errorf("an email taken in another org = %v, want a conflict", err)
	}
	// A line may not take the person's number in the same org.
	err = st.Update(ctx, func(tx directory.Tx) error {
		l := callrec.VirtualLine{ID: "00000000-0000-4000-8000-000000000004", OrgID: a.ID, PhoneNumber: "+4512345678"}
		return directory.VirtualLines.Put(ctx, tx, &l)
	})
	if !errors.Is(err, callrec.ErrConflict) {
		t.Errorf("a virtual line with a person's number = %v, want a conflict", err)
	}
}
