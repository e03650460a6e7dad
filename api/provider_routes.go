package api

import "net/http"

// providerRoutes registers the Providers, plans, provisioning and user sync operations.
func (s *server) providerRoutes() {
	const (
		tagProviders = "Call Recording Providers"
		tagTerms     = "Call Recording Terms of Service"
		tagAccount   = "Call Recording Provider Account"
		base         = "/v1/telephony/config/callRecording"
	)
	// Providers (R5, R6): partner-level objects of no org.
	s.register(op{Method: "GET", Path: base + "/providers", Summary: "List the recording providers (the built-in one first registered at start); callrec extension of the Webex vendor list", Tag: tagProviders,
		Access: "admins of any role (partner, full, read-only, location)", Query: []param{qStart, qMax},
		Resp: struct {
			Items []providerJSON `json:"items"`
		}{}, Handler: s.authed(s.provList)})
	s.register(op{Method: "POST", Path: base + "/providers", Summary: "Register an external recording provider (R5, R6): plans, provisioning, storage options, analytics, regions, SIPREC targets, terms of service", Tag: tagProviders,
		Access: "partner admins", Body: newProviderBody{}, Resp: providerJSON{}, Handler: s.authed(s.provCreate)})
	s.register(op{Method: "GET", Path: base + "/providers/{providerId}", Summary: "Get a recording provider", Tag: tagProviders,
		Access: "admins of any role", Resp: providerJSON{}, Handler: s.authed(s.provGet)})
	s.register(op{Method: "PUT", Path: base + "/providers/{providerId}", Summary: "Update a recording provider (partial). The built-in provider keeps its name, plans, automatic provisioning and SIPREC target (409)", Tag: tagProviders,
		Access: "partner admins", Body: providerUpdateBody{}, Resp: providerJSON{}, Handler: s.authed(s.provUpdate)})
	s.register(op{Method: "DELETE", Path: base + "/providers/{providerId}", Summary: "Delete an external recording provider (409 for the built-in one and for one an org or location has chosen)", Tag: tagProviders,
		Access: "partner admins", Handler: s.authed(s.provDelete)})
	s.register(op{Method: "GET", Path: base + "/providers/{providerId}/users", Summary: "User sync (R10, R33): the org's people and virtual lines recorded by this provider, with exactly the fields shared under R13 and their recording mode. Virtual lines are listed but never provisioned automatically", Tag: tagProviders,
		Access: "full admins of the org and partner admins (the provider's sync tool runs with such a token)", Query: []param{qOrgID, qStart, qMax},
		Resp: providerUsersJSON{}, Handler: s.authed(s.provUsers)})

	// Terms of service (§4.1, §4.2, R13).
	s.register(op{Method: "GET", Path: base + "/vendors/{vendorId}/termsOfService", Summary: "Get Call Recording Terms Of Service Settings", Tag: tagTerms,
		Access: "org admins (read)", Query: []param{qOrgID}, Resp: termsOfServiceJSON{}, Handler: s.inOrgScope(permRead, s.provGetTerms)})
	s.register(op{Method: "PUT", Path: base + "/vendors/{vendorId}/termsOfService", Summary: "Update Call Recording Terms Of Service Settings: accept (or withdraw) the vendor's terms on the org's behalf (R13); accepting the built-in provider's terms creates the org's provider account (R7)", Tag: tagTerms,
		Access: "full, partner and location admins", Query: []param{qOrgID}, Body: termsOfServiceBody{}, Handler: s.inOrgScope(permWrite, s.provPutTerms)})
	s.register(op{Method: "GET", Path: base + "/vendors/{vendorId}/termsOfService/acceptance", Summary: "What accepting the vendor's terms recorded (R13): who answered, when, which version, and exactly which fields were shared about each user; callrec extension", Tag: tagTerms,
		Access: "org admins (read) and compliance officers", Query: []param{qOrgID}, Resp: termsAcceptanceJSON{}, Handler: s.authed(s.provGetAcceptance)})

	// The org's account at the built-in provider (R7, R8, R9, R11, R12).
	s.register(op{Method: "GET", Path: base + "/providerAccount", Summary: "Get the org's account at the built-in provider: admins and members with their plans (R7, R11)", Tag: tagAccount,
		Access: "org admins (read) and provider admins", Query: []param{qOrgID}, Resp: providerAccountJSON{}, Handler: s.authed(s.provGetAccount)})
	s.register(op{Method: "PUT", Path: base + "/providerAccount/members/{memberId}", Summary: "Change a member's plan (R8). Upgrading to team or premier stops automatic deletion of the member's recordings; downgrading to go deletes them 30 days from the later of their start and now (R9)", Tag: tagAccount,
		Access: "partner admins and provider admins", Query: []param{qOrgID}, Body: planChangeBody{}, Resp: planChangeJSON{}, Handler: s.authed(s.provChangePlan)})
	s.register(op{Method: "POST", Path: base + "/providerAccount/admins", Summary: "Make an email an admin of the provider account (R11); a partner admin may be admin in one customer's account only (R12, 409)", Tag: tagAccount,
		Access: "provider admins, full admins and partner admins", Query: []param{qOrgID}, Body: providerAdminBody{}, Resp: providerAccountJSON{}, Handler: s.authed(s.provAddAdmin)})
	s.register(op{Method: "DELETE", Path: base + "/providerAccount/admins/{email}", Summary: "Remove an admin of the provider account (R11)", Tag: tagAccount,
		Access: "provider admins, full admins and partner admins", Query: []param{qOrgID}, Status: http.StatusNoContent, Handler: s.authed(s.provRemoveAdmin)})
}
