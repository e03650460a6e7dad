package audiofile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	iofs "io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/blob/fs"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/media/tone"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

// fixture: a SQLite store and a folder blob store with two orgs.
type fixture struct {
	st    *sqlite.Store
	blobs *fs.Store
	org   *callrec.Org
	other *callrec.Org
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, bl := sqlitetest.NewWithBlobs(t)
	return &fixture{st: st, blobs: bl,
		org:   sqlitetest.EntitledOrg(t, st, "acme", callrec.RootPartner),
		other: sqlitetest.EntitledOrg(t, st, "globex", callrec.RootPartner)}
}

// upload stores an announcement file document and its WAV like the API does.
func (f *fixture) upload(t *testing.T, orgID, id, key string, wav []byte) {
	t.Helper()
	if _, err := f.blobs.Put(t.Context(), key, bytes.NewReader(wav)); err != nil {
		t.Fatal(err)
	}
	sqlitetest.Update(t, f.st, func(tx directory.Tx) error {
		return directory.AnnouncementFiles.Put(t.Context(), tx, &callrec.AnnouncementFile{ID: id, OrgID: orgID, Name: "greeting", BlobKey: key, Size: int64(len(wav))})
	})
}

const fileA = "6a70ed81-adc9-489a-88c8-31b789e84585"

func TestFilesAudio(t *testing.T) {
	f := newFixture(t)
	files := NewFiles(f.st, f.blobs)
	ctx := t.Context()
	f.upload(t, f.org.ID, fileA, "announcements/a/1.wav", wavFile(tagPCM, 1, 16000, 16, pcmBytes(sine(16000, 16000, 1000))))

	t.Run("16 kHz file comes back as 8 kHz audio of its tone", func(t *testing.T) {
		pcm, err := files.Audio(ctx, f.org.ID, fileA)
		if err != nil {
			t.Fatal(err)
		}
		if len(pcm) != 8000 {
			t.Fatalf("%d samples, want 8000 (1 s at 8 kHz)", len(pcm))
		}
		if fr, _ := tone.Dominant(pcm[800:7200], prompt.Rate, []float64{440, 1000, 2000}); fr != 1000 {
			t.Errorf("dominant %v Hz, want 1000", fr)
		}
	})
	t.Run("another org's file is not found", func(t *testing.T) {
		if _, err := files.Audio(ctx, f.other.ID, fileA); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("err %v, want ErrNotFound", err)
		}
		if _, err := files.Audio(ctx, "", fileA); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("no org: err %v, want ErrNotFound", err)
		}
	})
	t.Run("unknown file is not found", func(t *testing.T) {
		if _, err := files.Audio(ctx, f.org.ID, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, callrec.ErrNotFound) {
			t.Errorf("err %v, want ErrNotFound", err)
		}
	})
	t.Run("cached: served while its blob is gone", func(t *testing.T) {
		if err := f.blobs.Delete(ctx, "announcements/a/1.wav"); err != nil {
			t.Fatal(err)
		}
		if pcm, err := files.Audio(ctx, f.org.ID, fileA); err != nil || len(pcm) != 8000 {
			t.Fatalf("cached audio: %d samples, %v", len(pcm), err)
		}
	})
	t.Run("a replaced file (new blob key) plays its new audio", func(t *testing.T) {
		f.upload(t, f.org.ID, fileA, "announcements/a/2.wav", wavFile(tagMuLaw, 1, 8000, 8, ulawBytes(sine(4000, 8000, 440))))
		pcm, err := files.Audio(ctx, f.org.ID, fileA)
		if err != nil {
			t.Fatal(err)
		}
		if fr, _ := tone.Dominant(pcm, prompt.Rate, []float64{440, 1000}); len(pcm) != 4000 || fr != 440 {
			t.Errorf("%d samples of %v Hz, want 4000 of 440 Hz", len(pcm), fr)
		}
	})
	t.Run("a file whose blob is missing is an error naming it", func(t *testing.T) {
		sqlitetest.Update(t, f.st, func(tx directory.Tx) error {
			return directory.AnnouncementFiles.Put(ctx, tx, &callrec.AnnouncementFile{ID: "7a70ed81-adc9-489a-88c8-31b789e84585", OrgID: f.org.ID, BlobKey: "announcements/a/none.wav"})
		})
		_, err := files.Audio(ctx, f.org.ID, "7a70ed81-adc9-489a-88c8-31b789e84585")
		if !errors.Is(err, callrec.ErrNotFound) || !bytes.Contains([]byte(err.Error()), []byte("announcements/a/none.wav")) {
			t.Errorf("err %v, want ErrNotFound naming the blob", err)
		}
	})
	t.Run("a blob that is no valid announcement is refused", func(t *testing.T) {
		f.upload(t, f.org.ID, "8a70ed81-adc9-489a-88c8-31b789e84585", "announcements/a/bad.wav", wavFile(tagPCM, 2, 8000, 16, make([]byte, 400)))
		if _, err := files.Audio(ctx, f.org.ID, "8a70ed81-adc9-489a-88c8-31b789e84585"); !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("err %v, want ErrInvalid", err)
		}
	})
}

