package api

import (
	"net/http"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

// TestDeletingAMemberEndsItsMembership: a deleted person or virtual line
// leaves the org's provider account (its plan goes with it), and the
// change is audited; the other members stay (R7, R32).
func TestDeletingAMemberEndsItsMembership(t *testing.T) {
	f := newCRFixture(t)
	ids := matrixObjects(f) // the built-in account has alice as a member on go
	f.update(func(tx directory.Tx) error {
		acc, err := directory.Accounts.Get(t.Context(), tx, f.orgA.ID, directory.PairID(f.orgA.ID, callrec.BuiltInProviderID))
		if err != nil {
			return err
		}
		acc.Members = append(acc.Members,
			callrec.AccountMember{ID: f.line.ID, Type: "VIRTUAL_LINE", Plan: callrec.PlanGo, PlanSince: crNow, Added: crNow},
			callrec.AccountMember{ID: f.bob.ID, Type: "PEOPLE", Plan: callrec.PlanTeam, PlanSince: crNow, Added: crNow})
		return directory.Accounts.Put(t.Context(), tx, acc)
	})
	orgQ := "?orgId=" + ids["orgId"]
	for _, path := range []string{"/v1/people/" + ids["personId"], "/v1/telephony/config/virtualLines/" + ids["virtualLineId"]} {
		if w := f.do(crTokAdmin, "DELETE", path+orgQ, ""); w.Code != http.StatusNoContent {
			t.Fatalf("DELETE %s = %d %s", path, w.Code, w.Body)
		}
	}
	acc := f.builtInAccount()
	if len(acc.Members) != 1 || acc.Members[0].ID != f.bob.ID || acc.Members[0].Plan != callrec.PlanTeam {
		t.Fatalf("members after deleting alice and the line = %+v, want only bob on team", acc.Members)
	}
	var entries []callrec.AuditEntry
	f.view(func(tx directory.Tx) error {
		var err error
		entries, err = tx.ListAudit(t.Context(), directory.AuditQuery{OrgID: f.orgA.ID, ObjectType: "providerAccount"})
		return err
	})
	if len(entries) != 2 || entries[0].Actor != "admin@acme.example" || entries[0].Before == nil || entries[0].After == nil {
		t.Fatalf("providerAccount audit entries = %+v, want two updates by the admin with before and after", entries)
	}
}

// TestR6_HostingRegionMoveKeepsProvidersOffered: an org cannot move to a
// region where a provider it or a location chose is not offered.
func TestR6_HostingRegionMoveKeepsProvidersOffered(t *testing.T) {
	f := newCRFixture(t)
	path := "/v1/organizations/" + webexID(idOrg, f.orgA.ID)
	// The built-in provider is offered everywhere: the move is fine.
	if w := f.do(crTokPartner, "PUT", path, `{"hostingRegion": "GB"}`); w.Code != http.StatusOK {
		t.Fatalf("move to GB with the built-in provider = %d %s", w.Code, w.Body)
	}
	if w := f.do(crTokPartner, "PUT", path, `{"hostingRegion": "US"}`); w.Code != http.StatusOK {
		t.Fatalf("move back to US = %d %s", w.Code, w.Body)
	}
	f.update(func(tx directory.Tx) error {
		l, err := directory.Locations.Get(t.Context(), tx, f.orgA.ID, f.branch.ID)
		if err != nil {
			return err
		}
		l.Recording.VendorID = f.external.ID // offered in the US only
		return directory.Locations.Put(t.Context(), tx, l)
	})
	w := f.do(crTokPartner, "PUT", path, `{"hostingRegion": "GB"}`)
	wantErrorMessage(t, w, http.StatusConflict, `hostingRegion: provider "Tapeworm", chosen for location "Branch", is not offered in region GB (R6); choose another vendor first`)
	if got := sqlitetest.Get(t, f.st, directory.Orgs, "", f.orgA.ID).Region; got != "US" {
		t.Fatalf("region after the refused move = %s, want US", got)
	}
}
