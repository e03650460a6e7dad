package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec/internal/testnet"
	"github.com/callrec/callrec/media/g711"
	"github.com/callrec/callrec/media/tone"
)

// sippToneHz is the tone SIPp streams (testdata/sipp/README.md: tone.pcmu).
const sippToneHz = 1000.0

// sippDir makes a working directory with the raw PCMU tone file the
// scenarios stream with rtp_stream.
func sippDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Fatal("sipp is not installed: run scripts/install-test-deps.sh (Debian package sip-tester)")
	}
	dir := t.TempDir()
	pcm := make([]int16, 8000*2)
	phase := 0.0
	tone.Sine(pcm, 8000, sippToneHz, 0.3, &phase)
	ulaw := make([]byte, len(pcm))
	g711.EncodeUlaw(ulaw, pcm)
	alaw := make([]byte, len(pcm))
	g711.EncodeAlaw(alaw, pcm)
	for name, b := range map[string][]byte{"tone.pcmu": ulaw, "tone.pcma": alaw} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runSipp plays one scenario against srv and returns SIPp's output.
func runSipp(t *testing.T, srv *server, dir, scenario, transport, callID string, mediaPort int) (string, error) {
	t.Helper()
	sf, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-sf", sf, "-m", "1", "-t", transport, "-s", "srs", "-i", "127.0.0.1",
		"-p", fmt.Sprint(testnet.FreePort(t)), "-mp", fmt.Sprint(mediaPort), "-cid_str", callID,
		"-timeout", "30", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, scenario+".err"),
		srv.siprec}
	return runCmd(t, 45*time.Second, dir, "sipp", args...)
}

// TestSIPpDialects plays one SIPp SRC scenario per vendor dialect of
// siprec-interop.md §7 through the real binary and checks the recording:
// answered, the file's channel layout, the tone on the first m-line's
// channel and silence on the other, and the vendor metadata mapped.
func TestSIPpDialects(t *testing.T) {
	srv := startServer(t, serverOpts{})
	dir := sippDir(t)
	cases := []struct {
		scenario  string
		transport string
		channels  int
		labels    []string
		vendor    map[string]string // expected callrec.vendor fields
	}{
		{"rfc7866.xml", "t1", 2, []string{"1", "2"}, nil},
		{"broadworks.xml", "u1", 1, []string{"1"}, map[string]string{"vendor": "broadworks", "userId": "qz7prt2mvw@51230077.int10.bcld.webex.com"}},
		{"cisco.xml", "t1", 2, []string{"1", "2"}, map[string]string{"vendor": "cisco", "ciscoGuid": "2769171840-1183646191-2159907137-3735416112"}},
		{"avaya.xml", "t1", 2, []string{"201835599", "201835600"}, map[string]string{"vendor": "avaya", "ucid": "00FA08001E61D9C4F3A812"}},
		{"oracle.xml", "u1", 2, []string{"16777227", "16777228"}, nil},
		{"metaswitch.xml", "t1", 1, []string{"1"}, map[string]string{"vendor": "metaswitch", "recordedParty": "+441632960123"}},
		{"sonus.xml", "t1", 2, []string{"1", "2"}, map[string]string{"vendor": "sonus"}},
		{"opensips.xml", "u1", 2, []string{"0", "1"}, nil},
	}
	for i, c := range cases {
		t.Run(strings.TrimSuffix(c.scenario, ".xml"), func(t *testing.T) {
			callID := fmt.Sprintf("sipp-%s-%%u@e2e", strings.TrimSuffix(c.scenario, ".xml"))
			out, err := runSipp(t, srv, dir, c.scenario, c.transport, callID, 6000+20*i)
			if err != nil {
				t.Fatalf("sipp %s failed: %v\n%s", c.scenario, err, out)
			}
			r := srv.recordingByCallID(strings.Replace(callID, "%u", "1", 1))
			if r.Callrec.Partial || r.Callrec.EndReason != "bye" {
				t.Errorf("partial=%v endReason=%q", r.Callrec.Partial, r.Callrec.EndReason)
			}
			var labels []string
			first := 0
			for _, s := range r.Callrec.Streams {
				labels = append(labels, s.Label)
				if s.Label == c.labels[0] {
					first = s.Channel
				}
			}
			if strings.Join(labels, ",") != strings.Join(c.labels, ",") {
				t.Errorf("labels %v, want %v", labels, c.labels)
			}
			info, ch := srv.download(r)
			if info.Channels != c.channels {
				t.Fatalf("%d channels, want %d", info.Channels, c.channels)
			}
			d := fileDuration(info.Frames, info.Rate)
			if d < 2900*time.Millisecond || d > 3600*time.Millisecond {
				t.Errorf("file lasts %v; the scenario streams for 3 s", d)
			}
			if first < 1 || first > c.channels {
				t.Fatalf("first m-line's stream is on channel %d", first)
			}
			assertTone(t, "first m-line's channel", ch[first-1], info.Rate, 500*time.Millisecond, 2500*time.Millisecond, sippToneHz, 440)
			if c.channels == 2 {
				assertSilent(t, "second m-line's channel (SIPp streams one m-line)", ch[2-first], info.Rate, 0, d)
			}
			if len(c.vendor) > 0 {
				var md map[string]any
				srv.api("GET", "/v1/convergedRecordings/"+r.ID+"/metadata", nil, &md)
				cr, _ := md["callrec"].(map[string]any)
				vendor, _ := cr["vendor"].(map[string]any)
				for k, want := range c.vendor {
					if vendor[k] != want {
						t.Errorf("vendor %s = %v, want %q (vendor data %v)", k, vendor[k], want, vendor)
					}
				}
			}
		})
	}
}

