package api

// directoryRoutes registers the Directory (organizations, locations,
// people, virtual lines, features, trunks, tokens, SIPREC sources)
// operations: REST in Webex's shapes (issue 4 point 2), orgId on every
// org-scoped operation, start/max pagination with Link headers on lists,
// an audit entry for every change, and 400/404/409 naming the field.
//
// The directory handlers never change recording settings (those are the
// callRecording paths) and never reveal another org's objects: an id of
// another org is 404, and a 409 on a key unique across orgs (email, SIP
// user name, source network) does not say who holds it.
func (s *server) directoryRoutes() {
	s.organizationRoutes()
	s.locationRoutes()
	s.peopleRoutes()
	s.virtualLineRoutes()
	s.featureRoutes()
	s.trunkRoutes()
	s.tokenRoutes()
	s.sourceRoutes()
}
