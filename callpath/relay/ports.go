package relay

import (
	"errors"
	"fmt"
	"sync"
)

// PortAllocator hands out RTP ports for legs. The B2BUA owns it and shares
// it between calls (and with the SIPREC client).
type PortAllocator interface {
	// Acquire returns an even port for RTP; the leg uses the port above
	// it for RTCP (RFC 3550 §11). It fails when no port is free.
	Acquire() (int, error)
	// Release returns a port obtained from Acquire.
	Release(port int)
}

// ErrNoPorts reports that a PortRange has no free port pair left.
var ErrNoPorts = errors.New("relay: no free RTP port pair")

// PortRange is a PortAllocator over a range of ports. It rotates through
// the range instead of reusing the lowest free pair, so a port just
// released is not handed to a new call while the old peer may still send
// stale media to it. It is safe for concurrent use.
type PortRange struct {
	mu       sync.Mutex
	min, max int
	next     int
	inUse    map[int]bool
}

// NewPortRange returns an allocator of the even/odd pairs in [min, max].
func NewPortRange(min, max int) (*PortRange, error) {
	if min%2 == 1 {
		min++
	}
	if min < 1024 || max > 65535 || max < min+1 {
		return nil, fmt.Errorf("relay: port range %d-%d: need at least one even/odd pair within 1024-65535", min, max)
	}
	return &PortRange{min: min, max: max, next: min, inUse: map[int]bool{}}, nil
}

// Acquire implements PortAllocator.
func (p *PortRange) Acquire() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pairs := (p.max - p.min + 1) / 2
	for range pairs {
		port := p.next
		p.next += 2
		if p.next+1 > p.max {
			p.next = p.min
		}
		if !p.inUse[port] {
			p.inUse[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("%w in %d-%d", ErrNoPorts, p.min, p.max)
}

// Release implements PortAllocator.
func (p *PortRange) Release(port int) {
	p.mu.Lock()
	delete(p.inUse, port)
	p.mu.Unlock()
}

// InUse reports how many pairs are handed out.
func (p *PortRange) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse)
}
