package e2e

// SIPp as the peer of a PSTN trunk (issue 5 point 7: "sipp for trunks"):
// the scenarios testdata/sipp/trunk-*.xml send plain INVITEs to a
// person's DID from the trunk's address and port, so callrec takes them
// for inbound PSTN calls; baresip is the person's phone.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/media/tone"
)

// sippRun is one SIPp run as a SIP peer of the call plane (not of the
// recorder): its output, its exit error and its message trace.
type sippRun struct {
	out    string
	err    error
	msgLog string // -trace_msg: every message sent and received
}

// sippPeer runs one call of scenario from 127.0.0.1:sipPort (media from
// mediaPort) to target (callrec's --sip), [service] (the Request-URI's
// user) being service, with -trace_msg; extra are more SIPp options
// (e.g. -au/-ap for digest authentication). SIPp works in dir, where
// sippDir put tone.pcmu.
func sippPeer(t *testing.T, dir, scenario, target, service, callID string, sipPort, mediaPort int, extra ...string) sippRun {
	t.Helper()
	sf, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	msgLog := filepath.Join(dir, strings.TrimSuffix(scenario, ".xml")+".messages")
	args := append([]string{"-sf", sf, "-m", "1", "-t", "u1", "-s", service, "-i", "127.0.0.1",
		"-p", fmt.Sprint(sipPort), "-mi", "127.0.0.1", "-mp", fmt.Sprint(mediaPort), "-cid_str", callID,
		"-timeout", "40", "-timeout_error", "-nostdin", "-trace_msg", "-message_file", msgLog,
		"-trace_err", "-error_file", filepath.Join(dir, scenario+".err")}, extra...)
	args = append(args, target)
	out, err := runCmd(t, 60*time.Second, dir, "sipp", args...)
	b, _ := os.ReadFile(msgLog)
	return sippRun{out: out, err: err, msgLog: string(b)}
}

// traceMsg is one message of SIPp's -trace_msg log: whether SIPp sent
// or received it, and its start line.
type traceMsg struct {
	sent  bool
	start string
}

// traceHead is the line SIPp writes before each message it logs.
var traceHead = regexp.MustCompile(`(?m)^(?:UDP|TCP) message (sent|received) [^\n]*\n\s*\n([^\r\n]*)`)

// messages returns the messages of the trace in order.
func (r sippRun) messages() []traceMsg {
	var out []traceMsg
	for _, m := range traceHead.FindAllStringSubmatch(r.msgLog, -1) {
		out = append(out, traceMsg{sent: m[1] == "sent", start: strings.TrimSpace(m[2])})
	}
	return out
}

// responses returns the status codes of the responses SIPp received, in
// order.
func (r sippRun) responses() []string {
	var out []string
	for _, m := range r.messages() {
		if code, ok := strings.CutPrefix(m.start, "SIP/2.0 "); ok && !m.sent {
			out = append(out, code[:min(3, len(code))])
		}
	}
	return out
}

// requests counts the requests of method SIPp sent (sent) or received.
func (r sippRun) requests(method string, sent bool) int {
	n := 0
	for _, m := range r.messages() {
		if m.sent == sent && strings.HasPrefix(m.start, method+" ") {
			n++
		}
	}
	return n
}

