package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
)

const richID = "62807eaf-0c89-492e-a3c3-c4751812603b"

// richRecording stores a BroadWorks-style recording with everything set.
func richRecording(e *env) callrec.Recording {
	start := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	return e.recording(richID, start, func(r *callrec.Recording) {
		r.Topic = "Call 4060 -> +15551234567"
		r.OwnerType, r.OwnerID, r.OwnerEmail = callrec.OwnerUser, "24683d6c-5529-4b60-a6c7-91e8b293bbab", "alice@example.com"
		r.Stop, r.Created = start.Add(299*time.Second), start.Add(300*time.Second)
		r.DurationMS = 298_600
		r.SHA256 = strings.Repeat("ab", 32)
		r.Meta = callrec.Metadata{
			SessionIDs:    []string{"hnqkcR4ZT2ZZtqqyOvf9Jw=="},
			SIPSessionIDs: []string{"ab30317f1a784dc48ff824d0d3715d86"},
			Participants: []callrec.Participant{
				{ID: "p1", Name: "Alice", AOR: "sip:4060@pbx.example", Sends: []string{"s1"}, Receives: []string{"s2"}, Recorded: true},
				{ID: "p2", AOR: "sip:+15551234567@trunk.example", Sends: []string{"s2"}, Receives: []string{"s1"}},
			},
			Streams: []callrec.Stream{
				{ID: "s1", Label: "1", MLineIndex: 0, ParticipantID: "p1", Codec: "PCMU/8000", Channel: 1, Stats: callrec.StreamStats{Received: 14930, Lost: 3}},
				{ID: "s2", Label: "2", MLineIndex: 1, ParticipantID: "p2", Codec: "PCMA/8000", Channel: 2, Stats: callrec.StreamStats{Received: 14925}},
			},
			Channels: []callrec.Channel{
				{Index: 1, Role: "recorded", ParticipantIDs: []string{"p1"}, StreamLabels: []string{"1"}},
				{Index: 2, Role: "other", ParticipantIDs: []string{"p2"}, StreamLabels: []string{"2"}},
			},
			PauseIntervals: []callrec.Interval{{Start: start.Add(30 * time.Second), End: start.Add(45500 * time.Millisecond)}},
			DTMF:           []callrec.DTMFEvent{{Digit: "5", Time: start.Add(10250 * time.Millisecond), OffsetMS: 10250, DurationMS: 120, StreamLabel: "1"}},
			Vendor: callrec.VendorData{Vendor: "broadworks", CallID: "callhalf-581329:0", Direction: "originating",
				RecordingType: "alwaysON", CallingNumber: "4060", CalledNumber: "+15551234567"},
			RawMetadata: []callrec.RawMetadata{{Received: start, ContentType: "application/rs-metadata+xml",
				Body: `<recording xmlns="urn:ietf:params:xml:ns:recording:1"><datamode>complete</datamode></recording>`}},
			Events: []callrec.SessionEvent{{Time: start.Add(30 * time.Second), Kind: "pause", Detail: "re-INVITE a=inactive"}},
		}
	})
}

// jsonEqual compares a response body with the expected JSON text.
func jsonEqual(t *testing.T, got map[string]any, want string) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("expected JSON: %v", err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.MarshalIndent(got, "", "  ")
		x, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("JSON differs\n got: %s\nwant: %s", g, x)
	}
}

func decodeMap(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if w.Code != 200 {
		t.Fatalf("status = %d, body %s", w.Code, w.Body.String())
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body: %v", err)
	}
	return m
}

var audioLinkRE = regexp.MustCompile(`^` + regexp.QuoteMeta(publicURL) + `/v1/convergedRecordings/([^/?]+)/audio\?expires=(\d+)&by=([^&]*)&signature=([0-9a-f]{64})$`)

// wireIDs replaces the placeholders ORG_A and OWNER of an expected JSON
// text with the Webex ids the API renders.
func wireIDs(s string) string {
	return strings.NewReplacer("ORG_A", webexID(idOrg, recOrgA), "OWNER", webexID(idPerson, "24683d6c-5529-4b60-a6c7-91e8b293bbab")).Replace(s)
}

