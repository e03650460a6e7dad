package srcclient

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callrec/callrec/siprec"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// byeTimeout bounds the BYE (and the ACK/BYE after a lost CANCEL race)
// when the caller's context is already done.
const byeTimeout = 10 * time.Second

// call is one recording session in progress.
type call struct {
	c       *Client
	spec    CallSpec
	callID  string
	ids     ids
	ports   []int
	senders []*sender
	streams []*mstream // nil entries: silent or rejected streams

	mu         sync.Mutex
	sess       *sipgo.DialogClientSession
	contact    sip.ContactHeader
	sdpVersion uint64
	dir        direction
	remote     atomic.Bool
	byeAt      atomic.Int64 // unix nanoseconds when the SRS's BYE arrived
	byeCh      chan struct{}
}

// Call runs one recording session: INVITE (multipart body, Require: siprec
// and a +sip.src Contact in the RFC 7866 dialect), wait for the final
// answer, ACK, send media to the answered ports for spec.Duration with the
// pauses, DTMF, impairments and metadata update asked for, then BYE.
//
// A non-2xx answer is not an error: it is returned in Result.Status. An
// error means the call could not be carried out (bad spec, transport
// failure, ctx done); the Result then holds what happened so far.
func (c *Client) Call(ctx context.Context, spec CallSpec) (*Result, error) {
	spec, err := normalise(spec)
	if err != nil {
		return nil, err
	}
	cl := &call{
		c:      c,
		spec:   spec,
		callID: hex.EncodeToString(randomBytes(12)) + "@" + c.cfg.LocalIP,
		ids:    newIDs(spec.Dialect, len(spec.Streams)),
		byeCh:  make(chan struct{}),
	}
	res := &Result{CallID: cl.callID, Sent: map[string]uint64{}}

	frames := make([][][]byte, len(spec.Streams))
	for i, st := range spec.Streams {
		s := c.nextSender()
		cl.senders = append(cl.senders, s)
		cl.ports = append(cl.ports, s.port)
		if st.Silent {
			continue
		}
		if frames[i], err = c.tones.get(st.Codec, st.ToneHz, st.Amplitude); err != nil {
			return res, err
		}
	}

	c.register(cl)
	defer c.unregister(cl)

	req := cl.buildInvite()
	sess, err := c.dua.WriteInvite(ctx, req)
	if err != nil {
		return res, fmt.Errorf("srcclient: INVITE %s: %w", cl.callID, err)
	}
	defer func() { _ = sess.Close() }()
	cl.mu.Lock()
	cl.sess = sess
	cl.contact = *sip.HeaderClone(req.Contact()).(*sip.ContactHeader)
	cl.mu.Unlock()

	answered, err := cl.waitAnswer(ctx, res)
	if err != nil || !answered {
		return res, err
	}
	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), byeTimeout)
	err = sess.Ack(ackCtx)
	cancel()
	if err != nil {
		return res, fmt.Errorf("srcclient: ACK %s: %w", cl.callID, err)
	}
	if res.Cancelled {
		// The answer won the race with our CANCEL (RFC 3261 §9.1): end
		// the session at once.
		cl.bye(ctx, res)
		return res, nil
	}

	res.Started = time.Now()
	if err := cl.startMedia(res, frames); err != nil {
		cl.stopMedia()
		cl.bye(ctx, res)
		return res, err
	}
	runErr := cl.run(ctx, res)
	cl.stopMedia()
	res.Duration = time.Since(res.Started)
	cl.collect(res)
	if !cl.remote.Load() {
		cl.bye(ctx, res)
	}
	res.RemoteBye = cl.remote.Load()
	if at := cl.byeAt.Load(); at != 0 {
		res.ByeReceived = time.Unix(0, at)
	}
	return res, runErr
}

