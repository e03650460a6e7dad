package callpath

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/mix"
	"github.com/callrec/callrec/media/tone"
)

// sent is one packet a feed handed on.
type sent struct {
	stream  int
	payload []byte
	ts      uint32
}

// sink keeps what a feed sends.
type sink struct{ got []sent }

func (s *sink) Send(stream int, payload []byte, ts uint32) {
	s.got = append(s.got, sent{stream, append([]byte(nil), payload...), ts})
}

var (
	codecPCMU = relay.Codec{Name: media.PCMU, PayloadType: 0, ClockRate: 8000}
	codecPCMA = relay.Codec{Name: media.PCMA, PayloadType: 8, ClockRate: 8000}
	codecG722 = relay.Codec{Name: media.G722, PayloadType: 9, ClockRate: 8000}
	codecOpus = relay.Codec{Name: media.OPUS, PayloadType: 111, ClockRate: 48000, Channels: 2}
)

// encodeTone returns n 20 ms payloads of a freq Hz tone in codec c.
func encodeTone(t testing.TB, c relay.Codec, freq float64, n int) [][]byte {
	t.Helper()
	enc, err := media.NewEncoder(c.Name, clockOf(c), c.Channels)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, enc.SamplesPerFrame(20*time.Millisecond))
	var phase float64
	var out [][]byte
	for range n {
		tone.Sine(pcm, enc.Rate(), freq, 8000, &phase)
		p, err := enc.Encode(nil, pcm)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// decodeAll decodes payloads of codec c to 8 kHz PCM.
func decodeAll(t *testing.T, c relay.Codec, got []sent) []int16 {
	t.Helper()
	dec, err := media.NewDecoder(c.Name, clockOf(c), c.Channels, 8000)
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	for _, s := range got {
		if pcm, err = dec.Decode(pcm, s.payload); err != nil {
			t.Fatal(err)
		}
	}
	return pcm
}

// A feed passes a party's payloads untouched, timestamps as they are,
// while the party's codec is the stream's; a party in another codec is
// transcoded to the stream's codec (its tone survives) with timestamps
// in the stream's clock; the first packet of a new codec or SSRC goes
// right after the last one by arrival, whatever its own timestamp.
func TestFeed(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name     string
		dst, src relay.Codec
		step     uint32 // src timestamp units per 20 ms
	}{
		{"PCMU to a PCMU stream passes", codecPCMU, codecPCMU, 160},
		{"PCMA to a PCMU stream", codecPCMU, codecPCMA, 160},
		{"G722 to a PCMU stream", codecPCMU, codecG722, 160},
		{"Opus to a PCMU stream", codecPCMU, codecOpus, 960},
		{"PCMU to a G722 stream", codecG722, codecPCMU, 160},
		{"PCMU to an Opus stream", codecOpus, codecPCMU, 160},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f streamFeed
			f.init(tc.dst)
			var s sink
			payloads := encodeTone(t, tc.src, 1000, 25)
			for i, p := range payloads {
				h := mix.Header{PayloadType: tc.src.PayloadType, SSRC: 7, Timestamp: 5000 + uint32(i)*tc.step}
				if err := f.forward(&s, 1, tc.src, &h, p, t0.Add(time.Duration(i)*20*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			}
			if len(s.got) != len(payloads) {
				t.Fatalf("%d packets sent, want %d", len(s.got), len(payloads))
			}
			dstStep := uint32(clockOf(tc.dst) / 50)
			for i, g := range s.got {
				if g.stream != 1 {
					t.Fatalf("packet %d on stream %d, want 1", i, g.stream)
				}
				if i > 0 && g.ts-s.got[i-1].ts != dstStep {
					t.Fatalf("packet %d: timestamp step %d, want %d", i, g.ts-s.got[i-1].ts, dstStep)
				}
			}
			if sameMedia(tc.src, tc.dst) {
				for i, g := range s.got {
					if string(g.payload) != string(payloads[i]) || g.ts != 5000+uint32(i)*tc.step {
						t.Fatalf("packet %d changed: ts %d", i, g.ts)
					}
				}
			}
			pcm := decodeAll(t, tc.dst, s.got)
			if f, ratio := tone.Dominant(pcm[len(pcm)/2:], 8000, []float64{440, 660, 1000}); f != 1000 || ratio < 10 {
				t.Errorf("stream holds %v Hz (ratio %.1f), want the party's 1000", f, ratio)
			}
		})
	}
	t.Run("codec switch and new SSRC keep timestamps continuous", func(t *testing.T) {
		var f streamFeed
		f.init(codecPCMU)
		var s sink
		at := t0
		send := func(c relay.Codec, ssrc, ts uint32, p []byte) {
			h := mix.Header{PayloadType: c.PayloadType, SSRC: ssrc, Timestamp: ts}
			if err := f.forward(&s, 0, c, &h, p, at); err != nil {
				t.Fatal(err)
			}
			at = at.Add(20 * time.Millisecond)
		}
		for i, p := range encodeTone(t, codecPCMU, 660, 5) {
			send(codecPCMU, 1, 100+uint32(i)*160, p)
		}
		for i, p := range encodeTone(t, codecPCMA, 660, 5) { // same SSRC, a timestamp jump
			send(codecPCMA, 1, 900000+uint32(i)*160, p)
		}
		for i, p := range encodeTone(t, codecPCMA, 660, 5) { // a new source (a transfer)
			send(codecPCMA, 2, 42+uint32(i)*160, p)
		}
		for i, g := range s.got {
			if want := 100 + uint32(i)*160; g.ts != want {
				t.Fatalf("packet %d: timestamp %d, want %d", i, g.ts, want)
			}
		}
	})
	t.Run("a codec that cannot be transcoded is refused once and dropped", func(t *testing.T) {
		var f streamFeed
		f.init(codecPCMU)
		var s sink
		odd := relay.Codec{Name: "L16", PayloadType: 97, ClockRate: 8000}
		h := mix.Header{PayloadType: 97}
		if err := f.forward(&s, 0, odd, &h, []byte{1, 2}, t0); err == nil {
			t.Error("no error for L16")
		}
		if err := f.forward(&s, 0, odd, &h, []byte{1, 2}, t0); err != nil {
			t.Errorf("second packet: %v, want it dropped quietly", err)
		}
		if len(s.got) != 0 {
			t.Errorf("%d packets sent, want none", len(s.got))
		}
	})
}

