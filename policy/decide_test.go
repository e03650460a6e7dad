package policy_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/policy"
)

// aliceWith returns a call target: alice with her settings changed by f.
func aliceWith(f func(r *callrec.UserRecording)) policy.Target {
	p := alice()
	f(&p.Recording)
	return policy.Target{Person: p}
}

// pstnIn is an inbound PSTN call to target.
func pstnIn(t policy.Target) policy.Call { return policy.Call{Inbound: true, PSTN: true, Recorded: t} }

// pstnOut is an outbound PSTN call by target.
func pstnOut(t policy.Target) policy.Call { return policy.Call{PSTN: true, Recorded: t} }

// internalIn is an inbound internal call to target.
func internalIn(t policy.Target) policy.Call { return policy.Call{Inbound: true, Recorded: t} }

// decideCase checks Record and the rule named in Reason.
type decideCase struct {
	name   string
	s      *policy.Snapshot
	call   policy.Call
	record bool
	reason string // substring of Reason when not recorded
}

func runDecide(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := policy.Decide(c.s, c.call)
			if d.Record != c.record {
				t.Fatalf("Record = %v (reason %q), want %v", d.Record, d.Reason, c.record)
			}
			if c.record && d.Reason != "" {
				t.Fatalf("recorded call has reason %q", d.Reason)
			}
			if !c.record && !strings.Contains(d.Reason, c.reason) {
				t.Fatalf("Reason = %q, want it to contain %q", d.Reason, c.reason)
			}
		})
	}
}

func TestR1_R2_R13_R14_R16_DecideNeedsEveryPrerequisite(t *testing.T) {
	a := policy.Target{Person: alice()}
	at := func(loc string) policy.Target {
		return policy.Target{Person: withPerson(func(p *callrec.Person) { p.LocationID = loc })}
	}
	runDecide(t, []decideCase{
		{"everything in place records", snap(), pstnIn(a), true, ""},
		{"R2 org not entitled", withSnap(func(s *policy.Snapshot) { s.Org.Recording.Entitled = false }), pstnIn(a), false, "not entitled to call recording; a partner admin must entitle it first (R2)"},
		{"R13 terms not accepted", withSnap(func(s *policy.Snapshot) { s.Terms = nil }), pstnIn(a), false, "terms of service not accepted"},
		{"R14 org vendor none", withSnap(func(s *policy.Snapshot) { s.Org.Recording.VendorID = callrec.VendorNone }), pstnIn(a), false, "(R14, R16)"},
		{"R16 location vendor none", snap(), pstnIn(at(closedID)), false, "no recording provider is chosen for location Lab"},
		{"R16 location provider while the org has none", withSnap(func(s *policy.Snapshot) { s.Org.Recording.VendorID = callrec.VendorNone }), pstnIn(at(branchID)), true, ""},
		{"R1 licence that cannot record", snap(), pstnIn(policy.Target{Person: withPerson(func(p *callrec.Person) { p.License = callrec.LicenseWorkspace })}), false, "(R1)"},
		{"R31 virtual line without a provider", snap(), pstnIn(policy.Target{Line: func() *callrec.VirtualLine { l := line(); l.LocationID = closedID; return l }()}), false, "(R31)"},
		{"no target", snap(), policy.Call{PSTN: true}, false, "no person or virtual line"},
		{"nil snapshot", nil, pstnIn(a), false, "(R2)"},
	})
}

