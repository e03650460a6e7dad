package api

// Terms of service (reference §4.1, §4.2; R13): an org admin accepts a
// vendor's terms on the org's behalf, once; callrec records who, when,
// which version and what was shared per user (provider.AcceptTerms).

import (
	"context"
	"net/http"
	"reflect"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/provider"
)

// termsOfServiceJSON is Webex's GetCallRecordingTermsOfServiceObject.
type termsOfServiceJSON struct {
	VendorID              string `json:"vendorId"`
	VendorName            string `json:"vendorName"`
	TermsOfServiceEnabled bool   `json:"termsOfServiceEnabled"`
	TermsOfServiceURL     string `json:"termsOfServiceUrl"`
}

// termsOfServiceBody is the PUT body: accept (true) or withdraw (false).
type termsOfServiceBody struct {
	TermsOfServiceEnabled *bool `json:"termsOfServiceEnabled" doc:"required"`
}

// termsAcceptanceJSON is what an acceptance recorded (R13).
type termsAcceptanceJSON struct {
	VendorID   string `json:"vendorId"`
	VendorName string `json:"vendorName"`
	Accepted   bool   `json:"accepted"`
	// AcceptedBy and AcceptedAt name who answered last and when (after a
	// withdrawal: who withdrew).
	AcceptedBy            string           `json:"acceptedBy,omitempty"`
	AcceptedAt            string           `json:"acceptedAt,omitempty"`
	TermsOfServiceVersion string           `json:"termsOfServiceVersion,omitempty"`
	CustomerName          string           `json:"customerName,omitempty" doc:"shared with external providers only"`
	SharedUsers           []sharedUserJSON `json:"sharedUsers"`
}

// sharedUserJSON is what was shared about one user.
type sharedUserJSON struct {
	ID       string            `json:"id"`   // PEOPLE or VIRTUAL_LINE id
	Type     string            `json:"type"` // PEOPLE or VIRTUAL_LINE
	SharedAt string            `json:"sharedAt"`
	Fields   map[string]string `json:"fields" doc:"exactly the fields shared: timezone, firstName, lastName, email (people), customerName (external providers)"`
}

// provMemberID renders a person's or virtual line's id by its type.
func provMemberID(typ, id string) string {
	if typ == provider.TypeVirtualLine {
		return webexID(idVirtualLine, id)
	}
	return webexID(idPerson, id)
}

// provVendor reads the vendor the path names for terms: "none" has no
// terms; an unknown id is 404.
func provVendor(r *http.Request, tx directory.Tx) (*callrec.Provider, error) {
	if raw := r.PathValue("vendorId"); raw == callrec.VendorNone {
		return nil, notFoundf("Vendor %s has no terms of service", quote(raw))
	}
	return provLoad(r, tx, "vendorId", "Vendor")
}

// provGetTerms is GET .../vendors/{vendorId}/termsOfService (§4.1).
func (s *server) provGetTerms(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	return s.viewJSON(w, r, func(_ context.Context, tx directory.Tx) (any, error) {
		p, t, err := provVendorTerms(r, tx, org.ID)
		if err != nil {
			return nil, err
		}
		return termsOfServiceJSON{VendorID: webexID(idVendor, p.ID), VendorName: p.Name,
			TermsOfServiceEnabled: t != nil && t.Accepted, TermsOfServiceURL: p.TermsURL}, nil
	})
}

// provVendorTerms reads the vendor the path names and the org's answer
// to its terms (nil: never answered).
func provVendorTerms(r *http.Request, tx directory.Tx, orgID string) (*callrec.Provider, *callrec.TermsAcceptance, error) {
	p, err := provVendor(r, tx)
	if err != nil {
		return nil, nil, err
	}
	t, err := provider.Terms(r.Context(), tx, orgID, p.ID)
	if err != nil {
		return nil, nil, err
	}
	return p, t, nil
}

// provPutTerms is PUT .../vendors/{vendorId}/termsOfService (§4.2): full,
// partner and location admins accept or withdraw for the org (R13). An
// answer that changes nothing (accepting accepted terms of the same
// version) is not audited.
func (s *server) provPutTerms(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
	var body termsOfServiceBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	if body.TermsOfServiceEnabled == nil {
		return badRequest("termsOfServiceEnabled: is required (true accepts the vendor's terms of service, false withdraws)")
	}
	accepted := *body.TermsOfServiceEnabled
	return s.updateNoContent(w, r, func(_ context.Context, tx directory.Tx) error {
		p, prev, err := provVendorTerms(r, tx, org.ID)
		if err != nil {
			return err
		}
		by := provider.Actor{Email: actor(tok), PartnerAdmin: isPartner(tok)}
		next, err := provider.AcceptTerms(r.Context(), tx, org, p, by, accepted, s.now())
		if err != nil {
			return ruleError(err)
		}
		if (prev == nil && !next.Accepted) || reflect.DeepEqual(prev, next) {
			return nil
		}
		action := "accept"
		if !accepted {
			action = "withdraw"
		}
		var before any
		if prev != nil {
			before = prev
		}
		return s.audit(r.Context(), tx, tok, org.ID, action, "termsOfService", p.ID, before, next)
	})
}

// provGetAcceptance is GET .../vendors/{vendorId}/termsOfService/acceptance:
// org admins (read) and the org's compliance officers.
func (s *server) provGetAcceptance(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	org, err := s.actingOrg(r, tok)
	if err != nil {
		return err
	}
	if !(tok.Role == callrec.RoleComplianceOfficer && tok.OrgID == org.ID) {
		if err := require(tok, org, permRead, ""); err != nil {
			return err
		}
	}
	return s.viewJSON(w, r, func(_ context.Context, tx directory.Tx) (any, error) {
		p, t, err := provVendorTerms(r, tx, org.ID)
		if err != nil {
			return nil, err
		}
		out := termsAcceptanceJSON{VendorID: webexID(idVendor, p.ID), VendorName: p.Name, SharedUsers: []sharedUserJSON{}}
		if t == nil {
			return out, nil
		}
		out.Accepted, out.AcceptedBy, out.AcceptedAt = t.Accepted, t.By, provTime(t.At)
		out.TermsOfServiceVersion, out.CustomerName = t.Version, t.CustomerName
		for _, u := range t.Shared {
			fields := u.Fields
			if fields == nil {
				fields = map[string]string{}
			}
			out.SharedUsers = append(out.SharedUsers, sharedUserJSON{ID: provMemberID(u.Type, u.ID), Type: u.Type, SharedAt: provTime(u.At), Fields: fields})
		}
		return out, nil
	})
}
