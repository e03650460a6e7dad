package registrar

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/callrec/callrec/sipdigest"
)

var transports = []string{"UDP", "TCP"}

func TestChallenge(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := start(t, Config{})
			p := e.newPhone(t, tr, "alice", "alice-pw")
			res := p.send(msg{contacts: []string{"<sip:alice@" + p.local() + ">"}})
			mustStatus(t, res, 401)
			hdrs := res.GetHeaders("WWW-Authenticate")
			if len(hdrs) != 2 {
				t.Fatalf("%d challenges, want SHA-256 and MD5", len(hdrs))
			}
			for i, alg := range []string{"SHA-256", "MD5"} {
				c, err := digest.ParseChallenge(hdrs[i].Value())
				if err != nil || c.Algorithm != alg || c.Realm != "callrec" || !slices.Contains(c.QOP, "auth") {
					t.Errorf("challenge %d = %q (%v), want %s in realm callrec with qop auth (RFC 8760 §2.4 order)", i, hdrs[i].Value(), err, alg)
				}
			}
			if got := e.reg.Location().Contacts("p-alice"); len(got) != 0 {
				t.Errorf("an unauthenticated REGISTER bound %v", uris(got))
			}
			if n := e.creds.count(); n != 0 {
				t.Errorf("a REGISTER without credentials looked the user up %d times", n)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	for _, tr := range transports {
		for _, c := range []struct {
			name, user, password, alg string
			storeErr                  error
			want                      int
		}{
			{"SHA-256 good password", "alice", "alice-pw", "SHA-256", nil, 200},
			{"MD5 good password", "alice", "alice-pw", "MD5", nil, 200},
			{"SHA-256 bad password", "alice", "guess", "SHA-256", nil, 401},
			{"MD5 bad password", "alice", "guess", "MD5", nil, 401},
			{"bob's password for alice", "alice", "bob-pw", "SHA-256", nil, 401},
			{"unknown user", "mallory", "x", "SHA-256", nil, 401},
			{"store failing", "alice", "alice-pw", "SHA-256", errStore, 503},
		} {
			t.Run(tr+"/"+c.name, func(t *testing.T) {
				e := start(t, Config{})
				p := e.newPhone(t, tr, c.user, c.password)
				m := msg{contacts: []string{"<sip:" + c.user + "@" + p.local() + ">"}, expires: "600"}
				p.authorize(p.send(m), c.alg)
				e.creds.fail(c.storeErr)
				res := p.send(m)
				mustStatus(t, res, c.want)
				got := e.reg.Location().Contacts("p-" + c.user)
				if c.want != 200 {
					if len(got) != 0 {
						t.Errorf("refused REGISTER bound %v", uris(got))
					}
					if c.want == 401 && len(res.GetHeaders("WWW-Authenticate")) != 2 {
						t.Error("a refused REGISTER is not challenged again")
					}
					if c.want == 503 && res.GetHeader("Retry-After") == nil {
						t.Error("503 without Retry-After")
					}
					return
				}
				if len(got) != 1 || got[0].URI.String() != "sip:alice@"+p.local() || got[0].PersonID != "p-alice" || got[0].OrgID != "org-1" || got[0].Username != "alice" {
					t.Fatalf("contacts = %+v", got)
				}
				if got[0].Transport != tr || got[0].Source.String() != p.local() || got[0].UserAgent != "test-phone/1.0" {
					t.Errorf("binding seen from %s over %s (UA %q), want %s over %s", got[0].Source, got[0].Transport, got[0].UserAgent, p.local(), tr)
				}
				if got[0].NAT() {
					t.Error("a contact at its source address is reported behind NAT")
				}
				if want := []string{"sip:alice@" + p.local() + " 600"}; !slices.Equal(contactExpires(t, res), want) {
					t.Errorf("200 contacts = %q, want %q", contactExpires(t, res), want)
				}
				if d := res.GetHeader("Date"); d == nil || d.Value() != "Tue, 10 Mar 2026 12:00:00 GMT" {
					t.Errorf("Date = %v, want the registrar's clock (RFC 3261 §10.3 step 8)", d)
				}
			})
		}
	}
}

func TestStaleNonce(t *testing.T) {
	e := start(t, Config{})
	p := e.newPhone(t, "UDP", "alice", "alice-pw")
	m := msg{contacts: []string{"<sip:alice@" + p.local() + ">"}}
	mustStatus(t, p.login(m, "SHA-256"), 200)
	e.clock.advance(6 * time.Minute) // past sipdigest.DefaultNonceTTL
	res := p.send(m)
	mustStatus(t, res, 401)
	if v := res.GetHeader("WWW-Authenticate").Value(); !strings.Contains(v, "stale=true") {
		t.Errorf("challenge after an expired nonce = %q, want stale=true", v)
	}
	p.authorize(res, "SHA-256")
	mustStatus(t, p.send(m), 200)
}

func TestTwoContacts(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := start(t, Config{})
			desk := e.newPhone(t, tr, "alice", "alice-pw")
			soft := e.newPhone(t, tr, "alice", "alice-pw")
			deskURI, softURI := "sip:alice@"+desk.local(), "sip:alice@"+soft.local()
			mustStatus(t, desk.login(msg{contacts: []string{"<" + deskURI + ">"}, expires: "600"}, "SHA-256"), 200)
			e.clock.advance(100 * time.Second)
			res := soft.login(msg{contacts: []string{"<" + softURI + ">;expires=1200"}, expires: "600"}, "MD5")
			mustStatus(t, res, 200)
			// The contact's expires parameter beats the Expires header; the
			// desk phone has 500 s left.
			if got, want := contactExpires(t, res), []string{softURI + " 1200", deskURI + " 500"}; !slices.Equal(got, want) {
				t.Errorf("200 contacts = %q, want %q", got, want)
			}
			got := e.reg.Location().Contacts("p-alice")
			if want := []string{softURI, deskURI}; !slices.Equal(uris(got), want) {
				t.Fatalf("Contacts = %q, want newest first %q", uris(got), want)
			}
			if got[0].CallID == got[1].CallID || got[0].Source == got[1].Source {
				t.Errorf("the two devices share Call-ID or source: %+v", got)
			}
			if got[0].Expires != t0.Add(1300*time.Second) || got[1].Expires != t0.Add(600*time.Second) {
				t.Errorf("expiries %v, %v", got[0].Expires, got[1].Expires)
			}
			if other := e.reg.Location().Contacts("p-bob"); len(other) != 0 {
				t.Errorf("bob has alice's contacts: %v", uris(other))
			}
			// A query (no Contact) lists both and changes nothing.
			res = desk.send(msg{})
			mustStatus(t, res, 200)
			if n := len(res.GetHeaders("Contact")); n != 2 {
				t.Errorf("query listed %d contacts, want 2", n)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	e := start(t, Config{})
	p := e.newPhone(t, "UDP", "alice", "alice-pw")
	q := e.newPhone(t, "UDP", "alice", "alice-pw")
	mustStatus(t, p.login(msg{contacts: []string{"<sip:alice@" + p.local() + ">"}, expires: "120"}, "SHA-256"), 200)
	mustStatus(t, q.login(msg{contacts: []string{"<sip:alice@" + q.local() + ">"}, expires: "300"}, "SHA-256"), 200)
	loc := e.reg.Location()
	steps := []struct {
		at        time.Duration
		want      []string
		remaining time.Duration // of the first contact
	}{
		{119*time.Second + 500*time.Millisecond, []string{q.local(), p.local()}, 181 * time.Second}, // 180.5 s rounded up
		{120 * time.Second, []string{q.local()}, 180 * time.Second},
		{299 * time.Second, []string{q.local()}, time.Second},
		{300 * time.Second, nil, 0},
	}
	for _, s := range steps {
		t.Run(fmt.Sprintf("at %v", s.at), func(t *testing.T) {
			e.clock.set(t0.Add(s.at))
			got := loc.Contacts("p-alice")
			var hosts []string
			for _, c := range got {
				hosts = append(hosts, c.URI.HostPort())
			}
			if !slices.Equal(hosts, s.want) {
				t.Fatalf("Contacts = %q, want %q", hosts, s.want)
			}
			if len(got) > 0 {
				if r := got[0].Remaining(e.clock.now()); r != s.remaining {
					t.Errorf("remaining %v, want %v", r, s.remaining)
				}
			}
		})
	}
	// Reads ignore lapsed bindings; the sweep frees them.
	if n := loc.Len(); n != 2 {
		t.Errorf("before the sweep %d bindings are stored, want 2", n)
	}
	if n := loc.Sweep(); n != 2 {
		t.Errorf("Sweep removed %d, want 2", n)
	}
	if n := loc.Len(); n != 0 {
		t.Errorf("after the sweep %d bindings are stored", n)
	}
}

func TestUnregister(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := start(t, Config{})
			a := e.newPhone(t, tr, "alice", "alice-pw")
			b := e.newPhone(t, tr, "alice", "alice-pw")
			aURI, bURI := "<sip:alice@"+a.local()+">", "<sip:alice@"+b.local()+">"
			mustStatus(t, a.login(msg{contacts: []string{aURI}}, "SHA-256"), 200)
			mustStatus(t, b.login(msg{contacts: []string{bURI}}, "SHA-256"), 200)
			// One device leaves: expires=0 on its contact.
			res := a.send(msg{contacts: []string{aURI + ";expires=0"}})
			mustStatus(t, res, 200)
			if got := e.reg.Location().Contacts("p-alice"); len(got) != 1 || got[0].URI.HostPort() != b.local() {
				t.Fatalf("after one un-register: %q", uris(got))
			}
			if n := len(res.GetHeaders("Contact")); n != 1 {
				t.Errorf("200 lists %d contacts, want the remaining one", n)
			}
			// Expires: 0 header un-registers too.
			mustStatus(t, a.send(msg{contacts: []string{aURI}}), 200)
			mustStatus(t, a.send(msg{contacts: []string{aURI}, expires: "0"}), 200)
			if got := e.reg.Location().Contacts("p-alice"); len(got) != 1 {
				t.Fatalf("after Expires: 0: %q", uris(got))
			}
			// Contact: * with Expires: 0 removes every binding, bob's
			// untouched.
			bob := e.newPhone(t, tr, "bob", "bob-pw")
			mustStatus(t, bob.login(msg{contacts: []string{"<sip:bob@" + bob.local() + ">"}}, "SHA-256"), 200)
			res = a.send(msg{contacts: []string{"*"}, expires: "0"})
			mustStatus(t, res, 200)
			if got := e.reg.Location().Contacts("p-alice"); len(got) != 0 {
				t.Errorf("after *: %q", uris(got))
			}
			if len(res.GetHeaders("Contact")) != 0 {
				t.Error("200 to * lists contacts")
			}
			if got := e.reg.Location().Contacts("p-bob"); len(got) != 1 {
				t.Errorf("alice's * removed bob's contacts: %q", uris(got))
			}
		})
	}
}

