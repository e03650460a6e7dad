package relay

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// frames is a Source of n payloads "P-000", "P-001", ... padded to 160
// bytes, the last one flagged done.
type frames struct {
	n, i int
}

func (f *frames) Next(dst []byte) (int, bool) {
	if f.i >= f.n {
		return 0, true
	}
	p := fmt.Appendf(nil, "P-%03d", f.i)
	p = append(p, bytes.Repeat([]byte{0xff}, 160-len(p))...)
	f.i++
	return copy(dst, p), f.i == f.n
}

type rxPacket struct {
	b  []byte
	at time.Time
}

// TestR18_PlayReplacesRelayedAudio: while a prompt plays toward B, B
// hears only the prompt; the stream B receives stays one stream (SSRC,
// sequence numbers without gaps, rising timestamps) across relayed audio,
// prompt, relayed audio; the relayed payloads are untouched; taps see
// exactly what the parties sent and none of the prompt (R22).
func TestR18_PlayReplacesRelayedAudio(t *testing.T) {
	f := newCall(t, pcmu, pcmu)
	var tapMu sync.Mutex
	tapped := map[Side][][]byte{}
	for _, s := range []Side{A, B} {
		f.br.Tap(s, func(pkt []byte, _ time.Time) {
			tapMu.Lock()
			tapped[s] = append(tapped[s], bytes.Clone(pkt))
			tapMu.Unlock()
		})
	}

	// A talks: one packet every 20 ms, as a phone does.
	const ssrcA = 0xa0a0a0a0
	payloadA := func(i int) []byte {
		p := fmt.Appendf(nil, "A-%03d", i)
		return append(p, bytes.Repeat([]byte{0x7f}, 160-len(p))...)
	}
	var sentA [][]byte
	stop := make(chan struct{})
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		tk := time.NewTicker(ptime)
		defer tk.Stop()
		for i := 0; ; i++ {
			pkt := rtpPacket(0, i == 0, uint16(60000+i), uint32(1000+160*i), ssrcA, payloadA(i))
			sentA = append(sentA, pkt)
			f.ea.send(f.la.LocalRTP(), pkt)
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	// B says something too, so its tap has content.
	sentB := rtpPacket(0, true, 7, 7, 0xb0, []byte("B-speaks"))
	f.eb.send(f.lb.LocalRTP(), sentB)

	var rx []rxPacket
	next := func() rxPacket {
		b := recvOn(t, f.eb.rtp, 2*time.Second)
		p := rxPacket{b, time.Now()}
		rx = append(rx, p)
		return p
	}
	for range 5 {
		next()
	}
	const promptLen = 10
	pb, err := f.br.Play(B, &frames{n: promptLen})
	if err != nil {
		t.Fatal(err)
	}
	// Read while the prompt plays, until five relayed packets followed it.
	after, prompts := 0, 0
	for after < 5 {
		switch p := next(); {
		case p.b[12] == 'P':
			prompts++
		case prompts > 0:
			after++
		}
	}
	if err := pb.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(stop)
	<-senderDone
	recvOn(t, f.ea.rtp, time.Second) // B's packet reached A

	// The first packets are A's, byte-identical: nothing is rewritten
	// before the first prompt.
	for i := range 5 {
		if !bytes.Equal(rx[i].b, sentA[i]) {
			t.Fatalf("packet %d before the prompt was changed: % x, want % x", i, rx[i].b[:12], sentA[i][:12])
		}
	}
	// One stream: same SSRC, consecutive sequence numbers, rising timestamps.
	var kinds []byte
	var promptAt []time.Time
	for i, p := range rx {
		if got := be32(p.b[8:]); got != ssrcA {
			t.Fatalf("packet %d SSRC %#x, want %#x", i, got, ssrcA)
		}
		if i > 0 {
			prev := rx[i-1].b
			if d := be16(p.b[2:]) - be16(prev[2:]); d != 1 {
				t.Fatalf("packet %d sequence jumps by %d", i, d)
			}
			if d := int32(be32(p.b[4:]) - be32(prev[4:])); d < 160 {
				t.Fatalf("packet %d timestamp advances by %d, want >= 160", i, d)
			}
		}
		kinds = append(kinds, p.b[12])
		if p.b[12] == 'P' {
			promptAt = append(promptAt, p.at)
			if want := fmt.Sprintf("P-%03d", len(promptAt)-1); string(p.b[12:17]) != want {
				t.Fatalf("prompt packet %q, want %q", p.b[12:17], want)
			}
		} else if i >= 5 {
			// Relayed after a prompt: header rewritten, payload untouched.
			var idx int
			fmt.Sscanf(string(p.b[14:17]), "%d", &idx)
			if !bytes.Equal(p.b[12:], sentA[idx][12:]) {
				t.Fatalf("relayed payload %d changed", idx)
			}
		}
	}
	if want := "AAAAA" + string(bytes.Repeat([]byte{'P'}, promptLen)) + "AAAAA"; string(kinds) != want {
		t.Fatalf("B heard %s, want %s", kinds, want)
	}
	// The first prompt packet and the first relayed one after it start
	// talkspurts (marker bit).
	if rx[5].b[1]&0x80 == 0 || rx[5+promptLen].b[1]&0x80 == 0 {
		t.Error("marker bit missing at the start of the prompt or of the relayed audio after it")
	}
	// Paced at 20 ms: ten packets span about 180 ms.
	if span := promptAt[promptLen-1].Sub(promptAt[0]); span < 150*time.Millisecond || span > 600*time.Millisecond {
		t.Errorf("prompt of %d packets spanned %s, want about 180ms", promptLen, span)
	}
	// Taps: everything A sent (also what the prompt held back), nothing else.
	tapMu.Lock()
	defer tapMu.Unlock()
	if len(tapped[A]) != len(sentA) {
		t.Fatalf("tap A saw %d packets, A sent %d", len(tapped[A]), len(sentA))
	}
	for i := range sentA {
		if !bytes.Equal(tapped[A][i], sentA[i]) {
			t.Fatalf("tap A packet %d differs from what A sent", i)
		}
	}
	if len(tapped[B]) != 1 || !bytes.Equal(tapped[B][0], sentB) {
		t.Fatalf("tap B saw %d packets, want exactly B's one", len(tapped[B]))
	}
	s := f.la.Stats()
	if held := uint64(len(sentA) - (len(rx) - promptLen)); s.Held != held {
		t.Errorf("A Held = %d, want %d (sent %d, relayed %d)", s.Held, held, len(sentA), len(rx)-promptLen)
	}
	if sb := f.lb.Stats(); sb.Injected != promptLen {
		t.Errorf("B Injected = %d, want %d", sb.Injected, promptLen)
	}
}

// TestR18_PlayBeforeAnswer: a prompt toward a leg that has relayed
// nothing yet (early media before the callee answers) starts a stream of
// its own, and the relayed audio that follows continues it.
func TestR18_PlayBeforeAnswer(t *testing.T) {
	f := newCall(t, pcmu, pcmu)
	pb, err := f.br.Play(A, &frames{n: 3})
	if err != nil {
		t.Fatal(err)
	}
	var rx [][]byte
	for range 3 {
		rx = append(rx, recvOn(t, f.ea.rtp, time.Second))
	}
	<-pb.Done()
	f.eb.send(f.lb.LocalRTP(), rtpPacket(0, true, 500, 99, 0x5555, []byte("callee")))
	rx = append(rx, recvOn(t, f.ea.rtp, time.Second))
	ssrc := be32(rx[0][8:])
	for i := 1; i < len(rx); i++ {
		if be32(rx[i][8:]) != ssrc || be16(rx[i][2:]) != be16(rx[i-1][2:])+1 {
			t.Fatalf("packet %d breaks the stream: % x after % x", i, rx[i][:12], rx[i-1][:12])
		}
	}
	if string(rx[3][12:]) != "callee" {
		t.Fatalf("last packet %q", rx[3][12:])
	}
}

// TestPlayStopAndReplace: Stop ends a prompt early; a second Play toward
// the same leg replaces the first.
func TestPlayStopAndReplace(t *testing.T) {
	f := newCall(t, pcmu, pcmu)
	first, err := f.br.Play(B, &frames{n: 1000})
	if err != nil {
		t.Fatal(err)
	}
	recvOn(t, f.eb.rtp, time.Second)
	second, err := f.br.Play(B, &frames{n: 2})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.Done():
	case <-time.After(time.Second):
		t.Fatal("replaced prompt still running")
	}
	if err := second.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	third, _ := f.br.Play(B, &frames{n: 1000})
	third.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := third.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// Relayed audio flows again.
	f.ea.send(f.la.LocalRTP(), rtpPacket(0, false, 1, 1, 1, []byte("again")))
	for {
		b := recvOn(t, f.eb.rtp, time.Second)
		if bytes.HasSuffix(b, []byte("again")) {
			break
		}
	}
}
