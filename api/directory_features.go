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
			Access: "org admins (read)", Query: []param{qOrgID}, Resp: item, Handler: s.inOrgScope(permRead, dirGetHandler(s, k.dirType(), k.render))})
		s.register(op{Method: "PUT", Path: base + "/{" + k.wildcard + "}", Summary: "Update a " + lower + " (partial: omitted fields keep their value; lists given replace the old ones)", Tag: k.tag,
			Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID},
			Body: updBody, Resp: item, Handler: s.inOrgScope(permWrite, s.updateFeature(k))})
		s.register(op{Method: "DELETE", Path: base + "/{" + k.wildcard + "}", Summary: "Delete a " + lower, Tag: k.tag,
			Access: "full and partner admins; location admins in their own locations", Query: []param{qOrgID},
			Handler: s.inOrgScope(permWrite, dirDeleteHandler(s, k.dirType()))})
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
	if err := applyStrFields(strField{"name", in.Name, &f.Name, requiredTextField(maxNameLen)},
		strField{"phoneNumber", in.PhoneNumber, &f.PhoneNumber, dirE164},
		strField{"extension", in.Extension, &f.Extension, dirExtension}); err != nil {
		return err
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
				loc, err := locationType.fromPath(r.Context(), tx, r, org.ID)
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

// dirType is the features of kind k for the shared handlers: read
// through the location of the path, changed by its location's admins,
// rendered with their agents' names.
func (k featureKind) dirType() *dirType[callrec.Feature] {
	return &dirType[callrec.Feature]{kind: directory.Features, wildcard: k.wildcard, idType: k.idType,
		thing: k.thing, noun: strings.ToLower(k.thing), auditType: k.kind,
		id: func(f *callrec.Feature) string { return f.ID }, keys: featureKeys,
		location: func(f *callrec.Feature) string { return f.LocationID },
		load: func(ctx context.Context, tx directory.Tx, r *http.Request, orgID string) (*callrec.Feature, error) {
			return pathFeature(ctx, tx, r, orgID, k)
		}}
}

// render renders a feature of kind k with its agents' names.
func (k featureKind) render(ctx context.Context, tx directory.Tx, orgID string, f *callrec.Feature) (any, error) {
	people, err := peopleByID(ctx, tx, orgID)
	if err != nil {
		return nil, fmt.Errorf("api: render feature: %w", err)
	}
	return renderFeature(k, f, people), nil
}

// pathFeature reads the feature of kind k named by the path, in the
// location the path names.
func pathFeature(ctx context.Context, tx directory.Tx, r *http.Request, orgID string, k featureKind) (*callrec.Feature, error) {
	loc, err := locationType.fromPath(ctx, tx, r, orgID)
	if err != nil {
		return nil, err
	}
	raw := r.PathValue(k.wildcard)
	f, err := dirLoad(ctx, tx, directory.Features, orgID, k.idType, k.thing, raw)
	if err != nil {
		return nil, err
	}
	if f.Kind != k.kind || f.LocationID != loc.ID {
		return nil, notFoundThing(k.thing, raw)
	}
	return f, nil
}

// createFeature is POST .../locations/{locationId}/{segment}.
func (s *server) createFeature(k featureKind) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, tok *callrec.Token, org *callrec.Org) error {
		var in featureInput
		if err := decodeBody(r, &in, true); err != nil {
			return err
		}
		f := &callrec.Feature{ID: uuid.NewString(), OrgID: org.ID, Kind: k.kind, Created: s.now().UTC()}
		if k.agents {
			f.Members = []string{}
		} else {
			f.Menu = []callrec.MenuKey{}
		}
		return dirCreate(s, w, r, tok, org, k.dirType(), f, func(ctx context.Context, tx directory.Tx) error {
			loc, err := locationType.fromPath(ctx, tx, r, org.ID)
			if err != nil {
				return err
			}
			if err := require(tok, org, permWrite, loc.ID); err != nil {
				return err
			}
			if in.Name == nil {
				return badRequest("name: required")
			}
			f.LocationID, f.Language = loc.ID, loc.Language
			return featureFields(ctx, tx, org.ID, k, f, &in)
		}, k.render)
	}
}

// updateFeature is PUT .../locations/{locationId}/{segment}/{id}.
func (s *server) updateFeature(k featureKind) orgHandler {
	return dirUpdateHandler(s, k.dirType(), func(ctx context.Context, tx directory.Tx, org *callrec.Org, f *callrec.Feature, in *featureInput) error {
		return featureFields(ctx, tx, org.ID, k, f, in)
	}, k.render)
}
