package e2e

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/callrec/callrec/media/tone"
	"github.com/callrec/callrec/srcclient"
)

// fileDuration is the length of a file's audio.
func fileDuration(frames int64, rate int) time.Duration {
	return time.Duration(frames) * time.Second / time.Duration(rate)
}

// window returns the samples of ch between from and to.
func window(ch []int16, rate int, from, to time.Duration) []int16 {
	a := int(from.Seconds() * float64(rate))
	b := int(to.Seconds() * float64(rate))
	a = max(0, min(a, len(ch)))
	b = max(a, min(b, len(ch)))
	return ch[a:b]
}

// assertTone checks that in [from,to) channel ch carries want clearly
// (power ratio over every other candidate of at least 100, i.e. 20 dB)
// and that the tone is loud enough to be more than leakage.
func assertTone(t *testing.T, name string, ch []int16, rate int, from, to time.Duration, want float64, others ...float64) {
	t.Helper()
	w := window(ch, rate, from, to)
	if len(w) < rate/50 {
		t.Fatalf("%s: window %v-%v too short (%d samples)", name, from, to, len(w))
	}
	p := tone.Power(w, rate, want)
	if p < 0.005 {
		t.Errorf("%s: %v Hz power %.4f in %v-%v, want a clear tone", name, want, p, from, to)
	}
	for _, o := range others {
		if q := tone.Power(w, rate, o); q*100 > p {
			t.Errorf("%s: %v Hz power %.5f vs wanted %v Hz %.5f in %v-%v: channels leak", name, o, q, want, p, from, to)
		}
	}
}

// assertSilent checks that [from,to) of a channel is digital silence or close to it.
func assertSilent(t *testing.T, name string, ch []int16, rate int, from, to time.Duration) {
	t.Helper()
	w := window(ch, rate, from, to)
	if r := tone.RMS(w); r > 0.001 {
		t.Errorf("%s: RMS %.4f in %v-%v, want silence", name, r, from, to)
	}
}

// newClient makes a SIPREC test client for srv over TCP.
func newClient(t *testing.T, srv *server, transport string, ports [2]int) *srcclient.Client {
	t.Helper()
	c, err := srcclient.New(srcclient.Config{Target: "sip:srs@" + srv.siprec, Transport: transport, MediaPorts: ports})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func call(t *testing.T, c *srcclient.Client, spec srcclient.CallSpec) *srcclient.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), spec.Duration+30*time.Second)
	defer cancel()
	res, err := c.Call(ctx, spec)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	return res
}

// span is how long the recording session lasted as the client saw it:
// from the 2xx answer to its BYE. The file must last as long.
func span(t *testing.T, res *srcclient.Result) time.Duration {
	t.Helper()
	end := res.ByeSent
	if end.IsZero() {
		end = res.ByeReceived
	}
	if res.Answered.IsZero() || end.IsZero() {
		t.Fatalf("client did not record answer and BYE times: %+v", res)
	}
	return end.Sub(res.Answered)
}

// assertDuration checks the file length against the session's span
// (issue 3: duration within 40 ms).
func assertDuration(t *testing.T, got, want time.Duration) {
	t.Helper()
	if d := got - want; math.Abs(float64(d)) > float64(40*time.Millisecond) {
		t.Errorf("file lasts %v, the call's media lasted %v: off by %v (> 40 ms)", got, want, d)
	}
}

// assertNoEnergy checks that none of freqs is audible in w.
func assertNoEnergy(t *testing.T, w []int16, rate int, freqs ...float64) {
	t.Helper()
	for _, f := range freqs {
		if p := tone.Power(w, rate, f); p > 1e-4 {
			t.Errorf("%v Hz has power %.5f, want none", f, p)
		}
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func itoa(i int) string { return strconv.Itoa(i) }
