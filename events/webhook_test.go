package events

import (
	"errors"
	"strings"
	"testing"

	"github.com/callrec/callrec"
)

func TestValidateTargetURL(t *testing.T) {
	tests := []struct {
		name, url string
		wantErr   string // "" = valid
	}{
		{"https with path", "https://hooks.example.com/webex/calls", ""},
		{"http on loopback with port", "http://127.0.0.1:8081/hook", ""},
		{"ipv6 loopback", "http://[::1]:9000/", ""},
		{"query kept", "https://hooks.example.com/in?token=abc", ""},
		{"empty", "", "required"},
		{"ftp scheme", "ftp://files.example.com/x", "http or https"},
		{"javascript", "javascript:alert(1)", "http or https"},
		{"relative", "/hooks/calls", "http or https"},
		{"no host", "http:///path", "no host"},
		{"user info", "https://user:pw@hooks.example.com/", "user info"},
		{"fragment", "https://hooks.example.com/#frag", "fragment"},
		{"port zero", "http://127.0.0.1:0/", "out of range"},
		{"port too big", "http://127.0.0.1:70000/", "out of range"},
		{"too long", "https://hooks.example.com/" + strings.Repeat("a", 3000), "longer than"},
		{"bad escape", "https://hooks.example.com/%zz", "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTargetURL(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "targetUrl: ") {
				t.Fatalf("error %v, want one naming targetUrl and saying %q", err, tt.wantErr)
			}
			if !errors.Is(err, callrec.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name, filter, person, wantErr string
	}{
		{"empty", "", "", ""},
		{"blank", "  ", "", ""},
		{"person uuid", "personId=6a70ed81-adc9-489a-88c8-31b789e84585", "6a70ed81-adc9-489a-88c8-31b789e84585", ""},
		{"person webex id", "personId=Y2lzY29zcGFyazovL3VzL1BFT1BMRS82YTcwZWQ4MQ", "Y2lzY29zcGFyazovL3VzL1BFT1BMRS82YTcwZWQ4MQ", ""},
		{"escaped value", "personId=abc%3D%3D", "abc==", ""},
		{"other key", "roomId=123", "", "allowed: personId"},
		{"repeated", "personId=a&personId=b", "", "once"},
		{"empty value", "personId=", "", "once"},
		{"bad escape", "personId=%zz", "", "not key=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFilter(tt.filter)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "filter: ") {
					t.Fatalf("error %v, want one naming filter and saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || f.PersonID != tt.person {
				t.Fatalf("ParseFilter = %+v, %v; want person %q", f, err, tt.person)
			}
		})
	}
}

func TestSignKnownVector(t *testing.T) {
	// RFC 2202 §3 test case 2: HMAC-SHA1 with key "Jefe".
	got := Sign("Jefe", []byte("what do ya want for nothing?"))
	if want := "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestWebexID(t *testing.T) {
	const id = "6a70ed81-adc9-489a-88c8-31b789e84585"
	if got, want := WebexID("ANNOUNCEMENT", id), "Y2lzY29zcGFyazovL3VzL0FOTk9VTkNFTUVOVC82YTcwZWQ4MS1hZGM5LTQ4OWEtODhjOC0zMWI3ODllODQ1ODU"; got != want {
		t.Errorf("WebexID = %s, want %s (reference §1.4)", got, want)
	}
	if WebexID(IDTypePerson, "") != "" || WebexID(IDTypePerson, "not-a-uuid") != "not-a-uuid" {
		t.Error("empty ids and non-UUIDs must pass through")
	}
}

func TestRedactedHidesSecret(t *testing.T) {
	w := Webhook{Secret: "s3cret"}
	if r := w.Redacted(); strings.Contains(r.Secret, "s3cret") || w.Secret != "s3cret" {
		t.Errorf("Redacted = %q (original %q)", r.Secret, w.Secret)
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "personId=6a70ed81-adc9-489a-88c8-31b789e84585", "personId=Y2lzY29zcGFyazovL3VzL1BFT1BMRS82YTcwZWQ4MQ",
		"roomId=1&personId=2", "personId=%zz", "personId=a;b", "=", "&&&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFilter(s)
		if err != nil {
			if !errors.Is(err, callrec.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if fl.PersonID != strings.TrimSpace(fl.PersonID) {
			t.Fatalf("person %q not trimmed", fl.PersonID)
		}
	})
}

func FuzzValidateTargetURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/webex", "http://127.0.0.1:8081/hook", "http://[::1]:9000/", "ftp://x/",
		"https://u:p@h/", "http://h:99999/", "http:///x", "https://h/#f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidateTargetURL(s); err != nil {
			if !errors.Is(err, callrec.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if l := strings.ToLower(s); !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
			t.Fatalf("accepted %q, which is not http or https", s)
		}
	})
}
