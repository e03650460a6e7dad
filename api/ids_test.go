package api

import "testing"

func TestWebexIDRoundTrip(t *testing.T) {
	const u = "0a426754-a470-4c2d-8ba0-fbc6773a8a7c"
	got := webexID(idVendor, u)
	// The vendor id of the reference's §1.4 table.
	if want := "Y2lzY29zcGFyazovL3VzL1JFQ09SRElOR19WRU5ET1IvMGE0MjY3NTQtYTQ3MC00YzJkLThiYTAtZmJjNjc3M2E4YTdj"; got != want {
		t.Fatalf("webexID = %s, want %s", got, want)
	}
	for name, in := range map[string]string{
		"unpadded":       got,
		"padded":         got + "=",
		"bare uuid":      u,
		"upper uuid":     "0A426754-A470-4C2D-8BA0-FBC6773A8A7C",
		"other region":   "Y2lzY29zcGFyazovL2V1L1JFQ09SRElOR19WRU5ET1IvMGE0MjY3NTQtYTQ3MC00YzJkLThiYTAtZmJjNjc3M2E4YTdj",
		"std base64 pad": "Y2lzY29zcGFyazovL3VzL1JFQ09SRElOR19WRU5ET1IvMGE0MjY3NTQtYTQ3MC00YzJkLThiYTAtZmJjNjc3M2E4YTdj==",
	} {
		if id, ok := parseID(idVendor, in); !ok || id != u {
			t.Errorf("%s: parseID(%q) = %q, %v; want %q", name, in, id, ok, u)
		}
	}
	for name, in := range map[string]string{
		"other type": webexID(idPerson, u),
		"garbage":    "not-an-id",
		"empty":      "",
		"no uuid":    "Y2lzY29zcGFyazovL3VzL1JFQ09SRElOR19WRU5ET1Ivbm9wZQ",
	} {
		if id, ok := parseID(idVendor, in); ok {
			t.Errorf("%s: parseID(%q) = %q, want refusal", name, in, id)
		}
	}
	if got := webexID(idVendor, "none"); got != "none" {
		t.Errorf("webexID(none) = %q, want none", got)
	}
}

func FuzzParseID(f *testing.F) {
	f.Add(webexID(idOrg, "e513185f-5a2f-4495-b35b-7067bf7ce48e"))
	f.Add("e513185f-5a2f-4495-b35b-7067bf7ce48e")
	f.Add("Y2lzY29zcGFyazovL3VzL0pPQl9JRC9mYjg1ZDAzNC01NDc0LTQ5YjMtOGM3Ny0zZDZlZDQ1MzA3MGY=")
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := parseID(idOrg, s)
		if ok && webexID(idOrg, id) == "" {
			t.Fatalf("accepted %q but cannot re-encode", s)
		}
	})
}
