package siprecclient

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/siprec"
)

// allow lists the methods we take inside a recording session.
const allow = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"

// Errors the session reports.
var (
	// ErrRemoteBye is sent on Failed when the SRS ended the session with
	// a BYE mid-call.
	ErrRemoteBye = errors.New("siprecclient: the SRS ended the recording session")
	// ErrNoAnswer means a target gave no final answer within
	// Config.InviteTimeout.
	ErrNoAnswer = errors.New("siprecclient: the SRS did not answer")
	// ErrStopped is returned by methods called after Stop or after the
	// session failed.
	ErrStopped = errors.New("siprecclient: recording session has ended")
	// ErrNotStarted is returned by Pause and Resume before Start
	// succeeded: a recording is paused only once it has started.
	ErrNotStarted = errors.New("siprecclient: recording session has not started")
)

// RefusedError is a target's non-2xx final answer to the INVITE, or to an
// in-dialog request.
type RefusedError struct {
	Target string
	Method sip.RequestMethod
	Status int
	Reason string
}

// Error implements error.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("siprecclient: %s %s answered %d %s", e.Method, e.Target, e.Status, e.Reason)
}

// Session is one recording session (RS, RFC 7866 §6) to an SRS: one SIP
// dialog, two sendonly RTP streams. Its methods are safe for concurrent
// use; Send never blocks.
type Session struct {
	cfg     Config
	log     *slog.Logger
	streams [2]*stream
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{} // closed when the sender goroutine has returned
	idle    chan struct{} // the sender found both rings empty (waitFlushed)
	epoch   time.Time     // origin of the queue times (monotonic clock)
	delay   atomic.Int64  // ns each packet waits after Send; fixed at start
	started atomic.Bool   // Start was called
	running atomic.Bool   // Start succeeded: the sender runs
	hold    atomic.Bool   // a pause is signalled: queued packets are discarded

	// Fixed once Start returns.
	callID    string
	target    string
	uri       sip.Uri
	transport string // "UDP" or "TCP"
	dlg       *sipgo.DialogClientSession
	contact   sip.ContactHeader
	sdpSess   uint64

	reqMu sync.Mutex // one in-dialog transaction at a time (RFC 3261 §14.1)

	mu     sync.Mutex // guards the fields below
	model  *model
	sdpVer uint64
	dir    string

	ended    atomic.Bool
	failed   chan error
	failOnce sync.Once
}

// Start opens a recording session for call: New, then Session.Start.
// On failure no socket or dialog is left behind.
func Start(ctx context.Context, cfg Config, call CallInfo) (*Session, error) {
	s, err := New(cfg, call)
	if err != nil {
		return nil, err
	}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// New prepares a recording session for call without contacting the SRS:
// it takes the two RTP sockets, and from now on Send keeps the packets it
// is given (at most BacklogLimit of them per stream, the oldest dropped
// first) until Start has the SRS's answer. The B2BUA calls it when the
// recorded party answers (R19), so that the audio from the answer on
// reaches the recording however long the SRS takes to answer. A session
// that is never started must be stopped (Stop) to free its sockets.
func New(cfg Config, call CallInfo) (*Session, error) {
	cfg, err := normalise(cfg)
	if err != nil {
		return nil, err
	}
	s := &Session{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "siprecclient"),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		idle:    make(chan struct{}, 1),
		epoch:   time.Now(),
		failed:  make(chan error, 1),
		model:   newModel(call),
		sdpSess: rand.Uint64() >> 1,
		sdpVer:  1,
		dir:     dirSendOnly,
	}
	for k := range s.streams {
		conn, err := cfg.Ports.Listen(cfg.LocalIP)
		if err != nil {
			s.releasePorts()
			return nil, fmt.Errorf("siprecclient: RTP socket for stream %d: %w", k, err)
		}
		st := newStream(conn)
		st.ring.live = false // no sender until the SRS answers: keep a backlog
		s.streams[k] = st
	}
	return s, nil
}

