package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// JournalMode returns the journal mode of the database file.
func JournalMode(ctx context.Context, s *Store) (string, error) {
	var mode string
	err := s.read.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
	return mode, err
}

// ExplainList returns SQLite's query plan for ListRecordings(q), one step
// a line.
func ExplainList(ctx context.Context, s *Store, q callrec.RecordingQuery) (string, error) {
	query, args, err := listRecordingsSQL(q)
	if err != nil {
		return "", err
	}
	return explain(ctx, s, query, args...)
}

// ExplainControlPlane returns the query plans of the control plane's
// list queries by name: objects of a kind (every org, one org),
// audit (q), and expired recordings.
func ExplainControlPlane(ctx context.Context, s *Store, q directory.AuditQuery) (map[string]string, error) {
	auditQuery, auditArgs, err := listAuditSQL(q)
	if err != nil {
		return nil, err
	}
	expired, expiredArgs := expiredRecordingsSQL(time.Now(), 100)
	queries := []struct {
		name  string
		query string
		args  []any
	}{
		{"objects", listObjectsSQL, []any{"person"}},
		{"org objects", listOrgObjectsSQL, []any{"person", "o"}},
		{"audit", auditQuery, auditArgs},
		{"expired", expired, expiredArgs},
	}
	plans := map[string]string{}
	for _, q := range queries {
		p, err := explain(ctx, s, q.query, q.args...)
		if err != nil {
			return nil, err
		}
		plans[q.name] = p
	}
	return plans, nil
}

func explain(ctx context.Context, s *Store, query string, args ...any) (string, error) {
	rows, err := s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			return "", err
		}
		b.WriteString(detail)
		b.WriteByte('\n')
	}
	return b.String(), rows.Err()
}

// MigrateTo applies the migrations up to version only (to build a
// database as an older callrec left it).
func MigrateTo(ctx context.Context, s *Store, version int64) error {
	_, err := s.goose.UpTo(ctx, version)
	return err
}

// Exec runs a statement on the write connection.
func Exec(ctx context.Context, s *Store, query string, args ...any) error {
	_, err := s.write.ExecContext(ctx, query, args...)
	return err
}
