package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/events"
)

// The outcomes of the role matrix.
const (
	allowed = "allowed" // past authorisation: any status but 401, 403 and a 404 for the org or object
	denied  = "403"
	hidden  = "404" // another org's data: the caller does not learn it exists
)

// matrixRoles are the callers of the matrix, in column order. The
// partner manages org A; adminB is a full admin of org B, which the same
// partner manages, and acts on org A with orgId.
var matrixRoles = []struct{ name, token string }{
	{"partner", crTokPartner},
	{"fullAdmin", crTokAdmin},
	{"readOnlyAdmin", crTokReadOnly},
	{"locationAdmin", crTokLocAdmin}, // of the branch; the matrix's objects are at HQ
	{"user", crTokAlice},
	{"complianceOfficer", crTokOfficer},
	{"otherOrgAdmin", crTokAdminB},
}

// row gives the expected outcome per role (same order as matrixRoles).
type row [7]string

var (
	rowRead      = row{allowed, allowed, allowed, allowed, denied, denied, hidden}
	rowWrite     = row{allowed, allowed, denied, denied, denied, denied, hidden}
	rowPartner   = row{allowed, denied, denied, denied, denied, denied, hidden}
	rowAdminRead = row{allowed, allowed, allowed, denied, denied, allowed, hidden} // audit: no location admins
	// rowLocationInBody: as rowWrite, but a location admin may create in its own locations.
	rowLocationInBody = row{allowed, allowed, denied, allowed, denied, denied, hidden}
)

// matrixExceptions are the operations whose rights differ from the
// family default (GET: rowRead, others: rowWrite), with the reason.
var matrixExceptions = map[string]row{
	// Organizations: everybody sees their own; partners create and delete.
	"GET /v1/organizations":                  {allowed, allowed, allowed, allowed, allowed, allowed, allowed},
	"POST /v1/organizations":                 {allowed, denied, denied, denied, denied, denied, denied},
	"GET /v1/organizations/{orgId}":          {allowed, allowed, allowed, allowed, allowed, allowed, hidden},
	"DELETE /v1/organizations/{orgId}":       rowPartner,
	"PUT /v1/organizations/{orgId}":          rowPartner, // renaming or moving an org is the partner's
	"PUT /v1/telephony/config/callRecording": rowPartner, // R2: the partner entitles the org
	// Tokens: partner and full admins.
	"GET /v1/tokens": {allowed, allowed, allowed, denied, denied, denied, hidden},
	// Creations whose location is in the body: a location admin passes to
	// the body checks, which refuse a location not its own (directory tests).
	"POST /v1/people":                              rowLocationInBody,
	"POST /v1/telephony/config/virtualLines":       rowLocationInBody,
	"POST /v1/telephony/config/premisePstn/trunks": rowLocationInBody,
	// Terms may be accepted by location admins too (§4.2).
	"PUT /v1/telephony/config/callRecording/vendors/{vendorId}/termsOfService":            {allowed, allowed, denied, allowed, denied, denied, hidden},
	"GET /v1/telephony/config/callRecording/vendors/{vendorId}/termsOfService/acceptance": {allowed, allowed, allowed, allowed, denied, allowed, hidden},
	// Providers belong to no org: any admin reads them, partners write.
	"GET /v1/telephony/config/callRecording/providers":                    {allowed, allowed, allowed, allowed, denied, denied, allowed},
	"GET /v1/telephony/config/callRecording/providers/{providerId}":       {allowed, allowed, allowed, allowed, denied, denied, allowed},
	"POST /v1/telephony/config/callRecording/providers":                   {allowed, denied, denied, denied, denied, denied, denied},
	"PUT /v1/telephony/config/callRecording/providers/{providerId}":       {allowed, denied, denied, denied, denied, denied, denied},
	"DELETE /v1/telephony/config/callRecording/providers/{providerId}":    {allowed, denied, denied, denied, denied, denied, denied},
	"GET /v1/telephony/config/callRecording/providers/{providerId}/users": {allowed, allowed, denied, denied, denied, denied, hidden},
	// R8: plans are changed by partner admins and provider admins only.
	"PUT /v1/telephony/config/callRecording/providerAccount/members/{memberId}": rowPartner,
	// The user's own view.
	"GET /v1/telephony/config/people/me/settings/callRecording":                              {hidden, hidden, hidden, hidden, allowed, hidden, hidden},
	"GET /v1/telephony/config/people/me/settings/secondaryLines/{lineOwnerId}/callRecording": {hidden, hidden, hidden, hidden, allowed, hidden, hidden},
	"GET /v1/auditEvents": rowAdminRead,
	// Webhooks (R34): every role but compliance officers has its own; a
	// user's sees only the user's calls. The matrix's webhook is the full
	// admin's, for the org.
	"GET /v1/webhooks":                {allowed, allowed, allowed, allowed, allowed, denied, hidden},
	"POST /v1/webhooks":               {allowed, allowed, allowed, allowed, allowed, denied, hidden},
	"GET /v1/webhooks/{webhookId}":    {allowed, allowed, allowed, allowed, hidden, denied, hidden},
	"PUT /v1/webhooks/{webhookId}":    {allowed, allowed, denied, denied, hidden, denied, hidden},
	"DELETE /v1/webhooks/{webhookId}": {allowed, allowed, denied, denied, hidden, denied, hidden},
	// Call controls (R25, R35): a person its own calls; full, read-only
	// and partner admins list the org's; full and partner admins control
	// any. The matrix's call is Alice's (calls_test.go's fixture).
	"GET /v1/telephony/calls":                  {allowed, allowed, allowed, denied, allowed, denied, hidden},
	"GET /v1/telephony/calls/{callId}":         {allowed, allowed, allowed, denied, allowed, denied, hidden},
	"POST /v1/telephony/calls/startRecording":  {allowed, allowed, denied, denied, allowed, denied, hidden},
	"POST /v1/telephony/calls/stopRecording":   {allowed, allowed, denied, denied, allowed, denied, hidden},
	"POST /v1/telephony/calls/pauseRecording":  {allowed, allowed, denied, denied, allowed, denied, hidden},
	"POST /v1/telephony/calls/resumeRecording": {allowed, allowed, denied, denied, allowed, denied, hidden},
	// Voice messages are the token's person's own (issue 5, R26); the
	// matrix's message is Alice's. Voicemail settings: admins, and the
	// person itself.
	"GET " + vmPath:                                rowMine,
	"GET " + vmPath + "/summary":                   rowMine,
	"DELETE " + vmPath + "/{messageId}":            rowMine,
	"GET " + vmPath + "/{messageId}/audio":         rowMine,
	"POST " + vmPath + "/markAsRead":               rowMine,
	"POST " + vmPath + "/markAsUnread":             rowMine,
	"GET /v1/people/{personId}/features/voicemail": {allowed, allowed, allowed, allowed, allowed, denied, hidden},
	"PUT /v1/people/{personId}/features/voicemail": {allowed, allowed, denied, denied, allowed, denied, hidden},
}

