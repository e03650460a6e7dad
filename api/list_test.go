package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
)

// listPage decodes a list response.
func listPage(t *testing.T, w *httptest.ResponseRecorder) []recordingJSON {
	t.Helper()
	if w.Code != 200 {
		t.Fatalf("status = %d, body %s", w.Code, w.Body.String())
	}
	var out struct {
		Items []recordingJSON `json:"items"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("list body: %v", err)
	}
	if out.Items == nil {
		t.Fatalf("items is null: %s", w.Body.String())
	}
	return out.Items
}

func ids(items []recordingJSON) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

var linkRE = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

func TestListPagination(t *testing.T) {
	for _, path := range []string{"/v1/convergedRecordings", "/v1/admin/convergedRecordings"} {
		t.Run(path, func(t *testing.T) {
			e := newEnv(t)
			var want []string
			for i := range 25 {
				// Pairs share a start time so the ID breaks ties in the cursor.
				start := testNow.Add(-time.Duration(i/2+1) * time.Hour)
				id := fmt.Sprintf("rec-%02d", i)
				e.recording(id, start)
				want = append(want, id)
			}
			// Newest first, then ID descending.
			slices.SortFunc(want, func(a, b string) int {
				ra, rb := e.store.get(t, a), e.store.get(t, b)
				if c := rb.Start.Compare(ra.Start); c != 0 {
					return c
				}
				return strings.Compare(b, a)
			})
			e.recording("other-topic", testNow.Add(-30*time.Minute), func(r *callrec.Recording) { r.Topic = "Quarterly review" })

			target := path + "?max=10&topic=CALL&status=available"
			var got []string
			var sizes []int
			for page := 0; target != ""; page++ {
				if page > 5 {
					t.Fatal("pagination does not end")
				}
				w := e.do("GET", target, adminToken, "")
				items := listPage(t, w)
				sizes = append(sizes, len(items))
				got = append(got, ids(items)...)
				link := w.Header().Get("Link")
				if link == "" {
					target = ""
					continue
				}
				m := linkRE.FindStringSubmatch(link)
				if m == nil || !strings.HasPrefix(m[1], publicURL+path+"?") {
					t.Fatalf("Link = %q, want <%s%s?...>; rel=\"next\"", link, publicURL, path)
				}
				u, err := url.Parse(m[1])
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				for k, v := range map[string]string{"topic": "CALL", "status": "available", "max": "10"} {
					if q.Get(k) != v {
						t.Errorf("next link %s = %q, want %q", k, q.Get(k), v)
					}
				}
				if q.Get("cursor") == "" || q.Get("from") == "" || q.Get("to") == "" {
					t.Errorf("next link lacks cursor/from/to: %s", m[1])
				}
				if !strings.HasSuffix(m[1], "&cursor="+q.Get("cursor")) {
					t.Errorf("next link does not end with the cursor: %s", m[1])
				}
				target = strings.TrimPrefix(m[1], publicURL)
			}
			if !slices.Equal(sizes, []int{10, 10, 5}) {
				t.Errorf("page sizes = %v, want [10 10 5]", sizes)
			}
			if !slices.Equal(got, want) {
				t.Errorf("walked ids = %v\nwant %v", got, want)
			}
		})
	}
	t.Run("exactly max items has no Link", func(t *testing.T) {
		e := newEnv(t)
		for i := range 10 {
			e.recording(fmt.Sprintf("r%d", i), testNow.Add(-time.Duration(i+1)*time.Minute))
		}
		w := e.do("GET", "/v1/admin/convergedRecordings?max=10", adminToken, "")
		if n := len(listPage(t, w)); n != 10 || w.Header().Get("Link") != "" {
			t.Errorf("got %d items, Link %q; want 10 and none", n, w.Header().Get("Link"))
		}
	})
	t.Run("default max is 10", func(t *testing.T) {
		e := newEnv(t)
		for i := range 12 {
			e.recording(fmt.Sprintf("r%02d", i), testNow.Add(-time.Duration(i+1)*time.Minute))
		}
		w := e.do("GET", "/v1/convergedRecordings", adminToken, "")
		if n := len(listPage(t, w)); n != 10 || w.Header().Get("Link") == "" {
			t.Errorf("got %d items, Link %q; want 10 and a next link", n, w.Header().Get("Link"))
		}
	})
}

func TestListValidation(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, path, msg string
	}{
		{"max zero", "/v1/convergedRecordings?max=0", "max must be an integer from 1 to 100"},
		{"max 101", "/v1/admin/convergedRecordings?max=101", "max must be an integer from 1 to 100"},
		{"max text", "/v1/convergedRecordings?max=ten", "max must be an integer from 1 to 100"},
		{"purged on the user list", "/v1/convergedRecordings?status=purged", "status must be one of available, deleted"},
		{"unknown status on the admin list", "/v1/admin/convergedRecordings?status=recording", "status must be one of available, deleted, purged"},
		{"bad from", "/v1/convergedRecordings?from=yesterday", "from must be an ISO 8601 date-time, e.g. 2024-10-04T16:20:20Z"},
		{"bad to", "/v1/convergedRecordings?to=2026-13-01T00:00:00Z", "to must be an ISO 8601 date-time, e.g. 2024-10-04T16:20:20Z"},
		{"from after to", "/v1/convergedRecordings?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from must not be after to"},
		{"admin window over 30 days", "/v1/admin/convergedRecordings?from=2026-01-01T00:00:00Z&to=2026-01-31T00:00:01Z",
			"the interval from from to to must not be longer than 30 days"},
		{"bad ownerType", "/v1/admin/convergedRecordings?ownerType=robot", "ownerType must be one of user, place, virtualLine, callQueue, org"},
		{"bad serviceType", "/v1/convergedRecordings?serviceType=meeting", "serviceType must be one of calling, customerAssist"},
		{"bad format", "/v1/convergedRecordings?format=ogg", "format must be one of WAV, MP3"},
		{"bad storageRegion", "/v1/convergedRecordings?storageRegion=XX", "storageRegion must be one of US, SG, GB, JP, DE, AU, IN, CA"},
		{"bad cursor", "/v1/convergedRecordings?cursor=!!!", "cursor is not valid"},
		{"cursor without id", "/v1/convergedRecordings?cursor=" + encodeCursor(cursor{start: testNow}), "cursor is not valid"},
		{"unknown time zone query", "/v1/convergedRecordings?timezone=Mars/Olympus", `timezone "Mars/Olympus" is not a known IANA time zone name (e.g. America/New_York)`},
		{"Local is not a zone", "/v1/convergedRecordings?timezone=Local", `timezone "Local" is not a known IANA time zone name (e.g. America/New_York)`},
		{"control character in topic", "/v1/convergedRecordings?topic=a%00b", "topic must be text of at most 256 bytes without control characters"},
		{"invalid UTF-8 in ownerEmail", "/v1/admin/convergedRecordings?ownerEmail=%FF%FE", "ownerEmail must be text of at most 256 bytes without control characters"},
		{"overlong ownerId", "/v1/admin/convergedRecordings?ownerId=" + strings.Repeat("x", 257), "ownerId must be text of at most 256 bytes without control characters"},
		{"several problems at once", "/v1/convergedRecordings?max=0&status=x",
			"max must be an integer from 1 to 100; status must be one of available, deleted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantRecError(t, e.do("GET", c.path, adminToken, ""), 400, c.msg)
		})
	}
	t.Run("unknown time zone header", func(t *testing.T) {
		w := e.do("GET", "/v1/convergedRecordings", adminToken, "", "timezone", "Europe/Atlantis")
		wantRecError(t, w, 400, `timezone "Europe/Atlantis" is not a known IANA time zone name (e.g. America/New_York)`)
	})
	t.Run("several problems give one errors entry each", func(t *testing.T) {
		w := e.do("GET", "/v1/convergedRecordings?max=0&status=x", adminToken, "")
		if b := webexError(t, w); len(b.Errors) != 2 {
			t.Errorf("errors = %v, want 2 entries", b.Errors)
		}
	})
	t.Run("user list allows more than 30 days", func(t *testing.T) {
		w := e.do("GET", "/v1/convergedRecordings?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", adminToken, "")
		listPage(t, w)
	})
	t.Run("admin list allows exactly 30 days", func(t *testing.T) {
		w := e.do("GET", "/v1/admin/convergedRecordings?from=2026-01-01T00:00:00Z&to=2026-01-31T00:00:00Z", adminToken, "")
		listPage(t, w)
	})
}

func TestListWindowDefaults(t *testing.T) {
	e := newEnv(t)
	e.recording("six-days", testNow.Add(-6*24*time.Hour))
	e.recording("eight-days", testNow.Add(-8*24*time.Hour))
	e.recording("just-now", testNow.Add(-time.Second))
	ts := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name     string
		query    string
		from, to time.Time
		want     []string
	}{
		{"neither: the last 7 days", "", testNow.Add(-7 * 24 * time.Hour), testNow, []string{"just-now", "six-days"}},
		{"only from: 7 days after it", "?from=2026-03-01T00:00:00Z", ts("2026-03-01T00:00:00Z"), ts("2026-03-08T00:00:00Z"), []string{"six-days", "eight-days"}},
		{"only to: 7 days before it", "?to=2026-03-03T00:00:00Z", ts("2026-02-24T00:00:00Z"), ts("2026-03-03T00:00:00Z"), []string{"eight-days"}},
		{"both", "?from=2026-03-01T00:00:00Z&to=2026-03-10T12:00:00Z", ts("2026-03-01T00:00:00Z"), testNow, []string{"just-now", "six-days", "eight-days"}},
		{"from equals to is empty", "?from=2026-03-04T12:00:00Z&to=2026-03-04T12:00:00Z", ts("2026-03-04T12:00:00Z"), ts("2026-03-04T12:00:00Z"), nil},
		{"offset and fraction", "?from=2026-03-04T13:00:00.000%2B01:00", ts("2026-03-04T12:00:00Z"), ts("2026-03-11T12:00:00Z"), []string{"just-now", "six-days"}},
		{"date only", "?from=2026-03-04", ts("2026-03-04T00:00:00Z"), ts("2026-03-11T00:00:00Z"), []string{"just-now", "six-days"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ids(listPage(t, e.do("GET", "/v1/admin/convergedRecordings"+c.query, adminToken, "")))
			q := e.store.lastQuery(t)
			if !q.From.Equal(c.from) || !q.To.Equal(c.to) {
				t.Errorf("store window = %v..%v, want %v..%v", q.From, q.To, c.from, c.to)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("ids = %v, want %v", got, c.want)
			}
		})
	}
}

// listCase is one GET of a list by a token, and the recording ids it
// must answer, in order.
type listCase struct {
	name, token, path string
	want              []string
}

// checkLists runs each case as a subtest.
func (e *env) checkLists(t *testing.T, cases []listCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ids(listPage(t, e.do("GET", c.path, c.token, "")))
			if !slices.Equal(got, c.want) {
				t.Errorf("ids = %v, want %v", got, c.want)
			}
		})
	}
}

// wantAdminListRefused checks the 403 of the admin list to a token
// that may not use it.
func wantAdminListRefused(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	wantRecError(t, w, 403, "The admin list needs an admin, provider admin or compliance officer token")
}

func TestListStatusAndFilters(t *testing.T) {
	e := newEnv(t)
	at := func(m int) time.Time { return testNow.Add(-time.Duration(m) * time.Minute) }
	e.recording("avail", at(1))
	e.recording("trashed", at(2), func(r *callrec.Recording) { r.Status = callrec.StatusDeleted })
	e.recording("gone", at(3), func(r *callrec.Recording) { r.Status = callrec.StatusPurged })
	e.recording("running", at(4), func(r *callrec.Recording) { r.Status = callrec.StatusRecording })
	e.recording("alice", at(5), func(r *callrec.Recording) {
		r.OwnerType, r.OwnerID, r.OwnerEmail = callrec.OwnerUser, "u-alice", "alice@example.com"
	})
	e.recording("org-b-rec", at(6), func(r *callrec.Recording) { r.OrgID, r.OwnerID = recOrgB, recOrgB })

	cases := []listCase{
		{"default is available, never recording", adminToken, "/v1/admin/convergedRecordings", []string{"avail", "alice", "org-b-rec"}},
		{"deleted", adminToken, "/v1/admin/convergedRecordings?status=deleted", []string{"trashed"}},
		{"purged on the admin list", adminToken, "/v1/admin/convergedRecordings?status=purged", []string{"gone"}},
		{"deleted on the user list", adminToken, "/v1/convergedRecordings?status=deleted", []string{"trashed"}},
		{"partner admin on the user list sees every org", adminToken, "/v1/convergedRecordings", []string{"avail", "alice", "org-b-rec"}},
		{"ownerEmail", adminToken, "/v1/admin/convergedRecordings?ownerEmail=alice@example.com", []string{"alice"}},
		{"ownerId", adminToken, "/v1/admin/convergedRecordings?ownerId=u-alice", []string{"alice"}},
		{"ownerId as a Webex org id", adminToken, "/v1/admin/convergedRecordings?ownerType=org&ownerId=" + webexID(idOrg, recOrgB), []string{"org-b-rec"}},
		{"ownerType org", adminToken, "/v1/admin/convergedRecordings?ownerType=org", []string{"avail", "org-b-rec"}},
		{"orgId narrows a partner admin", adminToken, "/v1/admin/convergedRecordings?orgId=" + webexID(idOrg, recOrgB), []string{"org-b-rec"}},
		{"orgId as a bare UUID", adminToken, "/v1/admin/convergedRecordings?orgId=" + recOrgB, []string{"org-b-rec"}},
		{"format WAV", adminToken, "/v1/admin/convergedRecordings?format=WAV&serviceType=calling&storageRegion=US", []string{"avail", "alice", "org-b-rec"}},
		{"format MP3 matches nothing", adminToken, "/v1/admin/convergedRecordings?format=MP3", nil},
		{"customerAssist matches nothing", adminToken, "/v1/admin/convergedRecordings?serviceType=customerAssist", nil},
		{"other region matches nothing", adminToken, "/v1/admin/convergedRecordings?storageRegion=DE", nil},
		{"locationId that is no location id matches nothing", adminToken, "/v1/admin/convergedRecordings?locationId=loc-1", nil},
		{"compliance officer sees its org only", coToken, "/v1/admin/convergedRecordings", []string{"org-b-rec"}},
		{"viewer sees nothing on the user list", viewerToken, "/v1/convergedRecordings", nil},
	}
	e.checkLists(t, cases)
	t.Run("viewer may not use the admin list", func(t *testing.T) {
		wantAdminListRefused(t, e.do("GET", "/v1/admin/convergedRecordings", viewerToken, ""))
	})
	t.Run("another org named by a compliance officer is 404", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/admin/convergedRecordings?orgId="+recOrgA, coToken, ""), 404,
			`Organization "`+recOrgA+`" was not found`)
	})
	t.Run("an orgId that is no org id is 404", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/admin/convergedRecordings?orgId=org-b", adminToken, ""), 404,
			`Organization "org-b" was not found`)
	})
	t.Run("store failure is 503 for ErrUnavailable", func(t *testing.T) {
		e.store.errList = fmt.Errorf("sqlite: busy: %w", callrec.ErrUnavailable)
		defer func() { e.store.errList = nil }()
		wantRecError(t, e.do("GET", "/v1/convergedRecordings", adminToken, ""), 503, msgUnavailable)
	})
}

func TestListTimezone(t *testing.T) {
	e := newEnv(t)
	start := time.Date(2026, 3, 9, 7, 27, 29, 0, time.UTC)
	e.recording("r1", start, func(r *callrec.Recording) {
		r.Created = time.Date(2026, 3, 9, 15, 9, 5, 0, time.UTC)
	})
	cases := []struct {
		name          string
		query         string
		hdr           []string
		recorded, cre string
	}{
		{"UTC by default", "", nil, "2026-03-09T07:27:29Z", "2026-03-09T15:09:05Z"},
		{"header", "", []string{"timezone", "Asia/Singapore"}, "2026-03-09T15:27:29+08:00", "2026-03-09T23:09:05+08:00"},
		{"query", "?timezone=America/New_York", nil, "2026-03-09T03:27:29-04:00", "2026-03-09T11:09:05-04:00"},
		{"header wins over query", "?timezone=America/New_York", []string{"timezone", "Asia/Singapore"}, "2026-03-09T15:27:29+08:00", "2026-03-09T23:09:05+08:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := listPage(t, e.do("GET", "/v1/admin/convergedRecordings"+c.query, adminToken, "", c.hdr...))
			if len(items) != 1 {
				t.Fatalf("items = %v", ids(items))
			}
			if items[0].TimeRecorded != c.recorded || items[0].CreateTime != c.cre {
				t.Errorf("timeRecorded %q createTime %q, want %q %q", items[0].TimeRecorded, items[0].CreateTime, c.recorded, c.cre)
			}
		})
	}
	t.Run("from without offset is read in the time zone", func(t *testing.T) {
		listPage(t, e.do("GET", "/v1/admin/convergedRecordings?from=2026-03-09T00:00:00", adminToken, "", "timezone", "Asia/Singapore"))
		want := time.Date(2026, 3, 8, 16, 0, 0, 0, time.UTC)
		if q := e.store.lastQuery(t); !q.From.Equal(want) {
			t.Errorf("from = %v, want %v", q.From, want)
		}
	})
	t.Run("next link carries the time zone", func(t *testing.T) {
		e.recording("r0", start.Add(-time.Minute))
		w := e.do("GET", "/v1/admin/convergedRecordings?max=1", adminToken, "", "timezone", "Asia/Singapore")
		if !strings.Contains(w.Header().Get("Link"), "timezone=Asia%2FSingapore") {
			t.Errorf("Link = %q, want the timezone", w.Header().Get("Link"))
		}
	})
}

func TestCursorRoundTrip(t *testing.T) {
	cases := []cursor{
		{start: time.Date(2026, 3, 9, 7, 27, 29, 123456789, time.UTC), id: "ea0efc7c-f83a-4972-b0eb-c0f30cff5e61"},
		{start: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), id: "baa93e55c62e4663ae24f13fbfdb247f"},
	}
	for _, c := range cases {
		got, err := decodeCursor(encodeCursor(c))
		if err != nil || !got.start.Equal(c.start) || got.id != c.id {
			t.Errorf("round trip of %v = %v, %v", c, got, err)
		}
	}
}

func TestCollectPagesThroughFilteredBatches(t *testing.T) {
	e := newEnv(t)
	var all []string
	for i := range 30 {
		id := fmt.Sprintf("r%02d", i)
		e.recording(id, testNow.Add(-time.Duration(i/3+1)*time.Minute)) // triples share a start
		all = append(all, id)
	}
	// Newest first, then ID descending: r02 r01 r00 r05 r04 r03 ...
	var order []string
	for g := 0; g < 30; g += 3 {
		order = append(order, all[g+2], all[g+1], all[g])
	}
	odd := func(r *callrec.Recording) (bool, error) { return r.ID[len(r.ID)-1]%2 == 1, nil }
	var wantOdd []string
	for _, id := range order {
		if id[len(id)-1]%2 == 1 {
			wantOdd = append(wantOdd, id)
		}
	}
	for _, c := range []struct {
		name string
		want int
		keep func(*callrec.Recording) (bool, error)
		ids  []string
	}{
		{"first 10 of the kept", 10, odd, wantOdd[:10]},
		{"all kept", 0, odd, wantOdd},
		{"everything", 0, func(*callrec.Recording) (bool, error) { return true, nil }, order},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.srv.collect(t.Context(), callrec.RecordingQuery{}, c.want, c.keep)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []string
			for _, r := range got {
				gotIDs = append(gotIDs, r.ID)
			}
			if !slices.Equal(gotIDs, c.ids) {
				t.Errorf("ids = %v\nwant %v", gotIDs, c.ids)
			}
		})
	}
	t.Run("a store that repeats a page is an error, not a loop", func(t *testing.T) {
		stuck := &stuckStore{fakeStore: e.store}
		e.srv.store = stuck
		defer func() { e.srv.store = e.store }()
		_, err := e.srv.collect(t.Context(), callrec.RecordingQuery{}, 5, func(*callrec.Recording) (bool, error) { return false, nil })
		if !errors.Is(err, callrec.ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("an error of keep stops the walk", func(t *testing.T) {
		boom := errors.New("directory unavailable")
		calls := 0
		_, err := e.srv.collect(t.Context(), callrec.RecordingQuery{}, 0, func(*callrec.Recording) (bool, error) { calls++; return false, boom })
		if !errors.Is(err, boom) || calls != 1 {
			t.Errorf("err = %v after %d calls, want the keep error after 1", err, calls)
		}
	})
}

// stuckStore ignores the cursor after the first page.
type stuckStore struct{ *fakeStore }

func (s *stuckStore) ListRecordings(ctx context.Context, q callrec.RecordingQuery) ([]callrec.Recording, error) {
	q.BeforeStart, q.BeforeID = time.Time{}, ""
	return s.fakeStore.ListRecordings(ctx, q)
}

// TestR3_R4_ListsByRole checks both lists for each kind of caller (R3:
// on go only the owner; R4: paid plans open the org's recordings to
// admins and provider admins; R32: listeners see a line's recordings).
func TestR3_R4_ListsByRole(t *testing.T) {
	e := newEnv(t).withPeople()
	at := func(m int) time.Time { return testNow.Add(-time.Duration(m) * time.Minute) }
	e.recording("alice-go", at(1), owned(callrec.OwnerUser, recAlice, "alice@a.example"))
	e.recording("bob-team", at(2), owned(callrec.OwnerUser, recBob, "bob@a.example"))
	e.recording("sales-team", at(3), owned(callrec.OwnerVirtualLine, recSales, ""))
	e.recording("unmatched", at(4), func(r *callrec.Recording) { r.OwnerID = recOrgA })
	e.recording("b-org", at(5), func(r *callrec.Recording) { r.OrgID, r.OwnerID = recOrgB, recOrgB })
	e.recording("bob-trashed", at(6), owned(callrec.OwnerUser, recBob, "bob@a.example"), func(r *callrec.Recording) { r.Status = callrec.StatusDeleted })
	cases := []listCase{
		{"R3 a user lists only their own", aliceToken, "/v1/convergedRecordings", []string{"alice-go"}},
		{"a user's recycle bin", bobToken, "/v1/convergedRecordings?status=deleted", []string{"bob-trashed"}},
		{"a user naming another owner gets nothing", aliceToken, "/v1/convergedRecordings?ownerId=" + webexID(idPerson, recBob), nil},
		{"R32 a listener lists the line's recordings", carolToken, "/v1/convergedRecordings", []string{"sales-team"}},
		{"a provider admin's user list is still their own", daveToken, "/v1/convergedRecordings", nil},
		{"R4 provider admin: paid recordings of the org", daveToken, "/v1/admin/convergedRecordings", []string{"bob-team", "sales-team"}},
		{"R4 full admin: paid and unmatched", fullToken, "/v1/admin/convergedRecordings", []string{"bob-team", "sales-team", "unmatched"}},
		{"R4 read-only admin: the same", roToken, "/v1/admin/convergedRecordings", []string{"bob-team", "sales-team", "unmatched"}},
		{"compliance officer: everything of the org", coAToken, "/v1/admin/convergedRecordings", []string{"alice-go", "bob-team", "sales-team", "unmatched"}},
		{"a partner admin lists the orgs it manages", acmeToken, "/v1/admin/convergedRecordings", []string{"b-org"}},
		{"locationId filter", coAToken, "/v1/admin/convergedRecordings?locationId=" + webexID(idLocation, recLoc), []string{"alice-go", "bob-team", "sales-team"}},
		{"ownerType filter", coAToken, "/v1/admin/convergedRecordings?ownerType=virtualLine", []string{"sales-team"}},
		{"the org's full admin of B sees B only", orgBFullToken, "/v1/admin/convergedRecordings", []string{"b-org"}},
	}
	e.checkLists(t, cases)
	t.Run("a user who is no provider admin may not use the admin list", func(t *testing.T) {
		wantAdminListRefused(t, e.do("GET", "/v1/admin/convergedRecordings", aliceToken, ""))
	})
	t.Run("a partner admin naming an org of another partner gets 404", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/admin/convergedRecordings?orgId="+webexID(idOrg, recOrgA), acmeToken, ""), 404,
			"Organization "+quote(webexID(idOrg, recOrgA))+" was not found")
	})
	t.Run("owner ids on the wire are Webex ids by owner type", func(t *testing.T) {
		items := listPage(t, e.do("GET", "/v1/admin/convergedRecordings", coAToken, ""))
		want := map[string]string{"alice-go": webexID(idPerson, recAlice), "sales-team": webexID(idVirtualLine, recSales), "unmatched": webexID(idOrg, recOrgA)}
		for _, it := range items {
			if w, ok := want[it.ID]; ok && it.OwnerID != w {
				t.Errorf("%s ownerId = %q, want %q", it.ID, it.OwnerID, w)
			}
		}
	})
}
