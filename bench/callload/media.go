package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// Media plane of the load tool. A pool of UDP sockets on 127.0.0.1 carries
// every stream: each socket has one sender goroutine that wakes every
// millisecond and sends, with one sendmmsg(2), the 20 ms packets of its
// streams that are due (each stream has its own phase, so the packets of
// many calls are spread over the 20 ms as real phones spread them), and
// one reader goroutine that takes batches with recvmmsg(2) together with
// the kernel's receive time of each datagram (SO_TIMESTAMPNS). Streams are
// told apart by SSRC (the stream's index + 1): the relay passes SSRCs
// through untouched. Nothing is allocated per packet.

const (
	frame     = 20 * time.Millisecond
	tick      = time.Millisecond
	batchMax  = 128
	oobLen    = 64
	delayMax  = 50 * time.Millisecond // delay histogram range (1 µs buckets)
	ssrcFirst = 1
)

// class of a stream's path.
const (
	viaRelay = iota // through the B2BUA's relay
	direct          // socket to socket (baseline)
	nClasses
)

// stream is one direction of RTP: sent from one pool socket to dst,
// received on another pool socket (the receiving endpoint). Sender fields
// belong to the sender goroutine of the sending socket, receiver fields
// to the reader of the receiving socket; the totals are read after both
// have stopped.
type stream struct {
	idx   int
	class int
	dst   *net.UDPAddr
	due   time.Time
	seq   uint16
	ts    uint32
	first bool
	buf   [pktLen]byte
	stop  atomic.Bool // the sender skips it from now on
	sent  atomic.Uint64

	rx seqTracker
}

// socket is one pool socket with its streams to send.
type socket struct {
	conn *net.UDPConn
	pc   *ipv4.PacketConn
	addr netip.AddrPort

	mu   sync.Mutex
	adds []*stream

	// sender-owned
	streams []*stream

	lateTicks atomic.Uint64 // ticks that found a packet due more than a frame ago
	sendErrs  atomic.Uint64
	lastErr   atomic.Value
}

// media is the pool and the stream table.
type media struct {
	socks   []*socket
	streams []stream // indexed by SSRC - ssrcFirst
	next    atomic.Int64
	hists   [][nClasses]*hist // per reader
	unknown atomic.Uint64     // datagrams of no stream of ours
	noStamp atomic.Uint64     // datagrams without a kernel receive time
	wg      sync.WaitGroup
	closing atomic.Bool
}

// newMedia opens n sockets for at most maxStreams streams.
func newMedia(n, maxStreams int) (*media, error) {
	m := &media{streams: make([]stream, maxStreams), hists: make([][nClasses]*hist, n)}
	for i := range n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			m.close()
			return nil, fmt.Errorf("callload: media socket: %w", err)
		}
		s := &socket{conn: c, pc: ipv4.NewPacketConn(c), addr: c.LocalAddr().(*net.UDPAddr).AddrPort()}
		m.socks = append(m.socks, s)
		_ = c.SetReadBuffer(8 << 20)
		_ = c.SetWriteBuffer(8 << 20)
		if err := timestamps(c); err != nil {
			m.close()
			return nil, err
		}
		for k := range nClasses {
			m.hists[i][k] = newHist(time.Microsecond, delayMax)
		}
	}
	for i, s := range m.socks {
		m.wg.Add(2)
		go func() { defer m.wg.Done(); m.send(s) }()
		go func() { defer m.wg.Done(); m.read(s, m.hists[i]) }()
	}
	return m, nil
}

// timestamps asks the kernel for each datagram's receive time (socket(7)
// SO_TIMESTAMPNS).
func timestamps(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("callload: SO_TIMESTAMPNS: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return fmt.Errorf("callload: SO_TIMESTAMPNS: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("callload: SO_TIMESTAMPNS: %w", serr)
	}
	return nil
}

// socketFor picks the pool socket of endpoint number i.
func (m *media) socketFor(i int) *socket { return m.socks[i%len(m.socks)] }

// newStream reserves a stream of class from sock; it is sent once start
// is called.
func (m *media) newStream(class int) (*stream, error) {
	i := int(m.next.Add(1) - 1)
	if i >= len(m.streams) {
		return nil, errors.New("callload: stream table full")
	}
	st := &m.streams[i]
	st.idx, st.class = i, class
	return st, nil
}