func TestR24_R25_R26_R31_DecideTargetSettings(t *testing.T) {
	vm := func(t policy.Target) policy.Call { c := internalIn(t); c.Voicemail = true; return c }
	runDecide(t, []decideCase{
		{"R24 recording off", snap(), pstnIn(aliceWith(func(r *callrec.UserRecording) { r.Enabled = false })), false, "call recording is off for person Alice Liddell (person-alice) (R24)"},
		{"R31 virtual line off by default", snap(), pstnIn(policy.Target{Line: func() *callrec.VirtualLine { l := line(); l.Recording = callrec.DefaultUserRecording(); return l }()}), false, "(R31)"},
		{"R25 mode never", snap(), pstnIn(aliceWith(func(r *callrec.UserRecording) { r.Mode = callrec.ModeNever })), false, "recording mode of person Alice Liddell (person-alice) is never (R25)"},
		{"R25 stored mode not valid", snap(), pstnIn(aliceWith(func(r *callrec.UserRecording) { r.Mode = "Always" })), false, `recording mode "Always"`},
		{"R26 voicemail not recorded when off", snap(), vm(policy.Target{Person: alice()}), false, "recordVoicemail is off (R26)"},
		{"R26 voicemail recorded when on", snap(), vm(aliceWith(func(r *callrec.UserRecording) { r.RecordVoicemail = true })), true, ""},
		{"R31 virtual line on", snap(), pstnIn(policy.Target{Line: line()}), true, ""},
	})
}

func TestR25_SelectiveRecordingLimitsAlwaysModes(t *testing.T) {
	only := func(mode string, sel callrec.Selective) policy.Target {
		return aliceWith(func(r *callrec.UserRecording) { r.Mode = mode; r.Selective = sel })
	}
	outInternal := func(t policy.Target) policy.Call { return policy.Call{Recorded: t} }
	noOutExt := callrec.Selective{InboundInternal: true, InboundExternal: true, OutboundInternal: true}
	noInInt := callrec.Selective{InboundExternal: true, OutboundInternal: true, OutboundExternal: true}
	noOutInt := callrec.Selective{InboundInternal: true, InboundExternal: true, OutboundExternal: true}
	noInExt := callrec.Selective{InboundInternal: true, OutboundInternal: true, OutboundExternal: true}
	runDecide(t, []decideCase{
		{"always, outbound external excluded", snap(), pstnOut(only(callrec.ModeAlways, noOutExt)), false, "selective recording of person Alice Liddell (person-alice) excludes outbound external calls"},
		{"always, outbound external excluded, inbound external kept", snap(), pstnIn(only(callrec.ModeAlways, noOutExt)), true, ""},
		{"always with pause resume, inbound internal excluded", snap(), internalIn(only(callrec.ModeAlwaysWithPauseResume, noInInt)), false, "excludes inbound internal calls"},
		{"always, outbound internal excluded", snap(), outInternal(only(callrec.ModeAlways, noOutInt)), false, "excludes outbound internal calls"},
		{"always, inbound external excluded", snap(), pstnIn(only(callrec.ModeAlways, noInExt)), false, "excludes inbound external calls"},
		{"on demand ignores selective settings", snap(), pstnOut(only(callrec.ModeOnDemand, callrec.Selective{})), true, ""},
	})
}

