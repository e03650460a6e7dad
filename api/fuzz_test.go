package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/store/sqlite"
)

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(cursor{start: time.Date(2026, 3, 9, 7, 27, 29, 123456789, time.UTC), id: "ea0efc7c-f83a-4972-b0eb-c0f30cff5e61"}))
	f.Add(encodeCursor(cursor{start: time.Date(2024, 10, 4, 16, 20, 20, 0, time.UTC), id: "baa93e55c62e4663ae24f13fbfdb247f"}))
	f.Add("")
	f.Add("MjAyNi0wMy0wOVQwNzoyNzoyOVo")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if status, _ := classify(err); status != http.StatusBadRequest {
				t.Fatalf("decodeCursor(%q) error maps to %d, want 400", s, status)
			}
			return
		}
		again, err := decodeCursor(encodeCursor(c))
		if err != nil || !again.start.Equal(c.start) || again.id != c.id {
			t.Fatalf("round trip of %q: %v -> %v, %v", s, c, again, err)
		}
	})
}

func FuzzParseISOTime(f *testing.F) {
	for _, s := range []string{
		"2024-10-04T16:20:20Z", "2023-10-31T16:24:12+08:00", "2024-10-04T16:20:20.123Z",
		"2024-10-04T16:20:20", "2024-10-04", "2024-10-04T16:20", "2024-10-04T16:20:20+0800", "yesterday", "",
	} {
		f.Add(s)
	}
	sg, err := time.LoadLocation("Asia/Singapore")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, ok := parseISOTime(s, sg)
		if !ok {
			return
		}
		if y := tm.Year(); y < 0 || y > 9999 {
			t.Fatalf("parseISOTime(%q) = %v, year out of range", s, tm)
		}
	})
}

// fuzzEnv builds a small API with a few recordings for the fuzz targets,
// over dir (opened once per fuzz worker by the target).
func fuzzEnv(t *testing.T, dir *sqlite.Store) *env {
	e := newEnvOn(t, dir)
	for i, id := range []string{"a", "b", "c", "d"} {
		e.recording(id, testNow.Add(-time.Duration(i+1)*time.Hour), func(r *callrec.Recording) {
			r.OwnerEmail = "alice@example.com"
		})
	}
	return e
}

func FuzzListQuery(f *testing.F) {
	for _, q := range []string{
		"", "max=2", "max=10&from=2026-03-01T00:00:00Z&to=2026-03-10T00:00:00Z", "status=deleted&topic=call",
		"ownerEmail=alice%40example.com&ownerType=org&timezone=Asia/Singapore", "max=0", "cursor=%%%", "from=2026-03-11",
		"timezone=../../etc/passwd", "format=MP3&serviceType=customerAssist", "max=1&orgId=" + recOrgA,
		"orgId=org-a", "ownerId=" + webexID(idPerson, "24683d6c-5529-4b60-a6c7-91e8b293bbab") + "&locationId=" + webexID(idLocation, recOrgA),
	} {
		f.Add(q)
	}
	dir := openRecDirectory(f)
	f.Fuzz(func(t *testing.T, raw string) {
		e := fuzzEnv(t, dir)
		for _, path := range []string{"/v1/convergedRecordings", "/v1/admin/convergedRecordings"} {
			r := httptest.NewRequest("GET", path, nil)
			r.URL.RawQuery = raw
			r.Header.Set("Authorization", "Bearer "+adminToken)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			switch w.Code {
			case http.StatusOK:
				var out struct{ Items []json.RawMessage }
				if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.Items == nil {
					t.Fatalf("%s?%s: bad list body %q", path, raw, w.Body.String())
				}
				if link := w.Header().Get("Link"); link != "" {
					u, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`))
					if err != nil {
						t.Fatalf("Link %q: %v", link, err)
					}
					r2 := httptest.NewRequest("GET", u.RequestURI(), nil)
					r2.Header.Set("Authorization", "Bearer "+adminToken)
					w2 := httptest.NewRecorder()
					e.h.ServeHTTP(w2, r2)
					if w2.Code != http.StatusOK {
						t.Fatalf("next link %s = %d %s", link, w2.Code, w2.Body.String())
					}
				}
			case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound:
				// 404: an orgId that names no org (§1.3).
				var b errorBody
				if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.Message == "" {
					t.Fatalf("%s?%s: bad error body %q", path, raw, w.Body.String())
				}
			default:
				t.Fatalf("%s?%s = %d %s", path, raw, w.Code, w.Body.String())
			}
		}
	})
}

func FuzzActionBody(f *testing.F) {
	for _, b := range []string{
		`{"trashAll": false, "recordingIds": ["a"]}`, `{"trashAll": true, "ownerEmail": "alice@example.com"}`,
		`{"restoreAll": true, "ownerEmail": "alice@example.com"}`, `{"purgeAll": false, "recordingIds": ["b", "c"]}`,
		`{"reassignOwnerEmail": "new@example.com", "ownerID": "x", "recordingIds": ["a"]}`,
		`{"reason": "audit", "comment": "Compliance Officer's optional explanation"}`, ``, `[]`, `{"recordingIds": "a"}`, `{`, `null`,
	} {
		f.Add(b)
	}
	paths := []struct{ method, path string }{
		{"POST", "/v1/convergedRecordings/softDelete"},
		{"POST", "/v1/convergedRecordings/restore"},
		{"POST", "/v1/convergedRecordings/purge"},
		{"POST", "/v1/convergedRecordings/reassign"},
		{"DELETE", "/v1/convergedRecordings/d"},
	}
	dir := openRecDirectory(f)
	f.Fuzz(func(t *testing.T, body string) {
		e := fuzzEnv(t, dir)
		for _, p := range paths {
			w := e.do(p.method, p.path, adminToken, body)
			switch w.Code {
			case http.StatusNoContent:
			case http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge:
				var b errorBody
				if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.Message == "" {
					t.Fatalf("%s %s: bad error body %q", p.method, p.path, w.Body.String())
				}
			default:
				t.Fatalf("%s %s %q = %d %s", p.method, p.path, body, w.Code, w.Body.String())
			}
		}
	})
}
