// Package provider is the registry of recording providers and what
// callrec does on their behalf: registering and validating providers (R5,
// R6, X2), terms of service acceptance and what it shares (R13),
// automatic provisioning into the built-in provider's accounts (R7, R11,
// R12, R32), plan changes and their effect on retention (R8, R9), and the
// user list external providers read to keep their accounts in step (R10,
// R33).
//
// It works on a [directory.Tx] that the caller opens, so every change is
// committed (or rolled back) with the caller's own change and audit entry.
// Errors a client may read are *policy.RuleError (a message naming the
// API field, the allowed values and the rule) or *policy.TermsError;
// others are internal and wrapped with context.
//
// It must never do network I/O, read the clock (times are arguments),
// create accounts or users for external providers (R10, R33), or decide a
// rule that belongs to policy/ (it asks policy: who may become a provider
// admin, which fields are shared, which plans keep recordings).
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/policy"
	"github.com/google/uuid"
)

// Actor is who causes a change.
type Actor struct {
	Email        string // the caller's email (provider-admin identity, R11, R12)
	PartnerAdmin bool   // the caller is a partner admin (R12)
}

// BuiltInName is the name of the built-in provider.
const BuiltInName = "callrec"

// Storage options a provider may declare (R5): its own cloud, or the
// customer's storage.
const (
	StorageProvider = "provider"
	StorageCustomer = "customer"
)

// StorageOptions lists the storage options, in the order the docs
// present them. Callers must not modify it.
var StorageOptions = []string{StorageProvider, StorageCustomer}

// BuiltInPlans are the built-in provider's plans (R3, R4), free first.
// Callers must not modify it.
var BuiltInPlans = []string{callrec.PlanGo, callrec.PlanTeam, callrec.PlanPremier}

// Member types of a provider account, spelled as Webex's MemberType.
const (
	TypePerson      = "PEOPLE"
	TypeVirtualLine = "VIRTUAL_LINE"
)

// Limits on a provider registration. They keep documents small and
// messages readable; no real provider comes near them.
const (
	maxNameLen  = 128  // name
	maxTextLen  = 2048 // description, URLs, SIP URIs
	maxListLen  = 32   // plans, analytics features, regions, storage options
	maxEntryLen = 64   // one plan or analytics feature name
)

// BuiltIn returns the built-in provider: callrec's own recorder, with the
// plans go, team and premier (R3, R4), automatic provisioning (R7), storage
// in the provider's own cloud, offered in every known region (X2), terms
// version "1" without a URL (Webex shows "" for its own), and target as its
// SIPREC target.
func BuiltIn(target string) callrec.Provider {
	return callrec.Provider{
		ID:               callrec.BuiltInProviderID,
		Name:             BuiltInName,
		Description:      "callrec built-in recorder",
		BuiltIn:          true,
		Plans:            slices.Clone(BuiltInPlans),
		AutoProvisioning: true,
		StorageOptions:   []string{StorageProvider},
		Regions:          slices.Clone(policy.StorageRegions),
		TermsVersion:     "1",
		SIPRECTarget:     target,
	}
}

// EnsureBuiltIn stores the built-in provider when it is missing, or
// updates its SIPREC target when it changed; what an administrator changed
// (description, regions, ...) is kept. target may be "" (the call plane
// reaches the built-in recorder without a URI); otherwise it must be a
// sip: or sips: URI.
func EnsureBuiltIn(ctx context.Context, st directory.Store, target string) error {
	if target != "" {
		if err := ValidateSIPURI(target); err != nil {
			return fmt.Errorf("provider: built-in SIPREC target %q: %w", target, err)
		}
	}
	err := st.Update(ctx, func(tx directory.Tx) error {
		p, err := directory.Providers.Get(ctx, tx, "", callrec.BuiltInProviderID)
		switch {
		case directory.IsNotFound(err):
			b := BuiltIn(target)
			b.Created = time.Now().UTC()
			return directory.Providers.Put(ctx, tx, &b)
		case err != nil:
			return err
		case p.SIPRECTarget == target && p.BuiltIn:
			return nil
		}
		p.SIPRECTarget = target
		p.BuiltIn = true
		return directory.Providers.Put(ctx, tx, p)
	})
	if err != nil {
		return fmt.Errorf("provider: ensure built-in: %w", err)
	}
	return nil
}

