// Package policy is the recording rules of
// ../shared/spec/recording-rules.md as pure functions: given an org's
// stored settings (a [Snapshot]) and a call or a change, it returns the
// decision. The control plane asks it before it stores a setting (R1, R2,
// R6, R13, R15, R18, R25, R29, R31); support staff read its effective
// settings; the call plane asks it how to treat each call (R17..R35); the
// recordings API asks it who may see a recording (R3, R4); retention asks
// it when a recording expires (R3, R9).
//
// It must never do I/O, read the clock (times are arguments) or depend on
// anything but the root package: every rule is decided here and nowhere
// else, and every rule has table tests named after it (TestR17_...).
package policy

import (
	"time"

	"github.com/callrec/callrec"
)

// Snapshot is what the rules need to know about one org, read by the
// caller in one store transaction.
type Snapshot struct {
	Org       callrec.Org
	Locations map[string]callrec.Location        // by id
	Providers map[string]callrec.Provider        // every registered provider, the built-in one included, by id
	Terms     map[string]callrec.TermsAcceptance // this org's acceptances, by provider id
	Accounts  map[string]callrec.ProviderAccount // this org's provider accounts, by provider id
}

// Target is the person or virtual line whose recording settings apply.
// Exactly one of Person and Line is set.
type Target struct {
	Person *callrec.Person
	Line   *callrec.VirtualLine
}

// TermsError is the 409 of R13: the effective vendor's terms are not
// accepted. The API renders its fields as Webex's ToS conflict body.
type TermsError struct {
	VendorID   string
	VendorName string
	TermsURL   string
}

// Call describes one call as the call plane sees it.
type Call struct {
	Inbound  bool // true: towards the recorded party; false: the recorded party called out
	PSTN     bool // a party outside the org (via a trunk)
	Recorded Target
	// Dialled is how the call reached the recorded party when it was not
	// dialled straight (R21): a feature, or a virtual line.
	Feature     *callrec.Feature
	VirtualLine *callrec.VirtualLine
	Voicemail   bool // the call is a voicemail deposit or retrieval (R26)
	// CompliancePlayed is set when the call plane re-decides mid-call
	// (transfer) and the compliance announcement has already played (R20).
	CompliancePlayed bool
	// ComplianceFailed is set when the call plane re-decides because the
	// compliance announcement could not be played: the user-level
	// start/stop announcements then apply as the fallback (R23).
	ComplianceFailed bool
}

// When an announcement plays.
const (
	BeforeAnswer = "beforeAnswer" // early media to the inbound PSTN caller (R18)
	AfterAnswer  = "afterAnswer"  // to the outbound PSTN callee after answer, after Delay (R18)
	OnStart      = "onStart"      // when recording starts (R27)
	OnStop       = "onStop"       // when recording stops (R27)
	OnPause      = "onPause"      // when the user pauses (R28)
	OnResume     = "onResume"     // when the user resumes (R28)
	OnFailure    = "onFailure"    // when recording cannot start or fails mid-call (X1)
)

// Announcement kinds (Announcement.Kind); the call plane reports each one
// played to the provider by this name (R22, R37).
const (
	KindCompliance = "compliance"
	KindStart      = "start"
	KindStop       = "stop"
	KindPause      = "pause"
	KindResume     = "resume"
	KindFailure    = "failure"
)

// Announcement is one prompt the call plane must play.
type Announcement struct {
	Kind     string        // Kind*: "compliance", "start", "stop", "pause", "resume", "failure"
	When     string        // BeforeAnswer, AfterAnswer, OnStart, OnStop, OnPause, OnResume, OnFailure
	Delay    time.Duration // outbound compliance delay (R18)
	Language string        // R21
	FileID   string        // custom file, "" for the built-in prompt
}

// Controls are what the recorded user may do during the call (R25, R35).
// In a [Decision] and in [Effective] they are everything the mode offers
// in a call: Start applies while not recording (on_demand), Stop, Pause
// and Resume while recording is active; [ControlsFor] gives the set for
// one state.
type Controls struct {
	Start, Stop, Pause, Resume bool
}

// Decision is how one call is treated. When Record is false only Reason,
// Mode and Language are set.
type Decision struct {
	Record   bool   // the call is recorded (at answer, or on demand)
	Reason   string // why not, when Record is false (human readable, names the rule)
	Provider callrec.Provider
	Target   string // SIPREC URI of the provider's SRS ("" for the built-in recorder: the caller knows it)
	Backup   string // X1
	Mode     string // callrec.Mode*
	// StartAtAnswer: recording starts when the recorded party answers
	// (R19); false for on_demand until the user starts it.
	StartAtAnswer   bool
	Compliance      *Announcement // nil when none plays (R17, R18)
	Start, Stop     *Announcement // nil when suppressed (R20, R23, R27)
	Notification    string        // callrec.Notify* for pause/resume (R28)
	Pause, Resume   *Announcement // set when Notification is announcement
	Repeat          time.Duration // repeat tone period while recording is active; 0 = off (R29)
	Controls        Controls
	AccessCodes     callrec.AccessCodes
	FailureBehavior string // X1
	Failure         *Announcement
	Language        string // R21
	StorageRegion   string // X2
}

// Effective is a target's effective recording settings, for the support
// endpoint and the user's own read-only view.
type Effective struct {
	Enabled         bool     // the target's own switch
	Recording       bool     // calls will be recorded (entitled, a provider, terms accepted, licence, enabled)
	Reasons         []string // why Recording is false, each naming its rule
	ProviderID      string
	ProviderName    string
	ProviderTarget  string
	VendorInherited bool   // the location uses the org's vendor (R16)
	Plan            string // callrec.Plan* for built-in provider members
	Settings        callrec.UserRecording
	Compliance      callrec.ComplianceAnnouncement // the location's effective one (R17)
	Language        string                         // R21 for a call straight to the target
	FailureBehavior string
	StorageRegion   string
	Controls        Controls // what the mode offers in a call (R25, R35); see [Controls]
	AccessCodes     callrec.AccessCodes
	// R30: how support on both sides matches the target. callrec has no
	// BroadWorks enterprise or group: the org id and the location id play
	// those roles; ExternalID is the target's provider-side id, or its
	// callrec id before it is provisioned.
	ServiceProvider string
	ExternalGroup   string
	ExternalID      string
}

// Viewer is who asks to see a recording (R3, R4).
type Viewer struct {
	Role          string // callrec.Role*
	OrgID         string
	PartnerID     string
	PersonID      string
	ProviderAdmin bool     // the viewer's email is an admin of the org's provider account (R11)
	Listens       []string // virtual line ids whose team the viewer listens to (R32)
	Bootstrap     bool     // the bootstrap partner admin: compliance rights everywhere
}

// RuleError is a refusal of a setting by a rule: Error is a message a
// client may read (it names the field, the allowed values and the rule);
// Unwrap is the kind (callrec.ErrInvalid, ErrForbidden, ErrConflict or
// ErrNotFound) the API maps to a status.
type RuleError struct {
	Rule  string // e.g. "R29"
	Field string // the API field at fault, e.g. "repeat.interval"; "" when no one field is
	Msg   string
	Kind  error
}

// Access is what a viewer may do with one recording.
type Access struct {
	List, Read, Download, Delete, Reassign bool
}
