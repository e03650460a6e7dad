// Package retention is the worker that deletes recordings whose retention
// has run out (R3: 30 days on the free plan; R9: after a downgrade), unless
// they are on legal hold (X3). Every deletion is audited (X4) with the
// actor "retention".
//
// It decides nothing about plans: a recording's ExpiresAt is set by the
// recorder and the control plane from policy (policy.Expiry, Downgrade);
// this worker only carries out what is due. It must never delete a
// recording on hold, one without an expiry, or one not yet due, and never
// mark a recording purged while its audio is still in the blob store.
package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// Defaults of Config.
const (
	// DefaultInterval is the time between two passes.
	DefaultInterval = time.Hour
	// DefaultBatch is how many due recordings one query returns.
	DefaultBatch = 100
)

// Actor is the audit actor of the worker's deletions.
const Actor = "retention"

// Store is what the worker needs of the state store.
type Store interface {
	// View and Update give the audit log (directory.Tx.AppendAudit).
	directory.Store
	// ExpiredRecordings returns up to limit recordings due at now (expiry
	// at or before now, not on hold, not purged), soonest expiry first.
	ExpiredRecordings(ctx context.Context, now time.Time, limit int) ([]callrec.Recording, error)
	// GetRecording returns the recording or an error wrapping callrec.ErrNotFound.
	GetRecording(ctx context.Context, id string) (*callrec.Recording, error)
	// UpdateRecording stores the recording's new state.
	UpdateRecording(ctx context.Context, r *callrec.Recording) error
}

// Blobs is what the worker needs of the audio store.
type Blobs interface {
	// Delete removes the object; a missing object is callrec.ErrNotFound.
	Delete(ctx context.Context, key string) error
}

// Config configures the worker.
type Config struct {
	// Interval is the time between passes; zero means DefaultInterval.
	// The first pass runs when Run starts.
	Interval time.Duration
	// Batch is how many due recordings are read at a time; zero means
	// DefaultBatch.
	Batch int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Worker deletes expired recordings.
type Worker struct {
	cfg   Config
	store Store
	blobs Blobs
	log   *slog.Logger
}

// New returns a worker; log nil discards its logs.
func New(cfg Config, store Store, blobs Blobs, log *slog.Logger) (*Worker, error) {
	if store == nil || blobs == nil {
		return nil, fmt.Errorf("retention: new: store and blob store are required: %w", callrec.ErrInvalid)
	}
	if cfg.Interval < 0 || cfg.Batch < 0 {
		return nil, fmt.Errorf("retention: new: negative interval %v or batch %d: %w", cfg.Interval, cfg.Batch, callrec.ErrInvalid)
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{cfg: cfg, store: store, blobs: blobs, log: log.With("component", "retention")}, nil
}

// Run makes a pass at once and then every Interval until ctx is done; it
// returns nil then. A failed pass is logged and retried at the next
// interval.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		n, err := w.Pass(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			w.log.Error("retention pass failed; retrying at the next interval", "purged", n, "err", err)
		case n > 0:
			w.log.Info("retention pass purged expired recordings", "purged", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass purges every recording due now and returns how many it purged.
// For each: the recording is read again (a hold or a new expiry set since
// the query wins), its audio deleted, the row marked purged, and an
// "expire" entry audited in the recording's org. It stops at the first
// failure, which the next pass retries.
func (w *Worker) Pass(ctx context.Context) (int, error) {
	now := w.cfg.Now().UTC()
	purged := 0
	for {
		due, err := w.store.ExpiredRecordings(ctx, now, w.cfg.Batch)
		if err != nil {
			return purged, fmt.Errorf("retention: list expired recordings: %w", err)
		}
		done := 0
		for i := range due {
			ok, err := w.purge(ctx, due[i].ID, now)
			if err != nil {
				return purged, err
			}
			if ok {
				purged++
				done++
			}
		}
		// A batch that purged nothing (all held or re-dated meanwhile)
		// would come back unchanged: stop rather than spin.
		if len(due) < w.cfg.Batch || done == 0 {
			return purged, nil
		}
	}
}

// due says whether r must be deleted at now (R3, R9, X3).
func due(r *callrec.Recording, now time.Time) bool {
	return !r.Hold && !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(now) &&
		r.Status != callrec.StatusPurged && r.Status != callrec.StatusRecording
}

// auditState is what the audit entry keeps of a purged recording.
type auditState struct {
	Status     string    `json:"status"`
	OwnerType  string    `json:"ownerType"`
	OwnerID    string    `json:"ownerId"`
	OwnerEmail string    `json:"ownerEmail,omitempty"`
	ExpiresAt  time.Time `json:"expiresAt"`
	Hold       bool      `json:"hold"`
}

func stateOf(r *callrec.Recording) auditState {
	return auditState{Status: r.Status, OwnerType: r.OwnerType, OwnerID: r.OwnerID, OwnerEmail: r.OwnerEmail, ExpiresAt: r.ExpiresAt.UTC(), Hold: r.Hold}
}

// purge deletes one due recording; false when it is no longer due.
func (w *Worker) purge(ctx context.Context, id string, now time.Time) (bool, error) {
	r, err := w.store.GetRecording(ctx, id)
	if errors.Is(err, callrec.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("retention: read recording %s: %w", id, err)
	}
	if !due(r, now) {
		return false, nil
	}
	if r.BlobKey != "" {
		if err := w.blobs.Delete(ctx, r.BlobKey); err != nil && !errors.Is(err, callrec.ErrNotFound) {
			return false, fmt.Errorf("retention: delete audio of recording %s: %w", id, err)
		}
	}
	before := stateOf(r)
	upd := *r
	upd.Status = callrec.StatusPurged
	if err := w.store.UpdateRecording(ctx, &upd); err != nil {
		return false, fmt.Errorf("retention: mark recording %s purged: %w", id, err)
	}
	if err := w.audit(ctx, r.OrgID, id, before, stateOf(&upd), now); err != nil {
		return false, err
	}
	w.log.Info("recording expired and purged", "recording", id, "org", r.OrgID, "owner", r.OwnerID,
		"expired", r.ExpiresAt.UTC().Format(time.RFC3339))
	return true, nil
}

// audit records the expiry (X4).
func (w *Worker) audit(ctx context.Context, orgID, id string, before, after auditState, now time.Time) error {
	b, err := json.Marshal(before)
	if err != nil {
		return fmt.Errorf("retention: audit %s: %w", id, err)
	}
	a, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("retention: audit %s: %w", id, err)
	}
	e := &callrec.AuditEntry{OrgID: orgID, Time: now, Actor: Actor, ActorRole: Actor, Action: "expire",
		ObjectType: "recording", ObjectID: id, Before: b, After: a}
	if err := w.store.Update(ctx, func(tx directory.Tx) error { return tx.AppendAudit(ctx, e) }); err != nil {
		return fmt.Errorf("retention: audit expiry of recording %s: %w", id, err)
	}
	return nil
}
