package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/callrec/callrec/bench/internal/benchkit"
)

// summary is the JSON report of a run.
type summary struct {
	Label    string    `json:"label,omitempty"`
	Date     time.Time `json:"date"`
	Calls    int       `json:"concurrentCalls"`
	Rate     float64   `json:"rate"`
	Duration string    `json:"callDuration"`
	Load     string    `json:"load"`
	Digest   string    `json:"digest"`

	Placed        int                        `json:"placed"`
	Established   int                        `json:"established"`
	Failed        int                        `json:"failed"`
	SetupCodes    map[int]int                `json:"setupCodes"` // final INVITE answers (0: none)
	SampleErrors  []string                   `json:"sampleErrors,omitempty"`
	ByeFailures   int                        `json:"byeFailures"`
	PhoneRefusals map[int]int                `json:"phoneRefusals,omitempty"`
	PeakCalls     int                        `json:"peakConcurrent"`
	RampRate      float64                    `json:"rampSetupsPerSecond"` // answered setups/s until the C-th call was up
	OverallRate   float64                    `json:"overallSetupsPerSecond"`
	SetupMS       percentilesMS              `json:"setupLatencyMs"`
	Media         mediaSummary               `json:"media"`
	Recordings    *benchkit.RecordingSummary `json:"recordings,omitempty"`
	Server        *serverSummary             `json:"server,omitempty"`
	Client        clientSummary              `json:"client"`
	WallSeconds   float64                    `json:"wallSeconds"`
	steadyPackets uint64
}

type percentilesMS struct {
	P50, P99, P999, Max float64
}

type percentilesUS struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99.9"`
	Max  float64 `json:"max"`
	N    uint64  `json:"samples"`
}

type mediaSummary struct {
	RelaySent     uint64        `json:"relayedSent"`
	RelayReceived uint64        `json:"relayedReceived"`
	RelayLost     uint64        `json:"relayedLost"`    // sent - received
	RelayGaps     uint64        `json:"relayedSeqGaps"` // lost inside the received sequence spans
	DirectSent    uint64        `json:"baselineSent"`
	DirectLost    uint64        `json:"baselineLost"`
	Relay         percentilesUS `json:"relayDelayUs"`
	Direct        percentilesUS `json:"baselineDelayUs"`
	Added         percentilesUS `json:"addedDelayUs"` // relay - baseline, percentile by percentile
}

type serverSummary struct {
	PID            int     `json:"pid"`
	Basis          string  `json:"basis"`
	WindowSeconds  float64 `json:"windowSeconds"`
	CPUSeconds     float64 `json:"cpuSeconds"`
	CPUPctOfCore   float64 `json:"cpuPercentOfCore"`
	CPUPerCallPct  float64 `json:"cpuPerCallPercentOfCore"`
	CPUPerPacketUS float64 `json:"cpuPerRelayedPacketMicros"`
	RSSBeforeKiB   int64   `json:"rssBeforeKiB"`
	RSSSteadyKiB   int64   `json:"rssSteadyKiB"`
	HWMKiB         int64   `json:"hwmKiB"`
	RSSPerCallKiB  float64 `json:"rssPerCallKiB"`
}

type clientSummary struct {
	CPUSeconds    float64 `json:"cpuSeconds"`
	CPUPct        float64 `json:"cpuPercentOfCore"`
	LateTicks     uint64  `json:"lateSendTicks"` // sender ticks that found a packet due over 20 ms ago
	SendErrors    uint64  `json:"sendErrors"`
	LastError     string  `json:"lastError,omitempty"`
	Unknown       uint64  `json:"unknownDatagrams"`
	NoKernelStamp uint64  `json:"noKernelTimestamp"`
}

// setups fills the call-setup figures from the calls' results.
func (s *summary) setups(results []*callResult, start time.Time, c int) {
	h := newHist(100*time.Microsecond, 30*time.Second)
	var answers []time.Time
	type edge struct {
		at time.Time
		d  int
	}
	var edges []edge
	for _, r := range results {
		s.Placed++
		if r.answered.IsZero() {
			s.Failed++
			s.SetupCodes[r.code]++
			if r.err != nil && len(s.SampleErrors) < 5 {
				s.SampleErrors = append(s.SampleErrors, r.err.Error())
			}
			continue
		}
		s.Established++
		s.SetupCodes[r.code]++
		h.add(r.setup())
		answers = append(answers, r.answered)
		if r.byeCode != 200 {
			s.ByeFailures++
			if r.err != nil && len(s.SampleErrors) < 5 {
				s.SampleErrors = append(s.SampleErrors, r.err.Error())
			}
		}
		edges = append(edges, edge{r.answered, 1})
		if !r.byeSent.IsZero() {
			edges = append(edges, edge{r.byeSent, -1})
		}
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i].at.Before(edges[j].at) })
	up := 0
	for _, e := range edges {
		up += e.d
		s.PeakCalls = max(s.PeakCalls, up)
	}
	sort.Slice(answers, func(i, j int) bool { return answers[i].Before(answers[j]) })
	if len(answers) >= c && c > 0 {
		s.RampRate = float64(c) / answers[c-1].Sub(start).Seconds()
	}
	if len(answers) > 0 {
		s.OverallRate = float64(len(answers)) / answers[len(answers)-1].Sub(start).Seconds()
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	s.SetupMS = percentilesMS{P50: ms(h.quantile(0.5)), P99: ms(h.quantile(0.99)), P999: ms(h.quantile(0.999)), Max: ms(h.max)}
}