// rowMine: only the token's own person (a user) reaches the object.
var rowMine = row{hidden, hidden, hidden, hidden, allowed, hidden, hidden}

// TestRoleMatrix shows every role against every operation of the control
// plane (issue 4 point 1): allowed, 403, or 404 for another org's data.
// Each write a role may do runs on a fresh fixture, so one role's change
// cannot decide another's outcome.
func TestRoleMatrix(t *testing.T) {
	base := newCRFixture(t)
	ops := base.h.(*server).ops
	wild := regexp.MustCompile(`\{([^}]+)\}`)
	for _, o := range ops {
		if o.Public || o.Hidden || strings.Contains(o.Path, "convergedRecordings") {
			continue // recordings follow R3/R4 per recording and plan: TestR3_R4_RecordingAccess, TestR3_R4_ListsByRole
		}
		if o.Path == "/v1/telephony/calls/events" {
			continue // a stream that stays open: its roles are tested over real HTTP in webhooks_test.go
		}
		key := o.Method + " " + o.Path
		want, ok := matrixExceptions[key]
		if !ok {
			want = rowWrite
			if o.Method == "GET" {
				want = rowRead
			}
		}
		t.Run(key, func(t *testing.T) {
			for i, role := range matrixRoles {
				f := base
				if o.Method != "GET" && want[i] == allowed {
					f = newCRFixture(t) // a refused write changes nothing (else its own cell fails)
				}
				ids := matrixObjects(f)
				path := wild.ReplaceAllStringFunc(o.Path, func(m string) string {
					id, ok := ids[strings.Trim(m, "{}")]
					if !ok {
						t.Fatalf("no object for %s", m)
					}
					return id
				})
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				if o.Method == "GET" || !strings.Contains(o.Path, "/organizations") {
					path += sep + "orgId=" + webexID(idOrg, f.orgA.ID)
				}
				w := f.do(role.token, o.Method, path, "{}")
				got := allowed
				switch {
				case w.Code == http.StatusForbidden:
					got = denied
				case w.Code == http.StatusNotFound:
					got = hidden
				case w.Code == http.StatusUnauthorized || w.Code >= 500:
					got = fmt.Sprintf("status %d", w.Code)
				}
				if got != want[i] {
					t.Errorf("%s: %s %s = %d %s; want %s", role.name, o.Method, path, w.Code, strings.TrimSpace(w.Body.String()), want[i])
				}
			}
		})
	}
}