// Start sends the session's INVITE with Require: siprec, a +sip.src
// Contact, and a multipart body of the SDP offer and the complete RFC 7865
// metadata (RFC 7866 §6.1, §8.1, §9) to each of the Config's Targets in
// turn until one answers 2xx with usable SDP (X1: the backup is tried
// before failing). On success the sender starts: the backlog Send kept
// since New goes first, then live packets behind it, every packet paced
// by the same constant delay (see Delay). On failure the backlog is
// dropped, the sockets are freed, the session is ended and the error
// lists what every target did. Start may be called once.
func (s *Session) Start(ctx context.Context) error {
	if s.ended.Load() {
		return ErrStopped
	}
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("siprecclient: Start called twice")
	}
	var errs []error
	for _, target := range s.cfg.Targets {
		err := s.try(ctx, target)
		if err == nil {
			s.goLive()
			s.running.Store(true)
			go s.run()
			s.log.Info("recording session started", "target", target, "call_id", s.callID, "transport", s.transport,
				"stream0", s.streams[0].route.dst, "stream1", s.streams[1].route.dst, "delay", s.Delay())
			return nil
		}
		s.log.Warn("SRS target failed", "target", target, "err", err)
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	s.abandon()
	return fmt.Errorf("siprecclient: no SRS took the recording session: %w", errors.Join(errs...))
}

// goLive hands the backlog to the sender. The session's delay is the age
// of the oldest packet still kept, so that it is sent at once; every
// later packet of either stream is sent as long after its Send, which
// keeps the streams' pacing real-time and the two streams aligned: an SRS
// that places audio by arrival (callrec's recorder anchors RTP timestamps
// to arrival times and follows drift from the least-delayed packets,
// media/mix) sees an ordinary stream that started a little late, not a
// burst whose timestamps run ahead of the clock. RTP timestamps stay the
// relay's, continuous (RFC 3550 §5.1).
func (s *Session) goLive() {
	for _, st := range s.streams {
		st.ring.mu.Lock()
	}
	now := s.now()
	oldest, any := now, false
	for _, st := range s.streams {
		r := &st.ring
		st.expire(r.head.Load(), r.tail.Load(), now)
		if at, ok := st.oldest(); ok && (!any || at < oldest) {
			oldest, any = at, true
		}
	}
	s.delay.Store(now - oldest)
	for _, st := range s.streams {
		st.ring.live = true
		st.ring.mu.Unlock()
	}
}

// abandon ends a session that no SRS took: the backlog and the sockets
// go, Send skips from now on.
func (s *Session) abandon() {
	if !s.ended.CompareAndSwap(false, true) {
		return
	}
	for _, st := range s.streams {
		st.state.Store(stateStopped)
		st.ring.mu.Lock()
		st.skipped.Add(st.ring.tail.Load() - st.ring.head.Load())
		st.ring.head.Store(st.ring.tail.Load())
		st.ring.mu.Unlock()
	}
	s.releasePorts()
}

// now is the time since the session's epoch on the monotonic clock (no
// system call: the vDSO reads it).
func (s *Session) now() int64 { return int64(time.Since(s.epoch)) }

// Delay is how long after its Send each packet goes to the SRS: the time
// the SRS took to answer (at most BacklogLimit), zero when nothing was
// sent before it answered.
func (s *Session) Delay() time.Duration { return time.Duration(s.delay.Load()) }

func (s *Session) releasePorts() {
	for _, st := range s.streams {
		if st != nil {
			s.cfg.Ports.Release(st.conn)
		}
	}
}

func (s *Session) ports() [2]int {
	return [2]int{s.streams[0].localPort(), s.streams[1].localPort()}
}

