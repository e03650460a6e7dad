package recorder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/sipdigest"
	"github.com/callrec/callrec/srcclaim"
)

// source returns a SIPREC source of org with networks and, when password
// is not empty, digest credentials for user.
func source(id, org string, networks []string, user, password string) callrec.SIPRECSource {
	s := callrec.SIPRECSource{ID: id, OrgID: org, Name: "sbc " + id, Networks: networks}
	if password != "" {
		md5Hex, shaHex := HA1(user, DigestRealm, password)
		s.SIP = &callrec.SIPCredentials{Username: user, Realm: DigestRealm, HA1MD5: md5Hex, HA1SHA256: shaHex}
	}
	return s
}

func TestSourceTableLongestPrefixWins(t *testing.T) {
	tab := newSourceTable([]callrec.SIPRECSource{
		source("wide", "org-a", []string{"10.0.0.0/8"}, "", ""),
		source("narrow", "org-b", []string{"10.1.0.0/16", "2001:db8::/32"}, "", ""),
		source("host", "org-c", []string{"10.1.2.3", " 192.0.2.0/24 "}, "", ""),
		source("broken", "org-d", []string{"not-a-network", "10.9.9.9/33"}, "", ""),
	})
	cases := []struct {
		addr, want string
	}{
		{"10.200.0.1", "wide"},
		{"10.1.9.9", "narrow"},
		{"10.1.2.3", "host"},
		{"::ffff:10.1.2.3", "host"}, // IPv4-mapped source address
		{"192.0.2.77", "host"},
		{"2001:db8::5", "narrow"},
		{"172.16.0.1", ""},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			got := ""
			if s := tab.byNetwork(netip.MustParseAddr(c.addr)); s != nil {
				got = s.ID
			}
			if got != c.want {
				t.Errorf("byNetwork(%s) = %q, want %q", c.addr, got, c.want)
			}
		})
	}
	if len(tab.bad) != 2 || !strings.Contains(tab.bad[0], `"not-a-network"`) || !strings.Contains(tab.bad[1], `"10.9.9.9/33"`) {
		t.Errorf("bad networks = %q", tab.bad)
	}
	if tab.hasCredentials() {
		t.Error("a table without credentials says it has some")
	}
}

// testServer is a Server with only what admission needs.
func testServer(t *testing.T, allow []netip.Prefix, now time.Time, srcs ...callrec.SIPRECSource) *Server {
	t.Helper()
	s := &Server{cfg: Config{Allow: allow, OrgID: "org-default"}, log: slog.New(slog.DiscardHandler), now: func() time.Time { return now }}
	s.sources.Store(newSourceTable(srcs))
	return s
}

// siprecInvite is an initial INVITE to sip:srs@127.0.0.1:5070.
func siprecInvite() *sip.Request {
	return sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "srs", Host: "127.0.0.1", Port: 5070})
}

// authorize answers the challenge of a 401 as a client would (icholy/digest,
// the library sipgo's client uses), with the challenge of algorithm alg.
func authorize(t *testing.T, req *sip.Request, hdrs []sip.Header, alg, user, password string) {
	t.Helper()
	for _, h := range hdrs {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			t.Fatalf("challenge %q: %v", h.Value(), err)
		}
		if chal.Algorithm != alg {
			continue
		}
		cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: req.Recipient.Addr(), Username: user, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		req.RemoveHeader("Authorization")
		req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
		return
	}
	t.Fatalf("no %s challenge in %v", alg, hdrs)
}

