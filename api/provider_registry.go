package api

// The recording provider registry (R5, R6): providers are partner-level
// objects of no org. Partner admins register, change and delete them;
// admins of any role read them (they choose vendors from them). Every
// rule is in package provider; these handlers read requests, check roles
// and render.

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
	"github.com/callrec/callrec/provider"
)

// provTimeLayout renders control-plane times (RFC 3339 UTC with
// milliseconds, "2024-05-08T14:12:28.371Z").
const provTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// provTime renders t, "" for the zero time.
func provTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(provTimeLayout)
}

// providerJSON is a recording provider as the API renders it.
type providerJSON struct {
	ID                      string   `json:"id"` // RECORDING_VENDOR id
	Name                    string   `json:"name"`
	Description             string   `json:"description"`
	BuiltIn                 bool     `json:"builtIn"`
	LoginURL                string   `json:"loginUrl"`
	TermsOfServiceURL       string   `json:"termsOfServiceUrl"`
	TermsOfServiceVersion   string   `json:"termsOfServiceVersion"`
	Plans                   []string `json:"plans"`
	AutoProvisioningEnabled bool     `json:"autoProvisioningEnabled"`
	StorageOptions          []string `json:"storageOptions"`
	AnalyticsFeatures       []string `json:"analyticsFeatures"`
	Regions                 []string `json:"regions" doc:"region codes it is offered in (R6); empty: every region"`
	SIPRECTarget            string   `json:"siprecTarget"`
	BackupSIPRECTarget      string   `json:"backupSiprecTarget"`
	Created                 string   `json:"created"`
}

// newProviderBody registers an external provider.
type newProviderBody struct {
	Name                    string   `json:"name"`
	Description             string   `json:"description,omitempty"`
	LoginURL                string   `json:"loginUrl,omitempty"`
	TermsOfServiceURL       string   `json:"termsOfServiceUrl" doc:"http(s) URL of the terms admins accept (R13)"`
	TermsOfServiceVersion   string   `json:"termsOfServiceVersion,omitempty" doc:"default 1"`
	Plans                   []string `json:"plans"`
	AutoProvisioningEnabled bool     `json:"autoProvisioningEnabled,omitempty" doc:"the provider keeps its accounts in step through the user sync API (R10)"`
	StorageOptions          []string `json:"storageOptions,omitempty" doc:"provider and/or customer; default [provider]"`
	AnalyticsFeatures       []string `json:"analyticsFeatures,omitempty"`
	Regions                 []string `json:"regions,omitempty" doc:"US, SG, GB, JP, DE, AU, IN, CA; empty: every region (R6)"`
	SIPRECTarget            string   `json:"siprecTarget" doc:"sip: or sips: URI of the provider's recording server"`
	BackupSIPRECTarget      string   `json:"backupSiprecTarget,omitempty" doc:"tried before the failure behaviour applies (X1)"`
}

// providerUpdateBody changes a provider; omitted fields keep their value
// (read-only fields of a GET body are ignored).
type providerUpdateBody struct {
	Name                    *string   `json:"name"`
	Description             *string   `json:"description"`
	LoginURL                *string   `json:"loginUrl"`
	TermsOfServiceURL       *string   `json:"termsOfServiceUrl"`
	TermsOfServiceVersion   *string   `json:"termsOfServiceVersion"`
	Plans                   *[]string `json:"plans"`
	AutoProvisioningEnabled *bool     `json:"autoProvisioningEnabled"`
	StorageOptions          *[]string `json:"storageOptions"`
	AnalyticsFeatures       *[]string `json:"analyticsFeatures"`
	Regions                 *[]string `json:"regions"`
	SIPRECTarget            *string   `json:"siprecTarget"`
	BackupSIPRECTarget      *string   `json:"backupSiprecTarget"`
}

// provStrings renders string lists as JSON arrays, never null.
func provStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func renderProvider(p *callrec.Provider) providerJSON {
	return providerJSON{
		ID: webexID(idVendor, p.ID), Name: p.Name, Description: p.Description, BuiltIn: p.BuiltIn,
		LoginURL: p.LoginURL, TermsOfServiceURL: p.TermsURL, TermsOfServiceVersion: p.TermsVersion,
		Plans: provStrings(p.Plans), AutoProvisioningEnabled: p.AutoProvisioning, StorageOptions: provStrings(p.StorageOptions),
		AnalyticsFeatures: provStrings(p.Analytics), Regions: provStrings(p.Regions),
		SIPRECTarget: p.SIPRECTarget, BackupSIPRECTarget: p.BackupTarget, Created: provTime(p.Created),
	}
}

// provAnyAdmin refuses roles that are no admin: providers are read by
// admins of any org (partner, full, read-only, location).
func provAnyAdmin(tok *callrec.Token) error {
	switch tok.Role {
	case callrec.RolePartnerAdmin, callrec.RoleFullAdmin, callrec.RoleReadOnlyAdmin, callrec.RoleLocationAdmin:
		return nil
	}
	return forbidden("The " + tok.Role + " role may not read recording providers")
}

// provPartnerOnly refuses every role but partner admins.
func provPartnerOnly(tok *callrec.Token) error {
	if isPartner(tok) {
		return nil
	}
	return forbidden("Only a partner administrator may register, change or delete recording providers")
}

// provProviderID parses the providerId path parameter; an id that names
// no provider is 404.
func provProviderID(r *http.Request, name, thing string) (string, error) {
	raw := r.PathValue(name)
	id, ok := parseID(idVendor, raw)
	if !ok {
		return "", notFoundf("%s %s was not found", thing, quote(raw))
	}
	return id, nil
}

