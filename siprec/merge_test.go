package siprec

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// snapshot is an RFC-style complete snapshot of a two-party call: p1 sends
// s1, p2 sends s2.
const snapshot = `<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<datamode>complete</datamode>
<session session_id="cs"><start-time>2026-03-02T10:15:00Z</start-time></session>
<participant participant_id="p1"><nameID aor="sip:alice@example.com"><name>Alice</name></nameID></participant>
<participant participant_id="p2"><nameID aor="sip:bob@example.com"/></participant>
<stream stream_id="s1" session_id="cs"><label>1</label></stream>
<stream stream_id="s2" session_id="cs"><label>2</label></stream>
<participantsessionassoc participant_id="p1" session_id="cs"/>
<participantsessionassoc participant_id="p2" session_id="cs"/>
<participantstreamassoc participant_id="p1"><send>s1</send><recv>s2</recv></participantstreamassoc>
<participantstreamassoc participant_id="p2"><send>s2</send><recv>s1</recv></participantstreamassoc>
</recording>`

func partial(body string) string {
	return `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><datamode>partial</datamode>` + body + `</recording>`
}

func sendsOf(m *Metadata) map[string][]string {
	out := map[string][]string{}
	for _, p := range m.Participants {
		out[p.ID] = p.Send
	}
	return out
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name    string
		updates []string
		check   func(t *testing.T, m *Metadata)
	}{
		{
			name: "complete snapshot replaces everything",
			updates: []string{`<recording xmlns="urn:ietf:params:xml:ns:recording:1"><datamode>complete</datamode>
<participant participant_id="p9"><nameID aor="sip:carol@example.com"/></participant>
<stream stream_id="s9"><label>9</label></stream></recording>`},
			check: func(t *testing.T, m *Metadata) {
				if len(m.Participants) != 1 || m.Participants[0].ID != "p9" || len(m.Streams) != 1 || len(m.Sessions) != 0 {
					t.Errorf("after complete update: %+v", m)
				}
			},
		},
		{
			name: "datamode absent counts as complete",
			updates: []string{`<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<participant participant_id="p9"/></recording>`},
			check: func(t *testing.T, m *Metadata) {
				if len(m.Participants) != 1 || len(m.Streams) != 0 {
					t.Errorf("after update without datamode: %+v", m)
				}
			},
		},
		{
			name: "partial update adds a participant (conference)",
			updates: []string{partial(`<participant participant_id="p3"><nameID aor="sip:carol@example.com"/></participant>
<stream stream_id="s3" session_id="cs"><label>3</label></stream>
<participantsessionassoc participant_id="p3" session_id="cs"/>
<participantstreamassoc participant_id="p3"><send>s3</send><recv>s1</recv></participantstreamassoc>`)},
			check: func(t *testing.T, m *Metadata) {
				want := map[string][]string{"p1": {"s1"}, "p2": {"s2"}, "p3": {"s3"}}
				if got := sendsOf(m); !reflect.DeepEqual(got, want) {
					t.Errorf("sends %v, want %v", got, want)
				}
				if p := m.SenderOf(m.StreamByLabel("3").ID); p == nil || p.AORs[0] != "sip:carol@example.com" {
					t.Errorf("label 3 sender %+v", p)
				}
				if len(m.Sessions) != 1 || m.Sessions[0].StartTime == "" || m.IsPartial() {
					t.Errorf("session or datamode lost: %+v", m)
				}
			},
		},
		{
			name:    "partial hold: send omitted means stopped sending",
			updates: []string{partial(`<participantstreamassoc participant_id="p2"><recv>s1</recv></participantstreamassoc>`)},
			check: func(t *testing.T, m *Metadata) {
				want := map[string][]string{"p1": {"s1"}, "p2": nil}
				if got := sendsOf(m); !reflect.DeepEqual(got, want) {
					t.Errorf("sends %v, want %v", got, want)
				}
				if p := m.Participant("p2"); !reflect.DeepEqual(p.Recv, []string{"s1"}) || !reflect.DeepEqual(p.AORs, []string{"sip:bob@example.com"}) {
					t.Errorf("p2 after hold %+v", p)
				}
				if p := m.SenderOf("s2"); p != nil {
					t.Errorf("s2 still has sender %+v", p)
				}
			},
		},
		{
			name: "partial resume: a later send restores it",
			updates: []string{
				partial(`<participantstreamassoc participant_id="p2"><recv>s1</recv></participantstreamassoc>`),
				partial(`<participantstreamassoc participant_id="p2"><send>s2</send><recv>s1</recv></participantstreamassoc>`),
			},
			check: func(t *testing.T, m *Metadata) {
				want := map[string][]string{"p1": {"s1"}, "p2": {"s2"}}
				if got := sendsOf(m); !reflect.DeepEqual(got, want) {
					t.Errorf("sends %v, want %v", got, want)
				}
			},
		},
		{
			name:    "partial name change without stream info keeps the streams",
			updates: []string{partial(`<participant participant_id="p2"><nameID aor="sip:bob@example.com"><name>Bob</name></nameID></participant>`)},
			check: func(t *testing.T, m *Metadata) {
				p := m.Participant("p2")
				if !reflect.DeepEqual(p.Send, []string{"s2"}) || !reflect.DeepEqual(p.Names, []string{"Bob"}) {
					t.Errorf("p2 %+v", p)
				}
			},
		},
		{
			name:    "partial disassociation and stop time",
			updates: []string{partial(`<session session_id="cs"><stop-time>2026-03-02T10:20:00Z</stop-time></session><participantsessionassoc participant_id="p2" session_id="cs"><disassociate-time>2026-03-02T10:19:00Z</disassociate-time></participantsessionassoc>`)},
			check: func(t *testing.T, m *Metadata) {
				if p := m.Participant("p2"); !p.Disassociated || p.DisassociateTime != "2026-03-02T10:19:00Z" {
					t.Errorf("p2 %+v", p)
				}
				if s := m.Sessions[0]; s.StartTime != "2026-03-02T10:15:00Z" || s.StopTime != "2026-03-02T10:20:00Z" || s.Stop.IsZero() {
					t.Errorf("session %+v", s)
				}
			},
		},
		{
			name:    "partial stream relabel",
			updates: []string{partial(`<stream stream_id="s2"><label>20</label></stream>`)},
			check: func(t *testing.T, m *Metadata) {
				if s := m.StreamByLabel("20"); s == nil || s.ID != "s2" || s.SessionID != "cs" {
					t.Errorf("stream %+v", s)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustParse(t, snapshot)
			for _, u := range tc.updates {
				m.Merge(mustParse(t, u))
			}
			tc.check(t, m)
		})
	}
}

