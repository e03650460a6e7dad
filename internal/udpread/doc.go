// Package udpread reads UDP sockets on the media hot path: one goroutine
// per socket hands each datagram, with its source and the time it was
// read, to a callback, and parks on Go's poller when the socket's queue
// is empty.
//
// On Linux (amd64, arm64) it reads with recvmmsg(2) inside a single
// RawConn.Read, so a packet costs one system call; the usual ReadFrom loop
// costs two (the read that returns EAGAIN before the goroutine parks, then
// the read after it wakes). Other platforms read with ReadFromUDPAddrPort.
//
// The relay legs (callpath/relay) and the recorder (recorder) use it. It
// must never allocate per datagram, take a lock, set a deadline or keep a
// datagram after the callback returns; it never parses what it reads.
package udpread

import (
	"net"
	"net/netip"
	"time"
)

// MaxDatagram is the size of each receive buffer: a longer datagram is
// truncated to it (media packets fit an Ethernet MTU).
const MaxDatagram = 1500

// MaxBatch bounds how many datagrams one read may return. A media stream
// brings one packet per 20 ms, so more than one waits only after a
// scheduling delay; a batch lets such a backlog drain in one call.
const MaxBatch = 8

// Handler takes one datagram: pkt (valid only until Handler returns; it
// may be modified in place), its source with any IPv4-mapped IPv6 address
// unmapped, and when the batch it came in was read. It runs on the
// reading goroutine while the socket's read lock is held: it must not
// close c (Close waits for it) and should not block.
type Handler func(pkt []byte, from netip.AddrPort, now time.Time)

// Loop reads c until it is closed, calling h once per datagram in the
// order they arrived, and reads at most batch datagrams per call (1 to
// MaxBatch; values outside are clamped). It allocates its buffers once,
// nothing per datagram. It returns nil once c is closed, or the read
// error that stopped it (the caller decides whether to call Loop again).
func Loop(c *net.UDPConn, batch int, h Handler) error {
	return loop(c, min(max(batch, 1), MaxBatch), h)
}

// Queued reports how many bytes wait in c's receive queue (0 when the
// platform cannot tell). A closing session uses it to let its reader take
// the datagrams already queued before it closes the socket.
func Queued(c *net.UDPConn) int { return queued(c) }

func unmap(a netip.AddrPort) netip.AddrPort {
	if a.Addr().Is4In6() {
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	return a
}
