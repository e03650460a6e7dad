package e2e

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callrec/callrec/media/wav"
)

// Tones the two phones send as their microphone (baresip's ausine).
const (
	phoneAHz = 440.0
	phoneBHz = 1000.0
)

// portBlock returns the first of n consecutive ports, all free on
// 127.0.0.1 for UDP and TCP, below the kernel's ephemeral range (so the
// testnet.FreePort and the OS never hand them out) and outside the
// --rtp-ports range startServer uses (30000-31999).
func portBlock(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + 2*rand.IntN(4500) // 20000..28998
		ok := true
		var held []io.Closer
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			held = append(held, l)
			u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			held = append(held, u)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no block of %d free ports", n)
	return 0
}

// phoneConfig is one baresip phone.
type phoneConfig struct {
	user, password string
	registrar      string  // host:port of callrec's --sip
	toneHz         float64 // the microphone: ausine at this frequency
	answer         bool    // answermode=auto
	dial           string  // a URI dialled at start, or ""
	seconds        int     // -t: baresip quits (hanging up) after this long
	base           int     // the SIP port (0: a free block); base+99 is ctrl_tcp
	noRegister     bool    // regint=0: a trunk peer's phone, <sip:user@127.0.0.1>
}

// phone is a running baresip.
type phone struct {
	t      *testing.T
	name   string
	sndDir string
	ctrl   string // host:port of its ctrl_tcp command socket
	cmd    *exec.Cmd
	out    *logBuffer
	done   chan struct{}
}

// startPhone writes a baresip config directory (config and accounts,
// test-peers.md) into a temporary directory and starts baresip on it with
// its own SIP port pair and RTP port range.
func startPhone(t *testing.T, name string, c phoneConfig) *phone {
	t.Helper()
	if _, err := exec.LookPath("baresip"); err != nil {
		t.Fatal("baresip is not installed: run scripts/install-test-deps.sh (Debian package baresip-core)")
	}
	dir := t.TempDir()
	snd := filepath.Join(dir, "snd")
	if err := os.Mkdir(snd, 0o700); err != nil {
		t.Fatal(err)
	}
	// baresip binds its SIP port and the one above (TLS); RTP gets the
	// next 97 ports, far below callrec's --rtp-ports; the last port of the
	// block is its ctrl_tcp command socket (phone.sendDigits).
	base := c.base
	if base == 0 {
		base = portBlock(t, 100)
	}
	settings := [][2]string{
		{"sip_listen", fmt.Sprintf("127.0.0.1:%d", base)},
		{"sip_trans_def", "udp"},
		{"audio_source", fmt.Sprintf("ausine,%d", int(c.toneHz))},
		{"audio_player", "none"},
		{"ausrc_srate", "48000"},
		{"ausrc_channels", "2"},
		{"auplay_srate", "48000"},
		{"auplay_channels", "1"},
		{"rtp_ports", fmt.Sprintf("%d-%d", base+2, base+98)},
		{"module_path", "/usr/lib/baresip/modules"},
		{"module", "g711.so"},
		{"module", "ausine.so"},
		{"module", "sndfile.so"},
		{"module_app", "account.so"},
		{"module_app", "menu.so"},
		{"module_app", "ctrl_tcp.so"},
		{"ctrl_tcp_listen", fmt.Sprintf("127.0.0.1:%d", base+99)},
		{"snd_path", snd},
	}
	var cfg strings.Builder
	for _, s := range settings {
		fmt.Fprintf(&cfg, "%s\t%s\n", s[0], s[1])
	}
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;regint=60;audio_codecs=PCMU", c.user, c.registrar, c.password)
	if c.noRegister {
		account = trunkPeerAccount(c.user)
	}
	if c.answer {
		account += ";answermode=auto"
	}
	for file, body := range map[string]string{"config": cfg.String(), "accounts": account + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"-4", "-n", "127.0.0.1", "-f", dir, "-t", fmt.Sprint(c.seconds)}
	if c.dial != "" {
		args = append(args, "-e", "/dial "+c.dial)
	}
	p := &phone{t: t, name: name, sndDir: snd, ctrl: fmt.Sprintf("127.0.0.1:%d", base+99), cmd: exec.Command("baresip", args...), out: &logBuffer{}, done: make(chan struct{})}
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	p.cmd.Stdin = nil
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.out.add(sc.Text())
		}
	}()
	go func() {
		_ = p.cmd.Wait()
		pw.Close()
		wg.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			for _, l := range p.out.all() {
				t.Logf("%s: %s", name, l)
			}
		}
	})
	return p
}

// wait waits for baresip to quit by itself (its -t timer).
func (p *phone) wait(timeout time.Duration) {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("%s: baresip still running after %v", p.name, timeout)
	}
}

// stop asks baresip to quit (SIGTERM: it hangs up and closes its files)
// and waits for it.
func (p *phone) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait(10 * time.Second)
}

