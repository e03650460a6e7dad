// Package sqlite is callrec's embedded state store: orgs, API tokens,
// recordings, and the control plane's JSON documents and audit log (the
// directory.Store contract: View and Update transactions) in one SQLite
// file (modernc.org/sqlite, pure Go), with the schema kept by goose
// migrations embedded in the binary.
//
// One write connection serialises every write inside the process (SQLite
// allows one writer at a time; queueing in Go beats "database is locked"),
// and a separate pool of read-only connections serves queries concurrently
// thanks to WAL mode. The SQL uses $n placeholders and portable DDL so a
// PostgreSQL store can share it.
//
// This package must never hold audio, never store an API token value (only
// its hash), and never migrate a database on Open: migrating is an explicit
// step (Store.Migrate) so operators decide when the schema changes.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"
	"time"
	"unicode/utf8"

	"github.com/callrec/callrec"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Connection settings (dependencies.md §4.8). busy_timeout covers other
// processes (e.g. a CLI subcommand) holding the write lock; in-process
// writers queue on the single write connection instead.
const (
	writeParams = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	readParams  = "_pragma=busy_timeout(5000)&_pragma=query_only(1)"
)

// Store is a SQLite state store. Its methods are safe for concurrent use.
type Store struct {
	path  string
	write *sql.DB // one connection: every write goes through it
	read  *sql.DB // read-only pool
	goose *goose.Provider
}

// Open opens (creating if missing) the SQLite database file at path and
// checks that it is usable. It does not migrate: call Migrate.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite: open: empty path: %w", callrec.ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A file: URI; the path is escaped because SQLite decodes %HH and stops
	// at '?' and '#'.
	uri := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath()

	write, err := sql.Open("sqlite", uri+"?"+writeParams)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// The write connection is opened first: it switches the file to WAL,
	// which the read-only connections cannot do.
	if err := write.PingContext(ctx); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", uri+"?"+readParams)
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		_ = write.Close()
		_ = read.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		_ = write.Close()
		_ = read.Close()
		return nil, fmt.Errorf("sqlite: open %s: migrations: %w", path, err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, write, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		_ = write.Close()
		_ = read.Close()
		return nil, fmt.Errorf("sqlite: open %s: migrations: %w", path, err)
	}
	return &Store{path: path, write: write, read: read, goose: p}, nil
}

// Migrate applies every pending migration, each in its own transaction,
// and returns the versions it applied in order (none when the schema is
// current). It then writes the control-plane document of every org that
// has none (orgs made before migration 00002), with EnsureOrg's defaults.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	results, err := s.goose.Up(ctx)
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		if r.Error == nil && r.Source != nil {
			applied = append(applied, r.Source.Version)
		}
	}
	if err != nil {
		return applied, fmt.Errorf("sqlite: migrate %s: %w", s.path, err)
	}
	if err := s.writeMissingOrgDocuments(ctx); err != nil {
		return applied, fmt.Errorf("sqlite: migrate %s: org documents: %w", s.path, err)
	}
	return applied, nil
}

// Version returns the schema version of the database: 0 when no migration
// has been applied. On a database goose has never seen it creates goose's
// version table.
func (s *Store) Version(ctx context.Context) (int64, error) {
	v, err := s.goose.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: version of %s: %w", s.path, err)
	}
	return v, nil
}

// Ping checks that both the write connection and the read pool answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping %s: %w", s.path, err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping %s: %w", s.path, err)
	}
	return nil
}

// Close closes every connection. The last one to close checkpoints the WAL
// into the database file.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// mapErr turns SQLite constraint violations into callrec error kinds,
// keeping the driver error in the chain for the log.
func mapErr(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("%w: %w", callrec.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: org does not exist: %w", callrec.ErrInvalid, err)
	}
	return err
}

// checkText rejects strings PostgreSQL cannot hold in a TEXT column
// (invalid UTF-8, NUL), so both stores accept the same input.
func checkText(field, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s is not valid UTF-8: %w", field, callrec.ErrInvalid)
	}
	for i := 0; i < len(v); i++ {
		if v[i] == 0 {
			return fmt.Errorf("%s contains a NUL byte: %w", field, callrec.ErrInvalid)
		}
	}
	return nil
}

// minYear and maxYear bound the times the store accepts: what both SQLite
// microseconds and JSON (RFC 3339) can represent.
const (
	minYear = 1
	maxYear = 9999
)

func checkTime(field string, t time.Time) error {
	if y := t.Year(); y < minYear || y > maxYear {
		return fmt.Errorf("%s %v is out of range (years %d..%d): %w", field, t, minYear, maxYear, callrec.ErrInvalid)
	}
	return nil
}

// micros is the stored form of a time: Unix microseconds, UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the inverse of micros; the zero time round-trips to the
// zero time.Time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros stores the zero time as NULL.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// now is the creation time given to orgs and tokens, truncated to what the
// store keeps so the caller's copy equals what it reads back.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
