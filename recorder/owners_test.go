package recorder

import (
	"slices"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/store/sqlite"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

// Ids of the directory fixture.
const (
	orgA       = "0b6f3a55-0000-4000-8000-00000000000a"
	orgB       = "0b6f3a55-0000-4000-8000-00000000000b"
	locHQ      = "1c000000-0000-4000-8000-000000000001" // built-in provider (the org's)
	locExt     = "1c000000-0000-4000-8000-000000000002" // an external provider
	personBob  = "2d000000-0000-4000-8000-000000000001" // go member, ExternalID bob@bw.example
	personAnn  = "2d000000-0000-4000-8000-000000000002" // team member
	personNew  = "2d000000-0000-4000-8000-000000000003" // not provisioned
	personRoom = "2d000000-0000-4000-8000-000000000004" // workspace
	personExt  = "2d000000-0000-4000-8000-000000000005" // at the external provider's location
	personB    = "2d000000-0000-4000-8000-0000000000b1" // org B, same extension as bob
	lineSales  = "3e000000-0000-4000-8000-000000000001"
	queueHelp  = "4f000000-0000-4000-8000-000000000001"
	huntGroup  = "4f000000-0000-4000-8000-000000000002"
	extVendor  = "5a000000-0000-4000-8000-000000000001"
)

// openDirectory opens a migrated SQLite store holding the fixture: org A
// with people, a virtual line and features, org B with a person who
// shares bob's extension.
func openDirectory(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.New(t)
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sqlitetest.Update(t, st, func(tx directory.Tx) error {
		puts := []func() error{
			func() error {
				return directory.Providers.Put(ctx, tx, &callrec.Provider{ID: callrec.BuiltInProviderID, Name: "callrec", BuiltIn: true, Plans: []string{"go", "team", "premier"}})
			},
			func() error {
				return directory.Providers.Put(ctx, tx, &callrec.Provider{ID: extVendor, Name: "Dubber", Plans: []string{"standard"}})
			},
		}
		for _, id := range []string{orgA, orgB} {
			org := &callrec.Org{ID: id, Name: "org " + id[len(id)-1:], Created: created, PartnerID: callrec.RootPartner, Region: "US", Language: "en_US", Recording: callrec.DefaultOrgRecording()}
			puts = append(puts, func() error { return directory.Orgs.Put(ctx, tx, org) })
		}
		puts = append(puts,
			func() error {
				return directory.Locations.Put(ctx, tx, &callrec.Location{ID: locHQ, OrgID: orgA, Name: "HQ", TimeZone: "Europe/Copenhagen"})
			},
			func() error {
				return directory.Locations.Put(ctx, tx, &callrec.Location{ID: locExt, OrgID: orgA, Name: "Branch", Recording: callrec.LocationRecording{VendorID: extVendor}})
			},
			func() error {
				return directory.People.Put(ctx, tx, &callrec.Person{ID: personBob, OrgID: orgA, LocationID: locHQ, Emails: []string{"bob@a.example"},
					License: callrec.LicenseProfessional, Extension: "1001", PhoneNumbers: []string{"+4535351001"}, ExternalID: "bob@bw.example"})
			},
			func() error {
				return directory.People.Put(ctx, tx, &callrec.Person{ID: personAnn, OrgID: orgA, LocationID: locHQ, Emails: []string{"ann@a.example", "a@a.example"},
					License: callrec.LicenseProfessional, Extension: "1002", ExternalID: "ann@bw.example"})
			},
			func() error {
				return directory.People.Put(ctx, tx, &callrec.Person{ID: personNew, OrgID: orgA, LocationID: locHQ, Emails: []string{"new@a.example"},
					License: callrec.LicenseBasic, Extension: "1003"})
			},
			func() error {
				return directory.People.Put(ctx, tx, &callrec.Person{ID: personRoom, OrgID: orgA, LocationID: locHQ, Emails: []string{"room@a.example"},
					License: callrec.LicenseWorkspace, Extension: "1004"})
			},
			func() error {
				return directory.People.Put(ctx, tx, &callrec.Person{ID: personExt, OrgID: orgA, LocationID: locExt, Emails: []string{"ext@a.example"},
					License: callrec.LicenseProfessional, Extension: "2001"})
			},
			func() error {
				return directory.People.Put(ctx, tx, &callrec.Person{ID: personB, OrgID: orgB, Emails: []string{"bob@b.example"},
					License: callrec.LicenseProfessional, Extension: "1001"})
			},
			func() error {
				return directory.VirtualLines.Put(ctx, tx, &callrec.VirtualLine{ID: lineSales, OrgID: orgA, LocationID: locHQ, Extension: "1500",
					PhoneNumber: "+4535351500", ExternalID: "sales@bw.example"})
			},
			func() error {
				return directory.Features.Put(ctx, tx, &callrec.Feature{ID: queueHelp, OrgID: orgA, LocationID: locHQ, Kind: callrec.FeatureCallQueue,
					Name: "Helpdesk", Extension: "1600", PhoneNumber: "+4535351600"})
			},
			func() error {
				return directory.Features.Put(ctx, tx, &callrec.Feature{ID: huntGroup, OrgID: orgA, LocationID: locExt, Kind: callrec.FeatureHuntGroup,
					Name: "Sales hunt", Extension: "1700"})
			},
			func() error {
				return directory.Accounts.Put(ctx, tx, &callrec.ProviderAccount{OrgID: orgA, ProviderID: callrec.BuiltInProviderID, Members: []callrec.AccountMember{
					{ID: personBob, Type: "PEOPLE", Plan: callrec.PlanGo},
					{ID: personAnn, Type: "PEOPLE", Plan: callrec.PlanTeam},
					{ID: lineSales, Type: "VIRTUAL_LINE", Plan: callrec.PlanPremier},
				}})
			},
		)
		for _, put := range puts {
			if err := put(); err != nil {
				return err
			}
		}
		return nil
	})
	return st
}

// recordedMeta is metadata whose recorded participant has aors.
func recordedMeta(vendor callrec.VendorData, aors ...string) *callrec.Metadata {
	m := &callrec.Metadata{Vendor: vendor, Participants: []callrec.Participant{
		{ID: "p-other", AOR: "sip:+14155550100@carrier.example"},
		{ID: "p-rec", Recorded: true},
	}}
	if len(aors) > 0 {
		m.Participants[1].AOR, m.Participants[1].AORs = aors[0], aors
	}
	return m
}

// TestOwnerMatching covers interfaces.md "Ownership" with the metadata
// each kind of SRC sends.
func TestOwnerMatching(t *testing.T) {
	d := NewDirectory(openDirectory(t))
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	month := start.Add(callrec.FreeRetention)
	bw := func(userID string) callrec.VendorData {
		return callrec.VendorData{Vendor: "broadworks", UserID: userID, RecordedParty: userID}
	}
	cases := []struct {
		name string
		org  string
		meta *callrec.Metadata
		want Owner
	}{
		{"BroadWorks userID matches a person's external id (R30)", orgA, recordedMeta(bw("bob@bw.example"), "sip:+4599999999@bw.example"),
			Owner{callrec.OwnerUser, personBob, "bob@a.example", locHQ, month}},
		{"external ids compare without case", orgA, recordedMeta(bw("Bob@BW.example")),
			Owner{callrec.OwnerUser, personBob, "bob@a.example", locHQ, month}},
		{"BroadWorks userID of a virtual line", orgA, recordedMeta(bw("sales@bw.example")),
			Owner{callrec.OwnerVirtualLine, lineSales, "", locHQ, time.Time{}}},
		{"callrec's own SRC names the person by id", orgA, recordedMeta(callrec.VendorData{Vendor: "callrec", UserID: personAnn, RecordedParty: "p-rec"}),
			Owner{callrec.OwnerUser, personAnn, "ann@a.example", locHQ, time.Time{}}},
		{"RFC 7865 sip AOR user part is an extension", orgA, recordedMeta(callrec.VendorData{}, "sip:1001@pbx.a.example;user=phone"),
			Owner{callrec.OwnerUser, personBob, "bob@a.example", locHQ, month}},
		{"RFC 7865 tel AOR with visual separators", orgA, recordedMeta(callrec.VendorData{}, "tel:+45-3535-1001;phone-context=+45"),
			Owner{callrec.OwnerUser, personBob, "bob@a.example", locHQ, month}},
		{"the second AOR of the recorded participant", orgA, recordedMeta(callrec.VendorData{}, "sip:anonymous@pbx.a.example", "sip:1002@pbx.a.example"),
			Owner{callrec.OwnerUser, personAnn, "ann@a.example", locHQ, time.Time{}}},
		{"the same extension in another org is that org's person", orgB, recordedMeta(callrec.VendorData{}, "sip:1001@pbx.b.example"),
			Owner{callrec.OwnerUser, personB, "bob@b.example", "", month}},
		{"an unknown userID falls through to the numbers", orgA, recordedMeta(bw("ghost@bw.example"), "sip:1003@bw.example"),
			Owner{callrec.OwnerUser, personNew, "new@a.example", locHQ, month}},
		{"a person not provisioned is on go (R3, R7)", orgA, recordedMeta(callrec.VendorData{}, "sip:1003@pbx.a.example"),
			Owner{callrec.OwnerUser, personNew, "new@a.example", locHQ, month}},
		{"a workspace owns as place", orgA, recordedMeta(callrec.VendorData{}, "sip:1004@pbx.a.example"),
			Owner{callrec.OwnerPlace, personRoom, "room@a.example", locHQ, month}},
		{"an external provider's location keeps without limit (R10)", orgA, recordedMeta(callrec.VendorData{}, "sip:2001@pbx.a.example"),
			Owner{callrec.OwnerUser, personExt, "ext@a.example", locExt, time.Time{}}},
		{"a call queue number owns as callQueue", orgA, recordedMeta(callrec.VendorData{}, "tel:+4535351600"),
			Owner{callrec.OwnerCallQueue, queueHelp, "", locHQ, time.Time{}}},
		{"a hunt group leaves the recording to the org at its location", orgA, recordedMeta(callrec.VendorData{}, "sip:1700@pbx.a.example"),
			Owner{callrec.OwnerOrg, orgA, "", locExt, time.Time{}}},
		{"a person after the hunt group wins", orgA, recordedMeta(callrec.VendorData{Direction: "terminating", CalledNumber: "1002"}, "sip:1700@pbx.a.example"),
			Owner{callrec.OwnerUser, personAnn, "ann@a.example", locHQ, time.Time{}}},
		{"calling number when the recorded party originated", orgA,
			&callrec.Metadata{Vendor: callrec.VendorData{Direction: "originating", CallingNumber: "+45 35 35 15 00", CalledNumber: "1001"}},
			Owner{callrec.OwnerVirtualLine, lineSales, "", locHQ, time.Time{}}},
		{"the vendor's recorded party as an AOR", orgA,
			&callrec.Metadata{Vendor: callrec.VendorData{Vendor: "metaswitch", RecordedParty: "sip:1002@ms.example"}},
			Owner{callrec.OwnerUser, personAnn, "ann@a.example", locHQ, time.Time{}}},
		{"the other party's number does not match", orgA, recordedMeta(callrec.VendorData{}, "sip:+14155550100@carrier.example"),
			Owner{callrec.OwnerOrg, orgA, "", "", time.Time{}}},
		{"a person of another org is not matched by id", orgB, recordedMeta(callrec.VendorData{Vendor: "callrec", UserID: personBob}),
			Owner{callrec.OwnerOrg, orgB, "", "", time.Time{}}},
		{"no metadata", orgA, &callrec.Metadata{}, Owner{callrec.OwnerOrg, orgA, "", "", time.Time{}}},
		{"nil metadata", orgA, nil, Owner{callrec.OwnerOrg, orgA, "", "", time.Time{}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := d.Owner(t.Context(), c.org, start, c.meta)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("owner = %+v\n  want %+v", got, c.want)
			}
		})
	}
	t.Run("an unknown org is an error and the org owns", func(t *testing.T) {
		got, err := d.Owner(t.Context(), "9f000000-0000-4000-8000-000000000000", start, recordedMeta(callrec.VendorData{}, "sip:1001@x"))
		if err == nil || got.Type != callrec.OwnerOrg {
			t.Errorf("owner = %+v, %v; want org and an error", got, err)
		}
	})
}

func TestOwnerNumbersOrder(t *testing.T) {
	m := &callrec.Metadata{
		Participants: []callrec.Participant{{ID: "p1", AOR: "sip:9@x"}, {ID: "p2", Recorded: true, AOR: "sip:1001@x", AORs: []string{"sip:1001@x", "tel:+451001"}}},
		Vendor:       callrec.VendorData{RecordedParty: "p2", Direction: "terminating", CallingNumber: "9", CalledNumber: "<sip:2002@x>", UserID: "3003@bw"},
	}
	got := ownerNumbers(m)
	want := []string{"1001", "+451001", "2002", "3003"}
	if !slices.Equal(got, want) {
		t.Errorf("ownerNumbers = %q, want %q", got, want)
	}
}

// The directory over the SQLite store gives the recorder both interfaces.
var (
	_ Sources = (*Directory)(nil)
	_ Owners  = (*Directory)(nil)
	_ Store   = (*sqlite.Store)(nil)
)
