package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callrec/callrec/srcclient"
)

// waitFor polls cond every 20 ms until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// spoolFrames reads how many frames the open spool file has flushed.
func spoolBytes(t *testing.T, dataDir string) int64 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dataDir, "spool", "*.wav"))
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// TestCrashRecovery kills the server mid-call; the next start repairs the
// file and keeps the recording, partial, with endReason crash-recovered,
// having lost at most the last second.
func TestCrashRecovery(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, serverOpts{dataDir: dataDir})
	cl := newClient(t, srv, "tcp", ports())
	type out struct {
		res *srcclient.Result
		err error
	}
	done := make(chan out, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		res, err := cl.Call(ctx, srcclient.CallSpec{Duration: 8 * time.Second})
		done <- out{res, err}
	}()
	// Wait until more than 2 s of stereo 8 kHz audio (32000 B/s) is on disk.
	waitFor(t, 10*time.Second, "audio flushed to the spool", func() bool { return spoolBytes(t, dataDir) > 2*32000+44 })
	killedAt := time.Now()
	if err := srv.stop(syscall.SIGKILL); err == nil {
		t.Fatal("server exited cleanly after SIGKILL?")
	}
	cancel()
	<-done

	srv2 := startServer(t, serverOpts{dataDir: dataDir})
	if !srv2.logs.contains("recovered recording after crash") {
		t.Errorf("no recovery log line")
	}
	var list struct {
		Items []recordingJSON `json:"items"`
	}
	if code, _, body := srv2.api("GET", "/v1/admin/convergedRecordings", nil, &list); code != 200 || len(list.Items) != 1 {
		t.Fatalf("list: %d %s", code, body)
	}
	var r recordingJSON
	srv2.api("GET", "/v1/convergedRecordings/"+list.Items[0].ID, nil, &r)
	if !r.Callrec.Partial || r.Callrec.EndReason != "crash-recovered" || r.Status != "available" {
		t.Errorf("recovered recording: partial=%v endReason=%q status=%q", r.Callrec.Partial, r.Callrec.EndReason, r.Status)
	}
	info, ch := srv2.download(r)
	got := fileDuration(info.Frames, info.Rate)
	lived := killedAt.Sub(r.Callrec.StartTime)
	if got > lived || got < lived-1500*time.Millisecond {
		t.Errorf("recovered %v of audio; the call ran %v before the crash (may lose at most ~1 s)", got, lived)
	}
	assertTone(t, "recovered channel 1", ch[0], info.Rate, 500*time.Millisecond, got-100*time.Millisecond, 400, 1000)
}

// TestSIGTERMFinalisesOpenRecordings: shutdown cuts active calls with a
// BYE after the drain timeout and finalises their files (endReason
// shutdown, not partial); the process exits 0.
func TestSIGTERMFinalisesOpenRecordings(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, serverOpts{dataDir: dataDir, extra: []string{"--drain-timeout", "1s"}})
	cl := newClient(t, srv, "tcp", ports())
	done := make(chan *srcclient.Result, 1)
	go func() {
		res, err := cl.Call(context.Background(), srcclient.CallSpec{Duration: 20 * time.Second})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	waitFor(t, 10*time.Second, "audio flushed to the spool", func() bool { return spoolBytes(t, dataDir) > 32000+44 })
	if err := srv.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	res := <-done
	if res == nil || !res.RemoteBye {
		t.Fatalf("the SRC did not get a BYE: %+v", res)
	}
	if !srv.logs.contains("shutting down") || !srv.logs.contains("callrec stopped") {
		t.Error("shutdown not logged")
	}
	srv2 := startServer(t, serverOpts{dataDir: dataDir})
	r := srv2.recordingByCallID(res.CallID)
	if r.Callrec.Partial || r.Callrec.EndReason != "shutdown" {
		t.Errorf("partial=%v endReason=%q, want a complete recording ended by shutdown", r.Callrec.Partial, r.Callrec.EndReason)
	}
	info, _ := srv2.download(r)
	assertDuration(t, fileDuration(info.Frames, info.Rate), span(t, res))
}

// TestMediaTimeout ends a session whose streams bring no RTP.
func TestMediaTimeout(t *testing.T) {
	srv := startServer(t, serverOpts{extra: []string{"--media-timeout", "2s"}})
	cl := newClient(t, srv, "tcp", ports())
	res := call(t, cl, srcclient.CallSpec{Duration: 15 * time.Second, Streams: []srcclient.StreamSpec{
		{Label: "1", Silent: true}, {Label: "2", Silent: true},
	}})
	if !res.RemoteBye {
		t.Fatalf("the recorder did not end the silent session: %+v", res)
	}
	if res.Duration > 6*time.Second {
		t.Errorf("session lasted %v with a 2 s media timeout", res.Duration)
	}
	r := srv.recordingByCallID(res.CallID)
	if r.Callrec.EndReason != "media-timeout" {
		t.Errorf("endReason %q, want media-timeout", r.Callrec.EndReason)
	}
}

