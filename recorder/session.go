package recorder

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/media"
	"github.com/callrec/callrec/media/mix"
	"github.com/callrec/callrec/media/wav"
	"github.com/callrec/callrec/siprec"
)

// reorderWindow is how long audio waits for late packets before it is
// written. A recorder has no playout deadline, so it can wait longer than
// a phone's jitter buffer; 500 ms fits the aligner's ring at every rate
// without growing it, and with the 500 ms flush keeps a crash's loss
// within one second.
const reorderWindow = 500 * time.Millisecond

// minSessionExpires is our Min-SE (RFC 4028 §5): shorter intervals get 422.
const minSessionExpires = 90

// session is one recording session (one SIP dialog, one file).
type session struct {
	srv       *Server
	id        string
	callID    string
	log       *slog.Logger
	transport string
	local     netip.Addr
	src       netip.AddrPort
	orgID     string // the org the source is bound to (Server.admit)

	dlg *sipgo.DialogServerSession

	ended     atomic.Bool
	flushStop chan struct{} // closed to stop flushLoop
	flushDone chan struct{} // closed when flushLoop has returned

	mu             sync.Mutex // guards everything below
	rec            *callrec.Recording
	md             *siprec.Metadata
	mixer          *mix.Mixer
	writer         *wav.Writer
	streams        []*stream
	rate           int
	channels       int
	recordedID     string
	ciscoGUID      string // Cisco CUBE sends its GUID as a header, not in the metadata
	sdpVersion     uint64
	lastAnswer     []byte
	pauseOpen      bool
	sessionExpires time.Duration
	lastRefresh    time.Time
	buf            []int16
}

// stream is one offered m-line of the session.
type stream struct {
	index    int
	label    string
	kind     string // media type; only "audio" is recorded
	rejected bool   // answered with port 0
	port     int
	rtp      *net.UDPConn
	rtcp     *net.UDPConn
	mx       *mix.Stream
	channel  int
	codec    siprec.Format
	dtmf     *siprec.Format
	paused   bool
	since    time.Time                  // when the stream last became active
	peer     atomic.Pointer[netip.Addr] // the SRC's media address from SDP
	foreign  atomic.Uint64              // packets from other addresses, dropped
	rtcpPkts atomic.Uint64
	done     chan struct{}
	hand     handoff // the in-process producer's guard (LocalSink)
}