func TestR19_R25_R35_ModesStartAndControls(t *testing.T) {
	cases := []struct {
		mode          string
		startAtAnswer bool
		controls      policy.Controls
		notRecording  policy.Controls
		recording     policy.Controls
	}{
		{callrec.ModeAlways, true, policy.Controls{}, policy.Controls{}, policy.Controls{}},
		{callrec.ModeAlwaysWithPauseResume, true, policy.Controls{Pause: true, Resume: true}, policy.Controls{}, policy.Controls{Pause: true, Resume: true}},
		{callrec.ModeOnDemand, false, policy.Controls{Start: true, Stop: true, Pause: true, Resume: true},
			policy.Controls{Start: true}, policy.Controls{Stop: true, Pause: true, Resume: true}},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			d := policy.Decide(snap(), pstnIn(aliceWith(func(r *callrec.UserRecording) { r.Mode = c.mode })))
			if !d.Record || d.Mode != c.mode {
				t.Fatalf("Record = %v, Mode = %q (reason %q)", d.Record, d.Mode, d.Reason)
			}
			if d.StartAtAnswer != c.startAtAnswer {
				t.Errorf("StartAtAnswer = %v, want %v (R19)", d.StartAtAnswer, c.startAtAnswer)
			}
			if d.Controls != c.controls {
				t.Errorf("Controls = %+v, want %+v", d.Controls, c.controls)
			}
			if got := policy.ControlsFor(c.mode, false); got != c.notRecording {
				t.Errorf("ControlsFor(not recording) = %+v, want %+v", got, c.notRecording)
			}
			if got := policy.ControlsFor(c.mode, true); got != c.recording {
				t.Errorf("ControlsFor(recording) = %+v, want %+v", got, c.recording)
			}
			if d.AccessCodes != (callrec.AccessCodes{Start: "*44", Stop: "*45", Pause: "*48", Resume: "*49"}) {
				t.Errorf("AccessCodes = %+v, want the defaults", d.AccessCodes)
			}
		})
	}
	t.Run("never offers nothing", func(t *testing.T) {
		if got := policy.ControlsFor(callrec.ModeNever, true); got != (policy.Controls{}) {
			t.Fatalf("ControlsFor(never) = %+v", got)
		}
	})
	t.Run("org access codes, unset ones defaulted", func(t *testing.T) {
		s := withSnap(func(s *policy.Snapshot) { s.Org.Recording.AccessCodes = callrec.AccessCodes{Start: "#71", Pause: ""} })
		d := policy.Decide(s, pstnIn(policy.Target{Person: alice()}))
		want := callrec.AccessCodes{Start: "#71", Stop: "*45", Pause: "*48", Resume: "*49"}
		if d.AccessCodes != want {
			t.Fatalf("AccessCodes = %+v, want %+v", d.AccessCodes, want)
		}
	})
}

func TestR17_R18_ComplianceAnnouncement(t *testing.T) {
	orgBoth := withSnap(func(s *policy.Snapshot) {
		s.Org.Recording.Compliance = callrec.ComplianceAnnouncement{Inbound: true, Outbound: true, DelaySeconds: 30}
	})
	branch := policy.Target{Person: withPerson(func(p *callrec.Person) { p.LocationID = branchID; p.Language = "" })}
	a := policy.Target{Person: withPerson(func(p *callrec.Person) { p.Language = "" })}
	cases := []struct {
		name string
		s    *policy.Snapshot
		call policy.Call
		want *policy.Announcement
	}{
		{"off by default", snap(), pstnIn(a), nil},
		{"inbound PSTN before answer", orgBoth, pstnIn(a), &policy.Announcement{Kind: "compliance", When: policy.BeforeAnswer, Language: "en_GB"}},
		{"outbound PSTN after answer, no delay unless switched on", orgBoth, pstnOut(a), &policy.Announcement{Kind: "compliance", When: policy.AfterAnswer, Language: "en_GB"}},
		{"location override with delay", orgBoth, pstnOut(branch), &policy.Announcement{Kind: "compliance", When: policy.AfterAnswer, Delay: 7 * time.Second, Language: "en_US"}},
		{"internal calls never", orgBoth, internalIn(a), nil},
		{"only inbound switched on: outbound has none", withSnap(func(s *policy.Snapshot) {
			s.Org.Recording.Compliance = callrec.ComplianceAnnouncement{Inbound: true}
		}), pstnOut(a), nil},
		{"custom file", withSnap(func(s *policy.Snapshot) {
			s.Org.Recording.Compliance = callrec.ComplianceAnnouncement{Inbound: true, UseCustom: true, CustomFileID: "ann-42"}
		}), pstnIn(a), &policy.Announcement{Kind: "compliance", When: policy.BeforeAnswer, Language: "en_GB", FileID: "ann-42"}},
		{"not when the call is not recorded", orgBoth, pstnIn(aliceWith(func(r *callrec.UserRecording) { r.Enabled = false })), nil},
		{"delay beyond 60 s stored by mistake is capped", withSnap(func(s *policy.Snapshot) {
			s.Org.Recording.Compliance = callrec.ComplianceAnnouncement{Outbound: true, OutboundDelay: true, DelaySeconds: 600}
		}), pstnOut(a), &policy.Announcement{Kind: "compliance", When: policy.AfterAnswer, Delay: 60 * time.Second, Language: "en_GB"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := policy.Decide(c.s, c.call).Compliance
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Compliance = %+v, want %+v", got, c.want)
			}
		})
	}
}

