package sipdigest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func registrarURI() sip.Uri { return sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060} }

// header builds the Authorization a client (icholy/digest, as sipgo's
// client uses) sends for a challenge of nonce and alg, then lets mod
// change it.
func header(t testing.TB, nonce, alg, qop, uri, password string, mod func(*digest.Credentials)) string {
	t.Helper()
	chal := &digest.Challenge{Realm: DefaultRealm, Nonce: nonce, Algorithm: alg}
	if qop != "" {
		chal.QOP = []string{qop}
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: uri, Username: "alice", Password: password, Cnonce: "0a4f113b"})
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(cred)
	}
	return cred.String()
}

func aliceSecret() Secret {
	m, s := HA1("alice", DefaultRealm, "pw")
	return Secret{Realm: DefaultRealm, HA1MD5: m, HA1SHA256: s}
}

func TestVerify(t *testing.T) {
	var nonces Nonces
	nonce := nonces.Issue(t0)
	const uri = "sip:127.0.0.1:5060"
	cases := []struct {
		name, value string
		secret      Secret
		now         time.Time
		wantErr     string
	}{
		{"SHA-256 with qop auth", header(t, nonce, "SHA-256", "auth", uri, "pw", nil), aliceSecret(), t0, ""},
		{"MD5 with qop auth", header(t, nonce, "MD5", "auth", uri, "pw", nil), aliceSecret(), t0, ""},
		{"MD5 without qop (RFC 2069 form)", header(t, nonce, "MD5", "", uri, "pw", nil), aliceSecret(), t0, ""},
		{"no algorithm means MD5", header(t, nonce, "", "auth", uri, "pw", nil), aliceSecret(), t0, ""},
		{"request URI with parameters", header(t, nonce, "SHA-256", "auth", uri+";transport=tcp", "pw", nil), aliceSecret(), t0, ""},
		{"empty secret realm means callrec", header(t, nonce, "SHA-256", "auth", uri, "pw", nil), Secret{HA1SHA256: aliceSecret().HA1SHA256}, t0, ""},
		{"wrong password", header(t, nonce, "SHA-256", "auth", uri, "guess", nil), aliceSecret(), t0, "wrong response"},
		{"wrong password MD5", header(t, nonce, "MD5", "auth", uri, "guess", nil), aliceSecret(), t0, "wrong response"},
		{"another request URI", header(t, nonce, "SHA-256", "auth", "sip:127.0.0.1:5080", "pw", nil), aliceSecret(), t0, "is not the request URI"},
		{"another realm", header(t, nonce, "SHA-256", "auth", uri, "pw", func(c *digest.Credentials) { c.Realm = "asterisk" }), aliceSecret(), t0, `realm "asterisk"`},
		{"SHA-512 is not offered", header(t, nonce, "SHA-512", "auth", uri, "pw", nil), aliceSecret(), t0, `algorithm "SHA-512" is not supported`},
		{"no SHA-256 hash stored", header(t, nonce, "SHA-256", "auth", uri, "pw", nil), Secret{HA1MD5: aliceSecret().HA1MD5}, t0, "no SHA-256 credentials"},
		{"auth-int is not offered", header(t, nonce, "SHA-256", "auth", uri, "pw", func(c *digest.Credentials) { c.QOP = "auth-int" }), aliceSecret(), t0, `qop "auth-int" is not supported`},
		{"qop auth without cnonce", header(t, nonce, "SHA-256", "auth", uri, "pw", func(c *digest.Credentials) { c.Cnonce = "" }), aliceSecret(), t0, "without cnonce"},
		{"tampered response", header(t, nonce, "SHA-256", "auth", uri, "pw", func(c *digest.Credentials) { c.Response = strings.Repeat("0", 64) }), aliceSecret(), t0, "wrong response"},
		{"nonce count changed after signing", header(t, nonce, "SHA-256", "auth", uri, "pw", func(c *digest.Credentials) { c.Nc = 2 }), aliceSecret(), t0, "wrong response"},
		{"forged nonce", header(t, nonce, "SHA-256", "auth", uri, "pw", func(c *digest.Credentials) { c.Nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }), aliceSecret(), t0, ErrBadNonce.Error()},
		{"expired nonce", header(t, nonce, "SHA-256", "auth", uri, "pw", nil), aliceSecret(), t0.Add(DefaultNonceTTL), ErrStaleNonce.Error()},
		{"nonce just before expiry", header(t, nonce, "SHA-256", "auth", uri, "pw", nil), aliceSecret(), t0.Add(DefaultNonceTTL - time.Second), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := ParseAuthorization(c.value)
			if err != nil {
				t.Fatalf("parse %q: %v", c.value, err)
			}
			err = a.Verify("REGISTER", registrarURI(), c.secret, &nonces, c.now)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("Verify = %v, want success", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("Verify = %v, want an error containing %q", err, c.wantErr)
			}
		})
	}
	t.Run("another method does not verify", func(t *testing.T) {
		a, err := ParseAuthorization(header(t, nonce, "SHA-256", "auth", uri, "pw", nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Verify("INVITE", registrarURI(), aliceSecret(), &nonces, t0); err == nil || !strings.Contains(err.Error(), "wrong response") {
			t.Errorf("Verify for INVITE of a REGISTER response = %v", err)
		}
	})
	t.Run("nonce errors are wrapped", func(t *testing.T) {
		a, _ := ParseAuthorization(header(t, nonce, "SHA-256", "auth", uri, "pw", nil))
		if err := a.Verify("REGISTER", registrarURI(), aliceSecret(), &nonces, t0.Add(time.Hour)); !errors.Is(err, ErrStaleNonce) {
			t.Errorf("expired: %v, want ErrStaleNonce", err)
		}
		var other Nonces
		if err := a.Verify("REGISTER", registrarURI(), aliceSecret(), &other, t0); !errors.Is(err, ErrBadNonce) {
			t.Errorf("another server's nonce: %v, want ErrBadNonce", err)
		}
	})
}

func TestParseAuthorizationRefuses(t *testing.T) {
	for _, c := range []struct{ name, value, wantErr string }{
		{"Basic scheme", "Basic YWxpY2U6cHc=", "invalid credentials prefix"},
		{"empty", "", "invalid credentials prefix"},
		{"userhash", `Digest username="x", realm="callrec", nonce="n", uri="sip:a", response="r", userhash=true`, "userhash is not supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseAuthorization(c.value); err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseAuthorization(%q) = %v, want an error containing %q", c.value, err, c.wantErr)
			}
		})
	}
}

