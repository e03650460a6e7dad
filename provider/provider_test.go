package provider

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

func TestBuiltIn(t *testing.T) {
	got := BuiltIn("sip:rec.example.com")
	want := callrec.Provider{
		ID: callrec.BuiltInProviderID, Name: "callrec", Description: "callrec built-in recorder", BuiltIn: true,
		Plans: []string{"go", "team", "premier"}, AutoProvisioning: true, StorageOptions: []string{"provider"},
		Regions: []string{"US", "SG", "GB", "JP", "DE", "AU", "IN", "CA"}, TermsURL: "", TermsVersion: "1",
		SIPRECTarget: "sip:rec.example.com",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BuiltIn =\n%+v\nwant\n%+v", got, want)
	}
	if err := Validate(&got); err != nil {
		t.Errorf("Validate(BuiltIn) = %v", err)
	}
	// The result is a copy: changing it changes no later call.
	got.Plans[0], got.Regions[0] = "x", "x"
	if again := BuiltIn(""); again.Plans[0] != "go" || again.Regions[0] != "US" {
		t.Errorf("BuiltIn shares its slices: %v %v", again.Plans, again.Regions)
	}
}

func TestEnsureBuiltIn(t *testing.T) {
	f := newFixture(t)
	p := f.builtIn()
	if p.SIPRECTarget != testTarget || !p.BuiltIn || p.Name != "callrec" || p.Created.IsZero() {
		t.Fatalf("stored built-in = %+v", p)
	}
	t.Run("keeps admin changes and updates the target", func(t *testing.T) {
		f.update(func(tx directory.Tx) error {
			next := p
			next.Description = "our recorder"
			next.Regions = []string{"DE"}
			return Update(f.ctx, tx, &p, &next)
		})
		if err := EnsureBuiltIn(f.ctx, f.st, "sips:rec.example.net:5071"); err != nil {
			t.Fatal(err)
		}
		got := f.builtIn()
		if got.SIPRECTarget != "sips:rec.example.net:5071" || got.Description != "our recorder" ||
			!reflect.DeepEqual(got.Regions, []string{"DE"}) || !got.Created.Equal(p.Created) {
			t.Errorf("after EnsureBuiltIn = %+v", got)
		}
	})
	t.Run("empty target is allowed", func(t *testing.T) {
		if err := EnsureBuiltIn(f.ctx, f.st, ""); err != nil {
			t.Fatal(err)
		}
		if got := f.builtIn(); got.SIPRECTarget != "" {
			t.Errorf("target = %q", got.SIPRECTarget)
		}
	})
	t.Run("invalid target is refused", func(t *testing.T) {
		err := EnsureBuiltIn(f.ctx, f.st, "http://rec.example.com")
		if err == nil || !strings.Contains(err.Error(), `"sip:" or "sips:"`) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestR5_Validate(t *testing.T) {
	long := strings.Repeat("x", 129)
	tests := []struct {
		name  string
		mod   func(p *callrec.Provider)
		kind  error
		field string
		msg   string
	}{
		{"no name", func(p *callrec.Provider) { p.Name = " " }, callrec.ErrInvalid, "name", "name: is required (R5)"},
		{"long name", func(p *callrec.Provider) { p.Name = long }, callrec.ErrInvalid, "name", "longer than 128 bytes"},
		{"NUL in description", func(p *callrec.Provider) { p.Description = "a\x00b" }, callrec.ErrInvalid, "description", "NUL"},
		{"bad UTF-8 in name", func(p *callrec.Provider) { p.Name = "\xff" }, callrec.ErrInvalid, "name", "UTF-8"},
		{"no target", func(p *callrec.Provider) { p.SIPRECTarget = "" }, callrec.ErrInvalid, "siprecTarget", "siprecTarget: is required"},
		{"http target", func(p *callrec.Provider) { p.SIPRECTarget = "http://srs.example.com" }, callrec.ErrInvalid, "siprecTarget",
			`siprecTarget: "http://srs.example.com" is not a SIP URI: must start with "sip:" or "sips:" (R5)`},
		{"target without host", func(p *callrec.Provider) { p.SIPRECTarget = "sip:" }, callrec.ErrInvalid, "siprecTarget", "no host"},
		{"bad backup", func(p *callrec.Provider) { p.BackupTarget = "sip:a b" }, callrec.ErrInvalid, "backupSiprecTarget", "(X1)"},
		{"no plans", func(p *callrec.Provider) { p.Plans = nil }, callrec.ErrInvalid, "plans", "plans: at least one plan is required (R5)"},
		{"empty plan", func(p *callrec.Provider) { p.Plans = []string{"a", ""} }, callrec.ErrInvalid, "plans", "must not be empty"},
		{"plan twice", func(p *callrec.Provider) { p.Plans = []string{"a", "a"} }, callrec.ErrInvalid, "plans", `plans: "a" is listed twice`},
		{"no storage", func(p *callrec.Provider) { p.StorageOptions = nil }, callrec.ErrInvalid, "storageOptions", "at least one of provider, customer"},
		{"unknown storage", func(p *callrec.Provider) { p.StorageOptions = []string{"cloud"} }, callrec.ErrInvalid, "storageOptions",
			`storageOptions: "cloud" is not one of provider, customer (R5)`},
		{"unknown region", func(p *callrec.Provider) { p.Regions = []string{"US", "EU"} }, callrec.ErrInvalid, "regions",
			`regions: "EU" is not a known region; allowed: US, SG, GB, JP, DE, AU, IN, CA (R6)`},
		{"lower-case region", func(p *callrec.Provider) { p.Regions = []string{"us"} }, callrec.ErrInvalid, "regions", `"us" is not a known region`},
		{"too many analytics", func(p *callrec.Provider) { p.Analytics = make([]string, 33) }, callrec.ErrInvalid, "analyticsFeatures", "at most 32"},
		{"bad login URL", func(p *callrec.Provider) { p.LoginURL = "login.example.com" }, callrec.ErrInvalid, "loginUrl", "not an absolute http or https URL"},
		{"external without terms URL", func(p *callrec.Provider) { p.TermsURL = "" }, callrec.ErrInvalid, "termsOfServiceUrl", "required for an external provider"},
		{"ftp terms URL", func(p *callrec.Provider) { p.TermsURL = "ftp://example.com/t" }, callrec.ErrInvalid, "termsOfServiceUrl", "http or https"},
		{"no terms version", func(p *callrec.Provider) { p.TermsVersion = "" }, callrec.ErrInvalid, "termsOfServiceVersion", "is required (R13)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := externalProvider("Dubber")
			tc.mod(&p)
			wantRuleError(t, Validate(&p), tc.kind, tc.field, tc.msg)
		})
	}
	t.Run("valid external", func(t *testing.T) {
		p := externalProvider("Dubber")
		p.Regions = nil // offered everywhere (R6)
		p.Analytics = nil
		p.LoginURL = ""
		if err := Validate(&p); err != nil {
			t.Errorf("Validate = %v", err)
		}
	})
	builtIn := []struct {
		name  string
		mod   func(p *callrec.Provider)
		field string
		msg   string
	}{
		{"renamed", func(p *callrec.Provider) { p.Name = "ours" }, "name", "cannot be renamed"},
		{"plans changed", func(p *callrec.Provider) { p.Plans = []string{"go", "team"} }, "plans", "go, team, premier and cannot be changed"},
		{"auto provisioning off", func(p *callrec.Provider) { p.AutoProvisioning = false }, "autoProvisioningEnabled", "(R7)"},
	}
	for _, tc := range builtIn {
		t.Run("built-in "+tc.name, func(t *testing.T) {
			p := BuiltIn("")
			tc.mod(&p)
			wantRuleError(t, Validate(&p), callrec.ErrConflict, tc.field, tc.msg)
		})
	}
}

func TestValidateSIPURI(t *testing.T) {
	valid := []string{
		"sip:srs.example.com", "SIP:srs.example.com", "sips:srs.example.com:5061", "sip:recorder@10.0.0.5",
		"sip:rec@10.0.0.5:5070;transport=tcp", "sip:[2001:db8::1]:5060", "sip:[::1]", "sip:+4512345678;phone-context=example.com@gw.example.com",
		"sip:srs.example.com.;lr", "sip:a-b.c1.example", "sip:rec:secret@srs.example.com",
	}
	for _, s := range valid {
		t.Run("valid "+s, func(t *testing.T) {
			if err := ValidateSIPURI(s); err != nil {
				t.Errorf("ValidateSIPURI(%q) = %v", s, err)
			}
		})
	}
	invalid := []struct{ in, msg string }{
		{"", `must start with "sip:" or "sips:"`},
		{"tel:+4512345678", `must start with "sip:" or "sips:"`},
		{"sip:", "no host"},
		{"sip:@srs.example.com", "empty user part"},
		{"sip:srs.example.com:0", "port"},
		{"sip:srs.example.com:70000", "port"},
		{"sip:srs.example.com:", "empty port"},
		{"sip:srs.example.com:+50", "port"},
		{"sip:srs..example.com", "not a valid name"},
		{"sip:-srs.example.com", "not a valid name"},
		{"sip:srs_1.example.com", "not a valid name"},
		{"sip:1.2.3", "neither an IPv4 address nor a domain name"},
		{"sip:2001:db8::1", "must be in brackets"},
		{"sip:[2001:db8::1", "unterminated"},
		{"sip:[10.0.0.1]", "not an IPv6 address"},
		{"sip:[::1]5060", "unexpected text"},
		{"sip:srs.example.com?Subject=x", "headers"},
		{"sip:srs.example.com;", "empty URI parameter"},
		{"sip:srs.example.com;=tcp", "no valid name"},
		{"sip:srs example.com", "space"},
		{"sip:srs.exämple.com", "non-ASCII"},
		{"sip:" + strings.Repeat("a", 2100), "longer than"},
	}
	for _, tc := range invalid {
		t.Run("invalid "+tc.in, func(t *testing.T) {
			err := ValidateSIPURI(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ValidateSIPURI(%q) = %v, want an error containing %q", tc.in, err, tc.msg)
			}
		})
	}
}

// FuzzValidateSIPURI checks the parser never panics and accepts only
// sip:/sips: URIs of printable ASCII without headers.
func FuzzValidateSIPURI(f *testing.F) {
	for _, s := range []string{
		"sip:srs.example.com", "sips:rec@10.1.2.3:5061;transport=tls", "sip:[2001:db8::5]:5070;lr",
		"sip:+4512345678;phone-context=example.com@gw.example.com", "sip:", "sip:@", "sip:[", "sip:a:b:c",
		"http://x", "sip:a;b=c;d", "SIPS:host.", "sip:x@[::1]:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateSIPURI(s) != nil {
			return
		}
		lower := strings.ToLower(s)
		if !strings.HasPrefix(lower, "sip:") && !strings.HasPrefix(lower, "sips:") {
			t.Fatalf("accepted %q without a sip: or sips: scheme", s)
		}
		for i := 0; i < len(s); i++ {
			if s[i] <= ' ' || s[i] >= 0x7f || s[i] == '?' {
				t.Fatalf("accepted %q with byte %q", s, s[i])
			}
		}
	})
}

