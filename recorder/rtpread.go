package recorder

import (
	"net"
	"net/netip"
	"time"

	"github.com/callrec/callrec/internal/udpread"
)

// readBatch is how many datagrams one read may return. A stream brings
// one packet per 20 ms, so more than one is queued only after a
// scheduling delay; 4 lets such a backlog drain in one call.
const readBatch = 4

// readRTP is the hot path: it reads the stream's RTP socket with the
// shared reader (internal/udpread: recvmmsg(2) on Linux, one system call
// per wake-up) and hands each datagram to the aligner. No deadline, no
// allocation, no channel send per packet; closing the socket ends it.
func (st *stream) readRTP(signalling netip.Addr) {
	defer close(st.done)
	// A read error other than the close ends the reader: the socket is
	// broken either way, and the session's media timeout notices.
	_ = udpread.Loop(st.rtp, readBatch, func(pkt []byte, from netip.AddrPort, now time.Time) {
		st.accept(from.Addr(), pkt, now, signalling)
	})
}

// queued reports how many bytes wait in the socket's receive queue.
func queued(c *net.UDPConn) int { return udpread.Queued(c) }
