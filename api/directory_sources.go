package api

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// siprecSourceJSON is a SIPREC source as the API renders it: a recording
// client (SBC, PBX, callrec's own call plane) bound to the org by source
// network and/or SIP digest credentials.
type siprecSourceJSON struct {
	ID             string              `json:"id"`
	OrgID          string              `json:"orgId"`
	Name           string              `json:"name"`
	Networks       []string            `json:"networks" doc:"CIDR prefixes the source sends from"`
	SIPCredentials *sipCredentialsJSON `json:"sipCredentials,omitempty" doc:"digest user name the source authenticates with; the password is never shown"`
	Created        string              `json:"created"`
}

// newSiprecSourceBody is the body of POST .../siprecSources: networks,
// sipCredentials or both.
type newSiprecSourceBody struct {
	Name           string        `json:"name"`
	Networks       []string      `json:"networks,omitempty" doc:"CIDR prefixes or bare addresses (/32, /128); none may overlap another source's, of any org"`
	SIPCredentials *sipLoginBody `json:"sipCredentials,omitempty" doc:"digest credentials (realm callrec); write-only password"`
}

// siprecSourceUpdateBody is the body of PUT .../siprecSources/{sourceId}:
// omitted fields keep their value; networks given replace the list;
// sipCredentials with an empty username and password removes them.
type siprecSourceUpdateBody struct {
	Name           *string       `json:"name,omitempty"`
	Networks       []string      `json:"networks,omitempty"`
	SIPCredentials *sipLoginBody `json:"sipCredentials,omitempty"`
}

func renderSource(src *callrec.SIPRECSource) siprecSourceJSON {
	nets := src.Networks
	if nets == nil {
		nets = []string{}
	}
	return siprecSourceJSON{ID: webexID(idSource, src.ID), OrgID: webexID(idOrg, src.OrgID), Name: src.Name, Networks: nets,
		SIPCredentials: renderSIP(src.SIP), Created: dirTime(src.Created)}
}

// sourceRoutes registers the SIPREC sources.
func (s *server) sourceRoutes() {
	const tag = "SIPREC Sources"
	const base = "/v1/telephony/config/callRecording/siprecSources"
	s.register(op{Method: "GET", Path: base, Summary: "List the SIPREC sources bound to the organization (callrec): the recorder files a recording session under the org of the source it comes from", Tag: tag,
		Access: "org admins (read)", Query: orgDirectoryQuery,
		Resp: struct {
			Items []siprecSourceJSON `json:"items"`
		}{}, Handler: s.inOrgScope(permRead, s.listSources)})
	s.register(op{Method: "POST", Path: base, Summary: "Bind a SIPREC source to the organization by networks, digest credentials or both (a network overlapping another source's, of any org, is 409)", Tag: tag,
		Access: "full and partner admins", Query: []param{qOrgID}, Body: newSiprecSourceBody{}, Resp: siprecSourceJSON{}, Handler: s.inOrgScope(permWrite, s.sourcesChange(s.createSource))})
	s.register(op{Method: "GET", Path: base + "/{sourceId}", Summary: "Get a SIPREC source", Tag: tag,
		Access: "org admins (read)", Query: []param{qOrgID}, Resp: siprecSourceJSON{}, Handler: s.inOrgScope(permRead, dirGetHandler(s, &sourceType, plainRender(renderSource)))})
	s.register(op{Method: "PUT", Path: base + "/{sourceId}", Summary: "Update a SIPREC source (partial)", Tag: tag,
		Access: "full and partner admins", Query: []param{qOrgID}, Body: siprecSourceUpdateBody{}, Resp: siprecSourceJSON{}, Handler: s.inOrgScope(permWrite, s.sourcesChange(dirUpdateHandler(s, &sourceType, applySourceUpdate, plainRender(renderSource))))})
	s.register(op{Method: "DELETE", Path: base + "/{sourceId}", Summary: "Unbind a SIPREC source", Tag: tag,
		Access: "full and partner admins", Query: []param{qOrgID}, Handler: s.inOrgScope(permWrite, s.sourcesChange(dirDeleteHandler(s, &sourceType)))})
}

// sourcesChange runs h and, when it succeeded, tells the recorder
// (Config.SourcesChanged) so the change applies to the next INVITE.
func (s *server) sourcesChange(h orgHandler) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		if err := h(w, r, tok, org); err != nil {
			return err
		}
		if s.sourcesChanged != nil {
			s.sourcesChanged(r.Context())
		}
		return nil
	}
}

