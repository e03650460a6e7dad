package callrec

import "time"

// This file holds the control plane's domain: the directory of an org
// (locations, people, virtual lines, features, trunks), recording
// providers and their plans, the recording settings at every level, terms
// of service, provider accounts, jobs, SIPREC sources and the audit log.
// Rules are cited as in ../shared/spec/recording-rules.md.

// RootPartner is the partner id of the bootstrap partner admin: it manages
// every org, and holds compliance-officer rights over all of them
// (interfaces.md, "First admin").
const RootPartner = "root"

// Roles a token can hold. A provider admin (R11) is not a role: it is a
// person or admin whose email is in the org's ProviderAccount.Admins.
const (
	RolePartnerAdmin      = "partnerAdmin"      // manages the orgs of its partner; acts on one with orgId
	RoleFullAdmin         = "fullAdmin"         // org full admin
	RoleReadOnlyAdmin     = "readOnlyAdmin"     // org read-only admin
	RoleLocationAdmin     = "locationAdmin"     // admin of Token.LocationIDs only
	RoleUser              = "user"              // a person (Token.PersonID)
	RoleComplianceOfficer = "complianceOfficer" // reads and deletes the org's recordings
)

// Roles lists every role, in the order the docs present them.
var Roles = []string{RolePartnerAdmin, RoleFullAdmin, RoleReadOnlyAdmin, RoleLocationAdmin, RoleUser, RoleComplianceOfficer}

// Token is an API bearer token. Only its SHA-256 hash is stored.
type Token struct {
	ID          string
	Hash        string // hex SHA-256 of the bearer value
	Name        string
	Role        string
	OrgID       string   // the org it belongs to; empty for a partner admin
	PartnerID   string   // partner admins: the partner whose orgs it manages
	PersonID    string   // RoleUser: the person; optional for admins who are people
	Email       string   // who holds it (audit actor, provider-admin identity R11/R12)
	LocationIDs []string // RoleLocationAdmin: the locations it administers
	Created     time.Time
	Expires     time.Time // zero: never
}

// Org is a customer organisation (tenant).
type Org struct {
	ID        string
	Name      string
	Created   time.Time
	PartnerID string // the partner that manages it (RootPartner for the default org)
	Region    string // hosting region code, e.g. "US" (R6)
	Language  string // default announcement language, e.g. "en_US" (R21)
	Recording OrgRecording
}

// Recording modes (R25), as stored. The API spells them as Webex does.
const (
	ModeNever                 = "never"
	ModeAlways                = "always"
	ModeAlwaysWithPauseResume = "always_with_pause_resume"
	ModeOnDemand              = "on_demand"
)

// Pause/resume notification kinds (R28).
const (
	NotifyNone         = "none"
	NotifyBeep         = "beep"
	NotifyAnnouncement = "announcement"
)

// Failure behaviours (X1), spelled as Webex does.
const (
	FailureProceedNoAnnouncement   = "PROCEED_WITH_CALL_NO_ANNOUNCEMENT"
	FailureProceedWithAnnouncement = "PROCEED_CALL_WITH_ANNOUNCEMENT"
	FailureEndWithAnnouncement     = "END_CALL_WITH_ANNOUNCEMENT"
)

// Licence types (R1), spelled as Webex's UserLicenseType.
const (
	LicenseProfessional          = "PROFESSIONAL_USER"
	LicenseBasic                 = "BASIC_USER"
	LicenseWorkspace             = "WORKSPACE"
	LicenseProfessionalWorkspace = "PROFESSIONAL_WORKSPACE"
	LicenseVirtualProfile        = "VIRTUAL_PROFILE"
	LicenseCommonArea            = "COMMON_AREA"
)

// Plans of the built-in provider (R3, R4).
const (
	PlanGo      = "go"      // free: 30-day retention, only the user sees their recordings
	PlanTeam    = "team"    // paid: unlimited retention, provider admins see the org's
	PlanPremier = "premier" // paid: as team
)

// FreeRetention is how long a recording on the free plan is kept (R3, R9).
const FreeRetention = 30 * 24 * time.Hour

// Vendor ids with a fixed meaning.
const (
	// VendorNone is the pseudo-vendor that disables recording (R14..R16).
	VendorNone = "none"
	// BuiltInProviderID is the id of callrec's own recorder as a provider.
	BuiltInProviderID = "0a426754-a470-4c2d-8ba0-fbc6773a8a7c"
)

// DefaultLanguage ends the language fallback chain (R21).
const DefaultLanguage = "en_US"

