package callpath

import (
	"context"
	"github.com/callrec/callrec"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/siprecclient"
)

// codeLen is the length of a feature access code: "*" and two digits
// (R35: *44, *45, *48, *49 by default).
const codeLen = 3

// digitState collects a feature access code from one side.
type digitState struct {
	buf [2]string // per side: the code so far
}

// digit receives each RFC 4733 digit either party sends (relay.DigitFunc:
// it runs on the relay's goroutine, so it only collects and hands the
// action to a goroutine). A "*" from a recorded party with controls opens
// a code; the relay swallows the next digits until the code is complete,
// so the other party hears no tone of it (R35).
func (c *call) digit(side relay.Side, d string) {
	if c.recordingOf(side) == nil {
		return
	}
	c.mu.Lock()
	br := c.bridge
	cur := c.digits.buf[side]
	switch {
	case cur == "" && d == "*":
		c.digits.buf[side] = "*"
		c.mu.Unlock()
		br.Swallow(side, true)
		return
	case cur == "":
		c.mu.Unlock()
		return
	}
	cur += d
	if len(cur) < codeLen {
		c.digits.buf[side] = cur
		c.mu.Unlock()
		return
	}
	c.digits.buf[side] = ""
	c.mu.Unlock()
	br.Swallow(side, false)
	go c.control(side, cur)
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
				c.playBoth(prompt.Stop, a.Language)
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
		r.c.playBoth(kind, a.Language)
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
