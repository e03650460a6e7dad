// Package e2e runs the real callrec binary against real SIP peers (SIPp
// from Debian's sip-tester and our own Go SIPREC client) and checks what
// users get: the recordings over the API and the audio in the files.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callrec/callrec/internal/testnet"
	"github.com/callrec/callrec/media/wav"
	"github.com/callrec/callrec/srcclient"
)

// binary is the callrec binary built once for the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "callrec-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "callrec")
	cmd := exec.Command("go", "build", "-o", binary, "../cmd/callrec")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building callrec:", err)
		os.Exit(1)
	}
	// Real SRCs send 2-4 KB SIPREC INVITEs over UDP; let ours do so too.
	srcclient.LiftUDPLimit()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `callrec serve`.
type server struct {
	t       *testing.T
	cmd     *exec.Cmd
	dataDir string
	httpURL string
	siprec  string // host:port
	token   string
	logs    *logBuffer
	done    chan struct{}
	exitErr error
}

// logBuffer collects the server's JSON log lines.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *logBuffer) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// contains reports whether a log line contains every one of the parts.
func (l *logBuffer) contains(parts ...string) bool {
	for _, line := range l.all() {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

type serverOpts struct {
	dataDir string
	rtp     string // --rtp-ports
	extra   []string
	env     []string
}

// startServer starts callrec serve on free ports with a known admin token
// and waits until /readyz answers 200.
func startServer(t *testing.T, o serverOpts) *server {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	if o.rtp == "" {
		o.rtp = "30000-31999"
	}
	s := &server{t: t, dataDir: o.dataDir, token: "e2e-admin-token-0123456789", logs: &logBuffer{}, done: make(chan struct{})}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(t))
	s.siprec = fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(t))
	s.httpURL = "http://" + httpAddr
	args := append([]string{"serve", "--data-dir", o.dataDir, "--http", httpAddr, "--siprec", s.siprec,
		"--sip", fmt.Sprintf("127.0.0.1:%d", testnet.FreePort(t)), "--rtp-ports", o.rtp, "--min-free-disk", "1MB"}, o.extra...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(append(os.Environ(), "CALLREC_ADMIN_TOKEN="+s.token), o.env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.logs.add(sc.Text())
		}
		s.exitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop(syscall.SIGKILL)
		if t.Failed() {
			for _, l := range s.logs.all() {
				t.Log("server: " + l)
			}
		}
	})
	s.waitReady()
	return s
}

// waitReady polls /readyz until it answers 200 or the server exits.
func (s *server) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			s.t.Fatalf("callrec exited before ready: %v\n%s", s.exitErr, strings.Join(s.logs.all(), "\n"))
		default:
		}
		res, err := http.Get(s.httpURL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatal("callrec not ready within 30 s")
}

// stop signals the server and waits for it to exit.
func (s *server) stop(sig syscall.Signal) error {
	select {
	case <-s.done:
		return s.exitErr
	default:
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return s.exitErr
}

// api does an authorised request and decodes a JSON answer into out.
func (s *server) api(method, path string, body io.Reader, out any) (int, http.Header, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.httpURL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: bad JSON %q: %v", method, path, b, err)
		}
	}
	return res.StatusCode, res.Header, b
}

// recordingJSON is the subset of the converged-recording JSON tests read.
type recordingJSON struct {
	ID              string    `json:"id"`
	Topic           string    `json:"topic"`
	Status          string    `json:"status"`
	Format          string    `json:"format"`
	DurationSeconds float64   `json:"durationSeconds"`
	SizeBytes       int64     `json:"sizeBytes"`
	OwnerType       string    `json:"ownerType"`
	OwnerID         string    `json:"ownerId"`
	TimeRecorded    time.Time `json:"timeRecorded"`
	Links           struct {
		Audio string `json:"audioDownloadLink"`
	} `json:"temporaryDirectDownloadLinks"`
	Callrec struct {
		StartTime      time.Time `json:"startTime"`
		Partial        bool      `json:"partial"`
		EndReason      string    `json:"endReason"`
		SipCallID      string    `json:"sipCallId"`
		SHA256         string    `json:"sha256"`
		SampleRate     int       `json:"sampleRate"`
		ChannelCount   int       `json:"channelCount"`
		PauseIntervals []struct {
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
		} `json:"pauseIntervals"`
		Streams []struct {
			Label   string `json:"label"`
			Codec   string `json:"codec"`
			Channel int    `json:"channel"`
			Stats   struct {
				Received       uint64 `json:"received"`
				Lost           uint64 `json:"lost"`
				Duplicated     uint64 `json:"duplicated"`
				Late           uint64 `json:"late"`
				Dropped        uint64 `json:"dropped"`
				Gaps           uint64 `json:"gaps"`
				GapMS          int64  `json:"gapMs"`
				SSRCChanges    uint64 `json:"ssrcChanges"`
				TimestampJumps uint64 `json:"timestampJumps"`
			} `json:"stats"`
		} `json:"streams"`
		DTMF []struct {
			Digit    string `json:"digit"`
			OffsetMS int64  `json:"offsetMs"`
		} `json:"dtmf"`
	} `json:"callrec"`
}

// recordingByCallID waits until the recording of a SIP Call-ID is
// available (finalised) and returns its details.
func (s *server) recordingByCallID(callID string) recordingJSON {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var list struct {
			Items []recordingJSON `json:"items"`
		}
		code, _, body := s.api("GET", "/v1/admin/convergedRecordings?max=100", nil, &list)
		if code != 200 {
			s.t.Fatalf("list recordings: %d %s", code, body)
		}
		for _, r := range list.Items {
			if r.Callrec.SipCallID == callID {
				var full recordingJSON
				if code, _, body := s.api("GET", "/v1/convergedRecordings/"+r.ID, nil, &full); code != 200 {
					s.t.Fatalf("get recording: %d %s", code, body)
				}
				return full
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("no recording for Call-ID %s", callID)
	return recordingJSON{}
}

// download fetches a recording's audio through its signed link and reads it.
func (s *server) download(r recordingJSON) (wav.Info, [][]int16) {
	s.t.Helper()
	if r.Links.Audio == "" {
		s.t.Fatalf("recording %s has no download link", r.ID)
	}
	res, err := http.Get(r.Links.Audio)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		s.t.Fatalf("download: %d %s", res.StatusCode, b)
	}
	path := filepath.Join(s.t.TempDir(), r.ID+".wav")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		s.t.Fatal(err)
	}
	info, chans, err := wav.ReadFile(path)
	if err != nil {
		s.t.Fatalf("downloaded file is not a WAV: %v", err)
	}
	return info, chans
}

// runCmd runs a command with a timeout and returns its combined output.
func runCmd(t *testing.T, timeout time.Duration, dir, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