// Feature access codes (interfaces.md, configurable per org).
const (
	DefaultStartCode  = "*44"
	DefaultStopCode   = "*45"
	DefaultPauseCode  = "*48"
	DefaultResumeCode = "*49"
)

// OrgRecording is the org-level recording configuration.
type OrgRecording struct {
	// Entitled is the partner's entitlement of the org to call recording
	// (R2; Webex's partner-only PUT /telephony/config/callRecording).
	Entitled        bool                   `json:"entitled"`
	VendorID        string                 `json:"vendorId"` // a provider id or VendorNone (R14, R15)
	StorageRegion   string                 `json:"storageRegion,omitempty"`
	FailureBehavior string                 `json:"failureBehavior"` // X1
	Compliance      ComplianceAnnouncement `json:"compliance"`      // R17, R18
	Announcements   Announcements          `json:"announcements"`
	AccessCodes     AccessCodes            `json:"accessCodes"`
}

// DefaultOrgRecording is a new org's recording configuration: not
// entitled (R2), the built-in provider chosen but its terms not yet
// accepted (R13), compliance announcements off (R17), default prompts,
// the call proceeding silently when recording fails (X1), and the
// standard feature access codes.
func DefaultOrgRecording() OrgRecording {
	return OrgRecording{
		VendorID:        BuiltInProviderID,
		FailureBehavior: FailureProceedNoAnnouncement,
		AccessCodes:     AccessCodes{DefaultStartCode, DefaultStopCode, DefaultPauseCode, DefaultResumeCode},
	}
}

// AccessCodes are the feature access codes users dial during a call (R25, R35).
type AccessCodes struct {
	Start  string `json:"start"`
	Stop   string `json:"stop"`
	Pause  string `json:"pause"`
	Resume string `json:"resume"`
}

// ComplianceAnnouncement is the PSTN compliance announcement (R17, R18).
type ComplianceAnnouncement struct {
	Inbound          bool   `json:"inbound"`
	Outbound         bool   `json:"outbound"`
	OutboundDelay    bool   `json:"outboundDelay"`
	DelaySeconds     int    `json:"delaySeconds"` // 0..60 (R18)
	UseCustom        bool   `json:"useCustom"`
	CustomFileID     string `json:"customFileId,omitempty"`
	UseOrgCustomFile bool   `json:"useOrgCustomFile,omitempty"` // location level: play the org's custom file
}

// AnnouncementChoice selects the default prompt or a custom file.
type AnnouncementChoice struct {
	Custom bool   `json:"custom"`
	FileID string `json:"fileId,omitempty"`
}

// Announcements are the recording announcements (start, stop, pause,
// resume and the two failure prompts of X1).
type Announcements struct {
	Start          AnnouncementChoice `json:"start"`
	Stop           AnnouncementChoice `json:"stop"`
	Pause          AnnouncementChoice `json:"pause"`
	Resume         AnnouncementChoice `json:"resume"`
	FailureProceed AnnouncementChoice `json:"failureProceed"`
	FailureEnd     AnnouncementChoice `json:"failureEnd"`
}

// Location is a site of an org.
type Location struct {
	ID        string
	OrgID     string
	Name      string
	TimeZone  string // IANA name; shared with providers (R13)
	Language  string // announcement language (R21)
	Address   Address
	Created   time.Time
	Recording LocationRecording
}

