package siprecclient

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/blob/fs"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/internal/testnet"
	"github.com/callrec/callrec/recorder"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

// personAlice is the recorded user of the directory fixture.
const personAlice = "2d000000-0000-4000-8000-0000000000a1"

// srs is the real recorder running in-process over SQLite and a folder
// blob store, with a directory holding org "acme" and its person Alice.
type srs struct {
	srv    *recorder.Server
	store  *sqlite.Store
	blobs  *fs.Store
	orgID  string
	target string
	done   bool
}

func startSRS(t *testing.T) *srs {
	t.Helper()
	st, blobs := sqlitetest.NewWithBlobs(t)
	org := sqlitetest.EntitledOrg(t, st, "acme", callrec.RootPartner)
	sqlitetest.Update(t, st, func(tx directory.Tx) error {
		return directory.People.Put(t.Context(), tx, &callrec.Person{ID: personAlice, OrgID: org.ID, Emails: []string{"alice@acme.example"},
			License: callrec.LicenseProfessional, Extension: "1001"})
	})
	port := testnet.FreePort(t)
	srv, err := recorder.New(recorder.Config{
		Listen:       fmt.Sprintf("127.0.0.1:%d", port),
		SpoolDir:     filepath.Join(t.TempDir(), "spool"),
		RTPMin:       47600,
		RTPMax:       47799,
		OrgID:        org.ID,
		Allow:        []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		MediaTimeout: 10 * time.Second,
		Owners:       recorder.NewDirectory(st),
		Logger:       slog.New(slog.DiscardHandler),
	}, st, blobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	s := &srs{srv: srv, store: st, blobs: blobs, orgID: org.ID, target: fmt.Sprintf("sip:srs@127.0.0.1:%d", port)}
	t.Cleanup(func() { s.shutdown(t, 10*time.Second) })
	return s
}

// shutdown stops the recorder, giving active sessions grace to end by
// themselves; the rest get a BYE. It returns once every file is final.
func (s *srs) shutdown(t *testing.T, grace time.Duration) {
	t.Helper()
	if s.done {
		return
	}
	s.done = true
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		t.Error(err)
	}
}

// recordingOf returns the stored recording of a recording session.
func (s *srs) recordingOf(t *testing.T, callID string) callrec.Recording {
	t.Helper()
	recs, err := s.store.ListRecordings(t.Context(), callrec.RecordingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.SIPCallID == callID {
			return r
		}
	}
	t.Fatalf("no recording of call %s among %d", callID, len(recs))
	return callrec.Recording{}
}

// b2bua stands in for the call plane's SIP stack: one user agent whose
// server hands in-dialog requests to a Dialogs and whose client sends.
type b2bua struct {
	client  *sipgo.Client
	dialogs *Dialogs
	addr    netip.AddrPort
}

func newB2BUA(t *testing.T) *b2bua {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("callrec-test-b2bua"), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(log),
		sipgo.WithClientConnectionAddr("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	b := &b2bua{client: client, dialogs: NewDialogs()}
	handle := func(req *sip.Request, tx sip.ServerTransaction) {
		if !b.dialogs.Handle(req, tx) && req.Method != sip.ACK {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
	}
	srv.OnBye(handle)
	srv.OnInvite(handle)
	srv.OnAck(handle)
	srv.OnUpdate(handle)
	srv.OnInfo(handle)
	srv.OnOptions(handle)
	port := testnet.FreePort(t)
	udp, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeUDP(udp) }()
	go func() { _ = srv.ServeTCP(tcp) }()
	t.Cleanup(func() {
		_ = udp.Close()
		_ = tcp.Close()
		_ = srv.Close()
		_ = ua.Close()
	})
	b.addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	return b
}

// config is a Config for targets sent through b.
func (b *b2bua) config(targets ...string) Config {
	return Config{
		Targets:       targets,
		Client:        b.client,
		Dialogs:       b.dialogs,
		Contact:       b.addr,
		LocalIP:       netip.MustParseAddr("127.0.0.1"),
		Ports:         &PortRange{Min: 47900, Max: 47999},
		InviteTimeout: 800 * time.Millisecond,
	}
}

// refuser is a SIP peer that answers every INVITE with code.
func refuser(t *testing.T, code int) string {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("refusing-srs"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, "Service Unavailable", nil))
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	port := testnet.FreePort(t)
	tcp, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeTCP(tcp) }()
	t.Cleanup(func() {
		_ = tcp.Close()
		_ = srv.Close()
		_ = ua.Close()
	})
	return fmt.Sprintf("sip:srs@127.0.0.1:%d", port)
}

// silentPeer is a TCP SIP address that accepts connections, reads and
// never answers: an SRS that hangs.
func silentPeer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return fmt.Sprintf("sip:srs@%s", l.Addr())
}