// percentiles of a delay histogram in µs.
func percentiles(h *hist) percentilesUS {
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	return percentilesUS{P50: us(h.quantile(0.5)), P99: us(h.quantile(0.99)), P999: us(h.quantile(0.999)), Max: us(h.max), N: h.n}
}

// added is relay minus baseline, percentile by percentile.
func added(relay, direct percentilesUS) percentilesUS {
	return percentilesUS{P50: relay.P50 - direct.P50, P99: relay.P99 - direct.P99, P999: relay.P999 - direct.P999, Max: relay.Max - direct.Max, N: relay.N}
}

// mediaOf sums the streams after the senders and readers stopped.
func mediaOf(m *media) mediaSummary {
	var ms mediaSummary
	for i := range min(int(m.next.Load()), len(m.streams)) {
		st := &m.streams[i]
		sent := st.sent.Load()
		switch st.class {
		case viaRelay:
			ms.RelaySent += sent
			ms.RelayReceived += st.rx.received
			ms.RelayGaps += st.rx.lost()
			if sent > st.rx.received {
				ms.RelayLost += sent - st.rx.received
			}
		case direct:
			ms.DirectSent += sent
			if sent > st.rx.received {
				ms.DirectLost += sent - st.rx.received
			}
		}
	}
	ms.Relay = percentiles(m.delays(viaRelay))
	ms.Direct = percentiles(m.delays(direct))
	ms.Added = added(ms.Relay, ms.Direct)
	return ms
}

// serverOf computes the server's CPU and memory figures.
func serverOf(cfg config, before, s0, s1, after benchkit.Sample, steady bool, wall, window time.Duration, packets uint64) *serverSummary {
	ss := &serverSummary{PID: cfg.serverPID, Basis: "whole run", WindowSeconds: wall.Seconds(), CPUSeconds: after.CPUSeconds - before.CPUSeconds,
		RSSBeforeKiB: before.RSSKiB, RSSSteadyKiB: after.RSSKiB, HWMKiB: after.HWMKiB}
	if steady && s1.CPUSeconds > 0 {
		ss.Basis, ss.WindowSeconds, ss.CPUSeconds, ss.RSSSteadyKiB = "steady window", window.Seconds(), s1.CPUSeconds-s0.CPUSeconds, s1.RSSKiB
	}
	ss.CPUPctOfCore = ss.CPUSeconds / ss.WindowSeconds * 100
	ss.CPUPerCallPct = ss.CPUPctOfCore / float64(cfg.calls)
	if steady && packets > 0 {
		ss.CPUPerPacketUS = ss.CPUSeconds / float64(packets) * 1e6
	}
	ss.RSSPerCallKiB = float64(ss.RSSSteadyKiB-before.RSSKiB) / float64(cfg.calls)
	return ss
}

// passed reports whether the run met the bar: every call set up and hung
// up, no packet lost on the relayed path, every recording complete.
func (s *summary) passed() bool {
	if s.Failed > 0 || s.ByeFailures > 0 || s.Established == 0 || s.Media.RelayLost > 0 || s.Media.RelayGaps > 0 {
		return false
	}
	return s.Recordings.AllComplete(s.Established)
}

const tableHeader = "| date | label | C | setups/s asked / ramp / overall | setup p50 / p99 | failed (codes) | relayed packets sent / lost / gaps | added delay p50 / p99 / p99.9 (relay − direct) | recordings complete | server CPU (% core, µs/relayed pkt) | RSS/call | client CPU, late ticks |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|---|"

// tableRow formats the summary as one row of bench/RESULTS.md.
func tableRow(s *summary) string {
	codes := []string{}
	for c, n := range s.SetupCodes {
		if c != 200 {
			codes = append(codes, fmt.Sprintf("%d×%d", n, c))
		}
	}
	sort.Strings(codes)
	recs := "n/a"
	if r := s.Recordings; r != nil {
		recs = fmt.Sprintf("%d/%d", r.Complete, s.Established)
	}
	cpu, rss := "n/a", "n/a"
	if v := s.Server; v != nil {
		cpu = fmt.Sprintf("%.0f%%, %.1f", v.CPUPctOfCore, v.CPUPerPacketUS)
		rss = fmt.Sprintf("%.0f KiB", v.RSSPerCallKiB)
	}
	m := s.Media
	return fmt.Sprintf("| %s | %s | %d | %s / %.1f / %.1f | %.1f / %.1f ms | %d (%s) | %d / %d / %d | %.0f / %.0f / %.0f µs | %s | %s | %s | %.0f%%, %d |",
		s.Date.Format("2006-01-02"), s.Label, s.Calls, strconv.FormatFloat(s.Rate, 'f', -1, 64), s.RampRate, s.OverallRate,
		s.SetupMS.P50, s.SetupMS.P99, s.Failed, strings.Join(codes, " "), m.RelaySent, m.RelayLost, m.RelayGaps,
		m.Added.P50, m.Added.P99, m.Added.P999, recs, cpu, rss, s.Client.CPUPct, s.Client.LateTicks)
}
