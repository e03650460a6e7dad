package registrar

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/sipdigest"
)

// t0 is the tests' starting time.
var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// clock is an injectable clock tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock() *clock { c := &clock{}; c.set(t0); return c }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// fakeCredentials is a Credentials over a map, with a switchable failure.
type fakeCredentials struct {
	mu       sync.Mutex
	accounts map[string]Account
	err      error
	lookups  int
}

// add gives user a password in realm callrec for person (org "org-1").
func (f *fakeCredentials) add(user, person, password string) {
	m, s := sipdigest.HA1(user, sipdigest.DefaultRealm, password)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.accounts == nil {
		f.accounts = map[string]Account{}
	}
	f.accounts[user] = Account{PersonID: person, OrgID: "org-1", Realm: sipdigest.DefaultRealm, HA1MD5: m, HA1SHA256: s}
}

// fail makes every Lookup fail with err (nil: succeed again).
func (f *fakeCredentials) fail(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// count returns how many lookups were made.
func (f *fakeCredentials) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups
}

func (f *fakeCredentials) Lookup(_ context.Context, user string) (Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if f.err != nil {
		return Account{}, f.err
	}
	a, ok := f.accounts[user]
	if !ok {
		return Account{}, fmt.Errorf("fake: %q: %w", user, callrec.ErrNotFound)
	}
	return a, nil
}

// testEnv is a registrar served by sipgo on loopback UDP and TCP.
type testEnv struct {
	reg     *Registrar
	creds   *fakeCredentials
	clock   *clock
	udpAddr string // host:port of the UDP listener
	tcpAddr string // host:port of the TCP listener
}

// start serves a registrar with alice (person p-alice, password
// "alice-pw") and bob (p-bob, "bob-pw") on loopback, with cfg's limits.
func start(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	e := &testEnv{creds: &fakeCredentials{}, clock: newClock()}
	e.creds.add("alice", "p-alice", "alice-pw")
	e.creds.add("bob", "p-bob", "bob-pw")
	cfg.Credentials = e.creds
	cfg.Now = e.clock.now
	cfg.Logger = slog.New(slog.DiscardHandler)
	reg, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.reg = reg
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("callrec-test-registrar"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(reg.HandleRegister)
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.udpAddr, e.tcpAddr = udp.LocalAddr().String(), tcp.Addr().String()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.ServeUDP(udp) }()
	go func() { defer wg.Done(); _ = srv.ServeTCP(tcp) }()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = ua.Close()
		_ = udp.Close()
		_ = tcp.Close()
		wg.Wait()
	})
	return e
}

// phone is a device speaking SIP over a raw UDP or TCP socket: the test
// writes every header, so Call-ID, CSeq, Via and Contact are exactly what
// the case needs.
type phone struct {
	t         *testing.T
	transport string // "UDP" or "TCP"
	conn      net.Conn
	rd        *bufio.Reader // TCP
	server    string        // host:port
	user      string
	password  string
	callID    string
	cseq      uint32
	viaHost   string // sent-by of the Via; "" = the socket's address
	branch    int
	auth      string // the Authorization sent with every request, once challenged
}

// newPhone connects user's phone to the registrar over transport.
func (e *testEnv) newPhone(t *testing.T, transport, user, password string) *phone {
	t.Helper()
	addr := e.udpAddr
	if transport == "TCP" {
		addr = e.tcpAddr
	}
	conn, err := net.Dial(strings.ToLower(transport), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	p := &phone{t: t, transport: transport, conn: conn, server: addr, user: user, password: password,
		callID: fmt.Sprintf("%s-%s-%d@test", user, strings.ToLower(transport), time.Now().UnixNano()), cseq: 1}
	if transport == "TCP" {
		p.rd = bufio.NewReader(conn)
	}
	return p
}

// local returns the phone's socket address.
func (p *phone) local() string { return p.conn.LocalAddr().String() }

// msg is one REGISTER's variable part.
type msg struct {
	to       string   // To user ("" = the phone's user)
	contacts []string // Contact values
	expires  string   // Expires header ("" = none)
	extra    []string // more header lines
	noAuth   bool     // send no Authorization even when the phone has one
}

// send writes a REGISTER with the phone's Call-ID and CSeq (then
// increments CSeq) and returns the final response.
func (p *phone) send(m msg) *sip.Response {
	p.t.Helper()
	p.branch++
	via := p.viaHost
	if via == "" {
		via = p.local()
	}
	to := m.to
	if to == "" {
		to = p.user
	}
	host, _, _ := net.SplitHostPort(p.server)
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", p.server)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;rport;branch=z9hG4bK-%s-%d\r\n", p.transport, via, p.callID, p.branch)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=f%d\r\n", p.user, host, len(p.user))
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", to, host)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", p.callID)
	fmt.Fprintf(&b, "CSeq: %d REGISTER\r\n", p.cseq)
	for _, c := range m.contacts {
		fmt.Fprintf(&b, "Contact: %s\r\n", c)
	}
	if m.expires != "" {
		fmt.Fprintf(&b, "Expires: %s\r\n", m.expires)
	}
	if p.auth != "" && !m.noAuth {
		fmt.Fprintf(&b, "Authorization: %s\r\n", p.auth)
	}
	for _, h := range m.extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("User-Agent: test-phone/1.0\r\nContent-Length: 0\r\n\r\n")
	p.cseq++
	if _, err := p.conn.Write([]byte(b.String())); err != nil {
		p.t.Fatalf("write REGISTER: %v", err)
	}
	return p.read()
}

