package e2e

// Reusable peers for call plane tests: an org with people and phones
// (phoneOrg), a PSTN trunk peer played by baresip, DTMF from a phone
// through baresip's ctrl_tcp, and the server-sent event stream of
// recording states (R34).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// trunkPeerAccount is the baresip account of a PSTN party behind a
// trunk: it does not register (regint=0) and answers by itself. Its user
// part is the party's number: baresip 1.0 answers an INVITE only when
// the Request-URI's user is one of its accounts' (else 404 "UA not
// found"), and callrec sends the dialled number as that user.
func trunkPeerAccount(number string) string {
	return fmt.Sprintf("<sip:%s@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU", number)
}

// phoneOrg is an org of the server with recording enabled on the
// built-in provider (terms accepted), one location, and helpers to add
// people, phones and trunks. Its API calls fail the test it was made in.
type phoneOrg struct {
	t        *testing.T
	srv      *server
	api      caller
	id       string
	q        string // "?orgId=..."
	location string
	sipAddr  string // callrec's --sip
}

// newPhoneOrg makes an org of its own: the call plane's SIPREC sessions
// reach the built-in recorder from 127.0.0.1, which --siprec-allow gives
// to the default org; the call plane's signed org claim must win.
func newPhoneOrg(t *testing.T, srv *server, name string) *phoneOrg {
	t.Helper()
	o := &phoneOrg{t: t, srv: srv, api: caller{t, srv, srv.token, "partner"}, sipAddr: sipListen(t, srv)}
	org := o.api.do("POST", "/v1/organizations", map[string]any{"displayName": name}, 200)
	o.id = str(org, "id")
	o.q = "?orgId=" + url.QueryEscape(o.id)
	loc := o.api.do("POST", "/v1/locations"+o.q, map[string]any{"name": "HQ", "timeZone": "Europe/Copenhagen", "announcementLanguage": "en_US"}, 200)
	o.location = str(loc, "id")
	o.api.do("PUT", "/v1/telephony/config/callRecording"+o.q, map[string]any{"enabled": true}, 204)
	vendors := o.api.do("GET", "/v1/telephony/config/callRecording/vendors"+o.q, nil, 200)
	o.acceptTerms(str(vendors, "vendorId"))
	return o
}

// startPhoneOrg starts a server whose --sip asks phones for MD5 digest
// credentials (baresip 1.0 fails digest auth when SHA-256 is offered) and
// makes the phone org name on it.
func startPhoneOrg(t *testing.T, name string) (*server, *phoneOrg) {
	t.Helper()
	srv := startServer(t, serverOpts{extra: []string{"--sip-digest", "MD5"}})
	return srv, newPhoneOrg(t, srv, name)
}

// reportTo makes the org, its API caller, its server and the callers
// given fail and log through t (a subtest) until the returned func points
// them back at the test that made the org.
func (o *phoneOrg) reportTo(t *testing.T, callers ...*caller) (restore func()) {
	parent := o.t
	o.t, o.api.t, o.srv.t = t, t, t
	for _, c := range callers {
		c.t = t
	}
	return func() {
		o.t, o.api.t, o.srv.t = parent, parent, parent
		for _, c := range callers {
			c.t = parent
		}
	}
}

// do calls the API for the org (its orgId appended to path).
func (o *phoneOrg) do(method, path string, body any, want int) map[string]any {
	o.t.Helper()
	sep := o.q
	if strings.Contains(path, "?") {
		sep = "&" + o.q[1:]
	}
	return o.api.do(method, path+sep, body, want)
}

// acceptTerms accepts a vendor's terms of service for the org (R13).
func (o *phoneOrg) acceptTerms(vendorID string) {
	o.t.Helper()
	o.do("PUT", "/v1/telephony/config/callRecording/vendors/"+vendorID+"/termsOfService", map[string]any{"termsOfServiceEnabled": true}, 204)
}

