package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

// fakeCalls is a call plane with fixed calls; Control records what it
// was asked and answers refuse[action] for a call the person is in.
type fakeCalls struct {
	mu     sync.Mutex
	calls  []ActiveCall
	refuse map[string]error
	done   []string // "org person call action"
	down   bool
}

func (f *fakeCalls) Calls(orgID string) ([]ActiveCall, error) {
	if f.down {
		return nil, ErrNoCallPlane
	}
	var out []ActiveCall
	for _, c := range f.calls {
		if orgID == "" || c.OrgID == orgID {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeCalls) Control(_ context.Context, orgID, personID, callID, action string) error {
	if f.down {
		return ErrNoCallPlane
	}
	for _, c := range f.calls {
		if c.CallID == callID && c.PersonID == personID && c.OrgID == orgID {
			if err := f.refuse[action]; err != nil {
				return err
			}
			f.mu.Lock()
			f.done = append(f.done, strings.Join([]string{orgID, personID, callID, action}, " "))
			f.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("fake: call %q of %q: %w", callID, personID, callrec.ErrNotFound)
}

func (f *fakeCalls) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.done)
}

// ruleRefusal stands for callpath.RefusedError: a conflict whose message
// names the rule.
type ruleRefusal string

func (e ruleRefusal) Error() string { return string(e) }
func (e ruleRefusal) Unwrap() error { return callrec.ErrConflict }

var callT0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

// fixtureCalls are the live calls of a crFixture: call-1 Alice calls Bob
// (both in org A, connected, Bob recorded on demand); call-2 Bob talks to
// the PSTN (alerting); call-3 is Carol's in org B.
func fixtureCalls(f *crFixture) *fakeCalls {
	return &fakeCalls{calls: []ActiveCall{
		{CallID: "call-1@10.0.0.5", OrgID: f.orgA.ID, PersonID: f.alice.ID, Personality: "originator", State: "connected",
			Remote:  ActiveCallParty{Name: "Bob Baker", Number: "1002", PersonID: f.bob.ID, CallType: "organization"},
			Created: callT0, Answered: callT0.Add(3 * time.Second), RecordingState: "none"},
		{CallID: "call-1@10.0.0.5", OrgID: f.orgA.ID, PersonID: f.bob.ID, Personality: "terminator", State: "connected",
			Remote:  ActiveCallParty{Name: "Alice Archer", Number: "1001", PersonID: f.alice.ID, CallType: "organization"},
			Created: callT0, Answered: callT0.Add(3 * time.Second), RecordingState: "started", Controls: policy.Controls{Stop: true, Pause: true}},
		{CallID: "call-2", OrgID: f.orgA.ID, PersonID: f.bob.ID, Personality: "originator", State: "alerting",
			Remote: ActiveCallParty{Number: "+4587654321", CallType: "external"}, Created: callT0.Add(time.Minute), RecordingState: "pending"},
		{CallID: "call-3", OrgID: f.orgB.ID, PersonID: f.carol.ID, Personality: "terminator", State: "connected",
			Remote: ActiveCallParty{Number: "+4911111111", CallType: "external"}, Created: callT0, Answered: callT0, RecordingState: "none"},
	}}
}

// withCalls installs a call plane on the fixture's handler.
func withCalls(f *crFixture, plane CallPlane) {
	f.h.(*server).calls = plane
}

func decodeCalls(t *testing.T, body string) []callJSON {
	t.Helper()
	var got struct {
		Items []callJSON `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("list body %q: %v", body, err)
	}
	return got.Items
}

// TestCalls_ListIsScopedByRole: a user lists its own view of its calls,
// rendered in Webex's shape; full, read-only and partner admins list every
// person's view of every call of the org (personId narrows); location
// admins and compliance officers are refused; another org's admin gets 404.
func TestCalls_ListIsScopedByRole(t *testing.T) {
	f := newCRFixture(t)
	withCalls(f, fixtureCalls(f))
	orgA := "?orgId=" + webexID(idOrg, f.orgA.ID)

	w := f.do(crTokAlice, "GET", "/v1/telephony/calls", "")
	if w.Code != http.StatusOK {
		t.Fatalf("user list: %d %s", w.Code, w.Body)
	}
	items := decodeCalls(t, w.Body.String())
	want := callJSON{ID: "call-1@10.0.0.5", PersonID: webexID(idPerson, f.alice.ID), Personality: "originator", State: "connected",
		RemoteParty: remotePartyJSON{Name: "Bob Baker", Number: "1002", PersonID: webexID(idPerson, f.bob.ID), CallType: "organization"},
		Created:     "2025-03-04T10:00:00.000Z", Answered: "2025-03-04T10:00:03.000Z", RecordingState: "none", RecordingControls: []string{}}
	if len(items) != 1 || fmt.Sprint(items[0]) != fmt.Sprint(want) {
		t.Errorf("Alice's calls %+v, want only %+v", items, want)
	}
	if !strings.Contains(w.Body.String(), `"recordingControls":[]`) {
		t.Errorf("no controls render as an empty list: %s", w.Body)
	}

	for _, tc := range []struct {
		name, token, query string
		status             int
		ids                []string // id/person of each item
	}{
		{"full admin", crTokAdmin, "", 200, []string{"call-1@10.0.0.5/" + f.alice.ID, "call-1@10.0.0.5/" + f.bob.ID, "call-2/" + f.bob.ID}},
		{"read-only admin", crTokReadOnly, "", 200, []string{"call-1@10.0.0.5/" + f.alice.ID, "call-1@10.0.0.5/" + f.bob.ID, "call-2/" + f.bob.ID}},
		{"partner admin", crTokPartner, orgA, 200, []string{"call-1@10.0.0.5/" + f.alice.ID, "call-1@10.0.0.5/" + f.bob.ID, "call-2/" + f.bob.ID}},
		{"admin narrowed to Bob", crTokAdmin, "?personId=" + webexID(idPerson, f.bob.ID), 200, []string{"call-1@10.0.0.5/" + f.bob.ID, "call-2/" + f.bob.ID}},
		{"user cannot widen with personId", crTokAlice, "?personId=" + webexID(idPerson, f.bob.ID), 200, []string{"call-1@10.0.0.5/" + f.alice.ID}},
		{"location admin", crTokLocAdmin, "", 403, nil},
		{"compliance officer", crTokOfficer, "", 403, nil},
		{"other org's admin", crTokAdminB, orgA, 404, nil},
		{"other org's admin, own org", crTokAdminB, "", 200, []string{"call-3/" + f.carol.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(tc.token, "GET", "/v1/telephony/calls"+tc.query, "")
			if w.Code != tc.status {
				t.Fatalf("status %d %s, want %d", w.Code, w.Body, tc.status)
			}
			if tc.status != 200 {
				return
			}
			var ids []string
			for _, it := range decodeCalls(t, w.Body.String()) {
				ids = append(ids, it.ID+"/"+internalID(it.PersonID))
			}
			if !slices.Equal(ids, tc.ids) {
				t.Errorf("items %v, want %v", ids, tc.ids)
			}
		})
	}
	if w := f.do(crTokAdmin, "GET", "/v1/telephony/calls", ""); !strings.Contains(w.Body.String(), `"recordingControls":["stop","pause"]`) ||
		!strings.Contains(w.Body.String(), `"recordingState":"pending"`) {
		t.Errorf("Bob's controls or the pending state are missing: %s", w.Body)
	}
}

// TestCalls_GetOne: a user gets its own view of its call and 404 for a
// call it is not in; an admin gets any call of the org (its first person,
// or personId's view).
func TestCalls_GetOne(t *testing.T) {
	f := newCRFixture(t)
	withCalls(f, fixtureCalls(f))
	for _, tc := range []struct {
		name, token, path string
		status            int
		person            string
	}{
		{"user's own call", crTokAlice, "/v1/telephony/calls/call-1@10.0.0.5", 200, f.alice.ID},
		{"user, another's call", crTokAlice, "/v1/telephony/calls/call-2", 404, ""},
		{"user, unknown call", crTokAlice, "/v1/telephony/calls/nope", 404, ""},
		{"admin, Bob's call", crTokAdmin, "/v1/telephony/calls/call-2", 200, f.bob.ID},
		{"admin, Bob's view", crTokAdmin, "/v1/telephony/calls/call-1@10.0.0.5?personId=" + webexID(idPerson, f.bob.ID), 200, f.bob.ID},
		{"admin, other org's call", crTokAdmin, "/v1/telephony/calls/call-3", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(tc.token, "GET", tc.path, "")
			if w.Code != tc.status {
				t.Fatalf("status %d %s, want %d", w.Code, w.Body, tc.status)
			}
			if tc.status == 404 {
				if !strings.Contains(w.Body.String(), "Call \\\"") || !strings.Contains(w.Body.String(), "was not found") {
					t.Errorf("404 body %s does not name the call", w.Body)
				}
				return
			}
			var got callJSON
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if internalID(got.PersonID) != tc.person {
				t.Errorf("view of %s, want %s", got.PersonID, tc.person)
			}
			if got.VirtualLineID != "" {
				t.Errorf("virtualLineId %q on a call that is no virtual line's", got.VirtualLineID)
			}
		})
	}
}

// TestCalls_VirtualLineID: a call the person answered for a virtual line
// names the line (R31), as a Webex id.
func TestCalls_VirtualLineID(t *testing.T) {
	f := newCRFixture(t)
	withCalls(f, &fakeCalls{calls: []ActiveCall{{CallID: "call-4", OrgID: f.orgA.ID, PersonID: f.alice.ID, VirtualLineID: "line-7",
		Personality: "terminator", State: "connected", Remote: ActiveCallParty{Number: "+4522222222", CallType: "external"},
		Created: callT0, Answered: callT0, RecordingState: "started"}}})
	w := f.do(crTokAlice, "GET", "/v1/telephony/calls/call-4", "")
	if w.Code != 200 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	var got callJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if want := webexID(idVirtualLine, "line-7"); got.VirtualLineID != want || internalID(got.PersonID) != f.alice.ID {
		t.Errorf("virtualLineId %q person %q, want %q for Alice", got.VirtualLineID, got.PersonID, want)
	}
}

// TestCalls_ControlRoutes: each POST route carries out its action on the
// token's person's recording in the call (204); the errors are 400 for a
// bad body, 404 for a call the person is not in (a user cannot control
// another user's call), 403 for a user naming another person, 409 with
// the rule when the mode does not allow it (R25, R35), 503 when the
// recording service refuses a start (X1) or the call plane is down.
func TestCalls_ControlRoutes(t *testing.T) {
	f := newCRFixture(t)
	plane := fixtureCalls(f)
	withCalls(f, plane)
	bob := webexID(idPerson, f.bob.ID)
	for _, route := range []struct{ path, action string }{
		{"startRecording", "start"}, {"stopRecording", "stop"}, {"pauseRecording", "pause"}, {"resumeRecording", "resume"},
	} {
		t.Run(route.path, func(t *testing.T) {
			w := f.do(crTokAlice, "POST", "/v1/telephony/calls/"+route.path, `{"callId": "call-1@10.0.0.5"}`)
			if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
				t.Fatalf("status %d %q, want 204 and no body", w.Code, w.Body)
			}
			want := strings.Join([]string{f.orgA.ID, f.alice.ID, "call-1@10.0.0.5", route.action}, " ")
			if got := plane.actions(); len(got) == 0 || got[len(got)-1] != want {
				t.Errorf("call plane did %v, want last %q", got, want)
			}
		})
	}
	before := len(plane.actions())
	for _, tc := range []struct {
		name, token, path, body string
		status                  int
		msg                     string
	}{
		{"bad JSON", crTokAlice, "startRecording", `{"callId":`, 400, "not valid JSON"},
		{"no body", crTokAlice, "startRecording", ``, 400, "Required request body is missing"},
		{"missing callId", crTokAlice, "stopRecording", `{}`, 400, "callId: the call to stop recording is required"},
		{"another user's call", crTokAlice, "startRecording", `{"callId": "call-2"}`, 404, `Call \"call-2\" was not found`},
		{"unknown call", crTokAlice, "startRecording", `{"callId": "nope"}`, 404, `Call \"nope\" was not found`},
		{"user names another person", crTokAlice, "startRecording", `{"callId": "call-2", "personId": "` + bob + `"}`, 403, "Only full administrators"},
		{"read-only admin", crTokReadOnly, "startRecording", `{"callId": "call-2", "personId": "` + bob + `"}`, 403, "may not control calls"},
		{"compliance officer", crTokOfficer, "startRecording", `{"callId": "call-2"}`, 403, "may not see or control calls"},
		{"other org's admin", crTokAdminB, "startRecording?orgId=" + webexID(idOrg, f.orgA.ID), `{"callId": "call-2", "personId": "` + bob + `"}`, 404, "Organization"},
		{"admin without a person", crTokAdmin, "startRecording", `{"callId": "call-2"}`, 400, "personId: this token is no person's"},
		{"admin, person of no call", crTokAdmin, "startRecording", `{"callId": "call-3", "personId": "` + webexID(idPerson, f.carol.ID) + `"}`, 404, `Call \"call-3\" was not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(tc.token, "POST", "/v1/telephony/calls/"+tc.path, tc.body)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.msg) {
				t.Errorf("status %d %s, want %d with %q", w.Code, w.Body, tc.status, tc.msg)
			}
		})
	}
	if got := plane.actions(); len(got) != before {
		t.Errorf("refused requests reached the call plane: %v", got[before:])
	}

	t.Run("full admin controls Bob's call", func(t *testing.T) {
		w := f.do(crTokAdmin, "POST", "/v1/telephony/calls/pauseRecording", `{"callId": "call-2", "personId": "`+bob+`"}`)
		if w.Code != http.StatusNoContent {
			t.Fatalf("status %d %s", w.Code, w.Body)
		}
		if got := plane.actions(); got[len(got)-1] != strings.Join([]string{f.orgA.ID, f.bob.ID, "call-2", "pause"}, " ") {
			t.Errorf("call plane did %v", got)
		}
	})

	plane.refuse = map[string]error{
		"start": ruleRefusal("R25: recording mode always gives the user no start control (it records every call from answer to hangup)"),
		"pause": fmt.Errorf("callpath: no session: %w", callrec.ErrUnavailable),
		"stop":  fmt.Errorf("callpath: the recording service did not take the recording: %w", callrec.ErrUnavailable),
	}
	for _, tc := range []struct {
		name, path string
		status     int
		msg        string
	}{
		{"mode refuses", "startRecording", 409, "R25: recording mode always gives the user no start control"},
		{"unavailable", "pauseRecording", 503, msgUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(crTokAlice, "POST", "/v1/telephony/calls/"+tc.path, `{"callId": "call-1@10.0.0.5"}`)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.msg) {
				t.Errorf("status %d %s, want %d with %q", w.Code, w.Body, tc.status, tc.msg)
			}
		})
	}
	plane.refuse = map[string]error{"start": fmt.Errorf("callpath: the recording service did not take the recording: %w", callrec.ErrUnavailable)}
	if w := f.do(crTokAlice, "POST", "/v1/telephony/calls/startRecording", `{"callId": "call-1@10.0.0.5"}`); w.Code != 503 || !strings.Contains(w.Body.String(), "(X1)") {
		t.Errorf("start the SRS refused: %d %s, want 503 naming X1", w.Code, w.Body)
	}
}

// TestCalls_NoCallPlane: without a call plane, or before it runs, every
// call route answers 503 saying so (after authorisation).
func TestCalls_NoCallPlane(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plane CallPlane
	}{{"nil", nil}, {"not running yet", &fakeCalls{down: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCRFixture(t)
			withCalls(f, tc.plane)
			for _, req := range []struct{ method, path, body string }{
				{"GET", "/v1/telephony/calls", ""},
				{"GET", "/v1/telephony/calls/call-1", ""},
				{"POST", "/v1/telephony/calls/startRecording", `{"callId": "call-1"}`},
			} {
				w := f.do(crTokAlice, req.method, req.path, req.body)
				if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "The call plane is not running on this server") {
					t.Errorf("%s %s: %d %s, want 503", req.method, req.path, w.Code, w.Body)
				}
			}
			if w := f.do(crTokOfficer, "GET", "/v1/telephony/calls", ""); w.Code != http.StatusForbidden {
				t.Errorf("officer: %d, want 403 before the 503", w.Code)
			}
		})
	}
}
