package callpath

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/policy"
)

// digitTimeout is how long the auto attendant waits for the next digit
// of an extension before it takes what was dialled.
const digitTimeout = 3 * time.Second

// attendant runs a call to an auto attendant: callrec answers the caller,
// plays the "greeting" prompt in the attendant's language (R21) and
// collects RFC 4733 digits (RFC 4733 §3.2 events from the caller's leg).
// A first digit that is a Menu key routes to that key's extension at
// once; otherwise the digits dialled, ended by # or digitTimeout of
// silence, are an extension. The call then rings that person, virtual
// line, hunt group or call queue as if dialled, keeping the attendant's
// language for announcements (R21: a call to an auto attendant uses its
// language). An unknown extension or nothing dialled replays the
// greeting once; the second time the caller is released.
func (c *call) attendant(ctx context.Context, orig *sip.Request) {
	aa := c.callee.feature
	br, lang, ok := c.answerFeature(ctx, "auto attendant")
	if !ok {
		return
	}
	digits := make(chan string, 32)
	// The menu digits are callrec's: held whole, so that the end packets
	// of the last one, still arriving when the target answers, never
	// reach it (the leg remembers the held event across bridges).
	br.HoldDigits(func(side relay.Side, _ string) bool { return side == relay.A })
	br.OnDigit(func(side relay.Side, d string) {
		if side != relay.A {
			return
		}
		select {
		case digits <- d:
		default: // a caller pressing faster than we read: dropped
		}
	})
	var dest *party
	for attempt := 0; attempt < 2 && dest == nil; attempt++ {
		ext, ok := c.collectExtension(aa, lang, digits)
		if !ok {
			return // the caller hung up
		}
		if ext == "" {
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		err := c.s.deps.Store.View(lctx, func(tx directory.Tx) error {
			var err error
			dest, err = lookupNumber(lctx, tx, c.callee.orgID, ext)
			return err
		})
		cancel()
		if err != nil {
			c.s.log.Warn("callpath: auto attendant lookup", "call", c.id, "err", err)
			dest = nil
		}
		if dest != nil && dest.feature != nil && dest.feature.Kind == callrec.FeatureAutoAttendant {
			dest = nil // no attendant behind an attendant
		}
		c.s.log.Info("callpath: auto attendant", "call", c.id, "dialled", ext, "found", dest != nil)
	}
	br.OnDigit(nil)
	if dest == nil {
		c.hangup(-1, "auto attendant: no extension")
		return
	}
	c.transferTo(ctx, dest, aa, orig)
}

// collectExtension plays the greeting and returns the extension the caller
// chose: a menu key's target, or digits ended by # or digitTimeout; ""
// when nothing usable was dialled; ok false when the call ended.
func (c *call) collectExtension(aa *callrec.Feature, lang string, digits <-chan string) (string, bool) {
	pb := c.play(relay.A, prompt.Greeting, lang)
	var greeting <-chan struct{}
	if pb != nil {
		greeting = pb.Done()
		defer pb.Stop()
	}
	var timeout <-chan time.Time
	if greeting == nil {
		timeout = time.After(digitTimeout)
	}
	dialled := ""
	for {
		select {
		case <-c.done:
			return "", false
		case <-greeting:
			greeting = nil
			if dialled == "" {
				timeout = time.After(digitTimeout)
			}
		case <-timeout:
			return dialled, true
		case d := <-digits:
			if pb != nil {
				pb.Stop() // the caller knows what to do
			}
			if dialled == "" {
				for _, k := range aa.Menu {
					if k.Digit == d {
						return k.Target, true
					}
				}
			}
			if d == "#" {
				return dialled, true
			}
			dialled += d
			timeout = time.After(digitTimeout)
		}
	}
}

// transferTo rings dest for a caller the auto attendant answered, as if
// dest had been dialled, with the attendant's language (R21). A call
// queue runs its own flow; a person, virtual line or hunt group is rung
// and bridged. The recording is decided again for the new callee, and an
// inbound compliance announcement (R18) that policy asks for now plays
// to the caller before the ringing.
func (c *call) transferTo(ctx context.Context, dest *party, aa *callrec.Feature, orig *sip.Request) {
	if dest.via == nil {
		dest.via = aa
	}
	c.mu.Lock()
	c.callee = dest
	c.mu.Unlock()
	if dest.feature != nil && dest.feature.Kind == callrec.FeatureCallQueue {
		// Already answered: the queue's prompt and agents take over.
		if played, _ := c.compliancePlayed(); !played {
			c.playCompliance(ctx)
		}
		hold := c.holdMusic(prompt.Queue, c.plansLanguage(ctx), queueGap)
		targets := c.s.memberTargets(dest.members)
		if len(targets) > 0 && c.connect(ctx, targets, orig, hold) {
			return
		}
		hold()
		c.hangup(-1, "queue: no agent answered")
		return
	}
	c.playCompliance(ctx)
	targets := c.s.targets(dest)
	if len(targets) == 0 || !c.connect(ctx, targets, orig, func() {}) {
		c.hangup(-1, "auto attendant: target did not answer")
	}
}

// playCompliance decides the call's recording for its new callee and
// plays the inbound compliance announcement to the caller when policy
// says so and it has not played yet (R18, R20).
func (c *call) playCompliance(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	c.plans, _ = c.s.decide(lctx, c) // logged; the call is up
	cancel()
	if played, _ := c.compliancePlayed(); played {
		return
	}
	if a := c.complianceBefore(); a != nil {
		at := c.s.cfg.Now()
		c.playWait(ctx, relay.A, fileKind(a.Kind, a), a.Language)
		c.markCompliance(a.Language, at)
	}
}

// plansLanguage is the language of the call's current callee (R21).
func (c *call) plansLanguage(ctx context.Context) string {
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	return c.s.featureLanguage(lctx, c.callee.orgID, policy.Call{Inbound: true, PSTN: c.kind == inbound, Feature: c.callee.via})
}
