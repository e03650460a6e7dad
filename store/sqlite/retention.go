package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/callrec/callrec"
)

// SetRetention applies R9 to every recording of ownerID that is not on
// hold (X3) and not purged: unlimited clears the expiry (upgrade to a
// paid plan); otherwise each is kept callrec.FreeRetention (30 days) from
// its start, as on the free plan, except that a recording already older
// than that gets 30 days from now: a downgrade never deletes at once. It returns how many recordings' expiry changed. An empty
// ownerID (recordings of no owner, in every org) is callrec.ErrInvalid.
func (t *txn) SetRetention(ctx context.Context, ownerID string, unlimited bool, now time.Time) (int, error) {
	if !t.write {
		return 0, errReadOnly("set retention")
	}
	wrap := func(err error) error { return fmt.Errorf("sqlite: set retention of %q: %w", ownerID, err) }
	if ownerID == "" {
		return 0, wrap(fmt.Errorf("empty owner id: %w", callrec.ErrInvalid))
	}
	if err := checkText("owner id", ownerID); err != nil {
		return 0, wrap(err)
	}
	if err := checkTime("now", now); err != nil {
		return 0, wrap(err)
	}
	var res sql.Result
	var err error
	if unlimited {
		res, err = t.tx.ExecContext(ctx, `UPDATE recordings SET expires_us = NULL
			WHERE owner_id = $1 AND NOT hold AND status <> $2 AND expires_us IS NOT NULL`,
			ownerID, callrec.StatusPurged)
	} else {
		const expiry = `(CASE WHEN start_us + $4 > $3 THEN start_us ELSE $3 END) + $4`
		res, err = t.tx.ExecContext(ctx, `UPDATE recordings SET expires_us = `+expiry+`
			WHERE owner_id = $1 AND NOT hold AND status <> $2 AND (expires_us IS NULL OR expires_us <> `+expiry+`)`,
			ownerID, callrec.StatusPurged, micros(now), callrec.FreeRetention.Microseconds())
	}
	if err != nil {
		return 0, wrap(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(err)
	}
	return int(n), nil
}

// expiredRecordingsSQL is the query of ExpiredRecordings.
func expiredRecordingsSQL(now time.Time, limit int) (string, []any) {
	query := selectRecordingSQL + ` WHERE expires_us <= $1 AND NOT hold AND status <> $2 ORDER BY expires_us, id`
	args := []any{micros(now), callrec.StatusPurged}
	if limit > 0 {
		query += ` LIMIT $3`
		args = append(args, limit)
	}
	return query, args
}

// ExpiredRecordings returns up to limit (0: no limit) recordings that
// retention must delete at now (R3, R9): expiry at or before now, not on
// hold (X3), not purged already. They come soonest expiry first, then by
// ID, so a worker that deletes each batch before asking again moves on.
func (s *Store) ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]callrec.Recording, error) {
	if limit < 0 {
		return nil, fmt.Errorf("sqlite: expired recordings: negative limit %d: %w", limit, callrec.ErrInvalid)
	}
	if err := checkTime("now", now); err != nil {
		return nil, fmt.Errorf("sqlite: expired recordings: %w", err)
	}
	query, args := expiredRecordingsSQL(now, limit)
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: expired recordings: %w", err)
	}
	defer rows.Close()
	out := []callrec.Recording{}
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: expired recordings: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: expired recordings: %w", err)
	}
	return out, nil
}

// SetRecordingOwner records who recording id belongs to (R3, R4): owner
// type, id and email, the owner's location and the expiry of the owner's
// plan (zero: kept without limit). Other fields, Hold included, are left
// as they are. A missing recording is callrec.ErrNotFound.
func (s *Store) SetRecordingOwner(ctx context.Context, id, ownerType, ownerID, ownerEmail, locationID string, expiresAt time.Time) error {
	for _, f := range []struct{ name, v string }{
		{"owner type", ownerType}, {"owner id", ownerID}, {"owner email", ownerEmail}, {"location id", locationID},
	} {
		if err := checkText(f.name, f.v); err != nil {
			return fmt.Errorf("sqlite: set owner of recording %s: %w", id, err)
		}
	}
	if err := checkTime("expires", expiresAt); err != nil {
		return fmt.Errorf("sqlite: set owner of recording %s: %w", id, err)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE recordings SET owner_type = $2, owner_id = $3, owner_email = $4,
		location_id = $5, expires_us = $6 WHERE id = $1`,
		id, ownerType, ownerID, ownerEmail, locationID, nullMicros(expiresAt))
	if err != nil {
		return fmt.Errorf("sqlite: set owner of recording %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: set owner of recording %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: set owner of recording %s: %w", id, callrec.ErrNotFound)
	}
	return nil
}