// TestMergePreRFCHold: in the models that put <send> inside <participant>
// (BroadWorks, Oracle), the participant element itself restates its streams.
func TestMergePreRFCHold(t *testing.T) {
	m := mustParse(t, `<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"><dataMode>complete</dataMode>
<participant id="p1"><aor>sip:a@x</aor><send><id>s1</id></send></participant>
<participant id="p2"><aor>sip:b@x</aor><send><id>s1</id></send></participant>
<stream id="s1"><label>1</label></stream></recording_metadata>`)
	m.Merge(mustParse(t, `<recording_metadata xmlns="urn:ietf:params:xml:ns:siprec"><dataMode>partial</dataMode>
<participant id="p2"><aor>sip:b@x</aor></participant></recording_metadata>`))
	want := map[string][]string{"p1": {"s1"}, "p2": nil}
	if got := sendsOf(m); !reflect.DeepEqual(got, want) {
		t.Errorf("sends %v, want %v", got, want)
	}
}

func TestMergeExtensionsAndAliasing(t *testing.T) {
	m := mustParse(t, `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><datamode>complete</datamode>
<session session_id="cs"><x xmlns="urn:v">old</x></session><participant participant_id="p"><y xmlns="urn:v">keep</y></participant></recording>`)
	u := mustParse(t, partial(`<session session_id="cs"><x xmlns="urn:v">new</x></session><participant participant_id="p"><nameID aor="sip:p@x"/></participant>`))
	m.Merge(u)
	var xs []string
	for _, e := range m.Extensions {
		xs = append(xs, e.ParentID+"="+e.XML)
	}
	want := []string{`p=<y xmlns="urn:v">keep</y>`, `cs=<x xmlns="urn:v">new</x>`}
	if !reflect.DeepEqual(xs, want) {
		t.Errorf("extensions %q, want %q", xs, want)
	}
	// The merged state must not share memory with the update.
	u.Participants[0].AORs[0] = "changed"
	if got := m.Participant("p").AORs[0]; got != "sip:p@x" {
		t.Errorf("merge aliases the update: AOR %q", got)
	}
	m.Merge(nil) // no-op
	if len(m.Participants) != 1 {
		t.Errorf("Merge(nil) changed m")
	}
}