// heard reads what the phone decoded from the network (sndfile's
// dump-*-dec.wav), mono. baresip starts a new file when its audio stream
// is set up again (early media of a 183, then the 200's answer): the
// files are joined in the order of their names (their start times).
func (p *phone) heard() (wav.Info, []int16) {
	p.t.Helper()
	files, _ := filepath.Glob(filepath.Join(p.sndDir, "dump-*-dec.wav"))
	if len(files) == 0 {
		p.t.Fatalf("%s: no dump-*-dec.wav in %s", p.name, p.sndDir)
	}
	sort.Strings(files)
	var info wav.Info
	var all []int16
	for i, f := range files {
		fi, chans, err := wav.ReadFile(f)
		if err != nil {
			p.t.Fatalf("%s: %v", p.name, err)
		}
		if len(chans) != 1 {
			p.t.Fatalf("%s: %s has %d channels, want 1", p.name, f, len(chans))
		}
		if i > 0 && fi.Rate != info.Rate {
			p.t.Fatalf("%s: %s is at %d Hz, %s at %d Hz", p.name, files[0], info.Rate, f, fi.Rate)
		}
		info = fi
		all = append(all, chans[0]...)
	}
	info.Frames = int64(len(all))
	return info, all
}

// webhookReceiver is an HTTP endpoint on loopback that keeps every
// delivery with its signature header.
type webhookReceiver struct {
	*httptest.Server
	mu         sync.Mutex
	deliveries []delivery
}

// delivery is one webhook POST as received.
type delivery struct {
	body      []byte
	signature string
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	t.Helper()
	r := &webhookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.deliveries = append(r.deliveries, delivery{body: b, signature: req.Header.Get("X-Spark-Signature")})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *webhookReceiver) all() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.deliveries...)
}

// webhookEvent is the part of a delivery (Webex's webhook envelope) the
// tests read.
type webhookEvent struct {
	Resource string `json:"resource"`
	Event    string `json:"event"`
	Data     struct {
		EventType      string `json:"eventType"`
		CallID         string `json:"callId"`
		PersonID       string `json:"personId"`
		RecordingState string `json:"recordingState"`
	} `json:"data"`
}

// newRecording waits until the server holds one finalised recording
// whose id is not in seen, adds it to seen and returns it: the call
// plane's SIPREC Call-ID is its own, so a test that makes one recorded
// call at a time finds its recording this way.
func (s *server) newRecording(seen map[string]bool) recordingJSON {
	s.t.Helper()
	return s.newRecordings(seen, 1)[0]
}

