// Package audiofile keeps the audio admins and callers leave with callrec
// that is not a recording: the custom announcements admins upload (Webex
// "announcement repository") and the voicemail messages callers leave.
//
// It checks uploaded announcement WAVs ([Check]: RIFF WAVE, 16-bit PCM or
// G.711, mono, 8 or 16 kHz), serves their audio to the call plane as 8 kHz
// PCM ([Files], which implements callpath.AnnouncementFiles with a small
// cache), and stores voicemail messages ([Mailbox], which implements
// callpath.Mailbox) as WAV objects in the blob store with a
// directory.VoiceMessages document and an audit entry.
//
// The package must never decide who may upload, read or delete a file
// (the API does), never keep a blob whose document could not be stored,
// and never block a call on a slow store for longer than the caller's
// context allows.
package audiofile
