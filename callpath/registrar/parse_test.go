package registrar

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

var testLimits = limits{min: 60 * time.Second, max: time.Hour, def: time.Hour, maxContacts: 10}

// register returns a REGISTER in a desk phone's style with headers.
func register(headers ...string) string {
	return "REGISTER sip:pbx.example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK1d7f;rport\r\n" +
		"From: \"Alice\" <sip:alice@pbx.example.com>;tag=8a1f\r\n" +
		"To: \"Alice\" <sip:alice@pbx.example.com>\r\n" +
		"Call-ID: 3f2a9c@192.168.1.20\r\n" +
		"CSeq: 7 REGISTER\r\n" +
		"Max-Forwards: 70\r\n" +
		strings.Join(headers, "") +
		"Content-Length: 0\r\n\r\n"
}

func parseReq(t testing.TB, raw string) *sip.Request {
	t.Helper()
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m.(*sip.Request)
}

func TestParseRegister(t *testing.T) {
	type want struct {
		code     int
		wildcard bool
		expires  []time.Duration
	}
	for _, c := range []struct {
		name    string
		headers []string
		want    want
	}{
		{"query", nil, want{}},
		{"one contact, header expiry", []string{"Contact: <sip:alice@192.168.1.20:5060>\r\n", "Expires: 600\r\n"}, want{expires: []time.Duration{600 * time.Second}}},
		{"param beats header", []string{"Contact: <sip:alice@192.168.1.20>;expires=120\r\n", "Expires: 600\r\n"}, want{expires: []time.Duration{120 * time.Second}}},
		{"two contacts in one header", []string{"Contact: <sip:alice@192.168.1.20>;expires=120, <sip:alice@10.0.0.5>\r\n", "Expires: 300\r\n"}, want{expires: []time.Duration{120 * time.Second, 300 * time.Second}}},
		{"no expiry: default", []string{"Contact: <sip:alice@192.168.1.20>\r\n"}, want{expires: []time.Duration{time.Hour}}},
		{"bare URI contact", []string{"m: sip:alice@192.168.1.20:5062\r\n", "Expires: 90\r\n"}, want{expires: []time.Duration{90 * time.Second}}},
		{"zero removes", []string{"Contact: <sip:alice@192.168.1.20>;expires=0\r\n"}, want{expires: []time.Duration{0}}},
		{"leading zeros", []string{"Contact: <sip:alice@192.168.1.20>;expires=0000120\r\n"}, want{expires: []time.Duration{120 * time.Second}}},
		{"malformed param: default", []string{"Contact: <sip:alice@192.168.1.20>;expires=-5\r\n", "Expires: 120\r\n"}, want{expires: []time.Duration{time.Hour}}},
		{"empty param: default", []string{"Contact: <sip:alice@192.168.1.20>;expires=\r\n"}, want{expires: []time.Duration{time.Hour}}},
		{"cut to max", []string{"Contact: <sip:alice@192.168.1.20>;expires=86400\r\n"}, want{expires: []time.Duration{time.Hour}}},
		{"huge cut to max", []string{"Contact: <sip:alice@192.168.1.20>;expires=184467440737095516160\r\n"}, want{expires: []time.Duration{time.Hour}}},
		{"too brief", []string{"Contact: <sip:alice@192.168.1.20>;expires=59\r\n"}, want{code: 423}},
		{"one too brief of two", []string{"Contact: <sip:alice@192.168.1.20>;expires=600, <sip:alice@10.0.0.5>;expires=5\r\n"}, want{code: 423}},
		{"wildcard", []string{"Contact: *\r\n", "Expires: 0\r\n"}, want{wildcard: true}},
		{"wildcard without Expires", []string{"Contact: *\r\n"}, want{code: 400}},
		{"wildcard with expiry", []string{"Contact: *\r\n", "Expires: 3600\r\n"}, want{code: 400}},
		{"wildcard and a contact", []string{"Contact: *\r\n", "Contact: <sip:alice@192.168.1.20>\r\n", "Expires: 0\r\n"}, want{code: 400}},
		{"tel URI", []string{"Contact: <tel:+4512345678>\r\n"}, want{code: 400}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rr, f := parseRegister(parseReq(t, register(c.headers...)), testLimits)
			if c.want.code != 0 {
				if f == nil || f.code != c.want.code {
					t.Fatalf("refusal %v, want %d", f, c.want.code)
				}
				return
			}
			if f != nil {
				t.Fatalf("refused: %v", f)
			}
			if rr.wildcard != c.want.wildcard || len(rr.contacts) != len(c.want.expires) {
				t.Fatalf("got wildcard %v, %d contacts; want %v, %d", rr.wildcard, len(rr.contacts), c.want.wildcard, len(c.want.expires))
			}
			for i, e := range c.want.expires {
				if rr.contacts[i].expires != e {
					t.Errorf("contact %d expires %v, want %v", i, rr.contacts[i].expires, e)
				}
				if rr.contacts[i].params.Has("expires") {
					t.Errorf("contact %d keeps its expires parameter", i)
				}
			}
		})
	}
}

