package callpath

import (
	"context"
	"fmt"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
)

// featureState is what a call to a virtual line or a feature keeps
// beyond an ordinary call (the call's fx field).
type featureState struct {
	// early is the inbound compliance announcement (R18) of a call to a
	// hunt group or call queue, decided before any member answers: the
	// call may be recorded when a member who would be recorded answers.
	early *policy.Announcement
	// self is set once callrec itself answered the caller (call queue,
	// auto attendant, voicemail): no 180 is relayed after that.
	self bool
	// voicemail marks the decisions of a voicemail deposit (R26).
	voicemail bool
}

// lookupNumber resolves a dialled number or extension in org orgID to
// whoever holds it (directory NumberKey, one namespace across kinds): a
// person, a virtual line (ringing its assigned people, R31) or a feature
// (an auto attendant, or a call queue or hunt group ringing its members).
// It returns nil when nobody in the org has the number.
func lookupNumber(ctx context.Context, tx directory.Tx, orgID, num string) (*party, error) {
	r, err := tx.Lookup(ctx, directory.NumberKey(orgID, num))
	if directory.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("callpath: look up %q: %w", num, err)
	}
	if r.OrgID != orgID {
		return nil, nil
	}
	switch r.Kind {
	case directory.People.Name:
		p, err := directory.People.Get(ctx, tx, orgID, r.ID)
		if err != nil {
			return nil, notFoundIsNil(err)
		}
		return &party{orgID: orgID, person: p, name: displayName(p)}, nil
	case directory.VirtualLines.Name:
		v, err := directory.VirtualLines.Get(ctx, tx, orgID, r.ID)
		if err != nil {
			return nil, notFoundIsNil(err)
		}
		members, err := people(ctx, tx, orgID, v.People)
		if err != nil {
			return nil, err
		}
		name := v.DisplayName
		if name == "" {
			name = strings.TrimSpace(v.FirstName + " " + v.LastName)
		}
		return &party{orgID: orgID, line: v, members: members, name: name}, nil
	case directory.Features.Name:
		f, err := directory.Features.Get(ctx, tx, orgID, r.ID)
		if err != nil {
			return nil, notFoundIsNil(err)
		}
		members, err := people(ctx, tx, orgID, f.Members)
		if err != nil {
			return nil, err
		}
		return &party{orgID: orgID, feature: f, members: members, name: f.Name}, nil
	}
	return nil, nil
}

