package callpath

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/media/prompt"
)

// queueGap is the silence between two plays of the queue prompt.
const queueGap = 3 * time.Second

// queue runs a call to a call queue: callrec answers the caller (after
// the inbound compliance announcement, when policy says so, R18, which
// run already played as early media), plays the "queue" prompt in the
// queue's language (R21) again and again with queueGap of silence
// between, and meanwhile rings every agent's devices at once (Webex's
// simultaneous policy; circular, top-down, longest-idle and weighted
// distribution are not built). The first agent to answer is bridged to
// the caller and the prompt stops; the agent is the recorded party with
// the queue's language (answeredBy). No agent within RingTimeout: the
// caller is released.
func (c *call) queue(ctx context.Context, orig *sip.Request) {
	_, lang, ok := c.answerFeature(ctx, "queue")
	if !ok {
		return
	}
	hold := c.holdMusic(prompt.Queue, lang, queueGap)
	targets := c.s.memberTargets(c.callee.members)
	if len(targets) > 0 && c.connect(ctx, targets, orig, hold) {
		return
	}
	hold()
	c.hangup(-1, "queue: no agent answered")
}

// holdMusic plays kind toward the caller in a loop with gap of silence
// between plays until the returned stop is called or the call ends;
// stop stops the prompt at once and may be called more than once.
func (c *call) holdMusic(kind, lang string, gap time.Duration) (stop func()) {
	quit := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var cur *relay.Playback
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			pb := c.play(relay.A, kind, lang)
			mu.Lock()
			cur = pb
			mu.Unlock()
			if pb != nil {
				select {
				case <-pb.Done():
				case <-quit:
					return
				case <-c.done:
					return
				}
			}
			t := time.NewTimer(gap)
			select {
			case <-t.C:
			case <-quit:
				t.Stop()
				return
			case <-c.done:
				t.Stop()
				return
			}
		}
	}()
	return func() {
		once.Do(func() {
			close(quit)
			<-done
			mu.Lock()
			if cur != nil {
				cur.Stop()
			}
			mu.Unlock()
		})
	}
}