// TestSIPpPauseResume: SIPp keeps streaming through an a=inactive pause;
// the recorder drops that media, so the pause interval is silent.
func TestSIPpPauseResume(t *testing.T) {
	for _, sc := range []string{"pause-resume.xml", "broadworks-hold.xml"} {
		t.Run(strings.TrimSuffix(sc, ".xml"), func(t *testing.T) {
			srv := startServer(t, serverOpts{})
			dir := sippDir(t)
			callID := "sipp-pause-%u@e2e"
			if out, err := runSipp(t, srv, dir, sc, "t1", callID, 6400); err != nil {
				t.Fatalf("sipp: %v\n%s", err, out)
			}
			r := srv.recordingByCallID("sipp-pause-1@e2e")
			if len(r.Callrec.PauseIntervals) != 1 {
				t.Fatalf("pauseIntervals %+v, want one", r.Callrec.PauseIntervals)
			}
			p := r.Callrec.PauseIntervals[0]
			from, to := p.Start.Sub(r.Callrec.StartTime), p.End.Sub(r.Callrec.StartTime)
			info, ch := srv.download(r)
			ci := r.Callrec.Streams[0].Channel - 1
			assertTone(t, "before the pause", ch[ci], info.Rate, 300*time.Millisecond, from-100*time.Millisecond, sippToneHz)
			assertSilent(t, "while paused", ch[ci], info.Rate, from+30*time.Millisecond, to-30*time.Millisecond)
			assertTone(t, "after the resume", ch[ci], info.Rate, to+100*time.Millisecond, to+600*time.Millisecond, sippToneHz)
			if r.Callrec.Streams[0].Stats.Dropped == 0 {
				t.Errorf("media sent while paused was not counted as dropped")
			}
		})
	}
}

// TestSIPpNotSIPREC: a plain INVITE is refused with 488.
func TestSIPpRefusals(t *testing.T) {
	srv := startServer(t, serverOpts{})
	dir := sippDir(t)
	out, err := runSipp(t, srv, dir, "not-siprec.xml", "u1", "sipp-plain-%u@e2e", 6600)
	if err != nil {
		t.Fatalf("sipp not-siprec: %v\n%s", err, out)
	}
	var list struct {
		Items []recordingJSON `json:"items"`
	}
	srv.api("GET", "/v1/admin/convergedRecordings", nil, &list)
	if len(list.Items) != 0 {
		t.Errorf("a plain INVITE made a recording: %+v", list.Items)
	}
}

// TestSIPpCancel: an Avaya-style SRC cancels before the answer. Whichever
// way the race went, the recorder's end state matches it: a cancelled
// session leaves a recording record with endReason cancel (never a silent
// loss), an answered one ends with the BYE.
func TestSIPpCancel(t *testing.T) {
	srv := startServer(t, serverOpts{})
	dir := sippDir(t)
	if out, err := runSipp(t, srv, dir, "cancel.xml", "t1", "sipp-cancel-%u@e2e", 6700); err != nil {
		t.Fatalf("sipp cancel: %v\n%s", err, out)
	}
	outcome, err := os.ReadFile(filepath.Join(dir, "cancel.outcome"))
	if err != nil {
		t.Fatalf("scenario wrote no outcome: %v", err)
	}
	r := srv.recordingByCallID("sipp-cancel-1@e2e")
	want := map[string]string{"cancelled": "cancel", "answered": "bye"}[strings.TrimSpace(string(outcome))]
	if want == "" || r.Callrec.EndReason != want {
		t.Errorf("outcome %q, recording endReason %q", outcome, r.Callrec.EndReason)
	}
}

// TestSIPpMidCallChanges: an UPDATE with partial metadata and a re-INVITE
// that switches the first stream to PCMA and adds a third stream are
// merged into the recording; the first channel's tone continues across
// the codec change.
func TestSIPpMidCallChanges(t *testing.T) {
	srv := startServer(t, serverOpts{})
	dir := sippDir(t)
	if out, err := runSipp(t, srv, dir, "update-codec-stream.xml", "t1", "sipp-update-%u@e2e", 6800); err != nil {
		t.Fatalf("sipp: %v\n%s", err, out)
	}
	r := srv.recordingByCallID("sipp-update-1@e2e")
	if len(r.Callrec.Streams) != 3 {
		t.Fatalf("streams %+v, want 3", r.Callrec.Streams)
	}
	if c := r.Callrec.Streams[0].Codec; c != "PCMA/8000" {
		t.Errorf("stream 1 codec %q after the re-INVITE, want PCMA/8000", c)
	}
	if s := r.Callrec.Streams[2]; s.Label != "3" || s.Channel != 2 {
		t.Errorf("added stream %+v, want label 3 on channel 2 (sent by the supervisor)", s)
	}
	var md map[string]any
	srv.api("GET", "/v1/convergedRecordings/"+r.ID+"/metadata", nil, &md)
	cr, _ := md["callrec"].(map[string]any)
	raw, _ := cr["rawMetadata"].([]any)
	if len(raw) != 3 {
		t.Errorf("%d metadata bodies kept, want 3 (INVITE, UPDATE, re-INVITE)", len(raw))
	}
	all := toJSON(md)
	for _, want := range []string{"Supervisor", `"kind":"codec"`, `"kind":"stream-added"`, `"kind":"update"`} {
		if !strings.Contains(all, want) {
			t.Errorf("metadata lacks %s", want)
		}
	}
	info, ch := srv.download(r)
	d := fileDuration(info.Frames, info.Rate)
	assertTone(t, "PCMU before the change", ch[0], info.Rate, 300*time.Millisecond, 1300*time.Millisecond, sippToneHz)
	assertTone(t, "PCMA after the change", ch[0], info.Rate, d-1200*time.Millisecond, d-200*time.Millisecond, sippToneHz)
}