// TestSIPpTrunkInboundCall: SIPp plays a PSTN trunk's peer (the trunk's
// address and port are SIPp's) calling Bob's DID. Bob records Always.
//
//   - answered: Bob's phone answers by itself; SIPp gets 200,
//     ACKs, streams its 1000 Hz tone for 4 s and hangs up. Bob heard the
//     tone; the recording has Bob's 660 Hz on channel 1 (the recorded
//     party, R19) and SIPp's tone on channel 2, nothing else (R22).
//   - cancelled: Bob's phone rings without answering; SIPp CANCELs after
//     the 180 and gets 200 and 487; Bob's phone stops ringing (its call
//     ends without being established) and no recording is made.
//   - unavailable: nobody's phone is registered for the DID; SIPp gets
//     480 and no recording is made.
func TestSIPpTrunkInboundCall(t *testing.T) {
	srv := startServer(t, serverOpts{extra: []string{"--sip-digest", "MD5"}})
	o := newPhoneOrg(t, srv, "Trunk Peer Ltd")
	bob := o.person("Bob", "1002", "bob-Secret-2", "+4535351002")
	o.record(bob, "Always", nil)
	o.person("Carol", "1003", "carol-Secret-3", "+4535351003") // no phone
	ports := portBlock(t, 4)
	o.trunk(ports)
	sipPort, mediaPort := ports, ports+2
	dir := sippDir(t)
	seen := map[string]bool{}
	parent := t

	t.Run("answered", func(t *testing.T) {
		srv.t = t
		defer func() { srv.t = parent }()
		bobPhone := startRegistered(t, "bob", withSeconds(o.phone("1002", "bob-Secret-2", toneLow), 30))
		run := sippPeer(t, dir, "trunk-inbound.xml", o.sipAddr, "+4535351002", "trunk-answered-%u@e2e", sipPort, mediaPort)
		if run.err != nil {
			t.Fatalf("sipp trunk-inbound: %v\n%s\n%s", run.err, run.out, run.msgLog)
		}
		// On the wire: answered (a phone that answers by itself may do so
		// before callrec passes its 180 on; the cancelled case below needs
		// the 180), and the BYE answered.
		got := strings.Join(run.responses(), ",")
		if !regexp.MustCompile(`^(100,)?(180,)?(183,)?200,200$`).MatchString(got) {
			t.Errorf("SIPp received responses %s, want [100,][180,][183,]200 to the INVITE and 200 to the BYE", got)
		}
		if run.requests("ACK", true) != 1 || run.requests("BYE", true) != 1 {
			t.Errorf("SIPp sent %d ACK and %d BYE, want one each", run.requests("ACK", true), run.requests("BYE", true))
		}
		if !bobPhone.established() {
			t.Fatal("Bob's phone logged no established call")
		}
		waitFor(t, 10*time.Second, "the end of Bob's call", bobPhone.callEnded)
		bobPhone.stop()

		// Bob heard SIPp's tone.
		hi, heard := bobPhone.heard()
		hl := fileDuration(int64(len(heard)), hi.Rate)
		if hl < 3*time.Second {
			t.Fatalf("Bob heard only %v", hl)
		}
		assertTone(t, "Bob heard", heard, hi.Rate, 500*time.Millisecond, hl-500*time.Millisecond, sippToneHz, toneLow)

		// The recording: Bob (recorded) on channel 1, the PSTN party on 2.
		rec := srv.newRecording(seen)
		assertRecordedWithSipp(t, srv, rec, 2, toneLow, 3*time.Second, 5*time.Second)
	})

	t.Run("cancelled while ringing", func(t *testing.T) {
		srv.t = t
		defer func() { srv.t = parent }()
		cfg := withSeconds(o.phone("1002", "bob-Secret-2", toneLow), 30)
		cfg.answer = false
		bobPhone := startRegistered(t, "bob", cfg)
		run := sippPeer(t, dir, "trunk-cancel.xml", o.sipAddr, "+4535351002", "trunk-cancel-%u@e2e", sipPort, mediaPort)
		if run.err != nil {
			t.Fatalf("sipp trunk-cancel: %v\n%s\n%s", run.err, run.out, run.msgLog)
		}
		got := strings.Join(run.responses(), ",")
		if !regexp.MustCompile(`^(100,)?180,(180,)?200,487$`).MatchString(got) {
			t.Errorf("SIPp received responses %s, want [100,]180, then 200 (CANCEL) and 487 (INVITE)", got)
		}
		if !strings.Contains(run.msgLog, "CSeq: 1 CANCEL") {
			t.Error("SIPp's trace has no CANCEL")
		}
		// The phone rang, then stopped ringing: baresip 1.0 logs a
		// cancelled incoming call as its session closed (libre reports the
		// CANCEL as ECONNRESET, "Connection reset by peer"), never
		// established.
		if !bobPhone.out.contains("Incoming call from: +4512345678") {
			t.Error("Bob's phone logged no incoming call from the PSTN number: it never rang")
		}
		waitFor(t, 10*time.Second, "the end of the ringing on Bob's phone", func() bool {
			return bobPhone.out.contains("+4512345678", "session closed")
		})
		if bobPhone.established() {
			t.Error("Bob's phone established the cancelled call")
		}
		bobPhone.stop()
		assertNoRecordingYet(t, srv, seen)
	})

	t.Run("callee unavailable", func(t *testing.T) {
		srv.t = t
		defer func() { srv.t = parent }()
		run := sippPeer(t, dir, "trunk-unavailable.xml", o.sipAddr, "+4535351003", "trunk-480-%u@e2e", sipPort, mediaPort)
		if run.err != nil {
			t.Fatalf("sipp trunk-unavailable: %v\n%s\n%s", run.err, run.out, run.msgLog)
		}
		final, err := os.ReadFile(filepath.Join(dir, "trunk.final"))
		if err != nil {
			t.Fatalf("the scenario wrote no final code: %v", err)
		}
		if got := strings.TrimSpace(string(final)); got != "480" {
			t.Errorf("final response %s, want 480 (no device registered)", got)
		}
		if !strings.Contains(run.msgLog, "SIP/2.0 480 Temporarily Unavailable") || run.requests("ACK", true) != 1 {
			t.Errorf("want a 480 ACKed once in SIPp's trace:\n%s", run.msgLog)
		}
		assertNoRecordingYet(t, srv, seen)
	})
}

