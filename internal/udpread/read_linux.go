//go:build linux && (amd64 || arm64)

package udpread

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"
)

// mmsghdr is struct mmsghdr of recvmmsg(2) on 64-bit Linux.
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
	_   [4]byte
}

// loop reads c with recvmmsg(2) (MSG_DONTWAIT) inside one RawConn.Read:
// it calls h for each datagram and parks on the poller as soon as a call
// returns fewer datagrams than asked for (the queue is drained), so an
// idle-to-busy socket costs one system call per wake-up, not two.
func loop(c *net.UDPConn, batch int, h Handler) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("udpread: %w", err)
	}
	// Allocated once, sized to the batch (a batch of 1 costs one buffer).
	var (
		bufs  = make([]byte, batch*MaxDatagram)
		names = make([]syscall.RawSockaddrInet6, batch)
		iovs  = make([]syscall.Iovec, batch)
		msgs  = make([]mmsghdr, batch)
	)
	for i := range batch {
		iovs[i].Base = &bufs[i*MaxDatagram]
		iovs[i].SetLen(MaxDatagram)
		msgs[i].hdr.Iov = &iovs[i]
		msgs[i].hdr.Iovlen = 1
		msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
	}
	var readErr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			for i := range batch {
				msgs[i].hdr.Namelen = uint32(unsafe.Sizeof(names[i]))
				msgs[i].hdr.Flags = 0
				msgs[i].len = 0
			}
			r, _, errno := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&msgs[0])),
				uintptr(batch), syscall.MSG_DONTWAIT, 0, 0)
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
				off := i * MaxDatagram
				h(bufs[off:off+min(int(msgs[i].len), MaxDatagram):off+MaxDatagram], sockaddr(&names[i]), now)
			}
			if n < batch {
				return false // drained: park until the poller sees the next one
			}
		}
	})
	switch {
	case readErr != nil:
		return fmt.Errorf("udpread: recvmmsg: %w", readErr)
	case err == nil, errors.Is(err, net.ErrClosed):
		return nil
	default:
		return fmt.Errorf("udpread: %w", err)
	}
}

// sockaddr returns the source of a datagram from recvmmsg's raw address.
func sockaddr(sa *syscall.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case syscall.AF_INET:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), ntohs(sa4.Port))
	case syscall.AF_INET6:
		return unmap(netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), ntohs(sa.Port)))
	}
	return netip.AddrPort{}
}

// ntohs reads a port as the kernel stores it (network byte order) from a
// uint16 read in host order.
func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// queued is SIOCINQ (FIONREAD) on Linux.
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
