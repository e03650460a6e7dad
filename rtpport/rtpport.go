// Package rtpport hands out RTP/RTCP port pairs (RFC 3550 §11: RTP on an
// even port, RTCP on the one above) from a range. The recorder, the
// call plane's relay and its SIPREC client each take their pairs from a
// Range; binding the sockets stays with them.
//
// A Range rotates through its pairs instead of reusing the lowest free
// one, so a port just released is not handed out again while a peer may
// still send stale media to it. It must never bind sockets itself, so
// every user keeps control of its socket options.
package rtpport

import (
	"errors"
	"fmt"
	"sync"
)

// ErrNoPorts means every pair of the range is in use.
var ErrNoPorts = errors.New("no free RTP/RTCP port pair")

// Range is the even/odd port pairs of [min, max]. It is safe for
// concurrent use.
type Range struct {
	mu       sync.Mutex
	min, max int // min is even; the last pair is (max-1, max) or below
	next     int
	inUse    map[int]bool
}

// NewRange returns the pairs of [min, max]; an odd min starts at the
// next even port. It needs at least one pair within 1024..65535.
func NewRange(min, max int) (*Range, error) {
	if min%2 == 1 {
		min++
	}
	if min < 1024 || max > 65535 || max < min+1 {
		return nil, fmt.Errorf("rtpport: range %d-%d: need at least one even/odd pair within 1024-65535", min, max)
	}
	return &Range{min: min, max: max, next: min, inUse: map[int]bool{}}, nil
}

// Pairs is how many pairs the range holds.
func (r *Range) Pairs() int { return (r.max - r.min + 1) / 2 }

// Acquire returns the even (RTP) port of the next free pair.
func (r *Range) Acquire() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range r.Pairs() {
		port := r.next
		r.next += 2
		if r.next+1 > r.max {
			r.next = r.min
		}
		if !r.inUse[port] {
			r.inUse[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("%w in %d-%d", ErrNoPorts, r.min, r.max)
}

// Release frees the pair whose RTP port is port.
func (r *Range) Release(port int) {
	r.mu.Lock()
	delete(r.inUse, port)
	r.mu.Unlock()
}

// InUse reports how many pairs are handed out.
func (r *Range) InUse() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.inUse)
}

// String is the range as "min-max".
func (r *Range) String() string { return fmt.Sprintf("%d-%d", r.min, r.max) }
