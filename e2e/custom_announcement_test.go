package e2e

import (
	"bytes"
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/callrec/callrec/media/tone"
)

// toneWAV is a WAV file (16-bit PCM, mono, rate) holding a sine of hz at
// amplitude amp (of full scale) for d.
func toneWAV(hz float64, rate int, d time.Duration, amp float64) []byte {
	pcm := make([]int16, int(d.Seconds()*float64(rate)))
	var phase float64
	tone.Sine(pcm, rate, hz, amp, &phase)
	var b bytes.Buffer
	le := bin.LittleEndian
	b.WriteString("RIFF")
	_ = bin.Write(&b, le, uint32(36+2*len(pcm)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		_ = bin.Write(&b, le, v) // fmt: PCM, mono, rate, byte rate, block align, bits
	}
	b.WriteString("data")
	_ = bin.Write(&b, le, uint32(2*len(pcm)))
	_ = bin.Write(&b, le, pcm)
	return b.Bytes()
}

// uploadAnnouncement posts a WAV to the org's announcement repository
// (multipart: a name field and the file part) and returns its id.
func (o *phoneOrg) uploadAnnouncement(name, fileName string, wav []byte) string {
	o.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("name", name)
	fw, err := mw.CreateFormFile("file", fileName)
	if err != nil {
		o.t.Fatal(err)
	}
	_, _ = fw.Write(wav)
	_ = mw.Close()
	req, err := http.NewRequest("POST", o.srv.httpURL+"/v1/telephony/config/announcements"+o.q, &body)
	if err != nil {
		o.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.srv.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		o.t.Fatalf("upload announcement: %d %s, want 201", res.StatusCode, raw)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.ID == "" {
		o.t.Fatalf("upload announcement: %q: %v", raw, err)
	}
	return out.ID
}

// TestR17_R22_CustomComplianceAnnouncement: the org uploads a 2 s WAV of
// 1 kHz through the announcement repository (multipart POST) and selects
// it as its inbound compliance announcement (useCustomAnnouncementEnabled
// with its id, R17). A PSTN caller (660 Hz) calls Bob's DID; Bob (820 Hz,
// recorded Always) answers. The caller hears the 1 kHz file once, whole,
// before Bob and no spoken prompt; Bob hears the caller only; the
// recording holds the two parties' tones and no 1 kHz (R22).
func TestR17_R22_CustomComplianceAnnouncement(t *testing.T) {
	const customHz, customLen = 1000.0, 2 * time.Second
	srv, o := startPhoneOrg(t, "Custom Announcement Ltd")
	bob := o.person("Bob", "1002", "bob-Secret-2", "+4535351002")
	o.record(bob, "Always", nil)
	file := o.uploadAnnouncement("Compliance 1 kHz", "compliance-1khz.wav", toneWAV(customHz, 8000, customLen, 0.3))
	o.do("PUT", "/v1/telephony/config/callRecording/complianceAnnouncement", map[string]any{"inboundPSTNCallsEnabled": true,
		"useCustomAnnouncementEnabled": true, "audioAnnouncementFileId": file}, 204)
	if got := o.do("GET", "/v1/telephony/config/callRecording/complianceAnnouncement", nil, 200); str(got, "useCustomAnnouncementEnabled") != "true" {
		t.Fatalf("compliance announcement %v, want the custom file in use", got)
	}
	port := portBlock(t, 100)
	o.trunk(port)

	bobPhone := startRegistered(t, "bob", withSeconds(o.phone("1002", "bob-Secret-2", carolHz), 30))
	seconds := int((customLen + 5*time.Second) / time.Second)
	caller := trunkPeer(t, "PSTN caller", "+4512345678", port, pstnHz, "sip:+4535351002@"+o.sipAddr, seconds)
	caller.endTimedCall(seconds, bobPhone)

	hi, heard := caller.heard()
	runs := heardRuns(heard, hi.Rate, pstnHz, carolHz, customHz)
	custom := longRuns(runs, toneClass(customHz), 300*time.Millisecond, 0)
	if len(custom) != 1 {
		t.Fatalf("the caller heard the 1 kHz announcement %d times, want once: %s", len(custom), runsString(runs))
	}
	if got := total(runs, toneClass(customHz), 0, time.Hour); got < customLen-300*time.Millisecond || got > customLen+100*time.Millisecond {
		t.Errorf("the caller heard %v of 1 kHz, the file lasts %v: %s", got, customLen, runsString(runs))
	}
	bobRuns := longRuns(runs, toneClass(carolHz), 500*time.Millisecond, 0)
	if len(bobRuns) == 0 || bobRuns[0].from < custom[0].to-40*time.Millisecond {
		t.Fatalf("the caller did not hear Bob after the announcement (%v): %s", custom[0], runsString(runs))
	}
	if got := total(runs, toneClass(carolHz), custom[0].to, time.Hour); got < 3*time.Second {
		t.Errorf("the caller heard Bob for %v after the announcement, want the rest of the call: %s", got, runsString(runs))
	}
	assertNoSpeech(t, "the PSTN caller", heard, hi.Rate, pstnHz, carolHz, customHz)

	assertPhoneHeard(t, "Bob", bobPhone, 2*time.Second, 500*time.Millisecond, pstnHz, carolHz, customHz)

	rec := srv.newRecording(map[string]bool{})
	talk := time.Duration(seconds)*time.Second - customLen
	length := assertRecordedTones(t, srv, rec, carolHz, pstnHz, talk-2*time.Second, talk+500*time.Millisecond)
	info, chans := srv.download(rec)
	for i, hz := range []float64{carolHz, pstnHz} {
		assertTone(t, fmt.Sprintf("recording channel %d", i+1), chans[i], info.Rate, 300*time.Millisecond, length-300*time.Millisecond, hz, customHz)
	}
}