// invalid is a 400 naming field.
func invalid(rule, field, format string, args ...any) *policy.RuleError {
	return &policy.RuleError{Rule: rule, Field: field, Kind: callrec.ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}

// conflict is a 409 naming field.
func conflict(rule, field, format string, args ...any) *policy.RuleError {
	return &policy.RuleError{Rule: rule, Field: field, Kind: callrec.ErrConflict, Msg: fmt.Sprintf(format, args...)}
}

// notFound is a 404.
func notFound(rule, field, format string, args ...any) *policy.RuleError {
	return &policy.RuleError{Rule: rule, Field: field, Kind: callrec.ErrNotFound, Msg: fmt.Sprintf(format, args...)}
}

// quote renders user input in a message, shortened.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}

// checkText rejects text a store cannot keep (invalid UTF-8, NUL) or
// longer than max bytes.
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return invalid("", field, "%s: is not valid UTF-8", field)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return invalid("", field, "%s: must not contain a NUL character", field)
	}
	if len(v) > max {
		return invalid("", field, "%s: is longer than %d bytes", field, max)
	}
	return nil
}

// checkList checks a list field: at most maxListLen entries, each
// non-empty, at most maxEntryLen bytes, printable, and listed once.
func checkList(field string, vs []string) error {
	if len(vs) > maxListLen {
		return invalid("R5", field, "%s: at most %d entries are allowed, not %d (R5)", field, maxListLen, len(vs))
	}
	seen := make(map[string]bool, len(vs))
	for _, v := range vs {
		if err := checkText(field, v, maxEntryLen); err != nil {
			return err
		}
		if strings.TrimSpace(v) == "" {
			return invalid("R5", field, "%s: entries must not be empty (R5)", field)
		}
		if seen[v] {
			return invalid("R5", field, "%s: %s is listed twice (R5)", field, quote(v))
		}
		seen[v] = true
	}
	return nil
}

// checkURL checks an optional http or https URL.
func checkURL(field, v string) error {
	if v == "" {
		return nil
	}
	if err := checkText(field, v, maxTextLen); err != nil {
		return err
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("", field, "%s: %s is not an absolute http or https URL", field, quote(v))
	}
	return nil
}

// Validate checks a provider registration (R5, R6, R13, X2) and returns
// the first problem as a *policy.RuleError naming the API field: a name;
// a SIPREC target (and an optional backup, X1) that is a sip: or sips:
// URI; at least one plan; storage options among StorageOptions (at least
// one); regions among policy.StorageRegions (none: offered everywhere,
// R6); http(s) login and terms URLs, the terms URL required for an
// external provider, whose terms an admin must read before accepting
// them (R13); a terms version. The built-in provider must keep its name
// and plans, and may have no SIPREC target (the call plane reaches it
// without one).
func Validate(p *callrec.Provider) error {
	if p == nil {
		return invalid("R5", "", "a provider is required")
	}
	if strings.TrimSpace(p.Name) == "" {
		return invalid("R5", "name", "name: is required (R5)")
	}
	if err := checkText("name", p.Name, maxNameLen); err != nil {
		return err
	}
	if err := checkText("description", p.Description, maxTextLen); err != nil {
		return err
	}
	if p.SIPRECTarget == "" && !p.BuiltIn {
		return invalid("R5", "siprecTarget", "siprecTarget: is required: the sip: or sips: URI of the provider's recording server (R5)")
	}
	if p.SIPRECTarget != "" {
		if err := ValidateSIPURI(p.SIPRECTarget); err != nil {
			return invalid("R5", "siprecTarget", "siprecTarget: %s is not a SIP URI: %v (R5)", quote(p.SIPRECTarget), err)
		}
	}
	if p.BackupTarget != "" {
		if err := ValidateSIPURI(p.BackupTarget); err != nil {
			return invalid("X1", "backupSiprecTarget", "backupSiprecTarget: %s is not a SIP URI: %v (X1)", quote(p.BackupTarget), err)
		}
	}
	if len(p.Plans) == 0 {
		return invalid("R5", "plans", "plans: at least one plan is required (R5)")
	}
	if err := checkList("plans", p.Plans); err != nil {
		return err
	}
	if len(p.StorageOptions) == 0 {
		return invalid("R5", "storageOptions", "storageOptions: at least one of %s is required (R5)", strings.Join(StorageOptions, ", "))
	}
	if err := checkList("storageOptions", p.StorageOptions); err != nil {
		return err
	}
	for _, o := range p.StorageOptions {
		if !slices.Contains(StorageOptions, o) {
			return invalid("R5", "storageOptions", "storageOptions: %s is not one of %s (R5)", quote(o), strings.Join(StorageOptions, ", "))
		}
	}
	if err := checkList("analyticsFeatures", p.Analytics); err != nil {
		return err
	}
	if err := checkList("regions", p.Regions); err != nil {
		return err
	}
	for _, r := range p.Regions {
		if !slices.Contains(policy.StorageRegions, r) {
			return invalid("R6", "regions", "regions: %s is not a known region; allowed: %s (R6)", quote(r), strings.Join(policy.StorageRegions, ", "))
		}
	}
	if err := checkURL("loginUrl", p.LoginURL); err != nil {
		return err
	}
	if p.TermsURL == "" && !p.BuiltIn {
		return invalid("R13", "termsOfServiceUrl", "termsOfServiceUrl: is required for an external provider: admins read the terms there before accepting them (R13)")
	}
	if err := checkURL("termsOfServiceUrl", p.TermsURL); err != nil {
		return err
	}
	if strings.TrimSpace(p.TermsVersion) == "" {
		return invalid("R13", "termsOfServiceVersion", "termsOfServiceVersion: is required (R13)")
	}
	if err := checkText("termsOfServiceVersion", p.TermsVersion, maxEntryLen); err != nil {
		return err
	}
	if p.BuiltIn {
		if p.ID != callrec.BuiltInProviderID || p.Name != BuiltInName {
			return conflict("R3", "name", "name: the built-in provider is called %s and cannot be renamed", quote(BuiltInName))
		}
		if !slices.Equal(p.Plans, BuiltInPlans) {
			return conflict("R3", "plans", "plans: the built-in provider's plans are %s and cannot be changed (R3, R4)", strings.Join(BuiltInPlans, ", "))
		}
		if !p.AutoProvisioning {
			return conflict("R7", "autoProvisioningEnabled", "autoProvisioningEnabled: the built-in provider always provisions automatically (R7)")
		}
	}
	return nil
}

