package api

import "net/http"

// Who may call the operations of the call recording settings API.
const (
	crAccessRead         = "partner admins, org full, read-only and location admins"
	crAccessWrite        = "partner admins and org full admins"
	crAccessLocation     = "partner admins, org full admins, and location admins for their own locations"
	crAccessPartner      = "partner admins only (Webex: \"for Cisco partners only\", §12 D15)"
	crAccessMe           = "a user token (or any token with a person): its own settings"
	crTagCallRecording   = "Call Recording"
	crTagUserRecording   = "Call Recording: people, workspaces and virtual lines"
	crPathCallRecording  = "/v1/telephony/config/callRecording"
	crPathLocation       = "/v1/telephony/config/locations/{locationId}/callRecording"
	crPathJobs           = "/v1/telephony/config/jobs/callRecording"
	crPathPerson         = "/v1/people/{personId}/features/callRecording"
	crPathWorkspace      = "/v1/telephony/config/workspaces/{workspaceId}/features/callRecordings"
	crPathWorkspaceOld   = "/v1/workspaces/{workspaceId}/features/callRecording"
	crPathVirtualLine    = "/v1/telephony/config/virtualLines/{virtualLineId}/callRecording"
	crPathMe             = "/v1/telephony/config/people/me/settings/callRecording"
	crPathMeSecondary    = "/v1/telephony/config/people/me/settings/secondaryLines/{lineOwnerId}/callRecording"
	crPathPersonEffect   = crPathPerson + "/effective"
	crPathLineEffective  = crPathVirtualLine + "/effective"
	crPathVendorUsersDoc = "Users assigned to the vendor: the people (PEOPLE, PLACE for workspaces) and virtual lines whose effective vendor it is; members is paginated with start/max (default 2000) and Link headers"
)