// buildInvite writes the RS INVITE of siprec-interop.md §2.5 in the
// spec's dialect.
func (cl *call) buildInvite() *sip.Request {
	c, spec := cl.c, &cl.spec
	recipient := *c.target.Clone()
	req := sip.NewRequest(sip.INVITE, recipient)
	req.SetTransport(c.transport)

	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "src", Host: c.cfg.LocalIP}, Params: sip.NewParams()}
	if spec.Dialect == DialectBroadWorks {
		from.DisplayName = spec.Streams[0].ParticipantName
		from.Address.User = aorUser(spec.Streams[0].ParticipantAOR)
	}
	from.Params.Add("tag", hex.EncodeToString(randomBytes(6)))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: c.target.User, Host: c.target.Host, Port: c.target.Port}})
	callID := sip.CallIDHeader(cl.callID)
	req.AppendHeader(&callID)

	// RFC 7866 §11.2.1: the SRC marks its Contact with +sip.src; the host
	// and port are filled in by sipgo from the connection once it exists.
	contact := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "src", UriParams: sip.NewParams()}, Params: sip.NewParams()}
	contact.Address.UriParams.Add("transport", strings.ToLower(c.transport))
	if spec.Dialect == DialectBroadWorks {
		contact.Address.User = ""
		contact.Address.UriParams.Add("src", "") // Webex Calling form: <sip:host:port;transport=tcp;src>
	} else {
		contact.Params.Add("+sip.src", "")
	}
	req.AppendHeader(contact)

	sessionID := fmt.Sprintf("%s;remote=%s", cl.ids.sipSessionID, cl.ids.sipSessionRemote)
	switch spec.Dialect {
	case DialectBroadWorks:
		req.AppendHeader(sip.NewHeader("Accept", "application/media_control+xml,application/sdp,application/x-broadworks-call-center+xml"))
		req.AppendHeader(sip.NewHeader("Session-ID", sessionID))
		req.AppendHeader(sip.NewHeader("Supported", ""))
		req.AppendHeader(sip.NewHeader("Recv-Info", ""))
		req.AppendHeader(sip.NewHeader("X-BroadWorks-Correlation-Info", cl.ids.correlation))
	default:
		// RFC 7866 §11.1.1: Require: siprec on the INVITE creating an RS.
		req.AppendHeader(sip.NewHeader("Require", "siprec"))
		req.AppendHeader(sip.NewHeader("Accept", "application/sdp, application/rs-metadata+xml, application/rs-metadata, application/rs-metadata-request"))
		req.AppendHeader(sip.NewHeader("Session-ID", sessionID))
		req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"))
		if spec.Dialect == DialectAudioCodes {
			req.AppendHeader(sip.NewHeader("User-Agent", "Mediant VE SBC/v.7.40A.250.001"))
		} else {
			req.AppendHeader(sip.NewHeader("User-Agent", "callrec-srcclient"))
		}
	}
	req.AppendHeader(sip.NewHeader("MIME-Version", "1.0"))
	keys := make([]string, 0, len(spec.ExtraHeaders))
	for k := range spec.ExtraHeaders {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		req.AppendHeader(sip.NewHeader(k, spec.ExtraHeaders[k]))
	}

	cl.sdpVersion = 1
	cl.dir = dirSendOnly
	sdp := offerSDP(spec, c.cfg.LocalIP, cl.ports, cl.ids.sdpSession, cl.sdpVersion, cl.dir)
	body, ctype := inviteBody(spec, sdp, metadata(spec, &cl.ids, time.Now()))
	if spec.RawBody != nil {
		body = spec.RawBody
		if spec.RawContentType != "" {
			ctype = spec.RawContentType
		}
	}
	req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	req.SetBody(body)
	return req
}

// errCancelAfter is the cause of the context that triggers CancelAfter.
var errCancelAfter = errors.New("srcclient: CancelAfter reached")

