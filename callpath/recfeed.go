package callpath

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/mix"
)

// sender is where a streamFeed hands its packets: a *siprecclient.Session.
type sender interface {
	Send(stream int, payload []byte, ts uint32)
}

// streamFeed carries one party's audio into one stream of a recording's SIPREC
// session. The stream's codec is fixed when the session is negotiated
// (RFC 7866 §8.1.1); the party's codec may change mid-call: a re-INVITE
// that switches codecs (RFC 3264 §8.3.2) or a transfer whose target
// answers with another one. When the two differ, the feed decodes the
// party's audio and encodes it in the stream's codec, so the recording
// keeps the party's voice rather than go silent. It also keeps the
// stream's RTP timestamps continuous (RFC 3550 §5.1) when the party's
// source changes (another codec, clock or SSRC): the first packet of the
// new source is placed after the last one by arrival time.
//
// The relay's reading goroutine of the party's leg calls forward for each
// packet; a transfer may briefly bring a second one, hence the mutex.
// forward allocates nothing once a source's codec is set up.
type streamFeed struct {
	mu    sync.Mutex
	ready bool
	dst   relay.Codec // the stream's negotiated codec
	src   relay.Codec // the codec of the packets forwarded now
	have  bool        // src is set
	dec   media.Decoder
	enc   media.Encoder // nil: src and dst are the same, payloads pass as they are
	pcm   []int16
	out   []byte
	bad   bool // the src codec cannot be transcoded to dst: its packets are dropped

	num, den int64 // dst clock / src clock
	based    bool
	rebase   bool
	ssrc     uint32
	lastIn   uint32
	lastOut  uint32
	lastAt   time.Time
}

// init sets the stream's negotiated codec (before the session's first
// packet).
func (f *streamFeed) init(dst relay.Codec) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dst, f.ready = dst, true
	f.have, f.based = false, false
}

// sameMedia reports whether payloads of a can be sent as b's: same
// encoding and RTP clock (payload types may differ, the stream writes
// its own).
func sameMedia(a, b relay.Codec) bool {
	return strings.EqualFold(a.Name, b.Name) && clockOf(a) == clockOf(b) && max(a.Channels, 1) == max(b.Channels, 1)
}

// use makes src the codec of the packets forwarded from now on, setting
// up a transcoder when it differs from the stream's codec.
func (f *streamFeed) use(src relay.Codec) error {
	if f.have && sameMedia(f.src, src) {
		return nil
	}
	f.src, f.have, f.rebase, f.bad = src, true, true, false
	f.dec, f.enc = nil, nil
	f.num, f.den = int64(clockOf(f.dst)), int64(clockOf(src))
	if sameMedia(src, f.dst) {
		return nil
	}
	rate := media.NativeRate(f.dst.Name, clockOf(f.dst))
	dec, err := media.NewDecoder(src.Name, clockOf(src), src.Channels, rate)
	if err == nil {
		f.dec = dec
		f.enc, err = media.NewEncoder(f.dst.Name, clockOf(f.dst), f.dst.Channels)
	}
	if err != nil {
		f.bad, f.dec, f.enc = true, nil, nil
		return fmt.Errorf("callpath: recording stream %s from %s: %w", f.dst.Name, src.Name, err)
	}
	if f.pcm == nil {
		f.pcm = make([]int16, 0, 48000*120/1000)
		f.out = make([]byte, 0, 1500)
	}
	return nil
}

// ts maps the party's RTP timestamp to the stream's clock: the first
// packet keeps its timestamp, later ones follow the signed distance from
// the previous one (rescaled when the clocks differ), and the first
// packet of a new source goes after the last one by the time between
// their arrivals.
func (f *streamFeed) ts(h *mix.Header, at time.Time) uint32 {
	var out uint32
	switch {
	case !f.based:
		out = uint32(int64(h.Timestamp) * f.num / f.den)
	case f.rebase || h.SSRC != f.ssrc:
		gap := max(at.Sub(f.lastAt), 0)
		out = f.lastOut + uint32(int64(gap)*f.num/int64(time.Second))
	default:
		out = f.lastOut + uint32(int64(int32(h.Timestamp-f.lastIn))*f.num/f.den)
	}
	f.based, f.rebase = true, false
	f.ssrc, f.lastIn, f.lastOut, f.lastAt = h.SSRC, h.Timestamp, out, at
	return out
}

// forward hands one audio packet of the party (codec src, parsed header
// h, payload) to stream of s, transcoded to the stream's codec when they
// differ. It reports an error only when a new src cannot be transcoded
// (once; its packets are dropped).
func (f *streamFeed) forward(s sender, stream int, src relay.Codec, h *mix.Header, payload []byte, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ready {
		return nil
	}
	if !f.have || !sameMedia(f.src, src) {
		if err := f.use(src); err != nil {
			return err
		}
	}
	if f.bad {
		return nil
	}
	ts := f.ts(h, at)
	if f.enc == nil {
		s.Send(stream, payload, ts)
		return nil
	}
	pcm, err := f.dec.Decode(f.pcm[:0], payload)
	if cap(pcm) > cap(f.pcm) {
		f.pcm = pcm[:0]
	}
	if err != nil || len(pcm) == 0 {
		return nil // a damaged packet: the stream misses it, as the relay would
	}
	out, err := f.enc.Encode(f.out[:0], pcm)
	if cap(out) > cap(f.out) {
		f.out = out[:0]
	}
	if err != nil {
		return nil
	}
	s.Send(stream, out, ts)
	return nil
}

// retap sets the recordings' taps on bridge br again after a leg's codec
// changed, so that they take the new codec's packets (the relay keeps the
// old taps, which filter on the old payload type). A call without
// recordings, or a voicemail deposit (its tap keeps the message), keeps
// its taps.
func (c *call) retap(br *relay.Bridge) {
	c.mu.Lock()
	recs, codecA, codecB, vm := c.recs, c.codecA, c.codecB, c.fx.voicemail
	c.mu.Unlock()
	if len(recs) == 0 || vm {
		return
	}
	br.Tap(relay.A, c.tap(relay.A, codecA, recs))
	br.Tap(relay.B, c.tap(relay.B, codecB, recs))
}