// callRecordingRoutes registers the call recording settings operations
// (§3, §5-§9 of the Webex reference, with callrec's effective-settings
// view for support staff).
func (s *server) callRecordingRoutes() {
	org := func(p perm, h orgHandler) http.Handler { return s.inOrgScope(p, h) }
	page := []param{qOrgID, qStart, qMax}
	vendorUsersQuery := append(append([]param{}, page...), param{"standardUserOnly", "boolean", "only Calling Standard (BASIC_USER) people"})
	tag := crTagCallRecording
	reg := func(o op) {
		if o.Query == nil {
			o.Query = []param{qOrgID}
		}
		s.register(o)
	}

	// §3 organisation settings.
	reg(op{Method: "GET", Path: crPathCallRecording, Summary: "Get the org's call recording settings: entitlement (R2) and vendor", Tag: tag,
		Access: crAccessRead, Resp: getCallRecordingJSON{}, Handler: org(permRead, s.crGetOrg)})
	reg(op{Method: "PUT", Path: crPathCallRecording, Summary: "Entitle the org to call recording, or withdraw it (R2)", Tag: tag,
		Access: crAccessPartner, Body: modifyCallRecordingBody{}, Handler: org(permPartner, s.crPutOrg)})

	// §5 vendors, regions, vendor users.
	reg(op{Method: "GET", Path: crPathCallRecording + "/vendors", Summary: "Get the org's call recording vendor and the vendors it may choose (a plain array, §12 D1), with the pseudo-vendor none", Tag: tag,
		Access: crAccessRead, Resp: callRecordingVendorsListJSON{}, Handler: org(permRead, s.crGetVendors)})
	vendorPut := op{Method: "PUT", Path: crPathCallRecording + "/vendor", Summary: "Set the org's call recording vendor (R6, R13, R14); vendorId none disables recording for all users and needs disableForAllUsersConfirmed true (R15). Returns the id of the completed job", Tag: tag,
		Access: crAccessWrite, Body: callRecordingVendorPatchBody{}, Resp: callRecordingJobIDJSON{}, Handler: org(permWrite, s.crPutOrgVendor)}
	reg(vendorPut)
	vendorPut.Path, vendorPut.Hidden = crPathCallRecording+"/vendors", true // §12 D16 alias
	reg(vendorPut)
	reg(op{Method: "GET", Path: crPathCallRecording + "/regions", Summary: "Get the storage regions of the built-in provider (X2); defaultEnabled marks the org's hosting region", Tag: tag,
		Access: crAccessRead, Resp: callRecordingRegionsJSON{}, Handler: org(permRead, s.crGetRegions)})
	reg(op{Method: "GET", Path: crPathCallRecording + "/vendorUsers", Summary: "Get the org vendor's users. " + crPathVendorUsersDoc, Tag: tag,
		Access: crAccessRead, Query: vendorUsersQuery, Resp: callRecordingVendorUsersJSON{}, Handler: org(permRead, s.crGetVendorUsers)})
	reg(op{Method: "GET", Path: crPathLocation + "/vendors", Summary: "Get a location's call recording vendor, storage region and failure behaviour, and whether each follows the org (R16, X1, X2)", Tag: tag,
		Access: crAccessRead, Resp: callRecordingLocationVendorsJSON{}, Handler: org(permRead, s.crGetLocationVendors)})
	reg(op{Method: "PUT", Path: crPathLocation + "/vendor", Summary: "Set or revert a location's vendor (R16: the location wins; none allowed), storage region and failure behaviour; applied at once (204)", Tag: tag,
		Access: crAccessLocation, Body: callRecordingVendorsPatchBody{}, Handler: org(permWrite, s.crPutLocationVendor)})
	reg(op{Method: "GET", Path: crPathLocation + "/vendorUsers", Summary: "Get the location vendor's users at the location. " + crPathVendorUsersDoc, Tag: tag,
		Access: crAccessRead, Query: vendorUsersQuery, Resp: callRecordingVendorUsersJSON{}, Handler: org(permRead, s.crGetLocationVendorUsers)})

	// §6 jobs.
	reg(op{Method: "GET", Path: crPathJobs, Summary: "List call recording jobs (vendor changes), newest first", Tag: tag,
		Access: crAccessRead, Query: page, Resp: callRecordingJobsJSON{}, Handler: org(permRead, s.crListJobs)})
	reg(op{Method: "GET", Path: crPathJobs + "/{jobId}", Summary: "Get the status of a call recording job", Tag: tag,
		Access: crAccessRead, Resp: callRecordingJobStatusJSON{}, Handler: org(permRead, s.crGetJob)})
	reg(op{Method: "GET", Path: crPathJobs + "/{jobId}/errors", Summary: "Get the errors of a call recording job", Tag: tag,
		Access: crAccessRead, Query: page, Resp: callRecordingJobErrorsJSON{}, Handler: org(permRead, s.crGetJobErrors)})

	// §7 compliance announcement.
	reg(op{Method: "GET", Path: crPathCallRecording + "/complianceAnnouncement", Summary: "Get the org's PSTN compliance announcement (R17, R18)", Tag: tag,
		Access: crAccessRead, Resp: callRecordingComplianceJSON{}, Handler: org(permRead, s.crGetOrgCompliance)})
	reg(op{Method: "PUT", Path: crPathCallRecording + "/complianceAnnouncement", Summary: "Update the org's PSTN compliance announcement (R17, R18: delay 0..60 s)", Tag: tag,
		Access: crAccessWrite, Body: callRecordingCompliancePutBody{}, Handler: org(permWrite, s.crPutOrgCompliance)})
	reg(op{Method: "GET", Path: crPathLocation + "/complianceAnnouncement", Summary: "Get the compliance announcement in force at a location (R17)", Tag: tag,
		Access: crAccessRead, Resp: callRecordingLocationComplianceJSON{}, Handler: org(permRead, s.crGetLocationCompliance)})
	reg(op{Method: "PUT", Path: crPathLocation + "/complianceAnnouncement", Summary: "Give a location its own compliance announcement, or return it to the org's (R17)", Tag: tag,
		Access: crAccessLocation, Body: callRecordingLocationCompliancePutBody{}, Handler: org(permWrite, s.crPutLocationCompliance)})

	// §8 recording announcements.
	reg(op{Method: "GET", Path: crPathCallRecording + "/announcements", Summary: "Get the org's recording announcements (start, stop, pause, resume, failure)", Tag: tag,
		Access: crAccessRead, Resp: callRecordingAnnouncementsJSON{}, Handler: org(permRead, s.crGetOrgAnnouncements)})
	reg(op{Method: "PUT", Path: crPathCallRecording + "/announcements", Summary: "Update the org's recording announcements", Tag: tag,
		Access: crAccessWrite, Body: callRecordingAnnouncementsPutBody{}, Handler: org(permWrite, s.crPutOrgAnnouncements)})
	reg(op{Method: "GET", Path: crPathLocation + "/announcements", Summary: "Get the recording announcements in force at a location", Tag: tag,
		Access: crAccessRead, Resp: callRecordingLocationAnnouncementsJSON{}, Handler: org(permRead, s.crGetLocationAnnouncements)})
	reg(op{Method: "PUT", Path: crPathLocation + "/announcements", Summary: "Give a location its own recording announcements, or return it to the org's", Tag: tag,
		Access: crAccessLocation, Body: callRecordingLocationAnnouncementsPutBody{}, Handler: org(permWrite, s.crPutLocationAnnouncements)})

	// §9 people, workspaces, virtual lines.
	utag := crTagUserRecording
	reg(op{Method: "GET", Path: crPathPerson, Summary: "Read a person's call recording settings", Tag: utag,
		Access: crAccessRead, Resp: callRecordingInfoJSON{}, Handler: org(permRead, s.crGetTarget(crPerson, "personId"))})
	reg(op{Method: "PUT", Path: crPathPerson, Summary: "Configure a person's call recording settings (R1, R2, R13 409, R24, R25, R28, R29; repeat interval 10..90 s)", Tag: utag,
		Access: crAccessLocation, Body: callRecordingPersonPutBody{}, Handler: org(permWrite, s.crPutTarget(crPerson, "personId"))})
	reg(op{Method: "GET", Path: crPathPersonEffect, Summary: "Read a person's effective recording settings: whether calls are recorded, why not (each reason names its rule), provider, plan, compliance, language, controls (support view)", Tag: utag,
		Access: crAccessRead, Resp: callRecordingEffectiveJSON{}, Handler: org(permRead, s.crEffective(crPerson, "personId"))})
	for _, path := range []string{crPathWorkspace, crPathWorkspaceOld} {
		hidden := path == crPathWorkspaceOld // §12 D7 legacy alias
		reg(op{Method: "GET", Path: path, Summary: "Read a workspace's call recording settings", Tag: utag, Hidden: hidden,
			Access: crAccessRead, Resp: callRecordingInfoJSON{}, Handler: org(permRead, s.crGetTarget(crWorkspace, "workspaceId"))})
		reg(op{Method: "PUT", Path: path, Summary: "Configure a workspace's call recording settings (workspace licences cannot record: enabling is refused, R1)", Tag: utag, Hidden: hidden,
			Access: crAccessLocation, Body: callRecordingInfoPutBody{}, Handler: org(permWrite, s.crPutTarget(crWorkspace, "workspaceId"))})
	}
	reg(op{Method: "GET", Path: crPathVirtualLine, Summary: "Read a virtual line's call recording settings (R31)", Tag: utag,
		Access: crAccessRead, Resp: callRecordingInfoJSON{}, Handler: org(permRead, s.crGetTarget(crLine, "virtualLineId"))})
	reg(op{Method: "PUT", Path: crPathVirtualLine, Summary: "Configure a virtual line's call recording settings (R2, R13 409, R24, R31)", Tag: utag,
		Access: crAccessLocation, Body: callRecordingInfoPutBody{}, Handler: org(permWrite, s.crPutTarget(crLine, "virtualLineId"))})
	reg(op{Method: "GET", Path: crPathLineEffective, Summary: "Read a virtual line's effective recording settings (support view)", Tag: utag,
		Access: crAccessRead, Resp: callRecordingEffectiveJSON{}, Handler: org(permRead, s.crEffective(crLine, "virtualLineId"))})

	// §9.6 the user's own settings.
	s.register(op{Method: "GET", Path: crPathMe, Summary: "Read my call recording settings", Tag: utag,
		Access: crAccessMe, Resp: callRecordingMeJSON{}, Handler: s.authed(s.crMe(false))})
	s.register(op{Method: "GET", Path: crPathMeSecondary, Summary: "Read the call recording settings of a virtual line assigned to me", Tag: utag,
		Access: crAccessMe, Resp: callRecordingMeJSON{}, Handler: s.authed(s.crMe(true))})
}