func TestAdmit(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	srcs := []callrec.SIPRECSource{
		source("net-b", "org-b", []string{"127.0.0.2/32", "198.51.100.0/24"}, "", ""),
		source("auth-c", "org-c", nil, "sbc-c", "s3cret-c"),
		source("both-d", "org-d", []string{"203.0.113.0/24"}, "sbc-d", "s3cret-d"),
	}
	t.Run("a source network beats --siprec-allow", func(t *testing.T) {
		a := testServer(t, loopback, now, srcs...).admit(siprecInvite(), netip.MustParseAddr("127.0.0.2"))
		if a.orgID != "org-b" || a.how != "source network" {
			t.Errorf("admission = %+v, want org-b by source network", a)
		}
	})
	t.Run("--siprec-allow gives the default org", func(t *testing.T) {
		a := testServer(t, loopback, now, srcs...).admit(siprecInvite(), netip.MustParseAddr("127.0.0.1"))
		if a.orgID != "org-default" || a.how != "siprec-allow" {
			t.Errorf("admission = %+v, want org-default by siprec-allow", a)
		}
	})
	t.Run("a network of a source with credentials needs no credentials", func(t *testing.T) {
		a := testServer(t, loopback, now, srcs...).admit(siprecInvite(), netip.MustParseAddr("203.0.113.9"))
		if a.orgID != "org-d" {
			t.Errorf("admission = %+v, want org-d", a)
		}
	})
	t.Run("no sources with credentials: 403", func(t *testing.T) {
		a := testServer(t, loopback, now, srcs[0]).admit(siprecInvite(), netip.MustParseAddr("192.0.2.1"))
		if a.orgID != "" || a.code != 403 || len(a.hdrs) != 0 {
			t.Errorf("admission = %+v, want 403 without challenge", a)
		}
	})
	t.Run("no sources at all: 403 as before", func(t *testing.T) {
		a := testServer(t, loopback, now).admit(siprecInvite(), netip.MustParseAddr("192.0.2.1"))
		if a.code != 403 {
			t.Errorf("admission = %+v, want 403", a)
		}
	})
	for _, alg := range []string{"SHA-256", "MD5"} {
		t.Run("digest "+alg, func(t *testing.T) {
			s := testServer(t, loopback, now, srcs...)
			req := siprecInvite()
			first := s.admit(req, netip.MustParseAddr("192.0.2.1"))
			if first.code != 401 || len(first.hdrs) != 2 || first.why != "" {
				t.Fatalf("first admission = %+v, want 401 with two challenges", first)
			}
			if v := first.hdrs[0].Value(); !strings.Contains(v, "algorithm=SHA-256") || !strings.Contains(v, `realm="callrec"`) || !strings.Contains(v, `qop="auth"`) {
				t.Errorf("first challenge %q: want SHA-256 first (RFC 8760 §2.4), realm callrec, qop auth", v)
			}
			if v := first.hdrs[1].Value(); !strings.Contains(v, "algorithm=MD5") {
				t.Errorf("second challenge %q: want MD5", v)
			}
			authorize(t, req, first.hdrs, alg, "sbc-c", "s3cret-c")
			if a := s.admit(req, netip.MustParseAddr("192.0.2.1")); a.orgID != "org-c" || a.how != "digest" {
				t.Errorf("authenticated admission = %+v, want org-c by digest", a)
			}
		})
	}
	t.Run("wrong password is challenged again with the reason logged", func(t *testing.T) {
		s := testServer(t, loopback, now, srcs...)
		req := siprecInvite()
		authorize(t, req, s.admit(req, netip.MustParseAddr("192.0.2.1")).hdrs, "SHA-256", "sbc-c", "guess")
		a := s.admit(req, netip.MustParseAddr("192.0.2.1"))
		if a.orgID != "" || a.code != 401 || !strings.Contains(a.why, "wrong response") {
			t.Errorf("admission = %+v, want 401 for a wrong response", a)
		}
	})
	t.Run("credentials of one source do not open another's user name", func(t *testing.T) {
		s := testServer(t, loopback, now, srcs...)
		req := siprecInvite()
		authorize(t, req, s.admit(req, netip.MustParseAddr("192.0.2.1")).hdrs, "SHA-256", "sbc-d", "s3cret-c")
		if a := s.admit(req, netip.MustParseAddr("192.0.2.1")); a.orgID != "" {
			t.Errorf("admission = %+v, want refused", a)
		}
	})
	t.Run("an expired nonce is stale", func(t *testing.T) {
		s := testServer(t, loopback, now, srcs...)
		req := siprecInvite()
		authorize(t, req, s.admit(req, netip.MustParseAddr("192.0.2.1")).hdrs, "SHA-256", "sbc-c", "s3cret-c")
		s.now = func() time.Time { return now.Add(sipdigest.DefaultNonceTTL) }
		a := s.admit(req, netip.MustParseAddr("192.0.2.1"))
		if a.code != 401 || !strings.Contains(a.hdrs[0].Value(), "stale=true") || !strings.Contains(a.why, "nonce has expired") {
			t.Errorf("admission = %+v, want 401 stale", a)
		}
	})
	t.Run("a nonce of another server is refused", func(t *testing.T) {
		s := testServer(t, loopback, now, srcs...)
		other := testServer(t, loopback, now, srcs...)
		req := siprecInvite()
		authorize(t, req, other.admit(req, netip.MustParseAddr("192.0.2.1")).hdrs, "SHA-256", "sbc-c", "s3cret-c")
		if a := s.admit(req, netip.MustParseAddr("192.0.2.1")); a.orgID != "" || !strings.Contains(a.why, sipdigest.ErrBadNonce.Error()) {
			t.Errorf("admission = %+v, want refused for a foreign nonce", a)
		}
	})
}