// people reads the people of ids in org orgID, in order; ids of people
// that no longer exist are skipped.
func people(ctx context.Context, tx directory.Tx, orgID string, ids []string) ([]*callrec.Person, error) {
	var out []*callrec.Person
	for _, id := range ids {
		p, err := directory.People.Get(ctx, tx, orgID, id)
		if directory.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("callpath: member %s: %w", id, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func notFoundIsNil(err error) error {
	if directory.IsNotFound(err) {
		return nil
	}
	return err
}

// serviceUser is the number a virtual line or feature party is known by
// (its extension, else its phone number), "" for other parties.
func (p *party) serviceUser() string {
	switch {
	case p.line != nil:
		return firstOf(p.line.Extension, p.line.PhoneNumber)
	case p.feature != nil:
		return firstOf(p.feature.Extension, p.feature.PhoneNumber)
	}
	return ""
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// recorded is the policy target of a callee: its person, or the virtual
// line itself (R31: the line's own recording settings, not those of the
// person whose device answers). A hunt group or queue has none until a
// member answers.
func (p *party) recorded() policy.Target {
	if p.line != nil {
		return policy.Target{Line: p.line}
	}
	return policy.Target{Person: p.person}
}

// memberTargets lists every registered device of every member, each
// tagged with its person so that the one who answers is known.
func (s *Server) memberTargets(members []*callrec.Person) []target {
	var out []target
	for _, p := range members {
		for _, c := range s.deps.Registrar.Location().Contacts(p.ID) {
			out = append(out, target{uri: c.URI, dest: c.Source.String(), transport: c.Transport, person: p})
		}
	}
	return out
}

// featureCompliance is the inbound compliance announcement (R18) of a
// call to a hunt group or call queue before a member answers: the one a
// member who would be recorded gets, decided with the feature's language
// (R21); nil when no member would be recorded or none plays.
func (c *call) featureCompliance(snap *policy.Snapshot) *policy.Announcement {
	f := c.callee.feature
	if f == nil || c.callee.person != nil || c.kind != inbound {
		return nil
	}
	via := c.callee.via
	if via == nil {
		via = f
	}
	for _, m := range c.callee.members {
		d := policy.Decide(snap, policy.Call{Inbound: true, PSTN: true, Recorded: policy.Target{Person: m}, Feature: via})
		if a := d.Compliance; d.Record && a != nil && a.When == policy.BeforeAnswer {
			return a
		}
	}
	return nil
}

// answeredBy runs when a callee branch answered: for a hunt group or call
// queue the member who answered becomes the recorded party, with the
// feature's language (R21; the auto attendant's when the call came
// through one), and the call's recording is decided again for them. A
// virtual line stays the recorded party whoever answers (R31).
func (c *call) answeredBy(dc *sipgo.DialogClientSession, targets []target) {
	c.lineAnswered(dc, targets) // activecalls.go
	f := c.callee.feature
	if f == nil || c.callee.person != nil {
		return
	}
	p := winner(dc, targets)
	if p == nil {
		return
	}
	via := c.callee.via
	if via == nil {
		via = f
	}
	c.mu.Lock()
	c.callee = &party{orgID: p.OrgID, person: p, name: displayName(p), via: via}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	c.plans, _ = c.s.decide(ctx, c) // logged; the call is up
}

// winner returns the person whose device answered dc: the target its
// INVITE was sent to.
func winner(dc *sipgo.DialogClientSession, targets []target) *callrec.Person {
	if dc == nil || dc.InviteRequest == nil {
		return nil
	}
	uri, dest := dc.InviteRequest.Recipient.String(), dc.InviteRequest.Destination()
	for _, t := range targets {
		if t.uri.String() == uri && t.dest == dest {
			return t.person
		}
	}
	return nil
}

// featureLanguage is R21's language of a call to a feature: the
// feature's, then its location's, then the org's, then en_US.
func (s *Server) featureLanguage(ctx context.Context, orgID string, call policy.Call) string {
	var snap *policy.Snapshot
	err := s.deps.Store.View(ctx, func(tx directory.Tx) error {
		var err error
		snap, err = directory.Snapshot(ctx, tx, orgID)
		return err
	})
	if err != nil {
		s.log.Warn("callpath: policy snapshot", "org", orgID, "err", err)
	}
	return policy.Decide(snap, call).Language
}

// runFeature takes a call that callrec answers itself: a call queue or
// an auto attendant. It reports whether it did (the call is then its).
func (c *call) runFeature(ctx context.Context, orig *sip.Request) bool {
	f := c.callee.feature
	if f == nil {
		return false
	}
	switch f.Kind {
	case callrec.FeatureCallQueue:
		c.queue(ctx, orig)
		return true
	case callrec.FeatureAutoAttendant:
		c.attendant(ctx, orig)
		return true
	}
	return false // hunt group: rung like a person, members in parallel
}

// answerFeature answers a call to a queue or an auto attendant (what,
// for the log) and returns its bridge and the feature's language (R21);
// ok is false when the caller did not take the answer (the call is then
// ended).
func (c *call) answerFeature(ctx context.Context, what string) (*relay.Bridge, string, bool) {
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	lang := c.s.featureLanguage(lctx, c.callee.orgID, policy.Call{Inbound: true, PSTN: c.kind == inbound, Feature: c.callee.feature})
	cancel()
	br, err := c.answerSelf()
	if err != nil {
		c.s.log.Info("callpath: "+what+": caller did not take the answer", "call", c.id, "err", err)
		c.hangup(relay.A, "no ACK")
		return nil, "", false
	}
	return br, lang, true
}

// answerSelf answers the caller with our SDP, callrec itself being the
// other party: the caller's leg is bridged to the callee leg, which has
// no peer yet, so that prompts, taps and digits work as in a call; what
// the caller sends goes nowhere until an agent or target answers
// (connect).
func (c *call) answerSelf() (*relay.Bridge, error) {
	c.codecB = c.codecA
	c.legB.SetCodec(c.codecA)
	br, err := relay.NewBridge(c.legA, c.legB)
	if err != nil {
		return nil, fmt.Errorf("callpath: answer %s: %w", c.id, err)
	}
	c.mu.Lock()
	c.bridge = br
	c.fx.self = true
	c.mu.Unlock()
	if err := c.ds.RespondSDP(c.sdpA); err != nil {
		return nil, fmt.Errorf("callpath: answer %s: %w", c.id, err)
	}
	return br, nil
}

// selfAnswered reports whether callrec answered the caller itself.
func (c *call) selfAnswered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fx.self
}

// connect rings targets for a caller callrec already answered (queue,
// auto attendant) and bridges the first to answer in place of callrec.
// It reports whether someone answered; stop is called as soon as the
// ringing is over, whatever the outcome.
func (c *call) connect(ctx context.Context, targets []target, orig *sip.Request, stop func()) bool {
	dc, answer, _, _ := c.fork(ctx, targets, orig)
	stop()
	if dc == nil {
		return false
	}
	codecB, ok := answer.pick()
	if !ok {
		codecB = c.codecA
	}
	c.mu.Lock()
	hold := c.bridge
	c.mu.Unlock()
	hold.Detach()
	c.codecB = codecB
	c.legB.SetCodec(codecB)
	c.legB.SetRemote(answer.rtp, answer.rtcp)
	br, err := relay.NewBridge(c.legA, c.legB)
	c.mu.Lock()
	c.dc = dc
	if err == nil {
		c.bridge = br
	}
	c.ids = append(c.ids, dc.ID)
	ended := c.ended
	c.mu.Unlock()
	c.s.register(dc.ID, c)
	_ = dc.Ack(context.Background())
	if ended {
		bctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
		_ = dc.Bye(bctx)
		cancel()
		return true
	}
	if err != nil {
		c.s.log.Warn("callpath: bridge", "call", c.id, "err", err)
		c.hangup(-1, "no common codec")
		return true
	}
	c.answeredBy(dc, targets)
	c.answered()
	return true
}

// ownerID is the recorded person's or virtual line's id.
func (p plan) ownerID() string {
	if p.line != nil {
		return p.line.ID
	}
	return p.person.ID
}

// orgID is the recorded party's org.
func (p plan) orgID() string {
	if p.line != nil {
		return p.line.OrgID
	}
	return p.person.OrgID
}
