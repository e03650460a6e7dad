package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// View runs fn in a read transaction on the read pool. Every query fn
// makes sees the database as it was at fn's first read (a WAL snapshot):
// writes committed meanwhile stay invisible until fn returns. The
// transaction is read-only: Put, Delete, AppendAudit and SetRetention
// fail. A View does not hold up writers (WAL), but it holds one
// connection of the read pool until fn returns: fn should read and
// return, not wait on other Views.
func (s *Store) View(ctx context.Context, fn func(directory.Tx) error) error {
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: view: %w", err)
	}
	return runTx(tx, &txn{tx: tx}, fn)
}

// Update runs fn in a read-write transaction on the single write
// connection (BEGIN IMMEDIATE), committed when fn returns nil and rolled
// back when it returns an error (returned as it is) or panics (the panic
// goes on after the rollback). Updates, and every other write of the
// Store, queue for the write connection, so they serialise without
// "database is locked".
//
// fn must not call the Store's other writing methods (CreateRecording,
// CreateToken, ...): they wait for the connection fn holds, a deadlock.
// Keep fn short: the recorder's writes wait for it too.
func (s *Store) Update(ctx context.Context, fn func(directory.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: update: %w", err)
	}
	return runTx(tx, &txn{tx: tx, write: true}, fn)
}

// runTx runs fn in tx and ends tx: commit (write transactions whose fn
// returned nil) or rollback (everything else, a panic or runtime.Goexit
// included).
func runTx(tx *sql.Tx, t *txn, fn func(directory.Tx) error) error {
	finished := false
	defer func() {
		if !finished {
			_ = tx.Rollback()
		}
	}()
	err := fn(t)
	finished = true
	if err != nil || !t.write {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: update: commit: %w", err)
	}
	return nil
}

// txn is a transaction as directory.Tx.
type txn struct {
	tx    *sql.Tx
	write bool
}

var _ directory.Tx = (*txn)(nil)

// errReadOnly is the error of a write in a View transaction: a bug of the
// caller, not bad input.
func errReadOnly(op string) error {
	return fmt.Errorf("sqlite: %s in a View transaction: the transaction is read-only", op)
}

// atomically runs fn inside a savepoint: when fn fails, what it wrote is
// undone and the transaction stays usable, so a caller that handles the
// error (a key conflict, say) and goes on commits nothing of the failed
// call. PostgreSQL needs the same to go on after a failed statement.
func (t *txn) atomically(ctx context.Context, fn func() error) error {
	if _, err := t.tx.ExecContext(ctx, `SAVEPOINT callrec_op`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := t.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT callrec_op`); rerr != nil {
			return errors.Join(err, rerr)
		}
		if _, rerr := t.tx.ExecContext(ctx, `RELEASE SAVEPOINT callrec_op`); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := t.tx.ExecContext(ctx, `RELEASE SAVEPOINT callrec_op`)
	return err
}

// nextSeq draws the next number of the named counter (migration 00002).
func (t *txn) nextSeq(ctx context.Context, name string) (int64, error) {
	var v int64
	err := t.tx.QueryRowContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value`, name).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("counter %s: %w", name, err)
	}
	return v, nil
}

// Get returns the record kind/id with its keys (sorted), or an error
// wrapping callrec.ErrNotFound.
func (t *txn) Get(ctx context.Context, kind, id string) (directory.Record, error) {
	r := directory.Record{Kind: kind, ID: id}
	err := t.tx.QueryRowContext(ctx, `SELECT org_id, data FROM objects WHERE kind = $1 AND id = $2`, kind, id).
		Scan(&r.OrgID, &r.Data)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = callrec.ErrNotFound
		}
		return directory.Record{}, fmt.Errorf("sqlite: get %s %q: %w", kind, id, err)
	}
	if r.Keys, err = t.keysOf(ctx, kind, id); err != nil {
		return directory.Record{}, fmt.Errorf("sqlite: get %s %q: %w", kind, id, err)
	}
	return r, nil
}

