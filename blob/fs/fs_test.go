package fs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/blob/blobtest"
)

func newTemp(t *testing.T) *Store {
	t.Helper()
	s, err := New(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blobtest.Store { return newTemp(t) })
}

// TestConformanceAcrossFilesystems runs the suite with every rename from
// outside the store failing as it does between filesystems, so PutFile
// takes its copy path.
func TestConformanceAcrossFilesystems(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blobtest.Store {
		s := newTemp(t)
		s.rename = func(oldpath, newpath string) error {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EXDEV}
		}
		return s
	})
}

// files lists every file under root, relative and slash-separated.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

func TestLayoutAndPermissions(t *testing.T) {
	s := newTemp(t)
	ctx := t.Context()
	if _, err := s.Put(ctx, "org/2025/a.wav", strings.NewReader("a")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	src := filepath.Join(t.TempDir(), "spool.wav")
	if err := os.WriteFile(src, []byte("b"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile(ctx, "org/2025/b.wav", src); err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	if got := files(t, s.Root()); strings.Join(got, " ") != "org/2025/a.wav org/2025/b.wav" {
		t.Errorf("files under the root = %v, want exactly the two objects", got)
	}
	for _, c := range []struct {
		rel  string
		perm os.FileMode
	}{{".", dirPerm}, {"org", dirPerm}, {"org/2025", dirPerm}, {"org/2025/a.wav", filePerm}} {
		fi, err := os.Stat(filepath.Join(s.Root(), c.rel))
		if err != nil {
			t.Fatal(err)
		}
		// The umask may take bits away, never add them.
		if got := fi.Mode().Perm(); got&^c.perm != 0 {
			t.Errorf("%s mode = %v, want at most %v", c.rel, got, os.FileMode(c.perm))
		}
	}
}

func TestFailedWritesLeaveNoTempFiles(t *testing.T) {
	s := newTemp(t)
	ctx := t.Context()
	boom := errors.New("boom")
	if _, err := s.Put(ctx, "org/x.wav", io.MultiReader(strings.NewReader("partial"), errReader{boom})); !errors.Is(err, boom) {
		t.Fatalf("Put error = %v, want %v", err, boom)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if got := files(t, s.Root()); len(got) != 0 {
		t.Errorf("files left under the root: %v", got)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestKeyConflicts(t *testing.T) {
	s := newTemp(t)
	ctx := t.Context()
	if _, err := s.Put(ctx, "a/b", strings.NewReader("object")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	src := filepath.Join(t.TempDir(), "spool.wav")
	if err := os.WriteFile(src, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		key  string
	}{
		{"key below an object", "a/b/c"},
		{"key that is a folder of objects", "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Put(ctx, c.key, strings.NewReader("x")); !errors.Is(err, callrec.ErrConflict) {
				t.Errorf("Put(%s) error = %v, want ErrConflict", c.key, err)
			}
			if err := s.PutFile(ctx, c.key, src); !errors.Is(err, callrec.ErrConflict) {
				t.Errorf("PutFile(%s) error = %v, want ErrConflict", c.key, err)
			}
			if _, err := os.Stat(src); err != nil {
				t.Errorf("PutFile(%s) failed but took the source: %v", c.key, err)
			}
		})
	}
	o, err := s.Open(ctx, "a/b")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer o.Close()
	if b, _ := io.ReadAll(o); string(b) != "object" {
		t.Errorf("object after refused puts = %q, want %q", b, "object")
	}
}

func TestTempNamesAreNotKeys(t *testing.T) {
	s := newTemp(t)
	for _, key := range []string{".tmp-123", "org/.tmp-ping-1"} {
		if _, err := s.Put(t.Context(), key, strings.NewReader("x")); !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("Put(%s) error = %v, want ErrInvalid", key, err)
		}
	}
	if _, err := s.Put(t.Context(), ".tmp-dir/rec.wav", strings.NewReader("x")); err != nil {
		t.Errorf("Put with a .tmp- folder: %v", err)
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		root    string
		wantErr bool
	}{
		{"new nested root", filepath.Join(dir, "a", "b", "blobs"), false},
		{"existing root", dir, false},
		{"root is a file", file, true},
		{"empty root", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(c.root)
			if c.wantErr {
				if err == nil {
					t.Fatalf("New(%q) succeeded, want an error", c.root)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", c.root, err)
			}
			if fi, err := os.Stat(s.Root()); err != nil || !fi.IsDir() {
				t.Fatalf("root %s: %v", s.Root(), err)
			}
		})
	}
}

func TestPingFailsWhenRootIsGone(t *testing.T) {
	s := newTemp(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := os.Remove(s.Root()); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping succeeded with the root removed")
	}
}

func TestFreeBytes(t *testing.T) {
	s := newTemp(t)
	free, err := s.FreeBytes()
	if err != nil {
		t.Fatalf("FreeBytes: %v", err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.Root(), &st); err != nil {
		t.Fatal(err)
	}
	total := uint64(st.Blocks) * uint64(st.Bsize)
	if free == 0 || free > total {
		t.Errorf("FreeBytes = %d, want between 1 and the filesystem size %d", free, total)
	}
	// Storing 8 MiB (fsynced) takes about that much from the free space;
	// half of it leaves room for other writers and freers on the machine.
	if _, err := s.Put(t.Context(), "big", bytes.NewReader(make([]byte, 8<<20))); err != nil {
		t.Fatal(err)
	}
	after, err := s.FreeBytes()
	if err != nil {
		t.Fatalf("FreeBytes: %v", err)
	}
	if after > free || free-after < 4<<20 {
		t.Errorf("FreeBytes went from %d to %d after storing 8 MiB, want a drop of at least 4 MiB", free, after)
	}
}

// FuzzCheckKey checks that every key checkKey accepts names a path inside
// the root, below it, and that Put and Open work on it.
func FuzzCheckKey(f *testing.F) {
	for _, k := range []string{
		"0f8fad5b-d9cb-469f-a165-70867728950e.wav",
		"org-1/2025/03/10/0f8fad5b-d9cb-469f-a165-70867728950e.wav",
		"../etc/passwd", "/abs", "a//b", "a/./b", "a/..", "a\\b", "...", "..a/b..", "ü/ß.wav", ".tmp-x",
	} {
		f.Add(k)
	}
	for _, c := range blobtest.InvalidKeys {
		f.Add(c.Key)
	}
	s, err := New(filepath.Join(f.TempDir(), "blobs"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := checkKey(key)
		if err != nil {
			if !errors.Is(err, callrec.ErrInvalid) {
				t.Fatalf("checkKey(%q) = %v, want ErrInvalid", key, err)
			}
			return
		}
		p, err := s.path(key)
		if err != nil {
			t.Fatalf("path(%q): %v", key, err)
		}
		rel, err := filepath.Rel(s.Root(), p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			t.Fatalf("key %q maps to %s, not below the root %s", key, p, s.Root())
		}
		if filepath.ToSlash(rel) != key {
			t.Fatalf("key %q maps to %q under the root, want the key itself", key, rel)
		}
		n, err := s.Put(t.Context(), key, strings.NewReader(key))
		if err != nil {
			if errors.Is(err, callrec.ErrConflict) {
				return // a prefix of an earlier input's key, or the reverse
			}
			t.Fatalf("Put(%q): %v", key, err)
		}
		o, err := s.Open(t.Context(), key)
		if err != nil {
			t.Fatalf("Open(%q): %v", key, err)
		}
		b, err := io.ReadAll(o)
		o.Close()
		if err != nil || string(b) != key || n != int64(len(key)) {
			t.Fatalf("read back %q (%v), put %d bytes; want %q", b, err, n, key)
		}
		if err := s.Delete(t.Context(), key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
	})
}
