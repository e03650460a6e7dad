package policy

import (
	"slices"
	"strings"
	"time"

	"github.com/callrec/callrec"
)

// paid reports whether plan is a paid plan of the built-in provider (R4).
func paid(plan string) bool { return plan == callrec.PlanTeam || plan == callrec.PlanPremier }

// RecordingAccess returns what viewer v may do with rec, whose owner is on
// plan (R3, R4; "" when the owner has none). In order:
//   - a recording still being made (StatusRecording): nothing, for anyone;
//   - the bootstrap partner admin, and the org's compliance officers:
//     everything; a purged recording only listed and read (its audio is
//     gone);
//   - purged recordings, and recordings of another org: nothing for anyone
//     else;
//   - the owner (PersonID == OwnerID), on any plan: list, read, download,
//     delete (R3);
//   - listeners of the owning virtual line's team (R32): list, read,
//     download; listening gives no right to delete the line's recordings;
//   - provider admins (R11) on a paid plan: list, read, download, delete
//     (R4); on go only the owner sees a recording (R3);
//   - the org's full and read-only admins, and partner admins acting on the
//     org: list and read on a paid plan, no download (Webex §10.5); full
//     and partner admins may also reassign. Recordings owned by no person
//     (ownerType org: unmatched; callQueue) have no plan and are not
//     private to anyone: the same admin rights apply to them.
//
// Rights add up: an admin who owns a recording has both. Partner scoping
// (the partner manages the org) is checked by the caller.
func RecordingAccess(v Viewer, rec *callrec.Recording, plan string) Access {
	if rec == nil || rec.Status == callrec.StatusRecording {
		return Access{}
	}
	sameOrg := v.OrgID != "" && v.OrgID == rec.OrgID
	if v.Bootstrap || (v.Role == callrec.RoleComplianceOfficer && sameOrg) {
		if rec.Status == callrec.StatusPurged {
			return Access{List: true, Read: true}
		}
		return Access{List: true, Read: true, Download: true, Delete: true, Reassign: true}
	}
	if rec.Status == callrec.StatusPurged || !sameOrg {
		return Access{}
	}
	var a Access
	grant := func(delete bool) {
		a.List, a.Read, a.Download = true, true, true
		a.Delete = a.Delete || delete
	}
	personless := rec.OwnerType == callrec.OwnerOrg || rec.OwnerType == callrec.OwnerCallQueue
	if !personless && v.PersonID != "" && rec.OwnerID == v.PersonID {
		grant(true)
	}
	if rec.OwnerType == callrec.OwnerVirtualLine && slices.Contains(v.Listens, rec.OwnerID) {
		grant(false)
	}
	if v.ProviderAdmin && paid(plan) {
		grant(true)
	}
	if paid(plan) || personless {
		switch v.Role {
		case callrec.RoleFullAdmin, callrec.RolePartnerAdmin:
			a.List, a.Read, a.Reassign = true, true, true
		case callrec.RoleReadOnlyAdmin:
			a.List, a.Read = true, true
		}
	}
	return a
}

// Expiry returns when a recording that started at start is deleted by
// retention (R3, R4): start + 30 days on the free plan (go); the zero time
// (kept without limit) on the paid plans (team, premier), on any plan of
// an external provider (its recordings are kept at the provider, R10,
// R33), and for "" (no plan). Deleting audio cannot be undone, so policy
// expires a recording only when it knows the owner is on go: a caller that
// knows the owner is a built-in provider user not yet provisioned passes
// callrec.PlanGo, the plan R7 provisions them with.
func Expiry(plan string, start time.Time) time.Time {
	if plan == callrec.PlanGo {
		return start.Add(callrec.FreeRetention)
	}
	return time.Time{}
}

// Downgrade returns the new expiry of a recording that started at start
// when its owner moves from a paid plan to go at now (R9): 30 days from
// its start, as on go, except that a recording already older than that
// gets 30 days from now, so a downgrade never deletes at once. (An upgrade
// clears the expiry: Expiry of the paid plan.)
func Downgrade(start, now time.Time) time.Time {
	if e := start.Add(callrec.FreeRetention); e.After(now) {
		return e
	}
	return now.Add(callrec.FreeRetention)
}

// MayChangePlan reports whether v may upgrade or downgrade a member's plan
// (R8): partner admins (the bootstrap one included) and admins of the
// org's provider account (R11), whatever their role.
func MayChangePlan(v Viewer) bool {
	return v.Bootstrap || v.Role == callrec.RolePartnerAdmin || v.ProviderAdmin
}

// MayBecomeProviderAdmin reports whether the admin with email may become
// an admin of org orgID's built-in provider account when enabling a user
// (R11). accounts are the built-in provider accounts of every org (others
// are ignored). A partner admin may be admin in one customer's account
// only (R12): false when email is already admin of another org's account.
// Emails compare without case; an empty email is false.
func MayBecomeProviderAdmin(email string, partnerAdmin bool, orgID string, accounts []callrec.ProviderAccount) bool {
	email = strings.TrimSpace(email)
	if email == "" {
		return false
	}
	if !partnerAdmin {
		return true
	}
	for _, acc := range accounts {
		if acc.ProviderID != "" && acc.ProviderID != callrec.BuiltInProviderID {
			continue
		}
		if acc.OrgID == orgID {
			continue
		}
		for _, a := range acc.Admins {
			if strings.EqualFold(strings.TrimSpace(a), email) {
				return false
			}
		}
	}
	return true
}

// AutoProvisions reports whether callrec itself creates accounts and users
// at provider p: only for the built-in provider, people and virtual lines
// alike (R7, R32). External providers keep their accounts in step through
// the user sync API, whatever they declare (R10, R33).
func AutoProvisions(p *callrec.Provider) bool {
	return p != nil && p.BuiltIn
}

// SharedFields returns exactly what accepting a provider's terms shares
// about person p (R13): "timezone" (of the user's location, loc),
// "firstName", "lastName", "email", and for an external provider also
// "customerName". Every key is present even when its value is empty; a
// nil person shares nothing.
func SharedFields(p *callrec.Person, loc *callrec.Location, external bool, customer string) map[string]string {
	if p == nil {
		return map[string]string{}
	}
	m := sharedCommon(p.FirstName, p.LastName, loc, external, customer)
	m["email"] = p.Email()
	return m
}

// SharedLineFields is SharedFields for a virtual line (R13, R31): as for a
// person but without "email", which a virtual line does not have.
func SharedLineFields(l *callrec.VirtualLine, loc *callrec.Location, external bool, customer string) map[string]string {
	if l == nil {
		return map[string]string{}
	}
	return sharedCommon(l.FirstName, l.LastName, loc, external, customer)
}

func sharedCommon(first, last string, loc *callrec.Location, external bool, customer string) map[string]string {
	m := map[string]string{"firstName": first, "lastName": last, "timezone": ""}
	if loc != nil {
		m["timezone"] = loc.TimeZone
	}
	if external {
		m["customerName"] = customer
	}
	return m
}