func (t *txn) keysOf(ctx context.Context, kind, id string) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT key FROM object_keys WHERE kind = $1 AND id = $2 ORDER BY key`, kind, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// checkRecord validates what Put stores: non-empty kind, id and keys,
// text PostgreSQL can hold, and JSON data.
func checkRecord(r *directory.Record) error {
	if r.Kind == "" || r.ID == "" {
		return fmt.Errorf("kind and id are required: %w", callrec.ErrInvalid)
	}
	for _, f := range []struct{ name, v string }{{"kind", r.Kind}, {"id", r.ID}, {"org id", r.OrgID}} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	for _, k := range r.Keys {
		if k == "" {
			return fmt.Errorf("empty key: %w", callrec.ErrInvalid)
		}
		if err := checkText("key", k); err != nil {
			return err
		}
	}
	if !json.Valid(r.Data) {
		return fmt.Errorf("data is not JSON: %w", callrec.ErrInvalid)
	}
	// JSON text may still hold invalid UTF-8 inside strings.
	return checkText("data", string(r.Data))
}

// keyTaken is the conflict error for key. It names the key's kind prefix
// and value (the putter's own org id dropped from org-scoped keys), never
// the record holding it, which may belong to another org.
func keyTaken(key, orgID string) error {
	prefix, rest, ok := strings.Cut(key, ":")
	if !ok {
		return fmt.Errorf("key %q is taken: %w", key, callrec.ErrConflict)
	}
	if orgID != "" {
		rest = strings.TrimPrefix(rest, orgID+":")
	}
	return fmt.Errorf("%s %q is taken: %w", prefix, rest, callrec.ErrConflict)
}

// Put inserts or replaces the record. Its keys replace the ones it held,
// all or nothing: a key another record holds (of any kind, in any org) is
// an error wrapping callrec.ErrConflict naming the key, and then nothing
// of the Put is stored. A record keeps the place in List order it got when
// first stored. The org (r.OrgID) must exist. Kind "org" also keeps the
// orgs table (id, name, created) in step; its data must be a callrec.Org
// whose ID is the record's.
func (t *txn) Put(ctx context.Context, r directory.Record) error {
	if !t.write {
		return errReadOnly("put")
	}
	wrap := func(err error) error { return fmt.Errorf("sqlite: put %s %q: %w", r.Kind, r.ID, err) }
	if err := checkRecord(&r); err != nil {
		return wrap(err)
	}
	var org *callrec.Org
	if r.Kind == directory.Orgs.Name {
		org = new(callrec.Org)
		if err := json.Unmarshal(r.Data, org); err != nil {
			return wrap(fmt.Errorf("org data: %w: %w", callrec.ErrInvalid, err))
		}
		if org.ID != r.ID || r.OrgID != r.ID {
			return wrap(fmt.Errorf("org id %q, record org %q: both must be the record id: %w", org.ID, r.OrgID, callrec.ErrInvalid))
		}
		if org.Name == "" {
			return wrap(fmt.Errorf("org name is empty: %w", callrec.ErrInvalid))
		}
		if err := checkText("org name", org.Name); err != nil {
			return wrap(err)
		}
		if err := checkTime("org created", org.Created); err != nil {
			return wrap(err)
		}
	} else if r.OrgID != "" {
		var one int
		err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM orgs WHERE id = $1`, r.OrgID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return wrap(fmt.Errorf("org %q does not exist: %w", r.OrgID, callrec.ErrInvalid))
		}
		if err != nil {
			return wrap(err)
		}
	}
	err := t.atomically(ctx, func() error {
		ts := micros(now())
		res, err := t.tx.ExecContext(ctx, `UPDATE objects SET org_id = $3, data = $4, updated_us = $5 WHERE kind = $1 AND id = $2`,
			r.Kind, r.ID, r.OrgID, string(r.Data), ts)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			seq, err := t.nextSeq(ctx, "objects")
			if err != nil {
				return err
			}
			if _, err := t.tx.ExecContext(ctx,
				`INSERT INTO objects (kind, id, org_id, data, seq, created_us, updated_us) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				r.Kind, r.ID, r.OrgID, string(r.Data), seq, ts, ts); err != nil {
				return err
			}
		}
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM object_keys WHERE kind = $1 AND id = $2`, r.Kind, r.ID); err != nil {
			return err
		}
		seen := make(map[string]bool, len(r.Keys))
		for _, k := range r.Keys {
			if seen[k] {
				continue
			}
			seen[k] = true
			res, err := t.tx.ExecContext(ctx, `INSERT INTO object_keys (key, kind, id) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, k, r.Kind, r.ID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return keyTaken(k, r.OrgID)
			}
		}
		if org != nil {
			created := org.Created
			if created.IsZero() {
				created = now()
			}
			if _, err := t.tx.ExecContext(ctx,
				`INSERT INTO orgs (id, name, created_us) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = excluded.name`,
				org.ID, org.Name, micros(created)); err != nil {
				if err := mapErr(err); errors.Is(err, callrec.ErrConflict) {
					return fmt.Errorf("org name %q is taken: %w", org.Name, callrec.ErrConflict)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrap(err)
	}
	return nil
}

// Delete removes the record and its keys; a missing record is
// callrec.ErrNotFound. An org (kind "org") is refused with
// callrec.ErrConflict while it has recordings, tokens or other objects;
// deleting it also removes it from the orgs table.
func (t *txn) Delete(ctx context.Context, kind, id string) error {
	if !t.write {
		return errReadOnly("delete")
	}
	err := t.atomically(ctx, func() error {
		if kind == directory.Orgs.Name {
			for _, c := range []struct{ what, query string }{
				{"recordings", `SELECT COUNT(*) FROM recordings WHERE org_id = $1`},
				{"tokens", `SELECT COUNT(*) FROM tokens WHERE org_id = $1`},
				{"objects", `SELECT COUNT(*) FROM objects WHERE org_id = $1 AND kind <> 'org'`},
			} {
				var n int
				if err := t.tx.QueryRowContext(ctx, c.query, id).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					return fmt.Errorf("the org still has %s (%d): %w", c.what, n, callrec.ErrConflict)
				}
			}
		}
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM object_keys WHERE kind = $1 AND id = $2`, kind, id); err != nil {
			return err
		}
		res, err := t.tx.ExecContext(ctx, `DELETE FROM objects WHERE kind = $1 AND id = $2`, kind, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return callrec.ErrNotFound
		}
		if kind == directory.Orgs.Name {
			if _, err := t.tx.ExecContext(ctx, `DELETE FROM orgs WHERE id = $1`, id); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete %s %q: %w", kind, id, err)
	}
	return nil
}

// The queries of List: records in first-stored order and their keys, of
// every org ($1 kind) or of one ($1 kind, $2 org).
const (
	listObjectsSQL    = `SELECT id, org_id, data FROM objects WHERE kind = $1 ORDER BY seq`
	listKeysSQL       = `SELECT id, key FROM object_keys WHERE kind = $1 ORDER BY key`
	listOrgObjectsSQL = `SELECT id, org_id, data FROM objects WHERE kind = $1 AND org_id = $2 ORDER BY seq`
	listOrgKeysSQL    = `SELECT k.id, k.key FROM object_keys k JOIN objects o ON o.kind = k.kind AND o.id = k.id
		WHERE k.kind = $1 AND o.org_id = $2 ORDER BY k.key`
)

// List returns the records of kind in orgID ("" = every org) in the order
// they were first stored, each with its keys (sorted).
func (t *txn) List(ctx context.Context, kind, orgID string) ([]directory.Record, error) {
	wrap := func(err error) error { return fmt.Errorf("sqlite: list %s: %w", kind, err) }
	objQuery, keyQuery := listObjectsSQL, listKeysSQL
	args := []any{kind}
	if orgID != "" {
		objQuery, keyQuery = listOrgObjectsSQL, listOrgKeysSQL
		args = append(args, orgID)
	}
	rows, err := t.tx.QueryContext(ctx, objQuery, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer rows.Close()
	out := []directory.Record{}
	index := map[string]int{}
	for rows.Next() {
		r := directory.Record{Kind: kind}
		if err := rows.Scan(&r.ID, &r.OrgID, &r.Data); err != nil {
			return nil, wrap(err)
		}
		index[r.ID] = len(out)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	krows, err := t.tx.QueryContext(ctx, keyQuery, args...)
	if err != nil {
		return nil, wrap(err)
	}
	defer krows.Close()
	for krows.Next() {
		var id, key string
		if err := krows.Scan(&id, &key); err != nil {
			return nil, wrap(err)
		}
		if i, ok := index[id]; ok {
			out[i].Keys = append(out[i].Keys, key)
		}
	}
	if err := krows.Err(); err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// Lookup returns the record holding key, or an error wrapping
// callrec.ErrNotFound.
func (t *txn) Lookup(ctx context.Context, key string) (directory.Record, error) {
	var r directory.Record
	err := t.tx.QueryRowContext(ctx, `SELECT o.kind, o.id, o.org_id, o.data FROM object_keys k
		JOIN objects o ON o.kind = k.kind AND o.id = k.id WHERE k.key = $1`, key).
		Scan(&r.Kind, &r.ID, &r.OrgID, &r.Data)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = callrec.ErrNotFound
		}
		// The key is not logged: it may be an email address.
		return directory.Record{}, fmt.Errorf("sqlite: lookup: %w", err)
	}
	if r.Keys, err = t.keysOf(ctx, r.Kind, r.ID); err != nil {
		return directory.Record{}, fmt.Errorf("sqlite: lookup: %w", err)
	}
	return r, nil
}
