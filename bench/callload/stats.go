package main

import (
	"encoding/binary"
	"time"
)

// Pure parts of the measurement: the send-time stamp in each RTP payload,
// the kernel receive time from a control message, a fixed-width latency
// histogram with percentiles, and RTP sequence loss counting.

const (
	rtpHdr      = 12
	payloadLen  = 160 // 20 ms of PCMU at 8 kHz
	pktLen      = rtpHdr + payloadLen
	stampLen    = 8
	ulawSilence = 0xFF // µ-law code of 0 (G.711 Table 2a)
)

// stampPayload fills a 20 ms PCMU payload: the send time (ns since the
// Unix epoch, big-endian) in the first 8 bytes, µ-law silence in the
// rest, so the relay's passthrough carries ordinary audio bytes.
func stampPayload(p []byte, sendNS int64) {
	binary.BigEndian.PutUint64(p, uint64(sendNS))
	for i := stampLen; i < len(p); i++ {
		p[i] = ulawSilence
	}
}

// restamp rewrites only the send time of a payload stampPayload filled.
func restamp(p []byte, sendNS int64) { binary.BigEndian.PutUint64(p, uint64(sendNS)) }

// readStamp returns the send time a payload carries; false when the
// payload is too short to hold one.
func readStamp(p []byte) (int64, bool) {
	if len(p) < stampLen {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(p)), true
}

// rtpHeader writes a 12-byte RTP header (RFC 3550 §5.1), PCMU payload type 0.
func rtpHeader(b []byte, marker bool, seq uint16, ts, ssrc uint32) {
	b[0] = 0x80
	b[1] = 0
	if marker {
		b[1] = 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}

// parseRTP returns the sequence number, SSRC and payload of an RTP packet
// (RFC 3550 §5.1: version 2; CSRCs, a header extension and padding are
// skipped); false for anything else.
func parseRTP(b []byte) (seq uint16, ssrc uint32, payload []byte, ok bool) {
	if len(b) < rtpHdr || b[0]>>6 != 2 {
		return 0, 0, nil, false
	}
	off := rtpHdr + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // extension: 4-byte header, length in words
		if len(b) < off+4 {
			return 0, 0, nil, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > 0 { // padding: count in the last byte
		end -= int(b[end-1])
	}
	if off > end {
		return 0, 0, nil, false
	}
	return binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint32(b[8:]), b[off:end], true
}

// Linux socket control message of a 64-bit kernel (cmsghdr: size_t len,
// int level, int type; data aligned to 8 bytes) carrying SCM_TIMESTAMPNS
// (socket(7): a struct timespec of the kernel's receive time,
// CLOCK_REALTIME).
const (
	solSocket      = 1
	scmTimestampNS = 35 // SO_TIMESTAMPNS_OLD == SCM_TIMESTAMPNS on x86-64 and arm64
	cmsgHdrLen     = 16
)

// rxTime returns the kernel receive time (ns since the Unix epoch) from a
// datagram's control messages; false when none is there.
func rxTime(oob []byte) (int64, bool) {
	for len(oob) >= cmsgHdrLen {
		l := binary.NativeEndian.Uint64(oob)
		level := int32(binary.NativeEndian.Uint32(oob[8:]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:]))
		if l < cmsgHdrLen || l > uint64(len(oob)) {
			return 0, false
		}
		if level == solSocket && typ == scmTimestampNS && l >= cmsgHdrLen+16 {
			sec := int64(binary.NativeEndian.Uint64(oob[cmsgHdrLen:]))
			nsec := int64(binary.NativeEndian.Uint64(oob[cmsgHdrLen+8:]))
			return sec*1e9 + nsec, true
		}
		next := (l + 7) &^ 7
		if next > uint64(len(oob)) {
			return 0, false
		}
		oob = oob[next:]
	}
	return 0, false
}

// hist counts durations in buckets of width up to its limit, and longer
// ones in coarse buckets of coarseWidth up to coarseLimit; past that, an
// overflow count (their maximum is kept). Negative durations (clock steps)
// count in bucket 0. Not safe for concurrent use: each goroutine keeps its
// own and merges.
type hist struct {
	width  time.Duration
	counts []uint64
	coarse []uint64
	over   uint64
	n      uint64
	max    time.Duration
	sum    time.Duration
}

// Coarse buckets past a histogram's fine range.
const (
	coarseWidth = time.Millisecond
	coarseLimit = 10 * time.Second
)

func newHist(width, limit time.Duration) *hist {
	return &hist{width: width, counts: make([]uint64, int(limit/width)), coarse: make([]uint64, int(coarseLimit/coarseWidth))}
}

func (h *hist) add(d time.Duration) {
	h.n++
	h.sum += d
	if d > h.max {
		h.max = d
	}
	i := int64(d / h.width)
	switch {
	case i < 0:
		h.counts[0]++
	case i >= int64(len(h.counts)):
		if j := int64(d / coarseWidth); j < int64(len(h.coarse)) {
			h.coarse[j]++
		} else {
			h.over++
		}
	default:
		h.counts[i]++
	}
}

// merge adds o's counts to h (same width and limit).
func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	for i, c := range o.coarse {
		h.coarse[i] += c
	}
	h.over += o.over
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q <= 1) as the upper edge of the
// bucket holding the ceil(q·n)-th smallest sample, the maximum when it is
// past the last bucket, 0 for no samples.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++
	}
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(i+1) * h.width
		}
	}
	for i, c := range h.coarse {
		seen += c
		if seen >= rank {
			return min(time.Duration(i+1)*coarseWidth, h.max)
		}
	}
	return h.max
}

// seqTracker counts the packets of one RTP stream and those lost between
// the first and the highest sequence number received (RFC 3550 A.3:
// extended sequence numbers across the 16-bit wrap; lost = expected -
// received, so a reordered packet fills its gap, and duplicates, which
// loopback does not make, would hide losses).
type seqTracker struct {
	started  bool
	base     uint32 // extended seq of the first packet
	highest  uint32 // highest extended seq
	received uint64
}

func (t *seqTracker) add(seq uint16) {
	t.received++
	if !t.started {
		t.started = true
		t.base, t.highest = uint32(seq), uint32(seq)
		return
	}
	// the extended seq nearest the highest so far
	ext := t.highest&^0xffff | uint32(seq)
	switch d := int64(ext) - int64(t.highest); {
	case d > 1<<15:
		ext -= 1 << 16
	case d < -(1 << 15):
		ext += 1 << 16
	}
	if int32(ext-t.highest) > 0 {
		t.highest = ext
	}
}

// expected is how many packets the sequence numbers span.
func (t *seqTracker) expected() uint64 {
	if !t.started {
		return 0
	}
	return uint64(t.highest-t.base) + 1
}

// lost is the number of sequence numbers in the span never received.
func (t *seqTracker) lost() uint64 {
	if e := t.expected(); e > t.received {
		return e - t.received
	}
	return 0
}
