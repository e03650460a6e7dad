package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callrec/callrec"
	"github.com/google/uuid"
)

// tokenColumns is the column list every token query reads, in the order
// of scanToken.
const tokenColumns = `id, hash, name, role, org_id, partner_id, person_id, email, location_ids, created_us, expires_us`

// CreateToken stores an API token. Only t.Hash (the hex SHA-256 of the
// bearer value) is kept, never the value. An empty t.ID gets a new UUID and
// a zero t.Created the current time; both are written back into t on
// success. A zero t.Expires means the token never expires. A hash already
// stored is callrec.ErrConflict; an OrgID naming no org is
// callrec.ErrInvalid. An empty OrgID means no org (a partner admin).
func (s *Store) CreateToken(ctx context.Context, t *callrec.Token) error {
	if t.Hash == "" || t.Role == "" {
		return fmt.Errorf("sqlite: create token: hash and role are required: %w", callrec.ErrInvalid)
	}
	texts := []struct{ name, v string }{
		{"token id", t.ID}, {"token hash", t.Hash}, {"token name", t.Name}, {"token role", t.Role},
		{"token org id", t.OrgID}, {"token partner id", t.PartnerID}, {"token person id", t.PersonID},
		{"token email", t.Email},
	}
	for _, l := range t.LocationIDs {
		texts = append(texts, struct{ name, v string }{"token location id", l})
	}
	for _, f := range texts {
		if err := checkText(f.name, f.v); err != nil {
			return fmt.Errorf("sqlite: create token: %w", err)
		}
	}
	for _, f := range []struct {
		name string
		v    time.Time
	}{{"token created", t.Created}, {"token expires", t.Expires}} {
		if err := checkTime(f.name, f.v); err != nil {
			return fmt.Errorf("sqlite: create token: %w", err)
		}
	}
	locations := t.LocationIDs
	if locations == nil {
		locations = []string{}
	}
	locJSON, err := json.Marshal(locations)
	if err != nil {
		return fmt.Errorf("sqlite: create token: location ids: %w", err)
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
		`INSERT INTO tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		id, t.Hash, t.Name, t.Role, org, t.PartnerID, t.PersonID, t.Email, string(locJSON),
		micros(created), nullMicros(t.Expires)); err != nil {
		return fmt.Errorf("sqlite: create token %s: %w", id, mapErr(err))
	}
	t.ID, t.Created = id, created
	return nil
}

func scanToken(row scanner) (*callrec.Token, error) {
	var (
		t         callrec.Token
		org       sql.NullString
		locations string
		created   int64
		expires   sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.Hash, &t.Name, &t.Role, &org, &t.PartnerID, &t.PersonID, &t.Email,
		&locations, &created, &expires); err != nil {
		return nil, err
	}
	t.OrgID = org.String
	if err := json.Unmarshal([]byte(locations), &t.LocationIDs); err != nil {
		return nil, fmt.Errorf("token %s: location ids: %w", t.ID, err)
	}
	if len(t.LocationIDs) == 0 {
		t.LocationIDs = nil
	}
	t.Created = fromMicros(created)
	t.Expires = fromNullMicros(expires)
	return &t, nil
}

// TokenByHash returns the token whose hash is hash, or an error wrapping
// callrec.ErrNotFound. A token whose Expires has passed is not found.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*callrec.Token, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx,
		`SELECT `+tokenColumns+` FROM tokens WHERE hash = $1 AND (expires_us IS NULL OR expires_us > $2)`,
		hash, micros(now())))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			// The hash is not logged: it identifies a credential.
			return nil, fmt.Errorf("sqlite: token by hash: %w", callrec.ErrNotFound)
		}
		return nil, fmt.Errorf("sqlite: token by hash: %w", err)
	}
	return t, nil
}

// ListTokens returns the tokens of org orgID and of partner partnerID
// (an empty filter matches any), expired ones included so they can be
// deleted, oldest first.
func (s *Store) ListTokens(ctx context.Context, orgID, partnerID string) ([]callrec.Token, error) {
	var where []string
	var args []any
	if orgID != "" {
		args = append(args, orgID)
		where = append(where, "org_id = $"+strconv.Itoa(len(args)))
	}
	if partnerID != "" {
		args = append(args, partnerID)
		where = append(where, "partner_id = $"+strconv.Itoa(len(args)))
	}
	query := `SELECT ` + tokenColumns + ` FROM tokens`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_us, id"
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	defer rows.Close()
	out := []callrec.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list tokens: %w", err)
		}
		out = append(out, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	return out, nil
}

// DeleteToken revokes token id; a missing token is callrec.ErrNotFound.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM tokens WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete token %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete token %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: delete token %s: %w", id, callrec.ErrNotFound)
	}
	return nil
}

// DeleteTokensOfPerson revokes every token of person personID and returns
// how many there were. An empty personID (tokens of no person) is
// callrec.ErrInvalid.
func (s *Store) DeleteTokensOfPerson(ctx context.Context, personID string) (int, error) {
	if personID == "" {
		return 0, fmt.Errorf("sqlite: delete tokens of person: empty person id: %w", callrec.ErrInvalid)
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM tokens WHERE person_id = $1`, personID)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete tokens of person %s: %w", personID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete tokens of person %s: %w", personID, err)
	}
	return int(n), nil
}

// CountTokensByRole returns how many tokens hold role (e.g. to know whether
// the bootstrap partner admin exists), expired ones included.
func (s *Store) CountTokensByRole(ctx context.Context, role string) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE role = $1`, role).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count tokens of role %q: %w", role, err)
	}
	return n, nil
}