// startStop is the start/stop part of a decision: "none", or the kinds.
func startStop(d policy.Decision) string {
	switch {
	case d.Start == nil && d.Stop == nil:
		return "none"
	case d.Start != nil && d.Stop != nil:
		return "start+stop"
	}
	return "partial"
}

func TestR20_R23_ComplianceSuppressesStartStop(t *testing.T) {
	both := func(r *callrec.UserRecording) { r.StartStopPSTN, r.StartStopInternal = true, true }
	compIn := withSnap(func(s *policy.Snapshot) { s.Org.Recording.Compliance = callrec.ComplianceAnnouncement{Inbound: true} })
	a := aliceWith(both)
	transfer := pstnIn(a)
	transfer.CompliancePlayed = true
	failed := pstnIn(a)
	failed.ComplianceFailed = true
	transferInternal := internalIn(a)
	transferInternal.CompliancePlayed = true
	cases := []struct {
		name           string
		s              *policy.Snapshot
		call           policy.Call
		wantCompliance bool
		wantStartStop  string
	}{
		{"R23 inbound PSTN with compliance: no start/stop", compIn, pstnIn(a), true, "none"},
		{"R23 inbound PSTN without compliance: start/stop", snap(), pstnIn(a), false, "start+stop"},
		{"R23 outbound PSTN where compliance is inbound only: start/stop", compIn, pstnOut(a), false, "start+stop"},
		{"R20 after transfer: neither plays again", compIn, transfer, false, "none"},
		{"R20 played even where compliance is now off", snap(), transfer, false, "none"},
		{"R20 played earlier in the call suppresses internal legs too", snap(), transferInternal, false, "none"},
		{"R23 compliance failed: start/stop is the fallback", compIn, failed, false, "start+stop"},
		{"internal call: start/stop, no compliance", compIn, internalIn(a), false, "start+stop"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := policy.Decide(c.s, c.call)
			if !d.Record {
				t.Fatalf("not recorded: %s", d.Reason)
			}
			if (d.Compliance != nil) != c.wantCompliance {
				t.Errorf("Compliance = %+v, want present %v", d.Compliance, c.wantCompliance)
			}
			if got := startStop(d); got != c.wantStartStop {
				t.Errorf("start/stop = %s, want %s", got, c.wantStartStop)
			}
		})
	}
	t.Run("R20 pause/resume notification still plays", func(t *testing.T) {
		d := policy.Decide(compIn, pstnIn(aliceWith(func(r *callrec.UserRecording) {
			both(r)
			r.Mode = callrec.ModeAlwaysWithPauseResume
			r.NotificationEnabled, r.Notification = true, callrec.NotifyAnnouncement
		})))
		if d.Compliance == nil || d.Start != nil || d.Pause == nil || d.Resume == nil {
			t.Fatalf("compliance %v, start %v, pause %v, resume %v; want compliance, no start, pause and resume", d.Compliance, d.Start, d.Pause, d.Resume)
		}
	})
}

