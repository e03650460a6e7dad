package sqlite

import (
	"context"
	"strings"

	"github.com/callrec/callrec"
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
