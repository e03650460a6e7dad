package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/google/uuid"
)

// auditColumns is the column list of the audit table in the order of
// scanAudit.
const auditColumns = `id, org_id, time_us, actor, actor_role, action, object_type, object_id, before, after, tracking_id`

// AppendAudit stores e. An empty e.ID gets a new UUID and a zero e.Time
// the current time (UTC, to the microsecond); both are written back into
// e. Before and After must be JSON when set; empty means none (read back
// as nil).
func (t *txn) AppendAudit(ctx context.Context, e *callrec.AuditEntry) error {
	if !t.write {
		return errReadOnly("append audit")
	}
	wrap := func(err error) error {
		return fmt.Errorf("sqlite: append audit %s on %s %q: %w", e.Action, e.ObjectType, e.ObjectID, err)
	}
	for _, f := range []struct{ name, v string }{
		{"id", e.ID}, {"org id", e.OrgID}, {"actor", e.Actor}, {"actor role", e.ActorRole}, {"action", e.Action},
		{"object type", e.ObjectType}, {"object id", e.ObjectID}, {"tracking id", e.TrackingID},
	} {
		if err := checkText(f.name, f.v); err != nil {
			return wrap(err)
		}
	}
	if err := checkTime("time", e.Time); err != nil {
		return wrap(err)
	}
	before, err := auditJSON("before", e.Before)
	if err != nil {
		return wrap(err)
	}
	after, err := auditJSON("after", e.After)
	if err != nil {
		return wrap(err)
	}
	id, at := e.ID, e.Time
	if id == "" {
		id = uuid.NewString()
	}
	if at.IsZero() {
		at = now()
	}
	err = t.atomically(ctx, func() error {
		seq, err := t.nextSeq(ctx, "audit")
		if err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, `INSERT INTO audit (seq, `+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			seq, id, e.OrgID, micros(at), e.Actor, e.ActorRole, e.Action, e.ObjectType, e.ObjectID, before, after, e.TrackingID)
		return mapErr(err)
	})
	if err != nil {
		return wrap(err)
	}
	e.ID, e.Time = id, at
	return nil
}

// auditJSON validates an entry's Before or After: NULL when empty, else
// JSON text.
func auditJSON(field string, b []byte) (sql.NullString, error) {
	if len(b) == 0 {
		return sql.NullString{}, nil
	}
	if !json.Valid(b) {
		return sql.NullString{}, fmt.Errorf("%s is not JSON: %w", field, callrec.ErrInvalid)
	}
	if err := checkText(field, string(b)); err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// ListAudit returns the entries q selects, newest first (entries of the
// same microsecond in reverse order of appending), skipping q.Start and
// returning at most q.Max (0: all).
func (t *txn) ListAudit(ctx context.Context, q directory.AuditQuery) ([]callrec.AuditEntry, error) {
	query, args, err := listAuditSQL(q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	defer rows.Close()
	out := []callrec.AuditEntry{}
	for rows.Next() {
		var (
			e             callrec.AuditEntry
			at            int64
			before, after sql.NullString
		)
		if err := rows.Scan(&e.ID, &e.OrgID, &at, &e.Actor, &e.ActorRole, &e.Action, &e.ObjectType, &e.ObjectID,
			&before, &after, &e.TrackingID); err != nil {
			return nil, fmt.Errorf("sqlite: list audit: %w", err)
		}
		e.Time = fromMicros(at)
		if before.Valid {
			e.Before = []byte(before.String)
		}
		if after.Valid {
			e.After = []byte(after.String)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	return out, nil
}

// listAuditSQL builds the query of ListAudit.
func listAuditSQL(q directory.AuditQuery) (string, []any, error) {
	if q.Start < 0 || q.Max < 0 {
		return "", nil, fmt.Errorf("negative start %d or max %d: %w", q.Start, q.Max, callrec.ErrInvalid)
	}
	for _, f := range []struct{ name, v string }{
		{"org id", q.OrgID}, {"object type", q.ObjectType}, {"object id", q.ObjectID}, {"actor", q.Actor},
	} {
		if err := checkText(f.name, f.v); err != nil {
			return "", nil, err
		}
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	if q.OrgID != "" {
		add("org_id = ?", q.OrgID)
	}
	if q.ObjectType != "" {
		add("object_type = ?", q.ObjectType)
	}
	if q.ObjectID != "" {
		add("object_id = ?", q.ObjectID)
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if !q.From.IsZero() {
		add("time_us >= ?", micros(q.From))
	}
	if !q.To.IsZero() {
		add("time_us < ?", micros(q.To))
	}
	query := `SELECT ` + auditColumns + ` FROM audit`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY time_us DESC, seq DESC"
	if q.Max > 0 || q.Start > 0 {
		limit := int64(math.MaxInt64) // OFFSET needs a LIMIT in SQLite
		if q.Max > 0 {
			limit = int64(q.Max)
		}
		args = append(args, limit, q.Start)
		query += " LIMIT $" + strconv.Itoa(len(args)-1) + " OFFSET $" + strconv.Itoa(len(args))
	}
	return query, args, nil
}