// waitAnswer waits for the final answer and records it in res. It reports
// whether a 2xx arrived (so the caller must ACK).
func (cl *call) waitAnswer(ctx context.Context, res *Result) (bool, error) {
	sess := cl.sess
	waitCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var cancelled atomic.Bool
	if d := cl.spec.CancelAfter; d > 0 {
		t := time.AfterFunc(d, func() {
			cancelled.Store(true)
			cancel(errCancelAfter)
		})
		defer t.Stop()
	}
	err := sess.WaitAnswer(waitCtx, sipgo.AnswerOptions{Username: cl.c.cfg.Username, Password: cl.c.cfg.Password})
	res.Answered = time.Now()
	res.Cancelled = cancelled.Load()
	if r := sess.InviteResponse; r != nil && !r.IsProvisional() {
		res.Status, res.Reason = r.StatusCode, r.Reason
		if r.IsSuccess() {
			res.AnswerSDP = r.Body()
		}
	}
	switch {
	case err == nil:
		return true, nil
	case res.Cancelled && res.Status >= 200 && res.Status < 300:
		return true, nil // 2xx crossed our CANCEL
	case res.Cancelled && res.Status != 0:
		return false, nil
	}
	var pe *sipgo.ErrDialogResponse
	var ve sipgo.ErrDialogResponse
	if errors.As(err, &pe) || errors.As(err, &ve) {
		return false, nil // non-2xx: res.Status says which
	}
	return false, fmt.Errorf("srcclient: INVITE %s: %w", cl.callID, err)
}

// startMedia maps the answer's m-lines to our streams and hands them to
// the senders.
func (cl *call) startMedia(res *Result, frames [][][]byte) error {
	spec := &cl.spec
	res.Streams = make([]StreamResult, len(spec.Streams))
	cl.streams = make([]*mstream, len(spec.Streams))
	answer, err := siprec.ParseSDP(res.AnswerSDP)
	if err != nil {
		return fmt.Errorf("srcclient: answer SDP of %s: %w", cl.callID, err)
	}
	// RFC 3264 §6: the answer has the offer's m-lines in order; labels
	// are echoed (siprec-interop.md §3.2). Match by label, then by index.
	byLabel := map[string]int{}
	for j, m := range answer.Media {
		if m.Label != "" {
			byLabel[m.Label] = j
		}
	}
	for i, st := range spec.Streams {
		sr := &res.Streams[i]
		sr.Label, sr.Codec = st.Label, st.Codec
		j, ok := byLabel[st.Label]
		if !ok {
			if i >= len(answer.Media) {
				res.Warnings = append(res.Warnings, fmt.Sprintf("stream %s: no m-line in the answer", st.Label))
				continue
			}
			j = i
			if answer.Media[j].Label != "" {
				res.Warnings = append(res.Warnings, fmt.Sprintf("stream %s: answer m-line %d has label %q", st.Label, j, answer.Media[j].Label))
			}
		}
		m := answer.Media[j]
		if m.Port == 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("stream %s: rejected (port 0)", st.Label))
			continue
		}
		info := codecs[st.Codec]
		pt, eventPT, found := -1, -1, false
		for _, f := range m.Formats {
			switch {
			case strings.EqualFold(f.Name, info.encoding) && int(f.ClockRate) == info.clock:
				if !found {
					pt, found = int(f.PT), true
				}
			case strings.EqualFold(f.Name, "telephone-event") && int(f.ClockRate) == info.eventRate:
				eventPT = int(f.PT)
			}
		}
		if !found {
			res.Warnings = append(res.Warnings, fmt.Sprintf("stream %s: answer has no %s/%d", st.Label, info.encoding, info.clock))
			continue
		}
		sr.PayloadType = uint8(pt)
		if st.Silent {
			continue
		}
		ip := m.Addr
		if !ip.IsValid() {
			// No c= line: use the SRS's signalling address (siprec-interop.md §6.1 item 7).
			ips, err := net.LookupIP(cl.c.target.Host)
			if err != nil || len(ips) == 0 {
				return fmt.Errorf("srcclient: stream %s: answer has no c= and target host %q does not resolve: %w", st.Label, cl.c.target.Host, err)
			}
			ip, _ = netip.AddrFromSlice(ips[0])
		}
		ip = ip.Unmap()
		if ip.IsUnspecified() {
			res.Warnings = append(res.Warnings, fmt.Sprintf("stream %s: answer address %s: not sending", st.Label, ip))
			continue
		}
		// RTCP goes to a=rtcp (RFC 3605), the RTP port under rtcp-mux
		// (RFC 5761), else the port above RTP (RFC 3550 §11).
		rtcpPort := m.Port + 1
		switch {
		case m.RTCPMux:
			rtcpPort = m.Port
		case m.RTCPPort > 0:
			rtcpPort = m.RTCPPort
		}
		ms := &mstream{
			label:        st.Label,
			dst:          net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(m.Port))),
			rtcpDst:      netip.AddrPortFrom(ip, uint16(rtcpPort)),
			frames:       frames[i],
			pt:           uint8(pt),
			tsStep:       info.tsStep(),
			start:        res.Started,
			end:          int64(spec.Duration / Ptime),
			rtcp:         !cl.c.cfg.NoRTCP,
			dropFrom:     ceilFrames(st.DropFrom),
			dropTo:       ceilFrames(st.DropTo),
			reorderEvery: uint64(st.ReorderEvery),
			dupEvery:     uint64(st.DuplicateEvery),
			tsJump:       uint32(TimestampJump / Ptime * time.Duration(info.tsStep())),
			done:         make(chan struct{}),
		}
		if st.SSRCChangeAt > 0 {
			ms.ssrcChangeFrame = max(1, ceilFrames(st.SSRCChangeAt))
		}
		if st.TimestampJumpAt > 0 {
			ms.tsJumpFrame = max(1, ceilFrames(st.TimestampJumpAt))
		}
		if len(st.DTMF) > 0 {
			if eventPT < 0 {
				res.Warnings = append(res.Warnings, fmt.Sprintf("stream %s: no telephone-event/%d in the answer: DTMF not sent", st.Label, info.eventRate))
			} else {
				ms.eventPT = uint8(eventPT)
				// RFC 4733 §2.5.2.3: the duration field is 16 bits; longer
				// events would need segments, so we cap them.
				maxFrames := int64(0xffff / ms.tsStep)
				for _, d := range st.DTMF {
					code, _ := dtmfCode(d.Digit)
					ms.dtmf = append(ms.dtmf, dtmfEvent{
						code:   code,
						start:  ceilFrames(d.At),
						frames: min(maxFrames, max(1, ceilFrames(d.Duration))),
					})
				}
			}
		}
		ms.newSSRCState()
		ms.srPhase = rand.Int64N(srFirst)
		sr.SSRC = ms.ssrc
		sr.Dest = ms.dst.String()
		if err := cl.senders[i].add(ms); err != nil {
			return err
		}
		cl.streams[i] = ms
	}
	return nil
}

