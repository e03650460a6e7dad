package siprecclient

import (
	"strings"
	"testing"
	"time"
)

// Hold updates (issue 5 point 3): each is a partial update the recorder's
// parser reads, whose session repeats every earlier hold change and the
// announcements, and a later snapshot carries them all.
func TestMetadataHoldUpdates(t *testing.T) {
	m := testModel()
	m.announced(AnnounceCompliance, "en_US", t0)
	held := m.held(HoldHeld, 1, t0.Add(10*time.Second))
	resumed := m.held(HoldResumed, 0, t0.Add(25*time.Second))
	for _, c := range []struct {
		name  string
		doc   []byte
		holds int
		want  string
	}{
		{"hold by the other party", held, 1, `state="held" by="2" at="2026-03-02T10:15:10Z"`},
		{"resume by the recorded party repeats the hold", resumed, 2, `state="resumed" by="1" at="2026-03-02T10:15:25Z"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			md := parsePartial(t, c.doc)
			if n := countExt(md, "hold"); n != c.holds {
				t.Errorf("%d hold elements, want %d", n, c.holds)
			}
			if n := countExt(md, "announcement"); n != 1 {
				t.Errorf("%d announcements, want the earlier one repeated", n)
			}
			if x := extXML(md); !strings.Contains(x, c.want) {
				t.Errorf("extensions %s lack %s", x, c.want)
			}
		})
	}
	md := parseMetadata(t, m.complete(t0.Add(time.Minute)))
	if n := countExt(md, "hold"); n != 2 {
		t.Errorf("snapshot has %d hold elements, want 2", n)
	}
}

// Session.Hold reaches the real recorder as an UPDATE it accepts; the
// session stays up and records on; a bad stream is refused before
// anything is sent and Hold after Stop says ErrStopped.
func TestSessionHold(t *testing.T) {
	rec, _, s, a, o := startRecorded(t, 10, 5)
	if err := s.Hold(t.Context(), true, 1, time.Now()); err != nil {
		t.Fatalf("Hold: %v", err)
	}
	if err := s.Hold(t.Context(), false, 1, time.Now()); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if err := s.Hold(t.Context(), true, 2, time.Now()); err == nil {
		t.Error("hold by stream 2 accepted")
	}
	feed(s, a, o, 5, 10)
	select {
	case err := <-s.Failed():
		t.Fatalf("session failed after the hold updates: %v", err)
	default:
	}
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Hold(t.Context(), true, 0, time.Now()); err != ErrStopped {
		t.Errorf("Hold after Stop: %v, want ErrStopped", err)
	}
	rec.shutdown(t, 10*time.Second)
	r := rec.recordingOf(t, s.CallID())
	if r.SIPCallID != s.CallID() {
		t.Errorf("recording of %q, want %q", r.SIPCallID, s.CallID())
	}
}
