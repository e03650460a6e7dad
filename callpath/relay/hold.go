package relay

import "fmt"

// Mute sets whether what the party on side s sends is relayed: a muted
// side's RTP (audio, comfort noise and telephone-events) is read, counted
// in Stats.Muted and dropped, and reaches no tap and no DigitFunc. The
// B2BUA mutes the direction a hold (RFC 3264 §8.4) stopped: the held
// party's audio does not reach the party that put it on hold. RTCP still
// flows. Prompts toward either side still play.
func (br *Bridge) Mute(s Side, on bool) {
	br.mu.Lock()
	br.dirs[s&1].mute.Store(on)
	br.mu.Unlock()
}

// Muted reports whether side s is muted.
func (br *Bridge) Muted(s Side) bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.dirs[s&1].mute.Load()
}

// SetCodec changes the codec of side s on a live bridge (a re-INVITE
// that changed the codec, RFC 3264 §8.3.2): both directions are rebuilt,
// transcoding when the legs' codecs now differ and passing through when
// they are the same, and keep their tap, swallow and mute settings. A
// codec the relay cannot transcode to or from is refused and nothing
// changes. Packets in flight on the old directions finish there.
func (br *Bridge) SetCodec(s Side, c Codec) error {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.detach {
		return fmt.Errorf("relay: set codec on side %s: %w", s, ErrClosed)
	}
	s &= 1
	c.ClockRate = c.clock()
	codecs := [2]Codec{}
	for k := range 2 {
		cur, ok := br.legs[k].Codec()
		if !ok {
			return fmt.Errorf("relay: set codec on side %s: %w", s, ErrNoCodec)
		}
		codecs[k] = cur
	}
	codecs[s] = c
	var dirs [2]*direction
	for k := range 2 {
		d, err := newDirection(br, Side(k), br.legs[k], br.legs[1-k], codecs[k], codecs[1-k])
		if err != nil {
			return fmt.Errorf("relay: set codec %s on side %s: %w", c.Name, s, err)
		}
		old := br.dirs[k]
		d.tap.Store(old.tap.Load())
		d.swallow.Store(old.swallow.Load())
		d.mute.Store(old.mute.Load())
		dirs[k] = d
	}
	br.legs[s].SetCodec(c)
	for k := range 2 {
		br.legs[k].sink.CompareAndSwap(br.dirs[k], dirs[k])
		br.dirs[k] = dirs[k]
	}
	return nil
}