// parseNetwork parses one source network: a CIDR prefix, or a bare
// address meaning /32 (IPv4) or /128 (IPv6). The prefix is returned
// masked (10.1.2.3/8 is 10.0.0.0/8); IPv4-mapped IPv6 addresses are
// taken as IPv4, as the recorder sees them.
func parseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("empty network")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q must not carry an IPv6 zone", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%q mixes IPv4-mapped and IPv6 addresses; give the IPv4 prefix", s)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// sourceNetworks validates a network list: each parses, none overlaps
// another of the list.
func sourceNetworks(in []string) ([]string, error) {
	if len(in) > maxNetworks {
		return nil, badRequestf("networks: at most %d networks", maxNetworks)
	}
	prefixes := make([]netip.Prefix, 0, len(in))
	out := make([]string, 0, len(in))
	for i, raw := range in {
		p, err := parseNetwork(raw)
		if err != nil {
			return nil, badRequestf("networks[%d]: %v", i, err)
		}
		for j, q := range prefixes {
			if p.Overlaps(q) {
				return nil, badRequestf("networks[%d]: %s overlaps networks[%d] %s", i, p, j, q)
			}
		}
		prefixes = append(prefixes, p)
		out = append(out, p.String())
	}
	return out, nil
}

// sourceFields validates and applies a source body to src.
func sourceFields(src *callrec.SIPRECSource, name *string, networks []string, sip *sipLoginBody) error {
	if err := applyStrFields(strField{"name", name, &src.Name, requiredTextField(maxNameLen)}); err != nil {
		return err
	}
	if networks != nil {
		nets, err := sourceNetworks(networks)
		if err != nil {
			return err
		}
		src.Networks = nets
	}
	creds, err := applySIP("sipCredentials", src.SIP, sip)
	if err != nil {
		return err
	}
	src.SIP = creds
	if len(src.Networks) == 0 && src.SIP == nil {
		return badRequest("networks, sipCredentials: at least one of them is required")
	}
	return nil
}

// checkSourceOverlap refuses a network that overlaps (contains or is
// contained in) a network of another source, of any org: the recorder
// must map a source address to exactly one org. The 409 does not name
// the other source, which may be another org's.
func checkSourceOverlap(ctx context.Context, tx directory.Tx, src *callrec.SIPRECSource) error {
	all, err := directory.Sources.List(ctx, tx, "")
	if err != nil {
		return fmt.Errorf("api: source networks: %w", err)
	}
	for i, raw := range src.Networks {
		p, err := netip.ParsePrefix(raw)
		if err != nil {
			return fmt.Errorf("api: source networks: %w", err)
		}
		for _, o := range all {
			if o.ID == src.ID {
				continue
			}
			for _, oraw := range o.Networks {
				q, err := netip.ParsePrefix(oraw)
				if err != nil {
					continue // not ours to judge: written by another version
				}
				if p.Overlaps(q) {
					return conflictf("networks[%d]: %s overlaps a network already bound to another SIPREC source", i, p)
				}
			}
		}
	}
	return nil
}

// sourceKeys are the unique keys of a source (its SIP user name, global).
func sourceKeys(src *callrec.SIPRECSource) []keyUse {
	if src.SIP == nil {
		return nil
	}
	return []keyUse{{directory.SIPUserKey(src.SIP.Username), "sipCredentials.username", src.SIP.Username, ""}}
}

// sourceType is the SIPREC sources for the shared handlers: org-level
// objects (full and partner admins), whose credentials the audit log
// keeps without their hashes.
var sourceType = dirType[callrec.SIPRECSource]{kind: directory.Sources, wildcard: "sourceId", idType: idSource,
	thing: "SIPREC source", noun: "SIPREC source", auditType: "siprecSource",
	id: func(src *callrec.SIPRECSource) string { return src.ID }, keys: sourceKeys, check: checkSourceOverlap,
	audited: func(src *callrec.SIPRECSource) any { return auditSource(src) }}

// listSources is GET .../siprecSources.
func (s *server) listSources(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return dirList(s, w, r, directory.Sources, org.ID, "items", nil, renderSource)
}

// createSource is POST .../siprecSources.
func (s *server) createSource(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	if err := require(tok, org, permWrite, ""); err != nil {
		return err
	}
	var body newSiprecSourceBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	src := &callrec.SIPRECSource{ID: uuid.NewString(), OrgID: org.ID, Networks: []string{}, Created: s.now().UTC()}
	if err := sourceFields(src, &body.Name, body.Networks, body.SIPCredentials); err != nil {
		return err
	}
	return dirCreate(s, w, r, tok, org, &sourceType, src, nil, plainRender(renderSource))
}

// applySourceUpdate applies a PUT body to a source.
func applySourceUpdate(_ context.Context, _ directory.Tx, _ *callrec.Org, src *callrec.SIPRECSource, body *siprecSourceUpdateBody) error {
	return sourceFields(src, body.Name, body.Networks, body.SIPCredentials)
}
