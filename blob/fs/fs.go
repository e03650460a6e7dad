// Package fs is callrec's default blob store: audio objects as files in a
// folder, usually in the data dir next to the recorder's spool so a
// finished recording moves in with one rename.
//
// Keys are slash-separated relative paths ("org/2025/03/10/id.wav"); each
// segment becomes a directory or file name under the root. Writes are
// atomic: readers see the old object or the whole new one, never a part.
//
// This package must never let a key reach outside the root (absolute
// paths, "..", empty segments are refused as callrec.ErrInvalid), never
// leave a half-written object under a key, and never interpret the audio.
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/callrec/callrec"
)

// Permissions of what the store creates: the data may be personal, so
// nothing is world-readable.
const (
	dirPerm  = 0o750
	filePerm = 0o640
)

// Key limits, those of S3 so keys stay portable between blob stores.
const (
	maxKeyLen     = 1024
	maxSegmentLen = 255
)

// tempPrefix starts the name of a file being written; it is never a key's
// final segment.
const tempPrefix = ".tmp-"

// Object is an open stored object: readable, seekable (suitable for
// http.ServeContent, which serves Range requests with it), with its size
// and modification time. It is an alias so that other packages can declare
// the same type without importing this one.
type Object = interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// Store is a folder of objects. Its methods are safe for concurrent use;
// concurrent writes of one key leave one of them whole.
type Store struct {
	root string
	// rename moves a file; os.Rename except in tests of the copy path.
	rename func(oldpath, newpath string) error
}

// New returns a store rooted at root, creating the folder (mode 0750) when
// it does not exist.
func New(root string) (*Store, error) {
	if root == "" {
		return nil, fmt.Errorf("blob/fs: empty root: %w", callrec.ErrInvalid)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: root %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return nil, fmt.Errorf("blob/fs: create root %s: %w", abs, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: root %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("blob/fs: root %s is not a directory: %w", abs, callrec.ErrInvalid)
	}
	return &Store{root: abs, rename: os.Rename}, nil
}

// Root returns the absolute path of the store's folder.
func (s *Store) Root() string { return s.root }

// checkKey reports whether key is a valid object key: a relative,
// slash-separated path of non-empty segments other than "." and "..",
// valid UTF-8 without control characters or backslashes, at most 1024
// bytes with segments of at most 255. The error wraps callrec.ErrInvalid.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("blob/fs: empty key: %w", callrec.ErrInvalid)
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("blob/fs: key longer than %d bytes: %w", maxKeyLen, callrec.ErrInvalid)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("blob/fs: key %q is not valid UTF-8: %w", key, callrec.ErrInvalid)
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Errorf("blob/fs: key %q contains %q: %w", key, c, callrec.ErrInvalid)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("blob/fs: key %q has an empty segment (absolute, or a doubled or trailing slash): %w", key, callrec.ErrInvalid)
		case seg == "." || seg == "..":
			return fmt.Errorf("blob/fs: key %q has a %q segment: %w", key, seg, callrec.ErrInvalid)
		case len(seg) > maxSegmentLen:
			return fmt.Errorf("blob/fs: key %q has a segment longer than %d bytes: %w", key, maxSegmentLen, callrec.ErrInvalid)
		}
	}
	if strings.HasPrefix(key[strings.LastIndexByte(key, '/')+1:], tempPrefix) {
		return fmt.Errorf("blob/fs: key %q ends in a name starting with %q, kept for files being written: %w", key, tempPrefix, callrec.ErrInvalid)
	}
	return nil
}

// path returns the file path of key after checking it.
func (s *Store) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// mkdirs creates the directories leading to the file p.
func (s *Store) mkdirs(key, p string) error {
	if err := os.MkdirAll(filepath.Dir(p), dirPerm); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, iofs.ErrExist) {
			return fmt.Errorf("blob/fs: put %s: a prefix of the key is an object: %w", key, callrec.ErrConflict)
		}
		return fmt.Errorf("blob/fs: put %s: %w", key, err)
	}
	return nil
}

// Put stores what r yields under key, replacing any object there, and
// returns the number of bytes stored. The data goes to a temporary file in
// the key's directory, is fsynced and renamed over the key, so a crash or
// an error (of r, or ctx being cancelled) leaves the previous object, if
// any, in place.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := s.path(key)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("blob/fs: put %s: %w", key, err)
	}
	if err := s.mkdirs(key, p); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), tempPrefix+"*")
	if err != nil {
		return 0, fmt.Errorf("blob/fs: put %s: %w", key, err)
	}
	n, err := io.Copy(tmp, ctxReader{ctx, r})
	if err == nil {
		err = finishTemp(tmp)
	} else {
		_ = tmp.Close()
	}
	if err == nil {
		err = s.replace(key, tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return 0, fmt.Errorf("blob/fs: put %s: %w", key, err)
	}
	return n, nil
}

