package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// sipEnd is one SIP stack on one UDP socket: the trunk (the carrier's
// gateway, whose address the trunk in the API names) or the phones (every
// registered phone shares one socket and stack, as phones behind one SBC
// would; the B2BUA sends each INVITE to the address the REGISTER came
// from, with the phone's Contact as Request-URI).
type sipEnd struct {
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	conn   net.PacketConn
	addr   netip.AddrPort
	dialog *sipgo.DialogServerCache
}

func newSIPEnd(name string, port int, log *slog.Logger) (*sipEnd, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(name), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		return nil, fmt.Errorf("callload: %s: %w", name, err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		return nil, fmt.Errorf("callload: %s: %w", name, err)
	}
	conn, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("callload: %s: %w", name, err)
	}
	if uc, ok := conn.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(4 << 20)
	}
	addr := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(log),
		sipgo.WithClientConnectionAddr(addr.String()))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("callload: %s: %w", name, err)
	}
	e := &sipEnd{ua: ua, srv: srv, client: client, conn: conn, addr: addr}
	e.dialog = sipgo.NewDialogServerCache(client, e.contact(name))
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = e.dialog.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := e.dialog.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
	})
	go func() { _ = srv.ServeUDP(conn) }()
	return e, nil
}

func (e *sipEnd) contact(user string) sip.ContactHeader {
	return sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: int(e.addr.Port())}}
}

func (e *sipEnd) close() {
	_ = e.srv.Close()
	_ = e.conn.Close()
	_ = e.ua.Close()
}

// onlyAlgorithm keeps the WWW-Authenticate challenges of algorithm alg
// (RFC 8760: a server may offer SHA-256 and MD5, most preferred first) so
// the digest answer uses it; an error when the server offers none.
func onlyAlgorithm(res *sip.Response, alg string) error {
	var keep []sip.Header
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		a := "MD5"
		for _, p := range strings.Split(strings.TrimPrefix(strings.TrimSpace(h.Value()), "Digest"), ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(k, "algorithm") {
				a = strings.ToUpper(strings.Trim(v, `"`))
			}
		}
		if a == alg {
			keep = append(keep, h)
		}
	}
	if len(keep) == 0 {
		return fmt.Errorf("callload: the registrar does not offer %s digest", alg)
	}
	res.RemoveHeader("WWW-Authenticate")
	res.AppendHeader(keep[0])
	return nil
}

// register binds user's Contact on the phones' socket at the registrar
// (RFC 3261 §10), answering the digest challenge with algorithm alg.
func (e *sipEnd) register(ctx context.Context, server netip.AddrPort, user, password, alg string) error {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: server.Addr().String(), Port: int(server.Port())})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: server.Addr().String()}, Params: sip.NewParams()}
	from.Params.Add("tag", fmt.Sprint(rand.Uint32()))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: server.Addr().String()}, Params: sip.NewParams()})
	ct := e.contact(user)
	req.AppendHeader(&ct)
	req.AppendHeader(sip.NewHeader("Expires", "3600"))
	req.SetDestination(server.String())
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := e.client.Do(ctx, req)
	if err == nil && res.StatusCode == sip.StatusUnauthorized {
		if err := onlyAlgorithm(res, alg); err != nil {
			return err
		}
		res, err = e.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password})
	}
	if err != nil {
		return fmt.Errorf("callload: register %s: %w", user, err)
	}
	if res.StatusCode != sip.StatusOK {
		return fmt.Errorf("callload: register %s: %d %s", user, res.StatusCode, res.Reason)
	}
	return nil
}

// phones answers the B2BUA's INVITEs for every registered phone: 200 OK
// with the SDP of the endpoint the call reserved, and after the ACK the
// phone's stream starts.
type phones struct {
	*sipEnd
	m       *media
	mu      sync.Mutex
	pending map[string]*callMedia // by phone user
	refused map[int]int           // our answers other than 200, by code
}

// callMedia is what the phone end of one call needs.
type callMedia struct {
	sock     *socket
	st       *stream
	answered chan error // the phone's 200 OK was acknowledged (nil) or failed
}

func newPhones(m *media, log *slog.Logger) (*phones, error) {
	e, err := newSIPEnd("phones", 0, log)
	if err != nil {
		return nil, err
	}
	p := &phones{sipEnd: e, m: m, pending: map[string]*callMedia{}, refused: map[int]int{}}
	e.srv.OnInvite(p.onInvite)
	return p, nil
}

// expect reserves the phone end of the next call to user.
func (p *phones) expect(user string, cm *callMedia) {
	p.mu.Lock()
	p.pending[user] = cm
	p.mu.Unlock()
}