func TestR27_StartStopSwitchesPerCallKind(t *testing.T) {
	set := func(legacy, pstn, internal bool) policy.Target {
		return aliceWith(func(r *callrec.UserRecording) {
			r.StartStopAnnouncement, r.StartStopPSTN, r.StartStopInternal = legacy, pstn, internal
		})
	}
	cases := []struct {
		name                   string
		legacy, pstn, internal bool
		wantPSTN, wantInternal string
	}{
		{"all off", false, false, false, "none", "none"},
		{"PSTN only", false, true, false, "start+stop", "none"},
		{"internal only", false, false, true, "none", "start+stop"},
		{"both", false, true, true, "start+stop", "start+stop"},
		{"legacy switch alone means both kinds", true, false, false, "start+stop", "start+stop"},
		{"per-kind switches win over the legacy one", true, true, false, "start+stop", "none"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := set(c.legacy, c.pstn, c.internal)
			if got := startStop(policy.Decide(snap(), pstnOut(tg))); got != c.wantPSTN {
				t.Errorf("PSTN call: %s, want %s", got, c.wantPSTN)
			}
			if got := startStop(policy.Decide(snap(), internalIn(tg))); got != c.wantInternal {
				t.Errorf("internal call: %s, want %s", got, c.wantInternal)
			}
		})
	}
	t.Run("prompts and custom files", func(t *testing.T) {
		s := withSnap(func(s *policy.Snapshot) {
			s.Org.Recording.Announcements.Start = callrec.AnnouncementChoice{Custom: true, FileID: "start-file"}
			s.Org.Recording.Announcements.Stop = callrec.AnnouncementChoice{Custom: false, FileID: "ignored"}
		})
		d := policy.Decide(s, internalIn(set(false, false, true)))
		wantStart := &policy.Announcement{Kind: "start", When: policy.OnStart, Language: "fr_FR", FileID: "start-file"}
		wantStop := &policy.Announcement{Kind: "stop", When: policy.OnStop, Language: "fr_FR"}
		if !reflect.DeepEqual(d.Start, wantStart) || !reflect.DeepEqual(d.Stop, wantStop) {
			t.Fatalf("Start %+v, Stop %+v; want %+v, %+v", d.Start, d.Stop, wantStart, wantStop)
		}
	})
}

func TestR21_DecideLanguage(t *testing.T) {
	feature := &callrec.Feature{ID: "cq1", Kind: callrec.FeatureCallQueue, LocationID: branchID, Language: "es_MX"}
	cases := []struct {
		name string
		s    *policy.Snapshot
		call policy.Call
		want string
	}{
		{"straight to a user: the user's", snap(), pstnIn(policy.Target{Person: alice()}), "fr_FR"},
		{"via a feature: the feature's", snap(), policy.Call{Inbound: true, PSTN: true, Recorded: policy.Target{Person: alice()}, Feature: feature}, "es_MX"},
		{"via a virtual line: the line's", snap(), policy.Call{Inbound: true, Recorded: policy.Target{Person: alice()}, VirtualLine: line()}, "de_DE"},
		{"recorded virtual line: its own", snap(), pstnIn(policy.Target{Line: line()}), "de_DE"},
		{"unknown user language: the location's", snap(), pstnIn(policy.Target{Person: withPerson(func(p *callrec.Person) {
			p.Language, p.LocationID = "tlh_QO", branchID
		})}), "en_US"},
		{"unknown user language, location has none: the org's", snap(), pstnIn(policy.Target{Person: withPerson(func(p *callrec.Person) { p.Language = "tlh_QO" })}), "en_GB"},
		{"unknown feature language: the feature location's", snap(), policy.Call{Recorded: policy.Target{Person: alice()},
			Feature: &callrec.Feature{LocationID: branchID, Language: "xx"}}, "en_US"},
		{"unknown feature language, no location language: the org's, not the user's", snap(), policy.Call{Recorded: policy.Target{Person: alice()},
			Feature: &callrec.Feature{LocationID: hqID, Language: ""}}, "en_GB"},
		{"nothing known: en_US", withSnap(func(s *policy.Snapshot) { s.Org.Language = "xx_YY" }),
			pstnIn(policy.Target{Person: withPerson(func(p *callrec.Person) { p.Language = "" })}), "en_US"},
		{"set even when not recorded", snap(), pstnIn(aliceWith(func(r *callrec.UserRecording) { r.Enabled = false })), "fr_FR"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := policy.Decide(c.s, c.call).Language; got != c.want {
				t.Fatalf("Language = %q, want %q", got, c.want)
			}
		})
	}
}

