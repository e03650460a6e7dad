package siprec

import "errors"

// Sentinel errors. Functions wrap them with context; test with errors.Is.
var (
	// ErrEmptyBody means the request carried no body at all, or a body made
	// only of white space.
	ErrEmptyBody = errors.New("siprec: empty body")

	// ErrTooLarge means a body or metadata document is larger than
	// MaxBodySize; it is refused before any parsing.
	ErrTooLarge = errors.New("siprec: body too large")

	// ErrNoBoundary means a multipart body has no usable boundary: the
	// Content-Type has no boundary parameter and none could be inferred, or
	// the boundary never occurs as a delimiter line in the body
	// (RFC 2046 §5.1.1).
	ErrNoBoundary = errors.New("siprec: multipart boundary not found")

	// ErrNoSDPOrMetadata means the body holds neither an SDP part nor a
	// recording metadata part, so it is not a recording session body.
	ErrNoSDPOrMetadata = errors.New("siprec: body has neither SDP nor recording metadata")

	// ErrMalformedXML means a metadata document is not well-formed XML.
	ErrMalformedXML = errors.New("siprec: metadata is not well-formed XML")

	// ErrUnknownRoot means a metadata document's root element is neither
	// <recording> (RFC 7865 and its draft) nor <recording_metadata> (the
	// pre-RFC model BroadWorks and Webex Calling send).
	ErrUnknownRoot = errors.New("siprec: metadata root is not recording or recording_metadata")

	// ErrNotSDP means a body has no SDP line (v=, o= or m=) at all.
	ErrNotSDP = errors.New("siprec: not an SDP session description")
)

// MaxBodySize is the largest body ParseBody and ParseMetadata accept: 256
// KiB. A SIPREC INVITE is 1.4 to 4 KB and a metadata snapshot of a large
// conference a few tens of KB, so anything bigger is a mistake or an attack.
const MaxBodySize = 256 << 10
