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
)

// recordingColumns is the column list every recording query reads and
// writes, in the order of recordingArgs and scanRecording.
const recordingColumns = `id, org_id, sip_call_id, status, topic, topic_fold, owner_id, owner_type, owner_email,
	start_us, stop_us, created_us, duration_ms, size_bytes, sample_rate, channels, format, partial,
	end_reason, sha256, blob_key, spool_path, meta, location_id, expires_us, hold`

const numRecordingColumns = 26

// maxTopicQuery bounds RecordingQuery.Topic (SQLite refuses LIKE patterns
// over 50,000 bytes; nobody searches for a topic that long).
const maxTopicQuery = 1024

// validStatus reports whether status is one of callrec's recording statuses.
func validStatus(status string) bool {
	switch status {
	case callrec.StatusRecording, callrec.StatusAvailable, callrec.StatusDeleted, callrec.StatusPurged:
		return true
	}
	return false
}

// foldTopic is the stored and searched form of a topic for case-insensitive
// matching; Go's lower-casing works beyond ASCII, SQLite's LOWER does not.
func foldTopic(s string) string { return strings.ToLower(s) }

// recordingArgs validates r and returns its column values in the order of
// recordingColumns.
func recordingArgs(r *callrec.Recording) ([]any, error) {
	if r.ID == "" {
		return nil, fmt.Errorf("empty id: %w", callrec.ErrInvalid)
	}
	if r.OrgID == "" {
		return nil, fmt.Errorf("empty org id: %w", callrec.ErrInvalid)
	}
	if !validStatus(r.Status) {
		return nil, fmt.Errorf("unknown status %q: %w", r.Status, callrec.ErrInvalid)
	}
	texts := []struct{ name, v string }{
		{"id", r.ID}, {"org id", r.OrgID}, {"SIP Call-ID", r.SIPCallID}, {"topic", r.Topic},
		{"owner id", r.OwnerID}, {"owner type", r.OwnerType}, {"owner email", r.OwnerEmail},
		{"format", r.Format}, {"end reason", string(r.EndReason)}, {"sha256", r.SHA256},
		{"blob key", r.BlobKey}, {"spool path", r.SpoolPath}, {"location id", r.LocationID},
	}
	for _, f := range texts {
		if err := checkText(f.name, f.v); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		v    time.Time
	}{{"start", r.Start}, {"stop", r.Stop}, {"created", r.Created}, {"expires", r.ExpiresAt}} {
		if err := checkTime(f.name, f.v); err != nil {
			return nil, err
		}
	}
	meta, err := json.Marshal(r.Meta)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w: %w", callrec.ErrInvalid, err)
	}
	return []any{
		r.ID, r.OrgID, r.SIPCallID, r.Status, r.Topic, foldTopic(r.Topic), r.OwnerID, r.OwnerType, r.OwnerEmail,
		micros(r.Start), nullMicros(r.Stop), nullMicros(r.Created), r.DurationMS, r.SizeBytes,
		r.SampleRate, r.Channels, r.Format, r.Partial,
		string(r.EndReason), r.SHA256, r.BlobKey, r.SpoolPath, string(meta),
		r.LocationID, nullMicros(r.ExpiresAt), r.Hold,
	}, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanRecording(row scanner) (callrec.Recording, error) {
	var (
		r                    callrec.Recording
		topicFold, endReason string
		meta                 []byte
		start                int64
		stop, created        sql.NullInt64
		expires              sql.NullInt64
	)
	err := row.Scan(&r.ID, &r.OrgID, &r.SIPCallID, &r.Status, &r.Topic, &topicFold, &r.OwnerID, &r.OwnerType, &r.OwnerEmail,
		&start, &stop, &created, &r.DurationMS, &r.SizeBytes, &r.SampleRate, &r.Channels, &r.Format, &r.Partial,
		&endReason, &r.SHA256, &r.BlobKey, &r.SpoolPath, &meta, &r.LocationID, &expires, &r.Hold)
	if err != nil {
		return r, err
	}
	r.Start = fromMicros(start)
	r.Stop = fromNullMicros(stop)
	r.Created = fromNullMicros(created)
	r.ExpiresAt = fromNullMicros(expires)
	r.EndReason = callrec.EndReason(endReason)
	if err := json.Unmarshal(meta, &r.Meta); err != nil {
		return r, fmt.Errorf("recording %s: metadata: %w", r.ID, err)
	}
	return r, nil
}

// placeholders returns "$from, $from+1, ..., $from+n-1".
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}

var (
	insertRecordingSQL = `INSERT INTO recordings (` + recordingColumns + `) VALUES (` + placeholders(1, numRecordingColumns) + `)`
	updateRecordingSQL = func() string {
		cols := strings.Split(recordingColumns, ",")
		set := make([]string, 0, len(cols)-1)
		for i, c := range cols[1:] { // every column but id ($1)
			set = append(set, strings.TrimSpace(c)+" = $"+strconv.Itoa(i+2))
		}
		return `UPDATE recordings SET ` + strings.Join(set, ", ") + ` WHERE id = $1`
	}()
	selectRecordingSQL = `SELECT ` + recordingColumns + ` FROM recordings`
)

