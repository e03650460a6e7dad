package recorder

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/sipdigest"
	"github.com/callrec/callrec/srcclaim"
)

// Sources lists the SIPREC sources: recording clients (SBCs, PBXs, the
// call plane) bound to an org by source network and/or SIP digest
// credentials (issue 4 point 5). The recorder caches the list and reloads
// it every Config.SourceRefresh, so no INVITE waits for the store.
type Sources interface {
	// SIPRECSources returns every source of every org.
	SIPRECSources(ctx context.Context) ([]callrec.SIPRECSource, error)
}

// DigestRealm is the realm of the recorder's digest challenges (RFC 7616
// §3.3). A source's credentials are checked against its own
// SIPCredentials.Realm, which the control plane sets to this value.
const DigestRealm = sipdigest.DefaultRealm

// DefaultSourceRefresh is how often the source list is reloaded when
// Config.SourceRefresh is zero.
const DefaultSourceRefresh = 5 * time.Second

// sourceNet is one network of a source.
type sourceNet struct {
	prefix netip.Prefix
	source *callrec.SIPRECSource
}

// sourceTable is an immutable snapshot of the sources, built for the
// INVITE path: networks sorted longest prefix first, credentials by user
// name.
type sourceTable struct {
	nets  []sourceNet
	users map[string]*callrec.SIPRECSource
	bad   []string // networks that are not CIDRs, as "source: value"
}

// newSourceTable indexes srcs. Networks that do not parse are skipped
// and listed in bad; a source without networks or credentials binds
// nothing.
func newSourceTable(srcs []callrec.SIPRECSource) *sourceTable {
	t := &sourceTable{users: map[string]*callrec.SIPRECSource{}}
	for i := range srcs {
		src := &srcs[i]
		for _, n := range src.Networks {
			p, err := parseNetwork(n)
			if err != nil {
				t.bad = append(t.bad, fmt.Sprintf("%s (%s): %q", src.Name, src.ID, n))
				continue
			}
			t.nets = append(t.nets, sourceNet{prefix: p, source: src})
		}
		if src.SIP != nil && src.SIP.Username != "" {
			if _, dup := t.users[src.SIP.Username]; !dup {
				t.users[src.SIP.Username] = src
			}
		}
	}
	// Longest prefix first; ties in a fixed order (source id) so the
	// same table always answers the same.
	slices.SortStableFunc(t.nets, func(a, b sourceNet) int {
		if c := cmp.Compare(b.prefix.Bits(), a.prefix.Bits()); c != 0 {
			return c
		}
		return strings.Compare(a.source.ID, b.source.ID)
	})
	return t
}

// parseNetwork reads a CIDR, or a bare address as a host prefix.
func parseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Addr().Is4In6() {
			return netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix %q: write it as IPv4", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// byNetwork returns the source whose network holds addr with the longest
// prefix, or nil.
func (t *sourceTable) byNetwork(addr netip.Addr) *callrec.SIPRECSource {
	if t == nil || !addr.IsValid() {
		return nil
	}
	addr = addr.Unmap()
	for i := range t.nets {
		if t.nets[i].prefix.Contains(addr) {
			return t.nets[i].source
		}
	}
	return nil
}

// hasCredentials says whether any source authenticates with digest.
func (t *sourceTable) hasCredentials() bool { return t != nil && len(t.users) > 0 }

// ReloadSources reads the sources from Config.Sources now. Start loads
// them once and the server reloads them every Config.SourceRefresh; the
// control plane may call this after a change so the change applies at
// once.
func (s *Server) ReloadSources(ctx context.Context) error {
	if s.cfg.Sources == nil {
		return nil
	}
	srcs, err := s.cfg.Sources.SIPRECSources(ctx)
	if err != nil {
		return fmt.Errorf("recorder: load SIPREC sources: %w", err)
	}
	t := newSourceTable(srcs)
	s.sources.Store(t)
	s.sourcesLoaded.Store(time.Now().UnixNano())
	s.reportBadNetworks(t.bad)
	return nil
}

// reportBadNetworks logs networks that are not CIDRs once per change of
// the list, not on every reload.
func (s *Server) reportBadNetworks(bad []string) {
	key := strings.Join(bad, "\n")
	s.badMu.Lock()
	changed := key != s.badNets
	s.badNets = key
	s.badMu.Unlock()
	if changed && len(bad) > 0 {
		s.log.Warn("SIPREC sources with networks that are not CIDRs; those networks are ignored", "networks", bad)
	}
}

// sourceLoop reloads the sources every SourceRefresh until ctx is done.
func (s *Server) sourceLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.cfg.SourceRefresh)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := s.ReloadSources(rctx)
		cancel()
		switch {
		case err != nil && !failing:
			s.log.Warn("reloading SIPREC sources failed; keeping the last list", "err", err)
			failing = true
		case err == nil && failing:
			s.log.Info("SIPREC sources reloaded again")
			failing = false
		}
	}
}

