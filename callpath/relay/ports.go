package relay

import "github.com/callrec/callrec/rtpport"

// PortAllocator hands out RTP ports for legs. The B2BUA owns it and shares
// it between calls.
type PortAllocator interface {
	// Acquire returns an even port for RTP; the leg uses the port above
	// it for RTCP (RFC 3550 §11). It fails when no port is free.
	Acquire() (int, error)
	// Release returns a port obtained from Acquire.
	Release(port int)
}

// ErrNoPorts reports that a PortRange has no free port pair left.
var ErrNoPorts = rtpport.ErrNoPorts

// PortRange is the PortAllocator of a port range (package rtpport).
type PortRange = rtpport.Range

// NewPortRange returns an allocator of the even/odd pairs in [min, max].
func NewPortRange(min, max int) (*PortRange, error) { return rtpport.NewRange(min, max) }
