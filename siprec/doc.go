// Package siprec is the SIPREC protocol as a library: RFC 7866 recording
// session bodies (multipart/mixed with an SDP offer and RFC 7865 metadata),
// RFC 7865 metadata XML to and from Go values, and the SDP of the recording
// session (RFC 4566 offers with RFC 4574 labels, RFC 3264 answers).
//
// It follows the rule of thumb of siprec-interop.md: parse liberally, answer
// strictly. Parsers accept the dialects real session recording clients send
// (Cisco CUBE, Oracle/Acme, Avaya, BroadWorks/Webex Calling, Metaswitch,
// Sonus/Ribbon, OpenSIPS, AudioCodes bare-LF bodies) and report oddities
// instead of refusing them; builders emit only what the RFCs allow.
//
// The package must never open sockets, read files, log, import SIP stack
// types (sipgo) or know about storage: it turns bytes into values and values
// into bytes, so that it can be fuzzed and benchmarked on its own. It never
// panics on bad input and never rewrites body bytes it hands back.
package siprec