// ceilFrames converts an offset to the first frame due at or after it.
func ceilFrames(d time.Duration) int64 {
	return int64((d + Ptime - 1) / Ptime)
}

// event is one scheduled action of the call.
type event struct {
	at time.Duration
	do func(context.Context, *Result)
}

// run executes the pauses and the metadata update at their times and
// returns once the media has run its duration, the SRS sent BYE, or ctx
// is done.
func (cl *call) run(ctx context.Context, res *Result) error {
	spec := &cl.spec
	var events []event
	for _, p := range spec.Pauses {
		events = append(events,
			event{p.At, func(ctx context.Context, res *Result) { cl.pause(ctx, res, p) }},
			event{p.At + p.Duration, func(ctx context.Context, res *Result) { cl.resume(ctx, res) }})
	}
	if spec.MetadataUpdateAt > 0 {
		events = append(events, event{spec.MetadataUpdateAt, cl.updateMetadata})
	}
	slices.SortStableFunc(events, func(a, b event) int { return int(a.at - b.at) })
	for _, ev := range events {
		if ev.at >= spec.Duration {
			break
		}
		if err := cl.sleepUntil(ctx, res.Started.Add(ev.at)); err != nil || cl.remote.Load() {
			return err
		}
		ev.do(ctx, res)
	}
	// Wait for every stream to reach its last frame, then for the end.
	for _, ms := range cl.streams {
		if ms == nil {
			continue
		}
		select {
		case <-ms.done:
		case <-cl.byeCh:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := cl.sleepUntil(ctx, res.Started.Add(spec.Duration)); err != nil || cl.remote.Load() {
		return err
	}
	return nil
}

// sleepUntil waits for t, a BYE from the SRS, or ctx.
func (cl *call) sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-cl.byeCh:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopMedia ends every stream and waits until its sender has let go.
func (cl *call) stopMedia() {
	for _, ms := range cl.streams {
		if ms != nil {
			ms.stop.Store(true)
		}
	}
	for _, ms := range cl.streams {
		if ms != nil {
			<-ms.done
		}
	}
}

// collect copies the stream counters into res. Call after stopMedia.
func (cl *call) collect(res *Result) {
	for i, ms := range cl.streams {
		if ms == nil {
			res.Sent[cl.spec.Streams[i].Label] = 0
			continue
		}
		sr := &res.Streams[i]
		sr.Sent, sr.Duplicates, sr.Dropped = ms.sent, ms.dups, ms.dropped
		sr.DTMF, sr.SendErrors, sr.RTCP = ms.dtmfSent, ms.sendErrs, ms.rtcpSent
		res.Sent[ms.label] = ms.sent
	}
}

// setPaused flips every stream. Pausing waits until each sender has seen
// the flag, so no packet of a paused stream leaves after the pause is
// signalled; resuming first marks the frames due so far as skipped, so
// nothing due during the pause is sent late.
func (cl *call) setPaused(ctx context.Context, paused bool) {
	seen := map[*sender]bool{}
	for i, ms := range cl.streams {
		if ms == nil {
			continue
		}
		if !paused {
			ms.resumeFrom.Store(int64(time.Since(ms.start) / Ptime))
		}
		ms.paused.Store(paused)
		seen[cl.senders[i]] = true
	}
	if !paused {
		return
	}
	for s := range seen {
		_ = s.barrier(ctx)
	}
}

// pause stops the media, then signals the pause (siprec-interop.md §3.3:
// a=inactive, or c=0.0.0.0 without direction for BroadWorks).
func (cl *call) pause(ctx context.Context, res *Result, p PauseSpec) {
	cl.setPaused(ctx, true)
	dir := dirInactive
	if p.Legacy {
		dir = dirLegacy
	}
	cl.reinviteSDP(ctx, res, dir, "pause")
}

// resume signals the resume with a=sendonly, then restarts the media.
func (cl *call) resume(ctx context.Context, res *Result) {
	cl.reinviteSDP(ctx, res, dirSendOnly, "resume")
	cl.setPaused(ctx, false)
}

// nextSDP returns our offer in direction dir with a new o= version
// (RFC 3264 §8).
func (cl *call) nextSDP(dir direction) string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.sdpVersion++
	cl.dir = dir
	return offerSDP(&cl.spec, cl.c.cfg.LocalIP, cl.ports, cl.ids.sdpSession, cl.sdpVersion, dir)
}

// currentSDP is our last offer, for answering an SRS re-INVITE.
func (cl *call) currentSDP() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return offerSDP(&cl.spec, cl.c.cfg.LocalIP, cl.ports, cl.ids.sdpSession, cl.sdpVersion, cl.dir)
}

