package relay

import (
	"bytes"
	"testing"
	"time"
)

// Hold (RFC 3264 §8.4): a muted side's packets are dropped and counted,
// reach no tap, while the other direction keeps flowing byte for byte;
// unmuting relays again.
func TestMuteDropsOneDirection(t *testing.T) {
	f := newCall(t, pcmu, pcmu)
	tapped := make(chan []byte, 16)
	f.br.Tap(B, func(pkt []byte, _ time.Time) { tapped <- append([]byte(nil), pkt...) })
	f.br.Mute(B, true)
	if !f.br.Muted(B) || f.br.Muted(A) {
		t.Fatalf("Muted(B)=%v Muted(A)=%v, want true false", f.br.Muted(B), f.br.Muted(A))
	}
	fromA := rtpPacket(0, false, 10, 1600, 0xa, bytes.Repeat([]byte{0x55}, 160))
	f.ea.send(f.la.LocalRTP(), fromA)
	if got := recvOn(t, f.eb.rtp, 2*time.Second); !bytes.Equal(got, fromA) {
		t.Fatalf("B got % x, want A's packet unchanged", got[:12])
	}
	fromB := rtpPacket(0, false, 20, 3200, 0xb, bytes.Repeat([]byte{0x66}, 160))
	f.eb.send(f.lb.LocalRTP(), fromB)
	waitFor(t, "muted count", func() bool { return f.lb.Stats().Muted == 1 })
	if got, ok := tryRecv(f.ea.rtp, 100*time.Millisecond); ok {
		t.Fatalf("A got % x from the muted side", got[:12])
	}
	select {
	case p := <-tapped:
		t.Fatalf("tap saw a muted packet % x", p[:12])
	default:
	}
	f.br.Mute(B, false)
	fromB = rtpPacket(0, false, 21, 3360, 0xb, bytes.Repeat([]byte{0x67}, 160))
	f.eb.send(f.lb.LocalRTP(), fromB)
	if got := recvOn(t, f.ea.rtp, 2*time.Second); !bytes.Equal(got, fromB) {
		t.Fatalf("A got % x after unmute, want B's packet", got[:12])
	}
	if p := <-tapped; !bytes.Equal(p, fromB) {
		t.Fatalf("tap saw % x, want B's packet", p[:12])
	}
}

// A codec change on a live bridge (RFC 3264 §8.3.2): PCMU on both legs
// passes through; after side B switches to PCMA the bridge transcodes
// (B receives payload type 8 with A's sequence number and SSRC) and keeps
// the mute; switching back passes through again. An unknown codec is
// refused and changes nothing.
func TestSetCodecOnLiveBridge(t *testing.T) {
	f := newCall(t, pcmu, pcmu)
	f.br.Mute(A, false)
	f.br.Mute(B, true)
	if err := f.br.SetCodec(B, pcma); err != nil {
		t.Fatal(err)
	}
	if !f.br.Transcoding() {
		t.Fatal("Transcoding() = false after B moved to PCMA")
	}
	if c, _ := f.lb.Codec(); c.Name != "PCMA" || c.PayloadType != 8 {
		t.Fatalf("leg B codec %+v, want PCMA/8", c)
	}
	if !f.br.Muted(B) {
		t.Error("SetCodec lost B's mute")
	}
	payloads := encodeTone(t, pcmu, 1000, 1)
	f.ea.send(f.la.LocalRTP(), rtpPacket(0, false, 77, 8000, 0xabc, payloads[0]))
	got := recvOn(t, f.eb.rtp, 2*time.Second)
	if got[1]&0x7f != 8 || be16(got[2:]) != 77 || be32(got[8:]) != 0xabc || len(got) != 12+160 {
		t.Fatalf("B got pt %d seq %d ssrc %#x len %d, want PCMA seq 77 ssrc 0xabc 172 bytes", got[1]&0x7f, be16(got[2:]), be32(got[8:]), len(got))
	}
	if err := f.br.SetCodec(B, Codec{Name: "GSM", PayloadType: 3}); err == nil {
		t.Fatal("SetCodec to GSM succeeded, want an error")
	}
	if c, _ := f.lb.Codec(); c.Name != "PCMA" {
		t.Fatalf("a refused codec changed leg B to %+v", c)
	}
	if err := f.br.SetCodec(B, pcmu); err != nil {
		t.Fatal(err)
	}
	if f.br.Transcoding() {
		t.Fatal("still transcoding with PCMU on both legs")
	}
	pkt := rtpPacket(0, false, 78, 8160, 0xabc, payloads[0])
	f.ea.send(f.la.LocalRTP(), pkt)
	if got := recvOn(t, f.eb.rtp, 2*time.Second); !bytes.Equal(got, pkt) {
		t.Fatalf("B got % x, want the packet passed through", got[:12])
	}
}
