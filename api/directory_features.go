package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// featureKind describes one kind of feature (auto attendant, call queue,
// hunt group) under its Webex paths.
type featureKind struct {
	kind     string // callrec.Feature*
	idType   string // Webex id type
	segment  string // path segment: autoAttendants, queues, huntGroups
	wildcard string // path wildcard of its id
	thing    string // "Auto attendant", ... in messages
	agents   bool   // has agents (queues and hunt groups)
	tag      string
}

var (
	kindAutoAttendant = featureKind{callrec.FeatureAutoAttendant, idAutoAttend, "autoAttendants", "autoAttendantId", "Auto attendant", false, "Auto Attendants"}
	kindCallQueue     = featureKind{callrec.FeatureCallQueue, idCallQueue, "queues", "queueId", "Call queue", true, "Call Queues"}
	kindHuntGroup     = featureKind{callrec.FeatureHuntGroup, idHuntGroup, "huntGroups", "huntGroupId", "Hunt group", true, "Hunt Groups"}
)

// menuKeyJSON routes one digit of an auto attendant's business-hours
// menu to an extension (callrec's shape of the Webex menu).
type menuKeyJSON struct {
	Key       string `json:"key" doc:"0-9, * or #"`
	Extension string `json:"extension"`
}

// agentRefJSON names a person in a request (queue or hunt group agent).
type agentRefJSON struct {
	ID string `json:"id"`
}

