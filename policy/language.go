package policy

import (
	"strings"

	"github.com/callrec/callrec"
)

// Languages are the announcement languages callrec has prompts for, as
// language_COUNTRY codes (Webex's announcementLanguage spelling). Callers
// must not modify it.
var Languages = []string{
	"en_US", "en_GB", "da_DK", "de_DE", "fr_FR", "fr_CA", "es_ES",
	"es_MX", "it_IT", "nl_NL", "sv_SE", "nb_NO", "pt_BR", "ja_JP",
}

// Language returns the first candidate that is a known language, in its
// canonical spelling, else callrec.DefaultLanguage (R21). Candidates are
// matched without regard to case and with "-" or "_" between language and
// country ("de-de" is de_DE); empty and unknown ones are skipped.
func Language(candidates ...string) string {
	for _, c := range candidates {
		if l, ok := knownLanguage(c); ok {
			return l
		}
	}
	return callrec.DefaultLanguage
}

// knownLanguage returns the canonical spelling of c when it is in Languages.
func knownLanguage(c string) (string, bool) {
	if c == "" {
		return "", false
	}
	c = strings.ReplaceAll(strings.TrimSpace(c), "-", "_")
	for _, l := range Languages {
		if strings.EqualFold(c, l) {
			return l, true
		}
	}
	return "", false
}
