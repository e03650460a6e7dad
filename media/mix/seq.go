package mix

// Sequence-number bookkeeping of one SSRC, after RFC 3550 Appendix A.1:
// 16-bit sequence numbers are extended to 64 bits across wrap-arounds, a
// jump of more than maxDropout restarts the run only when the next packet
// confirms it, and the expected count of a run is max - base + 1.

const (
	maxDropout  = 3000 // RFC 3550 A.1 MAX_DROPOUT
	maxMisorder = 100  // RFC 3550 A.1 MAX_MISORDER
	seqWindow   = 1024 // sequence numbers remembered for duplicate detection
)

// seqVerdict classifies one sequence number.
type seqVerdict uint8

const (
	seqFirst seqVerdict = iota // first packet of a run (start, or confirmed restart)
	seqNext                    // newer than every packet so far
	seqOld                     // older than the newest, not seen before (reordered)
	seqDup                     // seen before
	seqProbe                   // a large jump waiting for confirmation; not counted
)

// seqState is one run of sequence numbers. The zero value is ready to use.
type seqState struct {
	init   bool
	probe  bool
	badSeq uint16
	base   int64  // lowest extended sequence number of the run
	max    int64  // highest extended sequence number of the run
	recvd  uint64 // distinct sequence numbers of the run received
	seen   [seqWindow / 64]uint64
}

func (q *seqState) bit(ext int64) (int, uint64) {
	i := uint64(ext) & (seqWindow - 1)
	return int(i >> 6), 1 << (i & 63)
}

func (q *seqState) start(seq uint16) {
	q.init, q.probe = true, false
	q.base, q.max, q.recvd = int64(seq), int64(seq), 1
	q.seen = [seqWindow / 64]uint64{}
	w, b := q.bit(q.max)
	q.seen[w] |= b
}

// lost is the RFC 3550 §6.4.1 cumulative loss of the run: expected minus
// received, never negative.
func (q *seqState) lost() uint64 {
	if !q.init {
		return 0
	}
	exp := uint64(q.max-q.base) + 1
	if exp <= q.recvd {
		return 0
	}
	return exp - q.recvd
}

// update records seq and returns its extended value, its verdict, and the
// loss of a run that a confirmed restart just closed.
func (q *seqState) update(seq uint16) (ext int64, v seqVerdict, closed uint64) {
	if !q.init {
		q.start(seq)
		return q.max, seqFirst, 0
	}
	d := seq - uint16(q.max)
	switch {
	case d == 0:
		return q.max, seqDup, 0
	case d < maxDropout:
		ext = q.max + int64(d)
		if d >= seqWindow {
			q.seen = [seqWindow / 64]uint64{}
		} else {
			for e := q.max + 1; e < ext; e++ {
				w, b := q.bit(e)
				q.seen[w] &^= b
			}
		}
		w, b := q.bit(ext)
		q.seen[w] |= b
		q.max = ext
		q.recvd++
		q.probe = false
		return ext, seqNext, 0
	case d > 65535-maxMisorder:
		// Behind the newest by at most maxMisorder: reordered or duplicate.
		ext = q.max - int64(65536-int(d))
		w, b := q.bit(ext)
		if ext >= q.base && q.seen[w]&b != 0 {
			return ext, seqDup, 0
		}
		if ext < q.base {
			q.base = ext // reordered ahead of the run's first packet
		}
		q.seen[w] |= b
		q.recvd++
		return ext, seqOld, 0
	default:
		if q.probe && seq == q.badSeq {
			closed = q.lost()
			q.start(seq)
			return q.max, seqFirst, closed
		}
		q.probe, q.badSeq = true, seq+1
		return 0, seqProbe, 0
	}
}
