package benchkit

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

func TestFlagExit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"help is success and prints nothing more", flag.ErrHelp, 0, ""},
		{"wrapped help too", fmt.Errorf("parse: %w", flag.ErrHelp), 0, ""},
		{"a bad flag is a usage error", errors.New("--calls 0 outside 1..500"), 2, "callload: --calls 0 outside 1..500\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			if got := FlagExit(&stderr, "callload", tc.err); got != tc.code {
				t.Errorf("exit %d, want %d", got, tc.code)
			}
			if stderr.String() != tc.stderr {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.stderr)
			}
		})
	}
}

func TestAllComplete(t *testing.T) {
	for _, tc := range []struct {
		name        string
		rs          *RecordingSummary
		established int
		want        bool
	}{
		{"not checked", nil, 5, true},
		{"every call recorded whole", &RecordingSummary{Found: 5, Complete: 5}, 5, true},
		{"a call without a recording", &RecordingSummary{Found: 4, Complete: 4, Missing: 1}, 5, false},
		{"a partial recording", &RecordingSummary{Found: 5, Complete: 4, Partial: 1}, 5, false},
		{"no call established, none recorded", &RecordingSummary{}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rs.AllComplete(tc.established); got != tc.want {
				t.Errorf("AllComplete(%d) of %+v = %v, want %v", tc.established, tc.rs, got, tc.want)
			}
		})
	}
}