// Address is a postal address (Webex location shape).
type Address struct {
	Address1   string `json:"address1,omitempty"`
	Address2   string `json:"address2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
}

// LocationRecording is a location's overrides; an empty or nil field
// means "use the org's" (R16, R17, X1, X2).
type LocationRecording struct {
	VendorID        string                  `json:"vendorId,omitempty"` // "" = org default (R16)
	StorageRegion   string                  `json:"storageRegion,omitempty"`
	FailureBehavior string                  `json:"failureBehavior,omitempty"`
	Compliance      *ComplianceAnnouncement `json:"compliance,omitempty"`    // nil = org's (R17)
	Announcements   *Announcements          `json:"announcements,omitempty"` // nil = org's
}

// UserRecording is the recording configuration of a person or virtual
// line (R24..R31). Defaults: DefaultUserRecording.
type UserRecording struct {
	Enabled         bool   `json:"enabled"`
	Mode            string `json:"mode"` // Mode* (R25)
	RecordVoicemail bool   `json:"recordVoicemail"`
	// StartStopAnnouncement is Webex's legacy person switch; the two
	// below are the per-call-kind switches of R27.
	StartStopAnnouncement bool      `json:"startStopAnnouncement"`
	StartStopInternal     bool      `json:"startStopInternal"`
	StartStopPSTN         bool      `json:"startStopPstn"`
	Notification          string    `json:"notification"` // Notify* (R28)
	NotificationEnabled   bool      `json:"notificationEnabled"`
	RepeatEnabled         bool      `json:"repeatEnabled"`  // R29
	RepeatInterval        int       `json:"repeatInterval"` // seconds, 10..90 (R29)
	Selective             Selective `json:"selective"`
}

// Selective limits "always" recording to some call kinds (Webex
// selectiveCallRecordingSettings); all true by default.
type Selective struct {
	InboundInternal  bool `json:"inboundInternal"`
	InboundExternal  bool `json:"inboundExternal"`
	OutboundInternal bool `json:"outboundInternal"`
	OutboundExternal bool `json:"outboundExternal"`
}

// DefaultUserRecording is a fresh person's or virtual line's setting:
// off, mode never, repeat tone on every 20 s (R25, R29, R31).
func DefaultUserRecording() UserRecording {
	return UserRecording{
		Mode:           ModeNever,
		Notification:   NotifyNone,
		RepeatEnabled:  true,
		RepeatInterval: 20,
		Selective:      Selective{true, true, true, true},
	}
}

// SIPCredentials are a device's or source's digest credentials. The
// password is kept only as RFC 7616 HA1 hashes for Realm.
type SIPCredentials struct {
	Username  string `json:"username"`
	Realm     string `json:"realm"`
	HA1MD5    string `json:"ha1Md5"`
	HA1SHA256 string `json:"ha1Sha256"`
}

// Person is a user of an org.
type Person struct {
	ID           string
	OrgID        string
	LocationID   string
	Emails       []string // the first is the primary; unique across orgs
	FirstName    string
	LastName     string
	DisplayName  string
	License      string // License* (R1)
	Extension    string
	PhoneNumbers []string // E.164
	Language     string   // announcement language (R21)
	SIP          *SIPCredentials
	Recording    UserRecording
	// ExternalID is the id the provider and SIPREC metadata know the user
	// by (BroadWorks userID style, R30); set at provisioning.
	ExternalID string
	// Voicemail are the person's voicemail settings; nil: voicemail off.
	Voicemail *VoicemailSettings `json:",omitempty"`
	Created   time.Time
}

// VoicemailSettings say when the call plane sends a person's calls to
// voicemail (Webex /people/{personId}/features/voicemail).
type VoicemailSettings struct {
	Enabled bool
	// SendUnanswered sends a call nobody answers to voicemail after
	// UnansweredRings rings (a ring is 6 s; 0 means DefaultUnansweredRings).
	SendUnanswered  bool
	UnansweredRings int
	// SendBusy sends a call to voicemail when every device is busy.
	SendBusy bool
}

// DefaultUnansweredRings is Webex's default number of rings before an
// unanswered call goes to voicemail.
const DefaultUnansweredRings = 3

// VoiceMessage is one voicemail message left for a person: its audio is
// a WAV in the blob store under BlobKey.
type VoiceMessage struct {
	ID           string
	OrgID        string
	PersonID     string
	CallerNumber string // the caller's number or extension, "" when withheld
	CallerName   string
	Created      time.Time
	Duration     time.Duration
	BlobKey      string
	Size         int64
	Read         bool
	// RecordingID is the SIPREC recording of the message when R26 had it
	// recorded, else "".
	RecordingID string `json:",omitempty"`
}

// Email returns the person's primary email.
func (p *Person) Email() string {
	if len(p.Emails) == 0 {
		return ""
	}
	return p.Emails[0]
}

// VirtualLine is an extra number assigned to people's devices (R31, R32).
type VirtualLine struct {
	ID          string
	OrgID       string
	LocationID  string
	FirstName   string
	LastName    string
	DisplayName string
	Extension   string
	PhoneNumber string
	Language    string
	People      []string // assigned person ids
	Listeners   []string // person ids who may listen to its recordings (R32 team)
	Recording   UserRecording
	ExternalID  string
	Created     time.Time
}

// Feature kinds.
const (
	FeatureAutoAttendant = "autoAttendant"
	FeatureCallQueue     = "callQueue"
	FeatureHuntGroup     = "huntGroup"
)

// Feature is an auto attendant, call queue or hunt group (R21).
type Feature struct {
	ID          string
	OrgID       string
	LocationID  string
	Kind        string // Feature*
	Name        string
	Extension   string
	PhoneNumber string
	Language    string
	Members     []string  // agents / hunt group members (person ids), in order
	Menu        []MenuKey // auto attendant: digit -> extension
	Created     time.Time
}

// MenuKey routes one auto-attendant digit to an extension.
type MenuKey struct {
	Digit  string `json:"digit"`
	Target string `json:"target"`
}

// Trunk is a PSTN peer of a location.
type Trunk struct {
	ID         string
	OrgID      string
	LocationID string
	Name       string
	Address    string // host or IP of the peer
	Port       int
	Transport  string // "udp" or "tcp"
	Numbers    []string
	Created    time.Time
}

// Provider is a recording platform reached over SIPREC (R5, R6). The
// built-in provider is callrec's own recorder.
type Provider struct {
	ID               string
	Name             string
	Description      string
	BuiltIn          bool
	LoginURL         string
	TermsURL         string
	TermsVersion     string
	Plans            []string // plan names; the built-in: go, team, premier
	AutoProvisioning bool     // R7 (built-in) vs R10 (external: user sync API)
	StorageOptions   []string // "provider" and/or "customer"
	Analytics        []string // e.g. "transcription", "sentiment"
	Regions          []string // region codes it is offered in; empty: everywhere (R6)
	SIPRECTarget     string   // SIP URI of its SRS
	BackupTarget     string   // tried before the failure behaviour (X1)
	Created          time.Time
}

// TermsAcceptance records an org's acceptance of a provider's terms (R13).
type TermsAcceptance struct {
	OrgID        string
	ProviderID   string
	Accepted     bool
	By           string // email of the admin who accepted
	At           time.Time
	Version      string
	CustomerName string       // external providers get the customer's name
	Shared       []SharedUser // exactly what was shared, per user
}

// SharedUser is what was shared with a provider about one user (R13).
type SharedUser struct {
	ID     string            `json:"id"`   // person or virtual line id
	Type   string            `json:"type"` // "PEOPLE" or "VIRTUAL_LINE"
	At     time.Time         `json:"at"`
	Fields map[string]string `json:"fields"` // timezone, firstName, lastName, email
}

// ProviderAccount is an org's account at a provider (R7, R11, R12, R32).
type ProviderAccount struct {
	OrgID      string
	ProviderID string
	Created    time.Time
	Admins     []string // emails of provider admins (R11)
	Members    []AccountMember
}

// AccountMember is one provisioned user or virtual line and its plan.
type AccountMember struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"` // "PEOPLE" or "VIRTUAL_LINE"
	Plan      string    `json:"plan"` // Plan*
	PlanSince time.Time `json:"planSince"`
	Added     time.Time `json:"added"`
}