func (p *phones) take(user string) *callMedia {
	p.mu.Lock()
	defer p.mu.Unlock()
	cm := p.pending[user]
	delete(p.pending, user)
	return cm
}

func (p *phones) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			// a re-INVITE (session refresh): answer with no change
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
			return
		}
	}
	ds, err := p.dialog.ReadInvite(req, tx)
	if err != nil {
		return
	}
	cm := p.take(req.Recipient.User)
	fail := func(code int, reason string) {
		p.mu.Lock()
		p.refused[code]++
		p.mu.Unlock()
		_ = ds.Respond(code, reason, nil)
		if cm != nil {
			cm.answered <- fmt.Errorf("phone refused: %d %s", code, reason)
		}
	}
	if cm == nil {
		fail(sip.StatusBusyHere, "Busy Here")
		return
	}
	dst, pcmu, err := audioAddr(req.Body())
	if err != nil || !pcmu {
		fail(sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	if err := ds.RespondSDP(offerSDP(rand.Uint64()>>1, cm.sock.addr)); err != nil {
		cm.answered <- fmt.Errorf("phone 200 OK: %w", err)
		return
	}
	p.m.start(cm.st, cm.sock, dst)
	cm.answered <- nil
}

// callResult is one call as the trunk saw it.
type callResult struct {
	callID   string
	phone    int // index of the phone called
	invited  time.Time
	answered time.Time // 200 OK received
	byeSent  time.Time
	code     int // final answer to the INVITE; 0: none (timeout, transport error)
	err      error
	byeCode  int
}

// setup is the INVITE to 200 OK latency.
func (r *callResult) setup() time.Duration { return r.answered.Sub(r.invited) }

// span is what the recording should last: answer to BYE.
func (r *callResult) span() time.Duration { return r.byeSent.Sub(r.answered) }

// trunk places the inbound PSTN calls.
type trunk struct {
	*sipEnd
	server netip.AddrPort
}

// call places one call from the trunk to did, sends media from sock for
// hold, stops both streams, waits for the packets in flight, then hangs
// up.
func (t *trunk) call(ctx context.Context, m *media, did string, sock *socket, st *stream, phone *callMedia, hold time.Duration) *callResult {
	r := &callResult{}
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: did, Host: t.server.Addr().String(), Port: int(t.server.Port())})
	from := &sip.FromHeader{DisplayName: "Load", Address: sip.Uri{Scheme: "sip", User: "+4570000000", Host: t.addr.Addr().String()}, Params: sip.NewParams()}
	from.Params.Add("tag", fmt.Sprint(rand.Uint32()))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offerSDP(rand.Uint64()>>1, sock.addr))
	dua := sipgo.DialogUA{Client: t.client, ContactHDR: t.contact("gateway")}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r.invited = time.Now()
	dc, err := dua.WriteInvite(ictx, req)
	if err != nil {
		r.err = err
		return r
	}
	if h := req.CallID(); h != nil {
		r.callID = h.Value()
	}
	defer dc.Close()
	err = dc.WaitAnswer(ictx, sipgo.AnswerOptions{})
	if err != nil {
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) && de.Res != nil {
			r.code = de.Res.StatusCode
		}
		r.err = err
		return r
	}
	r.answered = time.Now()
	r.code = dc.InviteResponse.StatusCode
	dst, _, err := audioAddr(dc.InviteResponse.Body())
	if err := dc.Ack(ictx); err != nil {
		r.err = fmt.Errorf("ack: %w", err)
	}
	if err == nil {
		m.start(st, sock, dst)
	} else {
		r.err = err
	}
	// The phone starts at its ACK, which the B2BUA sends before its 200 OK
	// to us.
	select {
	case perr := <-phone.answered:
		if perr != nil && r.err == nil {
			r.err = perr
		}
	case <-time.After(5 * time.Second):
		if r.err == nil {
			r.err = errors.New("the phone's call never started")
		}
	}
	select {
	case <-time.After(hold):
	case <-ctx.Done():
	}
	m.stopStream(st)
	m.stopStream(phone.st)
	time.Sleep(drain) // the last packets in flight reach their receivers
	bctx, bcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer bcancel()
	r.byeSent = time.Now()
	if err := dc.Bye(bctx); err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("bye: %w", err)
		}
	} else {
		r.byeCode = 200
	}
	return r
}

// drain is how long a call waits after its senders stop before the BYE:
// a tick of the sender plus the path.
const drain = 50 * time.Millisecond
