package callpath

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
)

func TestParseDTMFInfo(t *testing.T) {
	for _, tc := range []struct {
		name, ctype, body, want string
		ok                      bool
	}{
		{"Cisco dtmf-relay", typeDTMFRelay, "Signal=4\r\nDuration=160\r\n", "4", true},
		{"dtmf-relay star, LF only", typeDTMFRelay, "Signal=*\nDuration=250\n", "*", true},
		{"dtmf-relay spaces and case", typeDTMFRelay, "signal= #\r\nduration = 100\r\n", "#", true},
		{"dtmf-relay event code 10", typeDTMFRelay, "Signal=10\r\nDuration=160\r\n", "*", true},
		{"dtmf-relay no duration", typeDTMFRelay, "Signal=9\r\n", "9", true},
		{"dtmf-relay hook flash", typeDTMFRelay, "Signal=!\r\nDuration=300\r\n", "!", true},
		{"dtmf-relay letter", typeDTMFRelay, "Signal=d\r\n", "D", true},
		{"application/dtmf", typeDTMF, "4", "4", true},
		{"application/dtmf with CRLF", typeDTMF, "#\r\n", "#", true},
		{"no signal", typeDTMFRelay, "Duration=160\r\n", "", false},
		{"bad signal", typeDTMFRelay, "Signal=44\r\n", "", false},
		{"two signals", typeDTMFRelay, "Signal=1\r\nSignal=2\r\n", "", false},
		{"bad duration", typeDTMFRelay, "Signal=1\r\nDuration=long\r\n", "", false},
		{"not key=value", typeDTMFRelay, "Signal 1\r\n", "", false},
		{"empty", typeDTMFRelay, "", "", false},
		{"application/dtmf word", typeDTMF, "four", "", false},
		{"too long", typeDTMFRelay, "Signal=1\r\n" + strings.Repeat("X=1\r\n", 200), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDTMFInfo(tc.ctype, []byte(tc.body))
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseDTMFInfo(%q) = %q, %v; want %q ok=%v", tc.body, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestDTMFType(t *testing.T) {
	for in, want := range map[string]string{
		"application/dtmf-relay":           typeDTMFRelay,
		"Application/DTMF-Relay; x=1":      typeDTMFRelay,
		"application/dtmf":                 typeDTMF,
		"application/media_control+xml":    "",
		"application/broadsoft; version=1": "",
	} {
		if got := dtmfType(in); got != want {
			t.Errorf("dtmfType(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseDTMFInfo(f *testing.F) {
	for _, s := range []string{"Signal=4\r\nDuration=160\r\n", "Signal=*\nDuration=250\n", "signal= #\r\n", "Signal=10\r\nDuration=160\r\n", "4", "#\r\n"} {
		f.Add(true, s)
		f.Add(false, s)
	}
	f.Fuzz(func(t *testing.T, relay bool, body string) {
		ctype := typeDTMF
		if relay {
			ctype = typeDTMFRelay
		}
		d, err := parseDTMFInfo(ctype, []byte(body))
		if err != nil {
			return
		}
		if _, ok := dtmfSignal(d); !ok || len(d) != 1 {
			t.Errorf("parseDTMFInfo(%q) = %q: not one DTMF signal", body, d)
		}
	})
}

// sendInfo sends one INFO with a DTMF body in dialog d.
func sendInfo(t *testing.T, e *env, d doer, ctype, body string) int {
	t.Helper()
	req := sip.NewRequest(sip.INFO, sip.Uri{Scheme: "sip", User: "callrec", Host: e.srv.Addr().Addr().String(), Port: int(e.srv.Addr().Port())})
	req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	req.SetBody([]byte(body))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	res, err := d.Do(ctx, req)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	return res.StatusCode
}

// infoDigits returns the digits of the INFOs p received so far.
func (p *sigPhone) infoDigits(t *testing.T) string {
	t.Helper()
	var out string
	for {
		select {
		case req := <-p.infos:
			ct := ""
			if h := req.ContentType(); h != nil {
				ct = dtmfType(h.Value())
			}
			d, err := parseDTMFInfo(ct, req.Body())
			if err != nil {
				t.Errorf("INFO %q: %v", req.Body(), err)
			}
			out += d
		default:
			return out
		}
	}
}

// TestR25_R35_InfoDTMFControls: Bob (on_demand) dials the access codes
// by SIP INFO, Cisco dtmf-relay and application/dtmf: *44 starts the
// recording, *48 pauses and *49 resumes it (R25, R35); none of the code
// digits reaches Alice, while a plain "5" does, as INFO with the same
// body. A malformed body gets 400 and changes nothing.
func TestR25_R35_InfoDTMFControls(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeOnDemand})
	c := r.dialSigCall(t)
	alice, bobDS := c.alice, c.bobDS
	c.aliceRTP.waitHeard(t, 500*time.Millisecond)
	for i, step := range []struct {
		code, ctype, state string
	}{
		{"*44", typeDTMFRelay, StateStarted},
		{"*48", typeDTMF, StatePaused},
		{"*49", typeDTMFRelay, StateResumed},
	} {
		for _, d := range step.code {
			body := string(d)
			if step.ctype == typeDTMFRelay {
				body = "Signal=" + string(d) + "\r\nDuration=160\r\n"
			}
			if code := sendInfo(t, r.env, bobDS, step.ctype, body); code != sip.StatusOK {
				t.Fatalf("INFO %q got %d, want 200", body, code)
			}
		}
		r.waitState(t, i+1, step.state)
	}
	if code := sendInfo(t, r.env, bobDS, typeDTMFRelay, "Signal=44\r\n"); code != sip.StatusBadRequest {
		t.Errorf("malformed INFO got %d, want 400", code)
	}
	if got := alice.infoDigits(t); got != "" {
		t.Errorf("Alice received INFO digits %q of Bob's codes, want none", got)
	}
	if code := sendInfo(t, r.env, bobDS, typeDTMFRelay, "Signal=5\r\nDuration=160\r\n"); code != sip.StatusOK {
		t.Fatalf("INFO 5 got %d", code)
	}
	select {
	case req := <-alice.infos:
		if ct := req.ContentType(); ct == nil || ct.Value() != typeDTMFRelay || string(req.Body()) != "Signal=5\r\nDuration=160\r\n" {
			t.Errorf("Alice received INFO %v %q, want Bob's dtmf-relay 5", ct, req.Body())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Alice received no INFO for the 5")
	}
	if got := r.states(); len(got) != 3 {
		t.Errorf("events %v, want started, paused, resumed", got)
	}
	r.finish(t, c.dc)
}

// TestR35_HeldStarThatStartsNoCodeReachesTheOtherParty: Bob (on_demand)
// presses "*5" as RFC 4733 events. The "*" is held while it could start
// an access code; when the "5" shows it does not, both digits reach
// Alice after all, in order (replayed as SIP INFO), and no telephone
// event of either reaches her.
func TestR35_HeldStarThatStartsNoCodeReachesTheOtherParty(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeOnDemand})
	c := r.dialSigCall(t)
	alice, aliceRTP := c.alice, c.aliceRTP
	aliceRTP.waitHeard(t, 500*time.Millisecond)
	c.bobRTP.press(t, "*5")
	var got string
	waitUntil(t, "two INFO digits at Alice", func() bool {
		got += alice.infoDigits(t)
		return len(got) >= 2
	})
	if got != "*5" {
		t.Errorf("Alice received %q, want *5", got)
	}
	aliceRTP.heardFor(t, 200*time.Millisecond)
	if n := aliceRTP.eventPackets(); n != 0 {
		t.Errorf("Alice received %d telephone-event packets, want the digits only once, as INFO", n)
	}
	if got := r.states(); len(got) != 0 {
		t.Errorf("events %v: *5 is no code", got)
	}
	r.finish(t, c.dc)
}
