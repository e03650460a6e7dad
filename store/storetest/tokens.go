package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/google/uuid"
)

// checkToken reports how got differs from want: Created and Expires
// equal and UTC, every other field deeply equal.
func checkToken(t *testing.T, got, want *callrec.Token) {
	t.Helper()
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"Created", got.Created, want.Created}, {"Expires", got.Expires, want.Expires}} {
		if tm.got.Location() != time.UTC || !tm.got.Equal(tm.want) {
			t.Errorf("token %s: %s = %v, want %v in UTC", want.Name, tm.name, tm.got, tm.want)
		}
	}
	g, w := *got, *want
	g.Created, w.Created, g.Expires, w.Expires = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("token %s = %+v, want %+v", want.Name, g, w)
	}
}

func mustToken(t *testing.T, s Store, tok *callrec.Token) *callrec.Token {
	t.Helper()
	if err := s.CreateToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateToken(%s): %v", tok.Name, err)
	}
	return tok
}

func tokenIDs(ts []callrec.Token) []string {
	return idsOf(ts, func(tok callrec.Token) string { return tok.ID })
}

func testTokenFields(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	cases := []*callrec.Token{
		{Name: "partner admin of acme-partner", Hash: hashOf("p"), Role: callrec.RolePartnerAdmin, PartnerID: "acme-partner",
			Email: "ops@partner.example", Expires: time.Date(2099, 1, 2, 3, 4, 5, 678901000, time.UTC)},
		{Name: "location admin of two sites", Hash: hashOf("l"), Role: callrec.RoleLocationAdmin, OrgID: org.ID,
			PersonID: "person-1", Email: "site@example.com", LocationIDs: []string{"loc-copenhagen", "loc-aarhus"}},
		{Name: "user token", Hash: hashOf("u"), Role: callrec.RoleUser, OrgID: org.ID, PersonID: "person-2",
			Email: "Ærø.user@example.com", Created: time.Date(2025, 5, 6, 7, 8, 9, 10000, time.UTC)},
		{Name: "one location", Hash: hashOf("one"), Role: callrec.RoleLocationAdmin, OrgID: org.ID, LocationIDs: []string{"loc-1"}},
	}
	for _, want := range cases {
		t.Run(want.Name, func(t *testing.T) {
			mustToken(t, s, want)
			got, err := s.TokenByHash(ctx, want.Hash)
			if err != nil {
				t.Fatalf("TokenByHash: %v", err)
			}
			checkToken(t, got, want)
		})
	}
	t.Run("invalid location id", func(t *testing.T) {
		bad := &callrec.Token{Hash: hashOf("bad"), Role: callrec.RoleLocationAdmin, OrgID: org.ID, LocationIDs: []string{"ok", "no\x00pe"}}
		if err := s.CreateToken(ctx, bad); !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("CreateToken with a NUL in a location id error = %v, want ErrInvalid", err)
		}
	})
	t.Run("expiry out of range", func(t *testing.T) {
		bad := &callrec.Token{Hash: hashOf("far"), Role: callrec.RoleUser, OrgID: org.ID, Expires: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
		if err := s.CreateToken(ctx, bad); !errors.Is(err, callrec.ErrInvalid) {
			t.Errorf("CreateToken expiring in year 10000 error = %v, want ErrInvalid", err)
		}
	})
}

func testTokenExpiry(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	cases := []struct {
		name    string
		expires time.Time
		found   bool
	}{
		{"never expires", time.Time{}, true},
		{"expires in an hour", time.Now().Add(time.Hour).Truncate(time.Microsecond), true},
		{"expired a second ago", time.Now().Add(-time.Second), false},
		{"expired last year", time.Now().AddDate(-1, 0, 0), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := mustToken(t, s, &callrec.Token{Name: c.name, Hash: hashOf(c.name), Role: callrec.RoleUser, OrgID: org.ID, PersonID: "p", Expires: c.expires})
			got, err := s.TokenByHash(ctx, tok.Hash)
			if c.found {
				if err != nil {
					t.Fatalf("TokenByHash: %v", err)
				}
				checkToken(t, got, tok)
				return
			}
			if !errors.Is(err, callrec.ErrNotFound) {
				t.Errorf("TokenByHash of an expired token = %+v, %v; want ErrNotFound", got, err)
			}
		})
	}
	t.Run("expired tokens are still listed", func(t *testing.T) {
		ts, err := s.ListTokens(ctx, org.ID, "")
		if err != nil {
			t.Fatalf("ListTokens: %v", err)
		}
		if len(ts) != len(cases) {
			t.Errorf("ListTokens = %d tokens, want %d", len(ts), len(cases))
		}
	})
}

