package callpath

import (
	"context"
	"slices"
	"strings"

	"github.com/callrec/callrec"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/siprecclient"
)

// digitState collects feature access codes, per side. Both fields of a
// side are used only from that side's relay goroutine (HoldFunc and
// DigitFunc run there, in event order), under call.mu for the race
// detector's sake.
type digitState struct {
	held    [2]string // the code dialled so far: a prefix of an access code
	pending [2]string // a complete code whose last digit has not ended yet
}

// codesOf lists a decision's access codes (R35: *44, *45, *48, *49 by
// default, configurable per org).
func codesOf(k callrec.AccessCodes) []string {
	var out []string
	for _, c := range []string{k.Start, k.Stop, k.Pause, k.Resume} {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// holdDigit is the bridge's relay.HoldFunc: at the first packet of each
// telephone event from a recorded party it decides whether the whole
// event is held back. A digit that continues a prefix of an access code
// is held, so the other party receives no telephone-event of "*44" at all
// (R35): neither the first packets of the "*" nor the repeated end packets
// of the last "4". A digit that breaks the prefix is relayed (the digits
// held before it are lost: a "*" not followed by a code).
func (c *call) holdDigit(side relay.Side, d string) bool {
	r := c.recordingOf(side)
	if r == nil {
		return false
	}
	codes := codesOf(r.dec.AccessCodes)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.digits.pending[side] = ""
	next := c.digits.held[side] + d
	if !isPrefix(next, codes) {
		next = d
		if !isPrefix(next, codes) {
			c.digits.held[side] = ""
			return false
		}
	}
	c.digits.held[side] = ""
	if slices.Contains(codes, next) {
		c.digits.pending[side] = next
	} else {
		c.digits.held[side] = next
	}
	return true
}

func isPrefix(s string, codes []string) bool {
	for _, c := range codes {
		if strings.HasPrefix(c, s) {
			return true
		}
	}
	return false
}

// digit receives each RFC 4733 digit either party sends, at the end of its
// event (relay.DigitFunc: it runs on the relay's goroutine, so it only
// hands the action to a goroutine): when it completes an access code that
// holdDigit collected, the code is carried out once the user let go of
// the last key, so the recording starts after the digits.
func (c *call) digit(side relay.Side, d string) {
	c.mu.Lock()
	code := c.digits.pending[side]
	if code == "" || !strings.HasSuffix(code, d) {
		c.mu.Unlock()
		return
	}
	c.digits.pending[side] = ""
	c.mu.Unlock()
	go c.control(side, code)
}

// recordingOf returns the recording whose recorded party is on side.
func (c *call) recordingOf(side relay.Side) *recording {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		if r.side == side {
			return r
		}
	}
	return nil
}

// control carries out a feature access code dialled by the recorded party
// on side (R25, R35): start, stop, pause or resume when the mode offers it
// in the recording's current state, else the refusal tone toward that
// party only.
func (c *call) control(side relay.Side, code string) {
	r := c.recordingOf(side)
	if r == nil {
		return
	}
	r.mu.Lock()
	active, paused := r.active, r.paused
	r.mu.Unlock()
	k := policy.ControlsFor(r.dec.Mode, active)
	codes := r.dec.AccessCodes
	switch {
	case code == codes.Start && k.Start && !active:
		r.start()
	case code == codes.Stop && k.Stop && active:
		if a := r.dec.Stop; a != nil {
			if played, _ := c.compliancePlayed(); !played { // R20
				if sess := r.sess.Load(); sess != nil {
					go r.announce(sess, siprecclient.AnnounceStop, a.Language, c.s.cfg.Now())
				}
				c.playBoth(fileKind(prompt.Stop, a), a.Language)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
		r.stop(ctx)
		cancel()
	case code == codes.Pause && k.Pause && active && !paused:
		r.pauseResume(true)
	case code == codes.Resume && k.Resume && active && paused:
		r.pauseResume(false)
	default:
		c.playWait(context.Background(), side, toneRefusal, "")
	}
}

// pauseResume pauses or resumes the recording (RFC 7866 §8.1.2 through
// the SIPREC client) and plays the R28 notification to both parties.
func (r *recording) pauseResume(pause bool) {
	sess := r.sess.Load()
	if sess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	kind, state, ann := prompt.Resume, StateResumed, siprecclient.AnnounceResume
	a := r.dec.Resume
	if pause {
		kind, state, ann = prompt.Pause, StatePaused, siprecclient.AnnouncePause
		a = r.dec.Pause
		r.mu.Lock()
		r.paused = true
		r.mu.Unlock()
		_ = sess.Pause(ctx)
	}
	switch {
	case r.dec.Notification == callrec.NotifyAnnouncement && a != nil:
		go r.announce(sess, ann, a.Language, r.c.s.cfg.Now())
		r.c.playBoth(fileKind(kind, a), a.Language)
	case r.dec.Notification == callrec.NotifyBeep:
		r.c.playBoth(toneBeep, "")
	}
	if !pause {
		_ = sess.Resume(ctx)
		r.mu.Lock()
		r.paused = false
		r.mu.Unlock()
	}
	r.event(state, "")
}
