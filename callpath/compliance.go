package callpath

// The compliance announcement beyond the first decision of a call (R18,
// R20, R22, R37): the SRS of every recording of the call learns that it
// played, also a recording decided after it played (a queue's agent, a
// hunt group's member, a transfer target: their plan is decided with
// CompliancePlayed and so holds no announcement); and a PSTN party that
// a transfer brings into a call in which it never played hears it once.

import (
	"context"
	"time"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/siprecclient"
)

// earlyTail is the silence played after the inbound compliance
// announcement's early media, before the callee is rung: a phone that is
// answered right after early media may drop what its jitter buffer still
// holds (seen with baresip), which would cut the prompt's last words.
const earlyTail = 300 * time.Millisecond

// playEarly plays the inbound compliance announcement a to the caller as
// early media (R18), followed by earlyTail of silence sent as audio, and
// waits until both played or ctx ends.
func (c *call) playEarly(ctx context.Context, a *policy.Announcement) {
	kind := fileKind(a.Kind, a)
	pcm := c.promptPCM(kind, a.Language)
	if pcm == nil {
		return
	}
	padded := make([]int16, len(pcm)+int(earlyTail*prompt.Rate/time.Second))
	copy(padded, pcm)
	if pb := c.playPCM(relay.A, kind, padded); pb != nil {
		_ = pb.Wait(ctx)
	}
}

// complianceNote returns the language and start of the compliance
// announcement played in the call, and whether one played.
func (c *call) complianceNote() (string, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.compLang, c.complianceAt, c.compliance
}

// announceCompliance tells r's SRS, once, that the call's compliance
// announcement played (R22: which, when, in which language; R37), when
// it played and r's session is up; otherwise it does nothing, and whoever
// comes second (the session's start or the announcement) tells it.
func (r *recording) announceCompliance() {
	lang, at, ok := r.c.complianceNote()
	if !ok {
		return
	}
	sess := r.sess.Load()
	if sess == nil || !r.told.CompareAndSwap(false, true) {
		return
	}
	go r.announce(sess, siprecclient.AnnounceCompliance, lang, at)
}

// transferCompliance plays the compliance announcement to the PSTN party
// of a call after a transfer by the party on side from (R18, R20): when
// it never played in this call, the call now has a PSTN party, and the
// policy of a recording of the call asks for it. The transfer target, a
// party callrec called, hears it as an outbound call's (after answer and
// the configured delay); a remaining PSTN party, whose call was answered
// long ago, hears it at once. It plays to that party only, never twice
// (markCompliance before the play), and the SRS of each recording is
// told (R22, R37). snap is the org's policy snapshot (nil: nothing).
func (c *call) transferCompliance(snap *policy.Snapshot, from relay.Side) {
	if snap == nil {
		return
	}
	if played, _ := c.compliancePlayed(); played {
		return
	}
	c.mu.Lock()
	parties := [2]*party{c.partyOn(relay.A), c.partyOn(relay.B)}
	side := relay.Side(-1)
	for _, s := range []relay.Side{from, from.Other()} {
		if p := parties[s]; p != nil && isPSTN(p) {
			side = s
			break
		}
	}
	inbound := side >= 0 && !c.wasCalled(side)
	recs := c.recs
	c.mu.Unlock()
	if side < 0 {
		return // an internal call: no compliance announcement (R17)
	}
	var comp *policy.Announcement
	for _, r := range recs {
		d := policy.Decide(snap, policy.Call{Inbound: inbound, PSTN: true, Recorded: policy.Target{Person: r.person, Line: r.line}})
		if d.Record && d.Compliance != nil {
			comp = d.Compliance
			break
		}
	}
	if comp == nil {
		return
	}
	delay := time.Duration(0)
	if comp.When == policy.AfterAnswer {
		delay = comp.Delay
	}
	go func() {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-c.done:
				t.Stop()
				return
			}
		}
		c.mu.Lock()
		if c.compliance || c.ended {
			c.mu.Unlock()
			return // R20: it played meanwhile; never twice
		}
		c.compliance, c.complianceAt, c.compLang = true, c.s.cfg.Now(), comp.Language
		recs := c.recs
		c.mu.Unlock()
		for _, r := range recs {
			r.announceCompliance()
		}
		c.playWait(context.Background(), side, fileKind(comp.Kind, comp), comp.Language)
	}()
}

// isPSTN reports whether p is a party outside the org (reached through
// a trunk), not a person, virtual line or feature.
func isPSTN(p *party) bool {
	return p.person == nil && p.line == nil && p.feature == nil
}
