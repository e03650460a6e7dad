package recorder

import (
	"net/netip"
	"sync"
	"time"
)

// In-process hand-off (issue 5 point 8). When callrec's own SIPREC client
// (package siprecclient, driven by the call plane in the same process)
// records to this recorder, each RTP packet would otherwise take a second
// trip through the kernel: the client's sendto(2) on loopback and this
// recorder's recvmmsg(2), plus a wake-up of the stream's reader goroutine.
// LocalSink lets the client hand the packet over directly instead. SIPREC
// signalling (INVITE, metadata, re-INVITE, BYE) is untouched: only the
// media datagrams skip the socket, and they enter the same accept path as
// a datagram read from it.

// localStream is what the hand-off needs of a live stream: the stream and
// the address its session advertised in SDP (the SRC sends to it).
type localStream struct {
	st   *stream
	addr netip.Addr
}

// handoff guards a stream's in-process producer against the stream's end:
// closed is set (under mu) before the stream's sockets close, so no
// hand-off is in flight once closeSockets has taken mu, and none starts
// after it.
type handoff struct {
	mu     sync.Mutex
	closed bool
}

// localStreams maps the RTP ports of live streams to them (guarded by
// Server.localMu).
type localStreams map[uint16]localStream

// addLocal makes st reachable by LocalSink; called when its reader starts.
func (s *Server) addLocal(st *stream, addr netip.Addr) {
	s.localMu.Lock()
	if s.local == nil {
		s.local = localStreams{}
	}
	s.local[uint16(st.port)] = localStream{st: st, addr: addr.Unmap()}
	s.localMu.Unlock()
}

// removeLocal forgets st (its port may be reused by another session at
// once) and stops its hand-off: after it returns, no handed-off packet
// reaches st's aligner.
func (s *Server) removeLocal(st *stream) {
	s.localMu.Lock()
	if e, ok := s.local[uint16(st.port)]; ok && e.st == st {
		delete(s.local, uint16(st.port))
	}
	s.localMu.Unlock()
	st.hand.mu.Lock()
	st.hand.closed = true
	st.hand.mu.Unlock()
}

// LocalSink finds the live stream whose RTP address (the address and
// port this recorder answered in SDP) is dst and returns a function that
// hands it one RTP packet, received at now, exactly as a datagram from
// the SRC's media address read from the stream's socket: the same source
// check, aligner (codec, DTMF, pause, sequence and loss statistics) and
// packet counters. The function returns false, and drops the packet,
// once the stream has ended (its session closed); it never blocks on
// anything but the stream's own short locks and never allocates, and it
// must be called by one goroutine at a time (the SRC's sender); the
// stream's socket reader may run at the same time. The packet is copied
// into the aligner before it returns, so the caller may reuse pkt.
//
// It is meant to be called once per stream, when the SRC has the
// recorder's SDP answer, not per packet. ok is false when no live stream
// has that address: the caller then sends over UDP as usual.
func (s *Server) LocalSink(dst netip.AddrPort) (sink func(pkt []byte, now time.Time) bool, ok bool) {
	s.localMu.Lock()
	e, found := s.local[dst.Port()]
	s.localMu.Unlock()
	if !found || e.addr != dst.Addr().Unmap() {
		return nil, false
	}
	st := e.st
	return func(pkt []byte, now time.Time) bool {
		st.hand.mu.Lock()
		defer st.hand.mu.Unlock()
		if st.hand.closed {
			return false
		}
		// The SRC's media address: a packet handed over comes from the
		// SRC that set up this stream, as a datagram from its c= address
		// would.
		from := netip.Addr{}
		if p := st.peer.Load(); p != nil {
			from = *p
		}
		st.accept(from, pkt, now, from)
		return true
	}, true
}
