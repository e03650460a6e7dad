package api

import (
	"net/http"
	"testing"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
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
