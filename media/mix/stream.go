package mix

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callrec/callrec"
)

const (
	maxSSRCs = 4 // SSRCs remembered per stream; the least recently used is forgotten

	jumpLimit   = time.Second            // timestamp vs arrival disagreement that re-anchors
	driftWindow = 2 * time.Second        // arrivals over which the minimum offset is taken
	deadband    = 10 * time.Millisecond  // offsets this small are left alone
	maxStep     = 20 * time.Millisecond  // largest anchor move per window
	snapBefore  = 20 * time.Millisecond  // a new anchor this close before the stream's end...
	snapAfter   = 60 * time.Millisecond  // ...or this close after it continues the stream seamlessly
	smallHole   = 2 * time.Millisecond   // holes this short between packets are bridged
	minScratch  = 2048                   // decode buffer, samples
	scratchTime = 120 * time.Millisecond // longest usual frame (Opus)
)

// span is a half-open range of output positions.
type span struct{ start, end int64 }

type codecEntry struct {
	Codec
	ok bool
}

// codecTable maps the 7-bit payload type to its codec. It is replaced, never
// modified, by SetCodecs.
type codecTable [128]codecEntry

var noCodecs codecTable

// ssrcState is what a stream knows of one SSRC: its sequence run and the
// anchor that maps its RTP timestamps to output positions.
type ssrcState struct {
	ssrc uint32
	used uint64 // LRU stamp
	seq  seqState

	anchored  bool
	clock     int64 // RTP clock rate the anchor is in
	anchorTS  int64 // extended RTP timestamp of the anchor
	anchorPos int64 // output position of anchorTS
	maxTS     int64 // highest extended timestamp; reference for extending

	lastEnd int64 // end position of the newest (highest sequence) packet
	haveEnd bool

	// a hole before the newest packet that the one missing sequence
	// number holeSeq would complete (see settle)
	hasHole          bool
	holeFrom, holeTo int64
	holeSeq          int64

	// drift tracking (see the package comment)
	winOpen  bool
	firstWin bool
	winStart int64 // arrival position opening the window
	winMin   int64 // minimum of arrival - timestamp position in the window
	hasShift bool
	shift    int64 // last anchor move, samples
	shiftSeq int64 // first extended sequence number placed with it
}

// extTS extends a 32-bit RTP timestamp around the newest one seen.
func (st *ssrcState) extTS(ts uint32) int64 {
	return st.maxTS + int64(int32(ts-uint32(st.maxTS)))
}

// posOf returns the output position of extended timestamp e.
func (st *ssrcState) posOf(e, rate int64) int64 {
	return st.anchorPos + floorDiv((e-st.anchorTS)*rate, st.clock)
}

type dtmfKey struct{ ssrc, ts uint32 }

// dtmfState follows the telephone event in progress and the last few
// reported. Per RFC 4733 (§2.3 and the sending procedures of §2.5) every
// packet of one event carries the event's start timestamp and the final
// packet is sent three times, so an event is keyed by (SSRC, timestamp) and
// late retransmissions of a reported event are dropped.
type dtmfState struct {
	active, ended bool
	key           dtmfKey
	event         uint8
	dur           uint16
	pos, clock    int64
	recent        [4]dtmfKey
	recentOK      [4]bool
	next          int
}

// Stream is one RTP stream of a recording (one SDP m-line). Push is called
// by the stream's single reader goroutine; every other method is safe to
// call from any goroutine.
type Stream struct {
	label   string
	channel int
	tl      timeline
	cap     int64 // ring samples, a power of two
	mask    int64
	// limits in samples
	jump, driftWin, deadband, maxStep, snapBefore, snapAfter, smallHole int64

	last atomic.Int64 // UnixNano of the last accepted packet

	mu         sync.Mutex
	codecs     *codecTable
	paused     bool
	pauses     []span // paused spans not yet read; end is MaxInt64 while open
	readPos    int64
	ring       []int16
	filled     []uint64 // one bit per ring sample: covered by the sender
	hasAudio   bool
	maxEnd     int64 // end of the latest audio written
	ssrcs      [maxSSRCs]ssrcState
	nssrc      int
	tick       uint64
	anySSRC    bool
	lastSSRC   uint32
	lostClosed uint64
	st         callrec.StreamStats
	gapSamples int64
	seen       bool  // gap scan: covered sample seen in this active segment
	runLen     int64 // gap scan: uncovered samples since, ending at readPos
	dtmf       dtmfState
	events     []callrec.DTMFEvent
	scratch    []int16
}

