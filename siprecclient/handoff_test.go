package siprecclient

import (
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callrec/callrec/media/g711"
)

// localPackets is how many 20 ms packets the Config.Local tests send per
// stream (1.2 s).
const localPackets = 60

// Each packet k is one constant µ-law code, its own per stream: stream 0
// positive levels, stream 1 negative ones (neither decodes to 0), so the
// file shows which packets of which stream it holds, in which order.
func levelCode(stream, k int) byte { return byte(0x80*(1-stream) + 0x10 + k) }

func levelPackets(stream int) [][]byte {
	out := make([][]byte, localPackets)
	for k := range out {
		out[k] = make([]byte, 160)
		for i := range out[k] {
			out[k][i] = levelCode(stream, k)
		}
	}
	return out
}

// packetsIn returns the packets of stream a channel holds, in file
// order: runs of one packet's level at least half a packet long (the
// aligner's short ramps are not counted); -1 stands for a run of any
// other nonzero level.
func packetsIn(ch []int16, stream int) []int {
	byLevel := map[int16]int{}
	for k := range localPackets {
		byLevel[g711.DecodeUlawSample(levelCode(stream, k))] = k
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

// TestLocalHandOffRecordsLikeUDP records the same two streams through the
// real recorder three ways: over UDP (Config.Local unset), handed over
// in-process (Config.Local is the recorder's LocalSink), and handed to a
// sink that only counts, which shows that a stream with a Local sink sends
// no datagram from its socket (the recorder reads nothing). SIPREC
// signalling is the same in all three.
func TestLocalHandOffRecordsLikeUDP(t *testing.T) {
	cases := []struct {
		name string
		// local wraps the recorder's LocalSink (nil: Config.Local unset).
		local func(real LocalFunc, handed *atomic.Uint64) LocalFunc
		// wantLocal: the streams use a sink; wantRecorded: the file holds
		// every packet of both streams.
		wantLocal, wantRecorded bool
	}{
		{name: "over UDP", wantRecorded: true},
		{name: "handed to the recorder in-process", wantLocal: true, wantRecorded: true,
			local: func(real LocalFunc, handed *atomic.Uint64) LocalFunc {
				return func(dst netip.AddrPort) (func([]byte, time.Time) bool, bool) {
					sink, ok := real(dst)
					if !ok {
						return nil, false
					}
					return func(pkt []byte, now time.Time) bool {
						handed.Add(1)
						return sink(pkt, now)
					}, true
				}
			}},
		{name: "handed to a counting sink: the socket stays silent", wantLocal: true,
			local: func(real LocalFunc, handed *atomic.Uint64) LocalFunc {
				return func(dst netip.AddrPort) (func([]byte, time.Time) bool, bool) {
					if _, ok := real(dst); !ok {
						return nil, false
					}
					return func([]byte, time.Time) bool { handed.Add(1); return true }, true
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := startSRS(t)
			b := newB2BUA(t)
			cfg := b.config(rec.target)
			var handed atomic.Uint64
			if c.local != nil {
				cfg.Local = c.local(rec.srv.LocalSink, &handed)
			}
			s := start(t, cfg)
			feed(s, levelPackets(0), levelPackets(1), 0, localPackets)
			if err := s.Stop(t.Context()); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			rec.shutdown(t, 5*time.Second)

			for k, st := range s.Stats() {
				if st.Local != c.wantLocal || st.Sent != localPackets || st.Errors != 0 {
					t.Errorf("stream %d: Local %v, %d sent, %d errors; want Local %v, %d sent, no error",
						k, st.Local, st.Sent, st.Errors, c.wantLocal, localPackets)
				}
			}
			if want := map[bool]uint64{true: 2 * localPackets}[c.wantLocal]; handed.Load() != want {
				t.Errorf("%d packets handed to the sink, want %d", handed.Load(), want)
			}
			r := rec.recordingOf(t, s.CallID())
			_, chans := readAudio(t, rec, r)
			if len(r.Meta.Streams) != 2 || len(chans) != 2 {
				t.Fatalf("%d streams, %d channels; want 2 and 2", len(r.Meta.Streams), len(chans))
			}
			for _, ms := range r.Meta.Streams {
				k := ms.MLineIndex
				got := packetsIn(chans[ms.Channel-1], k)
				var want []int
				var received uint64
				if c.wantRecorded {
					for i := range localPackets {
						want = append(want, i)
					}
					received = localPackets
				}
				if !slices.Equal(got, want) {
					t.Errorf("stream %d's channel holds packets %v, want %v", k, got, want)
				}
				if s := ms.Stats; s.Received != received || s.Duplicated != 0 || s.Late != 0 || s.Dropped != 0 {
					t.Errorf("recorder's stream %d stats %+v, want %d received, no duplicate, late or dropped", k, s, received)
				}
			}
		})
	}
}
