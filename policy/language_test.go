package policy_test

import (
	"slices"
	"testing"

	"github.com/callrec/callrec/policy"
)

func TestR21_LanguageFirstKnownCandidate(t *testing.T) {
	cases := []struct {
		name       string
		candidates []string
		want       string
	}{
		{"first known wins", []string{"da_DK", "de_DE"}, "da_DK"},
		{"unknown skips to the next", []string{"xx_XX", "fr_CA"}, "fr_CA"},
		{"empty skips to the next", []string{"", "ja_JP"}, "ja_JP"},
		{"nothing known is en_US", []string{"klingon", ""}, "en_US"},
		{"no candidates is en_US", nil, "en_US"},
		{"hyphen and case are normalised", []string{"pt-br"}, "pt_BR"},
		{"language without country is unknown", []string{"de", "nb_NO"}, "nb_NO"},
		{"spaces are trimmed", []string{" sv_SE "}, "sv_SE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := policy.Language(c.candidates...); got != c.want {
				t.Fatalf("Language(%q) = %q, want %q", c.candidates, got, c.want)
			}
		})
	}
}

func TestR21_LanguagesListsTheRequiredSet(t *testing.T) {
	for _, l := range []string{"en_US", "en_GB", "da_DK", "de_DE", "fr_FR", "fr_CA", "es_ES", "es_MX", "it_IT", "nl_NL", "sv_SE", "nb_NO", "pt_BR", "ja_JP"} {
		t.Run(l, func(t *testing.T) {
			if !slices.Contains(policy.Languages, l) {
				t.Fatalf("Languages lacks %s", l)
			}
			if got := policy.Language(l); got != l {
				t.Fatalf("Language(%q) = %q", l, got)
			}
		})
	}
}