func TestGetRecordingDetails(t *testing.T) {
	e := newEnv(t)
	richRecording(e)
	m := decodeMap(t, e.do("GET", "/v1/convergedRecordings/"+richID, adminToken, "", "timezone", "Asia/Singapore"))
	links, _ := m["temporaryDirectDownloadLinks"].(map[string]any)
	link, _ := links["audioDownloadLink"].(string)
	sm := audioLinkRE.FindStringSubmatch(link)
	if sm == nil || sm[1] != richID || sm[2] != strconv.FormatInt(testNow.Add(3*time.Hour).Unix(), 10) || sm[3] != "root%40partner.example" {
		t.Fatalf("audioDownloadLink = %q", link)
	}
	links["audioDownloadLink"] = "LINK"
	jsonEqual(t, m, wireIDs(`{
	 "id": "62807eaf-0c89-492e-a3c3-c4751812603b",
	 "topic": "Call 4060 -> +15551234567",
	 "createTime": "2026-03-10T18:05:00+08:00",
	 "timeRecorded": "2026-03-10T18:00:00+08:00",
	 "format": "WAV", "serviceType": "calling", "durationSeconds": 299, "sizeBytes": 64,
	 "status": "available", "ownerId": "OWNER",
	 "ownerEmail": "alice@example.com", "ownerType": "user", "storageRegion": "US",
	 "serviceData": {"callSessionId": "ab30317f1a784dc48ff824d0d3715d86"},
	 "temporaryDirectDownloadLinks": {"audioDownloadLink": "LINK", "expiration": "2026-03-10T15:00:00Z"},
	 "callrec": {
	  "orgId": "ORG_A", "expiresAt": null, "hold": false, "partial": false, "endReason": "bye", "durationMs": 298600,
	  "startTime": "2026-03-10T18:00:00.000+08:00", "stopTime": "2026-03-10T18:04:59.000+08:00",
	  "pauseIntervals": [{"start": "2026-03-10T18:00:30.000+08:00", "end": "2026-03-10T18:00:45.500+08:00"}],
	  "streams": [
	   {"id": "s1", "label": "1", "mLineIndex": 0, "participantId": "p1", "codec": "PCMU/8000", "channel": 1,
	    "stats": {"received": 14930, "lost": 3, "duplicated": 0, "late": 0, "dropped": 0, "gaps": 0, "gapMs": 0, "ssrcChanges": 0, "timestampJumps": 0}},
	   {"id": "s2", "label": "2", "mLineIndex": 1, "participantId": "p2", "codec": "PCMA/8000", "channel": 2,
	    "stats": {"received": 14925, "lost": 0, "duplicated": 0, "late": 0, "dropped": 0, "gaps": 0, "gapMs": 0, "ssrcChanges": 0, "timestampJumps": 0}}],
	  "channels": [
	   {"index": 1, "role": "recorded", "participantIds": ["p1"], "streamLabels": ["1"]},
	   {"index": 2, "role": "other", "participantIds": ["p2"], "streamLabels": ["2"]}],
	  "participants": [
	   {"id": "p1", "name": "Alice", "aor": "sip:4060@pbx.example", "sends": ["s1"], "receives": ["s2"], "recorded": true},
	   {"id": "p2", "aor": "sip:+15551234567@trunk.example", "sends": ["s2"], "receives": ["s1"], "recorded": false}],
	  "sha256": "abababababababababababababababababababababababababababababababab",
	  "dtmf": [{"digit": "5", "time": "2026-03-10T18:00:10.250+08:00", "offsetMs": 10250, "durationMs": 120, "streamLabel": "1"}],
	  "sampleRate": 8000, "channelCount": 2,
	  "sipCallId": "rs-62807eaf-0c89-492e-a3c3-c4751812603b@src.example"
	 }
	}`))
	t.Run("X4 a details read with a link is audited as download", func(t *testing.T) {
		au := e.audits(richID)
		if len(au) != 1 || au[0].Action != "download" || au[0].Actor != "root@partner.example" || au[0].ActorRole != callrec.RolePartnerAdmin ||
			au[0].OrgID != recOrgA || au[0].ObjectType != "recording" || au[0].TrackingID == "" {
			t.Errorf("audit = %+v", au)
		}
	})
	t.Run("location, expiry and hold in the callrec object", func(t *testing.T) {
		e.recording("held", testNow.Add(-time.Hour), func(r *callrec.Recording) {
			r.LocationID, r.ExpiresAt, r.Hold = recLoc, time.Date(2026, 4, 9, 11, 0, 0, 0, time.UTC), true
		})
		cr := decodeMap(t, e.do("GET", "/v1/convergedRecordings/held", adminToken, ""))["callrec"].(map[string]any)
		if cr["locationId"] != webexID(idLocation, recLoc) || cr["expiresAt"] != "2026-04-09T11:00:00.000Z" || cr["hold"] != true {
			t.Errorf("callrec = locationId %v expiresAt %v hold %v", cr["locationId"], cr["expiresAt"], cr["hold"])
		}
	})

	t.Run("empty metadata renders arrays, not null", func(t *testing.T) {
		e.recording("bare", testNow.Add(-time.Hour), func(r *callrec.Recording) { r.OwnerType, r.Format = "", "" })
		m := decodeMap(t, e.do("GET", "/v1/convergedRecordings/bare", adminToken, ""))
		cr := m["callrec"].(map[string]any)
		for _, k := range []string{"pauseIntervals", "streams", "channels", "participants", "dtmf"} {
			if a, ok := cr[k].([]any); !ok || len(a) != 0 {
				t.Errorf("callrec.%s = %#v, want []", k, cr[k])
			}
		}
		if m["ownerType"] != "org" || m["format"] != "WAV" {
			t.Errorf("ownerType %v format %v, want org WAV", m["ownerType"], m["format"])
		}
	})
	t.Run("deleted recording has no links", func(t *testing.T) {
		e.recording("trashed", testNow.Add(-time.Hour), func(r *callrec.Recording) { r.Status = callrec.StatusDeleted })
		m := decodeMap(t, e.do("GET", "/v1/convergedRecordings/trashed", adminToken, ""))
		if _, ok := m["temporaryDirectDownloadLinks"]; ok || m["status"] != "deleted" {
			t.Errorf("deleted recording: status %v, links %v", m["status"], m["temporaryDirectDownloadLinks"])
		}
	})
	t.Run("not found", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/convergedRecordings/nope", adminToken, ""), 404, `Recording "nope" was not found`)
	})
	t.Run("recording in progress is hidden", func(t *testing.T) {
		e.recording("live", testNow, func(r *callrec.Recording) { r.Status = callrec.StatusRecording })
		wantRecError(t, e.do("GET", "/v1/convergedRecordings/live", adminToken, ""), 404, `Recording "live" was not found`)
	})
	t.Run("compliance officer of another org gets 404", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/convergedRecordings/"+richID, coToken, ""), 404, `Recording "`+richID+`" was not found`)
	})
	t.Run("id with a control character", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/convergedRecordings/a%01b", adminToken, ""), 404, `Recording "a\x01b" was not found`)
	})
	t.Run("no token", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/convergedRecordings/"+richID, "", ""), 401, msgUnauthorized)
	})
}

