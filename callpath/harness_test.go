package callpath

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/blob/fs"
	"github.com/callrec/callrec/callpath/registrar"
	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/mix"
	"github.com/callrec/callrec/media/tone"
	"github.com/callrec/callrec/sipdigest"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// env is a B2BUA on loopback over a real SQLite directory with org acme:
// Alice (1001, SIP alice), Bob (1002, SIP bob, DID +4535351002) and a
// trunk whose peer is the test's PSTN gateway.
type env struct {
	t     *testing.T
	srv   *Server
	store *sqlite.Store
	blobs *fs.Store
	org   *callrec.Org
	trunk *pstn
}

const (
	personAlice = "2d000000-0000-4000-8000-0000000000a1"
	personBob   = "2d000000-0000-4000-8000-0000000000b1"
)

func startEnv(t *testing.T, mut func(*Config), pre ...func(*Server)) *env {
	t.Helper()
	st, blobs := sqlitetest.NewWithBlobs(t)
	org := sqlitetest.EntitledOrg(t, st, "acme", callrec.RootPartner)
	gw := newPSTN(t)
	sqlitetest.Update(t, st, func(tx directory.Tx) error {
		for _, p := range []struct{ id, user, ext, did, first string }{
			{personAlice, "alice", "1001", "+4535351001", "Alice"},
			{personBob, "bob", "1002", "+4535351002", "Bob"},
		} {
			m, s := sipdigest.HA1(p.user, sipdigest.DefaultRealm, p.user+"-pw")
			err := directory.People.Put(t.Context(), tx, &callrec.Person{ID: p.id, OrgID: org.ID, Emails: []string{p.user + "@acme.example"},
				FirstName: p.first, License: callrec.LicenseProfessional, Extension: p.ext, PhoneNumbers: []string{p.did},
				SIP: &callrec.SIPCredentials{Username: p.user, Realm: sipdigest.DefaultRealm, HA1MD5: m, HA1SHA256: s}})
			if err != nil {
				return err
			}
		}
		return directory.Trunks.Put(t.Context(), tx, &callrec.Trunk{ID: "trunk-1", OrgID: org.ID, Name: "carrier",
			Address: "127.0.0.1", Port: int(gw.addr.Port()), Transport: "udp"})
	})
	nonces := &sipdigest.Nonces{}
	reg, err := registrar.New(registrar.Config{Credentials: registrar.NewDirectoryCredentials(st), Nonces: nonces,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	base := 30000 + 2*rand.IntN(10000)
	ports, err := relay.NewPortRange(base, base+399)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Listen: netip.AddrPortFrom(loopback, 0), RTPPorts: ports, RingTimeout: 3 * time.Second,
		Nonces: nonces, Logger: slog.New(slog.DiscardHandler)}
	if mut != nil {
		mut(&cfg)
	}
	srv, err := New(cfg, Deps{Store: st, Registrar: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range pre {
		fn(srv)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return &env{t: t, srv: srv, store: st, blobs: blobs, org: org, trunk: gw}
}

// ua is a SIP endpoint of a test: a sipgo user agent listening on its own
// UDP port, with a client sending from it.
type ua struct {
	t      *testing.T
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	addr   netip.AddrPort
	dialog *sipgo.DialogServerCache
	// answer decides how incoming INVITEs are answered.
	mu        sync.Mutex
	answer    func(req *sip.Request, ds *sipgo.DialogServerSession)
	reoffer   func(req *sip.Request, tx sip.ServerTransaction) // in-dialog INVITE and UPDATE (reinvite_test.go)
	invites   chan *sip.Request
	byes      chan *sip.Request
	cancelled chan struct{}
	infos     chan *sip.Request // in-dialog INFOs received (R34 recording state)
}

// newUA starts a test UA; hooks add handlers to its server before it
// serves.
func newUA(t *testing.T, name string, hooks ...func(*sipgo.Server)) *ua {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	u, err := sipgo.NewUA(sipgo.WithUserAgent(name), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(u, sipgo.WithServerLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	client, err := sipgo.NewClient(u, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(log),
		sipgo.WithClientConnectionAddr(addr.String()))
	if err != nil {
		t.Fatal(err)
	}
	x := &ua{t: t, ua: u, srv: srv, client: client, addr: addr, invites: make(chan *sip.Request, 8), byes: make(chan *sip.Request, 8), cancelled: make(chan struct{}, 8), infos: make(chan *sip.Request, 32)}
	x.dialog = sipgo.NewDialogServerCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: name, Host: "127.0.0.1", Port: int(addr.Port())}})
	srv.OnUpdate(x.inDialog)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		if _, ok := req.To().Params.Get("tag"); ok {
			x.inDialog(req, tx)
			return
		}
		ds, err := x.dialog.ReadInvite(req, tx)
		if err != nil {
			return
		}
		x.invites <- req
		x.mu.Lock()
		fn := x.answer
		x.mu.Unlock()
		if fn == nil {
			_ = ds.Respond(sip.StatusBusyHere, "Busy Here", nil)
			return
		}
		fn(req, ds)
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = x.dialog.ReadAck(req, tx) })
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		select {
		case x.infos <- req:
		default:
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		x.byes <- req
		if err := x.dialog.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		}
	})
	for _, h := range hooks {
		h(srv)
	}
	go func() { _ = srv.ServeUDP(conn) }()
	if err := waitListener(t.Context(), u, addr.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(); _ = conn.Close(); _ = u.Close() })
	return x
}

