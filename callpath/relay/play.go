package relay

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Source yields the RTP payloads of a prompt, one per 20 ms, already
// encoded in the codec of the leg it plays toward (media/prompt.Player
// satisfies it). Next writes the next payload into dst and returns its
// length; done reports that this payload (possibly empty) is the last.
// A Source is used by one goroutine at a time.
type Source interface {
	Next(dst []byte) (n int, done bool)
}

// Playback is one prompt playing toward a leg.
type Playback struct {
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	src      Source
	pt       uint8
	clock    int
	buf      []byte
}

// Done is closed when the prompt has finished, was stopped, was replaced
// by another prompt toward the same leg, or the leg closed.
func (p *Playback) Done() <-chan struct{} { return p.done }

// Stop ends the prompt early; relayed audio resumes with the next packet.
// It does not wait; use Done or Wait for that.
func (p *Playback) Stop() { p.stopOnce.Do(func() { close(p.stop) }) }

// Wait blocks until the prompt is over or ctx ends.
func (p *Playback) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("relay: wait for prompt: %w", ctx.Err())
	}
}

// Play sends src's payloads toward this leg's peer, one per 20 ms from
// now on, in place of the relayed audio, which is held back until the
// prompt ends (see the package doc for how the outgoing stream stays
// continuous). A prompt already playing toward this leg is stopped and
// replaced. The payloads must be in the leg's codec. The pacing ticker
// lives only as long as the prompt.
func (l *Leg) Play(src Source) (*Playback, error) {
	c := l.codec.Load()
	if c == nil {
		return nil, fmt.Errorf("relay: play toward %s: %w", l.local, ErrNoCodec)
	}
	p := &Playback{stop: make(chan struct{}), done: make(chan struct{}), src: src,
		pt: c.PayloadType & 0x7f, clock: c.clock(), buf: make([]byte, maxDatagram)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		close(p.done)
		return nil, fmt.Errorf("relay: play toward %s: %w", l.local, ErrClosed)
	}
	old := l.play
	l.play = p
	l.plays.Add(1)
	l.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	go l.runPlayback(p)
	return p, nil
}

// runPlayback paces one prompt: the first payload goes out at once, each
// next one on the tick 20 ms later.
func (l *Leg) runPlayback(p *Playback) {
	defer l.plays.Done()
	defer close(p.done)
	defer func() {
		l.mu.Lock()
		if l.play == p {
			l.play = nil
		}
		l.mu.Unlock()
	}()
	t := time.NewTicker(ptime)
	defer t.Stop()
	room := p.buf[12:]
	started := false
	for {
		n, done := p.src.Next(room)
		if n < 0 || n > len(room) {
			return // a broken source ends its prompt
		}
		if n > 0 {
			if !l.sendInjected(p, p.buf[:12+n], !started, time.Now()) {
				return
			}
			started = true
		}
		if done {
			return
		}
		select {
		case <-t.C:
		case <-p.stop:
			return
		case <-l.closing:
			return
		}
	}
}