func TestNonces(t *testing.T) {
	t.Run("a realm's nonce is bad in another realm", func(t *testing.T) {
		a := &Nonces{Realm: "a"}
		a.init()
		b := &Nonces{Realm: "b"}
		b.once.Do(func() {}) // same key: only the realm differs
		b.key = a.key
		if err := b.Check(a.Issue(t0), t0); !errors.Is(err, ErrBadNonce) {
			t.Errorf("Check = %v, want ErrBadNonce", err)
		}
	})
	t.Run("TTL is honoured", func(t *testing.T) {
		n := &Nonces{TTL: 30 * time.Second}
		nonce := n.Issue(t0)
		if err := n.Check(nonce, t0.Add(29*time.Second)); err != nil {
			t.Errorf("at 29 s: %v", err)
		}
		if err := n.Check(nonce, t0.Add(30*time.Second)); !errors.Is(err, ErrStaleNonce) {
			t.Errorf("at 30 s: %v, want ErrStaleNonce", err)
		}
	})
	t.Run("garbage is bad", func(t *testing.T) {
		var n Nonces
		for _, s := range []string{"", "x", "!!!!", strings.Repeat("A", 32), strings.Repeat("A", 33)} {
			if err := n.Check(s, t0); !errors.Is(err, ErrBadNonce) {
				t.Errorf("Check(%q) = %v, want ErrBadNonce", s, err)
			}
		}
	})
	t.Run("nonces differ over time", func(t *testing.T) {
		var n Nonces
		if n.Issue(t0) == n.Issue(t0.Add(time.Second)) {
			t.Error("two nonces a second apart are equal")
		}
	})
}

