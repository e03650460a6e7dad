package api

import (
	"net/http"
	"net/url"
	"strconv"
)

// pageParams parses the start/max pagination of telephony lists (§1.6):
// start is a 0-based offset (default 0), max at most maxMax (default
// defMax). Bad values are 400 naming the parameter.
func pageParams(r *http.Request, defMax, maxMax int) (start, max int, err error) {
	q := r.URL.Query()
	start, max = 0, defMax
	if v := q.Get("start"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, badRequestf("start: %s is not a non-negative integer", quote(v))
		}
		start = n
	}
	if v := q.Get("max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMax {
			return 0, 0, badRequestf("max: %s must be an integer from 1 to %d", quote(v), maxMax)
		}
		max = n
	}
	return start, max, nil
}

// writePage writes one page of all under key (with the extra top-level
// fields) and its Link header (see setPageLinks).
func writePage[T any](s *server, w http.ResponseWriter, r *http.Request, all []T, start, max int, key string, extra map[string]any) {
	end := min(start+max, len(all))
	items := []T{}
	if start < len(all) {
		items = all[start:end]
	}
	s.setPageLinks(w, r, start, max, end < len(all))
	body := map[string]any{key: items}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, http.StatusOK, body)
}

// setPageLinks sets the RFC 5988 Link header of a start/max page:
// rel="next" when more items follow, rel="prev" and rel="first" past the
// first page. The links repeat every query parameter, so a client can
// follow them verbatim (§1.6).
func (s *server) setPageLinks(w http.ResponseWriter, r *http.Request, start, max int, more bool) {
	link := func(at int, rel string) {
		q := r.URL.Query()
		q.Set("start", strconv.Itoa(at))
		q.Set("max", strconv.Itoa(max))
		w.Header().Add("Link", "<"+s.publicURL+r.URL.Path+"?"+q.Encode()+`>; rel="`+rel+`"`)
	}
	if more {
		link(start+max, "next")
	}
	if start > 0 {
		link(max0(start-max), "prev")
		link(0, "first")
	}
}

func max0(n int) int { return max(n, 0) }

// queryBool parses an optional boolean query parameter.
func queryBool(q url.Values, name string) (v, set bool, err error) {
	s := q.Get(name)
	if s == "" {
		return false, false, nil
	}
	b, perr := strconv.ParseBool(s)
	if perr != nil {
		return false, false, badRequestf("%s: %s is not true or false", name, quote(s))
	}
	return b, true, nil
}
