package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSIPpPhoneInfoDTMF: SIPp plays Alice's desk phone, which sends its
// keys as SIP INFO (Cisco application/dtmf-relay) rather than RFC 4733
// events (testdata/sipp/phone-info-dtmf.xml). Alice records On Demand
// (R25). Her phone registers with digest MD5 (phone-register.xml), calls Bob's baresip phone
// (answering by itself), sends *44 as three INFOs, 3 s later *45, then a
// lone 5. Shown: every request got its answer (SIPp's exit status and
// trace); the recording starts at *44 and stops at *45 (it lasts the 3 s
// between the codes, started then stopped on the event stream), with
// Alice's 1000 Hz on channel 1 and Bob's 660 Hz on channel 2 and nothing
// else (R22); Bob's phone never receives a digit of the codes (R35) but
// does receive the 5 as INFO.
func TestSIPpPhoneInfoDTMF(t *testing.T) {
	srv := startServer(t, serverOpts{extra: []string{"--sip-digest", "MD5"}})
	o := newPhoneOrg(t, srv, "Desk Phones Ltd")
	alice := o.person("Alice", "1001", "alice-Secret-1")
	o.person("Bob", "1002", "bob-Secret-2")
	o.record(alice, modeOnDemand, nil)
	es := o.subscribe(t)

	bob := startRegistered(t, "bob", withSeconds(o.phone("1002", "bob-Secret-2", toneLow), 40))
	dir := sippDir(t)
	ports := portBlock(t, 4)
	creds := []string{"-set", "user", "1001", "-au", "1001", "-ap", "alice-Secret-1"}
	reg := sippPeer(t, dir, "phone-register.xml", o.sipAddr, "1001", "info-reg-%u@e2e", ports, ports+2, creds...)
	if reg.err != nil {
		t.Fatalf("sipp phone-register: %v\n%s\n%s", reg.err, reg.out, reg.msgLog)
	}
	if got := strings.Join(reg.responses(), ","); got != "401,200" {
		t.Errorf("SIPp's REGISTER got %s, want 401 then 200", got)
	}
	run := sippPeer(t, dir, "phone-info-dtmf.xml", o.sipAddr, "1002", "info-dtmf-%u@e2e", ports, ports+2,
		append(creds, "-auth_uri", "1002@"+o.sipAddr)...)
	if run.err != nil {
		t.Fatalf("sipp phone-info-dtmf: %v\n%s\n%s", run.err, run.out, run.msgLog)
	}
	// On the wire: the challenge answered, seven INFOs each with 200.
	if got := strings.Join(run.responses(), ","); !regexp.MustCompile(`^407,(100,)?(180,)?(183,)?200(,200){8}$`).MatchString(got) {
		t.Errorf("SIPp received responses %s, want 407, then 200 for the INVITE, the seven INFOs and the BYE", got)
	}
	if n := run.requests("INFO", true); n != 7 {
		t.Errorf("SIPp sent %d INFOs, want 7", n)
	}
	// R34: the device is told of the start and the stop (callrec's own
	// INFOs with Call-Info state=started and state=stopped).
	if n := run.requests("INFO", false); n != 2 || !strings.Contains(run.msgLog, "state=started") || !strings.Contains(run.msgLog, "state=stopped") {
		t.Errorf("SIPp received %d INFOs, want 2: the recording's started and stopped states", n)
	}
	if !bob.established() {
		t.Fatal("Bob's phone logged no established call")
	}
	waitFor(t, 10*time.Second, "the end of Bob's call", bob.callEnded)
	bob.stop()

	// Bob's phone: the 5 arrived as INFO; no digit of either code did,
	// neither as INFO nor as an RFC 4733 event.
	if !bob.out.contains("received DTMF: '5'") {
		t.Error("Bob's phone did not receive the lone 5 (INFO relayed by callrec)")
	}
	for _, d := range []string{"*", "4"} {
		if bob.out.contains("received DTMF: '" + d + "'") {
			t.Errorf("Bob's phone received the INFO digit %s of an access code (R35: swallowed)", d)
		}
	}
	if bob.receivedDigits() {
		t.Error("Bob's phone received RFC 4733 events: nobody sent any")
	}
	if n := strings.Count(strings.Join(bob.out.all(), "\n"), "received DTMF:"); n != 1 {
		t.Errorf("Bob's phone received %d INFO digits, want only the 5", n)
	}

	// The recording: the span between *44 and *45 (3 s of SIPp's pause).
	es.await(t, 2, "stopped")
	if got := strings.Join(es.states(), ","); got != "started,stopped" {
		t.Errorf("events %s, want started,stopped", got)
	}
	assertSameCall(t, es.all(), alice)
	rec := srv.newRecording(map[string]bool{})
	if rec.OwnerID != alice {
		t.Errorf("recording owner %q, want Alice %q", rec.OwnerID, alice)
	}
	length := assertRecordedWithSipp(t, srv, rec, 1, toneLow, 2500*time.Millisecond, 3600*time.Millisecond)
	t.Logf("recording lasts %v for the 3 s between the codes", length)
	if len(rec.Callrec.DTMF) != 0 {
		t.Errorf("the recording has DTMF %v: the codes reached the recorder", rec.Callrec.DTMF)
	}
}