func TestChallenge(t *testing.T) {
	n := &Nonces{}
	for _, stale := range []bool{false, true} {
		t.Run(fmt.Sprintf("stale=%v", stale), func(t *testing.T) {
			hdrs := n.Challenge(t0, stale)
			if len(hdrs) != 2 {
				t.Fatalf("%d headers, want 2", len(hdrs))
			}
			var nonces []string
			for i, alg := range []string{"SHA-256", "MD5"} {
				if hdrs[i].Name() != "WWW-Authenticate" {
					t.Errorf("header %d is %s", i, hdrs[i].Name())
				}
				c, err := digest.ParseChallenge(hdrs[i].Value())
				if err != nil {
					t.Fatalf("challenge %q: %v", hdrs[i].Value(), err)
				}
				if c.Algorithm != alg || c.Realm != DefaultRealm || len(c.QOP) != 1 || c.QOP[0] != "auth" || c.Stale != stale {
					t.Errorf("challenge %d = %+v, want %s, realm callrec, qop auth, stale %v", i, c, alg, stale)
				}
				if err := n.Check(c.Nonce, t0); err != nil {
					t.Errorf("challenge nonce: %v", err)
				}
				nonces = append(nonces, c.Nonce)
			}
			if nonces[0] != nonces[1] {
				t.Error("the two challenges carry different nonces")
			}
		})
	}
}

func TestChallengeAlgorithms(t *testing.T) {
	n := &Nonces{Algorithms: []string{"MD5"}, Realm: "pbx"}
	hdrs := n.Challenge(t0, false)
	if len(hdrs) != 1 {
		t.Fatalf("%d challenges, want MD5 alone", len(hdrs))
	}
	c, err := digest.ParseChallenge(hdrs[0].Value())
	if err != nil || c.Algorithm != "MD5" || c.Realm != "pbx" {
		t.Errorf("challenge %q (%v), want MD5 in realm pbx", hdrs[0].Value(), err)
	}
}

// TestRFC7616Example checks the response computation against the
// worked example of RFC 7616 §3.9.1.
func TestRFC7616Example(t *testing.T) {
	m, s := HA1("Mufasa", "http-auth@example.org", "Circle of Life")
	const (
		nonce  = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	)
	for _, c := range []struct{ alg, ha1, want string }{
		{"MD5", m, "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", s, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		t.Run(c.alg, func(t *testing.T) {
			got, err := Response(c.alg, c.ha1, nonce, 1, cnonce, "auth", "GET", "/dir/index.html")
			if err != nil || got != c.want {
				t.Errorf("Response = %s, %v; want %s", got, err, c.want)
			}
		})
	}
	if _, err := Response("SHA-512-256", s, nonce, 1, cnonce, "auth", "GET", "/"); err == nil {
		t.Error("Response accepted SHA-512-256")
	}
}

func FuzzVerify(f *testing.F) {
	var nonces Nonces
	nonce := nonces.Issue(t0)
	for _, alg := range []string{"SHA-256", "MD5"} {
		f.Add(header(f, nonce, alg, "auth", "sip:127.0.0.1:5060", "pw", nil))
	}
	// The forms phones send: a Linphone-style header, a Yealink-style one
	// without qop, a Polycom-style one with unquoted algorithm and spaces.
	f.Add(`Digest realm="callrec", nonce="` + nonce + `", algorithm=SHA-256, username="alice",  uri="sip:127.0.0.1:5060", response="00", cnonce="abc", nc=00000001, qop=auth`)
	f.Add(`Digest username="alice",realm="callrec",nonce="` + nonce + `",uri="sip:127.0.0.1:5060",response="6629fae49393a05397450978507c4ef1",algorithm=MD5`)
	f.Add(`Digest  username = "alice" , realm="callrec", nonce="x", uri="sip:127.0.0.1", response="", qop=auth, nc=00000001, cnonce="abc"`)
	f.Add(`Digest username="a\"b", realm=`)
	f.Fuzz(func(t *testing.T, value string) {
		a, err := ParseAuthorization(value)
		if err != nil {
			return
		}
		if err := a.Verify("REGISTER", registrarURI(), aliceSecret(), &nonces, t0); err == nil {
			// Accepted: it must carry our nonce and realm (the caller
			// chose the secret by user name).
			if a.Nonce != nonce || a.Realm != DefaultRealm {
				t.Fatalf("accepted %q: %+v", value, a)
			}
		}
	})
}

func ExampleHA1() {
	m, s := HA1("alice", DefaultRealm, "s3cret")
	fmt.Println(len(m), len(s))
	// Output: 32 64
}

func BenchmarkVerifySHA256(b *testing.B) {
	var nonces Nonces
	nonce := nonces.Issue(t0)
	value := header(b, nonce, "SHA-256", "auth", "sip:127.0.0.1:5060", "pw", nil)
	secret := aliceSecret()
	b.ReportAllocs()
	for b.Loop() {
		a, err := ParseAuthorization(value)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Verify("REGISTER", registrarURI(), secret, &nonces, t0); err != nil {
			b.Fatal(err)
		}
	}
}