// start begins sending st from sock to dst at a random phase.
func (m *media) start(st *stream, sock *socket, dst netip.AddrPort) {
	st.dst = net.UDPAddrFromAddrPort(dst)
	st.seq = uint16(rand.Uint32())
	st.ts = rand.Uint32()
	st.first = true
	rtpHeader(st.buf[:], true, st.seq, st.ts, uint32(st.idx+ssrcFirst))
	stampPayload(st.buf[rtpHdr:], 0)
	st.due = time.Now().Add(time.Duration(rand.Int64N(int64(frame))))
	sock.mu.Lock()
	sock.adds = append(sock.adds, st)
	sock.mu.Unlock()
}

// send is the sender loop of one socket.
func (m *media) send(s *socket) {
	t := time.NewTicker(tick)
	defer t.Stop()
	msgs := make([]ipv4.Message, batchMax)
	for i := range msgs {
		msgs[i].Buffers = make([][]byte, 1)
	}
	for !m.closing.Load() {
		<-t.C
		s.mu.Lock()
		s.streams = append(s.streams, s.adds...)
		s.adds = s.adds[:0]
		s.mu.Unlock()
		now := time.Now()
		n := 0
		late := false
		flush := func() {
			if n == 0 {
				return
			}
			ns := time.Now().UnixNano()
			for i := range n {
				restamp(msgs[i].Buffers[0][rtpHdr:], ns)
			}
			for off := 0; off < n; {
				k, err := s.pc.WriteBatch(msgs[off:n], 0)
				if err != nil {
					s.sendErrs.Add(uint64(n - off))
					s.lastErr.Store(err.Error())
					break
				}
				off += k
			}
			n = 0
		}
		keep := s.streams[:0]
		for _, st := range s.streams {
			if st.stop.Load() {
				continue
			}
			keep = append(keep, st)
			if st.due.After(now) {
				continue
			}
			if now.Sub(st.due) > frame {
				late = true
			}
			if !st.first {
				st.seq++
				st.ts += 160
				rtpHeader(st.buf[:], false, st.seq, st.ts, uint32(st.idx+ssrcFirst))
			}
			st.first = false
			st.due = st.due.Add(frame)
			st.sent.Add(1)
			msgs[n].Buffers[0] = st.buf[:]
			msgs[n].Addr = st.dst
			n++
			if n == batchMax {
				flush()
			}
		}
		clear(s.streams[len(keep):])
		s.streams = keep
		flush()
		if late {
			s.lateTicks.Add(1)
		}
	}
}

// read is the reader loop of one socket.
func (m *media) read(s *socket, h [nClasses]*hist) {
	msgs := make([]ipv4.Message, batchMax)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 1500)}
		msgs[i].OOB = make([]byte, oobLen)
	}
	for {
		n, err := s.pc.ReadBatch(msgs, 0)
		if err != nil {
			if m.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		for _, msg := range msgs[:n] {
			seq, ssrc, payload, ok := parseRTP(msg.Buffers[0][:msg.N])
			i := int(ssrc) - ssrcFirst
			if !ok || i < 0 || i >= len(m.streams) {
				m.unknown.Add(1)
				continue
			}
			st := &m.streams[i]
			st.rx.add(seq)
			sent, ok1 := readStamp(payload)
			rx, ok2 := rxTime(msg.OOB[:msg.NN])
			if !ok2 {
				m.noStamp.Add(1)
				rx = time.Now().UnixNano()
			}
			if ok1 && sent != 0 {
				h[st.class].add(time.Duration(rx - sent))
			}
		}
	}
}

// stopStream stops sending st (the sender drops it at its next tick).
func (m *media) stopStream(st *stream) { st.stop.Store(true) }

// close stops the senders and readers and closes the sockets.
func (m *media) close() {
	m.closing.Store(true)
	for _, s := range m.socks {
		_ = s.conn.Close()
	}
	m.wg.Wait()
}

// delays merges the readers' histograms of class.
func (m *media) delays(class int) *hist {
	out := newHist(time.Microsecond, delayMax)
	for _, h := range m.hists {
		out.merge(h[class])
	}
	return out
}
