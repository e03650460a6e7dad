package srcclient

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callrec/callrec/siprec"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// rtpPacket is one RTP packet as the fake SRS received it.
type rtpPacket struct {
	at      time.Time
	marker  bool
	pt      uint8
	seq     uint16
	ts      uint32
	ssrc    uint32
	payload []byte
}

// rtpSink counts the RTP arriving on one answered port.
type rtpSink struct {
	conn *net.UDPConn
	port int
	mu   sync.Mutex
	pkts []rtpPacket
}

// kernelTimestamps asks the kernel to stamp every datagram with its
// arrival time (SO_TIMESTAMPNS, socket(7)), so pacing is measured as the
// sender produced it, not as late as a starved reader got to it.
func kernelTimestamps(conn *net.UDPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	return serr
}

// arrival returns the kernel timestamp in oob, or now.
func arrival(oob []byte) time.Time {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_TIMESTAMPNS && len(m.Data) >= 16 {
				sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
				nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
				return time.Unix(sec, nsec)
			}
		}
	}
	return time.Now()
}

func (s *rtpSink) read() {
	buf := make([]byte, 2048)
	oob := make([]byte, 128)
	for {
		n, oobn, _, _, err := s.conn.ReadMsgUDP(buf, oob)
		if err != nil {
			return
		}
		if n < 12 {
			continue
		}
		p := rtpPacket{
			at:      arrival(oob[:oobn]),
			marker:  buf[1]&0x80 != 0,
			pt:      buf[1] & 0x7f,
			seq:     binary.BigEndian.Uint16(buf[2:]),
			ts:      binary.BigEndian.Uint32(buf[4:]),
			ssrc:    binary.BigEndian.Uint32(buf[8:]),
			payload: append([]byte(nil), buf[12:n]...),
		}
		s.mu.Lock()
		s.pkts = append(s.pkts, p)
		s.mu.Unlock()
	}
}

// count returns the number of packets received so far.
func (s *rtpSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pkts)
}

func (s *rtpSink) packets() []rtpPacket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rtpPacket(nil), s.pkts...)
}

// sipMsg is a request the fake SRS received.
type sipMsg struct {
	at     time.Time
	method string
	raw    string
	ctype  string
	body   []byte
	req    *sip.Request
}

// fakeCall is what the fake SRS knows about one recording session.
type fakeCall struct {
	mu     sync.Mutex
	msgs   []sipMsg
	sinks  []*rtpSink // in answer m-line order
	labels []string
	answer []byte
	glare  bool // answer the next re-INVITE with 491
}

func (fc *fakeCall) add(m sipMsg) {
	fc.mu.Lock()
	fc.msgs = append(fc.msgs, m)
	fc.mu.Unlock()
}

func (fc *fakeCall) requests(method string) []sipMsg {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	var out []sipMsg
	for _, m := range fc.msgs {
		if m.method == method {
			out = append(out, m)
		}
	}
	return out
}

// fakeSRS is a tiny SIPREC recording server on sipgo: it answers the
// first INVITE of a dialog with one recvonly m-line per offered m-line
// (labels echoed, the first offered codec plus telephone-event), binds a
// UDP socket per m-line and records every packet and request. The header
// X-Fake-Reject: <code> makes it refuse; X-Fake-Ring: <duration> makes it
// ring that long before answering (for CANCEL); X-Fake-Bye-After:
// <duration> makes it end the session itself; X-Fake-Glare makes it answer
// the first re-INVITE with 491 Request Pending.
type fakeSRS struct {
	t     *testing.T
	ua    *sipgo.UserAgent
	srv   *sipgo.Server
	dlgs  *sipgo.DialogServerCache
	addr  string // host:port of TCP and UDP
	mu    sync.Mutex
	calls map[string]*fakeCall
}

func newFakeSRS(t *testing.T) *fakeSRS {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("fake-srs"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatal(err)
	}
	// One port for both transports, as an SRS listens on UDP and TCP.
	var tl net.Listener
	var ul net.PacketConn
	for range 20 {
		tl, err = net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ul, err = net.ListenPacket("udp4", tl.Addr().String())
		if err == nil {
			break
		}
		tl.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSRS{t: t, ua: ua, srv: srv, addr: tl.Addr().String(), calls: map[string]*fakeCall{}}
	host, port, _ := net.SplitHostPort(f.addr)
	p, _ := strconv.Atoi(port)
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "srs", Host: host, Port: p, UriParams: sip.NewParams()}, Params: sip.NewParams()}
	contact.Address.UriParams.Add("transport", "tcp")
	contact.Params.Add("+sip.srs", "")
	f.dlgs = sipgo.NewDialogServerCache(cli, contact)

	srv.OnInvite(f.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		f.record(req)
		_ = f.dlgs.ReadAck(req, tx) // re-INVITE ACKs carry a newer CSeq: ignored
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		f.record(req)
		if err := f.dlgs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "No dialog", nil))
		}
	})
	srv.OnUpdate(func(req *sip.Request, tx sip.ServerTransaction) {
		f.record(req)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	go func() { _ = srv.ServeTCP(tl) }()
	go func() { _ = srv.ServeUDP(ul) }()
	t.Cleanup(func() {
		tl.Close()
		ul.Close()
		ua.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.calls {
			for _, s := range c.sinks {
				s.conn.Close()
			}
		}
	})
	return f
}

func (f *fakeSRS) uri() string { return "sip:srs@" + f.addr }

func (f *fakeSRS) call(id string) *fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls[id]
	if c == nil {
		c = &fakeCall{}
		f.calls[id] = c
	}
	return c
}

