package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callrec/callrec"
)

// List limits and windows (§10.3, §10.4).
const (
	defaultMax    = 10
	maxMax        = 100
	defaultWindow = 7 * 24 * time.Hour
	// maxAdminWindow is the longest from-to interval of the admin list.
	// The user list has no limit (§12 D12: the newest spec text omits it).
	maxAdminWindow = 30 * 24 * time.Hour
)

// Enums of the list filters (§10.1). Format also accepts WAV, the only
// format callrec writes; ownerType also accepts callrec's "org".
var (
	serviceTypes   = []string{"calling", "customerAssist"}
	formats        = []string{"WAV", "MP3"}
	ownerTypes     = []string{callrec.OwnerUser, callrec.OwnerPlace, callrec.OwnerVirtualLine, callrec.OwnerCallQueue, callrec.OwnerOrg}
	storageRegions = []string{"US", "SG", "GB", "JP", "DE", "AU", "IN", "CA"}
)

// listParams is a parsed list request.
type listParams struct {
	max     int
	from    time.Time
	to      time.Time
	status  string
	loc     *time.Location
	tzName  string // as given, "" when absent
	cursor  *cursor
	filters url.Values // every filter as given, carried into the next link
	// q holds the store-side filters (org scope is added by the handler).
	q callrec.RecordingQuery
	// never is set when a filter can match no recording callrec makes
	// (serviceType customerAssist, format MP3, another storage region, a
	// location id that is no location id).
	never bool
	// locationID is the locationId filter as an internal id ("" = none).
	locationID string
}

// cursor is the keyset position after the last item of a page.
type cursor struct {
	start time.Time
	id    string
}

// encodeCursor renders a cursor as opaque base64url text.
func encodeCursor(c cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.start.UTC().Format(time.RFC3339Nano) + "\n" + c.id))
}

// decodeCursor parses what encodeCursor made.
func decodeCursor(s string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 1024 {
		return cursor{}, badRequest("cursor is not valid")
	}
	ts, id, ok := strings.Cut(string(raw), "\n")
	if !ok || id == "" {
		return cursor{}, badRequest("cursor is not valid")
	}
	start, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return cursor{}, badRequest("cursor is not valid")
	}
	return cursor{start: start, id: id}, nil
}

