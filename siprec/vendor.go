package siprec

import (
	"strings"

	"github.com/callrec/callrec"
)

// Vendor names set in callrec.VendorData.Vendor.
const (
	VendorBroadWorks = "broadworks"
	VendorOracle     = "oracle"
	VendorAvaya      = "avaya"
	VendorCisco      = "cisco"
	VendorMetaswitch = "metaswitch"
	VendorSonus      = "sonus"
)

// Vendor maps the vendor extension data of m to callrec.VendorData. It
// knows (siprec-interop.md §7):
//
//   - BroadWorks / Webex Calling <broadWorksRecordingMetadata>:
//     serviceProviderID, groupID, userID (also the recorded party),
//     extTrackingID, callID, callType origCall ("originating") or termCall
//     ("terminating") with callingPartyNumber, calledPartyNumber and
//     dialedDigits, recordingType.
//   - Oracle / Acme and Avaya apkt: extension data: ucid (the vendor is
//     "avaya" when a UCID is present, else "oracle"; ";encoding=hex" is
//     dropped) and callingParty, which tells the caller's AOR
//     (CallingNumber) from the callee's (CalledNumber).
//   - Metaswitch <metaswitchRecordingMetadata>: callType, recordedParty,
//     dialedDigits.
//   - Sonus / Ribbon <callData>: gcid (in CallID), and the From and To URIs
//     as calling and called numbers.
//   - Cisco: any extension in a Cisco namespace or named cisco*; an element
//     whose name contains "guid" gives CiscoGUID.
//   - callrec's own SRC: the <recorded userId> mark in the recorded
//     participant, and the session's <call callId direction> (CallID and
//     Direction: the call plane's call).
//
// Missing pieces leave fields empty; unknown extensions are ignored.
func (m *Metadata) Vendor() callrec.VendorData {
	var v callrec.VendorData
	var trees []extTree
	for _, e := range m.Extensions {
		root, _, err := parseXML([]byte(e.XML))
		if err != nil {
			continue
		}
		trees = append(trees, extTree{parent: e.ParentID, root: root})
	}
	switch {
	case broadWorks(trees, &v):
	case metaswitch(trees, &v):
	case sonus(trees, &v):
	case acme(m, trees, &v):
	case cisco(trees, &v):
	}
	if v.RecordedParty == "" {
		callrecSRC(trees, &v)
	}
	if v.Vendor == VendorCallrec {
		callrecCall(trees, &v)
	}
	return v
}

// callrecCall reads the <callrec:call direction="..." callId="..."/>
// session extension of callrec's own SRC: the Call-ID of the call the
// B2BUA recorded (the id its REST call controls and events use) and the
// call's direction (inbound, outbound or internal).
func callrecCall(trees []extTree, v *callrec.VendorData) {
	for _, t := range trees {
		if t.root.name.Space != CallrecNamespace || !t.root.is("call") {
			continue
		}
		if v.CallID == "" {
			v.CallID = t.root.attr("callId")
		}
		if v.Direction == "" {
			v.Direction = t.root.attr("direction")
		}
		return
	}
}

// CallrecNamespace is the namespace of callrec's own SRC extension: a
// <recorded userId="..."/> element inside the recorded participant
// (interfaces.md: the recorded party is the one a vendor extension names,
// else the one callrec's own SRC marks).
const CallrecNamespace = "urn:callrec:params:xml:ns:src:1"

// VendorCallrec names callrec's own SRC in callrec.VendorData.Vendor.
const VendorCallrec = "callrec"

func callrecSRC(trees []extTree, v *callrec.VendorData) {
	for _, t := range trees {
		if t.root.name.Space != CallrecNamespace || !t.root.is("recorded") || t.parent == "" {
			continue
		}
		v.RecordedParty = t.parent
		if v.UserID == "" {
			v.UserID = t.root.attr("userId")
		}
		if v.Vendor == "" {
			v.Vendor = VendorCallrec
		}
		return
	}
}

type extTree struct {
	parent string
	root   *node
}

func broadWorks(trees []extTree, v *callrec.VendorData) bool {
	for _, t := range trees {
		bw := t.root.find("broadWorksRecordingMetadata")
		if bw == nil {
			continue
		}
		v.Vendor = VendorBroadWorks
		v.ServiceProviderID = bw.childValue("serviceProviderID")
		v.GroupID = bw.childValue("groupID")
		v.UserID = bw.childValue("userID")
		v.ExtTrackingID = bw.childValue("extTrackingID")
		v.CallID = bw.childValue("callID")
		v.RecordingType = bw.childValue("recordingType")
		v.RecordedParty = v.UserID
		if ct := bw.child("callType"); ct != nil {
			var leg *node
			if leg = ct.child("origCall"); leg != nil {
				v.Direction = "originating"
			} else if leg = ct.child("termCall"); leg != nil {
				v.Direction = "terminating"
			}
			if leg != nil {
				v.CallingNumber = leg.childValue("callingPartyNumber")
				v.CalledNumber = leg.childValue("calledPartyNumber")
				v.DialedDigits = leg.childValue("dialedDigits")
			}
		}
		if v.DialedDigits == "" {
			if d := bw.find("dialedDigits"); d != nil {
				v.DialedDigits = d.value()
			}
		}
		return true
	}
	return false
}

