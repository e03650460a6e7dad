package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
	"github.com/google/uuid"
)

// FuzzTopicFilter checks that the topic filter of ListRecordings is a
// case-insensitive substring match whatever the topic and the query hold
// (LIKE wildcards, escapes, non-ASCII), and that text PostgreSQL could not
// store is refused as invalid rather than stored or searched.
func FuzzTopicFilter(f *testing.F) {
	for _, seed := range [][2]string{
		{"Call between +14155550100 and 1001", "1001"},
		{"Call between +14155550100 and 1001", "CALL BETWEEN"},
		{"Müller Übergabe", "MÜLLER"},
		{"Queue 100% full_test", "%"},
		{"Queue 100% full_test", "0_f"},
		{`C:\recordings\call`, `\r`},
		{"sales", "s%s"},
		{"ǅemal", "ǆ"},
		{"abc", ""},
		{"caf\xe9", "caf"},
		{"nul\x00byte", "nul"},
	} {
		f.Add(seed[0], seed[1])
	}
	ctx := context.Background()
	s := sqlitetest.New(f)
	org, err := s.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		f.Fatalf("EnsureOrg: %v", err)
	}
	rec := &callrec.Recording{ID: uuid.NewString(), OrgID: org.ID, Status: callrec.StatusAvailable, Start: time.Now()}
	if err := s.CreateRecording(ctx, rec); err != nil {
		f.Fatalf("CreateRecording: %v", err)
	}
	storable := func(v string) bool { return utf8.ValidString(v) && !strings.ContainsRune(v, 0) }
	f.Fuzz(func(t *testing.T, topic, query string) {
		rec.Topic = topic
		err := s.UpdateRecording(ctx, rec)
		if !storable(topic) {
			if !errors.Is(err, callrec.ErrInvalid) {
				t.Fatalf("UpdateRecording(topic %q) error = %v, want ErrInvalid", topic, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("UpdateRecording(topic %q): %v", topic, err)
		}
		got, err := s.ListRecordings(ctx, callrec.RecordingQuery{Topic: query})
		if !storable(query) || len(query) > 1024 {
			if !errors.Is(err, callrec.ErrInvalid) {
				t.Fatalf("ListRecordings(topic %q) error = %v, want ErrInvalid", query, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ListRecordings(topic %q): %v", query, err)
		}
		want := strings.Contains(strings.ToLower(topic), strings.ToLower(query))
		if (len(got) == 1) != want {
			t.Fatalf("topic %q, query %q: matched %d recordings, want match = %v", topic, query, len(got), want)
		}
	})
}

// errRollback ends FuzzTxPut's transactions so every input starts from
// the same state.
var errRollback = errors.New("fuzz: roll back")

// FuzzTxPut checks Tx.Put on arbitrary kinds, ids, keys and data: it
// stores exactly what is storable (non-empty text PostgreSQL can hold,
// JSON data) and reads back the same bytes by id and by key; anything
// else is refused as invalid (or a conflict, for the default org's name
// key), never stored half, never a panic. Kind "org" also decodes the
// data as an org.
func FuzzTxPut(f *testing.F) {
	for _, seed := range [][4]string{
		{"person", "p-1", "email:alice@example.com", `{"ID":"p-1","Emails":["alice@example.com"]}`},
		{"location", "loc-1", "location:org:århus", `{"Name":"Århus","Address":{"city":"Aarhus"}}`},
		{"org", "org-2", "orgname:acme", `{"ID":"org-2","Name":"Acme","Created":"2025-01-02T03:04:05Z"}`},
		{"org", "org-3", "orgname:x", `{"ID":"other","Name":"X"}`},
		{"org", "org-4", "orgname:default", `{"ID":"org-4","Name":"Default"}`},
		{"person", "p-2", "orgname:default", `{}`},
		{"provider", "prov-1", "provider:acme", `not json`},
		{"trunk", "t\x00", "trunk:a", `{}`},
		{"person", "p-3", "email:caf\xe9", `{}`},
		{"person", "p-4", "email:a@b", "{\"Name\":\"\xff\"}"},
		{"", "p-5", "k", `{}`},
		{"job", "j-1", "", `[1, 2.5, null, "x"]`},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	ctx := context.Background()
	s := sqlitetest.New(f)
	org, err := s.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		f.Fatalf("EnsureOrg: %v", err)
	}
	storable := func(v string) bool { return v != "" && utf8.ValidString(v) && !strings.ContainsRune(v, 0) }
	f.Fuzz(func(t *testing.T, kind, id, key, data string) {
		r := directory.Record{Kind: kind, ID: id, OrgID: org.ID, Keys: []string{key}, Data: []byte(data)}
		if kind == directory.Orgs.Name {
			r.OrgID = id
		}
		var putErr error
		err := s.Update(ctx, func(tx directory.Tx) error {
			putErr = tx.Put(ctx, r)
			if putErr != nil {
				if _, err := tx.Get(ctx, kind, id); !errors.Is(err, callrec.ErrNotFound) && !(kind == "org" && id == org.ID) {
					return fmt.Errorf("refused record is stored: Get error = %v", err)
				}
				return errRollback
			}
			got, err := tx.Get(ctx, kind, id)
			if err != nil {
				return fmt.Errorf("Get after Put: %w", err)
			}
			byKey, err := tx.Lookup(ctx, key)
			if err != nil {
				return fmt.Errorf("Lookup after Put: %w", err)
			}
			for _, g := range []directory.Record{got, byKey} {
				if g.Kind != kind || g.ID != id || g.OrgID != r.OrgID || string(g.Data) != data || len(g.Keys) != 1 || g.Keys[0] != key {
					return fmt.Errorf("read back %+v, want %+v", g, r)
				}
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		basic := storable(kind) && storable(id) && storable(key) && utf8.ValidString(data) && !strings.Contains(data, "\x00") && json.Valid([]byte(data))
		switch {
		case putErr == nil:
			if !basic {
				t.Fatalf("Put(%q, %q, key %q, data %q) stored what it should refuse", kind, id, key, data)
			}
		case errors.Is(putErr, callrec.ErrInvalid):
			if basic && kind != directory.Orgs.Name {
				t.Fatalf("Put(%q, %q, key %q, data %q) refused storable input: %v", kind, id, key, data, putErr)
			}
		case errors.Is(putErr, callrec.ErrConflict):
			if key != "orgname:"+callrec.DefaultOrgName && kind != directory.Orgs.Name {
				t.Fatalf("Put(%q, %q, key %q) conflicts with nothing: %v", kind, id, key, putErr)
			}
		default:
			t.Fatalf("Put(%q, %q, key %q, data %q) error = %v, want nil, ErrInvalid or ErrConflict", kind, id, key, data, putErr)
		}
	})
}