// register binds the UA as user at the B2BUA's registrar.
func (x *ua) register(e *env, user string) {
	x.t.Helper()
	host := e.srv.Addr().String()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: e.srv.Addr().Addr().String(), Port: int(e.srv.Addr().Port())})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"}, Params: sip.NewParams()})
	req.From().Params.Add("tag", fmt.Sprint(rand.Uint32()))
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"}, Params: sip.NewParams()})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: int(x.addr.Port())}})
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	req.SetDestination(host)
	ctx, cancel := context.WithTimeout(x.t.Context(), 5*time.Second)
	defer cancel()
	res, err := x.client.Do(ctx, req)
	if err == nil && res.StatusCode == 401 {
		res, err = x.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: user + "-pw"})
	}
	if err != nil || res.StatusCode != 200 {
		x.t.Fatalf("register %s: %v %v", user, res, err)
	}
}

// phone is a UA with RTP: it sends a tone and keeps what it hears.
type rtpPeer struct {
	conn  *net.UDPConn
	freq  float64
	mu    sync.Mutex
	heard []int16     // decoded PCMU at 8 kHz
	at    []time.Time // arrival of each 20 ms packet of heard
	first time.Time
	pts   map[uint8]int
	evs   []uint8 // event codes of the telephone-event packets received
	dtmf  chan string
	sent  int // digits whose last packet was sent
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newRTPPeer(t *testing.T, freq float64) *rtpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{conn: c, freq: freq, pts: map[uint8]int{}, dtmf: make(chan string, 8), stop: make(chan struct{})}
	dec, err := media.NewDecoder(media.PCMU, 8000, 1, 8000)
	if err != nil {
		t.Fatal(err)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 1500)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			h, payload, err := mix.ParseRTP(buf[:n])
			if err != nil {
				continue
			}
			p.mu.Lock()
			p.pts[h.PayloadType]++
			if h.PayloadType == 101 && len(payload) > 0 {
				p.evs = append(p.evs, payload[0])
			}
			if h.PayloadType == 0 {
				if p.first.IsZero() {
					p.first = time.Now()
				}
				p.heard, _ = dec.Decode(p.heard, payload)
				p.at = append(p.at, time.Now())
			}
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() { p.close() })
	return p
}

func (p *rtpPeer) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	_ = p.conn.Close()
	p.wg.Wait()
}