// person adds a person at the org's location with SIP credentials
// user=ext (and the PSTN numbers given) and returns its id.
func (o *phoneOrg) person(first, ext, pass string, numbers ...string) string {
	o.t.Helper()
	body := map[string]any{"emails": []string{strings.ToLower(first) + "@callrec.example"}, "firstName": first,
		"lastName": "Test", "locationId": o.location, "licenseType": "PROFESSIONAL_USER", "extension": ext,
		"sipCredentials": map[string]any{"username": ext, "password": pass}}
	var nums []map[string]string
	for _, n := range numbers {
		nums = append(nums, map[string]string{"type": "work", "value": n})
	}
	if len(nums) > 0 {
		body["phoneNumbers"] = nums
	}
	return str(o.do("POST", "/v1/people", body, 200), "id")
}

// record enables recording for a person in a mode ("Always", "Always
// with Pause/Resume", "On Demand with User Initiated Start") with extra
// settings of the Webex body merged in.
func (o *phoneOrg) record(personID, mode string, extra map[string]any) {
	o.t.Helper()
	body := map[string]any{"enabled": true, "record": mode}
	for k, v := range extra {
		body[k] = v
	}
	o.do("PUT", "/v1/people/"+personID+"/features/callRecording", body, 204)
}

// trunk adds a UDP trunk whose peer is 127.0.0.1:port (a trunk peer
// phone started with phoneConfig.base = port) and returns its id.
func (o *phoneOrg) trunk(port int) string {
	o.t.Helper()
	tr := o.do("POST", "/v1/telephony/config/premisePstn/trunks", map[string]any{"name": fmt.Sprintf("SBC %d", port), "locationId": o.location,
		"address": "127.0.0.1", "port": port, "transport": "UDP"}, 200)
	return str(tr, "id")
}

// phone is the phoneConfig of a person's device registering to callrec
// and answering by itself.
func (o *phoneOrg) phone(ext, pass string, hz float64) phoneConfig {
	return phoneConfig{user: ext, password: pass, registrar: o.sipAddr, toneHz: hz, answer: true}
}

// startRegistered starts a phone and waits for its registration.
func startRegistered(t *testing.T, name string, c phoneConfig) *phone {
	t.Helper()
	p := startPhone(t, name, c)
	waitFor(t, 10*time.Second, name+"'s registration", func() bool { return registered(p) })
	return p
}

// trunkPeer is a PSTN party behind a trunk: a baresip that does not
// register, whose SIP port is the trunk's (so callrec knows it by its
// source address), with number as its user.
func trunkPeer(t *testing.T, name, number string, port int, hz float64, dial string, seconds int) *phone {
	t.Helper()
	return startPhone(t, name, phoneConfig{user: number, toneHz: hz, answer: true, dial: dial, seconds: seconds, base: port, noRegister: true})
}

// sendDigits makes the phone send code as RFC 4733 telephone-events in
// its current call (baresip's sndcode command).
func (p *phone) sendDigits(code string) {
	p.t.Helper()
	p.command("sndcode", code)
}

// transfer makes the phone transfer its current call blindly to uri
// (baresip 1.0 menu's transfer command: a REFER, RFC 3515).
func (p *phone) transfer(uri string) {
	p.t.Helper()
	p.command("transfer", uri)
}

// command runs one of baresip's menu commands with params through its
// ctrl_tcp socket, whose messages are netstrings of JSON, and fails the
// test when baresip refuses it.
func (p *phone) command(name, params string) {
	p.t.Helper()
	conn, err := net.DialTimeout("tcp", p.ctrl, 5*time.Second)
	if err != nil {
		p.t.Fatalf("%s: ctrl_tcp: %v", p.name, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	body, _ := json.Marshal(map[string]string{"command": name, "params": params, "token": "e2e"})
	if _, err := fmt.Fprintf(conn, "%d:%s,", len(body), body); err != nil {
		p.t.Fatalf("%s: ctrl_tcp: %v", p.name, err)
	}
	r := bufio.NewReader(conn)
	for {
		msg, err := readNetstring(r)
		if err != nil {
			p.t.Fatalf("%s: ctrl_tcp answer to %s %s: %v", p.name, name, params, err)
		}
		var m struct {
			Response bool   `json:"response"`
			OK       bool   `json:"ok"`
			Data     string `json:"data"`
		}
		if err := json.Unmarshal(msg, &m); err != nil {
			p.t.Fatalf("%s: ctrl_tcp message %q: %v", p.name, msg, err)
		}
		if !m.Response {
			continue // an event
		}
		if !m.OK {
			p.t.Fatalf("%s: %s %s refused: %s", p.name, name, params, m.Data)
		}
		return
	}
}

// readNetstring reads one "<len>:<bytes>," netstring.
func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(head, ":"))
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("bad netstring length %q", head)
	}
	b := make([]byte, n+1)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	if b[n] != ',' {
		return nil, fmt.Errorf("netstring not ended by a comma")
	}
	return b[:n], nil
}