func TestWildcardRules(t *testing.T) {
	e := start(t, Config{})
	p := e.newPhone(t, "UDP", "alice", "alice-pw")
	uri := "<sip:alice@" + p.local() + ">"
	mustStatus(t, p.login(msg{contacts: []string{uri}}, "SHA-256"), 200)
	for _, c := range []struct {
		name string
		m    msg
	}{
		{"* without Expires", msg{contacts: []string{"*"}}},
		{"* with Expires 60", msg{contacts: []string{"*"}, expires: "60"}},
		{"* and another contact", msg{contacts: []string{"*", uri}, expires: "0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mustStatus(t, p.send(c.m), 400)
			if got := e.reg.Location().Contacts("p-alice"); len(got) != 1 {
				t.Errorf("a refused * changed the bindings: %q", uris(got))
			}
		})
	}
}

func TestExpiresLimits(t *testing.T) {
	e := start(t, Config{})
	p := e.newPhone(t, "UDP", "alice", "alice-pw")
	uri := "<sip:alice@" + p.local() + ">"
	mustStatus(t, p.login(msg{contacts: []string{uri}}, "SHA-256"), 200)
	for _, c := range []struct {
		name        string
		m           msg
		wantStatus  int
		wantExpires string
	}{
		{"no expiry: the default", msg{contacts: []string{uri}}, 200, "3600"},
		{"param 30: too brief", msg{contacts: []string{uri + ";expires=30"}, expires: "3600"}, 423, ""},
		{"header 59: too brief", msg{contacts: []string{uri}, expires: "59"}, 423, ""},
		{"header 1: too brief", msg{contacts: []string{uri}, expires: "1"}, 423, ""},
		{"60 is the minimum", msg{contacts: []string{uri}, expires: "60"}, 200, "60"},
		{"7200 is cut to 3600", msg{contacts: []string{uri + ";expires=7200"}}, 200, "3600"},
		{"beyond 2^32 is cut to 3600", msg{contacts: []string{uri + ";expires=99999999999"}}, 200, "3600"},
		{"malformed param is the default", msg{contacts: []string{uri + ";expires=soon"}, expires: "60"}, 200, "3600"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := p.send(c.m)
			mustStatus(t, res, c.wantStatus)
			if c.wantStatus == 423 {
				if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
					t.Errorf("Min-Expires = %v, want 60 (RFC 3261 §10.3 step 7)", h)
				}
				return
			}
			if got := contactExpires(t, res); len(got) != 1 || !strings.HasSuffix(got[0], " "+c.wantExpires) {
				t.Errorf("200 contacts = %q, want expires %s", got, c.wantExpires)
			}
		})
	}
	t.Run("a too brief contact refuses the whole request", func(t *testing.T) {
		before := e.reg.Location().Contacts("p-alice")
		other := "<sip:alice@192.0.2.9:5060>"
		mustStatus(t, p.send(msg{contacts: []string{other + ";expires=600", uri + ";expires=10"}}), 423)
		if after := e.reg.Location().Contacts("p-alice"); !slices.Equal(uris(after), uris(before)) {
			t.Errorf("bindings changed from %q to %q", uris(before), uris(after))
		}
	})
}

