package siprecclient

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/callrec/callrec/siprec"
)

// Directions of our offer (RFC 3264 §5.1, RFC 7866 §8.1.2).
const (
	dirSendOnly = "sendonly" // recording
	dirInactive = "inactive" // paused
)

// offer builds the RS offer (RFC 7866 §8.1, siprec-interop.md §2.5): one
// m-line per stream, each offering the relay's codec and then PCMU, with
// a=label (RFC 4574) and the direction, lines in v o s c t m order.
func offer(ip netip.Addr, ports [2]int, codecs [2]siprec.Format, sessID, version uint64, dir string) []byte {
	fam := "IP4"
	if ip.Is6() && !ip.Is4In6() {
		fam = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=callrec %d %d IN %s %s\r\ns=callrec SIPREC\r\nc=IN %s %s\r\nt=0 0\r\n", sessID, version, fam, ip, fam, ip)
	for k := range 2 {
		formats := []siprec.Format{codecs[k]}
		if !sameCodec(codecs[k], pcmu) {
			formats = append(formats, pcmu)
		}
		fmt.Fprintf(&b, "m=audio %d RTP/AVP", ports[k])
		for _, f := range formats {
			fmt.Fprintf(&b, " %d", f.PT)
		}
		b.WriteString("\r\n")
		for _, f := range formats {
			fmt.Fprintf(&b, "a=rtpmap:%d %s\r\n", f.PT, rtpmapName(f))
			if f.Fmtp != "" {
				fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", f.PT, f.Fmtp)
			}
		}
		fmt.Fprintf(&b, "a=label:%s\r\na=%s\r\n", labels[k], dir)
	}
	return []byte(b.String())
}

// rtpmapName is the encoding part of an a=rtpmap (RFC 4566 §6), with the
// usual spelling of each name.
func rtpmapName(f siprec.Format) string {
	name := f.Name
	if name == "OPUS" {
		name = "opus" // RFC 7587 §7 spells it in lower case
	}
	s := fmt.Sprintf("%s/%d", name, f.ClockRate)
	if f.Channels > 1 {
		s += fmt.Sprintf("/%d", f.Channels)
	}
	return s
}

// sameCodec compares encoding name and clock rate.
func sameCodec(a, b siprec.Format) bool {
	return strings.EqualFold(a.Name, b.Name) && a.ClockRate == b.ClockRate
}

// route is where and how one stream is sent, read from the SRS's answer.
type route struct {
	dst       netip.AddrPort
	pt        uint8
	transcode bool   // the SRS took only PCMU: decode the relay codec, encode PCMU
	why       string // why the stream is not sent ("" when it is)
}

// ErrNoStream means the SRS's answer accepts neither stream.
var ErrNoStream = errors.New("siprecclient: the SRS answer accepts no stream")

// parseAnswer reads the SRS's SDP answer (RFC 3264 §6): m-lines matched
// to our streams by a=label, else by position; a stream answered with
// port 0 is rejected. For each stream it picks the relay's codec when the
// answer keeps it, else PCMU (transcoded). It fails when the answer is no
// SDP or accepts no stream.
func parseAnswer(body []byte, codecs [2]siprec.Format) ([2]route, error) {
	var routes [2]route
	sd, err := siprec.ParseSDP(body)
	if err != nil {
		return routes, fmt.Errorf("siprecclient: answer SDP: %w", err)
	}
	byLabel := map[string]int{}
	for j, m := range sd.Media {
		if m.Label != "" {
			if _, dup := byLabel[m.Label]; !dup {
				byLabel[m.Label] = j
			}
		}
	}
	usable := 0
	for k := range 2 {
		r := &routes[k]
		j, ok := byLabel[labels[k]]
		if !ok {
			j = k
		}
		if j >= len(sd.Media) {
			r.why = "no m-line in the answer"
			continue
		}
		m := sd.Media[j]
		if m.Removed() || m.Type != "audio" {
			r.why = "rejected (port 0)"
			continue
		}
		ip := m.Addr
		if !ip.IsValid() || ip.IsUnspecified() {
			r.why = fmt.Sprintf("no usable address (%v)", ip)
			continue
		}
		found := false
		for _, f := range m.Formats {
			if sameCodec(f, codecs[k]) {
				r.pt, r.transcode, found = f.PT, false, true
				break
			}
		}
		if !found {
			for _, f := range m.Formats {
				if sameCodec(f, pcmu) {
					r.pt, r.transcode, found = f.PT, true, true
					break
				}
			}
		}
		if !found {
			r.why = fmt.Sprintf("answer keeps neither %s nor PCMU/8000", rtpmapName(codecs[k]))
			continue
		}
		r.dst = netip.AddrPortFrom(ip.Unmap(), uint16(m.Port))
		usable++
	}
	if usable == 0 {
		return routes, fmt.Errorf("stream 0: %s; stream 1: %s: %w", routes[0].why, routes[1].why, ErrNoStream)
	}
	return routes, nil
}