// try runs the INVITE transaction with one target.
func (s *Session) try(ctx context.Context, target string) error {
	uri := sip.Uri{}
	if err := sip.ParseUri(target, &uri); err != nil {
		return fmt.Errorf("siprecclient: target %q: %w", target, err)
	}
	if uri.Host == "" {
		return fmt.Errorf("siprecclient: target %q has no host", target)
	}
	callID := hex.EncodeToString(randomBytes(12)) + "@" + s.cfg.LocalIP.String()
	s.mu.Lock()
	sdp := offer(s.cfg.LocalIP, s.ports(), s.cfg.Codecs, s.sdpSess, s.sdpVer, s.dir)
	meta := s.model.complete(time.Now())
	s.mu.Unlock()
	req, contact := s.buildInvite(uri, callID, sdp, meta)

	s.cfg.Dialogs.add(callID, s)
	dua := sipgo.DialogUA{Client: s.cfg.Client, ContactHDR: contact}
	dlg, err := dua.WriteInvite(ctx, req)
	if err != nil {
		s.cfg.Dialogs.remove(callID, s)
		return fmt.Errorf("siprecclient: INVITE %s over %s: %w", target, req.Transport(), err)
	}
	// The fields read by Dialogs.Handle are set before any answer is read.
	s.mu.Lock()
	s.callID, s.target, s.uri, s.transport, s.dlg, s.contact = callID, target, uri, req.Transport(), dlg, contact
	s.mu.Unlock()
	if err := s.waitAnswer(ctx, dlg, target); err != nil {
		_ = dlg.Close()
		s.cfg.Dialogs.remove(callID, s)
		return err
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.RequestTimeout)
	defer cancel()
	if err := dlg.Ack(actx); err != nil {
		_ = dlg.Close()
		s.cfg.Dialogs.remove(callID, s)
		return fmt.Errorf("siprecclient: ACK to %s: %w", target, err)
	}
	routes, err := parseAnswer(dlg.InviteResponse.Body(), s.cfg.Codecs)
	if err == nil {
		for k, st := range s.streams {
			if err = st.setRoute(routes[k], s.cfg.Codecs[k]); err != nil {
				break
			}
			st.setLocal(s.cfg.Local)
			if routes[k].why != "" {
				s.log.Warn("SRS rejected a stream", "target", target, "stream", k, "why", routes[k].why)
			}
		}
	}
	if err != nil {
		_ = dlg.WriteBye(actx, sip.NewRequest(sip.BYE, remoteTarget(dlg, uri)))
		s.cfg.Dialogs.remove(callID, s)
		return fmt.Errorf("siprecclient: answer of %s: %w", target, err)
	}
	return nil
}

// buildInvite writes the RS INVITE of siprec-interop.md §2.5 and chooses
// its transport.
func (s *Session) buildInvite(uri sip.Uri, callID string, sdp, meta []byte) (*sip.Request, sip.ContactHeader) {
	recipient := *uri.Clone()
	req := sip.NewRequest(sip.INVITE, recipient)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "src", Host: s.cfg.LocalIP.String()}, Params: sip.NewParams()}
	from.Params.Add("tag", hex.EncodeToString(randomBytes(6)))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: uri.User, Host: uri.Host, Port: uri.Port}})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(sip.NewHeader("Require", "siprec")) // RFC 7866 §11.1.1
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp, application/rs-metadata+xml, application/rs-metadata-request"))
	req.AppendHeader(sip.NewHeader("Allow", allow))
	req.AppendHeader(sip.NewHeader("Session-ID", s.model.call.SessionID+";remote="+s.model.call.RemoteSessionID)) // RFC 7989
	req.AppendHeader(sip.NewHeader("User-Agent", "callrec"))
	if s.cfg.Headers != nil {
		for _, h := range s.cfg.Headers(callID) {
			req.AppendHeader(h)
		}
	}
	req.AppendHeader(sip.NewHeader("MIME-Version", "1.0"))
	body, ctype := multipart(sdp, meta)
	req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	req.SetBody(body)

	transport := s.cfg.Transport
	if uri.UriParams != nil {
		if t, ok := uri.UriParams.Get("transport"); ok && t != "" {
			transport = strings.ToLower(t)
		}
	}
	// RFC 7866 §11.2.1: +sip.src on the Contact.
	contact := sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "src", Host: s.cfg.Contact.Addr().String(), Port: int(s.cfg.Contact.Port()), UriParams: sip.NewParams()},
		Params:  sip.NewParams(),
	}
	contact.Params.Add("+sip.src", "")
	if transport == TransportAuto {
		transport = chooseTransport(len(req.String()) + len(contact.String()) + viaAllowance)
	}
	contact.Address.UriParams.Add("transport", transport)
	req.AppendHeader(&contact)
	req.SetTransport(strings.ToUpper(transport))
	return req, contact
}

// viaAllowance is room for the Via header and Content-Length the SIP
// stack adds after the size check.
const viaAllowance = 160