// read returns the next final response (provisional ones are skipped).
func (p *phone) read() *sip.Response {
	p.t.Helper()
	for {
		// A bound on a test that would otherwise hang; not a sleep.
		_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var raw []byte
		if p.rd == nil {
			buf := make([]byte, 65535)
			n, err := p.conn.Read(buf)
			if err != nil {
				p.t.Fatalf("read response: %v", err)
			}
			raw = buf[:n]
		} else {
			var err error
			raw, err = readStream(p.rd)
			if err != nil {
				p.t.Fatalf("read response: %v", err)
			}
		}
		m, err := sip.ParseMessage(raw)
		if err != nil {
			p.t.Fatalf("parse response %q: %v", raw, err)
		}
		res, ok := m.(*sip.Response)
		if !ok {
			p.t.Fatalf("got a request: %s", raw)
		}
		if res.IsProvisional() {
			continue
		}
		return res
	}
}

// readStream reads one SIP message from a stream transport.
func readStream(rd *bufio.Reader) ([]byte, error) {
	tp := textproto.NewReader(rd)
	var b strings.Builder
	length := 0
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return nil, err
		}
		if line == "" && b.Len() == 0 {
			continue // a keep-alive CRLF
		}
		b.WriteString(line + "\r\n")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(k, "Content-Length") || k == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, err
	}
	return append([]byte(b.String()), body...), nil
}

// authorize answers the 401 res with the challenge of algorithm alg and
// keeps the Authorization for the phone's next requests.
func (p *phone) authorize(res *sip.Response, alg string) {
	p.t.Helper()
	if res.StatusCode != 401 {
		p.t.Fatalf("want a 401 challenge, got %d %s", res.StatusCode, res.Reason)
	}
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			p.t.Fatalf("challenge %q: %v", h.Value(), err)
		}
		if chal.Algorithm != alg {
			continue
		}
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + p.server, Username: p.user, Password: p.password})
		if err != nil {
			p.t.Fatal(err)
		}
		p.auth = cred.String()
		return
	}
	p.t.Fatalf("no %s challenge in %v", alg, res.GetHeaders("WWW-Authenticate"))
}

// login sends m, answers the challenge with alg and returns the
// response to the authenticated request.
func (p *phone) login(m msg, alg string) *sip.Response {
	p.t.Helper()
	p.auth = ""
	p.authorize(p.send(m), alg)
	return p.send(m)
}

// contactExpires returns the Contact URIs of a 200 with their expires
// parameters, in order.
func contactExpires(t *testing.T, res *sip.Response) []string {
	t.Helper()
	var out []string
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			t.Fatalf("contact %q not parsed", h.Value())
		}
		e, _ := c.Params.Get("expires")
		out = append(out, c.Address.String()+" "+e)
	}
	return out
}

// uris returns the Contact URIs of contacts.
func uris(cs []Contact) []string {
	var out []string
	for i := range cs {
		out = append(out, cs[i].URI.String())
	}
	return out
}

func mustStatus(t *testing.T, res *sip.Response, code int) {
	t.Helper()
	if res.StatusCode != code {
		t.Fatalf("status %d %s, want %d", res.StatusCode, res.Reason, code)
	}
}

var errStore = errors.New("database is locked")