func metaswitch(trees []extTree, v *callrec.VendorData) bool {
	for _, t := range trees {
		ms := t.root.find("metaswitchRecordingMetadata")
		if ms == nil {
			continue
		}
		v.Vendor = VendorMetaswitch
		v.Direction = direction(ms.childValue("callType"))
		v.RecordedParty = ms.childValue("recordedParty")
		v.DialedDigits = ms.childValue("dialedDigits")
		return true
	}
	return false
}

// direction normalises a vendor's call type to "originating" or
// "terminating"; "" when it is neither.
func direction(s string) string {
	s = strings.ToLower(s)
	switch {
	case strings.HasPrefix(s, "orig"):
		return "originating"
	case strings.HasPrefix(s, "term"):
		return "terminating"
	}
	return ""
}

func sonus(trees []extTree, v *callrec.VendorData) bool {
	for _, t := range trees {
		cd := t.root.find("callData")
		if cd == nil {
			continue
		}
		v.Vendor = VendorSonus
		v.CallID = cd.childValue("gcid")
		v.CallingNumber = headerURI(cd.childValue("fromhdr"))
		v.CalledNumber = headerURI(cd.childValue("tohdr"))
		return true
	}
	return false
}

// headerURI returns the URI of a From/To header value: the text between
// '<' and '>', or the value up to its first ';' when there are no brackets.
func headerURI(h string) string {
	h = strings.TrimSpace(h)
	if i := strings.IndexByte(h, '<'); i >= 0 {
		if j := strings.IndexByte(h[i:], '>'); j > 0 {
			return h[i+1 : i+j]
		}
	}
	if i := strings.IndexByte(h, ';'); i >= 0 {
		h = h[:i]
	}
	return strings.TrimSpace(h)
}

func isAcme(n *node) bool {
	return strings.Contains(strings.ToLower(n.name.Space), "acmepacket") || strings.EqualFold(n.name.Space, "apkt")
}

// findAcme returns the first Acme (apkt:) element named local in n's subtree.
func findAcme(n *node, local string) *node {
	if n.is(local) && isAcme(n) {
		return n
	}
	for _, c := range n.children {
		if f := findAcme(c, local); f != nil {
			return f
		}
	}
	return nil
}

func hasAcme(n *node) bool {
	if isAcme(n) {
		return true
	}
	for _, c := range n.children {
		if hasAcme(c) {
			return true
		}
	}
	return false
}

func acme(m *Metadata, trees []extTree, v *callrec.VendorData) bool {
	found := false
	var caller, callee *Participant
	for _, t := range trees {
		if !hasAcme(t.root) {
			continue
		}
		found = true
		if u := findAcme(t.root, "ucid"); u != nil && v.UCID == "" {
			ucid, _, _ := strings.Cut(u.value(), ";")
			v.UCID = strings.TrimSpace(ucid)
		}
		if cp := findAcme(t.root, "callingParty"); cp != nil {
			p := m.Participant(t.parent)
			if p == nil {
				continue
			}
			if strings.EqualFold(cp.value(), "true") {
				caller = p
			} else if strings.EqualFold(cp.value(), "false") {
				callee = p
			}
		}
	}
	if !found {
		return false
	}
	v.Vendor = VendorOracle
	if v.UCID != "" {
		v.Vendor = VendorAvaya
	}
	if caller != nil && len(caller.AORs) > 0 {
		v.CallingNumber = caller.AORs[0]
	}
	if callee != nil && len(callee.AORs) > 0 {
		v.CalledNumber = callee.AORs[0]
	}
	return true
}

func isCisco(n *node) bool {
	return strings.Contains(strings.ToLower(n.name.Space), "cisco") || strings.HasPrefix(strings.ToLower(n.name.Local), "cisco")
}

func cisco(trees []extTree, v *callrec.VendorData) bool {
	found := false
	for _, t := range trees {
		var walk func(n *node, inCisco bool)
		walk = func(n *node, inCisco bool) {
			inCisco = inCisco || isCisco(n)
			if inCisco {
				found = true
				if v.CiscoGUID == "" && strings.Contains(strings.ToLower(n.name.Local), "guid") {
					v.CiscoGUID = n.value()
				}
			}
			for _, c := range n.children {
				walk(c, inCisco)
			}
		}
		walk(t.root, false)
	}
	if found {
		v.Vendor = VendorCisco
	}
	return found
}

// Caller returns the participant a vendor extension marks as the calling
// party (Oracle/Acme and Avaya apkt:callingParty true), or nil when no
// extension says.
func (m *Metadata) Caller() *Participant {
	for _, e := range m.Extensions {
		if e.ParentID == "" {
			continue
		}
		root, _, err := parseXML([]byte(e.XML))
		if err != nil {
			continue
		}
		if cp := findAcme(root, "callingParty"); cp != nil && strings.EqualFold(cp.value(), "true") {
			if p := m.Participant(e.ParentID); p != nil {
				return p
			}
		}
	}
	return nil
}
