package api

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec/audiofile"
	blobfs "github.com/callrec/callrec/blob/fs"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media/tone"
)

// annFixture is the call recording fixture with a blob store the test
// can look into.
func annFixture(t *testing.T) (*crFixture, *blobfs.Store) {
	t.Helper()
	f := newCRFixture(t)
	bl, err := blobfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f.h, err = New(Config{PublicURL: "https://callrec.example", SigningKey: []byte("0123456789abcdef"), Now: func() time.Time { return crNow }}, f.st, bl)
	if err != nil {
		t.Fatal(err)
	}
	return f, bl
}

// testWAV is a mono 16-bit WAV of a 1 kHz tone: seconds long at rate,
// then with the fmt chunk's channel count and rate patched when asked
// (the bytes stay the same, only the header lies).
func testWAV(t *testing.T, rate int, seconds float64) []byte {
	t.Helper()
	pcm := make([]int16, int(float64(rate)*seconds))
	var ph float64
	tone.Sine(pcm, rate, 1000, 0.5, &ph)
	b, err := audiofile.EncodeWAV(pcm, rate)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func patchWAV(b []byte, channels, rate int) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint16(b[22:], uint16(channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	return b
}

// form builds a multipart/form-data body with a name field (when not
// empty) and a file part (when fileName is not empty).
func form(name, fileName string, data []byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if name != "" {
		_ = mw.WriteField("name", name)
	}
	if fileName != "" {
		w, _ := mw.CreateFormFile("file", fileName)
		_, _ = w.Write(data)
	}
	_ = mw.Close()
	return &b, mw.FormDataContentType()
}

// send sends a multipart request.
func (f *crFixture) send(token, method, path string, body *bytes.Buffer, ct string) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(method, path, body)
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", ct)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// uploadFile uploads data and returns the new id; it fails unless 201.
func (f *crFixture) uploadFile(token, path, name, fileName string, data []byte) string {
	f.t.Helper()
	body, ct := form(name, fileName, data)
	w := f.send(token, "POST", path, body, ct)
	if w.Code != http.StatusCreated {
		f.t.Fatalf("POST %s = %d %s", path, w.Code, w.Body.String())
	}
	var got announcementIDJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.ID == "" {
		f.t.Fatalf("POST %s: body %s", path, w.Body.String())
	}
	return got.ID
}

// blobFiles lists the objects under prefix in the blob store.
func blobFiles(t *testing.T, bl *blobfs.Store, prefix string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(filepath.Join(bl.Root(), prefix), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(bl.Root(), p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

// TestAnnouncementRepository walks one org through the repository (issue
// 5 point 4): upload at org and location level, list, details, use as
// the custom compliance announcement (R17), refused delete while in use
// (409), replace, delete; each change audited, blobs kept in step.
func TestAnnouncementRepository(t *testing.T) {
	f, bl := annFixture(t)
	orgWAV := testWAV(t, 8000, 1)
	orgID := f.uploadFile(crTokAdmin, annPath, "Recording notice", "notice.wav", orgWAV)
	hqPath := strings.Replace(annLocPath, "{locationId}", webexID(idLocation, f.hq.ID), 1)
	hqID := f.uploadFile(crTokAdmin, hqPath, "", "C:\\Users\\admin\\HQ greeting.wav", testWAV(t, 16000, 0.5))
	if got := blobFiles(t, bl, "announcements"); len(got) != 2 {
		t.Fatalf("blobs %v, want the two uploads", got)
	}
	if a := f.audits(auditAnnouncement, internalID(orgID)); len(a) != 1 || a[0].Action != "create" || a[0].Actor != "admin@acme.example" {
		t.Errorf("audit of the upload: %+v", a)
	}

	t.Run("lists by level", func(t *testing.T) {
		var org, hq, all announcementListJSON
		f.get(crTokAdmin, annPath, &org)
		f.get(crTokReadOnly, annPath+"?locationId="+webexID(idLocation, f.hq.ID), &hq)
		f.get(crTokLocAdmin, annPath+"?locationId=all", &all)
		want := announcementJSON{ID: orgID, Name: "Recording notice", FileName: "notice.wav", FileSize: "16", MediaFileType: "WAV",
			LastUpdated: crTime(crNow), Level: levelOrg}
		if len(org.Announcements) != 1 || org.Announcements[0] != want {
			t.Errorf("org level %+v, want %+v", org.Announcements, want)
		}
		if len(hq.Announcements) != 1 || hq.Announcements[0].ID != hqID || hq.Announcements[0].Level != levelLocation ||
			hq.Announcements[0].Name != "HQ greeting" || hq.Announcements[0].FileName != "HQ greeting.wav" ||
			hq.Announcements[0].Location == nil || hq.Announcements[0].Location.Name != "HQ" {
			t.Errorf("HQ level %+v", hq.Announcements)
		}
		if len(all.Announcements) != 2 {
			t.Errorf("all %+v, want both files", all.Announcements)
		}
	})
	t.Run("the location path reaches only the location's files", func(t *testing.T) {
		branch := strings.Replace(annLocPath, "{locationId}", webexID(idLocation, f.branch.ID), 1)
		if w := f.do(crTokAdmin, "GET", branch+"/"+hqID, ""); w.Code != http.StatusNotFound {
			t.Errorf("HQ file through the branch path: %d %s", w.Code, w.Body.String())
		}
		var d announcementDetailJSON
		f.get(crTokAdmin, hqPath+"/"+hqID, &d)
		if d.ID != hqID || d.FeatureReferenceCount != 0 || d.FeatureReferences == nil {
			t.Errorf("detail %+v", d)
		}
	})
	t.Run("in use by the compliance announcement: 409 naming the setting", func(t *testing.T) {
		f.put(crTokAdmin, crPathCallRecording+"/complianceAnnouncement",
			`{"inboundPSTNCallsEnabled":true,"useCustomAnnouncementEnabled":true,"audioAnnouncementFileId":"`+orgID+`"}`, http.StatusNoContent)
		var d announcementDetailJSON
		f.get(crTokAdmin, annPath+"/"+orgID, &d)
		if d.FeatureReferenceCount != 1 || d.FeatureReferences[0].Name != "complianceAnnouncement" || d.FeatureReferences[0].ID != webexID(idOrg, f.orgA.ID) {
			t.Errorf("references %+v", d.FeatureReferences)
		}
		w := f.do(crTokAdmin, "DELETE", annPath+"/"+orgID, "")
		if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), `Announcement \"Recording notice\" is in use by the organization's complianceAnnouncement`) {
			t.Errorf("DELETE in use = %d %s", w.Code, w.Body.String())
		}
		if got := blobFiles(t, bl, "announcements"); len(got) != 2 {
			t.Errorf("blobs %v after a refused delete", got)
		}
	})
	t.Run("replace: new audio and name, old blob gone", func(t *testing.T) {
		before := orgADoc(t, f, directory.AnnouncementFiles, internalID(orgID))
		body, ct := form("Recording notice v2", "notice2.wav", testWAV(t, 8000, 2))
		if w := f.send(crTokAdmin, "PUT", annPath+"/"+orgID, body, ct); w.Code != http.StatusNoContent {
			t.Fatalf("PUT = %d %s", w.Code, w.Body.String())
		}
		after := orgADoc(t, f, directory.AnnouncementFiles, internalID(orgID))
		if after.BlobKey == before.BlobKey || after.Name != "Recording notice v2" || after.FileName != "notice2.wav" || after.Size != 44+32000 || !after.Updated.Equal(crNow) {
			t.Errorf("after replace %+v", after)
		}
		files := blobFiles(t, bl, "announcements")
		if len(files) != 2 || !strings.Contains(strings.Join(files, " "), after.BlobKey) || strings.Contains(strings.Join(files, " "), before.BlobKey) {
			t.Errorf("blobs %v; want the new %s, not the old %s", files, after.BlobKey, before.BlobKey)
		}
		if a := f.audits(auditAnnouncement, after.ID); len(a) != 2 || a[0].Action != "update" {
			t.Errorf("audit %+v", a)
		}
	})
	t.Run("delete once unused", func(t *testing.T) {
		f.put(crTokAdmin, crPathCallRecording+"/complianceAnnouncement", `{"useCustomAnnouncementEnabled":false,"audioAnnouncementFileId":""}`, http.StatusNoContent)
		if w := f.do(crTokAdmin, "DELETE", annPath+"/"+orgID, ""); w.Code != http.StatusNoContent {
			t.Fatalf("DELETE = %d %s", w.Code, w.Body.String())
		}
		if w := f.do(crTokAdmin, "GET", annPath+"/"+orgID, ""); w.Code != http.StatusNotFound {
			t.Errorf("GET after delete = %d", w.Code)
		}
		if got := blobFiles(t, bl, "announcements"); len(got) != 1 {
			t.Errorf("blobs %v, want only the HQ file's", got)
		}
		if a := f.audits(auditAnnouncement, internalID(orgID)); len(a) != 3 || a[0].Action != "delete" || a[0].After != nil {
			t.Errorf("audit %+v", a)
		}
	})
}

// TestAnnouncementUploadRefusals: each refused upload answers 400 naming
// what is wrong, and neither a document nor a blob is kept.
func TestAnnouncementUploadRefusals(t *testing.T) {
	f, bl := annFixture(t)
	good := testWAV(t, 8000, 0.2)
	big := make([]byte, audiofile.MaxAnnouncementBytes+100)
	copy(big, testWAV(t, 8000, 0.1))
	tests := []struct {
		name     string
		ct       string // "" = multipart
		body     string // raw body when ct is set
		field    string
		fileName string
		data     []byte
		want     string
		status   int
	}{
		{"stereo", "", "", "x", "s.wav", patchWAV(good, 2, 8000), `file \"s.wav\": the WAV file has 2 channels; announcements must be mono`, 400},
		{"44.1 kHz", "", "", "x", "cd.wav", patchWAV(good, 1, 44100), "sampled at 44100 Hz; announcements must be 8000 or 16000 Hz", 400},
		{"not a WAV", "", "", "x", "n.mp3", []byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00"), "not a WAV file", 400},
		{"over 8 MiB", "", "", "x", "long.wav", big, "announcements may have at most 8388608 (8 MiB)", 400},
		{"no file part", "", "", "x", "", nil, "file: no file part", 400},
		{"name too long", "", "", strings.Repeat("n", 81), "a.wav", good, "name: must be valid text of at most 80 characters", 400},
		{"JSON body", "application/json", `{"name":"x"}`, "", "", nil, "must be multipart/form-data", 400},
		{"broken multipart", "multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF", "", "", nil, "could not be read", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w *httptest.ResponseRecorder
			if tc.ct != "" {
				w = f.send(crTokAdmin, "POST", annPath, bytes.NewBufferString(tc.body), tc.ct)
			} else {
				body, ct := form(tc.field, tc.fileName, tc.data)
				w = f.send(crTokAdmin, "POST", annPath, body, ct)
			}
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("= %d %s; want %d with %q", w.Code, w.Body.String(), tc.status, tc.want)
			}
		})
	}
	if got := blobFiles(t, bl, "announcements"); len(got) != 0 {
		t.Errorf("blobs kept: %v", got)
	}
	var list announcementListJSON
	f.get(crTokAdmin, annPath+"?locationId=all", &list)
	if len(list.Announcements) != 0 {
		t.Errorf("documents kept: %+v", list.Announcements)
	}
	t.Run("a body over the upload bound is 413", func(t *testing.T) {
		body, ct := form("x", "huge.wav", make([]byte, uploadBodyBytes))
		if w := f.send(crTokAdmin, "POST", annPath, body, ct); w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("= %d %s", w.Code, w.Body.String())
		}
	})
}

// TestAnnouncementLocationAdmin: a location admin uploads, replaces and
// deletes its own location's files (either path), not the org's nor
// another location's; refusals come before the body is read.
func TestAnnouncementLocationAdmin(t *testing.T) {
	f, _ := annFixture(t)
	wav := testWAV(t, 8000, 0.2)
	branchPath := strings.Replace(annLocPath, "{locationId}", webexID(idLocation, f.branch.ID), 1)
	hqPath := strings.Replace(annLocPath, "{locationId}", webexID(idLocation, f.hq.ID), 1)
	id := f.uploadFile(crTokLocAdmin, branchPath, "Branch notice", "b.wav", wav)
	hqID := f.uploadFile(crTokAdmin, hqPath, "HQ notice", "h.wav", wav)
	for _, tc := range []struct {
		name, token, method, path string
		want                      int
	}{
		{"upload at its location", crTokLocAdmin, "POST", branchPath, http.StatusCreated},
		{"upload at another location", crTokLocAdmin, "POST", hqPath, http.StatusForbidden},
		{"upload at org level", crTokLocAdmin, "POST", annPath, http.StatusForbidden},
		{"read-only admin uploads", crTokReadOnly, "POST", annPath, http.StatusForbidden},
		{"replace its file through the org path", crTokLocAdmin, "PUT", annPath + "/" + id, http.StatusNoContent},
		{"replace another location's file", crTokLocAdmin, "PUT", annPath + "/" + hqID, http.StatusForbidden},
		{"another org's admin", crTokAdminB, "PUT", annPath + "/" + id, http.StatusNotFound},
		{"delete another location's file", crTokLocAdmin, "DELETE", hqPath + "/" + hqID, http.StatusForbidden},
		{"delete its file", crTokLocAdmin, "DELETE", branchPath + "/" + id, http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := form("n", "a.wav", wav)
			if tc.method == "DELETE" {
				body, ct = &bytes.Buffer{}, ""
			}
			if w := f.send(tc.token, tc.method, tc.path, body, ct); w.Code != tc.want {
				t.Errorf("%s %s = %d %s; want %d", tc.method, tc.path, w.Code, w.Body.String(), tc.want)
			}
		})
	}
}

