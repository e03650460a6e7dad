package registrar

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/sipdigest"
)

// TestBaresipRegisters registers a real softphone (Debian baresip-core,
// installed by scripts/install-test-deps.sh) with digest credentials over
// UDP, then stops it and sees it un-register. The test waits on the
// REGISTERs the server handles, not on time.
//
// baresip 1.0.0 (libre 1.x) gives up with ENOSYS ("Register: Function
// not implemented") on any challenge set that holds SHA-256, even with
// MD5 offered too, so this registrar challenges with MD5 alone.
func TestBaresipRegisters(t *testing.T) {
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatalf("baresip is not installed (scripts/install-test-deps.sh installs baresip-core): %v", err)
	}
	creds := &fakeCredentials{}
	creds.add("alice", "p-alice", "alice-pw")
	// Real time: baresip's nonce use and refreshes follow the wall clock.
	reg, err := New(Config{Credentials: creds, Logger: slog.New(slog.DiscardHandler), Nonces: &sipdigest.Nonces{Algorithms: []string{"MD5"}}})
	if err != nil {
		t.Fatal(err)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("callrec-test-registrar"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	handled := make(chan int, 16) // status of each REGISTER answered
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		res := reg.handle(req)
		_ = tx.Respond(res)
		handled <- res.StatusCode
	})
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.ServeUDP(udp) }()
	t.Cleanup(func() { _ = srv.Close(); _ = ua.Close(); _ = udp.Close(); wg.Wait() })

	dir := t.TempDir()
	phonePort := freeUDPPort(t)
	config := strings.Join([]string{
		"sip_listen\t127.0.0.1:" + fmt.Sprint(phonePort),
		"sip_trans_def\tudp",
		"audio_player\tnone",
		"audio_source\tnone",
		"rtp_ports\t41000-41099",
		"module_path\t/usr/lib/baresip/modules",
		"module\tg711.so",
		"module_app\taccount.so",
	}, "\n") + "\n"
	account := fmt.Sprintf("<sip:alice@%s>;auth_pass=alice-pw;regint=60;answermode=auto\n", udp.LocalAddr())
	for name, body := range map[string]string{"config": config, "accounts": account} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := &syncOutput{}
	cmd := exec.Command(bin, "-4", "-n", "127.0.0.1", "-f", dir, "-t", "20")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("baresip output:\n%s", out.String())
		}
	})

	// await returns the status of the next REGISTER answered.
	await := func(what string) int {
		t.Helper()
		select {
		case code := <-handled:
			return code
		case err := <-exited:
			exited <- err // the cleanup waits for it too
			t.Fatalf("baresip exited (%v) while waiting for %s", err, what)
		case <-time.After(10 * time.Second):
			t.Fatalf("no REGISTER for %s within 10 s", what)
		}
		return 0
	}
	if code := await("the first REGISTER"); code != 401 {
		t.Fatalf("first REGISTER: %d, want the 401 challenge", code)
	}
	if code := await("the authenticated REGISTER"); code != 200 {
		t.Fatalf("authenticated REGISTER: %d, want 200", code)
	}
	got := reg.Location().Contacts("p-alice")
	if len(got) != 1 {
		t.Fatalf("contacts after baresip registered: %q", uris(got))
	}
	c := got[0]
	if c.Source.Port() != uint16(phonePort) || c.Transport != "UDP" || !strings.HasPrefix(c.UserAgent, "baresip") || c.Expires.Sub(c.Registered) != 60*time.Second {
		t.Errorf("baresip's binding = %+v, want from port %d over UDP, 60 s", c, phonePort)
	}
	// baresip un-registers when it is told to quit, once it has taken
	// our 200 itself (a phone still registering just exits): it logs
	// "alice@127.0.0.1: {0/UDP/v4} 200 OK () [1 binding]".
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "200 OK") || !strings.Contains(out.String(), "binding") {
		if time.Now().After(deadline) {
			t.Fatal("baresip did not report its registration within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		code := await("the un-REGISTER")
		if code == 200 && len(reg.Location().Contacts("p-alice")) == 0 {
			break
		}
	}
}

// freeUDPPort returns a loopback UDP port that is free, with the port
// above it (baresip binds SIP port + 1 for TLS) free too at the moment.
// It picks from 24000-24999, below the kernel's ephemeral range, so a
// socket another test opens meanwhile does not take it before baresip
// binds it.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		port := 24000 + 2*rand.IntN(500)
		ok := true
		for _, nw := range []string{"udp", "tcp"} {
			for _, p := range []int{port, port + 1} {
				addr := fmt.Sprintf("127.0.0.1:%d", p)
				if nw == "udp" {
					if l, err := net.ListenPacket(nw, addr); err == nil {
						_ = l.Close()
					} else {
						ok = false
					}
				} else if l, err := net.Listen(nw, addr); err == nil {
					_ = l.Close()
				} else {
					ok = false
				}
			}
		}
		if ok {
			return port
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// syncOutput collects a process's output; the test reads it while the
// process writes.
type syncOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *syncOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *syncOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
