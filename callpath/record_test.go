package callpath

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/internal/testnet"
	"github.com/callrec/callrec/media/tone"
	"github.com/callrec/callrec/media/wav"
	"github.com/callrec/callrec/recorder"
	"github.com/callrec/callrec/siprecclient"
)

// recEnv adds the real recorder (in-process, same store) as the built-in
// provider's SRS, and records Bob with mode.
type recEnv struct {
	*env
	rec    *recorder.Server
	mu     sync.Mutex
	events []Event
}

func startRecEnv(t *testing.T, mode string, compliance bool) *recEnv {
	t.Helper()
	return startRecEnvOpts(t, recOpts{mode: mode, org: func(o *callrec.OrgRecording) { o.Compliance.Inbound = compliance }})
}

// recOpts vary a recEnv: Bob's mode and settings, the org's recording
// configuration, the server before it starts, and whether the SRS runs.
type recOpts struct {
	mode   string
	bob    func(*callrec.UserRecording)
	org    func(*callrec.OrgRecording)
	server func(*Server)
	noSRS  bool // the built-in target is a port nobody listens on (X1)
}

func startRecEnvOpts(t *testing.T, o recOpts) *recEnv {
	t.Helper()
	r := &recEnv{}
	port := testnet.FreePort(t)
	var pre []func(*Server)
	if o.server != nil {
		pre = append(pre, o.server)
	}
	sipPorts := 47000 + 200*rand.IntN(20)
	e := startEnv(t, func(c *Config) {
		c.BuiltInTarget = fmt.Sprintf("sip:srs@127.0.0.1:%d", port)
		c.SRSInviteTimeout = 2 * time.Second
		c.SIPRECPorts = &siprecclient.PortRange{Min: sipPorts, Max: sipPorts + 199}
		c.OnRecordingEvent = func(ev Event) { r.mu.Lock(); r.events = append(r.events, ev); r.mu.Unlock() }
	}, pre...)
	r.env = e
	ctx := t.Context()
	if err := e.store.Update(ctx, func(tx directory.Tx) error {
		if _, err := directory.Providers.Get(ctx, tx, "", callrec.BuiltInProviderID); err != nil {
			if err := directory.Providers.Put(ctx, tx, &callrec.Provider{ID: callrec.BuiltInProviderID, Name: "callrec", BuiltIn: true}); err != nil {
				return err
			}
		}
		if err := directory.Terms.Put(ctx, tx, &callrec.TermsAcceptance{OrgID: e.org.ID, ProviderID: callrec.BuiltInProviderID, Accepted: true, At: time.Now()}); err != nil {
			return err
		}
		org, err := directory.Orgs.Get(ctx, tx, e.org.ID, e.org.ID)
		if err != nil {
			return err
		}
		if o.org != nil {
			o.org(&org.Recording)
		}
		if err := directory.Orgs.Put(ctx, tx, org); err != nil {
			return err
		}
		bob, err := directory.People.Get(ctx, tx, e.org.ID, personBob)
		if err != nil {
			return err
		}
		bob.Recording = callrec.DefaultUserRecording()
		bob.Recording.Enabled, bob.Recording.Mode = true, o.mode
		if o.bob != nil {
			o.bob(&bob.Recording)
		}
		return directory.People.Put(ctx, tx, bob)
	}); err != nil {
		t.Fatal(err)
	}
	if o.noSRS {
		return r
	}
	dir := t.TempDir()
	rec, err := recorder.New(recorder.Config{
		Listen: fmt.Sprintf("127.0.0.1:%d", port), SpoolDir: filepath.Join(dir, "spool"), RTPMin: sipPorts + 4200, RTPMax: sipPorts + 4399,
		OrgID: e.org.ID, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, MediaTimeout: 10 * time.Second,
		Owners: recorder.NewDirectory(e.store), Logger: slog.New(slog.DiscardHandler),
	}, e.store, e.blobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Start(ctx); err != nil {
		t.Fatal(err)
	}
	r.rec = rec
	return r
}

func (r *recEnv) states() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, e := range r.events {
		s = append(s, e.PersonID+":"+e.State)
	}
	return s
}

// TestR18_R19_InboundPSTNComplianceThenRecordingAtAnswer: a call from the
// trunk to Bob's DID, Bob recorded always, the org's inbound compliance
// announcement on. The caller hears the announcement as early media (183)
// before the 200; recording starts when Bob answers; the recording has
// Bob's tone on channel 1 and the caller's on channel 2, no prompt.
func TestR18_R19_InboundPSTNComplianceThenRecordingAtAnswer(t *testing.T) {
	r := startRecEnv(t, callrec.ModeAlways, true)
	bobRTP, gwRTP := newRTPPeer(t, 660), newRTPPeer(t, 440)
	r.bobAnswers(t, bobRTP, 0)
	var early bool
	var answeredAt time.Time
	dc, err := r.trunk.dial(r.env, "", "+4535351002", gwRTP, func(res *sip.Response) {
		if res.StatusCode == 183 && len(res.Body()) > 0 {
			early = true
		}
		if res.StatusCode == 200 {
			answeredAt = time.Now()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !early {
		t.Fatal("no 183 with SDP before answer (R18)")
	}
	gwRTP.mu.Lock()
	prompt := append([]int16(nil), gwRTP.heard...)
	first := gwRTP.first
	gwRTP.mu.Unlock()
	if first.IsZero() || !first.Before(answeredAt) || tone.RMS(prompt) < 0.02 || len(prompt) < 8000 {
		t.Fatalf("caller heard %d samples (rms %.3f) before the answer, want the announcement (R18)", len(prompt), tone.RMS(prompt))
	}
	bobRTP.waitHeard(t, 1500*time.Millisecond)
	gwRTP.waitHeard(t, time.Duration(len(prompt))*time.Second/8000+1500*time.Millisecond)
	wantHear(t, " after answer", candidates,
		hears{"the caller", gwRTP, 660, "Bob"}, hears{"Bob", bobRTP, 440, "the caller"})
	hangUp(t, r.env, dc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.rec.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.states(); len(got) != 2 || got[0] != personBob+":started" || got[1] != personBob+":stopped" {
		t.Errorf("events %v, want Bob started then stopped", got)
	}
	recs, err := r.store.ListRecordings(t.Context(), callrec.RecordingQuery{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("recordings %v %v, want one", recs, err)
	}
	if recs[0].OwnerID != personBob {
		t.Errorf("recording owned by %q, want Bob", recs[0].OwnerID)
	}
	_, chans, err := wav.ReadFile(filepath.Join(r.blobs.Root(), filepath.FromSlash(recs[0].BlobKey)))
	if err != nil || len(chans) != 2 || len(chans[0]) < 8000 {
		t.Fatalf("recording audio: %v channels, err %v", len(chans), err)
	}
	mid := len(chans[0]) / 2
	if f, _ := tone.Dominant(chans[0][mid-1600:mid+1600], 8000, candidates); f != 660 {
		t.Errorf("channel 1 has %v Hz, want the recorded party Bob's 660", f)
	}
	if f, _ := tone.Dominant(chans[1][mid-1600:mid+1600], 8000, candidates); f != 440 {
		t.Errorf("channel 2 has %v Hz, want the caller's 440", f)
	}
}
