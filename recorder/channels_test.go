package recorder

import (
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/siprec"
)

// md builds metadata where participant pN sends the stream labelled by labels[N].
func md(labels ...string) *siprec.Metadata {
	m := &siprec.Metadata{DataMode: "complete"}
	for i, l := range labels {
		sid := "s-" + l
		m.Streams = append(m.Streams, siprec.Stream{ID: sid, Label: l})
		m.Participants = append(m.Participants, siprec.Participant{
			ID: "p" + string(rune('0'+i)), AORs: []string{"sip:user" + string(rune('0'+i)) + "@example.com"}, Send: []string{sid},
		})
	}
	return m
}

// Channel layout of interfaces.md: channel 1 = the recorded party.
func TestAssignChannels(t *testing.T) {
	cases := []struct {
		name     string
		labels   []string
		md       *siprec.Metadata
		vendor   callrec.VendorData
		want     []int
		channels int
		recorded string
	}{
		{"one mixed stream is mono", []string{"1"}, md("1"), callrec.VendorData{}, []int{0}, 1, "p0"},
		{"lowest label left", []string{"2", "1"}, md("2", "1"), callrec.VendorData{}, []int{1, 0}, 2, "p1"},
		{"labels compared as integers", []string{"10", "9"}, md("10", "9"), callrec.VendorData{}, []int{1, 0}, 2, "p1"},
		{"non-numeric labels compared as bytes", []string{"b_leg", "a_leg"}, md("b_leg", "a_leg"), callrec.VendorData{}, []int{1, 0}, 2, "p1"},
		{"BroadWorks userID names the recorded party", []string{"1", "2"}, md("1", "2"),
			callrec.VendorData{UserID: "user1@example.com"}, []int{1, 0}, 2, "p1"},
		{"Metaswitch recordedParty by number", []string{"1", "2"}, func() *siprec.Metadata {
			m := md("1", "2")
			m.Participants[1].AORs = []string{"sip:+441632960123@cfs.example.com;user=phone"}
			return m
		}(), callrec.VendorData{RecordedParty: "+441632960123"}, []int{1, 0}, 2, "p1"},
		{"named party sends nothing: lowest label left", []string{"2", "1"}, func() *siprec.Metadata {
			m := md("2", "1")
			m.Participants = append(m.Participants, siprec.Participant{ID: "p9", AORs: []string{"sip:boss@example.com"}})
			return m
		}(), callrec.VendorData{UserID: "boss@example.com"}, []int{1, 0}, 2, "p1"},
		{"no metadata: lowest label left", []string{"5", "3"}, nil, callrec.VendorData{}, []int{1, 0}, 2, ""},
		{"three streams: recorded left, others right", []string{"1", "2", "3"}, md("1", "2", "3"), callrec.VendorData{}, []int{0, 1, 1}, 2, "p0"},
		{"two streams from the recorded party", []string{"1", "2", "3"}, func() *siprec.Metadata {
			m := md("1", "2", "3")
			m.Participants[0].Send = []string{"s-1", "s-3"}
			m.Participants[2].Send = nil
			return m
		}(), callrec.VendorData{}, []int{0, 1, 0}, 2, "p0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, n, rec := assignChannels(c.labels, c.md, c.vendor)
			if n != c.channels || rec != c.recorded || len(got) != len(c.want) {
				t.Fatalf("got %v, %d channels, recorded %q; want %v, %d, %q", got, n, rec, c.want, c.channels, c.recorded)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("channels %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestSameAOR(t *testing.T) {
	cases := []struct {
		aor, ref string
		want     bool
	}{
		{"sip:alice@example.com", "alice@example.com", true},
		{"<sip:Alice@Example.com;transport=tcp>", "sip:alice@example.com", true},
		{"sip:+15551230001@pbx;user=phone", "+15551230001", true},
		{"tel:+15551230001", "+15551230001", true},
		{"sip:bob@example.com", "alice@example.com", false},
		{"", "alice", false},
	}
	for _, c := range cases {
		if got := sameAOR(c.aor, c.ref); got != c.want {
			t.Errorf("sameAOR(%q, %q) = %v, want %v", c.aor, c.ref, got, c.want)
		}
	}
}