// chooseTransport applies RFC 3261 §18.1.1: a request larger than
// UDPSizeLimit goes over TCP.
func chooseTransport(size int) string {
	if size > UDPSizeLimit {
		return TransportTCP
	}
	return TransportUDP
}

// boundary separates the parts of our multipart bodies.
const boundary = "callrec-rs-boundary"

// multipart joins the SDP offer and the metadata (RFC 7866 §9, RFC 2046
// §5.1): the metadata part carries Content-Disposition recording-session.
func multipart(sdp, meta []byte) ([]byte, string) {
	var b strings.Builder
	b.WriteString("--" + boundary + "\r\nContent-Type: " + siprec.TypeSDP + "\r\n\r\n")
	b.Write(sdp)
	b.WriteString("\r\n--" + boundary + "\r\nContent-Type: " + siprec.TypeMetadata + "\r\nContent-Disposition: " + siprec.DispositionRecordingSession + "\r\n\r\n")
	b.Write(meta)
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return []byte(b.String()), "multipart/mixed;boundary=" + boundary
}

// errInviteTimeout cancels an INVITE that had a provisional answer.
var errInviteTimeout = errors.New("siprecclient: INVITE timeout")

// waitAnswer waits for the final answer within InviteTimeout. Without a
// provisional answer no CANCEL can be sent (RFC 3261 §9.1), so the wait
// is abandoned at once; with one, the INVITE is cancelled.
func (s *Session) waitAnswer(ctx context.Context, dlg *sipgo.DialogClientSession, target string) error {
	var provisional atomic.Bool
	wctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	give := func() {
		if provisional.Load() {
			cancel(errInviteTimeout)
		} else {
			cancel(sipgo.WaitAnswerForceCancelErr)
		}
	}
	timer := time.AfterFunc(s.cfg.InviteTimeout, give)
	defer timer.Stop()
	stopWatch := context.AfterFunc(ctx, give)
	defer stopWatch()
	err := dlg.WaitAnswer(wctx, sipgo.AnswerOptions{
		Username: s.cfg.Username, Password: s.cfg.Password,
		OnResponse: func(r *sip.Response) error {
			if r.IsProvisional() {
				provisional.Store(true)
			}
			return nil
		},
	})
	if err == nil {
		return nil
	}
	var pe *sipgo.ErrDialogResponse
	var ve sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &pe):
		return &RefusedError{Target: target, Method: sip.INVITE, Status: pe.Res.StatusCode, Reason: pe.Res.Reason}
	case errors.As(err, &ve):
		return &RefusedError{Target: target, Method: sip.INVITE, Status: ve.Res.StatusCode, Reason: ve.Res.Reason}
	case ctx.Err() != nil:
		return fmt.Errorf("siprecclient: INVITE %s: %w", target, ctx.Err())
	case wctx.Err() != nil:
		return fmt.Errorf("siprecclient: INVITE %s: %w within %s", target, ErrNoAnswer, s.cfg.InviteTimeout)
	}
	return fmt.Errorf("siprecclient: INVITE %s: %w", target, err)
}

// remoteTarget is where in-dialog requests go: the SRS's Contact
// (RFC 3261 §12.1.2), else the target URI.
func remoteTarget(dlg *sipgo.DialogClientSession, fallback sip.Uri) sip.Uri {
	if r := dlg.InviteResponse; r != nil {
		if ct := r.Contact(); ct != nil {
			return *ct.Address.Clone()
		}
	}
	return *fallback.Clone()
}

// run is the session's sender goroutine: it sends each stream's queued
// packets when they are due (Send's time plus the session's delay; at
// once when the delay is zero, R38) and sleeps on a timer for the next
// one, or until Send queues into an empty ring.
func (s *Session) run() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	delay := s.delay.Load()
	for {
		now := s.now()
		hold := s.hold.Load()
		var next int64
		more := false
		for _, st := range s.streams {
			if st.remark.Swap(false) {
				st.marker = true
			}
			if n, ok := st.sendDue(now, delay, hold); ok && (!more || n < next) {
				next, more = n, true
			}
		}
		var tc <-chan time.Time
		if more {
			timer.Reset(time.Duration(next - now))
			tc = timer.C
		} else {
			select {
			case s.idle <- struct{}{}:
			default:
			}
		}
		select {
		case <-s.wake:
		case <-tc:
		case <-s.stop:
			timer.Stop()
			return
		}
	}
}