func (cl *call) contactHeader() *sip.ContactHeader {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return sip.HeaderClone(&cl.contact).(*sip.ContactHeader)
}

// remoteTarget is where in-dialog requests go: the SRS's Contact.
func (cl *call) remoteTarget() sip.Uri {
	if r := cl.sess.InviteResponse; r != nil {
		if ct := r.Contact(); ct != nil {
			return *ct.Address.Clone()
		}
	}
	return *cl.c.target.Clone()
}

func (cl *call) reinviteSDP(ctx context.Context, res *Result, dir direction, what string) {
	cl.reinvite(ctx, res, []byte(cl.nextSDP(dir)), "application/sdp", "", what)
}

// reinvite sends an in-dialog INVITE and ACKs its 2xx. A 491 is retried
// once after the RFC 3261 §14.1 back-off (2.1-4 s); other refusals are
// recorded as warnings, since the call goes on.
func (cl *call) reinvite(ctx context.Context, res *Result, body []byte, ctype, disposition, what string) {
	for attempt := 0; attempt < 2; attempt++ {
		req := sip.NewRequest(sip.INVITE, cl.remoteTarget())
		req.AppendHeader(cl.contactHeader())
		req.AppendHeader(sip.NewHeader("Content-Type", ctype))
		if disposition != "" {
			req.AppendHeader(sip.NewHeader("Content-Disposition", disposition))
		}
		if strings.HasPrefix(ctype, "multipart/") {
			req.AppendHeader(sip.NewHeader("MIME-Version", "1.0"))
		}
		req.SetBody(body)
		r, err := cl.sess.Do(ctx, req)
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s re-INVITE: %v", what, err))
			return
		}
		if r.IsSuccess() {
			ack := sip.NewRequest(sip.ACK, cl.remoteTarget())
			ack.AppendHeader(cl.contactHeader())
			if err := cl.sess.WriteRequest(ack); err != nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s re-INVITE ACK: %v", what, err))
			}
			return
		}
		if r.StatusCode == sip.StatusRequestPending && attempt == 0 {
			backoff := 2100*time.Millisecond + rand.N(1900*time.Millisecond)
			if cl.sleepUntil(ctx, time.Now().Add(backoff)) != nil || cl.remote.Load() {
				return
			}
			continue
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s re-INVITE answered %d %s", what, r.StatusCode, r.Reason))
		return
	}
}