func TestFilesCacheBounds(t *testing.T) {
	files := NewFiles(nil, nil)
	files.maxFiles, files.maxSamples = 3, 1000
	for i, n := range []int{100, 100, 100, 100} {
		files.add(string(rune('a'+i)), make([]int16, n))
	}
	if got := files.cachedFiles(); got != 3 || files.lookup("a") != nil || files.lookup("d") == nil {
		t.Errorf("after 4 files with room for 3: %d cached, a evicted %v", got, files.lookup("a") == nil)
	}
	files.lookup("b") // b is now the most recent; c the least
	files.add("big", make([]int16, 850))
	if files.lookup("c") != nil || files.lookup("d") != nil || files.lookup("b") == nil || files.lookup("big") == nil {
		t.Errorf("sample bound: want c and d evicted, b and big kept")
	}
	if files.samples != 950 {
		t.Errorf("%d samples accounted, want 950", files.samples)
	}
	files.add("huge", make([]int16, 1001))
	if files.lookup("huge") != nil {
		t.Errorf("audio larger than the whole cache was cached")
	}
}

// failingStore fails every Update after fn ran (a commit that fails).
type failingStore struct{ directory.Store }

func (s failingStore) Update(ctx context.Context, fn func(directory.Tx) error) error {
	return errors.New("sqlite: database is locked")
}

func TestMailboxDeposit(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	bob := callrec.Person{ID: "2d000000-0000-4000-8000-0000000000b1", OrgID: f.org.ID, Emails: []string{"bob@acme.example"}, FirstName: "Bob"}
	sqlitetest.Update(t, f.st, func(tx directory.Tx) error { return directory.People.Put(ctx, tx, &bob) })
	now := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	mb := NewMailbox(f.st, f.blobs, func() time.Time { return now }, nil)
	voice := sine(12000, 8000, 660) // 1.5 s

	t.Run("stores WAV, document and audit entry", func(t *testing.T) {
		m, err := mb.Deposit(ctx, callrec.VoiceMessage{OrgID: f.org.ID, PersonID: bob.ID, CallerNumber: "+4535351001", CallerName: "Alice", Read: true}, voice)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID == "" || m.Duration != 1500*time.Millisecond || !m.Created.Equal(now) || m.Read || m.Size != 44+24000 ||
			m.BlobKey != "voicemail/"+f.org.ID+"/"+bob.ID+"/"+m.ID+".wav" {
			t.Errorf("stored %+v", m)
		}
		obj, err := f.blobs.Open(ctx, m.BlobKey)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(obj)
		obj.Close()
		pcm, rate, err := prompt.ParseWAV(data)
		if err != nil || rate != 8000 || !slicesEqual(pcm, voice) {
			t.Errorf("blob holds %d samples at %d Hz (%v), want the 12000 deposited", len(pcm), rate, err)
		}
		doc := sqlitetest.Get(t, f.st, directory.VoiceMessages, f.org.ID, m.ID)
		if doc.PersonID != bob.ID || doc.CallerNumber != "+4535351001" || doc.CallerName != "Alice" || doc.BlobKey != m.BlobKey || doc.Read {
			t.Errorf("document %+v", doc)
		}
		var audits []callrec.AuditEntry
		if err := f.st.View(ctx, func(tx directory.Tx) error {
			var err error
			audits, err = tx.ListAudit(ctx, directory.AuditQuery{OrgID: f.org.ID, ObjectType: AuditVoiceMessage})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var after callrec.VoiceMessage
		if len(audits) != 1 || audits[0].Action != "create" || audits[0].ObjectID != m.ID || audits[0].Actor != MailboxActor ||
			json.Unmarshal(audits[0].After, &after) != nil || after.BlobKey != m.BlobKey {
			t.Errorf("audit %+v", audits)
		}
	})
	t.Run("refusals leave nothing behind", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			mb   *Mailbox
			m    callrec.VoiceMessage
			pcm  []int16
			want error
		}{
			{"unknown person", mb, callrec.VoiceMessage{ID: "m-nobody", OrgID: f.org.ID, PersonID: "2d000000-0000-4000-8000-0000000000ff"}, voice, callrec.ErrNotFound},
			{"person of another org", mb, callrec.VoiceMessage{ID: "m-other", OrgID: f.other.ID, PersonID: bob.ID}, voice, callrec.ErrNotFound},
			{"empty message", mb, callrec.VoiceMessage{ID: "m-empty", OrgID: f.org.ID, PersonID: bob.ID}, nil, callrec.ErrInvalid},
			{"no person", mb, callrec.VoiceMessage{ID: "m-none", OrgID: f.org.ID}, voice, callrec.ErrInvalid},
			{"store fails", NewMailbox(failingStore{f.st}, f.blobs, nil, nil), callrec.VoiceMessage{ID: "m-fail", OrgID: f.org.ID, PersonID: bob.ID}, voice, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := tc.mb.Deposit(ctx, tc.m, tc.pcm)
				if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
					t.Fatalf("err %v, want %v", err, tc.want)
				}
				// Only the first subtest's message is in the store.
				var wavs []string
				_ = filepath.WalkDir(filepath.Join(f.blobs.Root(), "voicemail"), func(p string, d iofs.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						wavs = append(wavs, p)
					}
					return nil
				})
				if len(wavs) != 1 {
					t.Errorf("blob left behind: %v", wavs)
				}
			})
		}
	})
}