func newStream(m *Mixer, label string, channel int) *Stream {
	rate := m.tl.rate
	samples := func(d time.Duration) int64 { return int64(d) * rate / int64(time.Second) }
	return &Stream{
		label:      label,
		channel:    channel,
		tl:         m.tl,
		cap:        m.capacity,
		mask:       m.capacity - 1,
		jump:       samples(jumpLimit),
		driftWin:   samples(driftWindow),
		deadband:   samples(deadband),
		maxStep:    samples(maxStep),
		snapBefore: samples(snapBefore),
		snapAfter:  samples(snapAfter),
		smallHole:  samples(smallHole),
		codecs:     &noCodecs,
		ring:       make([]int16, m.capacity),
		filled:     make([]uint64, m.capacity/64),
		events:     make([]callrec.DTMFEvent, 0, 8),
		scratch:    make([]int16, 0, max(minScratch, samples(scratchTime))),
	}
}

// Label returns the stream's label.
func (s *Stream) Label() string { return s.label }

// Channel returns the 0-based output channel the stream is written to.
func (s *Stream) Channel() int { return s.channel }

// SetCodecs sets the payload types the stream accepts; packets of other
// types are dropped. It may be called again mid-call (a re-INVITE changed
// the codec). Entries that Codec.Validate rejects, and payload types above
// 127, are left out.
func (s *Stream) SetCodecs(codecs map[uint8]Codec) {
	t := new(codecTable)
	for pt, c := range codecs {
		if pt < 128 && c.Validate(int(s.tl.rate)) == nil {
			t[pt] = codecEntry{Codec: c, ok: true}
		}
	}
	s.mu.Lock()
	s.codecs = t
	s.mu.Unlock()
}

// SetPaused starts or ends a pause at wall-clock time at. While paused,
// packets are dropped (counted as Dropped) and the paused span is written
// as silence, even where audio had already been placed, and is never a
// gap. A telephone event in progress when the pause starts is reported
// with the duration known so far. Resuming forgets the SSRCs' anchors and
// sequence runs, so the first packet after a resume anchors afresh.
func (s *Stream) SetPaused(paused bool, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if paused == s.paused {
		return
	}
	p := max(s.tl.pos(at), s.readPos)
	s.paused = paused
	if paused {
		s.pauses = append(s.pauses, span{p, math.MaxInt64})
		s.flushEvent()
		return
	}
	if k := len(s.pauses) - 1; k >= 0 && s.pauses[k].end == math.MaxInt64 {
		s.pauses[k].end = max(p, s.pauses[k].start)
	}
	for i := range s.nssrc {
		s.lostClosed += s.ssrcs[i].seq.lost()
	}
	s.nssrc = 0
	s.dtmf.active = false
}

// Stats returns the stream's counters. Lost is brought up to date by each
// Read and by Drain.
func (s *Stream) Stats() callrec.StreamStats {
	s.mu.Lock()
	st := s.st
	st.GapMS = s.tl.ms(s.gapSamples)
	s.mu.Unlock()
	return st
}

