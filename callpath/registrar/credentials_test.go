package registrar

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/sipdigest"
	"github.com/callrec/callrec/store/sqlite/sqlitetest"
)

func TestDirectoryCredentials(t *testing.T) {
	st := sqlitetest.New(t)
	org := sqlitetest.EntitledOrg(t, st, "Acme", "")
	m, s := sipdigest.HA1("alice.desk", sipdigest.DefaultRealm, "pw")
	alice := callrec.Person{ID: "p-alice", OrgID: org.ID, Emails: []string{"alice@acme.example"}, FirstName: "Alice",
		SIP: &callrec.SIPCredentials{Username: "alice.desk", Realm: sipdigest.DefaultRealm, HA1MD5: m, HA1SHA256: s}, Created: t0}
	noSIP := callrec.Person{ID: "p-bob", OrgID: org.ID, Emails: []string{"bob@acme.example"}, Created: t0}
	source := callrec.SIPRECSource{ID: "src-1", OrgID: org.ID, Name: "sbc",
		SIP: &callrec.SIPCredentials{Username: "sbc-1", Realm: sipdigest.DefaultRealm, HA1MD5: m, HA1SHA256: s}}
	sqlitetest.Update(t, st, func(tx directory.Tx) error {
		return errors.Join(
			directory.People.Put(t.Context(), tx, &alice),
			directory.People.Put(t.Context(), tx, &noSIP),
			directory.Sources.Put(t.Context(), tx, &source))
	})
	creds := NewDirectoryCredentials(st)
	t.Run("a person by SIP user name", func(t *testing.T) {
		acc, err := creds.Lookup(t.Context(), "alice.desk")
		if err != nil {
			t.Fatal(err)
		}
		want := Account{PersonID: "p-alice", OrgID: org.ID, Realm: "callrec", HA1MD5: m, HA1SHA256: s}
		if acc != want {
			t.Errorf("Lookup = %+v, want %+v", acc, want)
		}
	})
	for _, user := range []string{"nobody", "sbc-1", "", "ALICE.DESK"} {
		t.Run(fmt.Sprintf("%q is unknown", user), func(t *testing.T) {
			if _, err := creds.Lookup(t.Context(), user); !isUnknown(err) {
				t.Errorf("Lookup(%q) = %v, want a not-found error", user, err)
			}
		})
	}
	t.Run("a registrar over the directory", func(t *testing.T) {
		c := newClock()
		reg, err := New(Config{Credentials: creds, Now: c.now})
		if err != nil {
			t.Fatal(err)
		}
		req := parseReq(t, "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1\r\n"+
			"From: <sip:alice.desk@127.0.0.1>;tag=1\r\nTo: <sip:alice.desk@127.0.0.1>\r\nCall-ID: dir-1\r\nCSeq: 1 REGISTER\r\n"+
			"Contact: <sip:alice.desk@127.0.0.1:5099>\r\nContent-Length: 0\r\n\r\n")
		res := reg.handle(req)
		mustStatus(t, res, 401)
		p := &phone{t: t, user: "alice.desk", password: "pw", server: "127.0.0.1"}
		p.authorize(res, "SHA-256")
		req.AppendHeader(sip.NewHeader("Authorization", p.auth))
		mustStatus(t, reg.handle(req), 200)
		if got := reg.Location().Contacts("p-alice"); len(got) != 1 || got[0].OrgID != org.ID || got[0].Expires != t0.Add(time.Hour) {
			t.Errorf("contacts = %+v", got)
		}
	})
}