// matrixObjects creates (once per fixture) an object of org A for every
// path parameter and returns their ids as the API spells them.
func matrixObjects(f *crFixture) map[string]string {
	if f.matrix != nil {
		return f.matrix
	}
	ctx := f.t.Context()
	feature := func(kind string, ext string) callrec.Feature {
		return callrec.Feature{ID: uuid.NewString(), OrgID: f.orgA.ID, LocationID: f.hq.ID, Kind: kind, Name: kind, Extension: ext, Created: crNow}
	}
	aa, q, hg := feature(callrec.FeatureAutoAttendant, "3001"), feature(callrec.FeatureCallQueue, "3002"), feature(callrec.FeatureHuntGroup, "3003")
	trunk := callrec.Trunk{ID: uuid.NewString(), OrgID: f.orgA.ID, LocationID: f.hq.ID, Name: "PSTN", Address: "192.0.2.10", Port: 5060, Transport: "udp", Created: crNow}
	src := callrec.SIPRECSource{ID: uuid.NewString(), OrgID: f.orgA.ID, Name: "SBC", Networks: []string{"192.0.2.0/28"}, Created: crNow}
	job := callrec.Job{ID: uuid.NewString(), OrgID: f.orgA.ID, VendorID: callrec.BuiltInProviderID, Status: "COMPLETED", Created: crNow, Finished: crNow}
	acct := callrec.ProviderAccount{OrgID: f.orgA.ID, ProviderID: callrec.BuiltInProviderID, Created: crNow, Admins: []string{"keeper@acme.example"},
		Members: []callrec.AccountMember{{ID: f.alice.ID, Type: "PEOPLE", Plan: callrec.PlanGo, PlanSince: crNow, Added: crNow}}}
	hook := events.Webhook{ID: uuid.NewString(), OrgID: f.orgA.ID, Name: "org hook", TargetURL: "http://127.0.0.1:9/hook",
		Resource: events.ResourceTelephonyCalls, Event: "all", Status: events.StatusActive, OwnedBy: events.OwnedByOrg,
		Actor: "admin@acme.example", CreatorTokenRole: callrec.RoleFullAdmin, Created: crNow}
	ann := callrec.AnnouncementFile{ID: uuid.NewString(), OrgID: f.orgA.ID, LocationID: f.hq.ID, Name: "HQ notice", BlobKey: "announcements/matrix.wav", Created: crNow}
	msg := callrec.VoiceMessage{ID: uuid.NewString(), OrgID: f.orgA.ID, PersonID: f.alice.ID, CallerNumber: "+15551230000", Created: crNow,
		Duration: time.Second, BlobKey: "voicemail/matrix.wav"}
	if _, err := f.h.(*server).blobs.Put(ctx, msg.BlobKey, strings.NewReader("RIFF")); err != nil {
		f.t.Fatal(err)
	}
	f.update(func(tx directory.Tx) error {
		if err := directory.AnnouncementFiles.Put(ctx, tx, &ann); err != nil {
			return err
		}
		if err := directory.VoiceMessages.Put(ctx, tx, &msg); err != nil {
			return err
		}
		for _, ft := range []*callrec.Feature{&aa, &q, &hg} {
			if err := directory.Features.Put(ctx, tx, ft); err != nil {
				return err
			}
		}
		if err := directory.Trunks.Put(ctx, tx, &trunk); err != nil {
			return err
		}
		if err := directory.Sources.Put(ctx, tx, &src); err != nil {
			return err
		}
		if err := directory.Jobs.Put(ctx, tx, &job); err != nil {
			return err
		}
		if err := directory.Accounts.Put(ctx, tx, &acct); err != nil {
			return err
		}
		return events.Webhooks.Put(ctx, tx, &hook)
	})
	spare := callrec.Token{Role: callrec.RoleReadOnlyAdmin, OrgID: f.orgA.ID, Hash: hashToken("spare-" + uuid.NewString()), Name: "spare", Email: "spare@acme.example"}
	if err := f.st.CreateToken(ctx, &spare); err != nil {
		f.t.Fatal(err)
	}
	withCalls(f, fixtureCalls(f))
	f.matrix = map[string]string{
		"callId":          "call-1@10.0.0.5",
		"orgId":           webexID(idOrg, f.orgA.ID),
		"locationId":      webexID(idLocation, f.hq.ID),
		"personId":        webexID(idPerson, f.alice.ID),
		"workspaceId":     webexID(idPerson, f.ws.ID),
		"virtualLineId":   webexID(idVirtualLine, f.line.ID),
		"lineOwnerId":     webexID(idVirtualLine, f.line.ID),
		"autoAttendantId": webexID(idAutoAttend, aa.ID),
		"queueId":         webexID(idCallQueue, q.ID),
		"huntGroupId":     webexID(idHuntGroup, hg.ID),
		"trunkId":         webexID(idTrunk, trunk.ID),
		"sourceId":        webexID(idSource, src.ID),
		"jobId":           webexID(idJob, job.ID),
		"tokenId":         spare.ID,
		"providerId":      webexID(idVendor, f.external.ID),
		"vendorId":        webexID(idVendor, callrec.BuiltInProviderID),
		"memberId":        webexID(idPerson, f.alice.ID),
		"email":           "keeper@acme.example",
		"webhookId":       webexID(events.IDTypeWebhook, hook.ID),
		"announcementId":  webexID(idAnnouncement, ann.ID),
		"messageId":       webexID(idVoiceMessage, msg.ID),
	}
	return f.matrix
}