// ValidateSIPURI checks that s is a SIP or SIPS URI as RFC 3261 §19.1.1
// and §25.1 define them, the way a recording target is written:
// "sip:" or "sips:" (any case), an optional userinfo ending in "@", a host
// (a domain name, an IPv4 address or a bracketed IPv6 reference), an
// optional port 1..65535, and optional ";name[=value]" URI parameters
// (e.g. ";transport=tcp"). Headers ("?...") are refused: a target carries
// none. The error says what is wrong.
func ValidateSIPURI(s string) error {
	if len(s) > maxTextLen {
		return fmt.Errorf("longer than %d bytes", maxTextLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return errors.New("contains a space, a control character or a non-ASCII byte")
		}
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || (!strings.EqualFold(scheme, "sip") && !strings.EqualFold(scheme, "sips")) {
		return errors.New("must start with \"sip:\" or \"sips:\"")
	}
	if strings.ContainsAny(rest, "?<>\"") {
		return errors.New("must not contain headers (?), angle brackets or quotes")
	}
	// RFC 3261 §25.1: the user part may contain ';' (telephone-subscriber
	// parameters) but no unescaped '@', and URI parameters hold no '@':
	// the last '@' ends the userinfo.
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if at == 0 {
			return errors.New("empty user part before @")
		}
		rest = rest[at+1:]
	}
	hostport, params, _ := strings.Cut(rest, ";")
	if err := checkHostPort(hostport); err != nil {
		return err
	}
	if params == "" && strings.HasSuffix(rest, ";") {
		return errors.New("empty URI parameter")
	}
	if params != "" {
		for _, p := range strings.Split(params, ";") {
			name, _, _ := strings.Cut(p, "=")
			if name == "" || !isToken(name) {
				return fmt.Errorf("URI parameter %q has no valid name", p)
			}
		}
	}
	return nil
}

// checkHostPort checks RFC 3261 hostport = host [":" port].
func checkHostPort(hp string) error {
	if hp == "" {
		return errors.New("no host")
	}
	host, port := hp, ""
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return errors.New("unterminated IPv6 reference")
		}
		host, port = hp[1:end], hp[end+1:]
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() || a.Zone() != "" {
			return fmt.Errorf("%q is not an IPv6 address", host)
		}
		if port != "" {
			var ok bool
			if port, ok = strings.CutPrefix(port, ":"); !ok {
				return errors.New("unexpected text after the IPv6 reference")
			}
		} else if len(hp) > end+1 {
			return errors.New("unexpected text after the IPv6 reference")
		}
	} else {
		if strings.Count(hp, ":") > 1 {
			return fmt.Errorf("IPv6 address %q must be in brackets", hp)
		}
		if i := strings.LastIndexByte(hp, ':'); i >= 0 {
			host, port = hp[:i], hp[i+1:]
			if port == "" {
				return errors.New("empty port")
			}
		}
		if err := checkHost(host); err != nil {
			return err
		}
	}
	if port != "" || strings.HasSuffix(hp, ":") {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '+' || port[0] == '-' {
			return fmt.Errorf("port %q is not a number from 1 to 65535", port)
		}
	}
	return nil
}