func TestCSeqOrder(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := start(t, Config{})
			p := e.newPhone(t, tr, "alice", "alice-pw")
			uri := "<sip:alice@" + p.local() + ">"
			mustStatus(t, p.login(msg{contacts: []string{uri}}, "SHA-256"), 200) // CSeq 2 stored
			for _, c := range []struct {
				name string
				cseq uint32
				m    msg
				want int
			}{
				{"same CSeq, same Call-ID", 2, msg{contacts: []string{uri}}, 400},
				{"lower CSeq, same Call-ID", 1, msg{contacts: []string{uri}}, 400},
				{"lower CSeq un-register", 1, msg{contacts: []string{uri}, expires: "0"}, 400},
				{"lower CSeq *", 1, msg{contacts: []string{"*"}, expires: "0"}, 400},
				{"higher CSeq", 3, msg{contacts: []string{uri}, expires: "300"}, 200},
				{"a query ignores CSeq order", 1, msg{}, 200},
				{"a new contact with a lower CSeq is added", 1, msg{contacts: []string{"<sip:alice@192.0.2.10>"}}, 200},
			} {
				t.Run(c.name, func(t *testing.T) {
					p.cseq = c.cseq
					mustStatus(t, p.send(c.m), c.want)
				})
			}
			got := e.reg.Location().Contacts("p-alice")
			if len(got) != 2 || got[1].CSeq != 3 || got[1].Expires != t0.Add(300*time.Second) {
				t.Errorf("bindings = %+v, want the CSeq 3 refresh kept", got)
			}
			// Another Call-ID (the device rebooted) replaces the binding
			// whatever its CSeq.
			p.callID += "-reboot"
			p.cseq = 1
			mustStatus(t, p.send(msg{contacts: []string{uri}, expires: "600"}), 200)
			got = e.reg.Location().Contacts("p-alice")
			if len(got) != 2 || got[0].URI.HostPort() != p.local() || got[0].CallID != p.callID || got[0].CSeq != 1 {
				t.Errorf("after a reboot: %+v", got)
			}
		})
	}
}

