// Package relay moves RTP and RTCP between the two legs of a B2BUA call
// with as little added delay as possible (issue 5 point 2, R38), plays
// prompts toward one leg, taps what each party sends for the SIPREC fork
// and reports RFC 4733 DTMF digits.
//
// # Legs
//
// A Leg owns one RTP socket on an even port and one RTCP socket on the
// port above it (RFC 3550 §11), taken from a caller-supplied
// PortAllocator. NewLeg binds both sockets and starts reading at once, so
// the B2BUA calls it before it sends the SDP that carries the port: the
// port is already reading when the far end learns it. The remote address
// comes from SDP (SetRemote, again on every re-INVITE).
//
// # Latching (symmetric RTP, RFC 4961)
//
// Phones behind NAT send from an address other than the one in their SDP.
// A leg therefore latches: the first well-formed RTP packet (one that
// mix.ParseRTP accepts) from an acceptable source fixes the leg's peer,
// and from then on the leg sends to where that packet came from and
// accepts RTP only from exactly that address and port. A source is
// acceptable when its IP equals the SDP connection address; when the SDP
// address is unknown, unspecified (0.0.0.0, ::), private (RFC 1918, RFC
// 4193), shared (RFC 6598, 100.64.0.0/10) or link-local, any source is
// acceptable, because such an address says nothing about where the
// packets will come from. The safety check is that a public SDP address
// lets only that host latch, that only a parseable RTP packet latches,
// that the first one wins, and that a latched leg drops (and counts as
// Foreign) everything from other sources: a stray or hostile sender cannot
// take over the media of a call in progress. A new SDP (SetRemote) opens
// latching again. RTCP latches the same way on its own socket. Until a
// leg has latched it sends to its SDP address; with none, packets for it
// are dropped and counted.
//
// # Bridge
//
// A Bridge connects two legs. Each packet read on one leg is written to
// the other from the reading goroutine at once: same buffer, no copy, no
// channel hop, no timer per packet, no jitter buffer (R38). When both legs
// use the same codec the payload passes untouched (only the payload type
// byte changes when the legs numbered the codec differently); only when
// they share none does the bridge transcode (media.NewDecoder, which
// resamples, then media.NewEncoder), packet by packet with the same
// duration, sequence number and SSRC. RTCP is relayed as it came, as is
// RTCP multiplexed on the RTP port (RFC 5761), until a prompt made a leg
// rewrite its outgoing stream: from then on the relay translates the RTCP
// that describes that stream (RFC 3550 §7.2): a sender report reaches the
// listener with the SSRC, RTP timestamp and packet and octet counts of the
// stream it actually receives, and the listener's report blocks reach the
// sender with the sender's own SSRC and sequence numbering.
//
// Bridge.Mute stops one direction (a hold, RFC 3264 §8.4: the held
// party's audio does not reach the holder) and Bridge.SetCodec changes one
// leg's codec on a live bridge after a re-INVITE, transcoding only when
// the legs' codecs then differ.
//
// # Prompts
//
// Leg.Play and Bridge.Play send a Source's payloads toward one leg, one
// every 20 ms, paced by a ticker that exists only while the prompt plays.
// While it plays, the relayed audio toward that leg is held back, not
// mixed: the listener hears only the prompt (R18: the caller hears only
// the announcement before answer). Every leg keeps one outgoing stream:
// until the first prompt, relayed packets keep their own SSRC, sequence
// numbers and timestamps; from the first prompt on, the leg rewrites them
// so that relayed audio, prompts and relayed audio again form one
// continuous stream (same SSRC, sequence numbers without gaps,
// timestamps advancing with wall-clock time), and it marks the first
// packet of each talkspurt (RFC 3551 §4.1).
//
// # Taps and DTMF
//
// Bridge.Tap registers a callback that sees every packet a party sends
// (the RTP datagram as received, before any rewrite) for the SIPREC fork.
// Prompts are sent toward a leg, never read from one, so they never reach
// a tap (R22). Telephone-events (RFC 4733) are reported once per event
// through OnDigit and relayed, unless Swallow holds them back while the
// B2BUA collects a feature access code (R35).
//
// The package must never block, allocate or log per relayed packet, never
// panic on a malformed datagram (it is dropped and counted), and never
// buffer media to smooth jitter.
package relay
