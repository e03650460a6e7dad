package webexid

import "testing"

func TestEncodeDecode(t *testing.T) {
	const u = "e513185f-5a2f-4495-b35b-7067bf7ce48e"
	// The org id of the reference's §1.4 table.
	const want = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9lNTEzMTg1Zi01YTJmLTQ0OTUtYjM1Yi03MDY3YmY3Y2U0OGU"
	if got := Encode("ORGANIZATION", u); got != want {
		t.Fatalf("Encode = %s, want %s", got, want)
	}
	if typ, id, ok := Decode(want + "="); !ok || typ != "ORGANIZATION" || id != u {
		t.Fatalf("Decode = %q %q %v", typ, id, ok)
	}
	for _, bad := range []string{"", "not-base64!", "aGVsbG8", "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9ub3Bl"} {
		if _, _, ok := Decode(bad); ok {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
	if Encode("X", "") != "" || Encode("X", "none") != "none" {
		t.Error("empty and non-UUID ids must pass through")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode("PEOPLE", "e513185f-5a2f-4495-b35b-7067bf7ce48e"))
	f.Add("Y2lzY29zcGFyazovL3VzL0pPQl9JRC9mYjg1ZDAzNC01NDc0LTQ5YjMtOGM3Ny0zZDZlZDQ1MzA3MGY=")
	f.Fuzz(func(t *testing.T, s string) {
		if typ, id, ok := Decode(s); ok && Encode(typ, id) == "" {
			t.Fatalf("decoded %q but cannot re-encode", s)
		}
	})
}
