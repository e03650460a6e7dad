package sqlite_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/callrec/callrec"
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
	s := openTemp(f)
	f.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		f.Fatalf("Migrate: %v", err)
	}
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
