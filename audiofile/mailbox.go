package audiofile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media/prompt"
)

// MailboxActor is the audit actor (and role) of the messages the call
// plane deposits.
const MailboxActor = "voicemail"

// AuditVoiceMessage is the audit object type of voicemail messages.
const AuditVoiceMessage = "voiceMessage"

// Mailbox stores the voicemail messages callers leave (callpath.Mailbox,
// R26): the audio as a WAV object under voicemail/<org>/<person>/<id>.wav
// in the blob store, a directory.VoiceMessages document, and an audit
// entry, the last two in one transaction. It is safe for concurrent use.
type Mailbox struct {
	store directory.Store
	blobs Blobs
	now   func() time.Time
	log   *slog.Logger
}

// NewMailbox returns a Mailbox on store and blobs; now nil means
// time.Now, log nil discards.
func NewMailbox(store directory.Store, blobs Blobs, now func() time.Time, log *slog.Logger) *Mailbox {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Mailbox{store: store, blobs: blobs, now: now, log: log}
}

// VoiceMessageKey is the blob key of a voicemail message.
func VoiceMessageKey(orgID, personID, id string) string {
	return "voicemail/" + orgID + "/" + personID + "/" + id + ".wav"
}

// Deposit stores one message for m.PersonID of m.OrgID; pcm is 8 kHz mono
// PCM. ID (a new UUID when empty), Created (now when zero), Duration,
// BlobKey and Size are set here; Read starts false. The person must exist
// in the org (else callrec.ErrNotFound) and pcm must not be empty (else
// callrec.ErrInvalid). When the document cannot be stored the blob is
// removed again.
func (mb *Mailbox) Deposit(ctx context.Context, m callrec.VoiceMessage, pcm []int16) (callrec.VoiceMessage, error) {
	if m.OrgID == "" || m.PersonID == "" {
		return callrec.VoiceMessage{}, fmt.Errorf("audiofile: deposit: org and person are required: %w", callrec.ErrInvalid)
	}
	if len(pcm) == 0 {
		return callrec.VoiceMessage{}, fmt.Errorf("audiofile: deposit for %s: empty message: %w", m.PersonID, callrec.ErrInvalid)
	}
	if m.ID == "" {
		m.ID = uuid.NewString()
	}
	if m.Created.IsZero() {
		m.Created = mb.now().UTC()
	}
	m.Duration = time.Duration(len(pcm)) * time.Second / prompt.Rate
	m.BlobKey = VoiceMessageKey(m.OrgID, m.PersonID, m.ID)
	m.Read = false
	data, err := EncodeWAV(pcm, prompt.Rate)
	if err != nil {
		return callrec.VoiceMessage{}, fmt.Errorf("audiofile: deposit %s: %w", m.ID, err)
	}
	// The person is checked before the blob is written, so a message for
	// nobody leaves nothing behind.
	if err := mb.store.View(ctx, func(tx directory.Tx) error {
		_, err := directory.People.Get(ctx, tx, m.OrgID, m.PersonID)
		return err
	}); err != nil {
		return callrec.VoiceMessage{}, fmt.Errorf("audiofile: deposit for %s: %w", m.PersonID, err)
	}
	n, err := mb.blobs.Put(ctx, m.BlobKey, bytes.NewReader(data))
	if err != nil {
		return callrec.VoiceMessage{}, fmt.Errorf("audiofile: deposit %s: %w", m.ID, err)
	}
	m.Size = n
	err = mb.store.Update(ctx, func(tx directory.Tx) error {
		if _, err := directory.People.Get(ctx, tx, m.OrgID, m.PersonID); err != nil {
			return err
		}
		if err := directory.VoiceMessages.Put(ctx, tx, &m); err != nil {
			return err
		}
		after, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &callrec.AuditEntry{OrgID: m.OrgID, Time: mb.now().UTC(), Actor: MailboxActor, ActorRole: MailboxActor,
			Action: "create", ObjectType: AuditVoiceMessage, ObjectID: m.ID, After: after})
	})
	if err != nil {
		if derr := mb.blobs.Delete(context.WithoutCancel(ctx), m.BlobKey); derr != nil && !errors.Is(derr, callrec.ErrNotFound) {
			mb.log.Error("audiofile: voicemail blob left behind after a failed deposit", "key", m.BlobKey, "err", derr)
		}
		return callrec.VoiceMessage{}, fmt.Errorf("audiofile: deposit %s: %w", m.ID, err)
	}
	mb.log.Info("voicemail message stored", "org", m.OrgID, "person", m.PersonID, "message", m.ID, "duration", m.Duration.String())
	return m, nil
}