func TestWrongUserForbidden(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := start(t, Config{})
			p := e.newPhone(t, tr, "alice", "alice-pw")
			res := p.login(msg{to: "bob", contacts: []string{"<sip:bob@" + p.local() + ">"}}, "SHA-256")
			mustStatus(t, res, 403)
			if got := e.reg.Location().Contacts("p-bob"); len(got) != 0 {
				t.Errorf("alice bound bob's AOR: %q", uris(got))
			}
			if got := e.reg.Location().Contacts("p-alice"); len(got) != 0 {
				t.Errorf("a refused REGISTER bound alice: %q", uris(got))
			}
		})
	}
}

func TestRequireBadExtension(t *testing.T) {
	e := start(t, Config{})
	p := e.newPhone(t, "UDP", "alice", "alice-pw")
	res := p.send(msg{contacts: []string{"<sip:alice@" + p.local() + ">"}, extra: []string{"Require: gruu, path"}})
	// A Require is refused before authentication (§10.3 step 2).
	if res.StatusCode != 420 {
		t.Fatalf("status %d, want 420", res.StatusCode)
	}
	if h := res.GetHeader("Unsupported"); h == nil || h.Value() != "gruu, path" {
		t.Errorf("Unsupported = %v", h)
	}
}

func TestNATSourceRecorded(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := start(t, Config{})
			p := e.newPhone(t, tr, "alice", "alice-pw")
			// The phone believes it is 192.168.1.20:5060 (its LAN address);
			// the registrar sees the NAT's mapping (here the loopback
			// socket) and must answer and store that.
			p.viaHost = "192.168.1.20:5060"
			res := p.login(msg{contacts: []string{`"Alice" <sip:alice@192.168.1.20:5060;transport=` + strings.ToLower(tr) + `>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1`}}, "SHA-256")
			mustStatus(t, res, 200)
			got := e.reg.Location().Contacts("p-alice")
			if len(got) != 1 {
				t.Fatalf("contacts = %v", uris(got))
			}
			c := got[0]
			if c.URI.HostPort() != "192.168.1.20:5060" || c.Source.String() != p.local() || c.Transport != tr || !c.NAT() {
				t.Errorf("contact %s seen from %s over %s (NAT %v), want the URI kept and the source %s", c.URI.String(), c.Source, c.Transport, c.NAT(), p.local())
			}
			if v, _ := c.Params.Get("+sip.instance"); v != `"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"` {
				t.Errorf("instance = %q", v)
			}
			if v := res.Via().Params.GetOr("received", ""); v != "127.0.0.1" {
				t.Errorf("Via received = %q, want 127.0.0.1 (RFC 3581 §4)", v)
			}
			// The same device (instance and reg-id) from a new address
			// replaces its binding (RFC 5626 §6).
			p.cseq += 5
			mustStatus(t, p.send(msg{contacts: []string{`<sip:alice@192.168.1.77:5062>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1`}}), 200)
			if got := e.reg.Location().Contacts("p-alice"); len(got) != 1 || got[0].URI.HostPort() != "192.168.1.77:5062" {
				t.Errorf("after a move: %q", uris(got))
			}
		})
	}
}

