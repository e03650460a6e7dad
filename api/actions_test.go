package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
)

func TestDeleteRecording(t *testing.T) {
	e := newEnv(t)
	e.recording("r1", testNow.Add(-time.Hour))

	t.Run("purges audio and keeps the row", func(t *testing.T) {
		w := e.do("DELETE", "/v1/convergedRecordings/r1", adminToken, `{"reason": "audit", "comment": "customer asked"}`)
		if w.Code != 204 || w.Body.Len() != 0 {
			t.Fatalf("status %d body %q, want 204 empty", w.Code, w.Body.String())
		}
		if e.blobs.has("audio/r1.wav") {
			t.Error("audio blob still exists")
		}
		if got := e.store.get(t, "r1").Status; got != callrec.StatusPurged {
			t.Errorf("status = %q, want purged", got)
		}
		if !strings.Contains(e.logs.String(), `"reason":"audit"`) {
			t.Error("reason not in the audit log")
		}
	})
	t.Run("purged recording is visible to the compliance-officer admin", func(t *testing.T) {
		m := decodeMap(t, e.do("GET", "/v1/convergedRecordings/r1", adminToken, ""))
		if m["status"] != "purged" || m["temporaryDirectDownloadLinks"] != nil {
			t.Errorf("status %v links %v", m["status"], m["temporaryDirectDownloadLinks"])
		}
		got := ids(listPage(t, e.do("GET", "/v1/admin/convergedRecordings?status=purged", adminToken, "")))
		if len(got) != 1 || got[0] != "r1" {
			t.Errorf("purged list = %v", got)
		}
	})
	t.Run("repeating is harmless", func(t *testing.T) {
		if w := e.do("DELETE", "/v1/convergedRecordings/r1", adminToken, ""); w.Code != 204 {
			t.Errorf("second DELETE = %d", w.Code)
		}
	})

	e.recording("r2", testNow.Add(-time.Hour))
	cases := []struct {
		name, token, path, body string
		status                  int
		msg                     string
	}{
		{"comment over 255 characters", adminToken, "/v1/convergedRecordings/r2", `{"comment": "` + strings.Repeat("é", 256) + `"}`,
			400, "comment must be at most 255 characters"},
		{"bad JSON", adminToken, "/v1/convergedRecordings/r2", `{"comment": }`,
			400, "Request body is not valid JSON: invalid character '}' looking for beginning of value (at byte 13)"},
		{"wrong type", adminToken, "/v1/convergedRecordings/r2", `{"comment": 5}`,
			400, "Field comment must be a string, not number"},
		{"array body", adminToken, "/v1/convergedRecordings/r2", `[]`, 400, "Request body must be a JSON object"},
		{"two objects", adminToken, "/v1/convergedRecordings/r2", `{} {}`, 400, "Request body must hold a single JSON object"},
		{"truncated", adminToken, "/v1/convergedRecordings/r2", `{"comment": "x`, 400, "Request body is not valid JSON: unexpected end of input"},
		{"body over 1 MiB", adminToken, "/v1/convergedRecordings/r2", `{"comment": "` + strings.Repeat("a", maxBodyBytes) + `"}`,
			413, msgTooLarge},
		{"unknown id", adminToken, "/v1/convergedRecordings/nope", "", 404, `Recording "nope" was not found`},
		{"other org's compliance officer", coToken, "/v1/convergedRecordings/r2", "", 404, `Recording "r2" was not found`},
		{"no token", "", "/v1/convergedRecordings/r2", "", 401, msgUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.do("DELETE", c.path, c.token, c.body), c.status, c.msg)
			if !e.blobs.has("audio/r2.wav") || e.store.get(t, "r2").Status != callrec.StatusAvailable {
				t.Error("a refused DELETE changed the recording")
			}
		})
	}
	t.Run("comment of exactly 255 characters", func(t *testing.T) {
		if w := e.do("DELETE", "/v1/convergedRecordings/r2", adminToken, `{"comment": "`+strings.Repeat("é", 255)+`"}`); w.Code != 204 {
			t.Errorf("status = %d, body %s", w.Code, w.Body.String())
		}
	})
	t.Run("blob store failure leaves the row alone", func(t *testing.T) {
		e.recording("r3", testNow.Add(-time.Hour))
		e.blobs.errDelete = errors.New("fs: remove /data/audio/r3.wav: read-only file system")
		defer func() { e.blobs.errDelete = nil }()
		wantError(t, e.do("DELETE", "/v1/convergedRecordings/r3", adminToken, ""), 500, msgInternal)
		if e.store.get(t, "r3").Status != callrec.StatusAvailable {
			t.Error("row marked purged although the audio is still there")
		}
	})
}