// receivedDigits reports whether baresip logged any received RFC 4733
// event ("received event: '4' (end=0)").
func (p *phone) receivedDigits() bool {
	return p.out.contains("received event:")
}

// established reports whether the phone logged an established call.
func (p *phone) established() bool { return p.out.contains("Call established") }

// callEnded reports whether the phone logged the end of its call.
func (p *phone) callEnded() bool { return p.out.contains("Call with", "terminated") }

// stateEvent is one recording state event as a client sees it (the data
// of a server-sent event, or of a webhook).
type stateEvent struct {
	CallID         string `json:"callId"`
	PersonID       string `json:"personId"`
	RecordingState string `json:"recordingState"`
	Reason         string `json:"reason"`
	EventType      string `json:"eventType"`
}

// eventStream is a subscription to GET /v1/telephony/calls/events.
type eventStream struct {
	mu     sync.Mutex
	events []stateEvent
	err    error
}

// subscribe opens the org's event stream and returns once the server
// said the subscription is in place (": connected"); it closes at the
// end of the test.
func (o *phoneOrg) subscribe(t *testing.T) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", o.srv.httpURL+"/v1/telephony/calls/events"+o.q, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.srv.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		t.Fatalf("event stream: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	es := &eventStream{}
	connected := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		kind, once := "", sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == ": connected":
				once.Do(func() { close(connected) })
			case strings.HasPrefix(line, "event: "):
				kind = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				var ev stateEvent
				err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev)
				es.mu.Lock()
				if err != nil || kind != "recording" {
					es.err = fmt.Errorf("event %q data %q: %v", kind, line, err)
				}
				es.events = append(es.events, ev)
				es.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-connected:
	case <-done:
		t.Fatal("event stream closed before ': connected'")
	case <-time.After(10 * time.Second):
		t.Fatal("event stream sent no ': connected'")
	}
	return es
}

// all returns the events received so far.
func (es *eventStream) all() []stateEvent {
	es.mu.Lock()
	defer es.mu.Unlock()
	return append([]stateEvent(nil), es.events...)
}

// states returns the recording states received so far, in order.
func (es *eventStream) states() []string {
	var out []string
	for _, e := range es.all() {
		out = append(out, e.RecordingState)
	}
	return out
}

// await waits until the n-th event (from 1) has arrived and returns it
// and when it was seen.
func (es *eventStream) await(t *testing.T, n int, state string) (stateEvent, time.Time) {
	t.Helper()
	waitFor(t, 20*time.Second, fmt.Sprintf("recording event %d (%s)", n, state), func() bool { return len(es.all()) >= n })
	seen := time.Now()
	ev := es.all()[n-1]
	es.mu.Lock()
	err := es.err
	es.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if ev.RecordingState != state {
		t.Fatalf("recording event %d is %q, want %q (events %v)", n, ev.RecordingState, state, es.states())
	}
	return ev, seen
}

// endTimedCall waits for p to quit by its -t timer (seconds, plus 15 s of
// setup), checks that its call was established, then waits for the other
// party's phone to see the call end and stops it (closing its files).
func (p *phone) endTimedCall(seconds int, other *phone) {
	p.t.Helper()
	p.wait(time.Duration(seconds+15) * time.Second)
	if !p.established() {
		p.t.Fatalf("%s's call was not established", p.name)
	}
	other.stopWhenEnded()
}

// hangUp ends p's call (SIGTERM: baresip sends BYE and closes its files)
// and stops other once its side has ended.
func (p *phone) hangUp(other *phone) {
	p.t.Helper()
	p.stop()
	other.stopWhenEnded()
}

// stopWhenEnded waits for p to see its call end and stops it.
func (p *phone) stopWhenEnded() {
	p.t.Helper()
	waitFor(p.t, 10*time.Second, "the end of "+p.name+"'s call", p.callEnded)
	p.stop()
}