// TestSourceNotAllowed: SRCs outside --siprec-allow get 403 and a log line.
func TestSourceNotAllowed(t *testing.T) {
	srv := startServer(t, serverOpts{extra: []string{"--siprec-allow", "192.0.2.0/24"}})
	cl := newClient(t, srv, "tcp", ports())
	res := call(t, cl, srcclient.CallSpec{Duration: time.Second})
	if res.Status != 403 {
		t.Fatalf("status %d %s, want 403", res.Status, res.Reason)
	}
	waitFor(t, 5*time.Second, "the refusal log line", func() bool {
		return srv.logs.contains("source not in --siprec-allow", "127.0.0.1")
	})
}

// TestHealthAndMetrics: OPTIONS answers 200 with Supported: siprec;
// /healthz, /readyz and /metrics answer.
func TestHealthAndMetrics(t *testing.T) {
	srv := startServer(t, serverOpts{})
	conn, err := net.Dial("udp", srv.siprec)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	options := "OPTIONS sip:srs@" + srv.siprec + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-e2e-options\r\n" +
		"From: <sip:probe@" + local + ">;tag=e2e\r\nTo: <sip:srs@" + srv.siprec + ">\r\n" +
		"Call-ID: e2e-options@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(options)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no answer to OPTIONS: %v", err)
	}
	if ans := string(buf[:n]); !strings.HasPrefix(ans, "SIP/2.0 200") || !strings.Contains(ans, "siprec") {
		t.Errorf("OPTIONS answer:\n%s", ans)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		res, err := http.Get(srv.httpURL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	cl := newClient(t, srv, "tcp", ports())
	call(t, cl, srcclient.CallSpec{Duration: time.Second})
	res, err := http.Get(srv.httpURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b := new(strings.Builder)
	if _, err := io.Copy(b, res.Body); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`callrec_siprec_sessions_started_total 1`, `callrec_rtp_packets_total{outcome="received"}`, `callrec_siprec_sessions_active`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestInvalidConfigurationRefused: a bad value stops the start with one
// line naming the setting, and exit code 1.
func TestInvalidConfigurationRefused(t *testing.T) {
	out, err := runCmd(t, 20*time.Second, "", binary, "serve", "--data-dir", t.TempDir(), "--rtp-ports", "40000-30000")
	if err == nil {
		t.Fatal("serve started with an inverted port range")
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `invalid --rtp-ports "40000-30000"`) {
		t.Errorf("output %q, want one line naming --rtp-ports", out)
	}
	cmd := exec.Command(binary, "serve", "--data-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "CALLREC_MEDIA_TIMEOUT=soon")
	b, err := cmd.CombinedOutput()
	if err == nil || strings.TrimSpace(string(b)) != `callrec: invalid --media-timeout "soon" (from environment CALLREC_MEDIA_TIMEOUT): want a duration such as 60s or 2m` {
		t.Errorf("env error: %q %v", b, err)
	}
}

// TestVersionAndMigrate: the other two commands of interfaces.md.
func TestVersionAndMigrate(t *testing.T) {
	out, err := runCmd(t, 10*time.Second, "", binary, "version")
	if err != nil || !strings.HasPrefix(out, "callrec ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: %q %v", out, err)
	}
	dir := t.TempDir()
	out, err = runCmd(t, 20*time.Second, "", binary, "migrate", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "at version 2 (2 migrations applied now)") {
		t.Errorf("first migrate: %q %v", out, err)
	}
	out, err = runCmd(t, 20*time.Second, "", binary, "migrate", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "(0 migrations applied now)") {
		t.Errorf("second migrate: %q %v", out, err)
	}
}

// TestGeneratedAdminToken: without CALLREC_ADMIN_TOKEN the first start
// writes a generated token to <data-dir>/admin-token (mode 0600) and logs
// the path, never the token; the token works and a wrong one gets 401.
func TestGeneratedAdminToken(t *testing.T) {
	srv := startServer(t, serverOpts{env: []string{"CALLREC_ADMIN_TOKEN="}})
	path := filepath.Join(srv.dataDir, "admin-token")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no token file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	token := strings.TrimSpace(string(b))
	if len(token) < 32 {
		t.Fatalf("token %q too short", token)
	}
	if !srv.logs.contains("created the first partner admin", path) {
		t.Error("the token file's path is not logged")
	}
	if srv.logs.contains(token) {
		t.Error("the token itself was logged")
	}
	if code, _, body := srv.api("GET", "/v1/admin/convergedRecordings", nil, nil); code != 401 {
		t.Errorf("the env token of the harness must not work here: %d %s", code, body)
	}
	srv.token = token
	if code, _, body := srv.api("GET", "/v1/admin/convergedRecordings", nil, nil); code != 200 {
		t.Errorf("generated token refused: %d %s", code, body)
	}
}