func TestVerifyDigestChecks(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	src := source("auth-c", "org-c", nil, "sbc-c", "pw")
	users := map[string]*callrec.SIPRECSource{"sbc-c": &src}
	var nonces sipdigest.Nonces
	nonce := nonces.Issue(now)
	// header builds an Authorization value with a correct response unless
	// a field is overridden afterwards.
	header := func(alg, qop, uri string, mod func(*digest.Credentials)) string {
		chal := &digest.Challenge{Realm: DigestRealm, Nonce: nonce, Algorithm: alg}
		if qop != "" {
			chal.QOP = []string{qop}
		}
		cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: uri, Username: "sbc-c", Password: "pw", Cnonce: "0a4f113b"})
		if err != nil {
			t.Fatal(err)
		}
		if mod != nil {
			mod(cred)
		}
		return cred.String()
	}
	const uri = "sip:srs@127.0.0.1:5070"
	cases := []struct {
		name, value, wantErr string
	}{
		{"SHA-256 with qop auth", header("SHA-256", "auth", uri, nil), ""},
		{"MD5 with qop auth", header("MD5", "auth", uri, nil), ""},
		{"MD5 without qop (RFC 2069 form)", header("MD5", "", uri, nil), ""},
		{"no algorithm means MD5", header("", "auth", uri, nil), ""},
		{"request URI with parameters", header("SHA-256", "auth", uri+";transport=tcp", nil), ""},
		{"another request URI", header("SHA-256", "auth", "sip:srs@127.0.0.1:5080", nil), "is not the request URI"},
		{"unknown user", header("SHA-256", "auth", uri, func(c *digest.Credentials) { c.Username = "mallory" }), `unknown user "mallory"`},
		{"another realm", header("SHA-256", "auth", uri, func(c *digest.Credentials) { c.Realm = "asterisk" }), `realm "asterisk"`},
		{"SHA-512 is not offered", header("SHA-512", "auth", uri, nil), `algorithm "SHA-512" is not supported`},
		{"auth-int is not offered", header("SHA-256", "auth", uri, func(c *digest.Credentials) { c.QOP = "auth-int" }), `qop "auth-int" is not supported`},
		{"tampered response", header("SHA-256", "auth", uri, func(c *digest.Credentials) { c.Response = strings.Repeat("0", 64) }), "wrong response"},
		{"nonce count changed after signing", header("SHA-256", "auth", uri, func(c *digest.Credentials) { c.Nc = 2 }), "wrong response"},
		{"forged nonce", header("SHA-256", "auth", uri, func(c *digest.Credentials) { c.Nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }), sipdigest.ErrBadNonce.Error()},
		{"userhash", header("SHA-256", "auth", uri, func(c *digest.Credentials) { c.Userhash = true }), "userhash is not supported"},
		{"Basic scheme", "Basic c2JjLWM6cHc=", "authorization: digest: invalid credentials prefix"},
		{"empty", "", "invalid credentials prefix"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := siprecInvite()
			got, err := verifyDigest(c.value, req, users, &nonces, now)
			switch {
			case c.wantErr == "" && (err != nil || got != &src):
				t.Errorf("verifyDigest = %v, %v; want the source", got, err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("verifyDigest error = %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}

// fakeSources is a Sources whose list a test changes.
type fakeSources struct {
	list  atomic.Pointer[[]callrec.SIPRECSource]
	err   atomic.Pointer[error]
	calls atomic.Int64
}

func (f *fakeSources) set(srcs ...callrec.SIPRECSource) { f.list.Store(&srcs) }

func (f *fakeSources) SIPRECSources(context.Context) ([]callrec.SIPRECSource, error) {
	f.calls.Add(1)
	if e := f.err.Load(); e != nil {
		return nil, *e
	}
	if l := f.list.Load(); l != nil {
		return append([]callrec.SIPRECSource(nil), (*l)...), nil
	}
	return nil, nil
}

func TestReloadSources(t *testing.T) {
	fs := &fakeSources{}
	s := &Server{cfg: Config{Sources: fs}, log: slog.New(slog.DiscardHandler)}
	fs.set(source("net-b", "org-b", []string{"192.0.2.0/24"}, "", ""))
	if err := s.ReloadSources(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := s.sources.Load().byNetwork(netip.MustParseAddr("192.0.2.1")); got == nil || got.OrgID != "org-b" {
		t.Fatalf("after the first load: %v", got)
	}
	fs.set(source("net-c", "org-c", []string{"192.0.2.0/24"}, "", ""))
	if err := s.ReloadSources(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := s.sources.Load().byNetwork(netip.MustParseAddr("192.0.2.1")); got == nil || got.OrgID != "org-c" {
		t.Fatalf("after a change: %v", got)
	}
	boom := errors.New("database is locked")
	fs.err.Store(&boom)
	if err := s.ReloadSources(t.Context()); err == nil || !errors.Is(err, boom) {
		t.Fatalf("failing reload = %v", err)
	}
	if got := s.sources.Load().byNetwork(netip.MustParseAddr("192.0.2.1")); got == nil || got.OrgID != "org-c" {
		t.Errorf("a failed reload dropped the last list: %v", got)
	}
}

func FuzzVerifyDigest(f *testing.F) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	src := source("auth-c", "org-c", nil, "sbc-c", "pw")
	users := map[string]*callrec.SIPRECSource{"sbc-c": &src}
	var nonces sipdigest.Nonces
	nonce := nonces.Issue(now)
	for _, alg := range []string{"SHA-256", "MD5"} {
		cred, err := digest.Digest(&digest.Challenge{Realm: DigestRealm, Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}},
			digest.Options{Method: "INVITE", URI: "sip:srs@127.0.0.1:5070", Username: "sbc-c", Password: "pw"})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(cred.String())
	}
	// The forms other SRCs send: an AudioCodes-style header without qop,
	// and a BroadWorks-style one with unquoted algorithm and spaces.
	f.Add(`Digest username="sbc-c",realm="callrec",nonce="` + nonce + `",uri="sip:srs@127.0.0.1:5070",response="6629fae49393a05397450978507c4ef1",algorithm=MD5`)
	f.Add(`Digest  username = "sbc-c" , realm="callrec", nonce="x", uri="sip:srs@127.0.0.1:5070", response="", qop=auth, nc=00000001, cnonce="abc"`)
	f.Add(`Digest username="a\"b", realm=`)
	f.Fuzz(func(t *testing.T, value string) {
		got, err := verifyDigest(value, siprecInvite(), users, &nonces, now)
		if (got == nil) == (err == nil) {
			t.Fatalf("verifyDigest(%q) = %v, %v: want exactly one of source and error", value, got, err)
		}
		if got != nil {
			// Accepted: it must carry the response the password gives.
			cred, perr := digest.ParseCredentials(value)
			if perr != nil {
				t.Fatalf("accepted %q that does not parse: %v", value, perr)
			}
			if cred.Username != "sbc-c" || cred.Nonce != nonce {
				t.Fatalf("accepted %q for %q with nonce %q", value, cred.Username, cred.Nonce)
			}
		}
	})
}

func ExampleHA1() {
	m, s := HA1("sbc-c", DigestRealm, "s3cret")
	fmt.Println(len(m), len(s))
	// Output: 32 64
}

// BenchmarkAdmitByNetwork measures the per-INVITE org decision over 1,000
// source networks (the INVITE path; nothing here runs per packet).
func BenchmarkAdmitByNetwork(b *testing.B) {
	var srcs []callrec.SIPRECSource
	for i := range 1000 {
		srcs = append(srcs, source(fmt.Sprintf("s%04d", i), "org", []string{fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)}, "", ""))
	}
	s := &Server{cfg: Config{OrgID: "default"}, log: slog.New(slog.DiscardHandler), now: time.Now}
	s.sources.Store(newSourceTable(srcs))
	req := siprecInvite()
	addr := netip.MustParseAddr("10.3.231.7")
	b.ReportAllocs()
	for b.Loop() {
		if a := s.admit(req, addr); a.orgID != "org" {
			b.Fatal(a)
		}
	}
}

// TestRefusedSourceReloadsOnce checks that a source bound a moment ago is
// admitted at once (the refused INVITE reloads the table), and that a
// flood of strangers reloads at most once a second.
func TestRefusedSourceReloadsOnce(t *testing.T) {
	fs := &fakeSources{}
	s := &Server{cfg: Config{Sources: fs, OrgID: "org-default"}, log: slog.New(slog.DiscardHandler), now: time.Now}
	if err := s.ReloadSources(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.sourcesLoaded.Store(time.Now().Add(-2 * time.Second).UnixNano()) // the last load is old
	fs.set(source("new", "org-new", []string{"198.51.100.7/32"}, "", ""))
	if a := s.admit(siprecInvite(), netip.MustParseAddr("198.51.100.7")); a.orgID != "org-new" {
		t.Fatalf("a just-bound source: %+v, want org-new", a)
	}
	calls := fs.calls.Load()
	for range 50 {
		if a := s.admit(siprecInvite(), netip.MustParseAddr("203.0.113.9")); a.code != 403 {
			t.Fatalf("a stranger: %+v, want 403", a)
		}
	}
	if n := fs.calls.Load() - calls; n > 1 {
		t.Errorf("50 refused INVITEs within a second reloaded %d times, want at most 1", n)
	}
}

// TestCallPlaneOrgClaim: callrec's own call plane names the org of its
// sessions with a signed claim, which wins over the source address; a
// forged or moved claim is ignored.
func TestCallPlaneOrgClaim(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	s := testServer(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, time.Now())
	s.cfg.OrgClaimKey = key
	inv := func(callID, claim string) *sip.Request {
		req := siprecInvite()
		cid := sip.CallIDHeader(callID)
		req.AppendHeader(&cid)
		if claim != "" {
			req.AppendHeader(sip.NewHeader(srcclaim.Header, claim))
		}
		return req
	}
	lo := netip.MustParseAddr("127.0.0.1")
	if a := s.admit(inv("c1@callrec", srcclaim.Sign(key, "org-acme", "c1@callrec")), lo); a.orgID != "org-acme" {
		t.Fatalf("genuine claim from loopback: %+v, want org-acme", a)
	}
	if a := s.admit(inv("c1@callrec", srcclaim.Sign(key, "org-acme", "c1@callrec")), netip.MustParseAddr("203.0.113.5")); a.orgID != "org-acme" {
		t.Fatalf("genuine claim from outside --siprec-allow: %+v, want org-acme", a)
	}
	for name, req := range map[string]*sip.Request{
		"claim of another session": inv("c2@callrec", srcclaim.Sign(key, "org-acme", "c1@callrec")),
		"claim with another key":   inv("c3@callrec", srcclaim.Sign([]byte("not the key, not the key, not it"), "org-acme", "c3@callrec")),
		"no claim":                 inv("c4@callrec", ""),
	} {
		if a := s.admit(req, lo); a.orgID != "org-default" {
			t.Errorf("%s from loopback: %+v, want the default org of --siprec-allow", name, a)
		}
	}
}
