package srcclient

import (
	"fmt"
	"strings"
	"time"
)

// Textual forms of the call options, shared by cmd/siprec-call and
// bench/siprecload.

// ParsePause parses "AT+DURATION" (e.g. "2s+1s"), optionally suffixed with
// ":legacy" for a BroadWorks-style c=0.0.0.0 pause.
func ParsePause(s string) (PauseSpec, error) {
	var p PauseSpec
	body, legacy := strings.CutSuffix(s, ":legacy")
	p.Legacy = legacy
	at, dur, ok := strings.Cut(body, "+")
	if !ok {
		return p, fmt.Errorf("srcclient: pause %q: want AT+DURATION, e.g. 2s+1s", s)
	}
	var err error
	if p.At, err = parseOffset(at); err != nil {
		return p, fmt.Errorf("srcclient: pause %q: %w", s, err)
	}
	if p.Duration, err = parseOffset(dur); err != nil {
		return p, fmt.Errorf("srcclient: pause %q: %w", s, err)
	}
	if p.Duration <= 0 {
		return p, fmt.Errorf("srcclient: pause %q: duration must be positive", s)
	}
	return p, nil
}

// ParseDTMF parses "AT:DIGIT[:DURATION][@LABEL]" (e.g. "1.5s:5",
// "2s:#:200ms@2"). label is "" when the event is not tied to a stream.
func ParseDTMF(s string) (d DTMFSpec, label string, err error) {
	body, label, _ := strings.Cut(s, "@")
	fields := strings.Split(body, ":")
	if len(fields) < 2 || len(fields) > 3 {
		return d, "", fmt.Errorf("srcclient: dtmf %q: want AT:DIGIT[:DURATION][@LABEL], e.g. 1.5s:5", s)
	}
	if d.At, err = parseOffset(fields[0]); err != nil {
		return d, "", fmt.Errorf("srcclient: dtmf %q: %w", s, err)
	}
	d.Digit = fields[1]
	if _, ok := dtmfCode(d.Digit); !ok {
		return d, "", fmt.Errorf("srcclient: dtmf %q: digit %q is not one of 0-9 * # A-D", s, d.Digit)
	}
	if len(fields) == 3 {
		if d.Duration, err = parseOffset(fields[2]); err != nil {
			return d, "", fmt.Errorf("srcclient: dtmf %q: %w", s, err)
		}
		if d.Duration <= 0 {
			return d, "", fmt.Errorf("srcclient: dtmf %q: duration must be positive", s)
		}
	}
	return d, label, nil
}

// ParseWindow parses "FROM-TO" (e.g. "1s-1.1s") into a half-open window.
func ParseWindow(s string) (from, to time.Duration, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("srcclient: window %q: want FROM-TO, e.g. 1s-1.1s", s)
	}
	if from, err = parseOffset(a); err != nil {
		return 0, 0, fmt.Errorf("srcclient: window %q: %w", s, err)
	}
	if to, err = parseOffset(b); err != nil {
		return 0, 0, fmt.Errorf("srcclient: window %q: %w", s, err)
	}
	if to <= from {
		return 0, 0, fmt.Errorf("srcclient: window %q: end must be after start", s)
	}
	return from, to, nil
}

// maxOffset bounds every offset in a textual option: a test call longer
// than a day is a typo.
const maxOffset = 24 * time.Hour

// parseOffset parses a non-negative Go duration no longer than maxOffset.
func parseOffset(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	if d < 0 || d > maxOffset {
		return 0, fmt.Errorf("offset %v outside 0..%v", d, maxOffset)
	}
	return d, nil
}