func testListTokens(t *testing.T, s Store) {
	ctx := t.Context()
	orgA := mustOrg(t, s, callrec.DefaultOrgName)
	orgB := mustOrg(t, s, "other")
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(n int, org, partner string) string {
		tok := mustToken(t, s, &callrec.Token{ID: recID(n), Name: recID(n), Hash: hashOf(recID(n)), Role: callrec.RoleFullAdmin,
			OrgID: org, PartnerID: partner, Created: base.Add(time.Duration(n%3) * time.Hour)})
		return tok.ID
	}
	// Created hours: 1->1h, 2->2h, 3->0h, 4->1h, 5->2h.
	a1 := mk(1, orgA.ID, "p1")
	a2 := mk(2, orgA.ID, "")
	b3 := mk(3, orgB.ID, "p1")
	p4 := mk(4, "", "p1")
	p5 := mk(5, "", "p2")
	cases := []struct {
		name, org, partner string
		want               []string
	}{
		{"every token, oldest first", "", "", []string{b3, a1, p4, a2, p5}},
		{"one org", orgA.ID, "", []string{a1, a2}},
		{"other org", orgB.ID, "", []string{b3}},
		{"one partner", "", "p1", []string{b3, a1, p4}},
		{"org and partner", orgA.ID, "p1", []string{a1}},
		{"unknown org", uuid.NewString(), "", []string{}},
		{"unknown partner", "", "nobody", []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.ListTokens(ctx, c.org, c.partner)
			if err != nil {
				t.Fatalf("ListTokens(%q, %q): %v", c.org, c.partner, err)
			}
			if !slices.Equal(tokenIDs(got), c.want) {
				t.Errorf("ListTokens(%q, %q) = %v, want %v", c.org, c.partner, tokenIDs(got), c.want)
			}
		})
	}
	t.Run("rows are complete", func(t *testing.T) {
		got, err := s.ListTokens(ctx, orgB.ID, "")
		if err != nil || len(got) != 1 {
			t.Fatalf("ListTokens = %v, %v; want one token", got, err)
		}
		byHash, err := s.TokenByHash(ctx, hashOf(recID(3)))
		if err != nil {
			t.Fatalf("TokenByHash: %v", err)
		}
		checkToken(t, &got[0], byHash)
	})
}

func testDeleteTokens(t *testing.T, s Store) {
	ctx := t.Context()
	org := mustOrg(t, s, callrec.DefaultOrgName)
	alice1 := mustToken(t, s, &callrec.Token{Name: "alice laptop", Hash: hashOf("a1"), Role: callrec.RoleUser, OrgID: org.ID, PersonID: "alice"})
	alice2 := mustToken(t, s, &callrec.Token{Name: "alice phone", Hash: hashOf("a2"), Role: callrec.RoleUser, OrgID: org.ID, PersonID: "alice"})
	bob := mustToken(t, s, &callrec.Token{Name: "bob", Hash: hashOf("b"), Role: callrec.RoleUser, OrgID: org.ID, PersonID: "bob"})
	admin := mustToken(t, s, &callrec.Token{Name: "admin", Hash: hashOf("adm"), Role: callrec.RoleFullAdmin, OrgID: org.ID})

	if err := s.DeleteToken(ctx, alice1.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	if _, err := s.TokenByHash(ctx, alice1.Hash); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("TokenByHash after DeleteToken error = %v, want ErrNotFound", err)
	}
	if err := s.DeleteToken(ctx, alice1.ID); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("second DeleteToken error = %v, want ErrNotFound", err)
	}
	if err := s.DeleteToken(ctx, uuid.NewString()); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("DeleteToken(unknown) error = %v, want ErrNotFound", err)
	}

	mustToken(t, s, &callrec.Token{Name: "alice tablet", Hash: hashOf("a3"), Role: callrec.RoleUser, OrgID: org.ID, PersonID: "alice"})
	n, err := s.DeleteTokensOfPerson(ctx, "alice")
	if err != nil || n != 2 {
		t.Errorf("DeleteTokensOfPerson(alice) = %d, %v; want 2", n, err)
	}
	if _, err := s.TokenByHash(ctx, alice2.Hash); !errors.Is(err, callrec.ErrNotFound) {
		t.Errorf("TokenByHash of alice's phone after DeleteTokensOfPerson error = %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteTokensOfPerson(ctx, "alice"); err != nil || n != 0 {
		t.Errorf("second DeleteTokensOfPerson(alice) = %d, %v; want 0", n, err)
	}
	if _, err := s.DeleteTokensOfPerson(ctx, ""); !errors.Is(err, callrec.ErrInvalid) {
		t.Errorf("DeleteTokensOfPerson(\"\") error = %v, want ErrInvalid (it would revoke every token of no person)", err)
	}
	left, err := s.ListTokens(ctx, "", "")
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if got, want := slices.Sorted(slices.Values(tokenIDs(left))), slices.Sorted(slices.Values([]string{bob.ID, admin.ID})); !slices.Equal(got, want) {
		t.Errorf("tokens left = %v, want bob's and the admin's %v", got, want)
	}
}
