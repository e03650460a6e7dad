package callpath

import (
	"context"

	"github.com/callrec/callrec"
)

// AnnouncementFiles opens the audio of announcement files admins uploaded
// (custom compliance, start, stop, pause, resume and failure prompts:
// policy.Announcement.FileID).
type AnnouncementFiles interface {
	// Audio returns the file's audio as 8 kHz mono PCM (prompt.Rate), or
	// an error wrapping callrec.ErrNotFound.
	Audio(ctx context.Context, orgID, fileID string) ([]int16, error)
}

// Mailbox keeps the voicemail messages callers leave (R26).
type Mailbox interface {
	// Deposit stores one message; pcm is 8 kHz mono PCM of what the
	// caller said. It returns the message as stored (its ID set).
	Deposit(ctx context.Context, m callrec.VoiceMessage, pcm []int16) (callrec.VoiceMessage, error)
}
