// Package blobtest is the conformance suite every callrec blob store passes
// (fs now, s3 later): call Run from the implementation's tests. It
// declares the Store interface it tests; the planes declare their own,
// smaller interfaces.
//
// This package is for tests only: production code must never import it,
// and it must never depend on a concrete store.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callrec/callrec"
)

// Object is an open stored object. It is an alias, so a store's Open may
// return its own alias of the same interface.
type Object = interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// Store is the blob store the suite tests.
type Store interface {
	// Put stores r under key (replacing), returning the bytes stored.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// PutFile moves a finished local file in as key; the file is gone after.
	PutFile(ctx context.Context, key, localPath string) error
	// Open opens an object, or returns callrec.ErrNotFound.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes an object, or returns callrec.ErrNotFound.
	Delete(ctx context.Context, key string) error
	// Ping checks that the store can be written.
	Ping(ctx context.Context) error
}

// Run runs the suite. open must return a new, empty store; each subtest
// opens its own.
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("PutOpenRead", func(t *testing.T) { testPutOpen(t, open(t)) })
	t.Run("ReadRanges", func(t *testing.T) { testRanges(t, open(t)) })
	t.Run("ServeContentRange", func(t *testing.T) { testServeContent(t, open(t)) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, open(t)) })
	t.Run("FailedPutKeepsOld", func(t *testing.T) { testFailedPut(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, open(t)) })
	t.Run("PutFile", func(t *testing.T) { testPutFile(t, open(t)) })
	t.Run("ConcurrentPuts", func(t *testing.T) { testConcurrentPuts(t, open(t)) })
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// audio returns n bytes of random content.
func audio(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPut(t *testing.T, s Store, key string, data []byte) {
	t.Helper()
	n, err := s.Put(t.Context(), key, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Put(%s) = %d bytes, want %d", key, n, len(data))
	}
}

// readAll opens key and returns its content, checking Size against it.
func readAll(t *testing.T, s Store, key string) []byte {
	t.Helper()
	o, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	if o.Size() != int64(len(b)) {
		t.Errorf("%s: Size() = %d, read %d bytes", key, o.Size(), len(b))
	}
	return b
}

func testPutOpen(t *testing.T, s Store) {
	cases := []struct {
		name, key string
		size      int
	}{
		{"flat key", "a.wav", 4096},
		{"nested key", "org-1/2025/03/10/0f8fad5b-d9cb-469f-a165-70867728950e.wav", 300_000},
		{"empty object", "empty/zero.wav", 0},
		{"one byte", "one", 1},
		{"odd but valid characters", "dir with space/ümlaut+plus=eq,comma@at.wav", 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := audio(t, c.size)
			before := time.Now().Add(-2 * time.Second) // coarse file system clocks
			mustPut(t, s, c.key, data)
			if got := readAll(t, s, c.key); !bytes.Equal(got, data) {
				t.Fatalf("content of %s differs from what was put (%d vs %d bytes)", c.key, len(got), len(data))
			}
			o, err := s.Open(t.Context(), c.key)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer o.Close()
			if mt := o.ModTime(); mt.Before(before) || mt.After(time.Now().Add(2*time.Second)) {
				t.Errorf("ModTime() = %v, want about now", mt)
			}
		})
	}
}

func testRanges(t *testing.T, s Store) {
	const size = 100_000
	data := audio(t, size)
	mustPut(t, s, "ranges.wav", data)
	o, err := s.Open(t.Context(), "ranges.wav")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer o.Close()
	cases := []struct {
		name   string
		offset int64
		whence int
		pos    int64 // expected absolute position after Seek
		n      int   // bytes to read
	}{
		{"WAV header", 0, io.SeekStart, 0, 44},
		{"middle", 50_000, io.SeekStart, 50_000, 1234},
		{"relative forward", 766, io.SeekCurrent, 52_000, 10}, // after the middle read
		{"relative backward", -2010, io.SeekCurrent, 50_000, 100},
		{"last bytes from end", -16, io.SeekEnd, size - 16, 16},
		{"back to start", 0, io.SeekStart, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pos, err := o.Seek(c.offset, c.whence)
			if err != nil {
				t.Fatalf("Seek(%d, %d): %v", c.offset, c.whence, err)
			}
			if pos != c.pos {
				t.Fatalf("Seek(%d, %d) = %d, want %d", c.offset, c.whence, pos, c.pos)
			}
			buf := make([]byte, c.n)
			if _, err := io.ReadFull(o, buf); err != nil {
				t.Fatalf("read %d bytes at %d: %v", c.n, pos, err)
			}
			if !bytes.Equal(buf, data[pos:pos+int64(c.n)]) {
				t.Errorf("bytes at %d..%d differ from what was put", pos, pos+int64(c.n))
			}
		})
	}
	t.Run("read past end", func(t *testing.T) {
		if _, err := o.Seek(size-3, io.SeekStart); err != nil {
			t.Fatalf("Seek: %v", err)
		}
		buf := make([]byte, 10)
		n, err := io.ReadFull(o, buf)
		if n != 3 || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("ReadFull of 10 with 3 left = %d, %v; want 3, ErrUnexpectedEOF", n, err)
		}
		if !bytes.Equal(buf[:3], data[size-3:]) {
			t.Error("last 3 bytes differ from what was put")
		}
		if n, err := o.Read(buf); n != 0 || err != io.EOF {
			t.Errorf("Read at end = %d, %v; want 0, EOF", n, err)
		}
	})
	t.Run("seek before start", func(t *testing.T) {
		if _, err := o.Seek(-1, io.SeekStart); err == nil {
			t.Error("Seek(-1, SeekStart) succeeded, want an error")
		}
	})
}

