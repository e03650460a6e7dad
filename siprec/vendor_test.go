package siprec

import "testing"

// Our own SRC marks the recorded participant with a callrec extension.
func TestVendorCallrecRecordedExtension(t *testing.T) {
	doc := `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><datamode>complete</datamode>
<participant participant_id="pA"><nameID aor="sip:a@example.com"/></participant>
<participant participant_id="pB"><nameID aor="sip:b@example.com"/>
<callrec:recorded xmlns:callrec="urn:callrec:params:xml:ns:src:1" userId="bob-7"/></participant>
<session session_id="s1"><callrec:call xmlns:callrec="urn:callrec:params:xml:ns:src:1" direction="inbound" callId="a84b4c76e66710@pc33"/></session>
</recording>`
	m, err := ParseMetadata([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	v := m.Vendor()
	if v.RecordedParty != "pB" || v.UserID != "bob-7" || v.Vendor != VendorCallrec {
		t.Fatalf("vendor data %+v, want recorded party pB, user bob-7", v)
	}
	if v.CallID != "a84b4c76e66710@pc33" || v.Direction != "inbound" {
		t.Fatalf("vendor data %+v, want the call's Call-ID and direction inbound", v)
	}
}