func TestBulkRules(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, path, body, msg string
	}{
		{"no body", "softDelete", "", msgBodyMissing},
		{"trashAll with ids", "softDelete", `{"trashAll": true, "ownerEmail": "a@x", "recordingIds": ["r1"]}`,
			"recordingIds must be empty when trashAll is true"},
		{"trashAll without ownerEmail", "softDelete", `{"trashAll": true}`, "ownerEmail is required when trashAll is true"},
		{"trashAll with both problems", "softDelete", `{"trashAll": true, "recordingIds": ["r1"]}`,
			"recordingIds must be empty when trashAll is true; ownerEmail is required when trashAll is true"},
		{"ids with ownerEmail", "softDelete", `{"ownerEmail": "a@x", "recordingIds": ["r1"]}`, "ownerEmail must be empty when trashAll is false"},
		{"no ids", "softDelete", `{"trashAll": false}`, "recordingIds must not be empty when trashAll is false"},
		{"101 ids", "softDelete", `{"recordingIds": [` + strings.TrimSuffix(strings.Repeat(`"x",`, 101), ",") + `]}`,
			"recordingIds must hold at most 100 ids, not 101"},
		{"empty id", "softDelete", `{"recordingIds": ["r1", ""]}`, "recordingIds must not contain empty ids"},
		{"control character in an id", "softDelete", `{"recordingIds": ["r1\u0000"]}`,
			"recordingIds must hold ids of at most 256 bytes without control characters"},
		{"overlong ownerEmail", "restore", `{"restoreAll": true, "ownerEmail": "` + strings.Repeat("a", 257) + `"}`,
			"ownerEmail must be text of at most 256 bytes without control characters"},
		{"ids not an array", "softDelete", `{"recordingIds": "r1"}`, "Field recordingIds must be an array of strings, not string"},
		{"trashAll not a boolean", "softDelete", `{"trashAll": "yes"}`, "Field trashAll must be a boolean, not string"},
		{"restoreAll without ownerEmail", "restore", `{"restoreAll": true}`, "ownerEmail is required when restoreAll is true"},
		{"restore ids with ownerEmail", "restore", `{"ownerEmail": "a@x", "recordingIds": ["r1"]}`, "ownerEmail must be empty when restoreAll is false"},
		{"restore no ids", "restore", `{}`, "recordingIds must not be empty when restoreAll is false"},
		{"purgeAll with ids", "purge", `{"purgeAll": true, "ownerEmail": "a@x", "recordingIds": ["r1"]}`, "recordingIds must be empty when purgeAll is true"},
		{"purge no ids", "purge", `{"purgeAll": false}`, "recordingIds must not be empty when purgeAll is false"},
		{"trashAll does not count for purge", "purge", `{"trashAll": true, "ownerEmail": "a@x"}`,
			"ownerEmail must be empty when purgeAll is false; recordingIds must not be empty when purgeAll is false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.do("POST", "/v1/convergedRecordings/"+c.path, adminToken, c.body), 400, c.msg)
		})
	}
}