// checkHost checks a hostname or an IPv4 address (RFC 3261 §25.1).
func checkHost(h string) error {
	if h == "" {
		return errors.New("no host")
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if !a.Is4() {
			return fmt.Errorf("IPv6 address %q must be in brackets", h)
		}
		return nil
	}
	name := strings.TrimSuffix(h, ".")
	if name == "" || len(name) > 253 {
		return fmt.Errorf("host %q is not a valid name", h)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("host %q is not a valid name", h)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("host %q is not a valid name", h)
			}
		}
	}
	// toplabel = alpha / alpha *( alphanum / "-" ) alphanum: a dotted
	// all-numeric name that is no IPv4 address is a typo.
	if top := labels[len(labels)-1]; top[0] >= '0' && top[0] <= '9' {
		return fmt.Errorf("host %q is neither an IPv4 address nor a domain name", h)
	}
	return nil
}

// isToken reports whether s is an RFC 3261 token (pname characters).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return false
		}
	}
	return true
}

// Register validates p as a new external provider and stores it with a
// new id, Created now and BuiltIn false; an empty TermsVersion becomes
// "1". A name another provider has (compared without case) is a conflict
// naming the field.
func Register(ctx context.Context, tx directory.Tx, p *callrec.Provider, now time.Time) error {
	if p == nil {
		return invalid("R5", "", "a provider is required")
	}
	p.ID = uuid.NewString()
	p.BuiltIn = false
	p.Created = now.UTC()
	if p.TermsVersion == "" {
		p.TermsVersion = "1"
	}
	if err := Validate(p); err != nil {
		return err
	}
	return put(ctx, tx, p)
}

// put stores p, turning a taken name into a conflict naming the field.
func put(ctx context.Context, tx directory.Tx, p *callrec.Provider) error {
	if err := directory.Providers.Put(ctx, tx, p); err != nil {
		if errors.Is(err, callrec.ErrConflict) {
			return conflict("R5", "name", "name: %s is already the name of another provider", quote(p.Name))
		}
		return fmt.Errorf("provider: store %s: %w", p.ID, err)
	}
	return nil
}

// Get returns the provider with id, or a not-found error naming it.
func Get(ctx context.Context, tx directory.Tx, id string) (*callrec.Provider, error) {
	p, err := directory.Providers.Get(ctx, tx, "", id)
	if directory.IsNotFound(err) {
		return nil, notFound("R5", "providerId", "Provider %s was not found", quote(id))
	}
	if err != nil {
		return nil, fmt.Errorf("provider: get %s: %w", id, err)
	}
	return p, nil
}

// Update validates next, the new state of the stored provider prev, and
// stores it. Its id, BuiltIn flag and Created time are prev's. The
// built-in provider keeps its name, plans and automatic provisioning
// (conflicts naming the field) and its SIPREC target, which the server's
// configuration sets (EnsureBuiltIn).
func Update(ctx context.Context, tx directory.Tx, prev, next *callrec.Provider) error {
	if prev == nil || next == nil {
		return invalid("R5", "", "a provider is required")
	}
	next.ID, next.BuiltIn, next.Created = prev.ID, prev.BuiltIn, prev.Created
	if prev.BuiltIn && next.SIPRECTarget != prev.SIPRECTarget {
		return conflict("R5", "siprecTarget", "siprecTarget: the built-in provider's target is set by the server's --siprec setting and cannot be changed here")
	}
	if err := Validate(next); err != nil {
		return err
	}
	return put(ctx, tx, next)
}

// Delete removes an external provider. The built-in provider cannot be
// deleted, nor a provider an org or a location has chosen (R14, R16):
// both are conflicts. Acceptances of its terms stay, as history.
func Delete(ctx context.Context, tx directory.Tx, id string) error {
	p, err := Get(ctx, tx, id)
	if err != nil {
		return err
	}
	if p.BuiltIn {
		return conflict("R3", "providerId", "The built-in provider %s cannot be deleted", quote(p.Name))
	}
	orgs, err := directory.Orgs.List(ctx, tx, "")
	if err != nil {
		return fmt.Errorf("provider: delete %s: %w", id, err)
	}
	// Count, never name, the users: a partner admin must not learn the
	// orgs of other partners.
	var nOrgs, nLocs int
	for _, o := range orgs {
		if o.Recording.VendorID == id {
			nOrgs++
		}
	}
	locs, err := directory.Locations.List(ctx, tx, "")
	if err != nil {
		return fmt.Errorf("provider: delete %s: %w", id, err)
	}
	for _, l := range locs {
		if l.Recording.VendorID == id {
			nLocs++
		}
	}
	if nOrgs+nLocs > 0 {
		return conflict("R14", "providerId", "Provider %s is in use (chosen by %d org(s) and %d location(s)) and cannot be deleted; choose another provider there first (R14, R16)",
			quote(p.Name), nOrgs, nLocs)
	}
	if err := directory.Providers.Delete(ctx, tx, "", id); err != nil {
		return fmt.Errorf("provider: delete %s: %w", id, err)
	}
	return nil
}
