package mix

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestParseRTP(t *testing.T) {
	pcmu := rtpPacket(0, false, 0x1234, 0xdeadbeef, 0x01020304, []byte{0xff, 0x7f, 0x00})
	// Marker, two CSRCs, a one-word RFC 8285 one-byte extension.
	rich := []byte{
		0x92, 0x80 | 8, 0, 1, 0, 0, 0, 160, 0xca, 0xfe, 0xba, 0xbe,
		0, 0, 0, 1, 0, 0, 0, 2,
		0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0,
		0xd5, 0xd5,
	}
	padded := append(rtpPacket(9, false, 7, 8, 9, []byte{1, 2, 3, 4}), 0, 0, 3)
	padded[0] |= 0x20

	tests := []struct {
		name    string
		in      []byte
		want    Header
		payload []byte
		err     error
	}{
		{"PCMU", pcmu, Header{Version: 2, PayloadType: 0, SequenceNumber: 0x1234, Timestamp: 0xdeadbeef, SSRC: 0x01020304}, []byte{0xff, 0x7f, 0}, nil},
		{"marker, CSRCs and extension", rich, Header{
			Version: 2, Extension: true, Marker: true, PayloadType: 8, SequenceNumber: 1, Timestamp: 160, SSRC: 0xcafebabe,
			CSRCCount: 2, CSRC: [15]uint32{1, 2}, ExtensionProfile: 0xbede, ExtensionData: []byte{0x10, 0xaa, 0, 0},
		}, []byte{0xd5, 0xd5}, nil},
		{"padding", padded, Header{Version: 2, Padding: true, PayloadType: 9, SequenceNumber: 7, Timestamp: 8, SSRC: 9, PaddingLength: 3}, []byte{1, 2, 3, 4}, nil},
		{"empty payload", pcmu[:12], Header{Version: 2, SequenceNumber: 0x1234, Timestamp: 0xdeadbeef, SSRC: 0x01020304}, []byte{}, nil},
		{"too short", pcmu[:11], Header{}, nil, ErrShort},
		{"version 1", append([]byte{0x40}, pcmu[1:]...), Header{}, nil, ErrVersion},
		{"CSRC list truncated", append([]byte{0x83}, pcmu[1:14]...), Header{}, nil, ErrCSRC},
		{"extension header truncated", append([]byte{0x90}, pcmu[1:14]...), Header{}, nil, ErrExtension},
		{"extension body truncated", append(append([]byte{0x90}, pcmu[1:12]...), 0xbe, 0xde, 0, 2, 1, 2, 3, 4), Header{}, nil, ErrExtension},
		{"padding count zero", append(append([]byte{0xa0}, pcmu[1:12]...), 1, 0), Header{}, nil, ErrPadding},
		{"padding longer than payload", append(append([]byte{0xa0}, pcmu[1:12]...), 1, 9), Header{}, nil, ErrPadding},
		{"RTCP receiver report", []byte{0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0}, Header{}, nil, ErrRTCP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, p, err := ParseRTP(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(p, tc.payload) {
				t.Errorf("payload %x, want %x", p, tc.payload)
			}
			if !bytes.Equal(h.ExtensionData, tc.want.ExtensionData) {
				t.Errorf("extension %x, want %x", h.ExtensionData, tc.want.ExtensionData)
			}
			h.ExtensionData, tc.want.ExtensionData = nil, nil
			if !reflect.DeepEqual(h, tc.want) {
				t.Errorf("header %+v, want %+v", h, tc.want)
			}
		})
	}
}

func TestParseRTPDoesNotAllocate(t *testing.T) {
	b := rtpPacket(0, true, 1, 2, 3, make([]byte, 160))
	bad := b[:5]
	if n := testing.AllocsPerRun(100, func() {
		_, _, _ = ParseRTP(b)
		_, _, _ = ParseRTP(bad)
	}); n != 0 {
		t.Errorf("%v allocations per parse", n)
	}
}

func TestParseTelephoneEvent(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want TelephoneEvent
		err  error
	}{
		{"digit 1 start", []byte{1, 10, 0, 160}, TelephoneEvent{Event: 1, Volume: 10, Duration: 160}, nil},
		{"# end", []byte{11, 0x80 | 0x40 | 63, 0x03, 0x20}, TelephoneEvent{Event: 11, End: true, Volume: 63, Duration: 800}, nil},
		{"trailing bytes ignored", []byte{5, 0, 0, 1, 9, 9}, TelephoneEvent{Event: 5, Duration: 1}, nil},
		{"short", []byte{1, 2, 3}, TelephoneEvent{}, ErrEventShort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTelephoneEvent(tc.in)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestDigitName(t *testing.T) {
	for code, want := range map[uint8]string{0: "0", 9: "9", 10: "*", 11: "#", 12: "A", 15: "D", 16: "event-16", 255: "event-255"} {
		if got := DigitName(code); got != want {
			t.Errorf("DigitName(%d) = %q, want %q", code, got, want)
		}
	}
}