// Job is a vendor change (Webex call-recording job).
type Job struct {
	ID         string
	OrgID      string
	LocationID string
	VendorID   string
	By         string // email of the admin
	TrackingID string // trackingId of the request that started it
	Created    time.Time
	Finished   time.Time
	Status     string // STARTING, STARTED, COMPLETED, FAILED
	Locations  int
	Users      int
	Failed     int
	Updated    int
	Errors     []JobError
}

// JobError is one item a job could not update.
type JobError struct {
	Item    string `json:"item"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// SIPRECSource binds a recording client (an SBC, PBX or callrec's own call
// plane) to an org: by source network, by digest credentials, or both.
type SIPRECSource struct {
	ID       string
	OrgID    string
	Name     string
	Networks []string // CIDRs
	SIP      *SIPCredentials
	Created  time.Time
}

// AnnouncementFile is an uploaded custom announcement (WAV).
type AnnouncementFile struct {
	ID         string
	OrgID      string
	LocationID string // "" for an org-level file
	Name       string
	FileName   string `json:",omitempty"` // the uploaded file's name
	BlobKey    string
	Size       int64
	Created    time.Time
	Updated    time.Time `json:",omitzero"` // when the audio was last replaced (zero: never)
}

// AuditEntry is one change or access, kept for admins and compliance
// officers (issue 4, X4).
type AuditEntry struct {
	ID         string
	OrgID      string // "" for partner-level objects (providers)
	Time       time.Time
	Actor      string // email, or "token:<id>" when the token has none
	ActorRole  string
	Action     string // "create", "update", "delete", "accept", "download", ...
	ObjectType string // "person", "orgRecording", "recording", ...
	ObjectID   string
	Before     []byte // JSON, nil when created
	After      []byte // JSON, nil when deleted
	TrackingID string
}
