package api

import (
	"errors"
	"fmt"
	"slices"
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
			wantRecError(t, e.do("DELETE", c.path, c.token, c.body), c.status, c.msg)
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
		wantRecError(t, e.do("DELETE", "/v1/convergedRecordings/r3", adminToken, ""), 500, msgInternal)
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
			wantRecError(t, e.do("POST", "/v1/convergedRecordings/"+c.path, adminToken, c.body), 400, c.msg)
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
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/purge", adminToken, `{"recordingIds": ["a1"]}`), 409,
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
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/restore", adminToken, `{"recordingIds": ["a1"]}`), 409,
			`Recording "a1" is purged and cannot be restored`)
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/softDelete", adminToken, `{"recordingIds": ["a1"]}`), 409,
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
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/softDelete", adminToken, `{"recordingIds": ["a0", "ghost"]}`), 404,
			`Recording "ghost" was not found`)
		if e.store.updates != before || status("a0") != callrec.StatusAvailable {
			t.Error("a refused batch changed recordings")
		}
	})
	t.Run("compliance officer of another org", func(t *testing.T) {
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/softDelete", coToken, `{"recordingIds": ["a0"]}`), 404,
			`Recording "a0" was not found`)
		if w := e.do("POST", "/v1/convergedRecordings/softDelete", coToken, `{"trashAll": true, "ownerEmail": "alice@example.com"}`); w.Code != 204 {
			t.Fatalf("trashAll = %d", w.Code)
		}
		if status("a0") != callrec.StatusAvailable {
			t.Error("compliance officer of org B trashed org A's recording")
		}
	})
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
		{"no such person", `{"reassignOwnerEmail": "bob@a.example", "recordingIds": ["r1"]}`,
			`reassignOwnerEmail "bob@a.example" is not a user of the org`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantRecError(t, e.do("POST", "/v1/convergedRecordings/reassign", adminToken, c.body), 400, c.msg)
		})
	}

	// Once the directory has people, the rest of §10.11 applies.
	e.withPeople()
	owner := func(id string) string { return e.store.get(t, id).OwnerID }
	t.Run("ids plus ownerEmail move only that owner's ids", func(t *testing.T) {
		w := e.do("POST", "/v1/convergedRecordings/reassign", adminToken,
			`{"reassignOwnerEmail": "robert@a.example", "ownerEmail": "old@example.com", "recordingIds": ["r1", "r3"]}`)
		if w.Code != 204 {
			t.Fatalf("status %d %s", w.Code, w.Body.String())
		}
		if owner("r1") != recBob || owner("r3") != "" || owner("r2") != "" {
			t.Errorf("owners r1 %q r2 %q r3 %q", owner("r1"), owner("r2"), owner("r3"))
		}
		r1 := e.store.get(t, "r1")
		// Bob's primary email, his location, and his team plan: no expiry (R4).
		if r1.OwnerType != callrec.OwnerUser || r1.OwnerEmail != "bob@a.example" || r1.LocationID != recLoc || !r1.ExpiresAt.IsZero() {
			t.Errorf("r1 owner = %s %s at %s, expires %v", r1.OwnerType, r1.OwnerEmail, r1.LocationID, r1.ExpiresAt)
		}
		au := e.audits("r1")
		if len(au) != 1 || au[0].Action != "reassign" || au[0].OrgID != recOrgA || au[0].Actor != "root@partner.example" ||
			!strings.Contains(string(au[0].Before), `"ownerEmail":"old@example.com"`) || !strings.Contains(string(au[0].After), `"ownerId":"`+recBob+`"`) {
			t.Errorf("audit of r1 = %+v", au)
		}
		if len(e.audits("r3")) != 0 {
			t.Error("r3 did not move but was audited")
		}
	})
	t.Run("ownerEmail alone moves all of them", func(t *testing.T) {
		w := e.do("POST", "/v1/convergedRecordings/reassign", adminToken,
			`{"reassignOwnerEmail": "bob@a.example", "ownerEmail": "old@example.com", "ownerID": "ignored"}`)
		if w.Code != 204 || owner("r2") != recBob || owner("r3") != "" {
			t.Errorf("status %d, r2 %q r3 %q", w.Code, owner("r2"), owner("r3"))
		}
	})
	t.Run("R3 a go owner's expiry is 30 days from now, never at once (R9)", func(t *testing.T) {
		e.recording("old", testNow.Add(-90*24*time.Hour), owned(callrec.OwnerUser, recBob, "bob@a.example"))
		w := e.do("POST", "/v1/convergedRecordings/reassign", adminToken,
			`{"reassignOwnerEmail": "alice@a.example", "recordingIds": ["old"]}`)
		if w.Code != 204 {
			t.Fatalf("status %d %s", w.Code, w.Body.String())
		}
		if got := e.store.get(t, "old"); got.OwnerID != recAlice || !got.ExpiresAt.Equal(testNow.Add(callrec.FreeRetention)) {
			t.Errorf("owner %s expires %v, want alice and %v", got.OwnerID, got.ExpiresAt, testNow.Add(callrec.FreeRetention))
		}
	})
	t.Run("ownerID as a Webex person id", func(t *testing.T) {
		w := e.do("POST", "/v1/convergedRecordings/reassign", adminToken,
			`{"reassignOwnerEmail": "room@a.example", "ownerID": "`+webexID(idPerson, recAlice)+`"}`)
		if got := e.store.get(t, "old"); w.Code != 204 || got.OwnerID != recRoom || got.OwnerType != callrec.OwnerPlace {
			t.Errorf("status %d, owner %s %s; want the workspace as place", w.Code, got.OwnerType, got.OwnerID)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/reassign", adminToken,
			`{"reassignOwnerEmail": "bob@a.example", "recordingIds": ["ghost"]}`), 404, `Recording "ghost" was not found`)
	})
	t.Run("recording of another org", func(t *testing.T) {
		e.recording("rb", testNow.Add(-time.Hour), func(r *callrec.Recording) { r.OrgID = recOrgB })
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/reassign", adminToken,
			`{"reassignOwnerEmail": "bob@a.example", "recordingIds": ["rb"]}`), 400,
			`reassignOwnerEmail "bob@a.example" is not a user of the org of recording "rb"`)
	})
	t.Run("a person of another org than the orgId", func(t *testing.T) {
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/reassign?orgId="+recOrgB, adminToken,
			`{"reassignOwnerEmail": "bob@a.example", "recordingIds": ["rb"]}`), 400,
			`reassignOwnerEmail "bob@a.example" is not a user of the org`)
	})
	t.Run("viewer", func(t *testing.T) {
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/reassign", viewerToken,
			`{"reassignOwnerEmail": "bob@a.example", "recordingIds": ["r1"]}`), 403, "Reassigning recordings needs an admin token")
	})
	t.Run("a user may not reassign their own", func(t *testing.T) {
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/reassign", bobToken,
			`{"reassignOwnerEmail": "alice@a.example", "recordingIds": ["r1"]}`), 403, "Reassigning recordings needs an admin token")
	})
	t.Run("a read-only admin sees but may not reassign", func(t *testing.T) {
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/reassign", roToken,
			`{"reassignOwnerEmail": "alice@a.example", "recordingIds": ["r1"]}`), 403, `The token may not reassign recording "r1"`)
		if owner("r1") != recBob {
			t.Error("a refused reassign moved r1")
		}
	})
	t.Run("a full admin reassigns a paid owner's recording", func(t *testing.T) {
		if w := e.do("POST", "/v1/convergedRecordings/reassign", fullToken,
			`{"reassignOwnerEmail": "alice@a.example", "recordingIds": ["r1"]}`); w.Code != 204 || owner("r1") != recAlice {
			t.Errorf("status %d %s, owner %s", w.Code, w.Body.String(), owner("r1"))
		}
	})
}