func (p *rtpPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// sdp is the peer's PCMU offer or answer with telephone-event 101.
func (p *rtpPeer) sdp() []byte {
	return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n", p.port())
}

// sendTo starts sending the tone to the RTP address of an SDP body, 20 ms
// packets paced by a ticker, until close.
func (p *rtpPeer) sendTo(t *testing.T, body []byte) {
	t.Helper()
	a, err := parseAudio(body)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := media.NewEncoder(media.PCMU, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	dst := net.UDPAddrFromAddrPort(a.rtp)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		var phase float64
		pcm := make([]int16, 160)
		pkt := make([]byte, 12, 200)
		ssrc := rand.Uint32()
		ev, evTS, evN := -1, uint32(0), 0
		for i := 0; ; i++ {
			select {
			case <-p.stop:
				return
			case <-tk.C:
			}
			ts := uint32(i * 160)
			if ev < 0 {
				select {
				case d := <-p.dtmf:
					ev, evTS, evN = digitCode(d), ts, 0
				default:
				}
			}
			if ev >= 0 {
				// RFC 4733 §2.5: three packets while the key is down,
				// then three end packets, all with the event's start
				// timestamp; the other party hears no audio meanwhile.
				end := evN >= 3
				flags := byte(10)
				if end {
					flags |= 0x80
				}
				dur := uint16(160 * min(evN+1, 4))
				pkt = append(pkt[:12], byte(ev), flags, byte(dur>>8), byte(dur))
				pkt[0], pkt[1] = 0x80, 101
				if evN == 0 {
					pkt[1] |= 0x80
				}
				pkt[2], pkt[3] = byte(i>>8), byte(i)
				pkt[4], pkt[5], pkt[6], pkt[7] = byte(evTS>>24), byte(evTS>>16), byte(evTS>>8), byte(evTS)
				pkt[8], pkt[9], pkt[10], pkt[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
				if evN++; evN == 6 {
					ev = -1
					p.mu.Lock()
					p.sent++
					p.mu.Unlock()
				}
				if _, err := p.conn.WriteToUDP(pkt, dst); err != nil {
					return
				}
				continue
			}
			tone.Sine(pcm, 8000, p.freq, 8000, &phase)
			pkt = pkt[:12]
			pkt[0], pkt[1] = 0x80, 0
			pkt[2], pkt[3] = byte(i>>8), byte(i)
			pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
			pkt[8], pkt[9], pkt[10], pkt[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
			pkt, _ = enc.Encode(pkt, pcm)
			if _, err := p.conn.WriteToUDP(pkt, dst); err != nil {
				return
			}
		}
	}()
}

// heardTone returns the dominant frequency of what the peer heard among
// candidates, and how much audio it heard.
func (p *rtpPeer) heardTone(candidates []float64) (float64, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.heard) < 1600 {
		return 0, time.Duration(len(p.heard)) * time.Second / 8000
	}
	f, _ := tone.Dominant(p.heard[len(p.heard)-1600:], 8000, candidates)
	return f, time.Duration(len(p.heard)) * time.Second / 8000
}

// waitHeard waits until the peer heard at least d of audio.
func (p *rtpPeer) waitHeard(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		n := len(p.heard)
		p.mu.Unlock()
		if time.Duration(n)*time.Second/8000 >= d {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("peer heard less than %s", d)
}

// pstn is the carrier's gateway: a UA on the trunk's address.
type pstn struct {
	*ua
	addr netip.AddrPort
}

func newPSTN(t *testing.T) *pstn {
	u := newUA(t, "gateway")
	return &pstn{ua: u, addr: u.addr}
}

// answerWith makes x answer each INVITE after ringing with peer's SDP.
func (x *ua) answerWith(peer *rtpPeer, ring time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.answer = func(req *sip.Request, ds *sipgo.DialogServerSession) {
		_ = ds.Respond(sip.StatusRinging, "Ringing", nil)
		if ring > 0 {
			select {
			case <-time.After(ring):
			case <-ds.Context().Done():
				return
			}
		}
		peer.sendTo(x.t, req.Body())
		_ = ds.RespondSDP(peer.sdp())
	}
}

// ringForever makes x ring and never answer.
func (x *ua) ringForever() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.answer = func(req *sip.Request, ds *sipgo.DialogServerSession) {
		_ = ds.Respond(sip.StatusRinging, "Ringing", nil)
		<-ds.Context().Done()
		if errors.Is(context.Cause(ds.Context()), sip.ErrTransactionCanceled) {
			x.cancelled <- struct{}{}
		}
	}
}

// dial places a call from x (authenticating as user when set) to number
// at the B2BUA and returns the dialog once answered, or the error.
func (x *ua) dial(e *env, user, number string, peer *rtpPeer, onResponse func(*sip.Response)) (*sipgo.DialogClientSession, error) {
	dua := sipgo.DialogUA{Client: x.client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: int(x.addr.Port())}}}
	to := sip.Uri{Scheme: "sip", User: number, Host: e.srv.Addr().Addr().String(), Port: int(e.srv.Addr().Port())}
	req := sip.NewRequest(sip.INVITE, to)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", fmt.Sprint(rand.Uint32()))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(peer.sdp())
	ctx, cancel := context.WithTimeout(x.t.Context(), 15*time.Second)
	defer cancel()
	dc, err := dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	pw := ""
	if user != "" {
		pw = user + "-pw"
	}
	err = dc.WaitAnswer(ctx, sipgo.AnswerOptions{Username: user, Password: pw, OnResponse: func(r *sip.Response) error {
		if onResponse != nil {
			onResponse(r)
		}
		return nil
	}})
	if err != nil {
		return dc, err
	}
	if err := dc.Ack(ctx); err != nil {
		return dc, err
	}
	peer.sendTo(x.t, dc.InviteResponse.Body())
	return dc, nil
}

// digitCode is the RFC 4733 §3.2 event code of a DTMF digit.
func digitCode(d string) int {
	switch d {
	case "*":
		return 10
	case "#":
		return 11
	}
	return int(d[0] - '0')
}

// press sends DTMF digits as telephone-events, one after the other,
// and returns once the last packet of the last one was sent.
func (p *rtpPeer) press(t *testing.T, digits string) {
	t.Helper()
	p.mu.Lock()
	want := p.sent + len(digits)
	p.mu.Unlock()
	for _, d := range digits {
		p.dtmf <- string(d)
	}
	waitUntil(t, "digits "+digits+" sent", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.sent >= want
	})
}

// waitUntil polls cond every 10 ms for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var candidates = []float64{440, 660, 1400, 480}
