package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/google/uuid"
)

// Default settings of an org created by EnsureOrg (and of the documents
// written for orgs made before the control plane existed).
const defaultRegion = "US"

// defaultOrg is the document of an org made by EnsureOrg: managed by the
// root partner, hosted in the US region, announcements in the default
// language, and the default recording configuration (not entitled, R2).
func defaultOrg(id, name string, created time.Time) *callrec.Org {
	return &callrec.Org{
		ID:        id,
		Name:      name,
		Created:   created,
		PartnerID: callrec.RootPartner,
		Region:    defaultRegion,
		Language:  callrec.DefaultLanguage,
		Recording: callrec.DefaultOrgRecording(),
	}
}

// EnsureOrg returns the org named name, creating it (with a new UUID and
// the defaults of defaultOrg) when it does not exist; an org row without
// its document gets one. Concurrent calls with the same name return the
// same org. A name equal but for case to another org's is
// callrec.ErrConflict.
func (s *Store) EnsureOrg(ctx context.Context, name string) (*callrec.Org, error) {
	if name == "" {
		return nil, fmt.Errorf("sqlite: ensure org: empty name: %w", callrec.ErrInvalid)
	}
	if err := checkText("org name", name); err != nil {
		return nil, fmt.Errorf("sqlite: ensure org: %w", err)
	}
	var org *callrec.Org
	err := s.Update(ctx, func(tx directory.Tx) error {
		t := tx.(*txn)
		if _, err := t.tx.ExecContext(ctx,
			`INSERT INTO orgs (id, name, created_us) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
			uuid.NewString(), name, micros(now())); err != nil {
			return mapErr(err)
		}
		var id string
		var created int64
		if err := t.tx.QueryRowContext(ctx, `SELECT id, created_us FROM orgs WHERE name = $1`, name).Scan(&id, &created); err != nil {
			return err
		}
		o, err := ensureOrgDocument(ctx, t, id, name, fromMicros(created))
		org = o
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: ensure org %q: %w", name, err)
	}
	return org, nil
}

// ensureOrgDocument returns the document of org id, writing the default
// one first when it has none.
func ensureOrgDocument(ctx context.Context, t *txn, id, name string, created time.Time) (*callrec.Org, error) {
	o, err := directory.Orgs.Get(ctx, t, "", id)
	if err == nil || !directory.IsNotFound(err) {
		return o, err
	}
	if err := directory.Orgs.Put(ctx, t, defaultOrg(id, name, created)); err != nil {
		return nil, err
	}
	// Read back, so every caller gets the org as decoded from the store.
	return directory.Orgs.Get(ctx, t, "", id)
}

// writeMissingOrgDocuments gives every org row without a document (orgs
// made by EnsureOrg before migration 00002) its default document. It
// runs after each Migrate and does nothing once every org has one.
func (s *Store) writeMissingOrgDocuments(ctx context.Context) error {
	return s.Update(ctx, func(tx directory.Tx) error {
		t := tx.(*txn)
		rows, err := t.tx.QueryContext(ctx, `SELECT id, name, created_us FROM orgs
			WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.kind = 'org' AND o.id = orgs.id) ORDER BY created_us, id`)
		if err != nil {
			return err
		}
		type row struct {
			id, name string
			created  int64
		}
		var missing []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.name, &r.created); err != nil {
				rows.Close()
				return err
			}
			missing = append(missing, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range missing {
			if _, err := ensureOrgDocument(ctx, t, r.id, r.name, fromMicros(r.created)); err != nil {
				return fmt.Errorf("org %s: %w", r.id, err)
			}
		}
		return nil
	})
}

// OrgByID returns the org with the given id, or an error wrapping
// callrec.ErrNotFound.
func (s *Store) OrgByID(ctx context.Context, id string) (*callrec.Org, error) {
	var org *callrec.Org
	err := s.View(ctx, func(tx directory.Tx) error {
		o, err := directory.Orgs.Get(ctx, tx, "", id)
		org = o
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: org %q: %w", id, err)
	}
	return org, nil
}