func TestBindingKey(t *testing.T) {
	key := func(contact string) string {
		t.Helper()
		rr, f := parseRegister(parseReq(t, register("Contact: "+contact+"\r\n")), testLimits)
		if f != nil || len(rr.contacts) != 1 {
			t.Fatalf("%s: %v", contact, f)
		}
		return rr.contacts[0].key
	}
	for _, c := range []struct {
		name string
		a, b string
		same bool
	}{
		{"host case", "<sip:alice@PHONE.example.com>", "<sip:alice@phone.example.com>", true},
		{"scheme case", "<SIP:alice@phone.example.com>", "<sip:alice@phone.example.com>", true},
		{"user case", "<sip:Alice@phone.example.com>", "<sip:alice@phone.example.com>", false},
		{"explicit port", "<sip:alice@phone.example.com:5060>", "<sip:alice@phone.example.com>", false},
		{"transport differs", "<sip:alice@h;transport=tcp>", "<sip:alice@h;transport=udp>", false},
		{"transport case", "<sip:alice@h;transport=TCP>", "<sip:alice@h;transport=tcp>", true},
		{"other params ignored", "<sip:alice@h;line=abc>", "<sip:alice@h>", true},
		{"header params ignored", "<sip:alice@h>;q=0.5", "<sip:alice@h>", true},
		{"instance and reg-id", `<sip:alice@10.0.0.1>;+sip.instance="<urn:uuid:1>";reg-id=1`, `<sip:alice@10.0.0.2>;+sip.instance="<urn:uuid:1>";reg-id=1`, true},
		{"another reg-id", `<sip:alice@10.0.0.1>;+sip.instance="<urn:uuid:1>";reg-id=1`, `<sip:alice@10.0.0.1>;+sip.instance="<urn:uuid:1>";reg-id=2`, false},
		{"instance without reg-id is by URI", `<sip:alice@10.0.0.1>;+sip.instance="<urn:uuid:1>"`, `<sip:alice@10.0.0.2>;+sip.instance="<urn:uuid:1>"`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := key(c.a) == key(c.b); got != c.same {
				t.Errorf("same binding = %v, want %v (%q vs %q)", got, c.same, key(c.a), key(c.b))
			}
		})
	}
}

// FuzzParseRegister feeds whole REGISTER messages to sipgo's parser and
// what parses to parseRegister: no panic, and what is accepted is within
// the limits.
func FuzzParseRegister(f *testing.F) {
	seeds := [][]string{
		{"Contact: <sip:alice@192.168.1.20:5060;transport=udp>;+sip.instance=\"<urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8>\";reg-id=1;expires=600\r\n"},
		{"Contact: \"Alice Desk\" <sip:alice@192.168.1.20:5060>;q=0.7;expires=3600, <sip:alice@10.0.0.5:5062;ob>;expires=1800\r\n", "Expires: 600\r\n"},
		{"Contact: *\r\n", "Expires: 0\r\n"},
		{"m: sip:alice@192.168.1.20\r\n", "Expires: 4294967296\r\n"},
		{"Contact: <sips:alice@phone.example.com;transport=tls>;expires=abc\r\n"},
		{"Contact: <sip:alice@[2001:db8::1]:5060>;expires=120\r\n"},
		{"Contact: <tel:+4512345678>\r\n"},
		{},
	}
	for _, s := range seeds {
		f.Add(register(s...))
	}
	// A baresip REGISTER.
	f.Add("REGISTER sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:25070;branch=z9hG4bK5a2f;rport\r\nContact: <sip:1001-0x55d6@127.0.0.1:25070>;expires=60\r\nMax-Forwards: 70\r\nTo: <sip:1001@127.0.0.1:5060>\r\nFrom: <sip:1001@127.0.0.1:5060>;tag=9c1e\r\nCall-ID: 0f4a61ed2d4e\r\nCSeq: 24121 REGISTER\r\nUser-Agent: baresip v1.0.0 (x86_64/linux)\r\nAllow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE\r\nSupported: replaces,norefersub\r\nContent-Length: 0\r\n\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			return
		}
		req, ok := m.(*sip.Request)
		if !ok {
			return
		}
		rr, ref := parseRegister(req, testLimits)
		if (rr == nil) == (ref == nil) {
			t.Fatalf("want exactly one of request and refusal: %v, %v", rr, ref)
		}
		if ref != nil {
			if ref.code != 400 && ref.code != 403 && ref.code != 423 {
				t.Fatalf("refusal %d", ref.code)
			}
			return
		}
		if rr.wildcard && len(rr.contacts) > 0 {
			t.Fatal("wildcard with contacts accepted")
		}
		if len(rr.contacts) > testLimits.maxContacts {
			t.Fatalf("%d contacts accepted", len(rr.contacts))
		}
		for _, c := range rr.contacts {
			if c.expires != 0 && (c.expires < testLimits.min || c.expires > testLimits.max) {
				t.Fatalf("expiry %v outside the limits", c.expires)
			}
			if c.key == "" || c.uri.Host == "" {
				t.Fatalf("contact without key or host: %+v", c)
			}
			// The 200's header of what was stored must render and parse.
			ct := Contact{URI: c.uri, Params: c.params, Expires: t0.Add(c.expires)}
			h := ct.header(t0)
			var back sip.ContactHeader
			if err := parseContactValue(h.Value(), &back); err != nil {
				t.Fatalf("200 Contact %q does not parse: %v", h.Value(), err)
			}
			if e, _ := back.Params.Get("expires"); e != fmt.Sprint(int64(c.expires/time.Second)) {
				t.Fatalf("200 Contact %q: expires %q, want %d", h.Value(), e, c.expires/time.Second)
			}
		}
	})
}