func TestR22_EveryAnnouncementSaysWhichWhenAndLanguage(t *testing.T) {
	s := withSnap(func(s *policy.Snapshot) {
		s.Org.Recording.Compliance = callrec.ComplianceAnnouncement{Outbound: true}
		s.Org.Recording.FailureBehavior = callrec.FailureProceedWithAnnouncement
	})
	d := policy.Decide(s, pstnOut(aliceWith(func(r *callrec.UserRecording) {
		r.Mode = callrec.ModeOnDemand
		r.NotificationEnabled, r.Notification = true, callrec.NotifyAnnouncement
		r.StartStopInternal = true
	})))
	for _, c := range []struct {
		name       string
		a          *policy.Announcement
		kind, when string
	}{
		{"compliance", d.Compliance, "compliance", policy.AfterAnswer},
		{"pause", d.Pause, "pause", policy.OnPause},
		{"resume", d.Resume, "resume", policy.OnResume},
		{"failure", d.Failure, "failure", policy.OnFailure},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.a == nil {
				t.Fatal("missing")
			}
			if c.a.Kind != c.kind || c.a.When != c.when || c.a.Language != "fr_FR" {
				t.Fatalf("announcement = %+v, want kind %s when %s language fr_FR", c.a, c.kind, c.when)
			}
		})
	}
}

func TestR28_PauseResumeNotification(t *testing.T) {
	with := func(mode, kind string, on bool) policy.Target {
		return aliceWith(func(r *callrec.UserRecording) { r.Mode, r.Notification, r.NotificationEnabled = mode, kind, on })
	}
	cases := []struct {
		name         string
		target       policy.Target
		want         string
		wantPrompts  bool
		wantPauseFID string
	}{
		{"beep", with(callrec.ModeAlwaysWithPauseResume, callrec.NotifyBeep, true), callrec.NotifyBeep, false, ""},
		{"announcement", with(callrec.ModeOnDemand, callrec.NotifyAnnouncement, true), callrec.NotifyAnnouncement, true, "pause-file"},
		{"switched off", with(callrec.ModeOnDemand, callrec.NotifyAnnouncement, false), callrec.NotifyNone, false, ""},
		{"none", with(callrec.ModeOnDemand, callrec.NotifyNone, true), callrec.NotifyNone, false, ""},
		{"on without a kind is a beep", with(callrec.ModeOnDemand, "", true), callrec.NotifyBeep, false, ""},
		{"mode always cannot pause", with(callrec.ModeAlways, callrec.NotifyAnnouncement, true), callrec.NotifyNone, false, ""},
	}
	s := withSnap(func(s *policy.Snapshot) {
		s.Org.Recording.Announcements.Pause = callrec.AnnouncementChoice{Custom: true, FileID: "pause-file"}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := policy.Decide(s, internalIn(c.target))
			if d.Notification != c.want {
				t.Fatalf("Notification = %q, want %q", d.Notification, c.want)
			}
			if (d.Pause != nil) != c.wantPrompts || (d.Resume != nil) != c.wantPrompts {
				t.Fatalf("Pause %+v, Resume %+v; want prompts %v", d.Pause, d.Resume, c.wantPrompts)
			}
			if c.wantPrompts && (d.Pause.FileID != c.wantPauseFID || d.Resume.FileID != "") {
				t.Fatalf("Pause file %q, Resume file %q", d.Pause.FileID, d.Resume.FileID)
			}
		})
	}
}