// waitFlushed waits until the sender has sent (or discarded) every queued
// packet, the sender has returned, or ctx ends.
func (s *Session) waitFlushed(ctx context.Context) {
	for !s.streams[0].empty() || !s.streams[1].empty() {
		select {
		case <-s.idle:
		case <-s.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// Send queues one RTP payload of stream (0: the recorded party, 1: the
// other side) with the relay's RTP timestamp ts, in the clock of the
// stream's Config.Codecs entry. It never blocks and never allocates: when
// the stream is paused or stopped the packet is skipped, when the sender
// is behind it is dropped; both are counted (Stats). Before the SRS
// answered the packet is kept in the backlog (New). The payload is
// copied, so the caller may reuse it at once. A nil Session ignores Send.
func (s *Session) Send(stream int, payload []byte, ts uint32) {
	if s == nil || stream < 0 || stream >= len(s.streams) {
		return
	}
	// With a delay the sender sleeps until the oldest packet is due; a
	// packet into a non-empty ring cannot be due before it.
	if queued, first := s.streams[stream].push(payload, ts, s.now()); queued && (first || s.delay.Load() == 0) {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Stats returns the counters of both streams.
func (s *Session) Stats() [2]StreamStats {
	return [2]StreamStats{s.streams[0].stats(), s.streams[1].stats()}
}

// CallID is the SIP Call-ID of the recording session's dialog.
func (s *Session) CallID() string { return s.callID }

// Target is the SRS URI that took the session (the primary or a backup).
func (s *Session) Target() string { return s.target }

// Transport is "UDP" or "TCP", the transport of the session's dialog.
func (s *Session) Transport() string { return s.transport }

// Failed delivers one error when the SRS ends or breaks the session
// mid-call (ErrRemoteBye, a refused or unanswered in-dialog request); it
// is closed without a value after Stop. What the call does about it (X1)
// is the B2BUA's decision: the session only stops sending.
func (s *Session) Failed() <-chan error { return s.failed }

// fail ends the session locally and reports err once.
func (s *Session) fail(err error) {
	s.failOnce.Do(func() {
		s.shutdown(false)
		s.log.Warn("recording session failed", "call_id", s.callID, "err", err)
		s.failed <- err
		close(s.failed)
	})
}

// shutdown stops the sender, sends what is still queued when flush is
// set, stops the streams and frees the sockets, once.
func (s *Session) shutdown(flush bool) {
	if !s.ended.CompareAndSwap(false, true) {
		return
	}
	if s.running.Load() {
		close(s.stop)
		<-s.done
	}
	for _, st := range s.streams {
		if flush && s.running.Load() {
			// The sender has returned: this goroutine is the consumer now.
			st.sendDue(math.MaxInt64, 0, s.hold.Load())
		}
		st.state.Store(stateStopped)
	}
	s.releasePorts()
	s.cfg.Dialogs.remove(s.callID, s)
}

// setPaused pauses or resumes both streams unless they are stopped.
func (s *Session) setPaused(paused bool) {
	for _, st := range s.streams {
		if paused {
			st.state.CompareAndSwap(stateSending, statePaused)
			continue
		}
		st.remark.Store(true)
		st.state.CompareAndSwap(statePaused, stateSending)
	}
}

// dialog returns the dialog and our Contact (set by Start).
func (s *Session) dialog() (*sipgo.DialogClientSession, sip.ContactHeader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dlg, s.contact
}

// Pause stops taking packets at once, lets the sender send those Send
// queued before (they are within the session's delay, Delay: what was
// said before the pause is recorded), then tells the SRS with an
// a=inactive re-INVITE (RFC 7866 §8.1.2; siprec-interop.md §3.3: media
// stops before the pause is signalled; if ctx ends first, what is still
// queued is discarded). The SRS keeps the paused span as silence. An
// error means the SRS did not take the re-INVITE; the session stays
// paused, and when the SRS is gone it also fails. Before Start succeeded
// it returns ErrNotStarted.
func (s *Session) Pause(ctx context.Context) error {
	if s.ended.Load() {
		return ErrStopped
	}
	if !s.running.Load() {
		return ErrNotStarted
	}
	s.setPaused(true)
	s.waitFlushed(ctx)
	s.hold.Store(true)
	return s.reinvite(ctx, dirInactive)
}

// Resume tells the SRS with an a=sendonly re-INVITE, then sends again
// (the first packet carries the marker bit, RFC 3551 §4.1).
func (s *Session) Resume(ctx context.Context) error {
	if s.ended.Load() {
		return ErrStopped
	}
	if !s.running.Load() {
		return ErrNotStarted
	}
	if err := s.reinvite(ctx, dirSendOnly); err != nil {
		return err
	}
	s.hold.Store(false)
	s.setPaused(false)
	return nil
}

// Paused reports whether the session is paused.
func (s *Session) Paused() bool { return s.streams[0].state.Load() == statePaused }

// currentOffer is our last offer, to answer an SRS re-INVITE.
func (s *Session) currentOffer() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return offer(s.cfg.LocalIP, s.ports(), s.cfg.Codecs, s.sdpSess, s.sdpVer, s.dir)
}

// reinvite sends our offer in direction dir with a new o= version
// (RFC 3264 §8) and ACKs the answer.
func (s *Session) reinvite(ctx context.Context, dir string) error {
	s.mu.Lock()
	s.sdpVer++
	s.dir = dir
	body := offer(s.cfg.LocalIP, s.ports(), s.cfg.Codecs, s.sdpSess, s.sdpVer, dir)
	s.mu.Unlock()
	return s.request(ctx, sip.INVITE, siprec.TypeSDP, "", body)
}

// Announce tells the SRS that an announcement played (R22, R37): kind is
// one of the Announce* constants, lang the prompt's language (e.g.
// "en_US"), at when it started. It sends a partial metadata update
// (RFC 7865 §6.1) in an UPDATE (RFC 7866 §7.1.1) whose session carries a
// <callrec:announcement kind lang at> element in siprec.CallrecNamespace,
// with every earlier announcement of the call.
func (s *Session) Announce(ctx context.Context, kind, lang string, at time.Time) error {
	if s.ended.Load() {
		return ErrStopped
	}
	if kind == "" {
		return errors.New("siprecclient: announcement kind is empty")
	}
	s.mu.Lock()
	body := s.model.announced(kind, lang, at)
	s.mu.Unlock()
	return s.request(ctx, sip.UPDATE, siprec.TypeMetadata, siprec.DispositionRecordingSession, body)
}

// UpdateParticipants says that p took over stream (0: the recorded side,
// 1: the other side), e.g. after a transfer: a partial metadata update
// (RFC 7866 §6.3, RFC 8068 §5) in which the old participant leaves the
// session and p sends the stream.
func (s *Session) UpdateParticipants(ctx context.Context, stream int, p Participant) error {
	if s.ended.Load() {
		return ErrStopped
	}
	if stream < 0 || stream > 1 {
		return fmt.Errorf("siprecclient: stream %d (want 0 or 1)", stream)
	}
	s.mu.Lock()
	body := s.model.replaced(stream, p, time.Now())
	s.mu.Unlock()
	return s.request(ctx, sip.UPDATE, siprec.TypeMetadata, siprec.DispositionRecordingSession, body)
}

// snapshotIfAsked sends a complete metadata snapshot in an UPDATE when
// req asked for one (RFC 7866 §9.2).
func (s *Session) snapshotIfAsked(req *sip.Request) {
	if !asksSnapshot(req) {
		return
	}
	go func() {
		s.mu.Lock()
		body := s.model.complete(time.Now())
		s.mu.Unlock()
		if err := s.request(context.Background(), sip.UPDATE, siprec.TypeMetadata, siprec.DispositionRecordingSession, body); err != nil {
			s.log.Warn("metadata snapshot for the SRS failed", "err", err)
		}
	}()
}

// request sends one in-dialog request and waits for its final answer. A
// 491 is retried once after the RFC 3261 §14.1 back-off; a 481 or 408
// answer, or no answer at all, means the SRS lost the session: the
// session fails.
func (s *Session) request(ctx context.Context, method sip.RequestMethod, ctype, disposition string, body []byte) error {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	for attempt := 0; ; attempt++ {
		if s.ended.Load() {
			return ErrStopped
		}
		req := sip.NewRequest(method, remoteTarget(s.dlg, s.uri))
		req.AppendHeader(sip.HeaderClone(&s.contact))
		req.AppendHeader(sip.NewHeader("Content-Type", ctype))
		if disposition != "" {
			req.AppendHeader(sip.NewHeader("Content-Disposition", disposition))
		}
		req.SetBody(body)
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		res, err := s.dlg.Do(rctx, req)
		cancel()
		if err != nil {
			err = fmt.Errorf("siprecclient: %s to %s: %w", method, s.target, err)
			if ctx.Err() == nil {
				s.fail(err) // no answer within RequestTimeout: the SRS is gone
			}
			return err
		}
		if res.IsSuccess() {
			if method == sip.INVITE {
				ack := sip.NewRequest(sip.ACK, remoteTarget(s.dlg, s.uri))
				ack.AppendHeader(sip.HeaderClone(&s.contact))
				if err := s.dlg.WriteRequest(ack); err != nil {
					return fmt.Errorf("siprecclient: ACK to %s: %w", s.target, err)
				}
			}
			return nil
		}
		if res.StatusCode == sip.StatusRequestPending && attempt == 0 {
			backoff := 2100*time.Millisecond + rand.N(1900*time.Millisecond)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("siprecclient: %s to %s after 491: %w", method, s.target, ctx.Err())
			}
		}
		rerr := &RefusedError{Target: s.target, Method: method, Status: res.StatusCode, Reason: res.Reason}
		if res.StatusCode == sip.StatusCallTransactionDoesNotExists || res.StatusCode == sip.StatusRequestTimeout {
			s.fail(rerr)
		}
		return rerr
	}
}

// remoteBye answers the SRS's BYE (RFC 7866 §7.1.2) and fails the
// session with ErrRemoteBye.
func (s *Session) remoteBye(req *sip.Request, tx sip.ServerTransaction) {
	dlg, _ := s.dialog()
	if err := dlg.ReadBye(req, tx); err != nil {
		s.log.Info("answering the SRS's BYE", "err", err)
	}
	s.fail(ErrRemoteBye)
}

// Stop ends the session with a BYE (RFC 7866 §7.1.2) after the last
// queued packets are sent, frees its sockets and closes Failed. Send
// takes nothing from the moment Stop is called; what it queued before
// still goes at its real-time pace and the BYE follows Delay after Stop
// was called (bounded by ctx), so the recording keeps the end of the
// call. It is safe to call more than once
// and after a failure (then it only returns nil: there is nothing left to
// end). On a session that was never started it only frees the sockets;
// it must not run concurrently with Start.
func (s *Session) Stop(ctx context.Context) error {
	if !s.running.Load() {
		s.abandon()
		s.failOnce.Do(func() { close(s.failed) })
		return nil
	}
	for _, st := range s.streams {
		st.state.Store(stateStopped) // Send skips from now on
	}
	// The call ended now; the SRS, which hears it Delay late, hears the
	// BYE as late, after the last packet's audio (the recorder ends the
	// file at the BYE).
	fctx, cancel := context.WithTimeout(ctx, s.Delay()+time.Second)
	if d := s.Delay(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-fctx.Done():
			t.Stop()
		}
	}
	s.waitFlushed(fctx)
	cancel()
	var err error
	s.failOnce.Do(func() {
		s.shutdown(true)
		bctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		defer cancel()
		s.reqMu.Lock()
		defer s.reqMu.Unlock()
		bye := sip.NewRequest(sip.BYE, remoteTarget(s.dlg, s.uri))
		bye.AppendHeader(sip.HeaderClone(&s.contact))
		if e := s.dlg.WriteBye(bctx, bye); e != nil {
			err = fmt.Errorf("siprecclient: BYE to %s: %w", s.target, e)
		}
		s.log.Info("recording session stopped", "call_id", s.callID, "stats", s.Stats())
		close(s.failed)
	})
	return err
}

// Dest is the address the SRS asked for stream's RTP; invalid when it
// rejected the stream.
func (s *Session) Dest(stream int) netip.AddrPort {
	if stream < 0 || stream >= len(s.streams) {
		return netip.AddrPort{}
	}
	return s.streams[stream].route.dst
}
