package recorder

import (
	"strconv"
	"strings"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/siprec"
)

// recordedParticipant returns the id of the recorded party's participant
// (interfaces.md, channel layout): the one a vendor extension names, else
// "" so that the caller falls back to the sender of the lowest label.
func recordedParticipant(md *siprec.Metadata, vendor callrec.VendorData) string {
	if md == nil {
		return ""
	}
	for _, want := range []string{vendor.RecordedParty, vendor.UserID} {
		if want == "" {
			continue
		}
		for _, p := range md.Participants {
			if p.ID == want {
				return p.ID
			}
			for _, aor := range p.AORs {
				if sameAOR(aor, want) {
					return p.ID
				}
			}
		}
	}
	return ""
}

// sameAOR compares an AOR with a vendor's user reference: equal after
// dropping the scheme and URI parameters, or equal user parts when the
// reference is a bare number or user.
func sameAOR(aor, ref string) bool {
	a, r := bareURI(aor), bareURI(ref)
	if a == "" || r == "" {
		return false
	}
	if strings.EqualFold(a, r) {
		return true
	}
	if !strings.Contains(r, "@") {
		user, _, _ := strings.Cut(a, "@")
		return strings.EqualFold(user, r)
	}
	return false
}

func bareURI(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimSuffix(s, ">"), "<")
	for _, scheme := range []string{"sip:", "sips:", "tel:"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			s = s[len(scheme):]
			break
		}
	}
	s, _, _ = strings.Cut(s, ";")
	return s
}

// labelLess orders labels as integers when both are integers, else as bytes.
func labelLess(a, b string) bool {
	ai, errA := strconv.ParseUint(a, 10, 64)
	bi, errB := strconv.ParseUint(b, 10, 64)
	if errA == nil && errB == nil {
		return ai < bi
	}
	return a < b
}

// assignChannels decides which file channel (0-based) each audio stream is
// written to. One stream: mono. Two or more: channel 0 holds the recorded
// party's streams, channel 1 the others (interfaces.md). R36: a recorded
// call brings one stream per party (what the user says, what the other
// side says), so the usual file is the user left and the other side right. It returns the
// channel per stream (same order as labels), the channel count, and the id
// of the recorded participant ("" when unknown).
func assignChannels(labels []string, md *siprec.Metadata, vendor callrec.VendorData) ([]int, int, string) {
	ch := make([]int, len(labels))
	if len(labels) <= 1 {
		return ch, 1, senderOfLabel(md, firstOr(labels))
	}
	recorded := recordedParticipant(md, vendor)
	if recorded != "" && !sendsAny(md, labels, recorded) {
		// The named party sends none of these streams: fall back.
		recorded = ""
	}
	if recorded == "" {
		lowest := 0
		for i, l := range labels {
			if labelLess(l, labels[lowest]) {
				lowest = i
			}
		}
		recorded = senderOfLabel(md, labels[lowest])
		if recorded == "" {
			// No metadata says who sends what: the lowest label is the
			// recorded party's stream.
			for i := range ch {
				if i != lowest {
					ch[i] = 1
				}
			}
			return ch, 2, ""
		}
	}
	for i, l := range labels {
		if senderOfLabel(md, l) != recorded {
			ch[i] = 1
		}
	}
	return ch, 2, recorded
}

func sendsAny(md *siprec.Metadata, labels []string, participant string) bool {
	for _, l := range labels {
		if senderOfLabel(md, l) == participant {
			return true
		}
	}
	return false
}

func firstOr(labels []string) string {
	if len(labels) == 0 {
		return ""
	}
	return labels[0]
}

// senderOfLabel returns the participant id that sends the stream labelled
// label, or "".
func senderOfLabel(md *siprec.Metadata, label string) string {
	if md == nil {
		return ""
	}
	s := md.StreamByLabel(label)
	if s == nil {
		return ""
	}
	if p := md.SenderOf(s.ID); p != nil {
		return p.ID
	}
	return ""
}
