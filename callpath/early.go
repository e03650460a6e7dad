package callpath

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/media"
)

// earlyState is which callee branch owns the call's early media: the
// first whose 180 or 183 carried a usable SDP answer (RFC 3261 §13.2.1,
// RFC 3960 §3). Guarded by call.mu.
type earlyState struct {
	owner int  // 1 + the owning branch's index; 0: none
	done  bool // a branch answered: no more early media changes
}

// earlyMedia takes a callee branch's 180 or 183. When it carries SDP the
// relay can use and no other branch owns early media yet, legB is set to
// that answer, the legs are bridged at once and the caller gets 183 with
// our SDP (sdpA), so it hears the callee's ringback or announcement
// before the answer. It reports whether early media flows (from this
// branch or another), in which case the caller gets no bodiless 180 that
// could make it switch to local ringback. The inbound compliance
// announcement (R18) has already played by then: fork starts after it.
// Recording and its taps still start at answer (R19).
func (c *call) earlyMedia(branch int, r *sip.Response) bool {
	c.mu.Lock()
	owned := c.early.owner != 0
	stop := c.early.done || c.ended
	c.mu.Unlock()
	if owned || stop || len(r.Body()) == 0 {
		return owned
	}
	a, err := parseAudio(r.Body())
	if err != nil || !usableAddr(a) {
		return false
	}
	codec, ok := a.pick()
	if !ok {
		return false
	}
	c.mu.Lock()
	if c.early.owner != 0 || c.early.done || c.ended {
		owned = c.early.owner != 0
		c.mu.Unlock()
		return owned
	}
	c.early.owner = branch + 1
	c.mu.Unlock()
	c.legB.SetCodec(codec)
	c.legB.SetRemote(a.rtp, a.rtcp)
	br, err := relay.NewBridge(c.legA, c.legB)
	c.mu.Lock()
	if err != nil || c.early.done || c.ended {
		c.early.owner = 0
		c.mu.Unlock()
		if br != nil {
			br.Detach()
		}
		if err != nil {
			c.s.log.Info("callpath: early media not bridged", "call", c.id, "err", err)
		}
		return false
	}
	c.bridge = br
	c.mu.Unlock()
	if err := c.ds.Respond(sip.StatusSessionInProgress, "Session Progress", c.sdpA, hdrSDP()); err != nil {
		c.s.log.Debug("callpath: 183 to caller", "call", c.id, "err", err)
	}
	return true
}

// earlyEnded runs when a callee branch ended without answering: when it
// owned early media, the legs are unbridged so that another branch may
// take over (its media is gone anyway).
func (c *call) earlyEnded(branch int) {
	c.mu.Lock()
	if c.early.owner != branch+1 || c.early.done {
		c.mu.Unlock()
		return
	}
	c.early.owner = 0
	br := c.bridge
	c.bridge = nil
	c.mu.Unlock()
	if br != nil {
		br.Detach()
	}
}

// bridgeAnswer connects the legs with the answering branch's SDP. When
// early media was bridged already it is kept if the answer is the same
// codec (the same branch, RFC 3261 §13.2.1: the 2xx repeats the early
// answer), else the early bridge is dropped and the winner's SDP applies.
func (c *call) bridgeAnswer(answer *audio) (*relay.Bridge, error) {
	codecB, ok := answer.pick()
	if !ok {
		codecB = c.codecA
	}
	c.mu.Lock()
	c.early.done = true
	early := c.bridge
	c.bridge = nil
	c.codecB = codecB
	c.mu.Unlock()
	if early != nil {
		cur, _ := c.legB.Codec()
		if sameCodec(cur, codecB) {
			c.legB.SetRemote(answer.rtp, answer.rtcp)
			return early, nil
		}
		early.Detach()
	}
	c.legB.SetCodec(codecB)
	c.legB.SetRemote(answer.rtp, answer.rtcp)
	return relay.NewBridge(c.legA, c.legB)
}

// sameCodec reports whether two negotiated codecs are the same on the
// wire: name, payload types and clock.
func sameCodec(a, b relay.Codec) bool {
	return strings.EqualFold(a.Name, b.Name) && a.PayloadType == b.PayloadType &&
		a.EventPT == b.EventPT && clockOf(a) == clockOf(b)
}

func clockOf(c relay.Codec) int {
	if c.ClockRate != 0 {
		return c.ClockRate
	}
	if r := media.ClockRate(c.Name); r != 0 {
		return r
	}
	return 8000
}

// usableAddr reports whether an SDP names a real RTP address (not the
// RFC 2543 hold address 0.0.0.0, not port 0).
func usableAddr(a *audio) bool {
	return a.rtp.IsValid() && !a.rtp.Addr().IsUnspecified() && a.rtp.Port() != 0
}
