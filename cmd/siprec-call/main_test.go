package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, o options)
		err   string
	}{
		{
			name: "defaults are two PCMU streams labelled 1 and 2",
			args: nil,
			check: func(t *testing.T, o options) {
				if len(o.spec.Streams) != 2 || o.spec.Streams[0].Codec != "PCMU" || o.spec.Streams[1].ToneHz != 1000 || o.spec.Streams[1].Label != "2" {
					t.Errorf("streams %+v", o.spec.Streams)
				}
				if o.cfg.Transport != "tcp" || o.n != 1 || o.spec.Duration != 5*time.Second {
					t.Errorf("cfg %+v n %d", o.cfg, o.n)
				}
			},
		},
		{
			name: "one codec applies to every stream, three tones make three streams",
			args: []string{"-codec", "G722", "-tones", "440,1000,2000", "-labels", "a,b,c"},
			check: func(t *testing.T, o options) {
				if len(o.spec.Streams) != 3 || o.spec.Streams[2].Codec != "G722" || o.spec.Streams[2].Label != "c" || o.spec.Streams[2].ToneHz != 2000 {
					t.Errorf("streams %+v", o.spec.Streams)
				}
			},
		},
		{
			name: "dtmf goes to the labelled stream, pauses and loss are parsed",
			args: []string{"-dtmf", "1.5s:5", "-dtmf", "2s:#@2", "-pause", "2s+1s", "-pause", "4s+1s:legacy", "-loss", "1s-1.1s"},
			check: func(t *testing.T, o options) {
				s := o.spec.Streams
				if len(s[0].DTMF) != 1 || s[0].DTMF[0].Digit != "5" || len(s[1].DTMF) != 1 || s[1].DTMF[0].Digit != "#" {
					t.Errorf("dtmf %+v / %+v", s[0].DTMF, s[1].DTMF)
				}
				if len(o.spec.Pauses) != 2 || !o.spec.Pauses[1].Legacy || o.spec.Pauses[0].At != 2*time.Second {
					t.Errorf("pauses %+v", o.spec.Pauses)
				}
				if s[1].DropFrom != time.Second || s[1].DropTo != 1100*time.Millisecond {
					t.Errorf("loss %v-%v", s[1].DropFrom, s[1].DropTo)
				}
			},
		},
		{
			name: "extra headers",
			args: []string{"-header", "X-Test: a b", "-header", "X-Other:1"},
			check: func(t *testing.T, o options) {
				if o.spec.ExtraHeaders["X-Test"] != "a b" || o.spec.ExtraHeaders["X-Other"] != "1" {
					t.Errorf("headers %v", o.spec.ExtraHeaders)
				}
			},
		},
		{name: "unknown codec", args: []string{"-codec", "G729"}, err: "unknown codec"},
		{name: "dtmf on a missing stream", args: []string{"-dtmf", "1s:5@9"}, err: "no stream labelled"},
		{name: "bad pause", args: []string{"-pause", "2s"}, err: "AT+DURATION"},
		{name: "bad dialect", args: []string{"-dialect", "cisco"}, err: "unknown dialect"},
		{name: "too many calls", args: []string{"-n", "0"}, err: "-n 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args, io.Discard)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
}

func TestRunReportsUnreachableServerAsFailure(t *testing.T) {
	// A port nobody listens on: the TCP connect is refused at once.
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var stdout, stderr bytes.Buffer
	code := run([]string{"-target", "sip:srs@" + addr, "-duration", "1s", "-n", "2", "-media-ports", "45000-45999"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d output lines: %q", len(lines), stdout.String())
	}
	for _, line := range lines {
		var out output
		if err := json.Unmarshal([]byte(line), &out); err != nil {
			t.Fatal(err)
		}
		if out.OK || out.Error == "" || !strings.HasSuffix(out.CallID, "@127.0.0.1") {
			t.Errorf("output %+v", out)
		}
	}
}

func TestRunBadFlagsExit2(t *testing.T) {
	if code := run([]string{"-codec", "nope"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("exit %d", code)
	}
}