// LastPacket returns the arrival time of the last accepted packet, or the
// zero time if none. It reads one atomic and never waits for Push.
func (s *Stream) LastPacket() time.Time {
	ns := s.last.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Push takes one raw RTP datagram (RFC 3550) that arrived at arrival. It
// is called from the stream's single reader goroutine; it does not keep
// pkt, allocates nothing and waits only for the stream's own mutex. Every
// call adds one to exactly one of Received, Duplicated, Late and Dropped.
func (s *Stream) Push(pkt []byte, arrival time.Time) {
	h, payload, err := ParseRTP(pkt)
	s.mu.Lock()
	if err != nil || s.paused {
		s.st.Dropped++
	} else {
		s.push(&h, payload, arrival)
	}
	s.mu.Unlock()
}

func (s *Stream) lookup(ssrc uint32) *ssrcState {
	for i := range s.nssrc {
		if s.ssrcs[i].ssrc == ssrc {
			return &s.ssrcs[i]
		}
	}
	return nil
}

// newSSRC makes room for ssrc, forgetting the least recently used SSRC
// (its loss is kept) when the table is full.
func (s *Stream) newSSRC(ssrc, ts uint32) *ssrcState {
	var st *ssrcState
	if s.nssrc < maxSSRCs {
		st = &s.ssrcs[s.nssrc]
		s.nssrc++
	} else {
		st = &s.ssrcs[0]
		for i := 1; i < maxSSRCs; i++ {
			if s.ssrcs[i].used < st.used {
				st = &s.ssrcs[i]
			}
		}
		s.lostClosed += st.seq.lost()
	}
	*st = ssrcState{ssrc: ssrc, maxTS: int64(ts)}
	return st
}

// seqUpdate runs the RFC 3550 A.1 bookkeeping; a confirmed restart of the
// sequence run also ends the run's drift bookkeeping.
func (s *Stream) seqUpdate(st *ssrcState, seq uint16) (int64, seqVerdict) {
	ext, v, closed := st.seq.update(seq)
	s.lostClosed += closed
	if v == seqFirst {
		st.hasShift, st.haveEnd, st.hasHole = false, false, false
	}
	return ext, v
}

func (s *Stream) push(h *Header, payload []byte, arrival time.Time) {
	c := &s.codecs[h.PayloadType]
	st := s.lookup(h.SSRC)
	if !c.ok {
		// Unknown payload type (comfort noise, say): dropped, but its
		// sequence number was received, so it is not lost.
		if st != nil {
			s.seqUpdate(st, h.SequenceNumber)
		}
		s.st.Dropped++
		return
	}
	if st == nil {
		st = s.newSSRC(h.SSRC, h.Timestamp)
		if s.anySSRC && h.SSRC != s.lastSSRC {
			s.st.SSRCChanges++
		}
	}
	s.anySSRC, s.lastSSRC = true, h.SSRC
	s.tick++
	st.used = s.tick
	prevMax := st.seq.max
	ext, v := s.seqUpdate(st, h.SequenceNumber)
	switch v {
	case seqDup:
		s.st.Duplicated++
		return
	case seqProbe:
		s.st.Dropped++
		return
	}
	sq := seqInfo{ext: ext, prev: prevMax, v: v}
	arr := s.tl.pos(arrival)
	if c.DTMF {
		s.pushEvent(st, h, payload, c, arr, sq, arrival)
		return
	}
	s.pushAudio(st, h, payload, c, arr, sq, arrival)
}

// seqInfo is the sequence verdict of the packet being pushed.
type seqInfo struct {
	ext, prev int64 // its extended sequence number; the newest before it
	v         seqVerdict
}

// fresh says the packet is newer than all before it (or starts a run).
func (q seqInfo) fresh() bool { return q.v != seqOld }

// settle records where a packet landed. A hole between it and the packet
// with the previous sequence number is silence the sender chose (silence
// suppression, hold, a pause in events), not a gap, so it is covered; so
// is a hole that one reordered packet completes later. A hole of a few
// samples (a decoder that returned a little less than the timestamps
// step) is bridged with a ramp to next, the packet's audio, if any.
func (s *Stream) settle(st *ssrcState, sq seqInfo, start, end int64, next []int16) {
	if sq.v == seqOld {
		if st.hasHole && sq.ext == st.holeSeq {
			s.cover(st.holeFrom, start)
			s.cover(end, st.holeTo)
			st.hasHole = false
		}
		return
	}
	st.hasHole = false
	if sq.v == seqNext && st.haveEnd && st.lastEnd < start {
		switch {
		case sq.ext == sq.prev+1 && next != nil && start-st.lastEnd <= s.smallHole:
			s.fillRamp(st.lastEnd, start, next)
		case sq.ext == sq.prev+1:
			s.cover(st.lastEnd, start)
		case sq.ext == sq.prev+2:
			st.hasHole, st.holeFrom, st.holeTo, st.holeSeq = true, st.lastEnd, start, sq.ext-1
		}
	}
	st.lastEnd, st.haveEnd = end, true
}

func (s *Stream) pushAudio(st *ssrcState, h *Header, payload []byte, c *codecEntry, arr int64, sq seqInfo, arrival time.Time) {
	fresh := sq.fresh()
	clock := int64(c.ClockRate)
	e := st.extTS(h.Timestamp)
	var start, ramp int64
	if !st.anchored || st.clock != clock {
		// First packet of the SSRC, or its RTP clock changed with the codec.
		s.anchor(st, e, arr, clock)
		start = st.anchorPos
	} else {
		start = st.posOf(e, s.tl.rate)
		if st.hasShift && sq.ext < st.shiftSeq {
			start -= st.shift
		}
		diff := arr - start
		switch {
		case diff > s.jump || diff < -s.jump:
			if !fresh {
				// An old packet far from where its timestamp puts it.
				if diff > 0 {
					s.st.Late++
				} else {
					s.st.Dropped++
				}
				return
			}
			s.st.TimestampJumps++
			s.anchor(st, e, arr, clock)
			start = st.anchorPos
		case fresh:
			ramp = s.track(st, diff, sq.ext, arr)
			start += ramp
		}
		st.maxTS = max(st.maxTS, e)
	}

	out, err := c.Decoder.Decode(s.scratch[:0], payload)
	if err != nil {
		s.st.Dropped++
		return
	}
	if cap(out) > cap(s.scratch) {
		s.scratch = make([]int16, 0, cap(out)) // once: the next decode fits
	}
	if int64(len(out)) > s.cap {
		out = out[:s.cap]
	}
	n := int64(len(out))
	end := start + n
	if hi := s.readPos + s.cap; end > hi {
		// Beyond the ring: re-anchor at the arrival if that fits, else
		// keep what fits (nothing, if the flusher has stalled).
		if fresh && arr != start && arr+n <= hi {
			s.st.TimestampJumps++
			s.anchor(st, e, arr, clock)
			start, end, ramp = st.anchorPos, st.anchorPos+n, 0
		} else if start >= hi {
			s.st.Dropped++
			return
		}
	}
	if end <= s.readPos && end > 0 {
		s.st.Late++
		return
	}
	if ramp > 0 {
		s.fillRamp(start-ramp, start, out)
	}
	s.settle(st, sq, start, end, out)
	s.write(start, out)
	if !s.hasAudio || end > s.maxEnd {
		s.maxEnd = end
	}
	s.hasAudio = true
	s.st.Received++
	s.last.Store(arrival.UnixNano())
}

// anchor maps extended timestamp e to position pos. A new anchor that
// falls just around the end of the stream's audio (a new SSRC or a restart
// of the sender's timestamps mid-talk) continues it without a hole.
func (s *Stream) anchor(st *ssrcState, e, pos, clock int64) {
	if s.hasAudio {
		if d := pos - s.maxEnd; d >= -s.snapBefore && d <= s.snapAfter {
			pos = s.maxEnd
		}
	}
	st.anchored, st.anchorTS, st.anchorPos, st.clock, st.maxTS = true, e, pos, clock, e
	st.winOpen, st.firstWin, st.hasShift = false, true, false
}

// track feeds the offset diff (arrival - timestamp position) of an in-order
// packet to the drift window and returns the anchor move it caused.
func (s *Stream) track(st *ssrcState, diff, extSeq, arr int64) int64 {
	if !st.winOpen {
		st.winOpen, st.winStart, st.winMin = true, arr, diff
		return 0
	}
	st.winMin = min(st.winMin, diff)
	if arr-st.winStart < s.driftWin {
		return 0
	}
	m, first := st.winMin, st.firstWin
	st.winOpen, st.firstWin = false, false
	if m >= -s.deadband && m <= s.deadband {
		return 0
	}
	lo := -s.maxStep
	if first {
		lo = -s.jump // no packet arrives before it is sent: trust an early one
	}
	k := min(max(m, lo), s.maxStep)
	st.anchorPos += k
	st.shift, st.shiftSeq, st.hasShift = k, extSeq, true
	return k
}

func (s *Stream) pushEvent(st *ssrcState, h *Header, payload []byte, c *codecEntry, arr int64, sq seqInfo, arrival time.Time) {
	ev, err := ParseTelephoneEvent(payload)
	if err != nil {
		s.st.Dropped++
		return
	}
	clock := int64(c.ClockRate)
	dur := int64(ev.Duration) * s.tl.rate / clock
	e := st.extTS(h.Timestamp)
	if !st.anchored {
		s.anchor(st, e, arr-dur, clock) // the event started dur ago
	}
	pos := st.posOf(e, s.tl.rate)
	if st.hasShift && sq.ext < st.shiftSeq {
		pos -= st.shift
	}
	if pos < arr-dur-s.jump || pos > arr+s.jump {
		s.st.Dropped++ // its timestamp contradicts its arrival
		return
	}
	st.maxTS = max(st.maxTS, e)
	s.cover(pos, pos+dur) // an event's span is silence, not a gap
	s.settle(st, sq, pos, pos+dur, nil)
	s.st.Received++
	s.last.Store(arrival.UnixNano())
	s.event(dtmfKey{h.SSRC, h.Timestamp}, ev, pos, clock)
}

// event reports one DTMF event per RFC 4733 event: when its first end
// packet arrives, or when a new event starts without one.
func (s *Stream) event(k dtmfKey, ev TelephoneEvent, pos, clock int64) {
	d := &s.dtmf
	if d.active && d.key == k {
		if !d.ended {
			d.dur = max(d.dur, ev.Duration)
			if ev.End {
				s.flushEvent()
			}
		}
		return
	}
	for i, r := range d.recent {
		if d.recentOK[i] && r == k {
			return // a late retransmission of an event already reported
		}
	}
	s.flushEvent()
	d.active, d.ended, d.key, d.event, d.dur, d.pos, d.clock = true, false, k, ev.Event, ev.Duration, pos, clock
	if ev.End {
		s.flushEvent()
	}
}

// flushEvent reports the event in progress, if any.
func (s *Stream) flushEvent() {
	d := &s.dtmf
	if !d.active || d.ended {
		return
	}
	d.ended = true
	p := max(d.pos, 0)
	s.events = append(s.events, callrec.DTMFEvent{
		Digit:       DigitName(d.event),
		Time:        s.tl.time(p),
		OffsetMS:    s.tl.ms(p),
		DurationMS:  int64(d.dur) * 1000 / d.clock,
		StreamLabel: s.label,
	})
	d.recent[d.next], d.recentOK[d.next] = d.key, true
	d.next = (d.next + 1) % len(d.recent)
}

// write copies samples to positions [start, start+len) of the ring, the
// part inside [readPos, readPos+cap) only, and marks them covered.
func (s *Stream) write(start int64, samples []int16) {
	a, b := start, start+int64(len(samples))
	if a < s.readPos {
		samples = samples[min(s.readPos-a, int64(len(samples))):]
		a = s.readPos
	}
	if hi := s.readPos + s.cap; b > hi {
		samples = samples[:max(0, int64(len(samples))-(b-hi))]
		b = hi
	}
	if a >= b {
		return
	}
	i := a & s.mask
	k := copy(s.ring[i:], samples)
	copy(s.ring, samples[k:])
	s.setBits(a, b)
}

// fillRamp bridges the hole [a, b) left by moving an anchor later with a
// straight line from the sample before it to the first of next.
func (s *Stream) fillRamp(a, b int64, next []int16) {
	var left, right int64
	if a-1 >= s.readPos {
		left = int64(s.ring[(a-1)&s.mask])
	}
	if len(next) > 0 {
		right = int64(next[0])
	}
	s.cover(a, b)
	n := b - a + 1
	for p := max(a, s.readPos); p < b && p < s.readPos+s.cap; p++ {
		s.ring[p&s.mask] = int16(left + (right-left)*(p-a+1)/n)
	}
}

// cover marks [a, b) as covered by the sender without writing samples. If
// it reaches back over the pending run of uncovered samples before
// readPos, that part of the run is forgiven.
func (s *Stream) cover(a, b int64) {
	if a >= b {
		return
	}
	if a < s.readPos {
		if b >= s.readPos && s.runLen > 0 {
			if runStart := s.readPos - s.runLen; a <= runStart {
				s.runLen = 0
			} else {
				s.runLen = a - runStart
			}
		}
		a = s.readPos
	}
	b = min(b, s.readPos+s.cap)
	if a < b {
		s.setBits(a, b)
	}
}

// setBits and clearBits mark positions [a, b), b-a <= cap.
func (s *Stream) setBits(a, b int64)   { s.bitRange(a, b, true) }
func (s *Stream) clearBits(a, b int64) { s.bitRange(a, b, false) }

func (s *Stream) bitRange(a, b int64, set bool) {
	i := a & s.mask
	j := i + (b - a)
	if j > s.cap {
		s.bitIdx(i, s.cap, set)
		i, j = 0, j-s.cap
	}
	s.bitIdx(i, j, set)
}

func (s *Stream) bitIdx(lo, hi int64, set bool) {
	for lo < hi {
		off := lo & 63
		n := min(64-off, hi-lo)
		m := (^uint64(0) >> uint(64-n)) << uint(off)
		if set {
			s.filled[lo>>6] |= m
		} else {
			s.filled[lo>>6] &^= m
		}
		lo += n
	}
}

// readInto hands out positions [a, a+n) to out (interleaved, c channels,
// this stream's channel ch; nil when the caller copied them already),
// counts gaps, and frees the span.
func (s *Stream) readInto(a, n int64, out []int16, ch, c int, solo bool) {
	b := a + n
	for p := a; p < b; {
		q, paused := s.segment(p, b)
		if paused {
			s.seen, s.runLen = false, 0
		} else {
			if out != nil {
				s.copyOut(p, q, out[int(p-a)*c+ch:], c, solo)
			}
			s.scan(p, q)
		}
		p = q
	}
	i := a & s.mask
	if j := i + n; j > s.cap {
		clear(s.ring[i:])
		clear(s.ring[:j-s.cap])
	} else {
		clear(s.ring[i:j])
	}
	s.clearBits(a, b)
	s.readPos = b
	k := 0
	for _, iv := range s.pauses {
		if iv.end > b {
			s.pauses[k] = iv
			k++
		}
	}
	s.pauses = s.pauses[:k]
	s.st.Lost = s.lost()
}

// segment returns the end of the paused or active stretch starting at p.
func (s *Stream) segment(p, b int64) (int64, bool) {
	next := b
	for _, iv := range s.pauses {
		if iv.end <= p || iv.start >= iv.end {
			continue
		}
		if iv.start <= p {
			return min(iv.end, b), true
		}
		next = min(next, iv.start)
	}
	return next, false
}

// copyOut moves ring positions [p, q) to every c-th element of out,
// assigning when the stream is alone on its channel, else adding with
// saturation.
func (s *Stream) copyOut(p, q int64, out []int16, c int, solo bool) {
	i := p & s.mask
	for cnt := q - p; cnt > 0; {
		seg := min(cnt, s.cap-i)
		src := s.ring[i : i+seg]
		switch {
		case solo && c == 1:
			copy(out, src)
		case solo && c == 2:
			dst := out[:2*len(src)-1]
			for k, v := range src {
				dst[2*k] = v
			}
		default:
			for k, v := range src {
				x := int32(out[k*c]) + int32(v)
				out[k*c] = int16(min(max(x, math.MinInt16), math.MaxInt16))
			}
		}
		out = out[min(int(seg)*c, len(out)):]
		cnt -= seg
		i = 0
	}
}

// scan runs the gap state machine over positions [p, q).
func (s *Stream) scan(p, q int64) {
	i := p & s.mask
	for cnt := q - p; cnt > 0; {
		off := i & 63
		k := min(64-off, cnt)
		w := s.filled[i>>6] >> uint(off)
		if k < 64 {
			w &= 1<<uint(k) - 1
		}
		s.scanWord(w, k)
		i = (i + k) & s.mask
		cnt -= k
	}
}

// scanWord consumes k samples whose covered bits are w (bit 0 first).
func (s *Stream) scanWord(w uint64, k int64) {
	for k > 0 {
		if w == 0 {
			if s.seen {
				s.runLen += k
			}
			return
		}
		z := int64(bits.TrailingZeros64(w))
		if s.seen {
			s.runLen += z
			if s.runLen > 0 {
				s.st.Gaps++
				s.gapSamples += s.runLen
			}
		}
		s.runLen, s.seen = 0, true
		w >>= uint(z)
		k -= z
		o := int64(bits.TrailingZeros64(^w))
		if o >= k {
			return
		}
		w >>= uint(o)
		k -= o
	}
}

// lost is the loss of every SSRC run, closed and current.
func (s *Stream) lost() uint64 {
	n := s.lostClosed
	for i := range s.nssrc {
		n += s.ssrcs[i].seq.lost()
	}
	return n
}

// finish settles the stream at Drain: the silence after its last packet is
// not a gap, and a pending event is reported.
func (s *Stream) finish() {
	s.flushEvent()
	s.seen, s.runLen = false, 0
	s.st.Lost = s.lost()
}
