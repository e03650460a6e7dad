//go:build !(linux && (amd64 || arm64))

package udpread

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// loop reads c with one blocking ReadFromUDPAddrPort per datagram into a
// reused buffer (the portable path; batch is not used).
func loop(c *net.UDPConn, _ int, h Handler) error {
	buf := make([]byte, MaxDatagram)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("udpread: %w", err)
		}
		h(buf[:n], unmap(from), time.Now())
	}
}

// queued is not known on this platform: report an empty queue.
func queued(*net.UDPConn) int { return 0 }
