// Package sqlitetest gives other packages' tests the real stores the
// binary wires in: a migrated SQLite store, and next to it a folder blob
// store, both in the test's temporary folder and closed when the test ends.
// It also stores the documents many fixtures start from: bearer tokens
// (hashed the way the API looks them up), entitled orgs and locations.
//
// This package is for tests only: production code must never import it,
// and it must never hold fixtures of one package (orgs, people, plans):
// those stay with the tests that read them.
package sqlitetest

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/blob/fs"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/google/uuid"
)

// New opens a SQLite store in a new temporary folder of tb, migrates it
// and closes it at tb's cleanup. It fails tb when any step fails.
func New(tb testing.TB) *sqlite.Store {
	tb.Helper()
	return open(tb, tb.TempDir())
}

// NewWithBlobs is New plus a folder blob store under the same temporary
// folder (in "audio"), as `callrec serve` lays them out.
func NewWithBlobs(tb testing.TB) (*sqlite.Store, *fs.Store) {
	tb.Helper()
	dir := tb.TempDir()
	st := open(tb, dir)
	bl, err := fs.New(filepath.Join(dir, "audio"))
	if err != nil {
		tb.Fatalf("sqlitetest: blob store: %v", err)
	}
	return st, bl
}

func open(tb testing.TB, dir string) *sqlite.Store {
	tb.Helper()
	ctx := tb.Context()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "callrec.db"))
	if err != nil {
		tb.Fatalf("sqlitetest: open: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatalf("sqlitetest: migrate: %v", err)
	}
	return st
}

// HashToken is the SHA-256 of a bearer value in lower-case hex: the hash
// under which tokens are stored and looked up.
func HashToken(bearer string) string {
	sum := sha256.Sum256([]byte(bearer))
	return hex.EncodeToString(sum[:])
}

// AddToken stores tok under the hash of bearer and fails tb on an error.
// tok's other fields (role, org, partner, name) are stored as given.
func AddToken(tb testing.TB, st *sqlite.Store, bearer string, tok callrec.Token) {
	tb.Helper()
	tok.Hash = HashToken(bearer)
	if err := st.CreateToken(tb.Context(), &tok); err != nil {
		tb.Fatalf("sqlitetest: token %q: %v", tok.Name, err)
	}
}

// Update runs fn in a document transaction of st and fails tb on an error.
func Update(tb testing.TB, st *sqlite.Store, fn func(tx directory.Tx) error) {
	tb.Helper()
	if err := st.Update(tb.Context(), fn); err != nil {
		tb.Fatalf("sqlitetest: update: %v", err)
	}
}

// EntitledOrg returns the org named name (created when missing), made an
// org of partner hosted in region "US" and entitled to recording.
func EntitledOrg(tb testing.TB, st *sqlite.Store, name, partner string) *callrec.Org {
	tb.Helper()
	org, err := st.EnsureOrg(tb.Context(), name)
	if err != nil {
		tb.Fatalf("sqlitetest: org %q: %v", name, err)
	}
	org.PartnerID, org.Region, org.Recording.Entitled = partner, "US", true
	Update(tb, st, func(tx directory.Tx) error { return directory.Orgs.Put(tb.Context(), tx, org) })
	return org
}

// Location stores a new location of org in time zone tz, language en_US,
// created at created.
func Location(tb testing.TB, st *sqlite.Store, orgID, name, tz string, created time.Time) callrec.Location {
	tb.Helper()
	l := callrec.Location{ID: uuid.NewString(), OrgID: orgID, Name: name, TimeZone: tz, Language: "en_US", Created: created}
	Update(tb, st, func(tx directory.Tx) error { return directory.Locations.Put(tb.Context(), tx, &l) })
	return l
}

// Get reads the document id of kind k (of org orgID, "" = any org) and
// fails tb on an error, callrec.ErrNotFound included.
func Get[T any](tb testing.TB, st *sqlite.Store, k directory.Kind[T], orgID, id string) *T {
	tb.Helper()
	var v *T
	if err := st.View(tb.Context(), func(tx directory.Tx) error {
		var err error
		v, err = k.Get(tb.Context(), tx, orgID, id)
		return err
	}); err != nil {
		tb.Fatalf("sqlitetest: get %s %q: %v", k.Name, id, err)
	}
	return v
}

// Mutate reads the document id of kind k, changes it with fn and stores
// it back in one transaction, bypassing the API (for state another part
// owns). It fails tb on an error.
func Mutate[T any](tb testing.TB, st *sqlite.Store, k directory.Kind[T], orgID, id string, fn func(*T)) {
	tb.Helper()
	Update(tb, st, func(tx directory.Tx) error {
		v, err := k.Get(tb.Context(), tx, orgID, id)
		if err != nil {
			return err
		}
		fn(v)
		return k.Put(tb.Context(), tx, v)
	})
}
