package callpath

import (
	"net/netip"
	"testing"

	"github.com/callrec/callrec/callpath/relay"
)

// FuzzParseAudio: any body either fails with an error or yields codecs
// whose SDP we can write back and read again.
func FuzzParseAudio(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 9 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"))
	f.Add([]byte("v=0\r\nm=audio 0 RTP/AVP 0\r\nm=audio 5004 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := parseAudio(body)
		if err != nil {
			return
		}
		c, ok := a.pick()
		if !ok {
			return
		}
		out := buildSDP(1, 1, netip.MustParseAddrPort("127.0.0.1:4000"), []relay.Codec{c})
		b, err := parseAudio(out)
		if err != nil {
			t.Fatalf("our own SDP does not parse: %v\n%s", err, out)
		}
		if got, _ := b.pick(); got.Name != c.Name || got.PayloadType != c.PayloadType {
			t.Fatalf("round trip %+v -> %+v", c, got)
		}
	})
}