func (f *fakeSRS) record(req *sip.Request) *fakeCall {
	fc := f.call(req.CallID().Value())
	ct := ""
	if h := req.GetHeader("Content-Type"); h != nil {
		ct = h.Value()
	}
	fc.add(sipMsg{at: time.Now(), method: string(req.Method), raw: req.String(), ctype: ct, body: append([]byte(nil), req.Body()...), req: req})
	return fc
}

func (f *fakeSRS) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	fc := f.record(req)
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		// re-INVITE: answer with the same answer, new o= version not needed here.
		fc.mu.Lock()
		answer := fc.answer
		glare := fc.glare
		fc.glare = false
		fc.mu.Unlock()
		if glare {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusRequestPending, "Request Pending", nil))
			return
		}
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", answer)
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		_ = tx.Respond(res)
		return
	}
	dlg, err := f.dlgs.ReadInvite(req, tx)
	if err != nil {
		f.t.Errorf("fake SRS: ReadInvite: %v", err)
		return
	}
	if req.GetHeader("X-Fake-Glare") != nil {
		fc.mu.Lock()
		fc.glare = true
		fc.mu.Unlock()
	}
	if h := req.GetHeader("X-Fake-Reject"); h != nil {
		code, _ := strconv.Atoi(h.Value())
		_ = dlg.Respond(code, "Rejected By Test", nil)
		return
	}
	if h := req.GetHeader("X-Fake-Ring"); h != nil {
		d, _ := time.ParseDuration(h.Value())
		_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
		select {
		case <-time.After(d):
		case <-dlg.Context().Done():
			return // CANCELled: sipgo answered 487
		}
	}
	answer, err := f.answer(fc, req)
	if err != nil {
		_ = dlg.Respond(sip.StatusNotAcceptableHere, err.Error(), nil)
		return
	}
	if err := dlg.Respond(sip.StatusOK, "OK", answer, sip.NewHeader("Content-Type", "application/sdp")); err != nil {
		return
	}
	if h := req.GetHeader("X-Fake-Bye-After"); h != nil {
		d, _ := time.ParseDuration(h.Value())
		time.Sleep(d)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := dlg.Bye(ctx); err != nil {
			f.t.Errorf("fake SRS: BYE: %v", err)
		}
	}
}

// answer builds the recvonly answer and binds the sinks.
func (f *fakeSRS) answer(fc *fakeCall, req *sip.Request) ([]byte, error) {
	ct := ""
	if h := req.GetHeader("Content-Type"); h != nil {
		ct = h.Value()
	}
	body, err := siprec.ParseBody(ct, req.Body())
	if err != nil {
		return nil, err
	}
	if body.SDP == nil {
		return nil, fmt.Errorf("no SDP part")
	}
	offer, err := siprec.ParseSDP(body.SDP)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("v=0\r\no=fake 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n")
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, m := range offer.Media {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return nil, err
		}
		_ = conn.SetReadBuffer(1 << 20)
		if err := kernelTimestamps(conn); err != nil {
			return nil, err
		}
		s := &rtpSink{conn: conn, port: conn.LocalAddr().(*net.UDPAddr).Port}
		go s.read()
		fc.sinks = append(fc.sinks, s)
		fc.labels = append(fc.labels, m.Label)
		audio := m.Formats[0]
		pts := strconv.Itoa(int(audio.PT))
		lines := fmt.Sprintf("a=rtpmap:%d %s/%d\r\n", audio.PT, audio.Name, audio.ClockRate)
		if audio.Channels > 1 {
			lines = fmt.Sprintf("a=rtpmap:%d %s/%d/%d\r\n", audio.PT, audio.Name, audio.ClockRate, audio.Channels)
		}
		for _, ev := range m.Formats[1:] {
			if strings.EqualFold(ev.Name, "telephone-event") {
				pts += " " + strconv.Itoa(int(ev.PT))
				lines += fmt.Sprintf("a=rtpmap:%d telephone-event/%d\r\n", ev.PT, ev.ClockRate)
			}
		}
		fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n%sa=label:%s\r\na=recvonly\r\n", s.port, pts, lines, m.Label)
	}
	fc.answer = []byte(b.String())
	return fc.answer, nil
}

// awaitPackets waits until every packet res says was sent (duplicates
// included) has been read by the fake's sinks: the readers may lag behind
// on a loaded machine.
func awaitPackets(t *testing.T, fc *fakeCall, res *Result) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for i, sr := range res.Streams {
		if i >= len(fc.sinks) {
			break
		}
		want := int(sr.Sent + sr.Duplicates)
		for fc.sinks[i].count() < want {
			if time.Now().After(deadline) {
				t.Fatalf("stream %s: %d of %d packets arrived", sr.Label, fc.sinks[i].count(), want)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}
