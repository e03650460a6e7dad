package relay

import "time"

// RTCP packet types (RFC 3550 §12.1).
const (
	ptSR   = 200
	ptRR   = 201
	ptSDES = 202
	ptBYE  = 203
)

// outView is a snapshot of a leg's outgoing stream for RTCP translation.
type outView struct {
	rewrite, anchored bool
	ssrc, inSSRC      uint32
	seqOff            uint16
	tsOff, ts         uint32
	at                time.Time
	clock             int
	pkts, octets      uint32
}

func (l *Leg) outView() outView {
	l.mu.Lock()
	o := l.out
	l.mu.Unlock()
	clock := 8000
	if c := l.codec.Load(); c != nil {
		clock = c.clock()
	}
	out := l.st.out.Load()
	return outView{rewrite: o.rewrite, anchored: o.anchored, ssrc: o.ssrc, inSSRC: o.inSSRC,
		seqOff: o.seqOff, tsOff: o.tsOff, ts: o.ts, at: o.at, clock: clock,
		pkts: uint32(out), octets: uint32(l.st.bytesOut.Load() - 12*out)}
}

// translateRTCP rewrites, in place, a valid RTCP compound packet read on
// from before it is relayed to to's peer, so that it stays consistent
// with the RTP streams once prompts made the relay rewrite them
// (RFC 3550 §7.2, a translator that changes SSRC, sequence numbers and
// timestamps must change the RTCP that describes them):
//
//   - when to's outgoing stream is rewritten, the stream's original SSRC
//     in SR, RR, SDES and BYE becomes the rewritten one, and an SR's
//     sender info (RFC 3550 §6.4.1) gets the RTP timestamp on the
//     rewritten timeline and the packet and octet counts of what to
//     actually sent (prompts included);
//   - when from's outgoing stream is rewritten, report blocks about it
//     (SR and RR, §6.4.1) get the SSRC of the stream it relays and an
//     extended highest sequence number back in that stream's numbering.
//
// Reports the relay cannot map (about a stream that only carried prompts
// so far) pass unchanged: their sender ignores an SSRC it does not own.
// It does not scale SR timestamps between different clocks (Opus and
// 8 kHz legs); the relay's taps never see RTCP.
func translateRTCP(pkt []byte, from, to *Leg, now time.Time) []byte {
	tv, fv := to.outView(), from.outView()
	if !tv.rewrite && !fv.rewrite {
		return pkt
	}
	sender := func(b []byte) {
		if tv.rewrite && tv.inSSRC != 0 && be32(b) == tv.inSSRC {
			put32(b, tv.ssrc)
		}
	}
	blocks := func(b []byte, n int) {
		if !fv.rewrite || fv.inSSRC == 0 {
			return
		}
		for i := 0; i < n && len(b) >= 24*(i+1); i++ {
			rb := b[24*i:]
			if be32(rb) != fv.ssrc {
				continue
			}
			put32(rb, fv.inSSRC)
			ext := be32(rb[12:])
			put32(rb[12:], ext&0xffff0000|uint32(uint16(ext)-fv.seqOff))
		}
	}
	for b := pkt; len(b) >= 4; {
		n := 4 * (int(b[2])<<8 | int(b[3]) + 1)
		if n > len(b) {
			break
		}
		p := b[:n]
		count := int(p[0] & 0x1f)
		switch p[1] {
		case ptSR:
			if len(p) >= 28 {
				if tv.rewrite && tv.inSSRC != 0 && be32(p[4:]) == tv.inSSRC {
					put32(p[4:], tv.ssrc)
					ts := be32(p[16:])
					if tv.anchored {
						ts += tv.tsOff
					} else {
						ts = tv.ts + ticksSince(tv.at, now, tv.clock)
					}
					put32(p[16:], ts)
					put32(p[20:], tv.pkts)
					put32(p[24:], tv.octets)
				}
				blocks(p[28:], count)
			}
		case ptRR:
			if len(p) >= 8 {
				sender(p[4:])
				blocks(p[8:], count)
			}
		case ptSDES:
			sdesChunks(p, count, sender)
		case ptBYE:
			for i := 0; i < count && 8+4*i <= len(p); i++ {
				sender(p[4+4*i:])
			}
		}
		b = b[n:]
	}
	return pkt
}

// sdesChunks calls fn with the SSRC of each of the n chunks of an SDES
// packet (RFC 3550 §6.5): an SSRC, items (type, length, text) ended by
// a null octet, padded to 32 bits.
func sdesChunks(p []byte, n int, fn func([]byte)) {
	pos := 4
	for range n {
		if pos+4 > len(p) {
			return
		}
		fn(p[pos:])
		pos += 4
		for pos < len(p) && p[pos] != 0 {
			if pos+1 >= len(p) {
				return
			}
			pos += 2 + int(p[pos+1])
		}
		pos = (pos + 4) &^ 3 // past the null octet, to the next word
	}
}