// assertNoRecordingYet checks that the server holds no recording besides
// those in seen (a call that was never answered made none).
func assertNoRecordingYet(t *testing.T, srv *server, seen map[string]bool) {
	t.Helper()
	var list struct {
		Items []recordingJSON `json:"items"`
	}
	if code, _, body := srv.api("GET", "/v1/admin/convergedRecordings?max=100", nil, &list); code != 200 {
		t.Fatalf("list recordings: %d %s", code, body)
	}
	for _, r := range list.Items {
		if !seen[r.ID] {
			t.Errorf("recording %s (%s, endReason %q) of a call that was never answered", r.ID, r.Status, r.Callrec.EndReason)
		}
	}
}

// assertRecordedWithSipp is assertRecordedTones for a call with SIPp on
// channel sippCh (1 or 2) and a baresip phone on the other: stereo,
// between minLen and maxLen long, each party's tone on its channel
// (20 dB over the other's), the phone's channel as strict as
// assertRecordedOnly. SIPp's rtp_stream paces its packets less evenly
// than baresip, so a 100 ms window of its channel may hold a phase jump
// where the recorder realigned it (seen: the tone at 95 % of the energy);
// its windows need 90 %: still far from a prompt mixed in (speech at
// -15 dBFS against the tone's -10 dBFS is about a quarter of the energy),
// and no prompt tone may be there at all (R22).
func assertRecordedWithSipp(t *testing.T, srv *server, rec recordingJSON, sippCh int, phoneHz float64, minLen, maxLen time.Duration) time.Duration {
	t.Helper()
	info, chans := srv.download(rec)
	if info.Channels != 2 || len(chans) != 2 {
		t.Fatalf("recording has %d channels, want 2 (stereo)", info.Channels)
	}
	length := fileDuration(info.Frames, info.Rate)
	if length < minLen || length > maxLen {
		t.Fatalf("recording lasts %v, want %v..%v", length, minLen, maxLen)
	}
	s, p := sippCh-1, 2-sippCh
	from, to := 300*time.Millisecond, length-300*time.Millisecond
	sName, pName := fmt.Sprintf("recording channel %d (SIPp)", sippCh), fmt.Sprintf("recording channel %d (phone)", p+1)
	assertTone(t, sName, chans[s], info.Rate, from, to, sippToneHz, phoneHz)
	assertTone(t, pName, chans[p], info.Rate, from, to, phoneHz, sippToneHz)
	assertRecordedOnly(t, pName, chans[p], info.Rate, from, to, phoneHz, gapsOf(rec, p+1))
	const step = 100 * time.Millisecond
	var silent time.Duration
	for at := from; at+step <= to; at += step {
		w := window(chans[s], info.Rate, at, at+step)
		for _, f := range []float64{prompt.BeepFreq, prompt.RefusalFreq} {
			if pw := tone.Power(w, info.Rate, f); pw > 1e-4 {
				t.Errorf("%s: prompt tone %v Hz has power %.5f in %v-%v (R22)", sName, f, pw, at, at+step)
			}
		}
		rms := tone.RMS(w)
		if rms < 0.01 {
			silent += step
			continue
		}
		if share := tone.Power(w, info.Rate, sippToneHz) / 2 / (rms * rms); share < 0.9 {
			t.Errorf("%s: %v Hz holds %.0f%% of the energy in %v-%v, want >= 90%%: something else is in the channel", sName, sippToneHz, 100*share, at, at+step)
		}
	}
	if gaps := gapsOf(rec, sippCh); silent > gaps+step {
		t.Errorf("%s: %v of silent windows, the recorder reports %v of gaps: audio is missing", sName, silent, gaps)
	}
	return length
}