func TestGetMetadata(t *testing.T) {
	e := newEnv(t)
	richRecording(e)
	m := decodeMap(t, e.do("GET", "/v1/convergedRecordings/"+richID+"/metadata?showAllTypes=true", adminToken, ""))
	cr := m["callrec"].(map[string]any)
	delete(m, "callrec")
	jsonEqual(t, m, wireIDs(`{
	 "id": "62807eaf-0c89-492e-a3c3-c4751812603b", "orgId": "ORG_A",
	 "ownerId": "OWNER", "ownerType": "USER", "ownerName": "Alice",
	 "ownerEmail": "alice@example.com", "storageRegion": "US", "serviceType": "calling", "version": "1.2",
	 "serviceData": {
	  "callRecordingId": "62807eaf-0c89-492e-a3c3-c4751812603b",
	  "callSessionId": "ab30317f1a784dc48ff824d0d3715d86",
	  "callId": "callhalf-581329:0",
	  "sipCallId": "rs-62807eaf-0c89-492e-a3c3-c4751812603b@src.example",
	  "personality": "originator", "recordingType": "alwaysON",
	  "callingParty": {"number": "4060", "name": "Alice"},
	  "calledParty": {"number": "+15551234567"},
	  "session": {"startTime": "2026-03-10T10:00:00Z", "stopTime": "2026-03-10T10:04:59Z"},
	  "recordingActions": [{"action": "PAUSE", "time": "2026-03-10T10:00:30Z"}, {"action": "RESUME", "time": "2026-03-10T10:00:45Z"}],
	  "callActivity": [{
	   "timeStamp": "2026-03-10T10:00:00Z",
	   "mediaStreams": [{"streamId": "s1", "mode": "separate", "mLineIndex": "0"}, {"streamId": "s2", "mode": "separate", "mLineIndex": "1"}],
	   "participants": [
	    {"actor": {"type": "USER", "id": "OWNER", "name": "Alice"}, "aor": "sip:4060@pbx.example", "send": "s1"},
	    {"actor": {"type": "PARTICIPANT", "id": "p2"}, "aor": "sip:+15551234567@trunk.example", "send": "s2"}]
	  }]
	 }
	}`))
	vendor := cr["vendor"].(map[string]any)
	if vendor["vendor"] != "broadworks" || vendor["callId"] != "callhalf-581329:0" {
		t.Errorf("callrec.vendor = %v", vendor)
	}
	raw := cr["rawMetadata"].([]any)
	if len(raw) != 1 || !strings.Contains(raw[0].(map[string]any)["body"].(string), "<datamode>complete</datamode>") ||
		raw[0].(map[string]any)["received"] != "2026-03-10T10:00:00.000Z" {
		t.Errorf("callrec.rawMetadata = %v", raw)
	}
	if cr["sha256"] != strings.Repeat("ab", 32) || cr["endReason"] != "bye" {
		t.Errorf("callrec lacks the recording's callrec fields: %v", cr)
	}
	if ev := cr["events"].([]any); len(ev) != 1 || ev[0].(map[string]any)["kind"] != "pause" {
		t.Errorf("callrec.events = %v", ev)
	}

	t.Run("showAllTypes false hides streams and participants", func(t *testing.T) {
		for _, q := range []string{"", "?showAllTypes=false"} {
			m := decodeMap(t, e.do("GET", "/v1/convergedRecordings/"+richID+"/metadata"+q, adminToken, ""))
			act := m["serviceData"].(map[string]any)["callActivity"].([]any)
			want := map[string]any{"timeStamp": "2026-03-10T10:00:00Z"}
			if len(act) != 1 || !reflect.DeepEqual(act[0], want) {
				t.Errorf("%q: callActivity = %v, want [%v]", q, act, want)
			}
		}
	})
	t.Run("bad showAllTypes", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/convergedRecordings/"+richID+"/metadata?showAllTypes=maybe", adminToken, ""), 400,
			"showAllTypes must be true or false")
	})
	t.Run("terminating call swaps the parties", func(t *testing.T) {
		e.recording("term", testNow.Add(-time.Hour), func(r *callrec.Recording) {
			r.Meta = callrec.Metadata{
				Participants: []callrec.Participant{
					{ID: "a", Name: "Bob", AOR: "sip:4061@pbx.example", Recorded: true},
					{ID: "b", AOR: "sip:+15550001111@trunk.example"},
				},
				Vendor: callrec.VendorData{Direction: "terminating"},
			}
		})
		sd := decodeMap(t, e.do("GET", "/v1/convergedRecordings/term/metadata", adminToken, ""))["serviceData"].(map[string]any)
		if sd["personality"] != "terminator" ||
			!reflect.DeepEqual(sd["callingParty"], map[string]any{"number": "sip:+15550001111@trunk.example"}) ||
			!reflect.DeepEqual(sd["calledParty"], map[string]any{"number": "sip:4061@pbx.example", "name": "Bob"}) {
			t.Errorf("serviceData = %v", sd)
		}
	})
	t.Run("owner types are upper case", func(t *testing.T) {
		cases := map[string]string{"user": "USER", "virtualLine": "VIRTUAL_LINE", "callQueue": "CALL_QUEUE", "place": "PLACE", "org": "ORG"}
		for in, want := range cases {
			if got := upperOwnerType(in); got != want {
				t.Errorf("upperOwnerType(%q) = %q, want %q", in, got, want)
			}
		}
	})
	t.Run("not found", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/convergedRecordings/nope/metadata", adminToken, ""), 404, `Recording "nope" was not found`)
	})
}