// finishTemp makes a freshly written temporary file durable and readable
// by the group, then closes it.
func finishTemp(f *os.File) error {
	err := f.Chmod(filePerm)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// replace renames the finished file src to p (the path of key) and syncs
// p's directory so the rename survives a crash.
func (s *Store) replace(key, src, p string) error {
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return fmt.Errorf("key %s is a prefix of other objects: %w", key, callrec.ErrConflict)
	}
	if err := os.Rename(src, p); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// PutFile moves the finished local file localPath in as key, replacing any
// object there. On the store's filesystem (the spool in the data dir) it is
// one rename; across filesystems the file is copied to a temporary file,
// fsynced, renamed over the key, and then localPath is removed. Either
// way localPath is gone on success and untouched on failure.
func (s *Store) PutFile(ctx context.Context, key, localPath string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob/fs: put file %s as %s: %w", localPath, key, err)
	}
	src, err := os.Open(localPath)
	if err != nil {
		return fmt.Errorf("blob/fs: put file %s as %s: %w", localPath, key, err)
	}
	fi, err := src.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file: %w", callrec.ErrInvalid)
	}
	if err == nil {
		// The recorder fsyncs at finalisation; this makes sure of it
		// before the file is published under its key.
		err = src.Sync()
	}
	if err != nil {
		_ = src.Close()
		return fmt.Errorf("blob/fs: put file %s as %s: %w", localPath, key, err)
	}
	if err := s.mkdirs(key, p); err != nil {
		_ = src.Close()
		return err
	}
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		_ = src.Close()
		return fmt.Errorf("blob/fs: put file %s as %s: key is a prefix of other objects: %w", localPath, key, callrec.ErrConflict)
	}
	err = s.rename(localPath, p)
	if err == nil {
		_ = src.Close()
		if err := syncDir(filepath.Dir(p)); err != nil {
			return fmt.Errorf("blob/fs: put file %s as %s: %w", localPath, key, err)
		}
		return nil
	}
	if !errors.Is(err, syscall.EXDEV) {
		_ = src.Close()
		return fmt.Errorf("blob/fs: put file %s as %s: %w", localPath, key, err)
	}
	// Another filesystem: copy, publish, then remove the source.
	_, err = s.Put(ctx, key, src)
	_ = src.Close()
	if err != nil {
		return fmt.Errorf("blob/fs: put file %s as %s (copy across filesystems): %w", localPath, key, err)
	}
	if err := os.Remove(localPath); err != nil {
		return fmt.Errorf("blob/fs: put file %s as %s: stored, but the source stays: %w", localPath, key, err)
	}
	return nil
}

// object is an open file with the facts Object needs.
type object struct {
	*os.File
	size int64
	mod  time.Time
}

func (o *object) Size() int64        { return o.size }
func (o *object) ModTime() time.Time { return o.mod }

// Open opens the object key for reading; callrec.ErrNotFound when there is
// none. The caller closes it.
func (s *Store) Open(ctx context.Context, key string) (Object, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blob/fs: open %s: %w", key, err)
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, fmt.Errorf("blob/fs: open %s: %w", key, callrec.ErrNotFound)
		}
		return nil, fmt.Errorf("blob/fs: open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("blob/fs: open %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("blob/fs: open %s: not an object: %w", key, callrec.ErrNotFound)
	}
	return &object{File: f, size: fi.Size(), mod: fi.ModTime()}, nil
}

// Delete removes the object key; callrec.ErrNotFound when there is none.
// Directories left empty stay (removing them would race with a Put into
// them).
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob/fs: delete %s: %w", key, err)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("blob/fs: delete %s: %w", key, callrec.ErrNotFound)
		}
		return fmt.Errorf("blob/fs: delete %s: %w", key, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("blob/fs: delete %s: not an object: %w", key, callrec.ErrNotFound)
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("blob/fs: delete %s: %w", key, callrec.ErrNotFound)
		}
		return fmt.Errorf("blob/fs: delete %s: %w", key, err)
	}
	return nil
}

// Ping checks that the root is a directory the store can write to (for
// readiness checks) by creating and removing a file in it.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob/fs: ping %s: %w", s.root, err)
	}
	f, err := os.CreateTemp(s.root, tempPrefix+"ping-*")
	if err != nil {
		return fmt.Errorf("blob/fs: ping %s: %w", s.root, err)
	}
	return errors.Join(
		wrapErr("blob/fs: ping "+s.root, f.Close()),
		wrapErr("blob/fs: ping "+s.root, os.Remove(f.Name())))
}

func wrapErr(context string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", context, err)
}