func TestMaxContacts(t *testing.T) {
	e := start(t, Config{MaxContacts: 3})
	p := e.newPhone(t, "UDP", "alice", "alice-pw")
	mustStatus(t, p.login(msg{contacts: []string{"<sip:alice@192.0.2.1>"}}, "SHA-256"), 200)
	for i := 2; i <= 4; i++ {
		e.clock.advance(time.Second)
		p.callID = fmt.Sprintf("reboot-%d", i)
		mustStatus(t, p.send(msg{contacts: []string{fmt.Sprintf("<sip:alice@192.0.2.%d>", i)}}), 200)
	}
	want := []string{"sip:alice@192.0.2.4", "sip:alice@192.0.2.3", "sip:alice@192.0.2.2"}
	if got := uris(e.reg.Location().Contacts("p-alice")); !slices.Equal(got, want) {
		t.Errorf("Contacts = %q, want the 3 newest %q", got, want)
	}
	res := p.send(msg{contacts: []string{"<sip:alice@192.0.2.5>", "<sip:alice@192.0.2.6>", "<sip:alice@192.0.2.7>", "<sip:alice@192.0.2.8>"}})
	mustStatus(t, res, 403)
}

// TestSipgoClient registers with sipgo's own client and its digest
// support (the SHA-256 challenge it picks first), the path the B2BUA's
// tests and sipgo-based phones take.
func TestSipgoClient(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := start(t, Config{})
			ua, err := sipgo.NewUA(sipgo.WithUserAgent("sipgo-phone"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = ua.Close() }()
			client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			addr := e.udpAddr
			if tr == "TCP" {
				addr = e.tcpAddr
			}
			ap := netip.MustParseAddrPort(addr)
			recipient := sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: int(ap.Port())}
			req := sip.NewRequest(sip.REGISTER, recipient)
			req.SetTransport(tr)
			aor := sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"}
			req.AppendHeader(&sip.ToHeader{Address: aor})
			fromParams := sip.NewParams()
			fromParams.Add("tag", "sipgo1")
			req.AppendHeader(&sip.FromHeader{Address: aor, Params: fromParams})
			req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: 5099}})
			exp := sip.ExpiresHeader(300)
			req.AppendHeader(&exp)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			res, err := client.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			mustStatus(t, res, 401)
			res, err = client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "bob", Password: "bob-pw"})
			if err != nil {
				t.Fatal(err)
			}
			mustStatus(t, res, 200)
			got := e.reg.Location().Contacts("p-bob")
			if len(got) != 1 || got[0].URI.String() != "sip:bob@127.0.0.1:5099" || got[0].Transport != tr || got[0].Expires != t0.Add(300*time.Second) {
				t.Errorf("contacts = %+v", got)
			}
		})
	}
}

