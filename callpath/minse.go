package callpath

import (
	"context"
	"errors"
	"fmt"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// retryMinSE takes a callee branch's failed INVITE: when the answer was
// 422 Session Interval Too Small with a Min-SE above the Session-Expires
// we asked for, the INVITE is sent again once (RFC 4028 §7.3: the
// session interval of the retry is the Min-SE of the 422, which the
// retry also carries as its own Min-SE; RFC 3261 §8.1.3.5: same Call-ID,
// From and To, CSeq plus one, a new branch) and the retry's dialog and
// outcome are returned with true (dc and the error when the retry
// could not be sent). Any other outcome returns false and the branch
// fails as it did.
func (c *call) retryMinSE(ctx context.Context, dua *sipgo.DialogUA, dc *sipgo.DialogClientSession, req *sip.Request, err error, opts sipgo.AnswerOptions) (*sipgo.DialogClientSession, error, bool) {
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res == nil || de.Res.StatusCode != 422 {
		return nil, nil, false
	}
	v, ok := headerValue(de.Res, "Min-SE")
	if !ok {
		return nil, nil, false
	}
	minSE, _, ok := parseSessionExpires(v)
	if !ok {
		return nil, nil, false
	}
	if cur, ok := headerValue(req, "Session-Expires", "x"); ok {
		if d, _, ok := parseSessionExpires(cur); ok && d >= minSE {
			return nil, nil, false // nothing to raise: the callee is confused
		}
	}
	retry := req.Clone()
	retry.RemoveHeader("Via")
	if h := retry.CSeq(); h != nil {
		h.SeqNo++
	}
	for _, name := range []string{"Session-Expires", "x", "Min-SE"} {
		retry.RemoveHeader(name)
	}
	retry.AppendHeader(sip.NewHeader("Session-Expires", seconds(minSE)+";refresher=uac"))
	retry.AppendHeader(sip.NewHeader("Min-SE", seconds(minSE)))
	c.s.log.Info("callpath: callee wants a longer session interval", "call", c.id, "min_se", minSE)
	_ = dc.Close() // the 422 ended that attempt
	rdc, err := dua.WriteInvite(ctx, retry)
	if err != nil {
		return dc, fmt.Errorf("callpath: INVITE retried with Min-SE %s: %w", seconds(minSE), err), true
	}
	return rdc, rdc.WaitAnswer(ctx, opts), true
}
