package siprecclient

import (
	"net"
	"net/netip"
	"testing"

	"github.com/callrec/callrec/internal/testnet"
	"github.com/callrec/callrec/rtpport"
)

// A PortRange with a shared Range takes its ports from it, so the SIPREC
// client, the relay and the recorder draw from one --rtp-ports, and gives
// them back on Release.
func TestPortRangeSharesTheProcessRange(t *testing.T) {
	base := testnet.FreePort(t) &^ 1
	shared, err := rtpport.NewRange(base, base+3) // two pairs
	if err != nil {
		t.Fatal(err)
	}
	other, err := shared.Acquire() // the relay's pair
	if err != nil {
		t.Fatal(err)
	}
	pr := &PortRange{Range: shared}
	ip := netip.MustParseAddr("127.0.0.1")
	c, err := pr.Listen(ip)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	got := c.LocalAddr().(*net.UDPAddr).Port
	if got == other || got < base || got > base+3 || got%2 != 0 {
		t.Fatalf("bound port %d; want the free even port of %d-%d other than %d", got, base, base+3, other)
	}
	if shared.InUse() != 2 {
		t.Fatalf("shared range has %d pairs in use, want 2", shared.InUse())
	}
	if _, err := pr.Listen(ip); err == nil {
		t.Fatal("Listen succeeded on a shared range whose pairs are all in use")
	}
	pr.Release(c)
	if shared.InUse() != 1 {
		t.Fatalf("after Release %d pairs in use, want 1", shared.InUse())
	}
}
