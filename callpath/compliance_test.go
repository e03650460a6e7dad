package callpath

import (
	"regexp"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/media/prompt"
)

// announcementRE matches one <callrec:announcement> element of a
// metadata body (siprecclient's extension, R22).
var announcementRE = regexp.MustCompile(`<callrec:announcement [^>]*kind="([^"]*)" lang="([^"]*)" at="([^"]*)"`)

// announced is one announcement a recording's SRS was told of.
type announced struct {
	kind, lang string
	at         time.Time
}

// announcementsOf returns the announcements of the last metadata body of
// rec that names any (each update repeats every earlier one).
func announcementsOf(rec callrec.Recording) []announced {
	var out []announced
	for _, m := range rec.Meta.RawMetadata {
		all := announcementRE.FindAllStringSubmatch(m.Body, -1)
		if len(all) == 0 {
			continue
		}
		out = out[:0]
		for _, a := range all {
			at, _ := time.Parse(time.RFC3339Nano, a[3])
			out = append(out, announced{kind: a[1], lang: a[2], at: at})
		}
	}
	return out
}

// waitRecording waits until the store holds a recording (live or done)
// for which cond holds: the recorder stores each metadata update it
// takes, so a call's metadata can be awaited while the call lasts.
func (r *recEnv) waitRecording(t *testing.T, what string, cond func(callrec.Recording) bool) callrec.Recording {
	t.Helper()
	var got callrec.Recording
	waitUntil(t, what, func() bool {
		recs, err := r.store.ListRecordings(t.Context(), callrec.RecordingQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs {
			if cond(rec) {
				got = rec
				return true
			}
		}
		return false
	})
	return got
}

// hasCompliance reports whether rec's SRS was told of a compliance
// announcement in lang.
func hasCompliance(lang string) func(callrec.Recording) bool {
	return func(rec callrec.Recording) bool {
		for _, a := range announcementsOf(rec) {
			if a.kind == "compliance" && a.lang == lang {
				return true
			}
		}
		return false
	}
}

// TestR22_R37_QueueComplianceInMetadata: a PSTN caller calls the call
// queue "Support" (language da_DK) of an org with the inbound compliance
// announcement; the caller hears it in Danish as early media before the
// queue answers (R18, R21). Bob, the agent, answers and is recorded; his
// plan is decided after the announcement played (CompliancePlayed), yet
// his recording's metadata says, once, that the compliance announcement
// played in da_DK and when: when it began, before the recording (R22,
// R37).
func TestR22_R37_QueueComplianceInMetadata(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways, org: func(o *callrec.OrgRecording) { o.Compliance.Inbound = true }})
	putSupportQueue(t, r.env)
	gwRTP := newRTPPeer(t, 1000)
	r.bobAnswers(t, newRTPPeer(t, 660), 500*time.Millisecond)
	dialled := time.Now()
	dc, err := r.trunk.dial(r.env, "+4587654321", "+4535351700", gwRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := gwRTP.promptMatch(prompt.Compliance, "da_DK"); m < 0.9 {
		t.Errorf("the caller heard no da_DK compliance prompt before the queue answered (match %.2f)", m)
	}
	r.waitState(t, 1, StateStarted)
	rec := r.waitRecording(t, "Bob's recording told of the da_DK compliance announcement", hasCompliance("da_DK"))
	if rec.OwnerID != personBob {
		t.Errorf("the announcement went to the recording of %q, want Bob's", rec.OwnerID)
	}
	anns := announcementsOf(rec)
	if len(anns) != 1 {
		t.Errorf("announcements %+v, want the compliance announcement once", anns)
	}
	if at := anns[0].at; at.Before(dialled.Add(-time.Second)) || at.After(rec.Start) {
		t.Errorf("compliance announcement at %s, want after the call came (%s) and before the recording began (%s)", at, dialled, rec.Start)
	}
	recs, _ := r.finish(t, dc)
	if len(recs) != 1 || !hasCompliance("da_DK")(recs[0]) {
		t.Errorf("finished recordings %v lack the compliance announcement", recs)
	}
}