// timeLayouts are the ISO 8601 forms accepted for from and to. Forms
// without an offset are read in the request's time zone.
var timeLayouts = []struct {
	layout string
	zoned  bool
}{
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04:05.999999999Z0700", true}, // offset without colon
	{"2006-01-02T15:04:05.999999999", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02", false},
}

// parseISOTime parses an ISO 8601 date or date-time for from/to.
func parseISOTime(v string, loc *time.Location) (time.Time, bool) {
	if len(v) > 64 {
		return time.Time{}, false
	}
	for _, l := range timeLayouts {
		var t time.Time
		var err error
		if l.zoned {
			t, err = time.Parse(l.layout, v)
		} else {
			t, err = time.ParseInLocation(l.layout, v, loc)
		}
		if err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// location resolves an IANA zone name, caching successes.
func (s *server) location(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "UTC") {
		return time.UTC, nil
	}
	if v, ok := s.zones.Load(name); ok {
		return v.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" || len(name) > 64 {
		return nil, badRequestf("timezone %s is not a known IANA time zone name (e.g. America/New_York)", quote(name))
	}
	s.zones.Store(name, loc)
	return loc, nil
}

// timezone reads the timezone header, else the query parameter (§12 D13).
func (s *server) timezone(r *http.Request) (*time.Location, string, error) {
	name := r.Header.Get("timezone")
	if name == "" {
		name = r.URL.Query().Get("timezone")
	}
	loc, err := s.location(name)
	return loc, name, err
}

// maxText bounds free-text parameters (filters, ids, emails) in bytes.
const maxText = 256

// validText says whether s is UTF-8 text of at most maxText bytes without
// control characters: what a filter, id or email can sensibly be.
func validText(s string) bool {
	if len(s) > maxText || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// parseList validates the query of a list request (§10.3, §10.4).
func (s *server) parseList(r *http.Request, admin bool) (*listParams, error) {
	query := r.URL.Query()
	loc, tzName, err := s.timezone(r)
	if err != nil {
		return nil, err
	}
	p := &listParams{max: defaultMax, status: callrec.StatusAvailable, loc: loc, tzName: tzName, filters: url.Values{}}
	var bad []string
	if v := query.Get("max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMax {
			bad = append(bad, fmt.Sprintf("max must be an integer from 1 to %d", maxMax))
		} else {
			p.max = n
		}
	}
	statuses := []string{callrec.StatusAvailable, callrec.StatusDeleted}
	if admin {
		statuses = append(statuses, callrec.StatusPurged)
	}
	if v := query.Get("status"); v != "" {
		if !oneOf(v, statuses) {
			bad = append(bad, "status must be one of "+strings.Join(statuses, ", "))
		} else {
			p.status = v
		}
		p.filters.Set("status", v)
	}
	enums := []struct {
		name string
		set  []string
	}{
		{"serviceType", serviceTypes},
		{"format", formats},
		{"ownerType", ownerTypes},
		{"storageRegion", storageRegions},
	}
	for _, e := range enums {
		v := query.Get(e.name)
		if v == "" {
			continue
		}
		if !oneOf(v, e.set) {
			bad = append(bad, e.name+" must be one of "+strings.Join(e.set, ", "))
			continue
		}
		p.filters.Set(e.name, v)
	}
	for _, name := range []string{"ownerId", "ownerEmail", "topic", "locationId", "orgId"} {
		v := query.Get(name)
		if v == "" {
			continue
		}
		if !validText(v) {
			bad = append(bad, fmt.Sprintf("%s must be text of at most %d bytes without control characters", name, maxText))
			continue
		}
		p.filters.Set(name, v)
	}
	if tzName != "" {
		p.filters.Set("timezone", tzName)
	}

	var from, to time.Time
	var haveFrom, haveTo bool
	if v := query.Get("from"); v != "" {
		if from, haveFrom = parseISOTime(v, loc); !haveFrom {
			bad = append(bad, "from must be an ISO 8601 date-time, e.g. 2024-10-04T16:20:20Z")
		}
	}
	if v := query.Get("to"); v != "" {
		if to, haveTo = parseISOTime(v, loc); !haveTo {
			bad = append(bad, "to must be an ISO 8601 date-time, e.g. 2024-10-04T16:20:20Z")
		}
	}
	if v := query.Get("cursor"); v != "" {
		c, err := decodeCursor(v)
		if err != nil {
			bad = append(bad, "cursor is not valid")
		} else {
			p.cursor = &c
		}
	}
	if len(bad) > 0 {
		return nil, badRequest(bad...)
	}
	switch {
	case haveFrom && haveTo:
	case haveFrom:
		to = from.Add(defaultWindow)
	case haveTo:
		from = to.Add(-defaultWindow)
	default:
		to = s.now()
		from = to.Add(-defaultWindow)
	}
	if from.After(to) {
		return nil, badRequest("from must not be after to")
	}
	if admin && to.Sub(from) > maxAdminWindow {
		return nil, badRequest("the interval from from to to must not be longer than 30 days")
	}
	p.from, p.to = from, to

	f := p.filters
	if v := f.Get("locationId"); v != "" {
		var ok bool
		if p.locationID, ok = parseID(idLocation, v); !ok {
			p.never = true
		}
	}
	ownerID := ""
	if v := f.Get("ownerId"); v != "" {
		ownerID = parseOwnerID(v)
	}
	p.q = callrec.RecordingQuery{
		OwnerID:    ownerID,
		OwnerEmail: f.Get("ownerEmail"),
		OwnerType:  f.Get("ownerType"),
		Statuses:   []string{p.status},
		From:       from,
		To:         to,
		Topic:      f.Get("topic"),
	}
	if p.cursor != nil {
		p.q.BeforeStart, p.q.BeforeID = p.cursor.start, p.cursor.id
	}
	p.never = p.never || (f.Get("serviceType") != "" && f.Get("serviceType") != serviceTypeCalling) ||
		(f.Get("format") != "" && f.Get("format") != defaultFormat) ||
		(f.Get("storageRegion") != "" && f.Get("storageRegion") != defaultStorageRegion)
	return p, nil
}

// nextLink is the URL of the page after last: every filter, the resolved
// from/to (so later pages keep the first page's window), max and cursor.
func (s *server) nextLink(path string, p *listParams, last *callrec.Recording) string {
	v := url.Values{}
	for k, vals := range p.filters {
		v[k] = vals
	}
	v.Set("from", p.from.UTC().Format(time.RFC3339Nano))
	v.Set("to", p.to.UTC().Format(time.RFC3339Nano))
	return s.publicURL + path + "?" + v.Encode() +
		"&max=" + strconv.Itoa(p.max) + "&cursor=" + encodeCursor(cursor{start: last.Start, id: last.ID})
}

// listUser is GET /v1/convergedRecordings: the caller's own recordings
// and those of the virtual lines whose team it listens to (R32). A token
// of no person (partner admin, compliance officer) owns no recordings, so
// it sees what its role may see: the admin list's set, without the admin
// list's 30-day limit and without status purged.
func (s *server) listUser(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	return s.list(w, r, tok, false)
}

// listAdmin is GET /v1/admin/convergedRecordings: what policy lets the
// caller list (R3, R4): org admins and provider admins the recordings on
// paid plans, compliance officers every recording of their org, the
// bootstrap partner admin every recording. Users who are not provider
// admins get 403.
func (s *server) listAdmin(w http.ResponseWriter, r *http.Request, tok *callrec.Token) error {
	if !isAdmin(tok) {
		ok := false
		if tok.Role == callrec.RoleUser && tok.OrgID != "" {
			ov, err := s.accessFor(tok).view(r.Context(), tok.OrgID)
			if err != nil {
				return err
			}
			ok = ov.viewer.ProviderAdmin
		}
		if !ok {
			return forbidden("The admin list needs an admin, provider admin or compliance officer token")
		}
	}
	return s.list(w, r, tok, true)
}

type listJSON struct {
	Items []recordingJSON `json:"items"`
}

func (s *server) list(w http.ResponseWriter, r *http.Request, tok *callrec.Token, admin bool) error {
	p, err := s.parseList(r, admin)
	if err != nil {
		return err
	}
	ctx := r.Context()
	org, err := s.recordingOrgScope(r, tok)
	if err != nil {
		return err
	}
	p.q.OrgID = org
	acc := s.accessFor(tok)
	// The user list of a person: its own and its listened lines'.
	var mine func(*callrec.Recording) bool
	if !admin && tok.PersonID != "" {
		ov, err := acc.view(ctx, tok.OrgID)
		if err != nil {
			return err
		}
		listens := ov.viewer.Listens
		if len(listens) == 0 && (p.q.OwnerID == "" || p.q.OwnerID == tok.PersonID) {
			p.q.OwnerID = tok.PersonID // one owner: filter in the store
		}
		mine = func(rec *callrec.Recording) bool {
			return rec.OwnerID == tok.PersonID || (rec.OwnerType == callrec.OwnerVirtualLine && slices.Contains(listens, rec.OwnerID))
		}
	}
	out := listJSON{Items: []recordingJSON{}}
	if p.never {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	recs, err := s.collect(ctx, p.q, p.max+1, func(rec *callrec.Recording) (bool, error) {
		if rec.Status != p.status || (mine != nil && !mine(rec)) || (p.locationID != "" && rec.LocationID != p.locationID) {
			return false, nil
		}
		a, err := acc.of(ctx, rec)
		return a.List, err
	})
	if err != nil {
		return err
	}
	if len(recs) > p.max {
		recs = recs[:p.max]
		w.Header().Set("Link", "<"+s.nextLink(r.URL.Path, p, &recs[len(recs)-1])+`>; rel="next"`)
	}
	for i := range recs {
		out.Items = append(out.Items, renderRecording(&recs[i], p.loc))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// collect pages through the store from q's cursor until it has want
// recordings that keep accepts or the store has no more. Filtering here
// (not only in SQL) keeps policy.RecordingAccess the one authority on
// visibility while pages stay full.
func (s *server) collect(ctx context.Context, q callrec.RecordingQuery, want int, keep func(*callrec.Recording) (bool, error)) ([]callrec.Recording, error) {
	out := make([]callrec.Recording, 0, min(want, maxMax+1))
	q.Limit = max(want, 1)
	if want <= 0 {
		q.Limit = maxMax
	}
	for {
		batch, err := s.store.ListRecordings(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("api: list recordings: %w", err)
		}
		for i := range batch {
			ok, err := keep(&batch[i])
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, batch[i])
				if want > 0 && len(out) == want {
					return out, nil
				}
			}
		}
		if len(batch) < q.Limit {
			return out, nil
		}
		last := &batch[len(batch)-1]
		hasCursor := !q.BeforeStart.IsZero() || q.BeforeID != ""
		older := last.Start.Before(q.BeforeStart) || (last.Start.Equal(q.BeforeStart) && last.ID < q.BeforeID)
		if hasCursor && !older {
			// A store that ignores the cursor would keep us here forever.
			return nil, fmt.Errorf("api: list recordings: store did not move past %s: %w", q.BeforeID, callrec.ErrUnavailable)
		}
		q.BeforeStart, q.BeforeID = last.Start, last.ID
	}
}
