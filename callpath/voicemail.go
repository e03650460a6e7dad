package callpath

import (
	"context"
	"sync"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/mix"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/policy"
)

// Voicemail limits.
const (
	// ringLength is the length of one ring of VoicemailSettings.UnansweredRings.
	ringLength = 6 * time.Second
	// maxMessage bounds one voicemail message.
	maxMessage = 3 * time.Minute
	// depositTimeout bounds Mailbox.Deposit.
	depositTimeout = 30 * time.Second
)

// mailbox returns the callee's voicemail settings when the call can go to
// voicemail: a call to a person (not through a virtual line or feature)
// whose voicemail is on, with a Mailbox to keep the message.
func (c *call) mailbox() *callrec.VoicemailSettings {
	p := c.callee.person
	if c.s.deps.Mailbox == nil || p == nil || c.callee.via != nil || p.Voicemail == nil || !p.Voicemail.Enabled {
		return nil
	}
	return p.Voicemail
}

// ringTimeout is how long the callee's devices ring: Config.RingTimeout,
// or less when an unanswered call goes to voicemail after
// VoicemailSettings.UnansweredRings rings of six seconds.
func (c *call) ringTimeout() time.Duration {
	t := c.s.cfg.RingTimeout
	if v := c.mailbox(); v != nil && v.SendUnanswered {
		rings := v.UnansweredRings
		if rings <= 0 {
			rings = callrec.DefaultUnansweredRings
		}
		t = min(t, time.Duration(rings)*ringLength)
	}
	return t
}

// toVoicemail reports whether a call that ended ringing with code (480:
// nobody answered, or no device; 486: every device busy) goes to the
// callee's voicemail (SendUnanswered, SendBusy).
func (c *call) toVoicemail(code int) bool {
	v := c.mailbox()
	if v == nil {
		return false
	}
	switch code {
	case 480:
		return v.SendUnanswered
	case 486:
		return v.SendBusy
	}
	return false
}

