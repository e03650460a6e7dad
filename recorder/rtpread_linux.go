//go:build linux && (amd64 || arm64)

package recorder

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"
)

// readBatch is how many datagrams one recvmmsg(2) may return. A stream
// brings one packet per 20 ms, so more than one is queued only after a
// scheduling delay; 4 lets such a backlog drain in one call.
const readBatch = 4

// mmsghdr is struct mmsghdr of recvmmsg(2) on 64-bit Linux.
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
	_   [4]byte
}

// readRTP is the hot path: it reads the stream's RTP socket with
// recvmmsg(2) inside a single RawConn.Read, hands each datagram to the
// aligner, and parks on the poller as soon as a call returns fewer
// datagrams than asked for (the queue is drained). Go's ReadFrom loop
// costs two syscalls per packet (the second returns EAGAIN before it
// parks); this costs one. No deadline, no allocation, no channel send per
// packet; closing the socket ends it.
func (st *stream) readRTP(signalling netip.Addr) {
	defer close(st.done)
	rc, err := st.rtp.SyscallConn()
	if err != nil {
		return
	}
	var (
		bufs  [readBatch][1500]byte
		names [readBatch]syscall.RawSockaddrInet6
		iovs  [readBatch]syscall.Iovec
		msgs  [readBatch]mmsghdr
	)
	for i := range msgs {
		iovs[i].Base = &bufs[i][0]
		iovs[i].SetLen(len(bufs[i]))
		msgs[i].hdr.Iov = &iovs[i]
		msgs[i].hdr.Iovlen = 1
		msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
	}
	var readErr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			for i := range msgs {
				msgs[i].hdr.Namelen = uint32(unsafe.Sizeof(names[i]))
				msgs[i].len = 0
			}
			r, _, errno := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&msgs[0])),
				readBatch, syscall.MSG_DONTWAIT, 0, 0)
			switch errno {
			case 0:
			case syscall.EAGAIN:
				return false // wait for the next datagram
			case syscall.EINTR:
				continue
			default:
				readErr = errno
				return true
			}
			n := int(r)
			now := time.Now()
			for i := range n {
				st.accept(sockaddrAddr(&names[i]), bufs[i][:msgs[i].len], now, signalling)
			}
			if n < readBatch {
				return false // drained: park until the poller sees the next one
			}
		}
	})
	if err != nil && !errors.Is(err, net.ErrClosed) {
		readErr = err
	}
	_ = readErr // the socket is closed or broken either way; the session's media timeout notices
}

// sockaddrAddr returns the IP of a raw socket address from recvmmsg.
func sockaddrAddr(sa *syscall.RawSockaddrInet6) netip.Addr {
	switch sa.Family {
	case syscall.AF_INET:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrFrom4(sa4.Addr)
	case syscall.AF_INET6:
		return netip.AddrFrom16(sa.Addr).Unmap()
	}
	return netip.Addr{}
}

// queued reports how many bytes wait in the socket's receive queue
// (SIOCINQ, i.e. FIONREAD, on Linux).
func queued(c *net.UDPConn) int {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) {
		var v int32
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&v))); errno == 0 {
			n = int(v)
		}
	})
	return n
}