// updateMetadata sends the partial metadata update (RFC 7866 §6.1.1.1):
// a metadata-only UPDATE, or a multipart re-INVITE with our unchanged SDP.
func (cl *call) updateMetadata(ctx context.Context, res *Result) {
	meta := metadataUpdate(&cl.spec, &cl.ids, time.Now())
	if cl.spec.MetadataUpdateMethod == "INVITE" {
		cl.mu.Lock()
		dir := cl.dir
		cl.mu.Unlock()
		body, ctype := inviteBody(&cl.spec, cl.nextSDP(dir), meta)
		cl.reinvite(ctx, res, body, ctype, "", "metadata")
		return
	}
	req := sip.NewRequest(sip.UPDATE, cl.remoteTarget())
	req.AppendHeader(cl.contactHeader())
	req.AppendHeader(sip.NewHeader("Content-Type", metadataType(cl.spec.Dialect)))
	req.AppendHeader(sip.NewHeader("Content-Disposition", "recording-session"))
	req.SetBody([]byte(meta))
	r, err := cl.sess.Do(ctx, req)
	switch {
	case err != nil:
		res.Warnings = append(res.Warnings, fmt.Sprintf("metadata UPDATE: %v", err))
	case !r.IsSuccess():
		res.Warnings = append(res.Warnings, fmt.Sprintf("metadata UPDATE answered %d %s", r.StatusCode, r.Reason))
	}
}

// bye ends the session and records the answer's status.
func (cl *call) bye(ctx context.Context, res *Result) {
	if cl.remote.Load() {
		return
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), byeTimeout)
	defer cancel()
	req := sip.NewRequest(sip.BYE, cl.remoteTarget())
	req.AppendHeader(cl.contactHeader())
	res.ByeSent = time.Now()
	err := cl.sess.WriteBye(bctx, req)
	var pe *sipgo.ErrDialogResponse
	var ve sipgo.ErrDialogResponse
	switch {
	case err == nil:
		res.ByeStatus = sip.StatusOK
	case errors.As(err, &pe):
		res.ByeStatus = pe.Res.StatusCode
	case errors.As(err, &ve):
		res.ByeStatus = ve.Res.StatusCode
	default:
		res.Warnings = append(res.Warnings, fmt.Sprintf("BYE: %v", err))
	}
}

// remoteBye answers a BYE from the SRS and ends the call's media.
func (cl *call) remoteBye(req *sip.Request, tx sip.ServerTransaction) {
	cl.mu.Lock()
	sess := cl.sess
	cl.mu.Unlock()
	if sess == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	if cl.remote.CompareAndSwap(false, true) {
		cl.byeAt.Store(time.Now().UnixNano())
		close(cl.byeCh)
	}
	if err := sess.ReadBye(req, tx); err != nil {
		cl.c.log.Warn("srcclient: answering BYE", "call-id", cl.callID, "error", err)
	}
}