// audioLink fetches the details of id and returns the path+query of its link.
func (e *env) audioPath(id string) string {
	e.t.Helper()
	w := e.do("GET", "/v1/convergedRecordings/"+id, adminToken, "")
	var out recordingJSON
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.Links == nil {
		e.t.Fatalf("details of %s: %v %s", id, err, w.Body.String())
	}
	return strings.TrimPrefix(out.Links.AudioDownloadLink, publicURL)
}

func TestAudioDownload(t *testing.T) {
	e := newEnv(t)
	rec := e.recording("r1", testNow.Add(-time.Hour), func(r *callrec.Recording) {
		r.SizeBytes = 1000
		r.SHA256 = strings.Repeat("cd", 32)
	})
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i)
	}
	path := e.audioPath("r1")

	t.Run("full file without a bearer token", func(t *testing.T) {
		w := e.do("GET", path, "", "")
		if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), data) {
			t.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
		}
		for k, v := range map[string]string{
			"Content-Type":        "audio/wav",
			"Content-Disposition": `attachment; filename="r1.wav"`,
			"Content-Length":      "1000",
			"Accept-Ranges":       "bytes",
			"ETag":                `"` + rec.SHA256 + `"`,
		} {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
	})
	t.Run("range", func(t *testing.T) {
		w := e.do("GET", path, "", "", "Range", "bytes=10-19")
		if w.Code != 206 || !bytes.Equal(w.Body.Bytes(), data[10:20]) || w.Header().Get("Content-Range") != "bytes 10-19/1000" {
			t.Errorf("range: %d %v %q", w.Code, w.Body.Bytes(), w.Header().Get("Content-Range"))
		}
	})
	t.Run("suffix range", func(t *testing.T) {
		w := e.do("GET", path, "", "", "Range", "bytes=-4")
		if w.Code != 206 || !bytes.Equal(w.Body.Bytes(), data[996:]) {
			t.Errorf("suffix range: %d %v", w.Code, w.Body.Bytes())
		}
	})
	t.Run("unsatisfiable range", func(t *testing.T) {
		if w := e.do("GET", path, "", "", "Range", "bytes=5000-"); w.Code != 416 {
			t.Errorf("status = %d, want 416", w.Code)
		}
	})
	t.Run("If-Range with the current ETag gives the range", func(t *testing.T) {
		w := e.do("GET", path, "", "", "Range", "bytes=0-1", "If-Range", `"`+rec.SHA256+`"`)
		if w.Code != 206 || !bytes.Equal(w.Body.Bytes(), data[:2]) {
			t.Errorf("If-Range match: %d", w.Code)
		}
	})
	t.Run("If-Range with another ETag gives the whole file", func(t *testing.T) {
		w := e.do("GET", path, "", "", "Range", "bytes=0-1", "If-Range", `"stale"`)
		if w.Code != 200 || w.Body.Len() != 1000 {
			t.Errorf("If-Range mismatch: %d, %d bytes", w.Code, w.Body.Len())
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		w := e.do("HEAD", path, "", "")
		if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "1000" {
			t.Errorf("HEAD: %d, %d bytes, length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
		}
	})

	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	expires, _ := strconv.ParseInt(q.Get("expires"), 10, 64)
	sig := q.Get("signature")
	by := "&by=" + url.QueryEscape(q.Get("by"))
	flipped := []byte(sig)
	flipped[0] ^= 1
	if flipped[0] == sig[0] {
		t.Fatal("signature flip failed")
	}
	bad := []struct {
		name, path, msg string
	}{
		{"tampered signature", fmt.Sprintf("/v1/convergedRecordings/r1/audio?expires=%d%s&signature=%s", expires, by, flipped), msgLinkInvalid},
		{"tampered expiry", fmt.Sprintf("/v1/convergedRecordings/r1/audio?expires=%d%s&signature=%s", expires+3600, by, sig), msgLinkInvalid},
		{"tampered holder", fmt.Sprintf("/v1/convergedRecordings/r1/audio?expires=%d&by=mallory%%40x.example&signature=%s", expires, sig), msgLinkInvalid},
		{"holder removed", fmt.Sprintf("/v1/convergedRecordings/r1/audio?expires=%d&signature=%s", expires, sig), msgLinkInvalid},
		{"other recording", fmt.Sprintf("/v1/convergedRecordings/r2/audio?expires=%d%s&signature=%s", expires, by, sig), msgLinkInvalid},
		{"no signature", fmt.Sprintf("/v1/convergedRecordings/r1/audio?expires=%d%s", expires, by), msgLinkInvalid},
		{"no expiry", "/v1/convergedRecordings/r1/audio?signature=" + sig + by, msgLinkInvalid},
		{"signature not hex", fmt.Sprintf("/v1/convergedRecordings/r1/audio?expires=%d%s&signature=zz", expires, by), msgLinkInvalid},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			wantRecError(t, e.do("GET", c.path, "", ""), 403, c.msg)
		})
	}
	t.Run("a bearer token does not replace the signature", func(t *testing.T) {
		wantRecError(t, e.do("GET", "/v1/convergedRecordings/r1/audio", adminToken, ""), 403, msgLinkInvalid)
	})
	t.Run("valid one second before expiry", func(t *testing.T) {
		e.setNow(time.Unix(expires-1, 0))
		defer e.setNow(testNow)
		if w := e.do("GET", path, "", ""); w.Code != 200 {
			t.Errorf("status = %d, want 200", w.Code)
		}
	})
	t.Run("expired at the expiry second", func(t *testing.T) {
		e.setNow(time.Unix(expires, 0))
		defer e.setNow(testNow)
		wantRecError(t, e.do("GET", path, "", ""), 403, msgLinkExpired)
	})
	t.Run("recording moved to the recycle bin", func(t *testing.T) {
		r := e.store.get(t, "r1")
		r.Status = callrec.StatusDeleted
		e.store.put(r)
		defer func() { r.Status = callrec.StatusAvailable; e.store.put(r) }()
		wantRecError(t, e.do("GET", path, "", ""), 410, `Recording "r1" is deleted; its audio is no longer available`)
	})
	t.Run("audio missing from the blob store", func(t *testing.T) {
		e.recording("noblob", testNow.Add(-time.Hour))
		p := e.audioPath("noblob")
		e.blobs.Delete(t.Context(), "audio/noblob.wav")
		wantRecError(t, e.do("GET", p, "", ""), 404, `The audio of recording "noblob" was not found`)
	})
}