// newID returns a random UUID (version 4) string.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// reject answers an initial INVITE with an error and counts it.
func (s *Server) reject(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	s.met.rejected.WithLabelValues(strconv.Itoa(code)).Inc()
	respond(tx, req, code, reason, nil, hdrs...)
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	callID := callIDOf(req)
	if to := req.To(); to != nil && to.Params != nil && to.Params.Has("tag") {
		ss := s.lookup(callID)
		if ss == nil {
			respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
			return
		}
		ss.update(req, tx, "reinvite")
		return
	}
	src := sourceAddr(req)
	log := s.log.With("call_id", callID, "source", src.String())
	adm := s.admit(req, src.Addr())
	switch {
	case adm.code == 401 && adm.why == "":
		log.Debug("SIPREC INVITE challenged for digest credentials")
		s.reject(tx, req, adm.code, adm.reason, adm.hdrs...)
		return
	case adm.code == 401:
		log.Warn("SIPREC INVITE refused: digest authentication failed", "why", adm.why)
		s.reject(tx, req, adm.code, adm.reason, adm.hdrs...)
		return
	case adm.orgID == "":
		log.Warn("SIPREC INVITE refused: source not in --siprec-allow and bound to no SIPREC source")
		s.reject(tx, req, adm.code, adm.reason, adm.hdrs...)
		return
	}
	log = log.With("org", adm.orgID)
	if s.draining.Load() {
		s.reject(tx, req, 503, "Draining", sip.NewHeader("Retry-After", "30"))
		return
	}
	if !isRecordingSession(req) {
		log.Info("INVITE refused: not a recording session")
		s.reject(tx, req, 488, "Not a SIPREC recording session (no Require: siprec, rs-metadata body or +sip.src Contact)")
		return
	}
	if err := s.capacity(); err != nil {
		log.Warn("SIPREC INVITE refused: no capacity", "err", err)
		s.reject(tx, req, 503, "Over Capacity", sip.NewHeader("Retry-After", "30"))
		return
	}
	if s.lookup(callID) != nil {
		s.reject(tx, req, 400, "Call-ID Already In Use")
		return
	}
	expires, code, reason := sessionTimer(req)
	if code != 0 {
		s.reject(tx, req, code, reason, sip.NewHeader("Min-SE", strconv.Itoa(minSessionExpires)))
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	body, err := siprec.ParseBody(ct, req.Body())
	if err != nil {
		log.Info("SIPREC INVITE refused: bad body", "err", err)
		s.reject(tx, req, 400, "Bad SIPREC Body: "+oneLine(err))
		return
	}
	if body.SDP == nil {
		s.reject(tx, req, 488, "SIPREC INVITE Without SDP Offer Not Supported")
		return
	}
	offer, err := siprec.ParseSDP(body.SDP)
	if err != nil {
		log.Info("SIPREC INVITE refused: bad SDP", "err", err)
		s.reject(tx, req, 400, "Bad SDP: "+oneLine(err))
		return
	}
	now := s.now().UTC()
	ss := &session{
		srv:            s,
		id:             newID(),
		callID:         callID,
		transport:      req.Transport(),
		src:            src,
		orgID:          adm.orgID,
		sessionExpires: expires,
		lastRefresh:    now,
	}
	ss.local = s.localIPFor(src.Addr())
	ss.log = log.With("recording_id", ss.id)
	ss.log.Debug("SIPREC INVITE admitted", "by", adm.how, "siprec_source", adm.source)
	var problems []string
	if body.Metadata != nil {
		md, err := siprec.ParseMetadata(body.Metadata)
		if err != nil {
			// Record the audio even if the metadata is odd (siprec-interop §8.1).
			problems = append(problems, "metadata not parsed: "+oneLine(err))
			ss.log.Warn("metadata not parsed; recording anyway", "err", err)
		} else {
			ss.md = md
		}
	} else {
		problems = append(problems, "no metadata part")
	}
	if code, reason, err := ss.setup(offer, body, req, now, problems); err != nil {
		ss.log.Warn("SIPREC INVITE refused", "code", code, "err", err)
		s.reject(tx, req, code, reason)
		return
	}

	dua := sipgo.DialogUA{Client: s.client, ContactHDR: *s.contactHeader(ss.local, ss.transport)}
	dlg, err := dua.ReadInvite(req, tx)
	if err != nil {
		ss.log.Warn("dialog setup failed", "err", err)
		s.reject(tx, req, 400, "Bad Request: "+oneLine(err))
		ss.abort()
		return
	}
	ss.dlg = dlg
	s.mu.Lock()
	s.sessions[callID] = ss
	s.mu.Unlock()
	s.met.started.Inc()
	ss.startReaders()
	ss.flushStop, ss.flushDone = make(chan struct{}), make(chan struct{})
	go ss.flushLoop()
	ss.log.Info("recording session started", "streams", len(ss.streams), "rate", ss.rate, "channels", ss.channels,
		"transport", ss.transport, "user_agent", headerValue(req, "User-Agent"))

	res := sip.NewSDPResponseFromRequest(dlg.InviteRequest, ss.lastAnswer)
	res.AppendHeader(sip.NewHeader("Supported", "siprec, timer"))
	if expires > 0 {
		res.AppendHeader(sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=uac", int(expires/time.Second))))
		res.AppendHeader(sip.NewHeader("Require", "timer"))
	}
	if err := dlg.WriteResponse(res); err != nil {
		if errors.Is(err, sip.ErrTransactionCanceled) || errors.Is(tx.Err(), sip.ErrTransactionCanceled) {
			ss.log.Info("recording session cancelled before answer")
			s.endSession(ss, callrec.EndCancel, false)
			return
		}
		if ss.ended.Load() {
			return
		}
		ss.log.Warn("no ACK for 200 OK; ending session", "err", err)
		s.endSession(ss, callrec.EndError, true)
	}
}

func headerValue(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// sessionTimer reads Session-Expires (RFC 4028). It returns the interval
// to enforce (0: none), or a status code and reason to refuse with.
func sessionTimer(req *sip.Request) (time.Duration, int, string) {
	h := req.GetHeader("Session-Expires")
	if h == nil {
		h = req.GetHeader("x")
	}
	if h == nil {
		return 0, 0, ""
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, 400, "Bad Session-Expires"
	}
	if n < minSessionExpires {
		return 0, 422, "Session Interval Too Small"
	}
	return time.Duration(n) * time.Second, 0, ""
}

func oneLine(err error) string {
	s := strings.NewReplacer("\r", " ", "\n", " ").Replace(err.Error())
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// setup plans the streams of the initial offer, binds their sockets,
// creates the spool file and the recording row. On error it releases what
// it took and returns the SIP status to answer.
func (ss *session) setup(offer *siprec.SessionDescription, body *siprec.Body, req *sip.Request, now time.Time, problems []string) (int, string, error) {
	s := ss.srv
	var labels []string
	rate := 0
	for i, m := range offer.Media {
		st := &stream{index: i, label: m.Label, kind: m.Type, since: now, done: make(chan struct{})}
		if st.label == "" {
			st.label = strconv.Itoa(i)
		}
		codec, dtmf, ok := chooseCodec(m)
		if !ok || m.Type != "audio" || m.Port == 0 {
			st.rejected = true
			close(st.done)
			ss.streams = append(ss.streams, st)
			continue
		}
		st.codec, st.dtmf = codec, dtmf
		if r := media.NativeRate(codec.Name, codec.ClockRate); r > rate {
			rate = r
		}
		labels = append(labels, st.label)
		ss.streams = append(ss.streams, st)
	}
	if len(labels) == 0 {
		return 488, "No Decodable Audio Stream (PCMU, PCMA, G722, opus)", errors.New("no decodable audio stream offered")
	}
	var vendor callrec.VendorData
	if ss.md != nil {
		vendor = ss.md.Vendor()
	}
	chans, nch, recorded := assignChannels(labels, ss.md, vendor)
	ss.rate, ss.channels, ss.recordedID = rate, nch, recorded
	k := 0
	for _, st := range ss.streams {
		if st.rejected {
			continue
		}
		st.channel = chans[k]
		k++
		if err := ss.bindStream(st, offer.Media[st.index], offer.SessionAddr); err != nil {
			ss.abort()
			if errors.Is(err, errNoPorts) {
				return 503, "Over Capacity", err
			}
			return 500, "Server Internal Error", err
		}
	}
	path := s.spoolPath(ss.id)
	w, err := wav.Create(path, rate, nch)
	if err != nil {
		ss.abort()
		return 500, "Server Internal Error", fmt.Errorf("recorder: spool file: %w", err)
	}
	ss.writer = w
	ss.rec = &callrec.Recording{
		ID:         ss.id,
		OrgID:      ss.orgID,
		SIPCallID:  clean(ss.callID),
		Status:     callrec.StatusRecording,
		OwnerType:  callrec.OwnerOrg,
		OwnerID:    ss.orgID,
		Start:      now,
		SampleRate: rate,
		Channels:   nch,
		Format:     "WAV",
		SpoolPath:  path,
	}
	ss.rec.Meta.Problems = problems
	ss.rec.Meta.SourceAddr = ss.src.String()
	ss.rec.Meta.UserAgent = clean(headerValue(req, "User-Agent"))
	ss.ciscoGUID = clean(headerValue(req, "Cisco-Guid"))
	ss.addRaw(body, now)
	ss.event(now, "invite", fmt.Sprintf("%d m-lines over %s", len(offer.Media), ss.transport))
	ss.lastAnswer = ss.answer(offer)
	ss.refreshMeta()
	ss.rec.Topic = clean(topic(&ss.rec.Meta, now))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ss.matchOwner(ctx, "invite")
	if err := s.store.CreateRecording(ctx, ss.rec); err != nil {
		ss.abort()
		return 500, "Server Internal Error", fmt.Errorf("recorder: store recording: %w", err)
	}
	// The file's first sample is now, just before the 200 OK goes out:
	// the set-up I/O above must not become leading silence.
	start := s.now().UTC()
	ss.rec.Start = start
	mixer, err := mix.New(mix.Config{Rate: rate, Channels: nch, Start: start, ReorderWindow: reorderWindow})
	if err != nil {
		ss.abort()
		return 500, "Server Internal Error", err
	}
	ss.mixer = mixer
	for _, st := range ss.streams {
		if st.rejected {
			continue
		}
		st.since = start
		st.mx = mixer.AddStream(st.label, st.channel)
		if err := ss.setCodecs(st, offer.Media[st.index]); err != nil {
			ss.abort()
			return 500, "Server Internal Error", err
		}
	}
	return 0, "", nil
}

// chooseCodec picks the first decodable codec of an m-line in offer order
// and its telephone-event format, if offered.
func chooseCodec(m siprec.Media) (siprec.Format, *siprec.Format, bool) {
	var codec siprec.Format
	found := false
	var dtmf *siprec.Format
	for _, f := range m.Formats {
		if strings.EqualFold(f.Name, "telephone-event") {
			if dtmf == nil {
				ff := f
				dtmf = &ff
			}
			continue
		}
		if !found && media.Supported(f.Name, f.ClockRate) {
			codec, found = f, true
		}
	}
	return codec, dtmf, found
}

// bindStream binds a socket pair for st, before the answer names its port.
func (ss *session) bindStream(st *stream, m siprec.Media, sessionAddr netip.Addr) error {
	rtp, rtcp, err := ss.srv.ports.bindPair(ss.srv.bindIP)
	if err != nil {
		return err
	}
	st.rtp, st.rtcp = rtp, rtcp
	st.port = rtp.LocalAddr().(*net.UDPAddr).Port
	ss.setPeer(st, m, sessionAddr)
	return nil
}

// openStream binds a stream added mid-call and gives it to the mixer.
func (ss *session) openStream(st *stream, m siprec.Media, sessionAddr netip.Addr) error {
	if err := ss.bindStream(st, m, sessionAddr); err != nil {
		return err
	}
	st.mx = ss.mixer.AddStream(st.label, st.channel)
	return ss.setCodecs(st, m)
}

func (ss *session) setPeer(st *stream, m siprec.Media, sessionAddr netip.Addr) {
	addr := m.Addr
	if !addr.IsValid() {
		addr = sessionAddr
	}
	if !addr.IsValid() || addr.IsUnspecified() {
		// No usable c= (OpenSIPS 2.x omits it; 0.0.0.0 is a legacy hold):
		// the signalling source is the media source (siprec-interop §6.1.7).
		if old := st.peer.Load(); old != nil && addr.IsUnspecified() {
			return
		}
		addr = ss.src.Addr()
	}
	a := addr.Unmap()
	st.peer.Store(&a)
}

// setCodecs gives the mixer a decoder for every decodable format offered
// on m, so an SRC that switches codec within the offer is still recorded.
func (ss *session) setCodecs(st *stream, m siprec.Media) error {
	codecs := map[uint8]mix.Codec{}
	for _, f := range m.Formats {
		if strings.EqualFold(f.Name, "telephone-event") {
			codecs[f.PT] = mix.Codec{ClockRate: f.ClockRate, DTMF: true}
			continue
		}
		if !media.Supported(f.Name, f.ClockRate) {
			continue
		}
		dec, err := media.NewDecoder(f.Name, f.ClockRate, f.Channels, ss.rate)
		if err != nil {
			return fmt.Errorf("recorder: decoder %s/%d: %w", f.Name, f.ClockRate, err)
		}
		codecs[f.PT] = mix.Codec{Decoder: dec, ClockRate: f.ClockRate}
	}
	st.mx.SetCodecs(codecs)
	return nil
}

// answer builds the SDP answer to offer for the current streams (RFC 3264:
// same m-line count and order, labels echoed, recvonly, one codec each).
func (ss *session) answer(offer *siprec.SessionDescription) []byte {
	ss.sdpVersion++
	a := siprec.Answer{Origin: "callrec", SessionID: sessionIDFor(ss.id), Version: ss.sdpVersion, Addr: ss.local}
	for i, m := range offer.Media {
		am := siprec.AnswerMedia{Type: m.Type, Proto: m.Proto, Label: m.Label, Direction: answerDirection(m)}
		if i < len(ss.streams) && !ss.streams[i].rejected {
			st := ss.streams[i]
			am.Port = st.port
			am.Formats = []siprec.Format{st.codec}
			if st.dtmf != nil {
				am.Formats = append(am.Formats, *st.dtmf)
			}
		} else {
			am.Formats = m.Formats
		}
		a.Media = append(a.Media, am)
	}
	return siprec.BuildAnswer(a)
}

func sessionIDFor(id string) uint64 {
	h := sha256.Sum256([]byte(id))
	v := uint64(0)
	for _, b := range h[:7] {
		v = v<<8 | uint64(b)
	}
	return v
}

// answerDirection answers sendonly with recvonly and inactive with inactive.
func answerDirection(m siprec.Media) string {
	switch m.Direction {
	case "inactive", "recvonly":
		return "inactive"
	}
	return "recvonly"
}

// startReaders starts one reader goroutine per RTP and RTCP socket.
func (ss *session) startReaders() {
	for _, st := range ss.streams {
		if st.rejected || st.rtp == nil {
			continue
		}
		ss.startStream(st)
	}
}

func (ss *session) startStream(st *stream) {
	go st.readRTP(ss.src.Addr())
	go st.readRTCP()
	ss.srv.addLocal(st, ss.local)
}

// accept checks a datagram's source against the SRC's media address (or
// its signalling address) and hands it to the aligner.
func (st *stream) accept(ip netip.Addr, pkt []byte, now time.Time, signalling netip.Addr) {
	if p := st.peer.Load(); p != nil && ip != *p && ip != signalling {
		st.foreign.Add(1)
		return
	}
	st.mx.Push(pkt, now)
}

// readRTCP drains the RTCP socket; reports are counted, not used yet.
func (st *stream) readRTCP() {
	buf := make([]byte, 1500)
	for {
		if _, _, err := st.rtcp.ReadFromUDPAddrPort(buf); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		st.rtcpPkts.Add(1)
	}
}

// drainTimeout bounds how long the end of a session waits for its readers
// to take the datagrams already queued in their sockets.
const drainTimeout = 200 * time.Millisecond

// closeSockets lets the readers take what is already queued (the last
// packets before a BYE may still sit in the socket under load), then
// stops them and waits for them.
func (ss *session) closeSockets() {
	deadline := time.Now().Add(drainTimeout)
	for _, st := range ss.streams {
		for st.rtp != nil && queued(st.rtp) > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	for _, st := range ss.streams {
		if st.rtp != nil {
			ss.srv.removeLocal(st)
			st.rtp.Close()
			st.rtcp.Close()
		}
	}
	for _, st := range ss.streams {
		if st.rtp != nil {
			<-st.done
			ss.srv.ports.release(st.port)
		}
	}
}

// abort releases what setup took when the session never started.
func (ss *session) abort() {
	for _, st := range ss.streams {
		if st.rtp != nil {
			st.rtp.Close()
			st.rtcp.Close()
			ss.srv.ports.release(st.port)
		}
	}
	if ss.writer != nil {
		ss.writer.Close()
		os.Remove(ss.srv.spoolPath(ss.id))
	}
}

func (ss *session) ack(req *sip.Request, tx sip.ServerTransaction) {
	if ss.dlg != nil {
		_ = ss.dlg.ReadAck(req, tx)
	}
}

func (ss *session) addRaw(body *siprec.Body, now time.Time) {
	if body == nil || body.Metadata == nil {
		return
	}
	ss.rec.Meta.RawMetadata = append(ss.rec.Meta.RawMetadata, callrec.RawMetadata{
		Received: now, ContentType: body.MetadataType, Body: string(body.Metadata),
	})
}

func (ss *session) event(now time.Time, kind, detail string) {
	ss.rec.Meta.Events = append(ss.rec.Meta.Events, callrec.SessionEvent{Time: now, Kind: kind, Detail: detail})
}

// update applies a re-INVITE or UPDATE: merged metadata, paused and
// resumed streams, new streams, changed codecs (RFC 7866 §7, §8).
func (ss *session) update(req *sip.Request, tx sip.ServerTransaction, kind string) {
	if ss.dlg != nil {
		if err := ss.dlg.ReadRequest(req, tx); err != nil && !errors.Is(err, sipgo.ErrDialogInvalidCseq) {
			ss.log.Debug("in-dialog request", "err", err)
		}
	}
	now := ss.srv.now().UTC()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended.Load() {
		respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	ss.lastRefresh = now
	if exp, code, reason := sessionTimer(req); code != 0 {
		respond(tx, req, code, reason, nil, sip.NewHeader("Min-SE", strconv.Itoa(minSessionExpires)))
		return
	} else if exp > 0 {
		ss.sessionExpires = exp
	}
	var body *siprec.Body
	if len(req.Body()) > 0 {
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		b, err := siprec.ParseBody(ct, req.Body())
		if err != nil {
			ss.log.Info("bad body in "+kind, "err", err)
			respond(tx, req, 400, "Bad SIPREC Body: "+oneLine(err), nil)
			return
		}
		body = b
	}
	var offer *siprec.SessionDescription
	if body != nil && body.SDP != nil {
		o, err := siprec.ParseSDP(body.SDP)
		if err != nil {
			respond(tx, req, 400, "Bad SDP: "+oneLine(err), nil)
			return
		}
		if len(o.Media) < len(ss.streams) {
			// RFC 3264 §8: m-lines are never removed from a session.
			respond(tx, req, 488, "Fewer m-lines Than Before", nil)
			return
		}
		offer = o
	}
	if body != nil && body.Metadata != nil {
		ss.addRaw(body, now)
		md, err := siprec.ParseMetadata(body.Metadata)
		switch {
		case err != nil:
			ss.rec.Meta.Problems = append(ss.rec.Meta.Problems, kind+" metadata not parsed: "+oneLine(err))
		case ss.md == nil:
			ss.md = md
		default:
			ss.md.Merge(md)
		}
		ss.event(now, "metadata", kind)
	}
	if offer != nil {
		if err := ss.applyOffer(offer, now); err != nil {
			ss.log.Warn(kind+" refused", "err", err)
			respond(tx, req, 503, "Over Capacity", nil, sip.NewHeader("Retry-After", "30"))
			return
		}
		ss.lastAnswer = ss.answer(offer)
	}
	ss.event(now, kind, "")
	ss.refreshMeta()
	ss.persist()
	hdrs := []sip.Header{ss.srv.contactHeader(ss.local, ss.transport), sip.NewHeader("Supported", "siprec, timer")}
	if ss.sessionExpires > 0 {
		hdrs = append(hdrs, sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=uac", int(ss.sessionExpires/time.Second))))
	}
	switch {
	case offer != nil || (kind == "reinvite" && len(req.Body()) == 0):
		// An offerless re-INVITE gets our current SDP as the offer.
		hdrs = append(hdrs, sip.NewHeader("Content-Type", "application/sdp"))
		respond(tx, req, 200, "OK", ss.lastAnswer, hdrs...)
	default:
		respond(tx, req, 200, "OK", nil, hdrs...)
	}
}

// applyOffer applies a new offer to the running session.
func (ss *session) applyOffer(offer *siprec.SessionDescription, now time.Time) error {
	for i, m := range offer.Media {
		if i < len(ss.streams) {
			st := ss.streams[i]
			if st.rejected {
				continue
			}
			ss.setPeer(st, m, offer.SessionAddr)
			paused := m.Paused() || m.Port == 0 || m.Direction == "recvonly"
			if paused != st.paused {
				st.paused = paused
				st.mx.SetPaused(paused, now)
				if !paused {
					st.since = now
				}
				ss.event(now, map[bool]string{true: "pause", false: "resume"}[paused], "label "+st.label)
			}
			if codec, dtmf, ok := chooseCodec(m); ok && (codec.Name != st.codec.Name || codec.PT != st.codec.PT || codec.ClockRate != st.codec.ClockRate) {
				st.codec, st.dtmf = codec, dtmf
				if err := ss.setCodecs(st, m); err != nil {
					return err
				}
				ss.event(now, "codec", fmt.Sprintf("label %s now %s/%d", st.label, codec.Name, codec.ClockRate))
			}
			continue
		}
		// A new stream (RFC 7866 §8.1.3).
		st := &stream{index: i, label: m.Label, kind: m.Type, since: now, done: make(chan struct{})}
		if st.label == "" {
			st.label = strconv.Itoa(i)
		}
		codec, dtmf, ok := chooseCodec(m)
		if !ok || m.Type != "audio" || m.Port == 0 {
			st.rejected = true
			close(st.done)
			ss.streams = append(ss.streams, st)
			continue
		}
		st.codec, st.dtmf = codec, dtmf
		st.channel = ss.channelFor(st.label)
		if err := ss.openStream(st, m, offer.SessionAddr); err != nil {
			st.rejected = true
			close(st.done)
			ss.streams = append(ss.streams, st)
			return err
		}
		ss.streams = append(ss.streams, st)
		ss.startStream(st)
		ss.event(now, "stream-added", "label "+st.label)
	}
	ss.updatePause(now)
	return nil
}

// channelFor places a stream added mid-call.
func (ss *session) channelFor(label string) int {
	if ss.channels == 1 {
		return 0
	}
	if ss.recordedID != "" && senderOfLabel(ss.md, label) == ss.recordedID {
		return 0
	}
	return 1
}

// updatePause keeps the session-level pause intervals: the recording is
// paused while every recorded stream is paused.
func (ss *session) updatePause(now time.Time) {
	all := true
	for _, st := range ss.streams {
		if !st.rejected && !st.paused {
			all = false
		}
	}
	pis := &ss.rec.Meta.PauseIntervals
	switch {
	case all && !ss.pauseOpen:
		*pis = append(*pis, callrec.Interval{Start: now})
		ss.pauseOpen = true
	case !all && ss.pauseOpen:
		(*pis)[len(*pis)-1].End = now
		ss.pauseOpen = false
	}
}

// expired says whether the session must end now: media timeout (every
// non-paused stream silent for the timeout) or session timer expiry.
func (ss *session) expired(now time.Time, timeout time.Duration) (callrec.EndReason, string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended.Load() {
		return "", ""
	}
	if ss.sessionExpires > 0 && now.Sub(ss.lastRefresh) > ss.sessionExpires {
		return callrec.EndError, "session timer expired (RFC 4028)"
	}
	active := false
	var last time.Time
	for _, st := range ss.streams {
		if st.rejected || st.paused {
			continue
		}
		active = true
		t := st.mx.LastPacket()
		if t.Before(st.since) {
			t = st.since
		}
		if t.After(last) {
			last = t
		}
	}
	if active && now.Sub(last) > timeout {
		return callrec.EndMediaTimeout, fmt.Sprintf("no RTP for %s", now.Sub(last).Round(time.Second))
	}
	return "", ""
}

// flushLoop writes the session's audio every half FlushInterval. Each
// session has its own flusher so that, when the CPU is short, writing
// competes for the scheduler on equal terms with the stream readers
// instead of one goroutine serving every session in turn and falling
// behind the aligner's ring (measured at 2,000 calls: bench/RESULTS.md).
// The timers of all sessions fire on the same wall-clock boundaries, so
// one wakeup of an idle machine serves them all.
func (ss *session) flushLoop() {
	defer close(ss.flushDone)
	every := ss.srv.cfg.FlushInterval / 2
	t := time.NewTimer(time.Until(time.Now().Truncate(every).Add(every)))
	defer t.Stop()
	for {
		select {
		case <-ss.flushStop:
			return
		case <-t.C:
		}
		now := time.Now()
		t.Reset(now.Truncate(every).Add(every).Sub(now))
		if err := ss.flush(ss.srv.now()); err != nil {
			ss.log.Error("writing audio failed", "err", err)
			go ss.srv.endSession(ss, callrec.EndError, true)
			return
		}
	}
}

// flush writes the aligned audio up to now (less the reorder window) to
// the spool file and patches its header. It runs every half
// FlushInterval, so a crash of the process loses at most the reorder
// window plus half a second: what reached write(2) survives in the page
// cache and the repair at start recovers it.
func (ss *session) flush(now time.Time) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended.Load() {
		return nil
	}
	var err error
	ss.buf, err = ss.mixer.Read(now, ss.buf[:0])
	if err != nil {
		return fmt.Errorf("recorder: mix: %w", err)
	}
	if len(ss.buf) > 0 {
		if err := ss.writer.Write(ss.buf); err != nil {
			return fmt.Errorf("recorder: write: %w", err)
		}
	}
	if err := ss.writer.Flush(); err != nil {
		return fmt.Errorf("recorder: flush: %w", err)
	}
	return nil
}

// refreshMeta rebuilds the recording's metadata from the SIPREC metadata
// and the streams (called with mu held).
func (ss *session) refreshMeta() {
	m := &ss.rec.Meta
	m.Participants, m.Streams, m.Channels = nil, nil, nil
	m.SessionIDs, m.SIPSessionIDs, m.GroupID = nil, nil, ""
	var streamIDs = map[string]string{} // label -> stream id
	if md := ss.md; md != nil {
		m.Vendor = md.Vendor()
		for _, g := range md.Groups {
			m.GroupID = g.ID
		}
		for _, s := range md.Sessions {
			m.SessionIDs = append(m.SessionIDs, s.ID)
			m.SIPSessionIDs = append(m.SIPSessionIDs, s.SIPSessionIDs...)
		}
		for _, st := range md.Streams {
			streamIDs[st.Label] = st.ID
		}
		for _, p := range md.Participants {
			cp := callrec.Participant{ID: p.ID, AORs: p.AORs, Sends: p.Send, Receives: p.Recv, Recorded: p.ID == ss.recordedID}
			if len(p.AORs) > 0 {
				cp.AOR = p.AORs[0]
			}
			if len(p.Names) > 0 {
				cp.Name = p.Names[0]
			}
			m.Participants = append(m.Participants, cp)
		}
	}
	if ss.ciscoGUID != "" {
		m.Vendor.CiscoGUID = ss.ciscoGUID
		if m.Vendor.Vendor == "" {
			m.Vendor.Vendor = siprec.VendorCisco
		}
	}
	chans := make([]callrec.Channel, ss.channels)
	for i := range chans {
		chans[i].Index = i + 1
		switch {
		case ss.channels == 1:
			chans[i].Role = "mixed"
		case i == 0:
			chans[i].Role = "recorded"
		default:
			chans[i].Role = "other"
		}
		chans[i].StreamLabels = []string{}
	}
	for _, st := range ss.streams {
		cs := callrec.Stream{ID: streamIDs[st.label], Label: st.label, MLineIndex: st.index}
		if ss.md != nil {
			if mdst := ss.md.StreamByLabel(st.label); mdst != nil {
				cs.Mode = mdst.Mode
				if p := ss.md.SenderOf(mdst.ID); p != nil {
					cs.ParticipantID = p.ID
				}
			}
		}
		if !st.rejected {
			cs.Codec = fmt.Sprintf("%s/%d", st.codec.Name, st.codec.ClockRate)
			cs.Channel = st.channel + 1
			if st.mx != nil {
				cs.Stats = st.mx.Stats()
			}
			cs.Stats.Dropped += st.foreign.Load()
			c := &chans[st.channel]
			c.StreamLabels = append(c.StreamLabels, st.label)
			if cs.ParticipantID != "" && !contains(c.ParticipantIDs, cs.ParticipantID) {
				c.ParticipantIDs = append(c.ParticipantIDs, cs.ParticipantID)
			}
		}
		m.Streams = append(m.Streams, cs)
	}
	m.Channels = chans
	m.DTMF = []callrec.DTMFEvent{}
	if ss.mixer != nil {
		m.DTMF = ss.mixer.DTMF()
	}
	if m.PauseIntervals == nil {
		m.PauseIntervals = []callrec.Interval{}
	}
	if m.Participants == nil {
		m.Participants = []callrec.Participant{}
	}
}

// clean makes a SIP-derived string storable: valid UTF-8 without NUL.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// topic names the recording the way Webex does ("Call with ...").
func topic(m *callrec.Metadata, start time.Time) string {
	var other, any string
	for _, p := range m.Participants {
		name := p.Name
		if name == "" {
			name = bareURI(p.AOR)
		}
		if name == "" {
			continue
		}
		if any == "" {
			any = name
		}
		if !p.Recorded && other == "" {
			other = name
		}
	}
	switch {
	case other != "":
		return "Call with " + other
	case any != "":
		return "Call with " + any
	}
	return "Call recorded " + start.UTC().Format("2006-01-02 15:04:05Z")
}

// persist stores the recording row (called with mu held).
func (ss *session) persist() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ss.srv.store.UpdateRecording(ctx, ss.rec); err != nil {
		ss.log.Error("storing recording metadata failed", "err", err)
	}
}

// endSession ends a session once: it optionally sends BYE, stops the
// readers before the file is finalised (siprec-interop §8.3), finalises the
// file and hands it to the blob store.
func (s *Server) endSession(ss *session, reason callrec.EndReason, sendBye bool) {
	end := s.now().UTC() // the session ends now, not when the readers have stopped
	if !ss.ended.CompareAndSwap(false, true) {
		return
	}
	s.mu.Lock()
	if s.sessions[ss.callID] == ss {
		delete(s.sessions, ss.callID)
	}
	s.finalising++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.finalising--; s.finalising == 0 {
			s.idle.Broadcast()
		}
		s.mu.Unlock()
	}()
	var byeDone chan struct{}
	if sendBye && ss.dlg != nil {
		byeDone = make(chan struct{})
		go func() {
			defer close(byeDone)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ss.dlg.Bye(ctx); err != nil {
				ss.log.Info("BYE to SRC failed", "err", err)
			}
		}()
	}
	if ss.flushStop != nil {
		close(ss.flushStop)
		<-ss.flushDone
	}
	ss.closeSockets()
	ss.finalise(reason, end)
	if byeDone != nil {
		<-byeDone
	}
	if ss.dlg != nil {
		ss.dlg.Close()
	}
}

// finalise drains the aligner, closes and hashes the file, moves it to the
// blob store and stores the final recording row.
func (ss *session) finalise(reason callrec.EndReason, end time.Time) {
	s := ss.srv
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.pauseOpen {
		ss.rec.Meta.PauseIntervals[len(ss.rec.Meta.PauseIntervals)-1].End = end
		ss.pauseOpen = false
	}
	ss.buf = ss.mixer.Drain(end, ss.buf[:0])
	var werr error
	if len(ss.buf) > 0 {
		werr = ss.writer.Write(ss.buf)
	}
	if err := ss.writer.Close(); werr == nil {
		werr = err
	}
	frames := ss.writer.Frames()
	ss.event(end, "end", string(reason))
	ss.refreshMeta()
	r := ss.rec
	r.Stop = end
	r.Created = end
	r.EndReason = reason
	r.DurationMS = frames * 1000 / int64(ss.rate)
	r.Status = callrec.StatusAvailable
	if werr != nil {
		r.Partial = true
		r.Meta.Problems = append(r.Meta.Problems, "writing audio failed: "+oneLine(werr))
		ss.log.Error("writing audio failed", "err", werr)
	}
	if reason == callrec.EndError {
		r.Partial = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	ss.matchOwner(ctx, "end")
	cancel()
	if err := s.store_(r); err != nil {
		ss.log.Error("finalising recording failed", "err", err)
	}
	s.met.ended.WithLabelValues(string(reason)).Inc()
	s.met.addFinished(r.Meta.Streams)
	ss.log.Info("recording session ended", "reason", reason, "duration_ms", r.DurationMS, "bytes", r.SizeBytes,
		"partial", r.Partial, "blob", r.BlobKey)
}

// store_ hashes the finished spool file, moves it into the blob store and
// stores the row. Used by finalisation and by crash recovery.
func (s *Server) store_(r *callrec.Recording) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sum, size, err := hashFile(r.SpoolPath)
	if err != nil {
		r.Partial = true
		r.Meta.Problems = append(r.Meta.Problems, "audio file unreadable: "+oneLine(err))
	} else {
		r.SHA256, r.SizeBytes = sum, size
		key := blobKey(r)
		if err := s.blobs.PutFile(ctx, key, r.SpoolPath); err != nil {
			r.Partial = true
			r.Meta.Problems = append(r.Meta.Problems, "storing audio failed: "+oneLine(err))
		} else {
			r.BlobKey, r.SpoolPath = key, ""
		}
	}
	if err := s.store.UpdateRecording(ctx, r); err != nil {
		return fmt.Errorf("recorder: update recording %s: %w", r.ID, err)
	}
	return nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