// TestX4_ActionsAreAudited checks that DELETE, softDelete, restore and
// purge write one entry per recording, in its org, with before and after.
func TestX4_ActionsAreAudited(t *testing.T) {
	e := newEnv(t).withPeople()
	e.recording("a", testNow.Add(-time.Hour), owned(callrec.OwnerUser, recBob, "bob@a.example"))
	e.recording("b", testNow.Add(-2*time.Hour), owned(callrec.OwnerUser, recBob, "bob@a.example"))
	e.recording("c", testNow.Add(-3*time.Hour), func(r *callrec.Recording) { r.OrgID = recOrgB })
	post := func(token, path, body string) {
		t.Helper()
		if w := e.do("POST", "/v1/convergedRecordings/"+path, token, body); w.Code != 204 {
			t.Fatalf("%s %s = %d %s", path, body, w.Code, w.Body.String())
		}
	}
	post(bobToken, "softDelete", `{"recordingIds": ["a", "b"]}`)
	post(bobToken, "restore", `{"recordingIds": ["b"]}`)
	post(bobToken, "softDelete", `{"recordingIds": ["a"]}`) // already in the bin: not audited again
	post(adminToken, "purge", `{"recordingIds": ["a"]}`)
	if w := e.do("DELETE", "/v1/convergedRecordings/b", coAToken, `{"reason": "audit", "comment": "asked by legal"}`); w.Code != 204 {
		t.Fatalf("DELETE = %d %s", w.Code, w.Body.String())
	}
	if w := e.do("DELETE", "/v1/convergedRecordings/b", coAToken, ""); w.Code != 204 {
		t.Fatalf("repeated DELETE = %d", w.Code)
	}
	post(adminToken, "softDelete", `{"trashAll": true, "ownerEmail": "nobody@b.example"}`)
	cases := []struct {
		id      string
		actions []string
		actors  []string
	}{
		{"a", []string{"softDelete", "purge"}, []string{"bob@a.example", "root@partner.example"}},
		{"b", []string{"softDelete", "restore", "delete"}, []string{"bob@a.example", "bob@a.example", "co@a.example"}},
		{"c", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			au := e.audits(c.id)
			if got := actions(au); !slices.Equal(got, c.actions) {
				t.Fatalf("actions = %v, want %v", got, c.actions)
			}
			for i, en := range au {
				want := c.actors[len(au)-1-i]
				if en.Actor != want || en.OrgID != recOrgA || en.ObjectType != "recording" || len(en.Before) == 0 || len(en.After) == 0 {
					t.Errorf("entry %+v, want actor %s in org A with before and after", en, want)
				}
			}
		})
	}
	t.Run("DELETE keeps the reason and comment, before and after", func(t *testing.T) {
		en := e.audits("b")[0]
		if !strings.Contains(string(en.Before), `"status":"available"`) || !strings.Contains(string(en.After), `"status":"purged"`) ||
			!strings.Contains(string(en.After), `"reason":"audit"`) || !strings.Contains(string(en.After), `"comment":"asked by legal"`) {
			t.Errorf("before %s after %s", en.Before, en.After)
		}
	})
	t.Run("softDelete moves available to deleted", func(t *testing.T) {
		au := e.audits("a")
		en := au[len(au)-1]
		if !strings.Contains(string(en.Before), `"status":"available"`) || !strings.Contains(string(en.After), `"status":"deleted"`) {
			t.Errorf("before %s after %s", en.Before, en.After)
		}
	})
}