// TestR18_R20_TransferBringsInPSTNParty: Alice calls Bob (recorded
// always) internally: no compliance announcement (R17). Alice transfers
// Bob to a PSTN number; the org plays the outbound compliance
// announcement after 1 s. The PSTN party, called by callrec, hears it
// once, after its answer and the delay (R18, R20); Bob does not; Bob's
// recording's SRS is told (R22, R37). (That it never plays again after
// it played before the answer is TestR20_R19_TransferAfterCompliance-
// Announcement's: the caller hears no speech after the answer.)
func TestR18_R20_TransferBringsInPSTNParty(t *testing.T) {
	t.Parallel()
	compLen := promptLen(prompt.Compliance, "en_US")
	t.Run("internal call transferred to the PSTN", func(t *testing.T) {
		t.Parallel()
		r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways, org: func(o *callrec.OrgRecording) {
			o.Compliance = callrec.ComplianceAnnouncement{Inbound: true, Outbound: true, OutboundDelay: true, DelaySeconds: 1}
		}})
		gwRTP := newRTPPeer(t, 440)
		gw := r.gatewayPhone(gwRTP)
		c := r.dialSigCall(t)
		bobRTP := c.bobRTP
		r.waitState(t, 1, StateStarted)
		bobRTP.heardFor(t, time.Second)
		if s := bobRTP.runsOf(clsSpeech, 3, time.Time{}); len(s) != 0 {
			t.Errorf("Bob heard speech in an internal call: %v (R17)", s)
		}
		referOK(t, r.env, c.dc, "+4587654321")
		gwDS := gw.dialog(t)
		answered := time.Now()
		gwRTP.heardFor(t, time.Second+compLen+time.Second)
		runs := gwRTP.runsOf(clsSpeech, 5, time.Time{})
		if len(runs) == 0 {
			t.Fatalf("the PSTN party heard no announcement: %v", gwRTP.spans())
		}
		if d := runs[0].from.Sub(answered); d < 800*time.Millisecond {
			t.Errorf("the announcement began %s after the PSTN party answered, want after the 1 s delay (R18)", d)
		}
		if m := gwRTP.promptMatch(prompt.Compliance, "en_US"); m < 0.9 {
			t.Errorf("the PSTN party heard no en_US compliance prompt (match %.2f)", m)
		}
		if speech := gwRTP.speechSince(time.Time{}); speech < compLen/3 || speech > compLen*5/4 {
			t.Errorf("the PSTN party heard %s of speech, want the %s compliance prompt once (R20)", speech, compLen)
		}
		if s := bobRTP.runsOf(clsSpeech, 3, answered); len(s) != 0 {
			t.Errorf("Bob heard the announcement meant for the PSTN party: %v", s)
		}
		rec := r.waitRecording(t, "Bob's recording told of the compliance announcement", hasCompliance("en_US"))
		if rec.OwnerID != personBob || len(announcementsOf(rec)) != 1 {
			t.Errorf("recording of %q with announcements %+v, want Bob's with one", rec.OwnerID, announcementsOf(rec))
		}
		if err := gwDS.Bye(t.Context()); err != nil {
			t.Fatal(err)
		}
		r.finish(t, nil)
	})
}

// TestR18_EarlyComplianceEndsWithSilence: the inbound compliance
// announcement's early media ends with at least 280 ms of silence sent
// as audio before the callee's voice, so that a phone dropping its
// jitter buffer when the call is answered loses silence, not the
// prompt's last words. Bob answers at once; between the prompt's last
// speech and Bob's 660 Hz the caller hears that silence.
func TestR18_EarlyComplianceEndsWithSilence(t *testing.T) {
	t.Parallel()
	r := startRecEnv(t, callrec.ModeAlways, true)
	gwRTP := newRTPPeer(t, 440)
	r.bobAnswers(t, newRTPPeer(t, 660), 0)
	dc, _ := r.dialFromPSTN(t, "+4535351002", gwRTP)
	gwRTP.heardFor(t, time.Second)
	if m := gwRTP.promptMatch(prompt.Compliance, "en_US"); m < 0.9 {
		t.Fatalf("the caller heard no compliance prompt (match %.2f)", m)
	}
	spans := gwRTP.spans()
	last, bobAt := -1, -1
	for i, s := range spans {
		if s.class == clsSpeech && bobAt < 0 {
			last = i
		}
		if s.class == "660" && s.len >= 3 && bobAt < 0 {
			bobAt = i
		}
	}
	if last < 0 || bobAt < last {
		t.Fatalf("the caller heard no prompt before Bob: %v", spans)
	}
	silent := 0
	for _, s := range spans[last+1 : bobAt] {
		if s.class == clsSilence {
			silent += s.len
		}
	}
	if silent < 14 {
		t.Errorf("%d ms of silence between the prompt and Bob's voice, want at least 280 ms (the early tail)", silent*20)
	}
	hangUp(t, r.env, dc)
}