// agentJSON is one agent of a call queue or hunt group, in order.
type agentJSON struct {
	ID          string `json:"id"`
	FirstName   string `json:"firstName,omitempty"`
	LastName    string `json:"lastName,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// autoAttendantJSON is an auto attendant. (The feature types spell out
// their fields rather than embed a common struct: the OpenAPI generator
// documents the fields of named fields only.)
type autoAttendantJSON struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	LocationID   string        `json:"locationId"`
	PhoneNumber  string        `json:"phoneNumber,omitempty"`
	Extension    string        `json:"extension,omitempty"`
	LanguageCode string        `json:"languageCode" doc:"announcement language of calls to the feature (R21)"`
	Menu         []menuKeyJSON `json:"menu"`
	Created      string        `json:"created"`
}

// agentFeatureJSON is a call queue or a hunt group.
type agentFeatureJSON struct {
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	LocationID   string      `json:"locationId"`
	PhoneNumber  string      `json:"phoneNumber,omitempty"`
	Extension    string      `json:"extension,omitempty"`
	LanguageCode string      `json:"languageCode" doc:"announcement language of calls to the feature (R21)"`
	Agents       []agentJSON `json:"agents" doc:"in hunting order"`
	Created      string      `json:"created"`
}

// callQueueJSON is a call queue (documented under its own name).
type callQueueJSON agentFeatureJSON

// huntGroupJSON is a hunt group (documented under its own name).
type huntGroupJSON agentFeatureJSON

// newAutoAttendantBody is the body of POST .../autoAttendants.
type newAutoAttendantBody struct {
	Name         string        `json:"name"`
	PhoneNumber  string        `json:"phoneNumber,omitempty" doc:"E.164; phoneNumber or extension is required"`
	Extension    string        `json:"extension,omitempty"`
	LanguageCode string        `json:"languageCode,omitempty" doc:"default the location's language"`
	Menu         []menuKeyJSON `json:"menu,omitempty"`
}

// autoAttendantUpdateBody is the body of PUT .../autoAttendants/{id}.
type autoAttendantUpdateBody struct {
	Name         *string       `json:"name,omitempty"`
	PhoneNumber  *string       `json:"phoneNumber,omitempty"`
	Extension    *string       `json:"extension,omitempty"`
	LanguageCode *string       `json:"languageCode,omitempty"`
	Menu         []menuKeyJSON `json:"menu,omitempty"`
}

// newAgentFeatureBody is the body of POST .../queues and .../huntGroups.
type newAgentFeatureBody struct {
	Name         string         `json:"name"`
	PhoneNumber  string         `json:"phoneNumber,omitempty" doc:"E.164; phoneNumber or extension is required"`
	Extension    string         `json:"extension,omitempty"`
	LanguageCode string         `json:"languageCode,omitempty" doc:"default the location's language"`
	Agents       []agentRefJSON `json:"agents,omitempty" doc:"people of the org, in hunting order"`
}

// agentFeatureUpdateBody is the body of PUT .../queues/{id} and .../huntGroups/{id}.
type agentFeatureUpdateBody struct {
	Name         *string        `json:"name,omitempty"`
	PhoneNumber  *string        `json:"phoneNumber,omitempty"`
	Extension    *string        `json:"extension,omitempty"`
	LanguageCode *string        `json:"languageCode,omitempty"`
	Agents       []agentRefJSON `json:"agents,omitempty"`
}

// featureInput is what the handlers read from any feature body: the
// union of the kinds' fields (a kind ignores the other kind's list, as
// any unknown field).
type featureInput struct {
	Name         *string        `json:"name"`
	PhoneNumber  *string        `json:"phoneNumber"`
	Extension    *string        `json:"extension"`
	LanguageCode *string        `json:"languageCode"`
	Menu         []menuKeyJSON  `json:"menu"`
	Agents       []agentRefJSON `json:"agents"`
}

// featureRoutes registers the auto attendants, call queues and hunt groups.
func (s *server) featureRoutes() {
	for _, k := range []featureKind{kindAutoAttendant, kindCallQueue, kindHuntGroup} {
		var item, newBody, updBody any
		var list any
		switch k.kind {
		case callrec.FeatureAutoAttendant:
			item, newBody, updBody = autoAttendantJSON{}, newAutoAttendantBody{}, autoAttendantUpdateBody{}
			list = struct {
				AutoAttendants []autoAttendantJSON `json:"autoAttendants"`
			}{}
		case callrec.FeatureCallQueue:
			item, newBody, updBody = callQueueJSON{}, newAgentFeatureBody{}, agentFeatureUpdateBody{}
			list = struct {
				Queues []callQueueJSON `json:"queues"`
			}{}
		default:
			item, newBody, updBody = huntGroupJSON{}, newAgentFeatureBody{}, agentFeatureUpdateBody{}
			list = struct {
				HuntGroups []huntGroupJSON `json:"huntGroups"`
			}{}
		}
		lower := strings.ToLower(k.thing[:1]) + k.thing[1:]
		added := "created"
		if !k.agents {
			added = "created and menu (the business-hours menu as digit-to-extension keys)"
		}
		base := "/v1/telephony/config/locations/{locationId}/" + k.segment
		listQuery := append(append([]param{}, orgDirectoryQuery...), param{"name", "string", "only " + lower + "s whose name starts with this (case-insensitive)"})
		s.register(op{Method: "GET", Path: "/v1/telephony/config/" + k.segment, Summary: "List the organization's " + lower + "s", Tag: k.tag,
			Access: "org admins (read)", Query: append(listQuery, param{"locationId", "string", "only " + lower + "s of this location"}),
			Resp: list, Handler: s.inOrgScope(permRead, s.listFeatures(k, false))})
		s.register(op{Method: "GET", Path: base, Summary: "List a location's " + lower + "s", Tag: k.tag,
			Access: "org admins (read)", Query: listQuery, Resp: list, Handler: s.inOrgScope(permRead, s.listFeatures(k, true))})
		s.register(op{Method: "POST", Path: base, Summary: "Create a " + lower + " in a location (languageCode is its announcement language, R21); callrec adds " + added, Tag: k.tag,
			Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID},
			Body: newBody, Resp: item, Handler: s.inOrgScope(permWrite, s.createFeature(k))})
		s.register(op{Method: "GET", Path: base + "/{" + k.wildcard + "}", Summary: "Get a " + lower, Tag: k.tag,
			Access: "org admins (read)", Query: []param{qOrgID}, Resp: item, Handler: s.inOrgScope(permRead, s.getFeature(k))})
		s.register(op{Method: "PUT", Path: base + "/{" + k.wildcard + "}", Summary: "Update a " + lower + " (partial: omitted fields keep their value; lists given replace the old ones)", Tag: k.tag,
			Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID},
			Body: updBody, Resp: item, Handler: s.inOrgScope(permWrite, s.updateFeature(k))})
		s.register(op{Method: "DELETE", Path: base + "/{" + k.wildcard + "}", Summary: "Delete a " + lower, Tag: k.tag,
			Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID},
			Handler: s.inOrgScope(permWrite, s.deleteFeature(k))})
	}
}

// renderFeature renders f as its kind's JSON; people resolves agent names.
func renderFeature(k featureKind, f *callrec.Feature, people map[string]*callrec.Person) any {
	id, loc, created := webexID(k.idType, f.ID), webexID(idLocation, f.LocationID), dirTime(f.Created)
	if !k.agents {
		menu := make([]menuKeyJSON, 0, len(f.Menu))
		for _, m := range f.Menu {
			menu = append(menu, menuKeyJSON{Key: m.Digit, Extension: m.Target})
		}
		return autoAttendantJSON{ID: id, Name: f.Name, LocationID: loc, PhoneNumber: f.PhoneNumber, Extension: f.Extension,
			LanguageCode: f.Language, Menu: menu, Created: created}
	}
	agents := make([]agentJSON, 0, len(f.Members))
	for _, pid := range f.Members {
		a := agentJSON{ID: webexID(idPerson, pid)}
		if p := people[pid]; p != nil {
			a.FirstName, a.LastName, a.DisplayName = p.FirstName, p.LastName, p.DisplayName
		}
		agents = append(agents, a)
	}
	out := agentFeatureJSON{ID: id, Name: f.Name, LocationID: loc, PhoneNumber: f.PhoneNumber, Extension: f.Extension,
		LanguageCode: f.Language, Agents: agents, Created: created}
	if k.kind == callrec.FeatureCallQueue {
		return callQueueJSON(out)
	}
	return huntGroupJSON(out)
}

// peopleByID reads the org's people as a map (agent names).
func peopleByID(ctx context.Context, tx directory.Tx, orgID string) (map[string]*callrec.Person, error) {
	all, err := directory.People.List(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*callrec.Person, len(all))
	for i := range all {
		m[all[i].ID] = &all[i]
	}
	return m, nil
}

// featureFields validates and applies a feature body to f.
func featureFields(ctx context.Context, tx directory.Tx, orgID string, k featureKind, f *callrec.Feature, in *featureInput) error {
	if in.Name != nil {
		v, err := dirRequiredText("name", *in.Name, maxNameLen)
		if err != nil {
			return err
		}
		f.Name = v
	}
	if in.PhoneNumber != nil {
		v, err := dirE164("phoneNumber", *in.PhoneNumber)
		if err != nil {
			return err
		}
		f.PhoneNumber = v
	}
	if in.Extension != nil {
		v, err := dirExtension("extension", *in.Extension)
		if err != nil {
			return err
		}
		f.Extension = v
	}
	if in.LanguageCode != nil {
		v, err := dirLanguage("languageCode", *in.LanguageCode)
		if err != nil {
			return err
		}
		if v != "" {
			f.Language = v
		}
	}
	if k.agents && in.Agents != nil {
		raw := make([]string, 0, len(in.Agents))
		for _, a := range in.Agents {
			raw = append(raw, a.ID)
		}
		ids, err := dirPeopleRefs(ctx, tx, orgID, "agents", ".id", raw)
		if err != nil {
			return err
		}
		f.Members = ids
	}
	if !k.agents && in.Menu != nil {
		if len(in.Menu) > 12 {
			return badRequest("menu: at most 12 keys (0-9, * and #)")
		}
		menu := make([]callrec.MenuKey, 0, len(in.Menu))
		seen := map[string]bool{}
		for i, m := range in.Menu {
			key := strings.TrimSpace(m.Key)
			if len(key) != 1 || !strings.Contains("0123456789*#", key) {
				return badRequestf("menu[%d].key: %s must be one of 0-9, * or #", i, quote(m.Key))
			}
			if seen[key] {
				return badRequestf("menu[%d].key: %s is listed twice", i, quote(key))
			}
			seen[key] = true
			ext, err := dirExtension(fmt.Sprintf("menu[%d].extension", i), m.Extension)
			if err != nil {
				return err
			}
			if ext == "" {
				return badRequestf("menu[%d].extension: required", i)
			}
			menu = append(menu, callrec.MenuKey{Digit: key, Target: ext})
		}
		f.Menu = menu
	}
	switch {
	case f.Name == "":
		return badRequest("name: required")
	case f.PhoneNumber == "" && f.Extension == "":
		return badRequest("phoneNumber, extension: one of them is required")
	}
	return nil
}

// featureKeys are the unique keys a feature holds.
func featureKeys(f *callrec.Feature) []keyUse {
	var uses []keyUse
	if f.Extension != "" {
		uses = append(uses, numUse(f.OrgID, "extension", f.Extension))
	}
	if f.PhoneNumber != "" {
		uses = append(uses, numUse(f.OrgID, "phoneNumber", f.PhoneNumber))
	}
	return uses
}

// listFeatures is GET /v1/telephony/config/{segment} (org-wide, with an
// optional locationId filter) and GET .../locations/{locationId}/{segment}.
func (s *server) listFeatures(k featureKind, inLocation bool) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
		start, max, err := listParams100(r)
		if err != nil {
			return err
		}
		prefix := strings.ToLower(r.URL.Query().Get("name"))
		locID, locSet, locOK := locationFilter(r.URL.Query().Get("locationId"))
		var feats []callrec.Feature
		var people map[string]*callrec.Person
		err = s.store.View(r.Context(), func(tx directory.Tx) error {
			if inLocation {
				loc, err := pathLocation(r.Context(), tx, r, org)
				if err != nil {
					return err
				}
				locID, locSet, locOK = loc.ID, true, true
			}
			if !locOK {
				return nil
			}
			all, err := directory.Features.List(r.Context(), tx, org.ID)
			if err != nil {
				return fmt.Errorf("api: list features: %w", err)
			}
			for _, f := range all {
				if f.Kind == k.kind && (!locSet || f.LocationID == locID) && strings.HasPrefix(strings.ToLower(f.Name), prefix) {
					feats = append(feats, f)
				}
			}
			if k.agents {
				if people, err = peopleByID(r.Context(), tx, org.ID); err != nil {
					return fmt.Errorf("api: list features: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		items := make([]any, 0, len(feats))
		for i := range feats {
			items = append(items, renderFeature(k, &feats[i], people))
		}
		writePage(s, w, r, items, start, max, k.segment, nil)
		return nil
	}
}

// pathFeature reads the location and the feature of kind k named by the path.
func pathFeature(ctx context.Context, tx directory.Tx, r *http.Request, org *callrec.Org, k featureKind) (*callrec.Location, *callrec.Feature, error) {
	loc, err := pathLocation(ctx, tx, r, org)
	if err != nil {
		return nil, nil, err
	}
	raw := r.PathValue(k.wildcard)
	id, ok := parseID(k.idType, raw)
	if !ok {
		return nil, nil, notFoundThing(k.thing, raw)
	}
	f, err := dirGet(ctx, tx, directory.Features, org.ID, id, k.thing, raw)
	if err != nil {
		return nil, nil, err
	}
	if f.Kind != k.kind || f.LocationID != loc.ID {
		return nil, nil, notFoundThing(k.thing, raw)
	}
	return loc, f, nil
}

// createFeature is POST .../locations/{locationId}/{segment}.
func (s *server) createFeature(k featureKind) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		var in featureInput
		if err := decodeBody(r, &in, true); err != nil {
			return err
		}
		var out any
		err := s.store.Update(r.Context(), func(tx directory.Tx) error {
			loc, err := pathLocation(r.Context(), tx, r, org)
			if err != nil {
				return err
			}
			if err := require(tok, org, permWrite, loc.ID); err != nil {
				return err
			}
			if in.Name == nil {
				return badRequest("name: required")
			}
			f := &callrec.Feature{ID: uuid.NewString(), OrgID: org.ID, LocationID: loc.ID, Kind: k.kind, Language: loc.Language, Created: s.now().UTC()}
			if k.agents {
				f.Members = []string{}
			} else {
				f.Menu = []callrec.MenuKey{}
			}
			if err := featureFields(r.Context(), tx, org.ID, k, f, &in); err != nil {
				return err
			}
			if err := checkKeysFree(r.Context(), tx, directory.Features.Name, f.ID, featureKeys(f)); err != nil {
				return err
			}
			if err := directory.Features.Put(r.Context(), tx, f); err != nil {
				return dirPutErr(strings.ToLower(k.thing), err)
			}
			people, err := peopleByID(r.Context(), tx, org.ID)
			if err != nil {
				return fmt.Errorf("api: create feature: %w", err)
			}
			out = renderFeature(k, f, people)
			return s.audit(r.Context(), tx, tok, org.ID, "create", k.kind, f.ID, nil, f)
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// getFeature is GET .../locations/{locationId}/{segment}/{id}.
func (s *server) getFeature(k featureKind) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
		var out any
		err := s.store.View(r.Context(), func(tx directory.Tx) error {
			_, f, err := pathFeature(r.Context(), tx, r, org, k)
			if err != nil {
				return err
			}
			people, err := peopleByID(r.Context(), tx, org.ID)
			if err != nil {
				return fmt.Errorf("api: get feature: %w", err)
			}
			out = renderFeature(k, f, people)
			return nil
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// updateFeature is PUT .../locations/{locationId}/{segment}/{id}.
func (s *server) updateFeature(k featureKind) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		var in featureInput
		if err := decodeBody(r, &in, true); err != nil {
			return err
		}
		var out any
		err := s.store.Update(r.Context(), func(tx directory.Tx) error {
			loc, before, err := pathFeature(r.Context(), tx, r, org, k)
			if err != nil {
				return err
			}
			if err := require(tok, org, permWrite, loc.ID); err != nil {
				return err
			}
			next := *before
			if err := featureFields(r.Context(), tx, org.ID, k, &next, &in); err != nil {
				return err
			}
			people, err := peopleByID(r.Context(), tx, org.ID)
			if err != nil {
				return fmt.Errorf("api: update feature: %w", err)
			}
			out = renderFeature(k, &next, people)
			if sameJSON(before, &next) {
				return nil
			}
			if err := checkKeysFree(r.Context(), tx, directory.Features.Name, next.ID, featureKeys(&next)); err != nil {
				return err
			}
			if err := directory.Features.Put(r.Context(), tx, &next); err != nil {
				return dirPutErr(strings.ToLower(k.thing), err)
			}
			return s.audit(r.Context(), tx, tok, org.ID, "update", k.kind, next.ID, before, &next)
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// deleteFeature is DELETE .../locations/{locationId}/{segment}/{id}.
func (s *server) deleteFeature(k featureKind) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		err := s.store.Update(r.Context(), func(tx directory.Tx) error {
			loc, f, err := pathFeature(r.Context(), tx, r, org, k)
			if err != nil {
				return err
			}
			if err := require(tok, org, permWrite, loc.ID); err != nil {
				return err
			}
			if err := directory.Features.Delete(r.Context(), tx, org.ID, f.ID); err != nil {
				return fmt.Errorf("api: delete feature: %w", err)
			}
			return s.audit(r.Context(), tx, tok, org.ID, "delete", k.kind, f.ID, f, nil)
		})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