func TestR29_RepeatTone(t *testing.T) {
	cases := []struct {
		name     string
		on       bool
		interval int
		want     time.Duration
	}{
		{"default every 20 s", true, 20, 20 * time.Second},
		{"every 90 s", true, 90, 90 * time.Second},
		{"off", false, 20, 0},
		{"stored below range is raised to 10 s", true, 3, 10 * time.Second},
		{"stored above range is capped at 90 s", true, 1800, 90 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := policy.Decide(snap(), internalIn(aliceWith(func(r *callrec.UserRecording) { r.RepeatEnabled, r.RepeatInterval = c.on, c.interval })))
			if d.Repeat != c.want {
				t.Fatalf("Repeat = %v, want %v", d.Repeat, c.want)
			}
		})
	}
}

func TestX1_FailureBehaviourAndBackup(t *testing.T) {
	branchAlice := policy.Target{Person: withPerson(func(p *callrec.Person) { p.LocationID = branchID })}
	cases := []struct {
		name        string
		s           *policy.Snapshot
		target      policy.Target
		behavior    string
		failure     *policy.Announcement
		sipTarget   string
		backup      string
		storageRegn string
	}{
		{"built-in, proceed silently", snap(), policy.Target{Person: alice()}, callrec.FailureProceedNoAnnouncement, nil, "", "", "GB"},
		{"built-in, proceed with announcement, custom file", withSnap(func(s *policy.Snapshot) {
			s.Org.Recording.FailureBehavior = callrec.FailureProceedWithAnnouncement
			s.Org.Recording.Announcements.FailureProceed = callrec.AnnouncementChoice{Custom: true, FileID: "fp"}
		}), policy.Target{Person: alice()}, callrec.FailureProceedWithAnnouncement,
			&policy.Announcement{Kind: "failure", When: policy.OnFailure, Language: "fr_FR", FileID: "fp"}, "", "", "GB"},
		{"external at the branch: end call, its SRS and backup, no storage region", snap(), branchAlice, callrec.FailureEndWithAnnouncement,
			&policy.Announcement{Kind: "failure", When: policy.OnFailure, Language: "fr_FR"},
			"sip:srs@rec.acme.example;transport=tcp", "sip:srs@rec2.acme.example;transport=tcp", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := policy.Decide(c.s, pstnIn(c.target))
			if !d.Record {
				t.Fatalf("not recorded: %s", d.Reason)
			}
			if d.FailureBehavior != c.behavior || !reflect.DeepEqual(d.Failure, c.failure) {
				t.Errorf("FailureBehavior %q, Failure %+v; want %q, %+v", d.FailureBehavior, d.Failure, c.behavior, c.failure)
			}
			if d.Target != c.sipTarget || d.Backup != c.backup {
				t.Errorf("Target %q, Backup %q; want %q, %q", d.Target, d.Backup, c.sipTarget, c.backup)
			}
			if d.StorageRegion != c.storageRegn {
				t.Errorf("StorageRegion %q, want %q (X2)", d.StorageRegion, c.storageRegn)
			}
		})
	}
}

func TestDecide_NotRecordedCarriesOnlyReasonModeLanguage(t *testing.T) {
	s := withSnap(func(s *policy.Snapshot) { s.Org.Recording.Compliance = callrec.ComplianceAnnouncement{Inbound: true} })
	d := policy.Decide(s, pstnIn(aliceWith(func(r *callrec.UserRecording) { r.Enabled = false; r.StartStopPSTN = true })))
	want := policy.Decision{Reason: d.Reason, Mode: callrec.ModeAlways, Language: "fr_FR"}
	if d.Reason == "" || !reflect.DeepEqual(d, want) {
		t.Fatalf("Decision = %+v, want %+v", d, want)
	}
}

