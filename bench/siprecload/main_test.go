package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestPassedAndTableRow(t *testing.T) {
	rs := &recordingSummary{MatchedBy: "call-id", Found: 4, Complete: 2, Partial: 1, WrongDuration: 1, Missing: 1, Received: 400, Lost: 4}
	s := &summary{Date: time.Now(), Established: 5, Recordings: rs}
	if s.passed() {
		t.Errorf("a run with a missing and a partial recording passed")
	}
	row := tableRow(s)
	if !strings.Contains(row, "| 2/0 |") || !strings.Contains(row, "| 4 / 0 / 0 |") {
		t.Errorf("row %s", row)
	}
	s.Recordings = &recordingSummary{Found: 5, Complete: 5}
	if !s.passed() {
		t.Errorf("a run with every recording complete failed")
	}
}

func TestParseFlagsRefusesNonLoopback(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"-target", "sip:srs@192.0.2.1:5070"}, "only loopback"},
		{[]string{"-target", "sip:srs@example.com"}, "only loopback"},
		{[]string{"-api", "http://192.0.2.1:8080", "-token-file", "x"}, "only loopback"},
		{[]string{"-api", "http://127.0.0.1:8080"}, "-token-file"},
		{[]string{"-n", "20000"}, "-n 20000"},
		{[]string{"-duration", "2h"}, "-duration"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.err)
		}
	}
	c, err := parseFlags([]string{"-target", "sip:srs@[::1]:5070", "-api", "http://localhost:8080", "-token-file", "t"}, io.Discard)
	if err != nil || c.n != 100 || c.duration != time.Minute || c.ramp != 10*time.Second {
		t.Errorf("loopback config refused: %+v %v", c, err)
	}
}