func testServeContent(t *testing.T, s Store) {
	data := audio(t, 10_000)
	mustPut(t, s, "served.wav", data)
	cases := []struct {
		name, rangeHeader string
		status            int
		want              []byte
	}{
		{"whole file", "", http.StatusOK, data},
		{"first bytes", "bytes=0-43", http.StatusPartialContent, data[:44]},
		{"middle", "bytes=1000-1999", http.StatusPartialContent, data[1000:2000]},
		{"suffix", "bytes=-500", http.StatusPartialContent, data[len(data)-500:]},
		{"open end", "bytes=9990-", http.StatusPartialContent, data[9990:]},
		{"unsatisfiable", "bytes=20000-", http.StatusRequestedRangeNotSatisfiable, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := s.Open(t.Context(), "served.wav")
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer o.Close()
			req := httptest.NewRequest(http.MethodGet, "/audio", nil)
			if c.rangeHeader != "" {
				req.Header.Set("Range", c.rangeHeader)
			}
			rec := httptest.NewRecorder()
			http.ServeContent(rec, req, "served.wav", o.ModTime(), o)
			if rec.Code != c.status {
				t.Fatalf("status = %d, want %d", rec.Code, c.status)
			}
			if c.want != nil && !bytes.Equal(rec.Body.Bytes(), c.want) {
				t.Errorf("body = %d bytes, want the %d bytes of the range", rec.Body.Len(), len(c.want))
			}
		})
	}
}

func testOverwrite(t *testing.T, s Store) {
	long, short := audio(t, 20_000), audio(t, 100)
	mustPut(t, s, "dir/over.wav", long)
	mustPut(t, s, "dir/over.wav", short)
	if got := readAll(t, s, "dir/over.wav"); !bytes.Equal(got, short) {
		t.Errorf("after overwrite read %d bytes, want the %d of the second put", len(got), len(short))
	}
}

// failingReader yields some bytes, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func testFailedPut(t *testing.T, s Store) {
	old := audio(t, 5000)
	mustPut(t, s, "kept.wav", old)
	boom := errors.New("network cut")
	t.Run("reader error", func(t *testing.T) {
		_, err := s.Put(t.Context(), "kept.wav", &failingReader{data: audio(t, 3000), err: boom})
		if !errors.Is(err, boom) {
			t.Fatalf("Put with a failing reader error = %v, want it to wrap the reader's", err)
		}
		if got := readAll(t, s, "kept.wav"); !bytes.Equal(got, old) {
			t.Errorf("after a failed overwrite read %d bytes, want the old %d", len(got), len(old))
		}
		if _, err := s.Put(t.Context(), "new.wav", &failingReader{data: audio(t, 3000), err: boom}); !errors.Is(err, boom) {
			t.Fatalf("Put of a new key with a failing reader error = %v, want it to wrap the reader's", err)
		}
		if _, err := s.Open(t.Context(), "new.wav"); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("Open after a failed put error = %v, want ErrNotFound", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Put(ctx, "kept.wav", bytes.NewReader(audio(t, 100))); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with a cancelled context error = %v, want context.Canceled", err)
		}
		if got := readAll(t, s, "kept.wav"); !bytes.Equal(got, old) {
			t.Errorf("after a cancelled overwrite read %d bytes, want the old %d", len(got), len(old))
		}
	})
}

