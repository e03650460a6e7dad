//go:build !(linux && (amd64 || arm64))

package recorder

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// readRTP reads the stream's RTP socket with one blocking read per packet
// into a reused buffer (the portable path; Linux uses recvmmsg).
func (st *stream) readRTP(signalling netip.Addr) {
	defer close(st.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := st.rtp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		st.accept(from.Addr().Unmap(), buf[:n], time.Now(), signalling)
	}
}

// queued is not known on this platform: report an empty queue.
func queued(*net.UDPConn) int { return 0 }
