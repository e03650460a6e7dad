package srcclaim

import (
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	v := Sign(key, "org-a", "call-1@127.0.0.1")
	if org, ok := Verify(key, v, "call-1@127.0.0.1"); !ok || org != "org-a" {
		t.Fatalf("Verify(own claim) = %q, %v", org, ok)
	}
	for name, c := range map[string]struct {
		key           []byte
		value, callID string
	}{
		"other session": {key, v, "call-2@127.0.0.1"},
		"other key":     {[]byte("another key of the same length!!"), v, "call-1@127.0.0.1"},
		"org changed":   {key, "org-b" + v[len("org-a"):], "call-1@127.0.0.1"},
		"no signature":  {key, "org-a", "call-1@127.0.0.1"},
		"empty key":     {nil, v, "call-1@127.0.0.1"},
		"empty call id": {key, v, ""},
		"empty value":   {key, "", "call-1@127.0.0.1"},
	} {
		if org, ok := Verify(c.key, c.value, c.callID); ok {
			t.Errorf("%s: Verify accepted, org %q", name, org)
		}
	}
}

func FuzzVerify(f *testing.F) {
	key := []byte("0123456789abcdef")
	f.Add(Sign(key, "org", "c@h"), "c@h")
	f.Add("org;sig=", "c")
	f.Fuzz(func(t *testing.T, value, callID string) {
		// Only a value Sign made for this session is accepted.
		if org, ok := Verify(key, value, callID); ok && Sign(key, org, callID) != strings.TrimSpace(value) {
			t.Fatalf("accepted %q for %q", value, callID)
		}
	})
}