// TestCallPlaneRecordedInternalCall makes internal calls between two
// real phones (baresip) through `callrec serve --sip`: person 1001
// (alice) records Always, person 1002 (bob) does not record; alice calls
// bob, then bob calls alice. Each call checks R19 (a recording from the
// answer, owned by alice, with alice on channel 1 whichever side she is
// on), R22 (nothing but the parties' audio in the recording), that each
// party heard the other, and R34 (started then stopped webhook
// deliveries for the call, signed with the webhook's secret).
func TestCallPlaneRecordedInternalCall(t *testing.T) {
	// baresip 1.0 fails digest auth when SHA-256 is offered.
	srv, o := startPhoneOrg(t, "Phones Ltd")
	sipAddr, partner, q := o.sipAddr, o.api, o.q
	alice := o.person("Alice", "1001", "alice-Secret-1")
	o.person("Bob", "1002", "bob-Secret-2")
	o.record(alice, "Always", nil)

	const secret = "hook-secret-7f3a"
	hooks := newWebhookReceiver(t)
	partner.do("POST", "/v1/webhooks"+q, map[string]any{"name": "recording events", "targetUrl": hooks.URL, "resource": "telephony_calls",
		"event": "all", "secret": secret}, 200)

	aliceCfg := phoneConfig{user: "1001", password: "alice-Secret-1", registrar: sipAddr, toneHz: phoneAHz, answer: true}
	bobCfg := phoneConfig{user: "1002", password: "bob-Secret-2", registrar: sipAddr, toneHz: phoneBHz, answer: true}
	seen := map[string]bool{}
	parent := t
	for _, c := range []struct {
		name           string
		caller, callee phoneConfig
	}{
		{"alice calls bob", aliceCfg, bobCfg},
		{"bob calls alice", bobCfg, aliceCfg},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The server's helpers report to the running subtest.
			srv.t = t
			defer func() { srv.t = parent }()
			before := len(hooks.all())
			// The callee registers first, so the call can reach it; it
			// answers by itself. The caller hangs up when -t ends.
			callee := c.callee
			callee.seconds = 30
			calleePhone := startPhone(t, "callee "+callee.user, callee)
			waitFor(t, 10*time.Second, "the callee's registration", func() bool { return registered(calleePhone) })
			cl := c.caller
			cl.dial, cl.seconds = "sip:"+callee.user+"@"+sipAddr, 6
			callerPhone := startPhone(t, "caller "+cl.user, cl)
			callerPhone.wait(20 * time.Second)
			if !callerPhone.out.contains("Call established") {
				t.Fatal("the caller's call was not established")
			}

			rec := srv.newRecording(seen)
			if rec.OwnerType != "user" {
				t.Errorf("ownerType %q, want user", rec.OwnerType)
			}
			if d := partner.do("GET", "/v1/convergedRecordings/"+rec.ID, nil, 200); str(d, "ownerId") != alice {
				t.Errorf("owner %q, want alice %q", str(d, "ownerId"), alice)
			}
			if len(rec.Callrec.Streams) != 2 {
				t.Fatalf("recording has %d streams, want 2", len(rec.Callrec.Streams))
			}
			for _, st := range rec.Callrec.Streams {
				if !strings.HasPrefix(st.Codec, "PCMU") || st.Stats.Received < 100 || st.Stats.Lost != 0 {
					t.Errorf("stream %s (channel %d): codec %s, stats %+v: want PCMU, packets received, none lost", st.Label, st.Channel, st.Codec, st.Stats)
				}
			}
			info, chans := srv.download(rec)
			if info.Channels != 2 || len(chans) != 2 {
				t.Fatalf("recording has %d channels, want 2 (stereo)", info.Channels)
			}
			length := fileDuration(info.Frames, info.Rate)
			if length < 4*time.Second || length > 7*time.Second {
				t.Fatalf("recording lasts %v, want about the call's 6 s", length)
			}
			// Channel 1 is the recorded party (alice, R19), channel 2 the
			// other. The first and last 300 ms are left out: the media
			// starts and stops there.
			from, to := 300*time.Millisecond, length-300*time.Millisecond
			assertTone(t, "recording channel 1 (alice)", chans[0], info.Rate, from, to, phoneAHz, phoneBHz)
			assertTone(t, "recording channel 2 (bob)", chans[1], info.Rate, from, to, phoneBHz, phoneAHz)
			assertRecordedOnly(t, "recording channel 1 (alice)", chans[0], info.Rate, from, to, phoneAHz, gapsOf(rec, 1))
			assertRecordedOnly(t, "recording channel 2 (bob)", chans[1], info.Rate, from, to, phoneBHz, gapsOf(rec, 2))

			// What each phone heard holds the other's tone. The callee
			// hangs up when the caller's BYE arrives; SIGTERM then quits
			// it cleanly, closing its sndfile WAVs.
			waitFor(t, 10*time.Second, "the callee's end of the call", func() bool { return calleePhone.out.contains("Call with", "terminated") })
			calleePhone.stop()
			for _, p := range []struct {
				p          *phone
				want, sent float64
			}{{callerPhone, callee.toneHz, cl.toneHz}, {calleePhone, cl.toneHz, callee.toneHz}} {
				assertPhoneHeard(t, p.p.name, p.p, 4*time.Second, time.Second, p.want, p.sent)
			}

			// R34: started, then stopped, for one call, each signed with
			// the secret.
			var states []string
			callID := ""
			waitFor(t, 10*time.Second, "the stopped webhook", func() bool {
				states = states[:0]
				for _, d := range hooks.all()[before:] {
					var ev webhookEvent
					if err := json.Unmarshal(d.body, &ev); err != nil {
						t.Fatalf("webhook body %q: %v", d.body, err)
					}
					m := hmac.New(sha1.New, []byte(secret))
					m.Write(d.body)
					if want := hex.EncodeToString(m.Sum(nil)); d.signature != want {
						t.Fatalf("X-Spark-Signature %q, want %q (HMAC-SHA1 of the body)", d.signature, want)
					}
					if ev.Resource != "telephony_calls" || ev.Data.EventType != "recording" || ev.Data.PersonID != alice || ev.Data.CallID == "" {
						t.Fatalf("webhook delivery %s", d.body)
					}
					if callID == "" {
						callID = ev.Data.CallID
					} else if ev.Data.CallID != callID {
						t.Fatalf("webhook deliveries of two calls (%s, %s) for one call", callID, ev.Data.CallID)
					}
					states = append(states, ev.Data.RecordingState)
				}
				return len(states) > 0 && states[len(states)-1] == "stopped"
			})
			if strings.Join(states, ",") != "started,stopped" {
				t.Errorf("webhook states %v, want started then stopped", states)
			}
		})
	}
}

// registered reports whether baresip logged the 200 OK to its REGISTER
// (baresip 1.0: "1002@127.0.0.1: {0/UDP/v4} 200 OK () [1 binding]").
func registered(p *phone) bool {
	return p.out.contains("200 OK", "binding")
}

// sipListen is the host:port of the server's --sip, from its start log
// line (logged just after /readyz starts answering).
func sipListen(t *testing.T, s *server) string {
	t.Helper()
	addr := ""
	waitFor(t, 10*time.Second, "the 'callrec started' log line", func() bool {
		for _, l := range s.logs.all() {
			var m struct {
				Msg string `json:"msg"`
				SIP string `json:"sip"`
			}
			if json.Unmarshal([]byte(l), &m) == nil && m.Msg == "callrec started" {
				addr = strings.TrimSuffix(m.SIP, " udp+tcp")
				return true
			}
		}
		return false
	})
	return addr
}
