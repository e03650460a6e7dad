package audiofile

import (
	"container/list"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// Object is an open blob: what a blob store's Open returns (blob/fs).
type Object = interface {
	io.ReadSeekCloser
	// Size is the length of the object in bytes.
	Size() int64
	// ModTime is when the object was last written.
	ModTime() time.Time
}

// Blobs is what audiofile needs of the blob store (blob/fs.Store
// satisfies it).
type Blobs interface {
	// Put stores what r yields under key and returns its length.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open opens the object, or returns an error wrapping callrec.ErrNotFound.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes the object; a missing one is callrec.ErrNotFound.
	Delete(ctx context.Context, key string) error
}

// Cache bounds of Files: decoded audio is kept for at most this many
// files and this many samples in all (16 Mi samples = 32 MiB, about 35
// minutes of 8 kHz audio).
const (
	DefaultCacheFiles   = 32
	DefaultCacheSamples = 16 << 20
)

// Files serves uploaded announcement files to the call plane as 8 kHz PCM
// (callpath.AnnouncementFiles). Decoded audio is cached by file and blob
// key: a replaced file gets a new blob key, so the cache never serves
// the old audio. It is safe for concurrent use.
type Files struct {
	store      directory.Store
	blobs      Blobs
	maxFiles   int
	maxSamples int

	mu      sync.Mutex
	lru     *list.List // of *cached, most recent first
	byKey   map[string]*list.Element
	samples int
}

type cached struct {
	key string
	pcm []int16
}

// NewFiles returns a Files reading documents from store and audio from
// blobs, with the default cache bounds.
func NewFiles(store directory.Store, blobs Blobs) *Files {
	return &Files{store: store, blobs: blobs, maxFiles: DefaultCacheFiles, maxSamples: DefaultCacheSamples,
		lru: list.New(), byKey: map[string]*list.Element{}}
}

// Audio returns the audio of announcement file fileID of org orgID as
// 8 kHz mono PCM. The slice is shared with the cache: callers must not
// change it. A file that does not exist (or is another org's) is an
// error wrapping callrec.ErrNotFound.
func (f *Files) Audio(ctx context.Context, orgID, fileID string) ([]int16, error) {
	var doc *callrec.AnnouncementFile
	err := f.store.View(ctx, func(tx directory.Tx) error {
		var err error
		doc, err = directory.AnnouncementFiles.Get(ctx, tx, orgID, fileID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audiofile: announcement %s: %w", fileID, err)
	}
	if orgID == "" || doc.OrgID != orgID {
		return nil, fmt.Errorf("audiofile: announcement %s: %w", fileID, callrec.ErrNotFound)
	}
	key := doc.ID + "\x00" + doc.BlobKey
	if pcm := f.lookup(key); pcm != nil {
		return pcm, nil
	}
	data, err := f.read(ctx, doc.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("audiofile: announcement %s: %w", fileID, err)
	}
	pcm, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("audiofile: announcement %s (%s): %w", fileID, doc.BlobKey, err)
	}
	f.add(key, pcm)
	return pcm, nil
}

// read returns the whole object, refusing one larger than an
// announcement may be.
func (f *Files) read(ctx context.Context, key string) ([]byte, error) {
	obj, err := f.blobs.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	if obj.Size() > MaxAnnouncementBytes {
		return nil, fmt.Errorf("blob %s has %d bytes, more than an announcement may: %w", key, obj.Size(), callrec.ErrInvalid)
	}
	data, err := io.ReadAll(io.LimitReader(obj, MaxAnnouncementBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", key, err)
	}
	return data, nil
}

func (f *Files) lookup(key string) []int16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.byKey[key]; ok {
		f.lru.MoveToFront(e)
		return e.Value.(*cached).pcm
	}
	return nil
}

// add caches pcm under key and evicts the least recently used entries
// beyond the bounds. Audio larger than the whole cache is not kept.
func (f *Files) add(key string, pcm []int16) {
	if len(pcm) > f.maxSamples {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.byKey[key]; ok {
		return
	}
	f.byKey[key] = f.lru.PushFront(&cached{key: key, pcm: pcm})
	f.samples += len(pcm)
	for f.lru.Len() > f.maxFiles || f.samples > f.maxSamples {
		old := f.lru.Back()
		c := old.Value.(*cached)
		f.lru.Remove(old)
		delete(f.byKey, c.key)
		f.samples -= len(c.pcm)
	}
}

// cachedFiles is how many files the cache holds (tests).
func (f *Files) cachedFiles() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lru.Len()
}
