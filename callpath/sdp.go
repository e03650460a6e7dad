package callpath

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/siprec"
)

// offerCodecs are the audio codecs the B2BUA offers a callee after the
// caller's own (RFC 3551 static payload types for G.711 and G.722).
var offerCodecs = []relay.Codec{
	{Name: media.PCMU, PayloadType: 0, ClockRate: 8000},
	{Name: media.PCMA, PayloadType: 8, ClockRate: 8000},
	{Name: media.G722, PayloadType: 9, ClockRate: 8000},
}

// eventPT is the RFC 4733 telephone-event payload type of our offers.
const eventPT = 101

// staticName names the static payload types of RFC 3551 §6 a peer may
// use without an rtpmap.
func staticName(pt uint8) (string, int) {
	switch pt {
	case 0:
		return media.PCMU, 8000
	case 8:
		return media.PCMA, 8000
	case 9:
		return media.G722, 8000
	}
	return "", 0
}

// known reports whether the relay can transcode name (media knows it).
func known(name string) bool {
	switch name {
	case media.PCMU, media.PCMA, media.G722, media.OPUS:
		return true
	}
	return false
}

// audio is the first audio m-line of an SDP body: where the peer wants
// RTP and which codecs it offers or accepted.
type audio struct {
	rtp, rtcp netip.AddrPort
	codecs    []relay.Codec // audio codecs in the peer's order, EventPT set
	hold      bool
	dir       string // a= direction, "" when absent (sendrecv)
}

// parseAudio reads the first audio m-line of an SDP body (RFC 4566).
func parseAudio(body []byte) (*audio, error) {
	sd, err := siprec.ParseSDP(body)
	if err != nil {
		return nil, fmt.Errorf("callpath: sdp: %w", err)
	}
	for _, m := range sd.Media {
		if m.Type != "audio" || m.Removed() {
			continue
		}
		a := &audio{hold: m.Paused(), dir: m.Direction}
		if m.Addr.IsValid() && m.Port > 0 && m.Port < 65536 {
			a.rtp = netip.AddrPortFrom(m.Addr, uint16(m.Port))
			if m.RTCPPort > 0 && m.RTCPPort < 65536 {
				a.rtcp = netip.AddrPortFrom(m.Addr, uint16(m.RTCPPort))
			}
		}
		var events []siprec.Format
		for _, f := range m.Formats {
			if f.Name == "TELEPHONE-EVENT" {
				events = append(events, f)
			}
		}
		for _, f := range m.Formats {
			name, rate := f.Name, f.ClockRate
			if name == "" {
				name, rate = staticName(f.PT)
			}
			if name == "" || name == "TELEPHONE-EVENT" || name == "CN" {
				continue
			}
			c := relay.Codec{Name: name, PayloadType: f.PT, ClockRate: rate, Channels: f.Channels}
			for _, e := range events {
				if e.ClockRate == 0 || e.ClockRate == rate || (name == media.G722 && e.ClockRate == 8000) {
					c.EventPT = e.PT
					break
				}
			}
			a.codecs = append(a.codecs, c)
		}
		if len(a.codecs) == 0 {
			return nil, fmt.Errorf("callpath: sdp: the audio m-line names no codec")
		}
		return a, nil
	}
	return nil, fmt.Errorf("callpath: sdp: no audio m-line")
}

// pick returns the first of the peer's codecs the relay can handle.
func (a *audio) pick() (relay.Codec, bool) {
	for _, c := range a.codecs {
		if known(c.Name) {
			return c, true
		}
	}
	return relay.Codec{}, false
}

// rtpmap returns the a=rtpmap value of c (RFC 4566 §6).
func rtpmap(c relay.Codec) string {
	rate := c.ClockRate
	if rate == 0 {
		rate = media.ClockRate(c.Name)
	}
	s := fmt.Sprintf("%d %s/%d", c.PayloadType, c.Name, rate)
	if c.Name == media.OPUS {
		// RFC 7587 §7: opus/48000/2 whatever is sent.
		s = fmt.Sprintf("%d opus/48000/2", c.PayloadType)
	}
	return s
}

// buildSDP writes an SDP body (RFC 4566, RFC 3264) with one sendrecv
// audio m-line at rtp carrying codecs, each with its telephone-event.
func buildSDP(sessID uint64, version uint64, rtp netip.AddrPort, codecs []relay.Codec) []byte {
	ipv := "IP4"
	if rtp.Addr().Is6() {
		ipv = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=callrec %d %d IN %s %s\r\ns=callrec\r\nc=IN %s %s\r\nt=0 0\r\n",
		sessID, version, ipv, rtp.Addr(), ipv, rtp.Addr())
	pts := make([]string, 0, len(codecs)+1)
	events := map[uint8]int{}
	for _, c := range codecs {
		pts = append(pts, strconv.Itoa(int(c.PayloadType)))
		if c.EventPT != 0 {
			if _, ok := events[c.EventPT]; !ok {
				rate := c.ClockRate
				if rate == 0 {
					rate = media.ClockRate(c.Name)
				}
				events[c.EventPT] = rate
				pts = append(pts, strconv.Itoa(int(c.EventPT)))
			}
		}
	}
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", rtp.Port(), strings.Join(pts, " "))
	seen := map[uint8]bool{}
	for _, c := range codecs {
		fmt.Fprintf(&b, "a=rtpmap:%s\r\n", rtpmap(c))
		if c.EventPT != 0 && !seen[c.EventPT] {
			seen[c.EventPT] = true
			fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/%d\r\na=fmtp:%d 0-16\r\n", c.EventPT, events[c.EventPT], c.EventPT)
		}
	}
	fmt.Fprintf(&b, "a=rtcp:%d\r\na=ptime:20\r\na=sendrecv\r\n", rtp.Port()+1)
	return []byte(b.String())
}

// calleeOffer is the codec list offered to a callee: the caller's chosen
// codec first (so that no transcoding is needed when the callee takes
// it), then the other codecs the relay handles.
func calleeOffer(first relay.Codec) []relay.Codec {
	first.EventPT = eventPT
	out := []relay.Codec{first}
	for _, c := range offerCodecs {
		if c.Name != first.Name && c.PayloadType != first.PayloadType {
			c.EventPT = eventPT
			out = append(out, c)
		}
	}
	return out
}

// siprecFormat converts a relay codec to the format the SIPREC client
// offers for a stream.
func siprecFormat(c relay.Codec) siprec.Format {
	rate := c.ClockRate
	if rate == 0 {
		rate = media.ClockRate(c.Name)
	}
	ch := c.Channels
	if ch == 0 {
		ch = 1
	}
	return siprec.Format{PT: c.PayloadType, Name: c.Name, ClockRate: rate, Channels: ch}
}
