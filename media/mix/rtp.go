package mix

import (
	"encoding/binary"
	"errors"
)

// Errors returned by ParseRTP and ParseTelephoneEvent. They are fixed values
// (not built per call) so that rejecting a malformed datagram on the hot
// path allocates nothing; compare them with errors.Is.
var (
	// ErrShort means the datagram is shorter than the 12-byte fixed RTP header.
	ErrShort = errors.New("mix: rtp: datagram shorter than the 12-byte fixed header")
	// ErrVersion means the version field is not 2 (RFC 3550 §5.1).
	ErrVersion = errors.New("mix: rtp: version is not 2")
	// ErrCSRC means the CSRC list runs past the end of the datagram.
	ErrCSRC = errors.New("mix: rtp: CSRC list truncated")
	// ErrExtension means the header extension runs past the end of the datagram.
	ErrExtension = errors.New("mix: rtp: header extension truncated")
	// ErrPadding means the padding count is zero or larger than the payload.
	ErrPadding = errors.New("mix: rtp: bad padding count")
	// ErrRTCP means the packet type is in the RTCP range (RFC 5761 §4): an
	// RTCP packet sent to the RTP port, not an RTP packet.
	ErrRTCP = errors.New("mix: rtp: RTCP packet on the RTP port")
	// ErrEventShort means a telephone-event payload is shorter than 4 bytes.
	ErrEventShort = errors.New("mix: telephone-event: payload shorter than 4 bytes")
)

// Header is the fixed RTP header of RFC 3550 §5.1 plus its CSRC list and
// header extension (§5.3.1). ExtensionData aliases the parsed datagram.
type Header struct {
	Version          uint8
	Padding          bool
	Extension        bool
	Marker           bool
	PayloadType      uint8
	SequenceNumber   uint16
	Timestamp        uint32
	SSRC             uint32
	CSRCCount        uint8
	CSRC             [15]uint32 // the first CSRCCount entries are valid
	ExtensionProfile uint16     // "defined by profile" field when Extension is set
	ExtensionData    []byte     // extension words (length field excluded) when Extension is set
	PaddingLength    uint8      // bytes of padding removed from the end, counting the count byte
}

// HeaderLen returns the length in bytes of the header as parsed: fixed part,
// CSRC list and header extension.
func (h *Header) HeaderLen() int {
	n := 12 + 4*int(h.CSRCCount)
	if h.Extension {
		n += 4 + len(h.ExtensionData)
	}
	return n
}

// ParseRTP parses one RTP datagram (RFC 3550 §5.1). It returns the header
// and the payload with padding removed; the payload aliases b. It never
// allocates and rejects, with one of the Err* values, datagrams that are
// too short, not version 2, have a truncated CSRC list or extension, a bad
// padding count, or a packet type in the RTCP range (RFC 5761 §4).
func ParseRTP(b []byte) (Header, []byte, error) {
	var h Header
	if len(b) < 12 {
		return h, nil, ErrShort
	}
	h.Version = b[0] >> 6
	if h.Version != 2 {
		return h, nil, ErrVersion
	}
	h.Padding = b[0]&0x20 != 0
	h.Extension = b[0]&0x10 != 0
	h.CSRCCount = b[0] & 0x0f
	h.Marker = b[1]&0x80 != 0
	h.PayloadType = b[1] & 0x7f
	// RFC 5761 §4: RTCP packet types 192..223 collide with marker+PT 64..95;
	// 72..76 are SR, RR, SDES, BYE and APP (200..204) and are never RTP.
	if h.PayloadType >= 72 && h.PayloadType <= 76 {
		return h, nil, ErrRTCP
	}
	h.SequenceNumber = binary.BigEndian.Uint16(b[2:])
	h.Timestamp = binary.BigEndian.Uint32(b[4:])
	h.SSRC = binary.BigEndian.Uint32(b[8:])
	off := 12
	if len(b) < off+4*int(h.CSRCCount) {
		return h, nil, ErrCSRC
	}
	for i := 0; i < int(h.CSRCCount); i++ {
		h.CSRC[i] = binary.BigEndian.Uint32(b[off:])
		off += 4
	}
	if h.Extension {
		// RFC 3550 §5.3.1: 16-bit profile field, 16-bit length in 32-bit words.
		if len(b) < off+4 {
			return h, nil, ErrExtension
		}
		h.ExtensionProfile = binary.BigEndian.Uint16(b[off:])
		words := int(binary.BigEndian.Uint16(b[off+2:]))
		off += 4
		if len(b)-off < 4*words {
			return h, nil, ErrExtension
		}
		h.ExtensionData = b[off : off+4*words : off+4*words]
		off += 4 * words
	}
	end := len(b)
	if h.Padding {
		// RFC 3550 §5.1: the last octet counts the padding, itself included.
		p := int(b[end-1])
		if p == 0 || p > end-off {
			return h, nil, ErrPadding
		}
		h.PaddingLength = uint8(p)
		end -= p
	}
	return h, b[off:end:end], nil
}

// TelephoneEvent is one RFC 4733 §2.3 telephone-event payload.
type TelephoneEvent struct {
	Event    uint8  // event code (§3.2: 0-9, 10 '*', 11 '#', 12-15 'A'-'D')
	End      bool   // E bit: this packet ends the event
	Volume   uint8  // power level in -dBm0, 0..63
	Duration uint16 // duration so far, in RTP timestamp units
}

// ParseTelephoneEvent parses the first 4 bytes of an RFC 4733 §2.3
// telephone-event payload (the reserved R bit is ignored). Extra bytes are
// ignored; a shorter payload is ErrEventShort.
func ParseTelephoneEvent(payload []byte) (TelephoneEvent, error) {
	if len(payload) < 4 {
		return TelephoneEvent{}, ErrEventShort
	}
	return TelephoneEvent{
		Event:    payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(payload[2:]),
	}, nil
}

// eventNames maps RFC 4733 §3.2 event codes to digit names; built once so
// naming an event never allocates.
var eventNames = func() (t [256]string) {
	const digits = "0123456789*#ABCD"
	for i := range t {
		if i < len(digits) {
			t[i] = digits[i : i+1]
		} else {
			t[i] = "event-" + itoa(i)
		}
	}
	return t
}()

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// DigitName names an RFC 4733 §3.2 DTMF event code: "0"-"9", "*", "#",
// "A"-"D", and "event-N" for every other code.
func DigitName(code uint8) string { return eventNames[code] }
