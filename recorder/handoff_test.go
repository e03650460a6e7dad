package recorder

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/media/g711"
	"github.com/callrec/callrec/media/wav"
	"github.com/callrec/callrec/siprecclient"
)

// handoffPackets is how many 20 ms packets the hand-off tests send per
// stream: 1.6 s, each packet a constant µ-law code of its own (levelCode).
const handoffPackets = 80

// levelCode is the µ-law code that fills packet k: every packet decodes
// to a constant level no other packet has (codes 0x80.. are positive and
// nonzero), so the file shows which packets it holds, and in which order.
func levelCode(k int) byte { return byte(0x80 + k) }

// rtpPacket is packet k of an RTP stream (RFC 3550 §5.1): PCMU, 20 ms.
func rtpPacket(ssrc uint32, k int) []byte {
	p := make([]byte, 12+160)
	p[0], p[1] = 0x80, 0
	binary.BigEndian.PutUint16(p[2:], uint16(1000+k))
	binary.BigEndian.PutUint32(p[4:], uint32(5000+160*k))
	binary.BigEndian.PutUint32(p[8:], ssrc)
	for i := 12; i < len(p); i++ {
		p[i] = levelCode(k)
	}
	return p
}

// levels returns the packets a channel holds, in file order: runs of
// one packet's level at least 80 samples (half a packet) long, so that
// the aligner's short ramps between packets are not counted. -1 stands
// for a run of any other level.
func levels(ch []int16) []int {
	byLevel := map[int16]int{}
	for k := range handoffPackets {
		byLevel[g711.DecodeUlawSample(levelCode(k))] = k
	}
	var out []int
	for i := 0; i < len(ch); {
		j := i
		for j < len(ch) && ch[j] == ch[i] {
			j++
		}
		if k, ok := byLevel[ch[i]]; ok && j-i >= 80 {
			if len(out) == 0 || out[len(out)-1] != k {
				out = append(out, k)
			}
		} else if ch[i] != 0 && j-i >= 80 {
			out = append(out, -1)
		}
		i = j
	}
	return out
}

// wantInOrder checks that got is every packet 0..n-1 once, in order.
func wantInOrder(t *testing.T, what string, got []int, n int) {
	t.Helper()
	ok := len(got) == n
	for k := 0; ok && k < n; k++ {
		ok = got[k] == k
	}
	if !ok {
		t.Errorf("%s holds packets %v, want 0..%d once each, in order", what, got, n-1)
	}
}

// testSRC opens a SIPREC session to target with callrec's own SIPREC
// client: only its signalling is used here (INVITE, ACK, BYE); the test
// sends the media itself.
func testSRC(t *testing.T, target string) *siprecclient.Session {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("callrec-test-src"), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(log),
		sipgo.WithClientConnectionAddr("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	sess, err := siprecclient.Start(ctx, siprecclient.Config{
		Targets: []string{target + ";transport=tcp"}, Client: client, Dialogs: siprecclient.NewDialogs(),
		Contact: netip.MustParseAddrPort("127.0.0.1:9"), LocalIP: netip.MustParseAddr("127.0.0.1"),
	}, siprecclient.CallInfo{CallID: "handoff@test", Recorded: siprecclient.Participant{AOR: "sip:1001@a.example"},
		Other: siprecclient.Participant{AOR: "tel:+4535359999"}, Direction: siprecclient.DirectionInbound, Start: time.Now()})
	if err != nil {
		t.Fatalf("SIPREC session: %v", err)
	}
	return sess
}

// TestLocalSinkBesideSocketReader hands the odd packets of a stream to
// the recorder in-process (LocalSink) while a UDP socket at the SRC's
// media address sends the even ones to the same stream at the same time:
// under -race this shows the hand-off and the stream's socket reader may
// run at once; the file must hold every packet once, in order. Once the
// session has ended the sink refuses packets and the stream is no longer
// found.
func TestLocalSinkBesideSocketReader(t *testing.T) {
	lr := startRecorder(t, openDirectory(t), Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	sess := testSRC(t, lr.target)
	dst := sess.Dest(0)
	if !dst.IsValid() {
		t.Fatal("the recorder rejected stream 0")
	}
	sink, ok := lr.srv.LocalSink(dst)
	if !ok {
		t.Fatalf("LocalSink(%s) found no stream", dst)
	}
	if _, ok := lr.srv.LocalSink(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), dst.Port())); ok {
		t.Errorf("LocalSink found a stream for another address with port %d", dst.Port())
	}
	udp, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")), net.UDPAddrFromAddrPort(dst))
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()

	// Both senders pace their packets on one clock: packet k is due
	// 20 ms after packet k-1, whichever path it takes.
	begin := time.Now().Add(20 * time.Millisecond)
	var wg sync.WaitGroup
	refused := 0
	wg.Go(func() { // odd packets, handed over
		for k := 1; k < handoffPackets; k += 2 {
			time.Sleep(time.Until(begin.Add(time.Duration(k) * 20 * time.Millisecond)))
			if !sink(rtpPacket(0x5eed, k), time.Now()) {
				refused++
			}
		}
	})
	wg.Go(func() { // even packets, over UDP
		for k := 0; k < handoffPackets; k += 2 {
			time.Sleep(time.Until(begin.Add(time.Duration(k) * 20 * time.Millisecond)))
			if _, err := udp.Write(rtpPacket(0x5eed, k)); err != nil {
				t.Errorf("UDP packet %d: %v", k, err)
			}
		}
	})
	wg.Wait()
	if refused != 0 {
		t.Errorf("the sink refused %d packets of a live stream", refused)
	}
	// The file ends at the BYE: the call goes on until the last packet's
	// 20 ms have been spoken, as a real one would.
	time.Sleep(time.Until(begin.Add((handoffPackets + 2) * 20 * time.Millisecond)))
	if err := sess.Stop(t.Context()); err != nil {
		t.Fatalf("BYE: %v", err)
	}
	lr.shutdown(t) // waits until the file is final

	if sink(rtpPacket(0x5eed, handoffPackets), time.Now()) {
		t.Error("the sink took a packet after the session ended")
	}
	if _, ok := lr.srv.LocalSink(dst); ok {
		t.Error("LocalSink still finds the ended stream")
	}
	r := lr.recordingOf(t, sess.CallID())
	info, chans, err := wav.ReadFile(filepath.Join(lr.blobs.Root(), filepath.FromSlash(r.BlobKey)))
	if err != nil {
		t.Fatal(err)
	}
	if info.Channels != 2 {
		t.Fatalf("%d channels, want 2", info.Channels)
	}
	var st *callrec.Stream
	for i := range r.Meta.Streams {
		if r.Meta.Streams[i].MLineIndex == 0 {
			st = &r.Meta.Streams[i]
		}
	}
	if st == nil || st.Channel < 1 || st.Channel > 2 {
		t.Fatalf("no stream 0 with a channel in %+v", r.Meta.Streams)
	}
	wantInOrder(t, "stream 0's channel", levels(chans[st.Channel-1]), handoffPackets)
	if s := st.Stats; s.Received != handoffPackets || s.Duplicated != 0 || s.Late != 0 || s.Dropped != 0 || s.Lost != 0 {
		t.Errorf("stream 0 stats %+v, want %d received and nothing else", s, handoffPackets)
	}
}