// FuzzAnnouncementUpload feeds the upload parser arbitrary multipart
// bodies: it never panics, refuses with a 400 (or passes a 413 through),
// and what it accepts is a WAV audiofile.Check accepts.
func FuzzAnnouncementUpload(f *testing.F) {
	pcm := make([]int16, 400)
	var ph float64
	tone.Sine(pcm, 8000, 1000, 0.5, &ph)
	wav, _ := audiofile.EncodeWAV(pcm, 8000)
	for _, seed := range []struct{ name, file string }{{"Notice", "notice.wav"}, {"", "C:\\a\\b.wav"}, {"x", ""}} {
		body, ct := form(seed.name, seed.file, wav)
		f.Add(body.Bytes(), strings.TrimPrefix(ct, "multipart/form-data; boundary="))
	}
	f.Add([]byte("--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\x24\x00\x00\x00WAVE\r\n--zz--\r\n"), "zz")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		if boundary == "" || len(boundary) > 70 {
			return
		}
		up, err := readUpload(bytes.NewReader(body), boundary)
		if err != nil {
			if st, msgs := classify(err); st != http.StatusBadRequest || len(msgs) == 0 || msgs[0] == "" {
				var tooLarge *http.MaxBytesError
				if !errors.As(err, &tooLarge) {
					t.Fatalf("refusal %v answers %d %v, want a 400 with a message", err, st, msgs)
				}
			}
			return
		}
		if _, err := audiofile.Check(up.data); err != nil {
			t.Fatalf("accepted an upload Check refuses: %v", err)
		}
	})
}