// TestR4_DownloadLinksByRole checks §10.5 with R3/R4: the owner,
// compliance officers and provider admins on paid plans get a download
// link; org admins read without one; every link handed out is audited.
func TestR4_DownloadLinksByRole(t *testing.T) {
	e := newEnv(t).withPeople()
	e.recording("bob-team", testNow.Add(-time.Hour), owned(callrec.OwnerUser, recBob, "bob@a.example"))
	e.recording("alice-go", testNow.Add(-time.Hour), owned(callrec.OwnerUser, recAlice, "alice@a.example"))
	cases := []struct {
		name, token, id string
		status          int
		link            bool
	}{
		{"owner", bobToken, "bob-team", 200, true},
		{"R4 provider admin on paid", daveToken, "bob-team", 200, true},
		{"compliance officer", coAToken, "bob-team", 200, true},
		{"full admin reads without a link", fullToken, "bob-team", 200, false},
		{"read-only admin reads without a link", roToken, "bob-team", 200, false},
		{"R3 provider admin on go: not found", daveToken, "alice-go", 404, false},
		{"R3 full admin on go: not found", fullToken, "alice-go", 404, false},
		{"another org's admin: not found", orgBFullToken, "bob-team", 404, false},
		{"another org's admin naming this org: not found", orgBFullToken, "bob-team?orgId=" + recOrgA, 404, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.audits(strings.Split(c.id, "?")[0]))
			w := e.do("GET", "/v1/convergedRecordings/"+c.id, c.token, "")
			if w.Code != c.status {
				t.Fatalf("status %d %s, want %d", w.Code, w.Body.String(), c.status)
			}
			if c.status != 200 {
				return
			}
			m := decodeMap(t, w)
			_, hasLink := m["temporaryDirectDownloadLinks"]
			if hasLink != c.link {
				t.Errorf("link present = %v, want %v", hasLink, c.link)
			}
			after := e.audits(c.id)
			if c.link && (len(after) != before+1 || after[0].Action != "download") {
				t.Errorf("X4 audit after a link: %d entries (was %d), newest %+v", len(after), before, after[0])
			}
			if !c.link && len(after) != before {
				t.Errorf("a read without a link was audited: %+v", after[0])
			}
		})
	}
	t.Run("metadata follows read access", func(t *testing.T) {
		if w := e.do("GET", "/v1/convergedRecordings/bob-team/metadata", fullToken, ""); w.Code != 200 {
			t.Errorf("full admin metadata = %d", w.Code)
		}
		wantRecError(t, e.do("GET", "/v1/convergedRecordings/alice-go/metadata", bobToken, ""), 404, `Recording "alice-go" was not found`)
	})
}

