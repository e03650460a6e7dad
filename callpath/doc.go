// Package callpath is callrec's call plane: a SIP back-to-back user agent
// (B2BUA, RFC 3261 §6 and RFC 7092) on --sip, over UDP and TCP, that
// connects calls between people's registered devices and the org's trunks
// (the PSTN), relays their media through callpath/relay, and applies the
// recording policy (policy.Decide) to each call: it records the recorded
// party over SIPREC (siprecclient, RFC 7866) from the moment they answer
// (R19), plays the compliance and start/stop announcements and the repeat
// tone (R17, R18, R20, R23, R27, R29) and takes the feature access codes
// of R25 and R35.
//
// # Calls
//
// A REGISTER goes to the registrar (callpath/registrar). An INVITE comes
// either from a trunk, recognised by its source address (Trunk.Address and,
// when set, Trunk.Port), or from a person's device, which must answer a
// digest challenge (RFC 3261 §22.3, 407 Proxy-Authenticate) with the
// person's SIP credentials. It is routed:
//
//   - from a device to an extension or number of a person of the same org:
//     an internal call, forked to every registered contact of the callee
//     (RFC 3261 §16.7 parallel search): the first 2xx wins and the others are
//     cancelled;
//   - from a device to any other number: an outbound PSTN call to the
//     org's trunk (the one at the caller's location, else the first);
//   - from a trunk to a DID (a person's phone number or extension): an
//     inbound PSTN call to that person's devices;
//   - to a virtual line's extension or number (internal or from a trunk):
//     every registered device of every person assigned to the line rings;
//     the line is the recorded party, with its own settings and language
//     (R31, R21); a virtual line has no voicemail, so a call to it that
//     nobody answers gets 480 (the assigned people's mailboxes are
//     theirs, not the line's);
//   - to a hunt group's: every member's devices ring at once (Webex's
//     simultaneous policy; the others are not built); the member who
//     answers is recorded, in the group's language (R21);
//   - to a call queue's: callrec answers, plays the inbound compliance
//     announcement first when policy says so (R18), then the queue prompt
//     in the queue's language over and over while every agent rings; the
//     first agent to answer is bridged and recorded (R21);
//   - to an auto attendant's: callrec answers, plays its greeting and
//     takes RFC 4733 digits: a menu key, or an extension ended by # or
//     three seconds of silence; the call then goes on as if that number
//     had been dialled, in the attendant's language (R21).
//
// Numbers and extensions are looked up in one namespace across people,
// virtual lines and features (directory.NumberKey). A call to a person
// whose voicemail is on goes to voicemail when no device answers within
// UnansweredRings rings of 6 s (at most RingTimeout) or every device is
// busy: callrec answers, plays the voicemail prompt in the person's
// language and a beep, keeps what the caller says (up to 3 minutes,
// ended by BYE or #) and gives it to Deps.Mailbox; R26 decides whether
// the recording service records the message too.
//
// Each side of a call has a relay.Leg; once the callee answers the legs
// are bridged. A callee's 180 or 183 without SDP reaches the caller as a
// bodiless 180. The first callee branch whose 180 or 183 carries SDP owns
// early media (RFC 3960): the legs are bridged at once with that answer
// and the caller gets 183 with our SDP, so it hears the callee's ringback
// or announcement before the answer; at the 2xx the winning branch's SDP
// applies (another branch's, if another answered). For an inbound PSTN
// call with a compliance announcement (R18) the announcement plays to the
// caller first, in its own 183, and the callee is rung after it, so
// early media can only follow it. Recording still starts at the answer
// (R19). 486 Busy Here is passed back, a call no device answers within
// Config.RingTimeout gets 480, an unknown number 404. A CANCEL from the
// caller cancels every callee leg; a BYE from either side ends both.
// In-dialog requests of SIPREC recording sessions go to
// siprecclient.Dialogs.Handle first.
//
// # Re-INVITE, UPDATE and session timers
//
// A re-INVITE or an UPDATE with SDP (RFC 3311) from either leg is a new
// offer (RFC 3264 §8): its direction (sendonly, recvonly, inactive,
// sendrecv, or the RFC 2543 hold c=0.0.0.0) goes to the other leg in a
// re-INVITE with our SDP for that leg (same port, o= version plus one);
// once that leg answers, the relay stops each direction that no longer
// flows (the held party's audio does not reach the holder; prompts and
// the repeat tone still play), the requester gets the mirrored direction,
// and each recording's SRS gets a hold or resume metadata update
// (siprecclient.Session.Hold). Recording goes on. An offer without the
// leg's codec switches it to the first codec the relay handles
// (transcoding when needed); the recordings' taps follow the new codec
// and the party's SIPREC stream, negotiated in the old one, gets its
// audio transcoded to that codec with continuous timestamps, so the
// recording keeps the party's voice (recfeed.go). Glare gets 491
// (RFC 3261 §14.2), an offer the other leg refuses 488 or 500; the call
// stays up. An offer with the SDP version the peer sent last, or no SDP,
// is a session refresh. Over UDP our 200 to a re-INVITE is retransmitted
// at T1, doubling up to T2, until its ACK arrives (RFC 3261 §13.3.1.4;
// sipgo does this only for a dialog's first INVITE); with no ACK within
// 64*T1 the call ends with BYE on both legs.
//
// Session timers (RFC 4028): a caller's Session-Expires below
// Config.MinSE gets 422 with Min-SE; a caller that asked for a timer (or
// said Supported: timer) gets one, refreshed by us unless it asked to
// refresh (refresher=uac). Our INVITEs to callees say Supported: timer
// and Session-Expires (Config.SessionExpires) with refresher=uac; a
// callee that answers 422 with a larger Min-SE gets the INVITE once more
// with that Min-SE as its Session-Expires (RFC 4028 §7.3). Where we
// refresh we send a re-INVITE with the same SDP at half the interval;
// where the peer refreshes and no re-INVITE or UPDATE came by the
// interval minus min(32 s, a third of it), or where our refresh gets 408,
// 481 or no answer, the call ends with BYE on both legs and its
// recordings stop.
//
// # Transfer and DTMF
//
// Either party of an answered call may transfer the other blindly with
// REFER (RFC 3515, RFC 5589 §6): it gets 202 and NOTIFYs of the refer
// subscription whose message/sipfrag bodies say "SIP/2.0 100 Trying",
// "180 Ringing" and the final status. The Refer-To target is routed as if
// the transferor had dialled it and rung like a callee; when it answers,
// the remaining party's relay.Leg is bridged with the target's new leg
// (transcoding when their codecs differ, no re-INVITE; a recording's
// stream of the target's side is transcoded to the codec it
// negotiated), the transferor's
// leg is closed and its dialog gets a BYE (its own BYE is answered 200).
// When the target fails, the final NOTIFY carries its status and the call
// stays as it was. A target that is a virtual line or a hunt group is
// taken as a call to it would be: the line stays the party (its own
// recording settings and language, R31, R21) and the person whose
// device answered sees and controls the call in Server.Calls; a hunt
// group's answering member becomes the party, in the group's language.
// The policy is asked again for the new parties, with
// CompliancePlayed when the compliance announcement played (R20: no start
// announcement after a transfer); the remaining party's recording goes
// on and its SRS gets a participant update (RFC 7866 §6.3, R37), the
// transferor's stops, a recorded target's starts at its answer (R19).
// When the call now has a PSTN party and the compliance announcement
// never played in it, that party hears it once if a recording's policy
// asks for it: a PSTN target as an outbound call's, after the delay
// (R18, R20).
// Attended transfer (Replaces) is refused with 501.
//
// DTMF comes as RFC 4733 telephone-events through the relay or as SIP
// INFO (Cisco application/dtmf-relay or application/dtmf). Both feed the
// access-code collector (R25, R35): digits of a code are held and never
// reach the other party; other digits are relayed (INFO as INFO with the
// same body). Digits held as a prefix that then starts no code ("*5") are
// replayed to the other party as INFO, in order, with the digit that
// broke the prefix.
//
// # Recording
//
// The recorded parties of a call are the callee of an inbound call and the
// caller of an outbound one; an internal call between two recorded people
// gets one SIPREC session per recorded party (design/interfaces.md), each
// with its own party on stream 0. policy.Decide says whether and how;
// recording starts when the recorded party answers (R19), or when an
// on_demand user dials the start code, and stops at hangup. When Start
// fails, the org's failure behaviour applies (X1). The inbound compliance
// announcement's early media ends with 300 ms of silence, so that a phone
// that drops its jitter buffer at answer does not cut its last words.
// Every recording's SRS is told of the compliance announcement played in
// the call (which, when, in which language: R22, R37), also a recording
// decided after it played (a queue's agent, a transfer target).
//
// # Controls and state on the device
//
// A recorded party's feature access codes (R25, R35) and the REST call
// controls (Server.Control, behind /v1/telephony/calls/*Recording) run the
// same action (control.go): start, stop, pause or resume when the mode and
// the recording's state allow it, else the refusal tone (codes) or a
// *RefusedError naming the rule (REST). Server.Calls lists the live calls,
// one CallInfo per person, with the recording state and the controls
// allowed now; its call id is Event.CallID. A call to a virtual line is
// listed for the person whose device answered (CallInfo.VirtualLineID),
// with the line's recording, which that person controls; a hunt group's
// or queue's for the member who answered.
//
// At each recording state change the recorded party's device gets an
// in-dialog INFO (RFC 6086 legacy usage: no Info-Package, no body) with
//
//	Call-Info: <sip:callrec@HOST>;purpose=x-callrec-recording;state=started
//
// (paused, resumed, stopped, failed), sent in order from one goroutine per
// call, never waited for by the call; an error or a refusal is only
// logged at debug level. When the other side hangs up, the "stopped" INFO
// leaves before the BYE (R34, issue 5 point 6).
//
// The package must never let a recording, a prompt or a slow SRS delay or
// break the call itself (a failed recording only changes what the parties
// hear, as X1 says), never put an announcement or tone into a recording
// (R22: the relay's taps never see prompts), never route a call from an
// unauthenticated device, and never panic on a malformed request: it
// answers it with a 4xx.
package callpath