func TestR5_Register(t *testing.T) {
	f := newFixture(t)
	p := f.external("Dubber", "US")
	if p.ID == "" || p.BuiltIn || !p.Created.Equal(testNow) {
		t.Fatalf("registered = %+v", p)
	}
	var got *callrec.Provider
	f.view(func(tx directory.Tx) error {
		var err error
		got, err = Get(f.ctx, tx, p.ID)
		return err
	})
	if !reflect.DeepEqual(*got, p) {
		t.Errorf("stored =\n%+v\nwant\n%+v", *got, p)
	}
	t.Run("name taken, another case", func(t *testing.T) {
		q := externalProvider("DUBBER")
		err := f.st.Update(f.ctx, func(tx directory.Tx) error { return Register(f.ctx, tx, &q, testNow) })
		wantRuleError(t, err, callrec.ErrConflict, "name", `name: "DUBBER" is already the name of another provider`)
	})
	t.Run("built-in name taken", func(t *testing.T) {
		q := externalProvider("callrec")
		err := f.st.Update(f.ctx, func(tx directory.Tx) error { return Register(f.ctx, tx, &q, testNow) })
		wantRuleError(t, err, callrec.ErrConflict, "name", "already the name")
	})
	t.Run("a registration cannot claim to be built in", func(t *testing.T) {
		q := externalProvider("Other")
		q.BuiltIn, q.ID, q.TermsVersion = true, callrec.BuiltInProviderID, ""
		f.update(func(tx directory.Tx) error { return Register(f.ctx, tx, &q, testNow) })
		if q.BuiltIn || q.ID == callrec.BuiltInProviderID || q.TermsVersion != "1" {
			t.Errorf("registered = %+v", q)
		}
		if b := f.builtIn(); b.Name != "callrec" {
			t.Errorf("built-in overwritten: %+v", b)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		err := f.st.View(f.ctx, func(tx directory.Tx) error {
			_, err := Get(f.ctx, tx, "0d3c8f4e-0000-4000-8000-000000000000")
			return err
		})
		wantRuleError(t, err, callrec.ErrNotFound, "providerId", "was not found")
	})
}

// TestR6_RegisteredRegionsReachPolicy: the regions a provider declares
// are what policy refuses an org hosted elsewhere with (the vendor PUT
// asks policy.CheckOrgVendor).
func TestR6_RegisteredRegionsReachPolicy(t *testing.T) {
	f := newFixture(t)
	us := f.external("US Only", "US")
	anywhere := f.external("Anywhere")
	gb := f.newOrg("Brit Ltd", "p1")
	gb.Region = "GB"
	f.update(func(tx directory.Tx) error { return directory.Orgs.Put(f.ctx, tx, gb) })
	f.accept(gb, us, Actor{Email: "admin@brit.example"})
	f.accept(gb, anywhere, Actor{Email: "admin@brit.example"})
	snap := f.snapshot(gb.ID)
	err := policy.CheckOrgVendor(snap, us.ID, false)
	var re *policy.RuleError
	if !errors.As(err, &re) || re.Rule != "R6" || !errors.Is(err, callrec.ErrInvalid) {
		t.Errorf("CheckOrgVendor(US-only provider, GB org) = %v, want an R6 refusal", err)
	}
	if err := policy.CheckOrgVendor(snap, anywhere.ID, false); err != nil {
		t.Errorf("CheckOrgVendor(provider without regions) = %v", err)
	}
}

func TestUpdate(t *testing.T) {
	f := newFixture(t)
	p := f.external("Dubber", "US")
	t.Run("external: rename and change", func(t *testing.T) {
		next := p
		next.Name, next.Regions, next.Plans = "Dubber Go", []string{"US", "CA"}, []string{"one"}
		next.ID, next.BuiltIn = "forged", true // read-only: ignored
		f.update(func(tx directory.Tx) error { return Update(f.ctx, tx, &p, &next) })
		var got *callrec.Provider
		f.view(func(tx directory.Tx) error {
			var err error
			got, err = Get(f.ctx, tx, p.ID)
			return err
		})
		if got.Name != "Dubber Go" || !reflect.DeepEqual(got.Regions, []string{"US", "CA"}) || got.BuiltIn || got.ID != p.ID {
			t.Errorf("updated = %+v", got)
		}
	})
	b := f.builtIn()
	locked := []struct {
		name  string
		mod   func(p *callrec.Provider)
		field string
	}{
		{"rename", func(p *callrec.Provider) { p.Name = "mine" }, "name"},
		{"plans", func(p *callrec.Provider) { p.Plans = []string{"go"} }, "plans"},
		{"target", func(p *callrec.Provider) { p.SIPRECTarget = "sip:other.example.com" }, "siprecTarget"},
		{"auto provisioning", func(p *callrec.Provider) { p.AutoProvisioning = false }, "autoProvisioningEnabled"},
	}
	for _, tc := range locked {
		t.Run("built-in "+tc.name, func(t *testing.T) {
			next := b
			next.Plans = append([]string(nil), b.Plans...)
			tc.mod(&next)
			err := f.st.Update(f.ctx, func(tx directory.Tx) error { return Update(f.ctx, tx, &b, &next) })
			wantRuleError(t, err, callrec.ErrConflict, tc.field, "")
		})
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t)
	del := func(id string) error {
		return f.st.Update(f.ctx, func(tx directory.Tx) error { return Delete(f.ctx, tx, id) })
	}
	t.Run("built-in", func(t *testing.T) {
		wantRuleError(t, del(callrec.BuiltInProviderID), callrec.ErrConflict, "providerId", `The built-in provider "callrec" cannot be deleted`)
	})
	t.Run("chosen by an org", func(t *testing.T) {
		p := f.external("Org Vendor")
		other := f.newOrg("Other", "p2")
		f.setVendor(other, p.ID)
		wantRuleError(t, del(p.ID), callrec.ErrConflict, "providerId", "in use (chosen by 1 org(s) and 0 location(s))")
		if strings.Contains(del(p.ID).Error(), "Other") {
			t.Error("the message names another partner's org")
		}
	})
	t.Run("chosen by a location", func(t *testing.T) {
		p := f.external("Location Vendor")
		loc := f.location(f.org.ID, "Branch", "Europe/Paris")
		loc.Recording.VendorID = p.ID
		f.update(func(tx directory.Tx) error { return directory.Locations.Put(f.ctx, tx, &loc) })
		wantRuleError(t, del(p.ID), callrec.ErrConflict, "providerId", "chosen by 0 org(s) and 1 location(s)")
	})
	t.Run("unused", func(t *testing.T) {
		p := f.external("Unused")
		f.accept(f.org, p, Actor{Email: "a@acme.example"})
		if err := del(p.ID); err != nil {
			t.Fatal(err)
		}
		wantRuleError(t, del(p.ID), callrec.ErrNotFound, "providerId", "was not found")
		if tr := f.terms(f.org.ID, p.ID); tr == nil || !tr.Accepted {
			t.Errorf("the acceptance is history and stays: %+v", tr)
		}
	})
}

// FuzzValidate checks that Validate never panics on any registration
// and that what it accepts keeps the promises of R5, R6 and R13.
func FuzzValidate(f *testing.F) {
	p := externalProvider("Dubber")
	f.Add(p.Name, p.SIPRECTarget, p.BackupTarget, "compliance,analytics", "provider,customer", "US,CA", p.TermsURL, p.TermsVersion, false)
	f.Add("callrec", "", "", "go,team,premier", "provider", "US,SG,GB,JP,DE,AU,IN,CA", "", "1", true)
	f.Add("X", "sip:[::1]:0", "sips:a", "a,a", "cloud", "EU", "ftp://x", "", false)
	f.Add("\xff", "sip:a;b", "", "", "", "", "https://", " ", false)
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	f.Fuzz(func(t *testing.T, name, target, backup, plans, storage, regions, termsURL, version string, builtIn bool) {
		p := callrec.Provider{Name: name, SIPRECTarget: target, BackupTarget: backup, Plans: split(plans),
			StorageOptions: split(storage), Regions: split(regions), TermsURL: termsURL, TermsVersion: version,
			BuiltIn: builtIn, AutoProvisioning: builtIn}
		if builtIn {
			p.ID = callrec.BuiltInProviderID
		}
		err := Validate(&p)
		if err != nil {
			var re *policy.RuleError
			if !errors.As(err, &re) || re.Msg == "" || (!errors.Is(err, callrec.ErrInvalid) && !errors.Is(err, callrec.ErrConflict)) {
				t.Fatalf("Validate = %v (%T): want a RuleError of kind invalid or conflict", err, err)
			}
			return
		}
		if strings.TrimSpace(p.Name) == "" || len(p.Plans) == 0 || len(p.StorageOptions) == 0 || strings.TrimSpace(p.TermsVersion) == "" {
			t.Fatalf("accepted %+v without a required field", p)
		}
		if !builtIn && (p.TermsURL == "" || ValidateSIPURI(p.SIPRECTarget) != nil) {
			t.Fatalf("accepted external %+v without terms URL or SIP target", p)
		}
		for _, r := range p.Regions {
			if !slices.Contains(policy.StorageRegions, r) {
				t.Fatalf("accepted unknown region %q", r)
			}
		}
		for _, o := range p.StorageOptions {
			if o != StorageProvider && o != StorageCustomer {
				t.Fatalf("accepted storage option %q", o)
			}
		}
	})
}