// TestMarshalRoundTrip: ParseMetadata(Marshal(m)) gives m back, for every
// scenario's metadata (dialect namespace replaced by ours) and for a model
// built in code.
func TestMarshalRoundTrip(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.scenario, func(t *testing.T) {
			invite := nthRequest(t, loadScenario(t, d.scenario, testValues), "INVITE", 0)
			_, _, md := parseInvite(t, invite)
			checkRoundTrip(t, md)
		})
	}
	t.Run("built in code", func(t *testing.T) {
		m := &Metadata{
			Namespace: NSRecording,
			DataMode:  "complete",
			Groups:    []Group{{ID: "g", AssociateTime: "2026-03-02T10:15:00Z"}},
			Sessions: []Session{{ID: "cs", GroupID: "g", SIPSessionIDs: []string{"a;remote=b"},
				StartTime: "2026-03-02T10:15:00Z", Start: parseTime("2026-03-02T10:15:00Z")}},
			Participants: []Participant{
				{ID: "p1", AORs: []string{"sip:a&b@x", "tel:+1"}, Names: []string{`"A" <b>`, "second", "third"}, Send: []string{"s1"}, Recv: []string{"s2"}, SessionIDs: []string{"cs"}, StreamInfo: true},
				{ID: "p2", Names: []string{"No AOR"}, SessionIDs: []string{"cs"}, Disassociated: true, DisassociateTime: "2026-03-02T10:16:00Z"},
			},
			Streams:    []Stream{{ID: "s1", SessionID: "cs", Label: "1"}, {ID: "s2", SessionID: "cs", Label: "a_leg"}},
			Extensions: []Extension{{ParentID: "p1", XML: `<callrec:party xmlns:callrec="urn:callrec:1">recorded</callrec:party>`}, {XML: `<z xmlns="urn:z"/>`}},
		}
		checkRoundTrip(t, m)
	})
}

func checkRoundTrip(t *testing.T, m *Metadata) {
	t.Helper()
	out, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseMetadata(out)
	if err != nil {
		t.Fatalf("ParseMetadata(Marshal): %v\n%s", err, out)
	}
	want := m.clone()
	want.Namespace = NSRecording
	if !reflect.DeepEqual(back, want) {
		t.Errorf("round trip\n got %+v\nwant %+v\nxml:\n%s", back, want, out)
	}
	// Schema order (RFC 7865 §9).
	last := -1
	for _, name := range []string{"<datamode>", "<group ", "<session ", "<participant ", "<stream ", "<participantsessionassoc ", "<participantstreamassoc "} {
		i := bytes.Index(out, []byte(name))
		if i < 0 {
			continue
		}
		if i < last {
			t.Errorf("%s out of schema order", name)
		}
		last = bytes.LastIndex(out, []byte(name))
	}
	if !strings.Contains(string(out), `<recording xmlns="urn:ietf:params:xml:ns:recording:1">`) {
		t.Errorf("root not in the RFC 7865 namespace:\n%s", out)
	}
}
