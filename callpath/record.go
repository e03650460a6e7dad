package callpath

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/media/mix"
	"github.com/callrec/callrec/media/prompt"
	"github.com/callrec/callrec/policy"
	"github.com/callrec/callrec/siprecclient"
)

// startTimeout bounds siprecclient.Start (every target tried, X1).
const startTimeout = 15 * time.Second

// plan is the policy decision for one recorded party of a call.
type plan struct {
	side   relay.Side // the recorded party's leg
	person *callrec.Person
	line   *callrec.VirtualLine // the recorded virtual line (R31); person is nil then
	dec    policy.Decision
}

// decide asks the policy engine about each party of the call that can be
// recorded: the callee of an inbound call, the caller of an outbound one,
// both people of an internal call (one SIPREC session each,
// design/interfaces.md). It returns the parties to record, or the error
// (logged) when the policy could not be read: a new call is then refused
// rather than connected unrecorded; a call already up keeps going.
func (s *Server) decide(ctx context.Context, c *call) ([]plan, error) {
	var snap *policy.Snapshot
	err := s.deps.Store.View(ctx, func(tx directory.Tx) error {
		var err error
		snap, err = directory.Snapshot(ctx, tx, c.caller.orgID)
		return err
	})
	if err != nil {
		s.log.Warn("callpath: policy snapshot", "call", c.id, "err", err)
		return nil, err
	}
	type cand struct {
		side relay.Side
		t    policy.Target
		in   bool
	}
	// The callee is a person or a virtual line (R31); a call that came
	// through a feature or to a virtual line speaks its language (R21).
	callee := cand{relay.B, c.callee.recorded(), true}
	var cands []cand
	switch c.kind {
	case inbound:
		cands = []cand{callee}
	case outbound:
		cands = []cand{{relay.A, policy.Target{Person: c.caller.person}, false}}
	default:
		cands = []cand{{relay.A, policy.Target{Person: c.caller.person}, false}, callee}
	}
	played, _ := c.compliancePlayed()
	c.fx.early = c.featureCompliance(snap)
	var out []plan
	for _, k := range cands {
		if k.t.Person == nil && k.t.Line == nil {
			continue
		}
		pc := policy.Call{Inbound: k.in, PSTN: c.kind != internal, Recorded: k.t, CompliancePlayed: played, Voicemail: c.fx.voicemail}
		if k.side == relay.B {
			pc.Feature, pc.VirtualLine = c.callee.via, c.callee.line
		}
		d := policy.Decide(snap, pc)
		p := plan{side: k.side, person: k.t.Person, line: k.t.Line, dec: d}
		if !d.Record {
			s.log.Debug("callpath: not recorded", "call", c.id, "owner", p.ownerID(), "reason", d.Reason)
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// recording is one recorded party's SIPREC session in a call.
type recording struct {
	c *call
	plan
	sess   atomic.Pointer[siprecclient.Session] // set once the SRS took the session
	feed   atomic.Pointer[siprecclient.Session] // what the taps send to: the session from before its INVITE on (record_early.go)
	mu     sync.Mutex
	active bool // started and not stopped
	paused bool
	tick   *time.Ticker
	quit   chan struct{}
	ctl    recControl    // state and serialised controls (control.go)
	told   atomic.Bool   // the SRS was told of the compliance announcement (compliance.go)
	feeds  [2]streamFeed // each stream's audio, in its negotiated codec (recfeed.go)
}

// complianceBefore returns the compliance announcement that plays to the
// caller before answer (R18: inbound PSTN), or nil.
func (c *call) complianceBefore() *policy.Announcement {
	if a := c.fx.early; a != nil {
		return a // a feature's call, before a member is known (features.go)
	}
	for _, p := range c.plans {
		if a := p.dec.Compliance; a != nil && a.When == policy.BeforeAnswer {
			return a
		}
	}
	return nil
}

// markCompliance notes that the compliance announcement played (R20: no
// start or stop announcement after it), in which language and when it
// began: every recording of the call tells its SRS from that (R22, R37),
// also one whose plan was decided after it played (CompliancePlayed).
func (c *call) markCompliance(lang string, at time.Time) {
	c.mu.Lock()
	c.compliance = true
	c.complianceAt = at
	c.compLang = lang
	c.mu.Unlock()
}

func (c *call) compliancePlayed() (bool, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.compliance, c.complianceAt
}

// pcmOf returns the audio of a prompt kind or tone.
func pcmOf(kind, lang string) ([]int16, string) {
	switch kind {
	case toneBeep:
		return prompt.Beep(prompt.Rate), lang
	case toneRepeat:
		return prompt.RepeatTone(prompt.Rate), lang
	case toneRefusal:
		return prompt.RefusalTone(prompt.Rate), lang
	}
	pcm, got, err := prompt.Get(kind, lang)
	if err != nil {
		return nil, lang
	}
	return pcm, got
}

// Tones, next to prompt's spoken kinds.
const (
	toneBeep    = "tone:beep"
	toneRepeat  = "tone:repeat"
	toneRefusal = "tone:refusal"
)

// play starts kind (a prompt kind or tone, or a custom file: fileKind)
// toward one side; before the bridge exists only the
// caller's leg can hear anything.
func (c *call) play(toward relay.Side, kind, lang string) *relay.Playback {
	return c.playPCM(toward, kind, c.promptPCM(kind, lang))
}

// playPCM plays pcm (8 kHz; kind names it in logs) toward one side.
func (c *call) playPCM(toward relay.Side, kind string, pcm []int16) *relay.Playback {
	if pcm == nil {
		return nil
	}
	c.mu.Lock() // a transfer or a re-INVITE may change legs and codecs
	codec, leg, br := c.codecA, c.legA, c.bridge
	if toward == relay.B {
		codec, leg = c.codecB, c.legB
	}
	c.mu.Unlock()
	pl, err := prompt.NewPlayer(pcm, prompt.Rate, codec.Name)
	if err != nil {
		c.s.log.Warn("callpath: prompt", "call", c.id, "kind", kind, "err", err)
		return nil
	}
	var pb *relay.Playback
	if br != nil {
		pb, err = br.Play(toward, pl)
	} else {
		pb, err = leg.Play(pl)
	}
	if err != nil {
		return nil
	}
	return pb
}

// playWait plays kind toward one side and waits until it ends or ctx does.
func (c *call) playWait(ctx context.Context, toward relay.Side, kind, lang string) {
	if pb := c.play(toward, kind, lang); pb != nil {
		_ = pb.Wait(ctx)
	}
}

// playBoth plays kind toward both parties and waits for both.
func (c *call) playBoth(kind, lang string) {
	pa, pb := c.play(relay.A, kind, lang), c.play(relay.B, kind, lang)
	for _, p := range []*relay.Playback{pa, pb} {
		if p != nil {
			select {
			case <-p.Done():
			case <-c.done:
				return
			}
		}
	}
}

// answered runs when both legs are connected: taps for the SIPREC fork,
// the outbound compliance announcement (R18), recordings that start at
// answer (R19) and the feature access codes (R25, R35).
func (c *call) answered() {
	c.mu.Lock()
	br := c.bridge
	c.ctl.answered = c.s.cfg.Now()
	for _, p := range c.plans {
		c.recs = append(c.recs, &recording{c: c, plan: p, quit: make(chan struct{})})
	}
	recs := c.recs
	c.mu.Unlock()
	if len(recs) == 0 {
		return
	}
	// R19: the sessions that start at answer exist before the taps, so
	// what is said from the answer on is kept until their SRS answers.
	for _, r := range recs {
		if r.dec.StartAtAnswer {
			r.prepare()
		}
	}
	c.hook(br)
	var comp *policy.Announcement
	for _, r := range recs {
		if a := r.dec.Compliance; a != nil && a.When == policy.AfterAnswer {
			comp = a
		}
	}
	// R19: recording starts at answer, not after the compliance
	// announcement (which never reaches the recording anyway, R22).
	for _, r := range recs {
		if r.dec.StartAtAnswer {
			go r.start()
		}
	}
	if comp == nil {
		return
	}
	go func() {
		// R18: outbound compliance to the called PSTN party after answer
		// and the configured delay; the SRS is told of it (R37).
		if comp.Delay > 0 {
			t := time.NewTimer(comp.Delay)
			select {
			case <-t.C:
			case <-c.done:
				t.Stop()
				return
			}
		}
		c.markCompliance(comp.Language, c.s.cfg.Now())
		for _, r := range recs {
			r.announceCompliance()
		}
		c.playWait(context.Background(), relay.B, fileKind(comp.Kind, comp), comp.Language)
	}()
}

// tap returns the relay tap of one side whose leg uses codec: each audio
// packet that party sends goes to every recording of the call, on stream
// 0 when the party is that recording's recorded party and on stream 1
// otherwise, in the codec that stream negotiated (recfeed.go: a party
// whose codec changed mid-call is transcoded). The taps are set again
// with the new codec whenever a leg's codec changes. Prompts never reach
// a tap (R22).
func (c *call) tap(side relay.Side, codec relay.Codec, recs []*recording) relay.TapFunc {
	return func(pkt []byte, at time.Time) {
		h, payload, err := mix.ParseRTP(pkt)
		if err != nil || h.PayloadType != codec.PayloadType {
			return
		}
		for _, r := range recs {
			stream := 1
			if r.side == side {
				stream = 0
			}
			if sess := r.feed.Load(); sess != nil {
				if err := r.feeds[stream].forward(sess, stream, codec, &h, payload, at); err != nil {
					c.s.log.Warn("callpath: recording stream", "call", c.id, "err", err)
				}
			}
		}
	}
}

// event tells Config.OnRecordingEvent.
func (r *recording) event(state, reason string) {
	r.stateChanged(state) // CallInfo and the device's INFO (R34)
	if fn := r.c.s.cfg.OnRecordingEvent; fn != nil {
		fn(Event{CallID: r.c.id, OrgID: r.orgID(), PersonID: r.ownerID(), State: state, Reason: reason, Time: r.c.s.cfg.Now()})
	}
}

// participants returns the recorded party and the other side.
func (r *recording) participants() (siprecclient.Participant, siprecclient.Participant, string) {
	host := r.c.s.addr.Addr().String()
	me, other := r.c.caller, r.c.callee
	dir := siprecclient.DirectionOutbound
	if r.side == relay.B {
		me, other = other, me
		dir = siprecclient.DirectionInbound
	}
	if r.c.kind == internal {
		dir = siprecclient.DirectionInternal
	}
	return siprecclient.Participant{Name: me.name, AOR: me.aor(host), UserID: r.ownerID()},
		siprecclient.Participant{Name: other.name, AOR: other.aor(host)}, dir
}

// start opens the SIPREC session (R19) and applies X1 when it fails.
func (r *recording) start() {
	c, s := r.c, r.c.s
	r.mu.Lock()
	if r.active || c.isEnded() {
		idle := !r.active
		r.mu.Unlock()
		if idle {
			r.discard() // prepared at answer, never to start
		}
		return
	}
	r.active = true
	r.mu.Unlock()
	sess := r.feed.Load()
	if sess == nil {
		var err error
		if sess, err = r.open(); err != nil {
			r.mu.Lock()
			r.active = false
			r.mu.Unlock()
			r.failed(err)
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	err := sess.Start(ctx)
	cancel()
	if err != nil {
		r.feed.CompareAndSwap(sess, nil) // its backlog is dropped (X1)
		r.mu.Lock()
		r.active = false
		r.mu.Unlock()
		r.failed(err)
		return
	}
	if c.isEnded() {
		sctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
		_ = sess.Stop(sctx)
		cancel()
		r.feed.CompareAndSwap(sess, nil)
		return
	}
	r.sess.Store(sess)
	r.event(StateStarted, "")
	s.log.Info("callpath: recording", "call", c.id, "owner", r.ownerID(), "target", sess.Target())
	r.announceCompliance() // R22, R37: also when it played before this plan was decided
	if a := r.dec.Start; a != nil {
		if played, _ := c.compliancePlayed(); !played { // R20
			at := s.cfg.Now()
			c.playBoth(fileKind(prompt.Start, a), a.Language)
			go r.announce(sess, siprecclient.AnnounceStart, a.Language, at)
		}
	}
	r.startRepeat()
	go func() {
		select {
		case err, ok := <-sess.Failed():
			if ok && err != nil {
				r.sess.Store(nil)
				r.feed.CompareAndSwap(sess, nil)
				r.stopRepeat()
				r.mu.Lock()
				r.active = false
				r.mu.Unlock()
				r.failed(err)
			}
		case <-c.done:
		}
	}()
}

// announce tells the SRS that an announcement played (R37).
func (r *recording) announce(sess *siprecclient.Session, kind, lang string, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := sess.Announce(ctx, kind, lang, at); err != nil {
		r.c.s.log.Debug("callpath: announce", "call", r.c.id, "err", err)
	}
}

// failed applies the org's failure behaviour (X1) when recording could
// not start or broke mid-call.
func (r *recording) failed(err error) {
	c := r.c
	c.s.log.Warn("callpath: recording failed", "call", c.id, "owner", r.ownerID(), "err", err)
	r.event(StateFailed, err.Error())
	if c.isEnded() {
		return
	}
	lang := r.dec.Language
	if a := r.dec.Failure; a != nil && a.Language != "" {
		lang = a.Language
	}
	switch r.dec.FailureBehavior {
	case callrec.FailureProceedWithAnnouncement:
		c.playBoth(fileKind(prompt.FailureProceed, r.dec.Failure), lang)
	case callrec.FailureEndWithAnnouncement:
		c.playBoth(fileKind(prompt.FailureEnd, r.dec.Failure), lang)
		c.hangup(-1, "recording failed (X1)")
	}
}

// startRepeat plays the repeat tone every Decision.Repeat toward both
// parties while the recording is active and not paused (R29).
func (r *recording) startRepeat() {
	if r.dec.Repeat <= 0 {
		return
	}
	r.mu.Lock()
	if r.tick != nil {
		r.mu.Unlock()
		return
	}
	period := r.dec.Repeat
	if fn := r.c.s.repeatEvery; fn != nil {
		period = fn(period)
	}
	t := time.NewTicker(period)
	r.tick = t
	quit := make(chan struct{})
	r.quit = quit
	r.mu.Unlock()
	go func() {
		for {
			select {
			case <-t.C:
				r.mu.Lock()
				on := r.active && !r.paused
				r.mu.Unlock()
				if on {
					r.c.playBoth(toneRepeat, "")
				}
			case <-quit:
				return
			case <-r.c.done:
				return
			}
		}
	}()
}

func (r *recording) stopRepeat() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tick != nil {
		r.tick.Stop()
		close(r.quit)
		r.tick = nil
	}
}

// stop ends the SIPREC session (at hangup, or the user's stop code).
func (r *recording) stop(ctx context.Context) {
	r.stopRepeat()
	sess := r.sess.Swap(nil)
	r.mu.Lock()
	r.active, r.paused = false, false
	r.mu.Unlock()
	if sess == nil {
		return
	}
	r.feed.CompareAndSwap(sess, nil)
	if err := sess.Stop(ctx); err != nil && !errors.Is(err, siprecclient.ErrStopped) {
		r.c.s.log.Debug("callpath: stop recording", "call", r.c.id, "err", err)
	}
	r.event(StateStopped, "")
}

// stopRecordings stops every recording of the call.
func (c *call) stopRecordings(ctx context.Context) {
	c.mu.Lock()
	recs := c.recs
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range recs {
		wg.Add(1)
		go func() { defer wg.Done(); r.stop(ctx) }()
	}
	wg.Wait()
}
