package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/blob/fs"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

// The concrete stores the binary wires in satisfy the interfaces declared here.
var (
	_ Store = (*sqlite.Store)(nil)
	_ Blobs = (*fs.Store)(nil)
)

// TestWithRealStores runs the main flows over the SQLite store and the
// folder blob store, which keep times to the microsecond and check their
// input, to catch what the in-memory fakes cannot.
func TestWithRealStores(t *testing.T) {
	ctx := t.Context()
	st, bl := sqlitetest.NewWithBlobs(t)
	org, err := st.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		t.Fatal(err)
	}
	sqlitetest.AddToken(t, st, adminToken, callrec.Token{Name: "bootstrap", Role: callrec.RolePartnerAdmin,
		PartnerID: callrec.RootPartner, Email: "root@partner.example"})
	audio := bytes.Repeat([]byte("RIFF-wave-data-"), 100)
	for i := range 25 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		// Sub-microsecond parts are dropped by the store; pairs share a start.
		start := testNow.Add(-time.Duration(i/2+1)*time.Minute + 123456789*time.Nanosecond)
		rec := &callrec.Recording{
			ID: id, OrgID: org.ID, SIPCallID: "rs-" + id, Status: callrec.StatusAvailable, Topic: "Call " + id,
			OwnerType: callrec.OwnerOrg, Start: start, Stop: start.Add(time.Minute), Created: start.Add(time.Minute),
			DurationMS: 60_000, SizeBytes: int64(len(audio)), SampleRate: 8000, Channels: 2, Format: "WAV",
			EndReason: callrec.EndBye, BlobKey: "rec/" + id + ".wav",
		}
		if err := st.CreateRecording(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if _, err := bl.Put(ctx, rec.BlobKey, bytes.NewReader(audio)); err != nil {
			t.Fatal(err)
		}
	}
	h, err := New(Config{PublicURL: publicURL, SigningKey: []byte("0123456789abcdef"), Now: func() time.Time { return testNow }}, st, bl)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, target, body string, hdr ...string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+adminToken)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	seen := map[string]bool{}
	var sizes []int
	for target := "/v1/admin/convergedRecordings?max=10"; target != ""; {
		w := do("GET", target, "")
		items := listPage(t, w)
		sizes = append(sizes, len(items))
		for _, it := range items {
			if seen[it.ID] {
				t.Errorf("%s listed twice", it.ID)
			}
			seen[it.ID] = true
		}
		target = ""
		if m := linkRE.FindStringSubmatch(w.Header().Get("Link")); m != nil {
			target = strings.TrimPrefix(m[1], publicURL)
		}
		if len(sizes) > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if fmt.Sprint(sizes) != "[10 10 5]" || len(seen) != 25 {
		t.Errorf("pages %v, %d distinct", sizes, len(seen))
	}

	id := "00000000-0000-4000-8000-000000000003"
	var det recordingJSON
	if w := do("GET", "/v1/convergedRecordings/"+id, ""); w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &det) != nil || det.Links == nil {
		t.Fatalf("details: %d %s", w.Code, w.Body.String())
	}
	w := do("GET", strings.TrimPrefix(det.Links.AudioDownloadLink, publicURL), "", "Range", "bytes=4-9")
	if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), audio[4:10]) {
		t.Errorf("range download: %d %q", w.Code, w.Body.String())
	}

	if w := do("POST", "/v1/convergedRecordings/softDelete", `{"recordingIds": ["`+id+`"]}`); w.Code != 204 {
		t.Fatalf("softDelete: %d %s", w.Code, w.Body.String())
	}
	if got := ids(listPage(t, do("GET", "/v1/convergedRecordings?status=deleted", ""))); fmt.Sprint(got) != "["+id+"]" {
		t.Errorf("recycle bin = %v", got)
	}
	if w := do("DELETE", "/v1/convergedRecordings/"+id, `{"reason": "audit"}`); w.Code != 204 {
		t.Fatalf("DELETE: %d %s", w.Code, w.Body.String())
	}
	rec, err := st.GetRecording(ctx, id)
	if err != nil || rec.Status != callrec.StatusPurged {
		t.Errorf("after DELETE: %v %v", rec, err)
	}
	if _, err := bl.Open(ctx, "rec/"+id+".wav"); err == nil {
		t.Error("audio still in the blob store")
	}
	if w := do("GET", "/v1/convergedRecordings?topic=%00", ""); w.Code != 400 {
		t.Errorf("NUL topic = %d, want 400", w.Code)
	}
}
