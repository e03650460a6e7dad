package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// offerSDP is the SDP (RFC 4566) of one of our endpoints: PCMU only,
// 20 ms, at addr.
func offerSDP(sessID uint64, addr netip.AddrPort) []byte {
	return fmt.Appendf(nil, "v=0\r\no=callload %d 1 IN IP4 %s\r\ns=callload\r\nc=IN IP4 %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n",
		sessID, addr.Addr(), addr.Addr(), addr.Port())
}

// audioAddr returns where the first audio stream of an SDP body wants its
// RTP (RFC 4566 §5.7 c=, §5.14 m=; a media-level c= wins over the
// session's) and whether it lists PCMU (static payload type 0, RFC 3551).
func audioAddr(body []byte) (netip.AddrPort, bool, error) {
	var session, mediaC netip.Addr
	port := -1
	pcmu := false
	inAudio := false
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "m="):
			if port >= 0 {
				inAudio = false
				continue // only the first audio stream
			}
			f := strings.Fields(line[2:])
			if len(f) < 4 || f[0] != "audio" {
				continue
			}
			p, err := strconv.Atoi(f[1])
			if err != nil || p < 0 || p > 65535 {
				return netip.AddrPort{}, false, fmt.Errorf("callload: sdp: bad port in %q", line)
			}
			port, inAudio = p, true
			for _, pt := range f[3:] {
				if pt == "0" {
					pcmu = true
				}
			}
		case strings.HasPrefix(line, "c="):
			f := strings.Fields(line[2:])
			if len(f) != 3 || f[0] != "IN" {
				return netip.AddrPort{}, false, fmt.Errorf("callload: sdp: bad connection line %q", line)
			}
			a, err := netip.ParseAddr(f[2])
			if err != nil {
				return netip.AddrPort{}, false, fmt.Errorf("callload: sdp: %q: %w", line, err)
			}
			if port < 0 {
				session = a
			} else if inAudio {
				mediaC = a
			}
		}
	}
	if port < 0 {
		return netip.AddrPort{}, false, fmt.Errorf("callload: sdp: no audio stream")
	}
	addr := session
	if mediaC.IsValid() {
		addr = mediaC
	}
	if !addr.IsValid() {
		return netip.AddrPort{}, false, fmt.Errorf("callload: sdp: no connection address")
	}
	return netip.AddrPortFrom(addr, uint16(port)), pcmu, nil
}
