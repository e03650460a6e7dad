package callpath

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/callpath/relay"
	"github.com/callrec/callrec/siprec"
	"github.com/callrec/callrec/siprecclient"
	"github.com/callrec/callrec/srcclaim"
)

// prepare creates the recording's SIPREC session at the recorded party's
// answer, before its INVITE goes out (start), and hands it to the taps:
// until the SRS answers, the session keeps what both parties say, so the
// recording holds the audio from the answer on however long the SRS takes
// (R19). A failure here is not reported: start tries again and applies
// X1 when that fails too.
func (r *recording) prepare() {
	if r.feed.Load() != nil {
		return
	}
	if _, err := r.open(); err != nil {
		r.c.s.log.Debug("callpath: recording session at answer", "call", r.c.id, "err", err)
	}
}

// open creates the recording's SIPREC session (its sockets and backlog,
// no INVITE yet) for the SRS of the decision and its backup (X1), and
// makes it the taps' feed.
func (r *recording) open() (*siprecclient.Session, error) {
	c, s := r.c, r.c.s
	target := r.dec.Target
	if target == "" {
		target = s.cfg.BuiltInTarget
	}
	targets := []string{target}
	if r.dec.Backup != "" {
		targets = append(targets, r.dec.Backup)
	}
	c.mu.Lock()
	codecs := [2]relay.Codec{c.codecA, c.codecB}
	c.mu.Unlock()
	if r.side == relay.B {
		codecs[0], codecs[1] = codecs[1], codecs[0]
	}
	// The feeds learn the streams' codecs before the taps can see the
	// session (r.feed.Store below).
	r.feeds[0].init(codecs[0])
	r.feeds[1].init(codecs[1])
	me, other, dir := r.participants()
	cfg := siprecclient.Config{
		Targets: targets, Transport: s.cfg.SIPRECTransport, Client: s.tcpClient, Dialogs: s.dialogs,
		Contact: s.addr, LocalIP: s.cfg.MediaIP, Ports: s.cfg.SIPRECPorts,
		Codecs:        [2]siprec.Format{siprecFormat(codecs[0]), siprecFormat(codecs[1])},
		InviteTimeout: s.cfg.SRSInviteTimeout, Logger: s.log,
	}
	if r.dec.Target == "" {
		// The built-in recorder runs in this process: its RTP is handed
		// over in memory (a backup target is never found by Local).
		cfg.Local = s.cfg.SIPRECLocal
	}
	if r.dec.Target == "" && len(s.cfg.OrgClaimKey) > 0 {
		// The built-in recorder learns the org from a signed claim: the
		// session comes from an address it would bind to the default org.
		org := r.orgID()
		cfg.Headers = func(callID string) []sip.Header {
			return []sip.Header{sip.NewHeader(srcclaim.Header, srcclaim.Sign(s.cfg.OrgClaimKey, org, callID))}
		}
	}
	sess, err := siprecclient.New(cfg, siprecclient.CallInfo{CallID: c.id, Recorded: me, Other: other, Direction: dir, Start: c.start})
	if err != nil {
		return nil, err
	}
	r.feed.Store(sess)
	return sess, nil
}

// discard frees a session prepared at answer that will not start (the
// call ended first).
func (r *recording) discard() {
	if sess := r.feed.Swap(nil); sess != nil {
		_ = sess.Stop(context.Background()) // never started: frees the sockets, sends nothing
	}
}