// TestX4_ListenAudit checks that every audio fetch through a signed link
// is audited with the link's holder as the actor, and HEAD is not.
func TestX4_ListenAudit(t *testing.T) {
	e := newEnv(t).withPeople()
	e.recording("r1", testNow.Add(-time.Hour), owned(callrec.OwnerUser, recBob, "bob@a.example"))
	w := e.do("GET", "/v1/convergedRecordings/r1", bobToken, "")
	var det recordingJSON
	if err := json.Unmarshal(w.Body.Bytes(), &det); err != nil || det.Links == nil {
		t.Fatalf("details: %d %s", w.Code, w.Body.String())
	}
	path := strings.TrimPrefix(det.Links.AudioDownloadLink, publicURL)
	if w := e.do("GET", path, "", ""); w.Code != 200 {
		t.Fatalf("GET = %d", w.Code)
	}
	if w := e.do("GET", path, "", "", "Range", "bytes=0-3"); w.Code != 206 {
		t.Fatalf("range = %d", w.Code)
	}
	if w := e.do("HEAD", path, "", ""); w.Code != 200 {
		t.Fatalf("HEAD = %d", w.Code)
	}
	au := e.audits("r1")
	if got := actions(au); !slices.Equal(got, []string{"download", "listen", "listen"}) {
		t.Fatalf("audit actions = %v, want download, listen, listen", got)
	}
	for _, en := range au[:2] {
		if en.Actor != "bob@a.example" || en.ActorRole != "signedLink" || en.OrgID != recOrgA || en.ObjectID != "r1" {
			t.Errorf("listen entry %+v", en)
		}
	}
	t.Run("an audit failure refuses the audio", func(t *testing.T) {
		e.dir.Close() // the directory (and its audit log) is gone
		wantRecError(t, e.do("GET", path, "", ""), 500, msgInternal)
	})
}