type nopSender struct{}

func (nopSender) Send(int, []byte, uint32) {}

// BenchmarkFeed is the per-packet cost of the recording tap's feed: a
// party in the stream's codec (pass) and one transcoded PCMA to PCMU.
func BenchmarkFeed(b *testing.B) {
	for _, src := range []relay.Codec{codecPCMU, codecPCMA} {
		b.Run(src.Name, func(b *testing.B) {
			var f streamFeed
			f.init(codecPCMU)
			p := encodeTone(b, src, 1000, 1)[0]
			h := mix.Header{PayloadType: src.PayloadType, SSRC: 1}
			at := time.Now()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				h.Timestamp = uint32(i) * 160
				_ = f.forward(nopSender{}, 0, src, &h, p, at)
			}
		})
	}
}

// codecPeer is an RTP endpoint whose codec and tone can change mid-call:
// it sends 20 ms packets of its tone in PCMU (PT 0) or PCMA (PT 8), one
// SSRC and one timestamp run throughout, and hears either.
type codecPeer struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pt   uint8
	freq float64
	dst  *net.UDPAddr
	stop chan struct{}
	wg   sync.WaitGroup
}

func newCodecPeer(t *testing.T, pt uint8, freq float64) *codecPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	p := &codecPeer{conn: c, pt: pt, freq: freq, stop: make(chan struct{})}
	p.wg.Add(1)
	go p.send()
	t.Cleanup(func() { close(p.stop); _ = c.Close(); p.wg.Wait() })
	return p
}

// sdp offers or answers codec pt (0 PCMU, 8 PCMA) only.
func (p *codecPeer) sdp(ver int, pt uint8) []byte {
	name := map[uint8]string{0: "PCMU", 8: "PCMA"}[pt]
	return fmt.Appendf(nil, "v=0\r\no=- 7 %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %d 101\r\na=rtpmap:%d %s/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
		ver, p.conn.LocalAddr().(*net.UDPAddr).Port, pt, pt, name)
}

// sendTo aims the peer at the RTP address of an SDP body.
func (p *codecPeer) sendTo(t *testing.T, body []byte) {
	t.Helper()
	a, err := parseAudio(body)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.dst = net.UDPAddrFromAddrPort(a.rtp)
	p.mu.Unlock()
}