func TestR30_R16_EffectiveSettings(t *testing.T) {
	t.Run("person at HQ on the built-in provider", func(t *testing.T) {
		p := alice()
		e := policy.EffectiveFor(snap(), policy.Target{Person: p})
		want := policy.Effective{
			Enabled: true, Recording: true,
			ProviderID: callrec.BuiltInProviderID, ProviderName: "callrec", ProviderTarget: "sip:srs@127.0.0.1:5070",
			VendorInherited: true, Plan: callrec.PlanTeam, Settings: p.Recording,
			Language: "fr_FR", FailureBehavior: callrec.FailureProceedNoAnnouncement, StorageRegion: "GB",
			AccessCodes:     callrec.AccessCodes{Start: "*44", Stop: "*45", Pause: "*48", Resume: "*49"},
			ServiceProvider: orgID, ExternalGroup: hqID, ExternalID: "alice@sp01.callrec.example",
		}
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("EffectiveFor =\n%+v\nwant\n%+v", e, want)
		}
	})
	t.Run("virtual line at the branch, not provisioned, on demand", func(t *testing.T) {
		l := line()
		l.LocationID = branchID
		l.Language = ""
		l.Recording.Mode = callrec.ModeOnDemand
		e := policy.EffectiveFor(snap(), policy.Target{Line: l})
		if !e.Recording || e.ProviderID != acmeID || e.VendorInherited || e.StorageRegion != "" {
			t.Fatalf("Recording %v provider %q inherited %v region %q", e.Recording, e.ProviderID, e.VendorInherited, e.StorageRegion)
		}
		if e.Compliance != *snap().Locations[branchID].Recording.Compliance {
			t.Errorf("Compliance = %+v, want the branch's (R17)", e.Compliance)
		}
		if e.Language != "en_US" || e.FailureBehavior != callrec.FailureEndWithAnnouncement {
			t.Errorf("Language %q, FailureBehavior %q", e.Language, e.FailureBehavior)
		}
		if e.ExternalID != lineID || e.ExternalGroup != branchID || e.ServiceProvider != orgID {
			t.Errorf("R30 ids = %q, %q, %q; want the line id before provisioning, the location, the org", e.ServiceProvider, e.ExternalGroup, e.ExternalID)
		}
		if e.Controls != (policy.Controls{Start: true, Stop: true, Pause: true, Resume: true}) {
			t.Errorf("Controls = %+v", e.Controls)
		}
		if e.Plan != callrec.PlanPremier {
			t.Errorf("Plan = %q", e.Plan)
		}
	})
	t.Run("every reason is listed", func(t *testing.T) {
		s := withSnap(func(s *policy.Snapshot) { s.Org.Recording.Entitled = false })
		p := withPerson(func(p *callrec.Person) {
			p.License = callrec.LicenseWorkspace
			p.LocationID = closedID
			p.Recording = callrec.DefaultUserRecording()
		})
		e := policy.EffectiveFor(s, policy.Target{Person: p})
		if e.Recording || e.Enabled || e.Controls != (policy.Controls{}) {
			t.Fatalf("Recording %v Enabled %v Controls %+v", e.Recording, e.Enabled, e.Controls)
		}
		rules := []string{"(R2)", "(R1)", "(R14, R16)", "(R24)"}
		if len(e.Reasons) != len(rules) {
			t.Fatalf("Reasons = %q, want one each for %v", e.Reasons, rules)
		}
		for i, r := range rules {
			if !strings.HasSuffix(e.Reasons[i], r) {
				t.Errorf("reason %d = %q, want it to cite %s", i, e.Reasons[i], r)
			}
		}
	})
	t.Run("terms not accepted", func(t *testing.T) {
		e := policy.EffectiveFor(withSnap(func(s *policy.Snapshot) { s.Terms = nil }), policy.Target{Person: alice()})
		if e.Recording || len(e.Reasons) != 1 || !strings.Contains(e.Reasons[0], "(R13)") || e.ProviderID != callrec.BuiltInProviderID {
			t.Fatalf("Recording %v Reasons %q Provider %q", e.Recording, e.Reasons, e.ProviderID)
		}
	})
}
