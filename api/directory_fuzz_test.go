package api

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzParseNetwork: a SIPREC source network either is refused or is a
// masked prefix that renders and parses back to itself and contains the
// address it was given.
func FuzzParseNetwork(f *testing.F) {
	for _, s := range []string{"192.0.2.10", "10.0.0.0/8", "10.1.2.3/8", "2001:db8::/32", "2001:db8::1", "::ffff:192.0.2.1",
		"::ffff:192.0.2.0/120", "::ffff:0:0/80", "fe80::1%eth0", "0.0.0.0/0", "::/0", " 172.16.0.0/12 ", "10.0.0.0/33", "", "/", "1.2.3.4/-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseNetwork(s)
		if err != nil {
			return
		}
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			t.Fatalf("parseNetwork(%q) = %v: not a valid masked prefix", s, p)
		}
		again, err := parseNetwork(p.String())
		if err != nil || again != p {
			t.Fatalf("parseNetwork(%q) = %v, which parses back as %v, %v", s, p, again, err)
		}
		in := strings.TrimSpace(s)
		if a, err := netip.ParseAddr(strings.SplitN(in, "/", 2)[0]); err == nil && !p.Contains(a.Unmap()) {
			t.Fatalf("parseNetwork(%q) = %v does not contain %v", s, p, a)
		}
	})
}

// FuzzDirectoryFields: the field validators never panic, and what they
// accept they accept again unchanged (stored values are canonical).
func FuzzDirectoryFields(f *testing.F) {
	for _, s := range []string{"ann@example.com", "Ann <ann@example.com>", "a@b", "+45 12 34 56 78", "+4512345678", "(555) 123-4567",
		"1001", "12a", "en_US", "de-de", "xx_YY", "sbc.carrier.example", "10.0.0.300", "[2001:db8::1]", "fe80::1%eth0",
		"desk-1", "a b", "\x00", "é@ø.example", strings.Repeat("9", 20)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []struct {
			name string
			fn   func(string, string) (string, error)
		}{
			{"email", dirEmail}, {"e164", dirE164}, {"extension", dirExtension}, {"language", dirLanguage},
			{"host", dirHost}, {"text", func(f, v string) (string, error) { return dirText(f, v, maxNameLen) }},
		} {
			out, err := v.fn("field", s)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "field") {
					t.Fatalf("%s(%q): error %q does not name the field", v.name, s, err)
				}
				continue
			}
			again, err := v.fn("field", out)
			if err != nil || again != out {
				t.Fatalf("%s(%q) = %q, which validates as %q, %v", v.name, s, out, again, err)
			}
		}
		if err := dirSIPUser("field", s); err != nil && !strings.HasPrefix(err.Error(), "field") {
			t.Fatalf("dirSIPUser(%q): %v", s, err)
		}
	})
}