// set switches the codec (payload type) and tone from the next packet.
func (p *codecPeer) set(pt uint8, freq float64) {
	p.mu.Lock()
	p.pt, p.freq = pt, freq
	p.mu.Unlock()
}

func (p *codecPeer) send() {
	defer p.wg.Done()
	encs := map[uint8]media.Encoder{}
	for pt, name := range map[uint8]string{0: media.PCMU, 8: media.PCMA} {
		encs[pt], _ = media.NewEncoder(name, 8000, 1)
	}
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	pcm := make([]int16, 160)
	pkt := make([]byte, 12, 200)
	var phase float64
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			return
		case <-tk.C:
		}
		p.mu.Lock()
		pt, freq, dst := p.pt, p.freq, p.dst
		p.mu.Unlock()
		tone.Sine(pcm, 8000, freq, 8000, &phase)
		if dst == nil {
			continue
		}
		ts := uint32(i * 160)
		pkt = append(pkt[:0], 0x80, pt, byte(i>>8), byte(i), byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts), 0, 0, 0x51, 0x7e)
		pkt, _ = encs[pt].Encode(pkt, pcm)
		if _, err := p.conn.WriteToUDP(pkt, dst); err != nil {
			return
		}
	}
}

// toneRuns splits a recording channel into 20 ms windows classified as
// one of freqs ("silence" below an RMS of 0.01, "other" when no
// candidate dominates) and returns the runs in order.
func toneRuns(pcm []int16, freqs []float64) []toneRun {
	var out []toneRun
	for i := 0; i+160 <= len(pcm); i += 160 {
		w := pcm[i : i+160]
		cls := "silence"
		if tone.RMS(w) >= 0.01 {
			cls = "other"
			if f, ratio := tone.Dominant(w, 8000, freqs); ratio > 10 {
				cls = fmt.Sprint(f)
			}
		}
		if n := len(out); n > 0 && out[n-1].cls == cls {
			out[n-1].n++
			continue
		}
		out = append(out, toneRun{cls, 1})
	}
	return out
}

type toneRun struct {
	cls string
	n   int // 20 ms windows
}

// switchGap finds in runs the last window of tone a followed later by
// tone b and returns the windows of a and b and the time between the
// last a and the first b after it.
func switchGap(runs []toneRun, a, b string) (na, nb int, gap time.Duration, ok bool) {
	lastA, firstB, pos := -1, -1, 0
	for _, r := range runs {
		switch {
		case r.cls == a && firstB < 0:
			na += r.n
			lastA = pos + r.n - 1
		case r.cls == b && lastA >= 0:
			if firstB < 0 {
				firstB = pos
			}
			nb += r.n
		}
		pos += r.n
	}
	if lastA < 0 || firstB < 0 {
		return na, nb, 0, false
	}
	return na, nb, time.Duration(firstB-lastA-1) * 20 * time.Millisecond, true
}