// admission is the decision on an initial INVITE's origin.
type admission struct {
	orgID  string // the org that owns the recording; "" when refused
	how    string // "source network", "siprec-allow", "digest" (logged)
	source string // the source's name and id, when one matched
	// code, reason and hdrs are the refusal when orgID is "".
	code   int
	reason string
	hdrs   []sip.Header
	why    string // why credentials were refused ("" when none were given)
}

// admit decides which org an initial INVITE from src records for
// (issue 4 point 5), in order:
//  1. a source whose networks hold src, the longest prefix winning;
//  2. --siprec-allow (Config.Allow): the default org, Config.OrgID;
//  3. when any source has SIP credentials, RFC 3261 §22 digest
//     authentication (RFC 7616 with SHA-256 and MD5, as RFC 8760 brings
//     them to SIP): no or bad Authorization gets 401 with a challenge,
//     valid credentials of a source give its org;
//  4. otherwise 403.
//
// Before all of these, a genuine org claim of callrec's own call plane
// (Config.OrgClaimKey, package srcclaim) decides the org.
//
// A source with both networks and credentials is matched by either.
//
// A refused INVITE reloads the sources first (at most once a
// second, so a flood of strangers costs one query a second): a source
// an admin has just bound is admitted at once, not at the next refresh.
func (s *Server) admit(req *sip.Request, src netip.Addr) admission {
	// Our own call plane names the org with a signed claim (srcclaim).
	if h := req.GetHeader(srcclaim.Header); h != nil && req.CallID() != nil {
		if org, ok := srcclaim.Verify(s.cfg.OrgClaimKey, h.Value(), req.CallID().Value()); ok {
			return admission{orgID: org, how: "call plane claim"}
		}
	}
	a := s.admitBy(s.sources.Load(), req, src)
	if a.orgID != "" || s.cfg.Sources == nil {
		return a
	}
	last := s.sourcesLoaded.Load()
	if now := time.Now().UnixNano(); now-last < int64(time.Second) || !s.sourcesLoaded.CompareAndSwap(last, now) {
		return a
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.ReloadSources(ctx); err != nil {
		s.log.Warn("reloading SIPREC sources for an unknown source failed", "err", err)
		return a
	}
	return s.admitBy(s.sources.Load(), req, src)
}

// admitBy is admit's decision with the source table t.
func (s *Server) admitBy(t *sourceTable, req *sip.Request, src netip.Addr) admission {
	if st := t.byNetwork(src); st != nil {
		return admission{orgID: st.OrgID, how: "source network", source: st.Name + " (" + st.ID + ")"}
	}
	if s.allowed(src) {
		return admission{orgID: s.cfg.OrgID, how: "siprec-allow"}
	}
	if !t.hasCredentials() {
		return admission{code: 403, reason: "Source Not Allowed"}
	}
	now := s.now()
	hdrs := req.GetHeaders("Authorization")
	if len(hdrs) == 0 {
		return admission{code: 401, reason: "Unauthorized", hdrs: s.nonces.Challenge(now, false)}
	}
	stale := false
	var lastErr error
	for _, h := range hdrs {
		st, err := verifyDigest(h.Value(), req, t.users, &s.nonces, now)
		if err == nil {
			return admission{orgID: st.OrgID, how: "digest", source: st.Name + " (" + st.ID + ")"}
		}
		if errors.Is(err, sipdigest.ErrStaleNonce) {
			stale = true
		}
		lastErr = err
	}
	return admission{code: 401, reason: "Unauthorized", hdrs: s.nonces.Challenge(now, stale), why: oneLine(lastErr)}
}

// verifyDigest checks one Authorization header of req (RFC 7616 §3.4,
// RFC 3261 §22.4) against the sources' credentials: a known user name,
// then sipdigest's checks (the source's realm, a nonce of ours that has
// not expired, the request URI, the response from the stored HA1). It
// returns the source.
//
// Nonce counts are not tracked: an Authorization replayed within the
// nonce's lifetime is accepted again (the INVITE it authorises starts one
// more recording of the same source's org, nothing more).
func verifyDigest(value string, req *sip.Request, users map[string]*callrec.SIPRECSource, nonces *sipdigest.Nonces, now time.Time) (*callrec.SIPRECSource, error) {
	a, err := sipdigest.ParseAuthorization(value)
	if err != nil {
		return nil, err
	}
	st := users[a.Username]
	if st == nil || st.SIP == nil {
		return nil, fmt.Errorf("authorization: unknown user %q", a.Username)
	}
	secret := sipdigest.Secret{Realm: st.SIP.Realm, HA1MD5: st.SIP.HA1MD5, HA1SHA256: st.SIP.HA1SHA256}
	if err := a.Verify(string(req.Method), req.Recipient, secret, nonces, now); err != nil {
		return nil, err
	}
	return st, nil
}

// HA1 computes the RFC 7616 §3.4.2 HA1 values (MD5 and SHA-256, hex) of
// a user name and password in realm, as SIPCredentials stores them. It
// is sipdigest.HA1, kept here for the recorder's callers.
func HA1(username, realm, password string) (md5Hex, sha256Hex string) {
	return sipdigest.HA1(username, realm, password)
}