func TestBulkActions(t *testing.T) {
	e := newEnv(t)
	alice := func(r *callrec.Recording) {
		r.OwnerType, r.OwnerID, r.OwnerEmail = callrec.OwnerUser, "u-alice", "alice@example.com"
	}
	for i := range 3 {
		e.recording(fmt.Sprintf("a%d", i), testNow.Add(-time.Duration(i+1)*time.Hour), alice)
	}
	e.recording("b0", testNow.Add(-time.Hour))
	status := func(id string) string { return e.store.get(t, id).Status }
	post := func(path, body string) {
		t.Helper()
		if w := e.do("POST", "/v1/convergedRecordings/"+path, adminToken, body); w.Code != 204 {
			t.Fatalf("%s %s = %d %s", path, body, w.Code, w.Body.String())
		}
	}

	post("softDelete", `{"trashAll": false, "recordingIds": ["a0", "a0"]}`)
	if status("a0") != callrec.StatusDeleted || status("a1") != callrec.StatusAvailable {
		t.Fatalf("after softDelete a0: %s %s", status("a0"), status("a1"))
	}
	post("softDelete", `{"recordingIds": ["a0"]}`) // already in the bin: no-op
	post("restore", `{"recordingIds": ["a0"]}`)
	if status("a0") != callrec.StatusAvailable {
		t.Fatalf("after restore a0: %s", status("a0"))
	}

	post("softDelete", `{"trashAll": true, "ownerEmail": "alice@example.com"}`)
	for _, id := range []string{"a0", "a1", "a2"} {
		if status(id) != callrec.StatusDeleted {
			t.Errorf("after trashAll %s: %s", id, status(id))
		}
	}
	if status("b0") != callrec.StatusAvailable {
		t.Errorf("trashAll touched another owner's recording")
	}
	post("restore", `{"restoreAll": true, "ownerEmail": "alice@example.com"}`)
	for _, id := range []string{"a0", "a1", "a2"} {
		if status(id) != callrec.StatusAvailable {
			t.Errorf("after restoreAll %s: %s", id, status(id))
		}
	}

	t.Run("purge needs the recycle bin", func(t *testing.T) {
		wantError(t, e.do("POST", "/v1/convergedRecordings/purge", adminToken, `{"recordingIds": ["a1"]}`), 409,
			`Recording "a1" is not in the recycle bin; move it there with softDelete first`)
	})
	t.Run("purge ids", func(t *testing.T) {
		post("softDelete", `{"recordingIds": ["a1"]}`)
		post("purge", `{"recordingIds": ["a1"]}`)
		if status("a1") != callrec.StatusPurged || e.blobs.has("audio/a1.wav") {
			t.Errorf("after purge a1: %s, blob present %v", status("a1"), e.blobs.has("audio/a1.wav"))
		}
	})
	t.Run("purged cannot be restored or trashed", func(t *testing.T) {
		wantError(t, e.do("POST", "/v1/convergedRecordings/restore", adminToken, `{"recordingIds": ["a1"]}`), 409,
			`Recording "a1" is purged and cannot be restored`)
		wantError(t, e.do("POST", "/v1/convergedRecordings/softDelete", adminToken, `{"recordingIds": ["a1"]}`), 409,
			`Recording "a1" is purged and cannot be moved to the recycle bin`)
	})
	t.Run("purgeAll takes only the bin", func(t *testing.T) {
		post("softDelete", `{"recordingIds": ["a2"]}`)
		post("purge", `{"purgeAll": true, "ownerEmail": "alice@example.com"}`)
		if status("a2") != callrec.StatusPurged || status("a0") != callrec.StatusAvailable || !e.blobs.has("audio/a0.wav") {
			t.Errorf("after purgeAll: a2 %s, a0 %s", status("a2"), status("a0"))
		}
	})
	t.Run("unknown id changes nothing", func(t *testing.T) {
		before := e.store.updates
		wantError(t, e.do("POST", "/v1/convergedRecordings/softDelete", adminToken, `{"recordingIds": ["a0", "ghost"]}`), 404,
			`Recording "ghost" was not found`)
		if e.store.updates != before || status("a0") != callrec.StatusAvailable {
			t.Error("a refused batch changed recordings")
		}
	})
	t.Run("compliance officer of another org", func(t *testing.T) {
		wantError(t, e.do("POST", "/v1/convergedRecordings/softDelete", coToken, `{"recordingIds": ["a0"]}`), 404,
			`Recording "a0" was not found`)
		if w := e.do("POST", "/v1/convergedRecordings/softDelete", coToken, `{"trashAll": true, "ownerEmail": "alice@example.com"}`); w.Code != 204 {
			t.Fatalf("trashAll = %d", w.Code)
		}
		if status("a0") != callrec.StatusAvailable {
			t.Error("compliance officer of org-b trashed org-a's recording")
		}
	})
}

// fakeDirectory is a userDirectory with one person.
type fakeDirectory struct{ p person }

func (d fakeDirectory) PersonByEmail(_ context.Context, orgID, email string) (*person, error) {
	if email == d.p.Email && (orgID == "" || orgID == d.p.OrgID) {
		p := d.p
		return &p, nil
	}
	return nil, fmt.Errorf("fake directory: %s: %w", email, callrec.ErrNotFound)
}