// TestReinviteCodecChangeKeepsRecording: Alice (1000 Hz) calls Bob (660
// Hz, PCMU), who is recorded always; mid-call Bob re-INVITEs offering
// only PCMA (RFC 3264 §8.3.2) and from his 200 on sends PCMA, now at
// 440 Hz. Alice still hears him (the relay transcodes) and Bob's
// recording holds his 660 Hz before the switch and his 440 Hz after it,
// on the same channel, with no gap over 100 ms between them: the tap
// follows the leg's new codec and the stream, negotiated in PCMU, gets
// his audio transcoded to PCMU.
func TestReinviteCodecChangeKeepsRecording(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways})
	alice, bob := r.phones(t)
	aliceRTP := newRTPPeer(t, 1000)
	bobRTP := newCodecPeer(t, 0, 660)
	dsc := make(chan *sipgo.DialogServerSession, 1)
	bob.mu.Lock()
	bob.answer = func(req *sip.Request, ds *sipgo.DialogServerSession) {
		bobRTP.sendTo(t, req.Body())
		if ds.RespondSDP(bobRTP.sdp(1, 0)) == nil {
			dsc <- ds
		}
	}
	bob.mu.Unlock()
	alice.mirrorReoffers(aliceRTP, 200)
	dc, err := alice.dial(r.env, "alice", "1002", aliceRTP, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds := <-dsc
	r.waitState(t, 1, StateStarted)
	aliceRTP.heardFor(t, time.Second)

	// Bob's re-INVITE with PCMA only; he switches as his 200 arrives.
	req := sip.NewRequest(sip.INVITE, *ds.InviteRequest.Contact().Address.Clone())
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(bobRTP.sdp(2, 8))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	res, err := ds.Do(ctx, req)
	cancel()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("Bob's re-INVITE: %v %v", res, err)
	}
	bobRTP.set(8, 440)
	ack := sip.NewRequest(sip.ACK, *ds.InviteRequest.Contact().Address.Clone())
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: req.CSeq().SeqNo, MethodName: sip.ACK})
	if err := ds.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}
	if a, err := parseAudio(res.Body()); err != nil || len(a.codecs) != 1 || a.codecs[0].Name != media.PCMA {
		t.Fatalf("our answer to Bob %q: %v, want PCMA", res.Body(), err)
	}
	aliceRTP.heardFor(t, 1500*time.Millisecond)
	if f, _ := aliceRTP.heardTone([]float64{440, 660, 1000}); f != 440 {
		t.Errorf("Alice hears %v Hz after Bob's codec change, want his 440", f)
	}
	recs, audio := r.finish(t, dc)
	if len(recs) != 1 || recs[0].OwnerID != personBob {
		t.Fatalf("recordings %+v, want Bob's", recs)
	}
	runs := toneRuns(audio[0][0], []float64{440, 660, 1000})
	na, nb, gap, ok := switchGap(runs, "660", "440")
	if !ok {
		t.Fatalf("Bob's channel %v: no 660 Hz followed by 440 Hz", runs)
	}
	if na < 25 || nb < 50 || gap > 100*time.Millisecond {
		t.Errorf("Bob's channel: %d ms of 660 Hz, %d ms of 440 Hz, %s between; want ≥ 500 ms and ≥ 1 s, ≤ 100 ms (runs %v)", na*20, nb*20, gap, runs)
	}
	if f, _ := tone.Dominant(audio[0][1][len(audio[0][1])/2:], 8000, []float64{440, 660, 1000}); f != 1000 {
		t.Errorf("channel 2 has %v Hz, want Alice's 1000", f)
	}
}

// TestTransferToOtherCodecKeepsRecording: Alice (1000 Hz, not recorded)
// calls Bob (660 Hz, recorded always) and transfers him to a PSTN number
// whose gateway answers with PCMA only and sends 440 Hz. Bob's
// recording continues; its second stream, negotiated in PCMU with
// Alice's audio, now holds the gateway's 440 Hz transcoded rather than
// silence.
func TestTransferToOtherCodecKeepsRecording(t *testing.T) {
	t.Parallel()
	r := startRecEnvOpts(t, recOpts{mode: callrec.ModeAlways})
	gwRTP := newCodecPeer(t, 8, 440)
	gwDS := make(chan *sipgo.DialogServerSession, 1)
	r.trunk.mu.Lock()
	r.trunk.answer = func(req *sip.Request, ds *sipgo.DialogServerSession) {
		gwRTP.sendTo(t, req.Body())
		if ds.RespondSDP(gwRTP.sdp(1, 8)) == nil {
			gwDS <- ds
		}
	}
	r.trunk.mu.Unlock()
	c := r.dialSigCall(t)
	bobRTP := c.bobRTP
	r.waitState(t, 1, StateStarted)
	bobRTP.heardFor(t, time.Second)
	referOK(t, r.env, c.dc, "+4587654321")
	if frags := c.alice.sipfrags(t); frags[len(frags)-1] != "SIP/2.0 200 OK" {
		t.Fatalf("sipfrags %q, want 200 OK last", frags)
	}
	ds := <-gwDS
	bobRTP.heardFor(t, 1500*time.Millisecond)
	if f, _ := bobRTP.heardTone([]float64{440, 660, 1000}); f != 440 {
		t.Errorf("Bob hears %v Hz after the transfer, want the PSTN party's 440", f)
	}
	if err := ds.Bye(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs, audio := r.finish(t, nil)
	if len(recs) != 1 {
		t.Fatalf("%d recordings, want Bob's one", len(recs))
	}
	runs := toneRuns(audio[0][1], []float64{440, 660, 1000})
	na, nb, _, ok := switchGap(runs, "1000", "440")
	if !ok || na < 25 || nb < 50 {
		t.Errorf("channel 2: %d ms of Alice's 1000 Hz then %d ms of the PSTN party's 440 Hz, want ≥ 500 ms and ≥ 1 s (runs %v)", na*20, nb*20, runs)
	}
}