func testDelete(t *testing.T, s Store) {
	ctx := t.Context()
	mustPut(t, s, "d/one.wav", []byte("one"))
	mustPut(t, s, "d/two.wav", []byte("two"))
	if err := s.Delete(ctx, "d/one.wav"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Open(ctx, "d/one.wav"); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("Open after Delete error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "d/one.wav"); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("second Delete error = %v, want ErrNotFound", err)
	}
	if got := readAll(t, s, "d/two.wav"); string(got) != "two" {
		t.Errorf("neighbour after Delete = %q, want %q", got, "two")
	}
	mustPut(t, s, "d/one.wav", []byte("again"))
	if got := readAll(t, s, "d/one.wav"); string(got) != "again" {
		t.Errorf("put after Delete read %q, want %q", got, "again")
	}
}

func testNotFound(t *testing.T, s Store) {
	ctx := t.Context()
	mustPut(t, s, "org/2025/rec.wav", []byte("x"))
	for _, key := range []string{"missing.wav", "org/2025/other.wav", "org/2025", "org", "nowhere/deep/rec.wav", "org/2025/rec.wav/below"} {
		t.Run(key, func(t *testing.T) {
			if _, err := s.Open(ctx, key); !errors.Is(err, callrec.ErrNotFound) {
				t.Errorf("Open(%s) error = %v, want ErrNotFound", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, callrec.ErrNotFound) {
				t.Errorf("Delete(%s) error = %v, want ErrNotFound", key, err)
			}
		})
	}
}

// InvalidKeys are keys every store refuses with callrec.ErrInvalid.
var InvalidKeys = []struct{ Name, Key string }{
	{"empty", ""},
	{"absolute", "/etc/passwd"},
	{"parent", ".."},
	{"parent segment", "org/../../etc/passwd"},
	{"leading parent", "../outside.wav"},
	{"dot", "."},
	{"dot segment", "org/./rec.wav"},
	{"empty segment", "org//rec.wav"},
	{"trailing slash", "org/rec/"},
	{"backslash", `org\..\rec.wav`},
	{"NUL", "rec\x00.wav"},
	{"newline", "rec\n.wav"},
	{"not UTF-8", "rec\xff.wav"},
	{"too long", strings.Repeat("a/", 600) + "b"},
}

func testInvalidKeys(t *testing.T, s Store) {
	ctx := t.Context()
	for _, c := range InvalidKeys {
		t.Run(c.Name, func(t *testing.T) {
			if _, err := s.Put(ctx, c.Key, strings.NewReader("x")); !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("Put(%q) error = %v, want ErrInvalid", c.Key, err)
			}
			src := filepath.Join(t.TempDir(), "src.wav")
			if err := os.WriteFile(src, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := s.PutFile(ctx, c.Key, src); !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("PutFile(%q) error = %v, want ErrInvalid", c.Key, err)
			}
			if _, err := os.Stat(src); err != nil {
				t.Errorf("PutFile(%q) refused the key but took the file: %v", c.Key, err)
			}
			if _, err := s.Open(ctx, c.Key); !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("Open(%q) error = %v, want ErrInvalid", c.Key, err)
			}
			if err := s.Delete(ctx, c.Key); !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("Delete(%q) error = %v, want ErrInvalid", c.Key, err)
			}
		})
	}
}

func testPutFile(t *testing.T, s Store) {
	ctx := t.Context()
	dir := t.TempDir()
	data := audio(t, 250_000)
	src := filepath.Join(dir, "spool.wav")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile(ctx, "org/2025/03/10/rec.wav", src); err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	if _, err := os.Stat(src); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("source after PutFile: Stat error = %v, want not exist", err)
	}
	if got := readAll(t, s, "org/2025/03/10/rec.wav"); !bytes.Equal(got, data) {
		t.Errorf("content after PutFile differs (%d vs %d bytes)", len(got), len(data))
	}

	t.Run("replaces", func(t *testing.T) {
		again := audio(t, 10)
		src2 := filepath.Join(dir, "spool2.wav")
		if err := os.WriteFile(src2, again, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.PutFile(ctx, "org/2025/03/10/rec.wav", src2); err != nil {
			t.Fatalf("PutFile over an object: %v", err)
		}
		if got := readAll(t, s, "org/2025/03/10/rec.wav"); !bytes.Equal(got, again) {
			t.Errorf("content after replacing PutFile = %d bytes, want %d", len(got), len(again))
		}
	})
	t.Run("missing source", func(t *testing.T) {
		if err := s.PutFile(ctx, "nothing.wav", filepath.Join(dir, "absent.wav")); err == nil {
			t.Fatal("PutFile of a missing file succeeded")
		}
		if _, err := s.Open(ctx, "nothing.wav"); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("Open after failed PutFile error = %v, want ErrNotFound", err)
		}
	})
}

func testConcurrentPuts(t *testing.T, s Store) {
	const workers, perWorker = 8, 10
	ctx := t.Context()
	contents := make([][][]byte, workers)
	for w := range workers {
		contents[w] = make([][]byte, perWorker)
		for i := range perWorker {
			contents[w][i] = audio(t, 1000+w*100+i)
		}
	}
	key := func(w, i int) string { return fmt.Sprintf("org/2025/03/%02d/rec-%d.wav", i%3, w*perWorker+i) }
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				if _, err := s.Put(ctx, key(w, i), bytes.NewReader(contents[w][i])); err != nil {
					errs <- fmt.Errorf("worker %d: put %s: %w", w, key(w, i), err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range workers {
		for i := range perWorker {
			if got := readAll(t, s, key(w, i)); !bytes.Equal(got, contents[w][i]) {
				t.Errorf("%s: content differs (%d vs %d bytes)", key(w, i), len(got), len(contents[w][i]))
			}
		}
	}
}
