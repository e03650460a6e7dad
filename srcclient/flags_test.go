package srcclient

import (
	"strings"
	"testing"
	"time"
)

func TestParsePause(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want PauseSpec
		err  bool
	}{
		{in: "2s+1s", want: PauseSpec{At: 2 * time.Second, Duration: time.Second}},
		{in: "1.5s+250ms:legacy", want: PauseSpec{At: 1500 * time.Millisecond, Duration: 250 * time.Millisecond, Legacy: true}},
		{in: "0s+1s", want: PauseSpec{Duration: time.Second}},
		{in: "2s", err: true},
		{in: "2s+0s", err: true},
		{in: "-1s+1s", err: true},
		{in: "2s+x", err: true},
		{in: "48h+1s", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePause(tc.in)
			if (err != nil) != tc.err || (!tc.err && got != tc.want) {
				t.Errorf("ParsePause(%q) = %+v, %v", tc.in, got, err)
			}
		})
	}
}

func TestParseDTMF(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  DTMFSpec
		label string
		err   bool
	}{
		{in: "1.5s:5", want: DTMFSpec{At: 1500 * time.Millisecond, Digit: "5"}},
		{in: "2s:#:200ms@2", want: DTMFSpec{At: 2 * time.Second, Digit: "#", Duration: 200 * time.Millisecond}, label: "2"},
		{in: "0s:*@a_leg", want: DTMFSpec{Digit: "*"}, label: "a_leg"},
		{in: "1s:D", want: DTMFSpec{At: time.Second, Digit: "D"}},
		{in: "1s:55", err: true},
		{in: "1s:x", err: true},
		{in: "1s", err: true},
		{in: "1s:5:0s", err: true},
		{in: "1s:5:1s:1s", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, label, err := ParseDTMF(tc.in)
			if (err != nil) != tc.err || (!tc.err && (got != tc.want || label != tc.label)) {
				t.Errorf("ParseDTMF(%q) = %+v, %q, %v", tc.in, got, label, err)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	for _, tc := range []struct {
		in       string
		from, to time.Duration
		err      bool
	}{
		{in: "1s-1.1s", from: time.Second, to: 1100 * time.Millisecond},
		{in: "0s-20ms", to: 20 * time.Millisecond},
		{in: "1s-1s", err: true},
		{in: "2s-1s", err: true},
		{in: "1s", err: true},
		{in: "a-b", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			from, to, err := ParseWindow(tc.in)
			if (err != nil) != tc.err || (!tc.err && (from != tc.from || to != tc.to)) {
				t.Errorf("ParseWindow(%q) = %v, %v, %v", tc.in, from, to, err)
			}
		})
	}
}

// FuzzParseOptions checks that the option parsers never panic and that
// what they accept satisfies the CallSpec validation.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{"2s+1s", "1.5s+250ms:legacy", "1.5s:5", "2s:#:200ms@2", "1s-1.1s", "", "+", ":", "@", "-", "1e9h+1s", "0s:*@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePause(s); err == nil {
			if _, err := normalise(CallSpec{Pauses: []PauseSpec{p}}); err != nil {
				t.Errorf("pause %q accepted but spec invalid: %v", s, err)
			}
		}
		if d, label, err := ParseDTMF(s); err == nil {
			if strings.Contains(label, "@") && !strings.Contains(s, "@") {
				t.Errorf("label %q from %q", label, s)
			}
			if _, err := normalise(CallSpec{Streams: []StreamSpec{{DTMF: []DTMFSpec{d}}}}); err != nil {
				t.Errorf("dtmf %q accepted but spec invalid: %v", s, err)
			}
		}
		if from, to, err := ParseWindow(s); err == nil {
			if _, err := normalise(CallSpec{Streams: []StreamSpec{{DropFrom: from, DropTo: to}}}); err != nil {
				t.Errorf("window %q accepted but spec invalid: %v", s, err)
			}
		}
	})
}
