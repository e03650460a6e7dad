package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/callrec/callrec"
	"github.com/google/uuid"
)

// EnsureOrg returns the org named name, creating it (with a new UUID) when
// it does not exist. Concurrent calls with the same name return the same org.
func (s *Store) EnsureOrg(ctx context.Context, name string) (*callrec.Org, error) {
	if name == "" {
		return nil, fmt.Errorf("sqlite: ensure org: empty name: %w", callrec.ErrInvalid)
	}
	if err := checkText("org name", name); err != nil {
		return nil, fmt.Errorf("sqlite: ensure org: %w", err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ensure org %q: %w", name, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO orgs (id, name, created_us) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
		uuid.NewString(), name, micros(now())); err != nil {
		return nil, fmt.Errorf("sqlite: ensure org %q: %w", name, mapErr(err))
	}
	o, err := scanOrg(tx.QueryRowContext(ctx, `SELECT id, name, created_us FROM orgs WHERE name = $1`, name))
	if err != nil {
		return nil, fmt.Errorf("sqlite: ensure org %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: ensure org %q: %w", name, err)
	}
	return o, nil
}

// OrgByID returns the org with the given id, or an error wrapping
// callrec.ErrNotFound.
func (s *Store) OrgByID(ctx context.Context, id string) (*callrec.Org, error) {
	o, err := scanOrg(s.read.QueryRowContext(ctx, `SELECT id, name, created_us FROM orgs WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: org %q: %w", id, err)
	}
	return o, nil
}

func scanOrg(row *sql.Row) (*callrec.Org, error) {
	var o callrec.Org
	var created int64
	if err := row.Scan(&o.ID, &o.Name, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, callrec.ErrNotFound
		}
		return nil, err
	}
	o.Created = fromMicros(created)
	return &o, nil
}

// CreateToken stores an API token. Only t.Hash (the hex SHA-256 of the
// bearer value) is kept, never the value. An empty t.ID gets a new UUID and
// a zero t.Created the current time; both are written back into t on
// success. A hash
// already stored is callrec.ErrConflict; an OrgID naming no org is
// callrec.ErrInvalid. An empty OrgID means no org (a partner admin).
func (s *Store) CreateToken(ctx context.Context, t *callrec.Token) error {
	if t.Hash == "" || t.Role == "" {
		return fmt.Errorf("sqlite: create token: hash and role are required: %w", callrec.ErrInvalid)
	}
	for _, f := range []struct{ name, v string }{{"token id", t.ID}, {"token hash", t.Hash}, {"token name", t.Name}, {"token role", t.Role}, {"token org id", t.OrgID}} {
		if err := checkText(f.name, f.v); err != nil {
			return fmt.Errorf("sqlite: create token: %w", err)
		}
	}
	if err := checkTime("token created", t.Created); err != nil {
		return fmt.Errorf("sqlite: create token: %w", err)
	}
	id, created := t.ID, t.Created
	if id == "" {
		id = uuid.NewString()
	}
	if created.IsZero() {
		created = now()
	}
	org := sql.NullString{String: t.OrgID, Valid: t.OrgID != ""}
	if _, err := s.write.ExecContext(ctx,
		`INSERT INTO tokens (id, hash, name, role, org_id, created_us) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, t.Hash, t.Name, t.Role, org, micros(created)); err != nil {
		return fmt.Errorf("sqlite: create token %s: %w", id, mapErr(err))
	}
	t.ID, t.Created = id, created
	return nil
}

// TokenByHash returns the token whose hash is hash, or an error wrapping
// callrec.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*callrec.Token, error) {
	var t callrec.Token
	var org sql.NullString
	var created int64
	err := s.read.QueryRowContext(ctx,
		`SELECT id, hash, name, role, org_id, created_us FROM tokens WHERE hash = $1`, hash).
		Scan(&t.ID, &t.Hash, &t.Name, &t.Role, &org, &created)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			// The hash is not logged: it identifies a credential.
			return nil, fmt.Errorf("sqlite: token by hash: %w", callrec.ErrNotFound)
		}
		return nil, fmt.Errorf("sqlite: token by hash: %w", err)
	}
	t.OrgID = org.String
	t.Created = fromMicros(created)
	return &t, nil
}

// CountTokensByRole returns how many tokens hold role (e.g. to know whether
// the bootstrap partner admin exists).
func (s *Store) CountTokensByRole(ctx context.Context, role string) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE role = $1`, role).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count tokens of role %q: %w", role, err)
	}
	return n, nil
}