// voicemail takes a message for the callee: callrec answers the caller
// (200 with our SDP), plays the "voicemail" prompt in the owner's
// language (R21) and a beep, then keeps what the caller says, decoded to
// 8 kHz PCM, until the caller hangs up, presses # or maxMessage passes,
// and hands it to Deps.Mailbox.
//
// R26: the deposit is decided like a call with Call.Voicemail set; when
// the owner's recordVoicemail allows it, the message is also recorded
// over SIPREC like a call, the owner's stream (0) silent and the caller
// on stream 1. Prompts and the beep never reach it (R22: they are not on
// the caller's tap), and no start/stop announcement plays over the
// message: the voicemail prompt already tells the caller they are
// recorded.
func (c *call) voicemail() {
	owner := c.callee.person
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	c.fx.voicemail = true
	var snap *policy.Snapshot
	if err := c.s.deps.Store.View(ctx, func(tx directory.Tx) error {
		var err error
		snap, err = directory.Snapshot(ctx, tx, c.callee.orgID)
		return err
	}); err != nil {
		c.s.log.Warn("callpath: voicemail: policy snapshot", "call", c.id, "err", err)
	}
	lang := policy.Decide(snap, policy.Call{Inbound: true, PSTN: c.kind == inbound, Recorded: policy.Target{Person: owner}, Voicemail: true}).Language
	plans, _ := c.s.decide(ctx, c) // logged; the message is still taken, unrecorded
	cancel()
	br, err := c.answerSelf()
	if err != nil {
		c.s.log.Info("callpath: voicemail: caller did not take the answer", "call", c.id, "err", err)
		c.hangup(relay.A, "no ACK")
		return
	}
	c.mu.Lock()
	for _, p := range plans {
		p.dec.Start, p.dec.Stop = nil, nil
		c.recs = append(c.recs, &recording{c: c, plan: p, quit: make(chan struct{})})
	}
	recs := c.recs
	c.mu.Unlock()
	msg, err := newMessage(c.codecA)
	if err != nil {
		c.s.log.Warn("callpath: voicemail", "call", c.id, "err", err)
		c.hangup(-1, "voicemail: codec")
		return
	}
	var fwd func([]byte, time.Time)
	if len(recs) > 0 {
		fwd = c.tap(relay.A, c.codecA, recs)
	}
	br.Tap(relay.A, func(pkt []byte, at time.Time) {
		msg.add(pkt)
		if fwd != nil {
			fwd(pkt, at)
		}
	})
	hash := make(chan struct{}, 1)
	br.OnDigit(func(side relay.Side, d string) {
		if side == relay.A && d == "#" {
			select {
			case hash <- struct{}{}:
			default:
			}
		}
	})
	for _, r := range recs {
		if r.dec.StartAtAnswer {
			go r.start()
		}
	}
	pctx, pcancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-c.done:
			pcancel()
		case <-pctx.Done():
		}
	}()
	c.playWait(pctx, relay.A, prompt.Voicemail, lang)
	c.playWait(pctx, relay.A, toneBeep, "")
	pcancel()
	began := c.s.cfg.Now()
	msg.begin()
	limit := time.NewTimer(maxMessage)
	select {
	case <-c.done:
	case <-hash:
	case <-limit.C:
	}
	limit.Stop()
	pcm := msg.end()
	c.hangup(-1, "voicemail left")
	if len(pcm) == 0 {
		return
	}
	m := callrec.VoiceMessage{OrgID: owner.OrgID, PersonID: owner.ID, CallerName: c.caller.name,
		CallerNumber: callerNumber(c.caller), Created: began, Duration: time.Duration(len(pcm)) * time.Second / prompt.Rate}
	dctx, dcancel := context.WithTimeout(context.Background(), depositTimeout)
	defer dcancel()
	stored, err := c.s.deps.Mailbox.Deposit(dctx, m, pcm)
	if err != nil {
		c.s.log.Warn("callpath: voicemail deposit", "call", c.id, "person", owner.ID, "err", err)
		return
	}
	c.s.log.Info("callpath: voicemail", "call", c.id, "person", owner.ID, "message", stored.ID, "duration", m.Duration)
}

// callerNumber is how the mailbox shows who called.
func callerNumber(p *party) string {
	if p.person != nil {
		return firstOf(p.person.Extension, firstOf(p.person.PhoneNumbers...))
	}
	return p.number
}

// message collects the caller's audio of one voicemail: each RTP packet
// of the caller's codec decoded to 8 kHz PCM while recording, at most
// maxMessage of it. add runs on the relay's reading goroutine.
type message struct {
	pt  uint8
	mu  sync.Mutex
	dec media.Decoder
	on  bool
	pcm []int16
}

func newMessage(codec relay.Codec) (*message, error) {
	clock := codec.ClockRate
	if clock == 0 {
		clock = media.ClockRate(codec.Name)
	}
	ch := codec.Channels
	if ch == 0 {
		ch = 1
	}
	dec, err := media.NewDecoder(codec.Name, clock, ch, prompt.Rate)
	if err != nil {
		return nil, err
	}
	return &message{pt: codec.PayloadType & 0x7f, dec: dec, pcm: make([]int16, 0, 30*prompt.Rate)}, nil
}

func (m *message) begin() {
	m.mu.Lock()
	m.on = true
	m.mu.Unlock()
}

// add decodes one packet the caller sent (other payload types, such as
// telephone-events and comfort noise, are not audio of the message).
func (m *message) add(pkt []byte) {
	h, payload, err := mix.ParseRTP(pkt)
	if err != nil || h.PayloadType != m.pt {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.on || len(m.pcm) >= int(maxMessage/time.Second)*prompt.Rate {
		return
	}
	if out, err := m.dec.Decode(m.pcm, payload); err == nil {
		m.pcm = out[:min(len(out), int(maxMessage/time.Second)*prompt.Rate)]
	}
}

// end stops collecting and returns the message.
func (m *message) end() []int16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.on = false
	return m.pcm
}
