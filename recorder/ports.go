package recorder

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// errNoPorts means every RTP/RTCP port pair of the range is in use.
var errNoPorts = errors.New("recorder: no free RTP port pair in --rtp-ports")

// portPool hands out even/odd RTP/RTCP port pairs from the configured range.
// It rotates through the range instead of reusing the lowest free pair, so a
// port just released is not handed to a new session while a peer may still
// send stale media to it.
type portPool struct {
	mu    sync.Mutex
	min   int // first even port
	max   int // last port of the range
	next  int
	inUse map[int]bool
}

func newPortPool(min, max int) *portPool {
	if min%2 == 1 {
		min++
	}
	return &portPool{min: min, max: max, next: min, inUse: map[int]bool{}}
}

// bindPair binds an RTP socket on an even port and an RTCP socket on the
// port above it, on ip. Ports taken by other programs are skipped.
func (p *portPool) bindPair(ip netip.Addr) (rtp, rtcp *net.UDPConn, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pairs := (p.max - p.min + 1) / 2
	for range pairs {
		port := p.next
		p.next += 2
		if p.next+1 > p.max {
			p.next = p.min
		}
		if p.inUse[port] {
			continue
		}
		rtp, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			continue
		}
		rtcp, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1))))
		if err != nil {
			rtp.Close()
			continue
		}
		// Room for bursts: 2000 sessions read in bursts after a scheduling delay.
		_ = rtp.SetReadBuffer(256 << 10)
		p.inUse[port] = true
		return rtp, rtcp, nil
	}
	return nil, nil, fmt.Errorf("%w (%d-%d)", errNoPorts, p.min, p.max)
}

// release returns the pair whose RTP port is port.
func (p *portPool) release(port int) {
	p.mu.Lock()
	delete(p.inUse, port)
	p.mu.Unlock()
}

// free reports how many pairs are not in use (bound by others not counted).
func (p *portPool) free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return (p.max-p.min+1)/2 - len(p.inUse)
}
