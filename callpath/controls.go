package callpath

import (
	"context"
	"errors"
	"strings"

	"github.com/callrec/callrec"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/media/prompt"
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
// of the last "4". When a digit breaks the prefix (a "*" not followed by
// a code), the held digits and that digit are held too and replayed to
// the other party, in order, as SIP INFO (replay).
func (c *call) holdDigit(side relay.Side, d string) bool {
	hold, flushed := c.collect(side, d)
	if flushed == "" {
		return hold
	}
	if !hold {
		flushed += d
	}
	go c.replay(side.Other(), flushed)
	return true
}

// replay sends digits held back and then not part of a code toward the
// other party as INFO (Cisco dtmf-relay), one request after the other.
func (c *call) replay(toward relay.Side, digits string) {
	for _, d := range digits {
		c.sendDigit(toward, string(d), typeDTMFRelay, nil)
	}
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
// on side (R25, R35) through act, which REST controls share: start, stop,
// pause or resume when the mode offers it in the recording's current
// state, else the refusal tone toward that party only.
func (c *call) control(side relay.Side, code string) {
	r := c.recordingOf(side)
	if r == nil {
		return
	}
	err := c.act(side, actionOfCode(r.dec.AccessCodes, code))
	var no *RefusedError
	if errors.As(err, &no) || errors.Is(err, callrec.ErrInvalid) {
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
