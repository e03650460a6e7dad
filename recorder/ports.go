package recorder

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/callrec/callrec/rtpport"
)

// errNoPorts means every RTP/RTCP port pair of the range is in use.
var errNoPorts = errors.New("recorder: no free RTP port pair in --rtp-ports")

// portPool binds the recorder's RTP/RTCP socket pairs on the pairs of
// --rtp-ports (package rtpport hands them out, rotating).
type portPool struct {
	r *rtpport.Range
}

func newPortPool(shared *rtpport.Range, min, max int) (*portPool, error) {
	if shared != nil {
		return &portPool{r: shared}, nil
	}
	r, err := rtpport.NewRange(min, max)
	if err != nil {
		return nil, fmt.Errorf("recorder: RTP ports: %w", err)
	}
	return &portPool{r: r}, nil
}

// bindPair binds an RTP socket on an even port and an RTCP socket on the
// port above it, on ip. Ports taken by other programs are skipped.
func (p *portPool) bindPair(ip netip.Addr) (rtp, rtcp *net.UDPConn, err error) {
	for range p.r.Pairs() {
		port, err := p.r.Acquire()
		if err != nil {
			break
		}
		rtp, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			p.r.Release(port)
			continue
		}
		rtcp, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1))))
		if err != nil {
			rtp.Close()
			p.r.Release(port)
			continue
		}
		// Room for bursts: 2000 sessions read in bursts after a scheduling delay.
		_ = rtp.SetReadBuffer(256 << 10)
		return rtp, rtcp, nil
	}
	return nil, nil, fmt.Errorf("%w (%s)", errNoPorts, p.r)
}

// release returns the pair whose RTP port is port.
func (p *portPool) release(port int) { p.r.Release(port) }

// free reports how many pairs are not in use (bound by others not counted).
func (p *portPool) free() int { return p.r.Pairs() - p.r.InUse() }