// TestConcurrentRegistrations runs REGISTERs of many phones, readers and
// sweeps at once (run with -race).
func TestConcurrentRegistrations(t *testing.T) {
	e := start(t, Config{})
	const phones = 8
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = e.reg.Location().Contacts("p-alice")
			e.reg.Location().Sweep()
		}
	}()
	var pw sync.WaitGroup
	for i := range phones {
		p := e.newPhone(t, transports[i%2], "alice", "alice-pw")
		pw.Add(1)
		go func() {
			defer pw.Done()
			uri := "<sip:alice@" + p.local() + ">"
			if res := p.login(msg{contacts: []string{uri}}, "SHA-256"); res.StatusCode != 200 {
				t.Errorf("phone %d: %d", i, res.StatusCode)
			}
			for range 5 {
				if res := p.send(msg{contacts: []string{uri}}); res.StatusCode != 200 {
					t.Errorf("phone %d refresh: %d", i, res.StatusCode)
				}
			}
		}()
	}
	pw.Wait()
	close(stop)
	wg.Wait()
	if got := e.reg.Location().Contacts("p-alice"); len(got) != phones {
		t.Errorf("%d contacts, want %d", len(got), phones)
	}
}

func TestNewValidates(t *testing.T) {
	creds := &fakeCredentials{}
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no credentials", Config{}, "Credentials is required"},
		{"min below a second", Config{Credentials: creds, MinExpires: time.Millisecond}, "MinExpires"},
		{"max below min", Config{Credentials: creds, MinExpires: time.Minute, MaxExpires: time.Second}, "MaxExpires"},
		{"default above max", Config{Credentials: creds, DefaultExpires: 2 * time.Hour}, "DefaultExpires"},
		{"negative contacts", Config{Credentials: creds, MaxContacts: -1}, "MaxContacts"},
		{"unknown algorithm", Config{Credentials: creds, Nonces: &sipdigest.Nonces{Algorithms: []string{"SHA-512-256"}}}, "SHA-512-256"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want an error about %s", err, c.want)
			}
		})
	}
}

// BenchmarkContacts measures the B2BUA's per-call question, where to
// ring a person, with 10,000 people of two devices each registered.
func BenchmarkContacts(b *testing.B) {
	c := newClock()
	loc := NewLocation(c.now)
	for i := range 10000 {
		person := fmt.Sprintf("p-%d", i)
		for d := range 2 {
			ch := &change{personID: person, orgID: "org-1", username: person, callID: fmt.Sprintf("%s-%d", person, d), cseq: 1,
				contacts: []contactReq{{key: fmt.Sprint(d), uri: sip.Uri{Scheme: "sip", User: person, Host: "192.0.2.1", Port: 5060 + d}, expires: time.Hour}}}
			if _, err := loc.apply(ch); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := loc.Contacts("p-4711"); len(got) != 2 {
			b.Fatal(got)
		}
	}
}
