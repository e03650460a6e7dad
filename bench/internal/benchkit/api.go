package benchkit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// APIClient reads recordings from callrec's REST API (Webex
// converged-recordings shapes, webex-call-recording-api.md §10).
type APIClient struct {
	Base  *url.URL     // e.g. http://127.0.0.1:8080
	Token string       // admin bearer token
	HTTP  *http.Client // with a timeout
}

// maxPages bounds the pagination walk: 100 recordings per page, so a
// 10,000-call run fits with room to spare.
const maxPages = 1000

// get fetches u and decodes the JSON object; it returns the Link header.
func (a *APIClient) get(ctx context.Context, u string) (map[string]any, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf("benchkit: GET %s: %w", u, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.Token)
	req.Header.Set("Accept", "application/json")
	res, err := a.HTTP.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("benchkit: GET %s: %w", u, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, "", fmt.Errorf("benchkit: GET %s: %w", u, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("benchkit: GET %s: %s: %.300s", u, res.Status, body)
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, "", fmt.Errorf("benchkit: GET %s: %w", u, err)
	}
	return obj, res.Header.Get("Link"), nil
}

// ListRecordings returns every recording of the admin list in [from, to),
// following Link rel="next" (RFC 8288) until it is absent or a page is
// empty.
func (a *APIClient) ListRecordings(ctx context.Context, from, to time.Time) ([]map[string]any, error) {
	q := url.Values{}
	q.Set("max", "100")
	q.Set("from", from.UTC().Format(time.RFC3339))
	q.Set("to", to.UTC().Format(time.RFC3339))
	next := a.Base.JoinPath("v1/admin/convergedRecordings")
	next.RawQuery = q.Encode()
	u := next.String()
	var all []map[string]any
	for page := 0; u != "" && page < maxPages; page++ {
		obj, link, err := a.get(ctx, u)
		if err != nil {
			return nil, err
		}
		items, _ := obj["items"].([]any)
		if len(items) == 0 {
			break
		}
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				all = append(all, m)
			}
		}
		n := NextLink(link)
		if n == "" {
			break
		}
		ref, err := url.Parse(n)
		if err != nil {
			return nil, fmt.Errorf("benchkit: Link next %q: %w", n, err)
		}
		u = a.Base.ResolveReference(ref).String()
	}
	return all, nil
}

// Details fetches one recording's details and its metadata, merged under
// the keys "details" and "metadata", for finding the SIP Call-ID when the
// list item does not carry it.
func (a *APIClient) Details(ctx context.Context, id string) map[string]any {
	out := map[string]any{}
	if d, _, err := a.get(ctx, a.Base.JoinPath("v1/convergedRecordings", id).String()); err == nil {
		out["details"] = d
	}
	if m, _, err := a.get(ctx, a.Base.JoinPath("v1/convergedRecordings", id, "metadata").String()); err == nil {
		out["metadata"] = m
	}
	return out
}

// NextLink returns the target of rel="next" in a Link header value
// (RFC 8288: <uri>; rel="next", several links comma-separated), or "".
// A bare URL (the spec's example) counts as next.
func NextLink(h string) string {
	h = strings.TrimSpace(h)
	if h == "" {
		return ""
	}
	if !strings.Contains(h, "<") {
		if strings.ContainsAny(h, " ;,") {
			return ""
		}
		return h
	}
	for rest := h; rest != ""; {
		start := strings.IndexByte(rest, '<')
		if start < 0 {
			return ""
		}
		end := strings.IndexByte(rest[start:], '>')
		if end < 0 {
			return ""
		}
		target := rest[start+1 : start+end]
		rest = rest[start+end+1:]
		params := rest
		if i := strings.IndexByte(rest, '<'); i >= 0 {
			params = rest[:i]
		}
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(v), ",")), `"`)) {
				if strings.EqualFold(rel, "next") {
					return target
				}
			}
		}
	}
	return ""
}

// FindCallID walks a decoded JSON value and returns the first string that
// is one of ids (the SIP Call-IDs of the run), wherever the server keeps it.
func FindCallID(v any, ids map[string]time.Duration) string {
	switch x := v.(type) {
	case string:
		if _, ok := ids[x]; ok {
			return x
		}
	case map[string]any:
		for _, e := range x {
			if id := FindCallID(e, ids); id != "" {
				return id
			}
		}
	case []any:
		for _, e := range x {
			if id := FindCallID(e, ids); id != "" {
				return id
			}
		}
	}
	return ""
}

// RecordingCheck is what one recording says about its call.
type RecordingCheck struct {
	ID               string
	Partial          bool
	HasPartial       bool // the callrec.partial field was present
	DurationSeconds  float64
	DurationOK       bool
	Received         uint64
	Lost, Late, Drop uint64
}

// CheckRecording reads the fields the benchmark verifies: callrec.partial,
// the duration (callrec.durationMs when present, since Webex's
// durationSeconds may be rounded to whole seconds, else durationSeconds)
// within tol of want, and callrec.streams[].stats.
func CheckRecording(rec map[string]any, want, tol time.Duration) RecordingCheck {
	var c RecordingCheck
	c.ID, _ = rec["id"].(string)
	cr, _ := rec["callrec"].(map[string]any)
	d, ok := rec["durationSeconds"].(float64)
	if ms, isNum := cr["durationMs"].(float64); isNum {
		d, ok = ms/1000, true
	}
	if ok {
		c.DurationSeconds = d
		c.DurationOK = math.Abs(d-want.Seconds()) <= tol.Seconds()+1e-9
	}
	if p, ok := cr["partial"].(bool); ok {
		c.Partial, c.HasPartial = p, true
	}
	streams, _ := cr["streams"].([]any)
	for _, s := range streams {
		sm, _ := s.(map[string]any)
		st, _ := sm["stats"].(map[string]any)
		c.Received += count(st["received"])
		c.Lost += count(st["lost"])
		c.Late += count(st["late"])
		c.Drop += count(st["dropped"])
	}
	return c
}

// count converts a JSON number to a counter (0 for anything else).
func count(v any) uint64 {
	f, ok := v.(float64)
	if !ok || f < 0 || f > math.MaxInt64 || math.IsNaN(f) {
		return 0
	}
	return uint64(f)
}

// Complete reports whether the recording is what the call should have
// produced: not partial and of the expected duration.
func (c RecordingCheck) Complete() bool { return c.HasPartial && !c.Partial && c.DurationOK }
