package recorder

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
)

func invite(headers map[string]string, body string) *sip.Request {
	req := sip.NewRequest(sip.INVITE, sip.Uri{User: "srs", Host: "127.0.0.1"})
	for k, v := range headers {
		req.AppendHeader(sip.NewHeader(k, v))
	}
	if body != "" {
		req.SetBody([]byte(body))
	}
	return req
}

// interfaces.md: Require: siprec, an rs-metadata part, or a +sip.src / ;src Contact.
func TestIsRecordingSession(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		body    string
		want    bool
	}{
		{"Require: siprec", map[string]string{"Require": "timer, siprec"}, "", true},
		{"+sip.src Contact", map[string]string{"Contact": "<sip:src@192.0.2.1;transport=tcp>;+sip.src"}, "", true},
		{"BroadWorks ;src inside the URI", map[string]string{"Contact": "<sip:192.0.2.20:5060;transport=udp;src>"}, "", true},
		{"older BroadWorks ;src header parameter", map[string]string{"Contact": "<sip:192.0.2.20:5060>;src"}, "", true},
		{"rs-metadata part, no other sign", map[string]string{"Content-Type": "multipart/mixed;boundary=b"},
			"--b\r\nContent-Type: application/rs-metadata\r\n\r\n<recording/>\r\n--b--\r\n", true},
		{"plain call", map[string]string{"Contact": "<sip:alice@192.0.2.1>", "Content-Type": "application/sdp"}, "v=0\r\n", false},
		{"src as a user name is not a feature tag", map[string]string{"Contact": "<sip:src@192.0.2.1>"}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := isRecordingSession(invite(c.headers, c.body)); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// RFC 4028: Session-Expires below Min-SE gets 422.
func TestSessionTimer(t *testing.T) {
	cases := []struct {
		value string
		want  time.Duration
		code  int
	}{
		{"", 0, 0},
		{"1800;refresher=uac", 1800 * time.Second, 0},
		{"90", 90 * time.Second, 0},
		{"30", 0, 422},
		{"soon", 0, 400},
	}
	for _, c := range cases {
		h := map[string]string{}
		if c.value != "" {
			h["Session-Expires"] = c.value
		}
		got, code, _ := sessionTimer(invite(h, ""))
		if got != c.want || code != c.code {
			t.Errorf("Session-Expires %q: got %v %d, want %v %d", c.value, got, code, c.want, c.code)
		}
	}
}

// RFC 4028: a session not refreshed within Session-Expires ends.
func TestSessionTimerExpiry(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ss := &session{sessionExpires: 90 * time.Second, lastRefresh: t0}
	if r, _ := ss.expired(t0.Add(89*time.Second), time.Minute); r != "" {
		t.Fatalf("ended before the interval: %q", r)
	}
	if r, why := ss.expired(t0.Add(91*time.Second), time.Minute); r != callrec.EndError || why == "" {
		t.Fatalf("got %q %q, want an error end for the expired session timer", r, why)
	}
}
