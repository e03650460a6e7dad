// Package blob is the home of callrec's audio object stores: fs (a folder,
// the default) and s3 later. The implementations live in sub-packages and
// export concrete types; the interfaces they satisfy belong to their
// consumers (the recorder, the API), and the shared conformance suite in
// blobtest declares the one it tests.
//
// This package holds no code. Blob stores must never interpret the audio
// they hold, never know about recordings or orgs (keys are opaque
// slash-separated paths chosen by the caller), and never let a key name a
// place outside the store.
package blob
