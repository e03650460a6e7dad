package api

import (
	"strings"

	"github.com/google/uuid"

	"github.com/callrec/callrec/webexid"
)

// Webex id types (reference §1.4) of the objects callrec hands out.
const (
	idOrg          = "ORGANIZATION"
	idLocation     = "LOCATION"
	idPerson       = "PEOPLE"
	idVirtualLine  = "VIRTUAL_LINE"
	idAutoAttend   = "AUTO_ATTENDANT"
	idCallQueue    = "CALL_QUEUE"
	idHuntGroup    = "HUNT_GROUP"
	idTrunk        = "TRUNK"
	idVendor       = "RECORDING_VENDOR"
	idJob          = "JOB_ID"
	idAnnouncement = "ANNOUNCEMENT"
	idToken        = "TOKEN"
	idSource       = "SIPREC_SOURCE"
	idWebhook      = "WEBHOOK"
)

// webexID encodes an internal id (a UUID) the way Webex does.
func webexID(typ, id string) string { return webexid.Encode(typ, id) }

// parseID decodes an id a client sent: a Webex id of type typ (padded or
// not, any region), or a bare UUID. ok is false when the id is neither or
// names another type; callers answer 404 for such ids (they name nothing
// the caller can see).
func parseID(typ, s string) (id string, ok bool) {
	if _, err := uuid.Parse(s); err == nil {
		return strings.ToLower(s), true
	}
	gotTyp, id, ok := decodeWebexID(s)
	if !ok || gotTyp != typ {
		return "", false
	}
	return id, true
}

// decodeWebexID splits a Webex id into its type and UUID.
func decodeWebexID(s string) (typ, id string, ok bool) { return webexid.Decode(s) }

// internalID returns the UUID inside a Webex id of any type, or s as it
// is (a bare UUID, or an id that is no Webex id).
func internalID(s string) string {
	if _, id, ok := decodeWebexID(s); ok {
		return id
	}
	return s
}