// CreateRecording stores a new recording. r.ID is chosen by the caller (a
// UUID); an ID already stored is callrec.ErrConflict, an OrgID naming no
// org or a malformed field callrec.ErrInvalid. Times are kept to the
// microsecond, in UTC.
func (s *Store) CreateRecording(ctx context.Context, r *callrec.Recording) error {
	args, err := recordingArgs(r)
	if err != nil {
		return fmt.Errorf("sqlite: create recording %s: %w", r.ID, err)
	}
	if _, err := s.write.ExecContext(ctx, insertRecordingSQL, args...); err != nil {
		return fmt.Errorf("sqlite: create recording %s: %w", r.ID, mapErr(err))
	}
	return nil
}

// UpdateRecording replaces every field of the stored recording r.ID (all
// but the ID are mutable) with those of r; callrec.ErrNotFound when no such
// recording exists. Hold and ExpiresAt are fields like the others: a
// caller holding an old copy puts their old values back.
func (s *Store) UpdateRecording(ctx context.Context, r *callrec.Recording) error {
	args, err := recordingArgs(r)
	if err != nil {
		return fmt.Errorf("sqlite: update recording %s: %w", r.ID, err)
	}
	res, err := s.write.ExecContext(ctx, updateRecordingSQL, args...)
	if err != nil {
		return fmt.Errorf("sqlite: update recording %s: %w", r.ID, mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: update recording %s: %w", r.ID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: update recording %s: %w", r.ID, callrec.ErrNotFound)
	}
	return nil
}

// GetRecording returns the recording id, or an error wrapping
// callrec.ErrNotFound.
func (s *Store) GetRecording(ctx context.Context, id string) (*callrec.Recording, error) {
	r, err := scanRecording(s.read.QueryRowContext(ctx, selectRecordingSQL+` WHERE id = $1`, id))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = callrec.ErrNotFound
		}
		return nil, fmt.Errorf("sqlite: get recording %s: %w", id, err)
	}
	return &r, nil
}

// DeleteRecording removes the row of recording id (not its audio: that is
// the blob store's); callrec.ErrNotFound when no such recording exists.
func (s *Store) DeleteRecording(ctx context.Context, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM recordings WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete recording %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete recording %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: delete recording %s: %w", id, callrec.ErrNotFound)
	}
	return nil
}

// likeEscaper makes a string match itself literally in a LIKE pattern with
// ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// listRecordingsSQL builds the query for q: its filters, newest Start first
// then ID descending, strictly after the (BeforeStart, BeforeID) cursor.
func listRecordingsSQL(q callrec.RecordingQuery) (string, []any, error) {
	var where []string
	var args []any
	add := func(cond string, vals ...any) {
		// cond holds one "?" per value, numbered here.
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, cond)
	}
	if q.Limit < 0 {
		return "", nil, fmt.Errorf("negative limit %d: %w", q.Limit, callrec.ErrInvalid)
	}
	for _, f := range []struct{ name, v string }{
		{"org id", q.OrgID}, {"owner id", q.OwnerID}, {"owner email", q.OwnerEmail},
		{"owner type", q.OwnerType}, {"topic", q.Topic}, {"cursor id", q.BeforeID},
	} {
		if err := checkText(f.name, f.v); err != nil {
			return "", nil, err
		}
	}
	if len(q.Topic) > maxTopicQuery {
		return "", nil, fmt.Errorf("topic filter longer than %d bytes: %w", maxTopicQuery, callrec.ErrInvalid)
	}
	if q.OrgID != "" {
		add("org_id = ?", q.OrgID)
	}
	if q.OwnerID != "" {
		add("owner_id = ?", q.OwnerID)
	}
	if q.OwnerEmail != "" {
		add("owner_email = ?", q.OwnerEmail)
	}
	if q.OwnerType != "" {
		add("owner_type = ?", q.OwnerType)
	}
	if len(q.Statuses) > 0 {
		vals := make([]any, len(q.Statuses))
		for i, st := range q.Statuses {
			if err := checkText("status", st); err != nil {
				return "", nil, err
			}
			vals[i] = st
		}
		add("status IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")", vals...)
	}
	if !q.From.IsZero() {
		add("start_us >= ?", micros(q.From))
	}
	if !q.To.IsZero() {
		add("start_us < ?", micros(q.To))
	}
	if q.Topic != "" {
		add(`topic_fold LIKE ? ESCAPE '\'`, "%"+likeEscaper.Replace(foldTopic(q.Topic))+"%")
	}
	if !q.BeforeStart.IsZero() || q.BeforeID != "" {
		add("(start_us, id) < (?, ?)", micros(q.BeforeStart), q.BeforeID)
	}
	query := selectRecordingSQL
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY start_us DESC, id DESC"
	if q.Limit > 0 {
		args = append(args, q.Limit)
		query += " LIMIT $" + strconv.Itoa(len(args))
	}
	return query, args, nil
}

// ListRecordings returns the recordings q selects, newest Start first and,
// for equal Start, ID descending. To page, pass the Start and ID of the
// last recording of a page as q.BeforeStart and q.BeforeID.
func (s *Store) ListRecordings(ctx context.Context, q callrec.RecordingQuery) ([]callrec.Recording, error) {
	query, args, err := listRecordingsSQL(q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list recordings: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list recordings: %w", err)
	}
	defer rows.Close()
	out := make([]callrec.Recording, 0, min(max(q.Limit, 16), 1000))
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list recordings: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list recordings: %w", err)
	}
	return out, nil
}