// provLoad reads the provider named by the path, 404 naming the raw id.
func provLoad(r *http.Request, tx directory.Tx, name, thing string) (*callrec.Provider, error) {
	id, err := provProviderID(r, name, thing)
	if err != nil {
		return nil, err
	}
	p, err := provider.Get(r.Context(), tx, id)
	if errors.Is(err, callrec.ErrNotFound) {
		return nil, notFoundf("%s %s was not found", thing, quote(r.PathValue(name)))
	}
	return p, err
}

// provList is GET .../providers.
func (s *server) provList(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	if err := provAnyAdmin(tok); err != nil {
		return err
	}
	start, max, err := pageParams(r, 100, 1000)
	if err != nil {
		return err
	}
	var all []callrec.Provider
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		all, err = directory.Providers.List(r.Context(), tx, "")
		return err
	}); err != nil {
		return err
	}
	// The built-in provider first, then the others as registered.
	slices.SortStableFunc(all, func(a, b callrec.Provider) int {
		switch {
		case a.BuiltIn == b.BuiltIn:
			return 0
		case a.BuiltIn:
			return -1
		}
		return 1
	})
	items := make([]providerJSON, 0, len(all))
	for i := range all {
		items = append(items, renderProvider(&all[i]))
	}
	writePage(s, w, r, items, start, max, "items", nil)
	return nil
}

// provCreate is POST .../providers.
func (s *server) provCreate(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	if err := provPartnerOnly(tok); err != nil {
		return err
	}
	var body newProviderBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	p := &callrec.Provider{
		Name: body.Name, Description: body.Description, LoginURL: body.LoginURL,
		TermsURL: body.TermsOfServiceURL, TermsVersion: body.TermsOfServiceVersion, Plans: body.Plans,
		AutoProvisioning: body.AutoProvisioningEnabled, StorageOptions: body.StorageOptions,
		Analytics: body.AnalyticsFeatures, Regions: body.Regions,
		SIPRECTarget: body.SIPRECTarget, BackupTarget: body.BackupSIPRECTarget,
	}
	if p.StorageOptions == nil {
		p.StorageOptions = []string{provider.StorageProvider}
	}
	err := s.store.Update(r.Context(), func(tx directory.Tx) error {
		if err := provider.Register(r.Context(), tx, p, s.now()); err != nil {
			return ruleError(err)
		}
		return s.audit(r.Context(), tx, tok, "", "create", auditProvider, p.ID, nil, p)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderProvider(p))
	return nil
}

// provGet is GET .../providers/{providerId}.
func (s *server) provGet(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	if err := provAnyAdmin(tok); err != nil {
		return err
	}
	var p *callrec.Provider
	if err := s.store.View(r.Context(), func(tx directory.Tx) error {
		var err error
		p, err = provLoad(r, tx, "providerId", "Provider")
		return err
	}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderProvider(p))
	return nil
}

// provUpdate is PUT .../providers/{providerId}.
func (s *server) provUpdate(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	if err := provPartnerOnly(tok); err != nil {
		return err
	}
	if _, err := provProviderID(r, "providerId", "Provider"); err != nil {
		return err
	}
	var body providerUpdateBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	var next callrec.Provider
	err := s.store.Update(r.Context(), func(tx directory.Tx) error {
		prev, err := provLoad(r, tx, "providerId", "Provider")
		if err != nil {
			return err
		}
		next = *prev
		next.Plans = slices.Clone(prev.Plans)
		next.StorageOptions = slices.Clone(prev.StorageOptions)
		next.Analytics = slices.Clone(prev.Analytics)
		next.Regions = slices.Clone(prev.Regions)
		for _, f := range []struct {
			in  *string
			out *string
		}{
			{body.Name, &next.Name}, {body.Description, &next.Description}, {body.LoginURL, &next.LoginURL},
			{body.TermsOfServiceURL, &next.TermsURL}, {body.TermsOfServiceVersion, &next.TermsVersion},
			{body.SIPRECTarget, &next.SIPRECTarget}, {body.BackupSIPRECTarget, &next.BackupTarget},
		} {
			if f.in != nil {
				*f.out = *f.in
			}
		}
		for _, f := range []struct {
			in  *[]string
			out *[]string
		}{
			{body.Plans, &next.Plans}, {body.StorageOptions, &next.StorageOptions},
			{body.AnalyticsFeatures, &next.Analytics}, {body.Regions, &next.Regions},
		} {
			if f.in != nil {
				*f.out = *f.in
			}
		}
		if body.AutoProvisioningEnabled != nil {
			next.AutoProvisioning = *body.AutoProvisioningEnabled
		}
		if err := provider.Update(r.Context(), tx, prev, &next); err != nil {
			return ruleError(err)
		}
		return s.audit(r.Context(), tx, tok, "", "update", auditProvider, prev.ID, prev, &next)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderProvider(&next))
	return nil
}

// provDelete is DELETE .../providers/{providerId}.
func (s *server) provDelete(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	if err := provPartnerOnly(tok); err != nil {
		return err
	}
	err := s.store.Update(r.Context(), func(tx directory.Tx) error {
		p, err := provLoad(r, tx, "providerId", "Provider")
		if err != nil {
			return err
		}
		if err := provider.Delete(r.Context(), tx, p.ID); err != nil {
			return ruleError(err)
		}
		return s.audit(r.Context(), tx, tok, "", "delete", auditProvider, p.ID, p, nil)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
