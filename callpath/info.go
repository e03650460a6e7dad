package callpath

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec/callpath/relay"
)

// Content types of DTMF carried in SIP INFO (RFC 6086 leaves the body to
// the application): Cisco's "Signal=4\r\nDuration=160\r\n" and the bare
// digit of application/dtmf.
const (
	typeDTMFRelay = "application/dtmf-relay"
	typeDTMF      = "application/dtmf"
)

// maxDTMFBody bounds an INFO DTMF body; real ones are a few dozen bytes.
const maxDTMFBody = 512

// errDTMFInfo is wrapped by parseDTMFInfo's errors.
var errDTMFInfo = errors.New("bad DTMF INFO body")

// dtmfType returns the DTMF content type of a Content-Type value (media
// type compared without case and parameters, RFC 3261 §20.15), or "".
func dtmfType(ctype string) string {
	mt, _, _ := strings.Cut(ctype, ";")
	switch mt = strings.ToLower(strings.TrimSpace(mt)); mt {
	case typeDTMFRelay, typeDTMF:
		return mt
	}
	return ""
}

// dtmfSignal normalises one DTMF signal: "0".."9", "*", "#", "A".."D",
// "!" (hook flash), and the RFC 4733 §3.2 event codes 10..16 some
// gateways send instead ("10" is "*", "11" is "#", "16" the flash).
func dtmfSignal(v string) (string, bool) {
	v = strings.ToUpper(strings.TrimSpace(v))
	switch v {
	case "*", "#", "A", "B", "C", "D", "!":
		return v, true
	case "10":
		return "*", true
	case "11":
		return "#", true
	case "12", "13", "14", "15":
		return string(rune('A' + v[1] - '2')), true
	case "16":
		return "!", true
	}
	if len(v) == 1 && v[0] >= '0' && v[0] <= '9' {
		return v, true
	}
	return "", false
}

// parseDTMFInfo reads the digit of an INFO body of type ctype (one of
// the dtmfType values): "Signal=4\r\nDuration=160\r\n" (keys without
// case, any line ending, Duration optional but numeric) or "4".
func parseDTMFInfo(ctype string, body []byte) (string, error) {
	if len(body) > maxDTMFBody {
		return "", fmt.Errorf("%w: %d bytes", errDTMFInfo, len(body))
	}
	if ctype == typeDTMF {
		d, ok := dtmfSignal(string(body))
		if !ok {
			return "", fmt.Errorf("%w: %q is no DTMF digit", errDTMFInfo, strings.TrimSpace(string(body)))
		}
		return d, nil
	}
	digit := ""
	for line := range bytes.Lines(body) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok {
			return "", fmt.Errorf("%w: line %q is no key=value", errDTMFInfo, line)
		}
		switch strings.ToLower(string(bytes.TrimSpace(k))) {
		case "signal":
			if digit != "" {
				return "", fmt.Errorf("%w: two Signal lines", errDTMFInfo)
			}
			d, ok := dtmfSignal(string(v))
			if !ok {
				return "", fmt.Errorf("%w: Signal %q is no DTMF digit", errDTMFInfo, bytes.TrimSpace(v))
			}
			digit = d
		case "duration":
			if n, err := strconv.Atoi(string(bytes.TrimSpace(v))); err != nil || n < 0 {
				return "", fmt.Errorf("%w: Duration %q", errDTMFInfo, bytes.TrimSpace(v))
			}
		}
	}
	if digit == "" {
		return "", fmt.Errorf("%w: no Signal", errDTMFInfo)
	}
	return digit, nil
}

// handleInfo answers in-dialog INFO. A DTMF body (Cisco dtmf-relay or
// application/dtmf) goes to the access-code logic like an RFC 4733 digit
// (R25, R35: "*44" by INFO starts an on_demand recording and is
// swallowed); digits that are no part of a code are passed to the other
// party as INFO with the same body. A malformed DTMF body gets 400 with
// the reason. Anything else goes to handleOther.
func (s *Server) handleInfo(req *sip.Request, tx sip.ServerTransaction) {
	if s.dialogs.Handle(req, tx) {
		return
	}
	ctype := ""
	if h := req.ContentType(); h != nil {
		ctype = dtmfType(h.Value())
	}
	if ctype == "" {
		s.handleOther(req, tx)
		return
	}
	c, side, ok := s.findCall(req)
	if !ok {
		s.handleOther(req, tx)
		return
	}
	d, err := parseDTMFInfo(ctype, req.Body())
	if err != nil {
		respond(tx, req, sip.StatusBadRequest, err.Error())
		return
	}
	respond(tx, req, sip.StatusOK, "OK")
	c.infoDigit(side, d, ctype, req.Body())
}

// infoDigit takes a digit side sent by INFO: held while it continues an
// access code, carried out when it completes one, else relayed (after
// any digits held before it) to the other party.
func (c *call) infoDigit(side relay.Side, d, ctype string, body []byte) {
	hold, flushed := c.collect(side, d)
	for _, f := range flushed {
		c.sendDigit(side.Other(), string(f), typeDTMFRelay, nil)
	}
	if hold {
		c.digit(side, d) // a complete code runs now: an INFO digit has no key-up to wait for
		return
	}
	c.sendDigit(side.Other(), d, ctype, body)
}

// sendDigit sends digit d toward side as INFO: with body as is when
// given, else as Cisco dtmf-relay.
func (c *call) sendDigit(toward relay.Side, d, ctype string, body []byte) {
	if body == nil {
		body = fmt.Appendf(nil, "Signal=%s\r\nDuration=160\r\n", d)
		ctype = typeDTMFRelay
	}
	c.mu.Lock()
	dl := c.dialogOn(toward)
	ended := c.ended
	c.mu.Unlock()
	if dl == nil || ended {
		return
	}
	req := sip.NewRequest(sip.INFO, remoteTarget(dl))
	req.AppendHeader(sip.NewHeader("Content-Type", ctype))
	req.SetBody(body)
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if res, err := dl.Do(ctx, req); err != nil || res.StatusCode >= 300 {
		c.s.log.Debug("callpath: dtmf info", "call", c.id, "digit", d, "res", res, "err", err)
	}
}

// collect adds digit d from side to the access code being dialled (R35).
// It reports whether d is held (it continues a prefix of a code of the
// recorded party on side; a complete code is left pending for digit)
// and the digits held before that turned out not to start a code, which
// must now reach the other party after all.
func (c *call) collect(side relay.Side, d string) (bool, string) {
	r := c.recordingOf(side)
	if r == nil {
		return false, ""
	}
	codes := codesOf(r.dec.AccessCodes)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.digits.pending[side] = ""
	held := c.digits.held[side]
	next := held + d
	flushed := ""
	if !isPrefix(next, codes) {
		flushed, next = held, d
		if !isPrefix(next, codes) {
			c.digits.held[side] = ""
			return false, flushed
		}
	}
	c.digits.held[side] = ""
	if slices.Contains(codes, next) {
		c.digits.pending[side] = next
	} else {
		c.digits.held[side] = next
	}
	return true, flushed
}