// TestR3_UsersManageTheirOwn checks the recycle-bin actions of users:
// their own recordings only, "all" meaning their own, and listeners of a
// virtual line may not delete its recordings (R32).
func TestR3_UsersManageTheirOwn(t *testing.T) {
	e := newEnv(t).withPeople()
	e.recording("alice-1", testNow.Add(-time.Hour), owned(callrec.OwnerUser, recAlice, "alice@a.example"))
	e.recording("alice-2", testNow.Add(-2*time.Hour), owned(callrec.OwnerUser, recAlice, "alice@a.example"))
	e.recording("bob-1", testNow.Add(-3*time.Hour), owned(callrec.OwnerUser, recBob, "bob@a.example"))
	e.recording("sales-1", testNow.Add(-4*time.Hour), owned(callrec.OwnerVirtualLine, recSales, ""))
	status := func(id string) string { return e.store.get(t, id).Status }
	t.Run("another user's recording is not found", func(t *testing.T) {
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/softDelete", aliceToken, `{"recordingIds": ["bob-1"]}`), 404, `Recording "bob-1" was not found`)
	})
	t.Run("a listener may not delete the line's recording", func(t *testing.T) {
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/softDelete", carolToken, `{"recordingIds": ["sales-1"]}`), 403,
			`The token may not softDelete recording "sales-1"`)
	})
	t.Run("a full admin may not delete a paid user's recording", func(t *testing.T) {
		wantRecError(t, e.do("DELETE", "/v1/convergedRecordings/bob-1", fullToken, ""), 403, "The token may not delete this recording")
	})
	t.Run("a user's ownerEmail is refused", func(t *testing.T) {
		wantRecError(t, e.do("POST", "/v1/convergedRecordings/softDelete", aliceToken, `{"trashAll": true, "ownerEmail": "bob@a.example"}`), 400,
			"ownerEmail must be empty for a user's own recordings")
	})
	t.Run("trashAll of a user takes their own", func(t *testing.T) {
		if w := e.do("POST", "/v1/convergedRecordings/softDelete", aliceToken, `{"trashAll": true}`); w.Code != 204 {
			t.Fatalf("trashAll = %d %s", w.Code, w.Body.String())
		}
		if status("alice-1") != callrec.StatusDeleted || status("alice-2") != callrec.StatusDeleted || status("bob-1") != callrec.StatusAvailable ||
			status("sales-1") != callrec.StatusAvailable {
			t.Errorf("statuses alice-1 %s alice-2 %s bob-1 %s sales-1 %s", status("alice-1"), status("alice-2"), status("bob-1"), status("sales-1"))
		}
	})
	t.Run("the owner purges from the bin", func(t *testing.T) {
		if w := e.do("POST", "/v1/convergedRecordings/purge", aliceToken, `{"purgeAll": true}`); w.Code != 204 {
			t.Fatalf("purgeAll = %d %s", w.Code, w.Body.String())
		}
		if status("alice-1") != callrec.StatusPurged || e.blobs.has("audio/alice-1.wav") {
			t.Errorf("alice-1 %s, audio present %v", status("alice-1"), e.blobs.has("audio/alice-1.wav"))
		}
	})
	t.Run("after purge the owner no longer sees it", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/convergedRecordings/alice-1", aliceToken, ""), 404, `Recording "alice-1" was not found`)
	})
}