func TestReassign(t *testing.T) {
	e := newEnv(t)
	e.recording("r1", testNow.Add(-time.Hour), func(r *callrec.Recording) { r.OwnerEmail = "old@example.com" })
	e.recording("r2", testNow.Add(-2*time.Hour), func(r *callrec.Recording) { r.OwnerEmail = "old@example.com" })
	e.recording("r3", testNow.Add(-3*time.Hour))
	cases := []struct {
		name, body, msg string
	}{
		{"no body", "", msgBodyMissing},
		{"no new owner", `{"recordingIds": ["r1"]}`, "reassignOwnerEmail is required"},
		{"nothing chosen", `{"reassignOwnerEmail": "new@example.com"}`, "give ownerEmail, ownerID or recordingIds to choose the recordings"},
		{"both missing", `{}`, "reassignOwnerEmail is required; give ownerEmail, ownerID or recordingIds to choose the recordings"},
		{"101 ids", `{"reassignOwnerEmail": "new@example.com", "recordingIds": [` + strings.TrimSuffix(strings.Repeat(`"x",`, 101), ",") + `]}`,
			"recordingIds must hold at most 100 ids, not 101"},
		{"control character in the new owner", `{"reassignOwnerEmail": "a\nb@example.com", "recordingIds": ["r1"]}`,
			"reassignOwnerEmail must be text of at most 256 bytes without control characters"},
		{"no people exist yet", `{"reassignOwnerEmail": "new@example.com", "recordingIds": ["r1"]}`,
			`reassignOwnerEmail "new@example.com" is not a user of the org`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.do("POST", "/v1/convergedRecordings/reassign", adminToken, c.body), 400, c.msg)
		})
	}

	// Once the control plane brings people, the rest of §10.11 applies.
	e.srv.users = fakeDirectory{p: person{ID: "u-new", OrgID: "org-a", Email: "new@example.com"}}
	owner := func(id string) string { return e.store.get(t, id).OwnerID }
	t.Run("ids plus ownerEmail move only that owner's ids", func(t *testing.T) {
		w := e.do("POST", "/v1/convergedRecordings/reassign", adminToken,
			`{"reassignOwnerEmail": "new@example.com", "ownerEmail": "old@example.com", "recordingIds": ["r1", "r3"]}`)
		if w.Code != 204 {
			t.Fatalf("status %d %s", w.Code, w.Body.String())
		}
		if owner("r1") != "u-new" || owner("r3") != "" || owner("r2") != "" {
			t.Errorf("owners r1 %q r2 %q r3 %q", owner("r1"), owner("r2"), owner("r3"))
		}
		r1 := e.store.get(t, "r1")
		if r1.OwnerType != callrec.OwnerUser || r1.OwnerEmail != "new@example.com" {
			t.Errorf("r1 owner = %s %s", r1.OwnerType, r1.OwnerEmail)
		}
	})
	t.Run("ownerEmail alone moves all of them", func(t *testing.T) {
		w := e.do("POST", "/v1/convergedRecordings/reassign", adminToken,
			`{"reassignOwnerEmail": "new@example.com", "ownerEmail": "old@example.com", "ownerID": "ignored"}`)
		if w.Code != 204 || owner("r2") != "u-new" || owner("r3") != "" {
			t.Errorf("status %d, r2 %q r3 %q", w.Code, owner("r2"), owner("r3"))
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		wantError(t, e.do("POST", "/v1/convergedRecordings/reassign", adminToken,
			`{"reassignOwnerEmail": "new@example.com", "recordingIds": ["ghost"]}`), 404, `Recording "ghost" was not found`)
	})
	t.Run("recording of another org", func(t *testing.T) {
		e.recording("rb", testNow.Add(-time.Hour), func(r *callrec.Recording) { r.OrgID = "org-b" })
		wantError(t, e.do("POST", "/v1/convergedRecordings/reassign", adminToken,
			`{"reassignOwnerEmail": "new@example.com", "recordingIds": ["rb"]}`), 400,
			`reassignOwnerEmail "new@example.com" is not a user of the org of recording "rb"`)
	})
	t.Run("viewer", func(t *testing.T) {
		wantError(t, e.do("POST", "/v1/convergedRecordings/reassign", viewerToken,
			`{"reassignOwnerEmail": "new@example.com", "recordingIds": ["r1"]}`), 403, "Reassigning recordings needs an admin token")
	})
}
