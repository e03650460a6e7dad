package recorder

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/blob/fs"
	"github.com/callrec/callrec/internal/testnet"
	"github.com/callrec/callrec/srcclient"
	"github.com/callrec/callrec/store/sqlite"
)

// liveRecorder is a running recording server over a real SQLite store
// and folder blob store.
type liveRecorder struct {
	srv    *Server
	store  *sqlite.Store
	blobs  *fs.Store
	target string
	done   bool
}

// startRecorder starts a server on a free loopback port. cfg's Listen,
// spool, ports and logger are filled in; the default org is orgA.
func startRecorder(t *testing.T, st *sqlite.Store, cfg Config) *liveRecorder {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fs.New(filepath.Join(dir, "audio"))
	if err != nil {
		t.Fatal(err)
	}
	port := testnet.FreePort(t)
	cfg.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.SpoolDir = filepath.Join(dir, "spool")
	cfg.RTPMin, cfg.RTPMax = 47100, 47299
	cfg.OrgID = orgA
	cfg.MediaTimeout = 10 * time.Second
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := New(cfg, st, blobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	lr := &liveRecorder{srv: srv, store: st, blobs: blobs, target: fmt.Sprintf("sip:srs@127.0.0.1:%d", port)}
	t.Cleanup(func() { lr.shutdown(t) })
	return lr
}

// shutdown stops the server and waits for every finalisation.
func (lr *liveRecorder) shutdown(t *testing.T) {
	t.Helper()
	if lr.done {
		return
	}
	lr.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := lr.srv.Shutdown(ctx); err != nil {
		t.Error(err)
	}
}

// recordingOf returns the stored recording of a SIP Call-ID.
func (lr *liveRecorder) recordingOf(t *testing.T, callID string) callrec.Recording {
	t.Helper()
	recs, err := lr.store.ListRecordings(t.Context(), callrec.RecordingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.SIPCallID == callID {
			return r
		}
	}
	t.Fatalf("no recording of call %s among %d", callID, len(recs))
	return callrec.Recording{}
}

// src is a test SRC at localIP.
func src(t *testing.T, target, localIP, user, password string) *srcclient.Client {
	t.Helper()
	c, err := srcclient.New(srcclient.Config{Target: target, LocalIP: localIP, MediaPorts: [2]int{47400, 47599}, Senders: 1,
		Username: user, Password: password, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// shortCall is a two-stream call of 300 ms.
func shortCall(dialect, recordedUserID string, aors ...string) srcclient.CallSpec {
	spec := srcclient.CallSpec{Duration: 300 * time.Millisecond, Dialect: dialect, RecordedUserID: recordedUserID,
		Streams: []srcclient.StreamSpec{{Label: "1", ToneHz: 400}, {Label: "2", ToneHz: 1000}}}
	for i, a := range aors {
		spec.Streams[i].ParticipantAOR = a
	}
	return spec
}

// call runs spec and checks the final status.
func call(t *testing.T, c *srcclient.Client, spec srcclient.CallSpec, wantStatus int) *srcclient.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	res, err := c.Call(ctx, spec)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if res.Status != wantStatus {
		t.Fatalf("INVITE answered %d %s, want %d", res.Status, res.Reason, wantStatus)
	}
	return res
}

// TestSourcesBindOrgs runs real SIPREC sessions (srcclient over TCP) and
// checks which org and owner each recording gets: a source network of a
// second org, --siprec-allow for the default org, digest credentials of a
// third source, and refusals.
func TestSourcesBindOrgs(t *testing.T) {
	st := openDirectory(t)
	sources := &fakeSources{}
	sources.set(
		source("net-b", orgB, []string{"127.0.0.2/32"}, "", ""),
		source("auth-b", orgB, nil, "sbc-b", "s3cret"),
	)
	lr := startRecorder(t, st, Config{
		Allow:   []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Sources: sources,
		Owners:  NewDirectory(st),
	})

	// The default org through --siprec-allow, BroadWorks metadata naming bob.
	allowed := call(t, src(t, lr.target, "127.0.0.1", "", ""), shortCall(srcclient.DialectBroadWorks, "bob@bw.example"), 200)
	// Org B by its source network, an RFC 7865 AOR with org B's extension.
	byNetwork := call(t, src(t, lr.target, "127.0.0.2", "", ""), shortCall(srcclient.DialectRFC7866, "", "sip:1001@pbx.b.example"), 200)
	// Org B by digest credentials from an address no network binds.
	byDigest := call(t, src(t, lr.target, "127.0.0.3", "sbc-b", "s3cret"), shortCall(srcclient.DialectRFC7866, personB), 200)
	// Refusals: no credentials, wrong password.
	call(t, src(t, lr.target, "127.0.0.3", "", ""), shortCall(srcclient.DialectRFC7866, ""), 401)
	call(t, src(t, lr.target, "127.0.0.3", "sbc-b", "guess"), shortCall(srcclient.DialectRFC7866, ""), 401)

	lr.shutdown(t)
	cases := []struct {
		name            string
		res             *srcclient.Result
		org, typ, owner string
		email           string
		expires         bool
	}{
		{"siprec-allow, BroadWorks userID", allowed, orgA, callrec.OwnerUser, personBob, "bob@a.example", true},
		{"source network, RFC 7865 AOR", byNetwork, orgB, callrec.OwnerUser, personB, "bob@b.example", true},
		{"digest, callrec's own SRC id", byDigest, orgB, callrec.OwnerUser, personB, "bob@b.example", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := lr.recordingOf(t, c.res.CallID)
			if r.OrgID != c.org || r.OwnerType != c.typ || r.OwnerID != c.owner || r.OwnerEmail != c.email {
				t.Errorf("recording org %s owner %s %s %s, want org %s owner %s %s %s", r.OrgID, r.OwnerType, r.OwnerID, r.OwnerEmail, c.org, c.typ, c.owner, c.email)
			}
			if r.Status != callrec.StatusAvailable {
				t.Errorf("status %s", r.Status)
			}
			if want := r.Start.Add(callrec.FreeRetention); c.expires && !r.ExpiresAt.Equal(want) {
				t.Errorf("expires %v, want start + 30 days = %v (R3)", r.ExpiresAt, want)
			}
		})
	}
	recs, err := st.ListRecordings(t.Context(), callrec.RecordingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Errorf("%d recordings stored, want 3 (refused INVITEs store none)", len(recs))
	}
}

// lockedOwners is an Owners whose answers a test scripts, safe for the
// recorder's goroutines.
type lockedOwners struct {
	mu      sync.Mutex
	answers []func() (Owner, error)
	calls   int
}

func (l *lockedOwners) Owner(_ context.Context, orgID string, start time.Time, _ *callrec.Metadata) (Owner, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := min(l.calls, len(l.answers)-1)
	l.calls++
	return l.answers[i]()
}

func (l *lockedOwners) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// TestOwnerRematchedAtEnd checks that the owner is asked once at INVITE
// and once at the end, and that the end's answer is stored (a metadata
// update or a plan change during the call), unless it fails.
func TestOwnerRematchedAtEnd(t *testing.T) {
	st := openDirectory(t)
	first := Owner{Type: callrec.OwnerUser, ID: personBob, Email: "bob@a.example", LocationID: locHQ, ExpiresAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	second := Owner{Type: callrec.OwnerUser, ID: personAnn, Email: "ann@a.example", LocationID: locHQ}
	cases := []struct {
		name string
		end  func() (Owner, error)
		want Owner
	}{
		{"the end's owner wins", func() (Owner, error) { return second, nil }, second},
		{"a failing lookup at the end keeps the first", func() (Owner, error) { return Owner{}, fmt.Errorf("database is locked") }, first},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			owners := &lockedOwners{answers: []func() (Owner, error){func() (Owner, error) { return first, nil }, c.end}}
			lr := startRecorder(t, st, Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Owners: owners})
			res := call(t, src(t, lr.target, "127.0.0.1", "", ""), shortCall(srcclient.DialectRFC7866, ""), 200)
			lr.shutdown(t)
			if n := owners.count(); n != 2 {
				t.Errorf("owner asked %d times, want 2 (INVITE and end)", n)
			}
			r := lr.recordingOf(t, res.CallID)
			got := Owner{Type: r.OwnerType, ID: r.OwnerID, Email: r.OwnerEmail, LocationID: r.LocationID, ExpiresAt: r.ExpiresAt}
			if got != c.want {
				t.Errorf("stored owner %+v, want %+v", got, c.want)
			}
		})
	}
}
