// Command siprecload is the SIPREC load benchmark of callrec: it runs -n
// concurrent two-stream G.711 recording sessions of -duration against a
// recording server on loopback, ramped up over -ramp, measures the
// server's CPU and memory from /proc, then checks through the REST API that
// every call produced a complete recording of the right length. It prints
// a Markdown table row for bench/RESULTS.md and a JSON summary.
//
//	siprecload -n 2000 -duration 60s -ramp 10s -target sip:srs@127.0.0.1:5070 \
//	    -server-pid $(pgrep -f 'callrec serve') \
//	    -api http://127.0.0.1:8080 -token-file callrec-data/admin-token
//
// CPU per call is the server's CPU seconds over the steady window (every
// call up) divided by the window's wall seconds and by -n, as a percentage
// of one core; CPU per packet divides the same CPU time by the packets the
// window carried (counted by the client's senders).
//
// It only ever sends to loopback and refuses any other target or API
// address; it is bounded by -n and -duration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/callrec/callrec/bench/internal/benchkit"
	"github.com/callrec/callrec/srcclient"
	"github.com/emiago/sipgo/sip"
)

// Bounds of the run.
const (
	maxCalls    = 10000
	maxDuration = time.Hour
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	target, transport string
	n                 int
	duration, ramp    time.Duration
	serverPID         int
	api, tokenFile    string
	settle            time.Duration
	tolerance         time.Duration
	label             string
	jsonPath          string
	ports             [2]int
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("siprecload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.target, "target", "sip:srs@127.0.0.1:5070", "SRS URI (loopback only)")
	fs.StringVar(&c.transport, "transport", "tcp", "SIP transport: tcp or udp")
	fs.IntVar(&c.n, "n", 100, "concurrent two-stream calls")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "media duration of each call")
	fs.DurationVar(&c.ramp, "ramp", 10*time.Second, "spread the call starts over this long")
	fs.IntVar(&c.serverPID, "server-pid", 0, "PID of the server, to read its CPU and memory from /proc (0 = skip)")
	fs.StringVar(&c.api, "api", "", "callrec REST API base URL (loopback only) to check the recordings, e.g. http://127.0.0.1:8080")
	fs.StringVar(&c.tokenFile, "token-file", "", "file holding the admin API token")
	fs.DurationVar(&c.settle, "settle", 5*time.Second, "wait this long after the last BYE before checking the recordings")
	fs.DurationVar(&c.tolerance, "tolerance", 40*time.Millisecond, "allowed difference between a recording's duration and its session's answer-to-BYE span as the client saw it (-duration when unknown)")
	fs.StringVar(&c.label, "label", "", "free text for the table row (e.g. sqlite+fs)")
	fs.StringVar(&c.jsonPath, "json", "", "also write the JSON summary to this file")
	ports := fs.String("media-ports", "42000-42999", "local UDP port range for RTP")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.n < 1 || c.n > maxCalls {
		return c, fmt.Errorf("-n %d outside 1..%d", c.n, maxCalls)
	}
	if c.duration < time.Second || c.duration > maxDuration {
		return c, fmt.Errorf("-duration %v outside 1s..%v", c.duration, maxDuration)
	}
	if c.ramp < 0 || c.ramp > maxDuration {
		return c, fmt.Errorf("-ramp %v outside 0..%v", c.ramp, maxDuration)
	}
	lo, hi, ok := strings.Cut(*ports, "-")
	plo, err1 := strconv.Atoi(lo)
	phi, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil {
		return c, fmt.Errorf("-media-ports %q: want LOW-HIGH", *ports)
	}
	c.ports = [2]int{plo, phi}
	if err := loopbackTarget(c.target); err != nil {
		return c, err
	}
	if c.api != "" {
		u, err := url.Parse(c.api)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return c, fmt.Errorf("-api %q: want http://127.0.0.1:PORT", c.api)
		}
		if !benchkit.IsLoopback(u.Hostname()) {
			return c, fmt.Errorf("-api %q: only loopback addresses are allowed", c.api)
		}
		if c.tokenFile == "" {
			return c, errors.New("-api needs -token-file")
		}
	}
	return c, nil
}

// loopbackTarget refuses an SRS URI whose host is not a loopback address.
func loopbackTarget(target string) error {
	var u sip.Uri
	if err := sip.ParseUri(target, &u); err != nil {
		return fmt.Errorf("-target %q: %w", target, err)
	}
	if !benchkit.IsLoopback(u.Host) {
		return fmt.Errorf("-target %q: only loopback addresses are allowed", target)
	}
	return nil
}

// summary is the JSON report of a run.
type summary struct {
	Label     string    `json:"label,omitempty"`
	Date      time.Time `json:"date"`
	Calls     int       `json:"calls"`
	Duration  string    `json:"duration"`
	Ramp      string    `json:"ramp"`
	Transport string    `json:"transport"`

	Established    int         `json:"established"`   // 2xx answers
	FailedInvites  int         `json:"failedInvites"` // errors or non-2xx answers
	ByeFailures    int         `json:"byeFailures"`   // BYE not answered 200 (and not ended by the SRS)
	RemoteByes     int         `json:"remoteByes"`    // sessions the SRS ended
	StatusCounts   map[int]int `json:"statusCounts"`
	SampleErrors   []string    `json:"sampleErrors,omitempty"`
	PacketsSent    uint64      `json:"packetsSent"`
	ClientSendErrs uint64      `json:"clientSendErrors"`

	Recordings  *recordingSummary `json:"recordings,omitempty"`
	Server      *serverSummary    `json:"server,omitempty"`
	Client      clientSummary     `json:"client"`
	WallSeconds float64           `json:"wallSeconds"`
}

// recordingSummary is what the recordings say about the calls.
type recordingSummary = benchkit.RecordingSummary

type serverSummary struct {
	PID             int     `json:"pid"`
	CPUSecondsTotal float64 `json:"cpuSecondsTotal"`
	SteadySeconds   float64 `json:"steadyWindowSeconds"`
	SteadyCPU       float64 `json:"steadyCpuSeconds"`
	CPUPerCallPct   float64 `json:"cpuPerCallPercentOfCore"`
	CPUPerPacketUS  float64 `json:"cpuPerPacketMicros"`
	Basis           string  `json:"basis"` // "steady window" or "whole run"
	RSSBeforeKiB    int64   `json:"rssBeforeKiB"`
	RSSSteadyKiB    int64   `json:"rssSteadyKiB"`
	RSSAfterKiB     int64   `json:"rssAfterKiB"`
	HWMKiB          int64   `json:"hwmKiB"`
	RSSPerCallKiB   float64 `json:"rssPerCallKiB"`
}

type clientSummary struct {
	CPUSeconds float64 `json:"cpuSeconds"`
	CPUPct     float64 `json:"cpuPercentOfCore"`
	// LateFrames counts packets the client sent one tick or more after
	// they were due: non-zero means the load tool itself fell behind (CPU
	// starved), and late packets at the server may be its fault.
	LateFrames   uint64  `json:"lateFrames"`
	MaxTickGapMS float64 `json:"maxTickGapMs"`
	SendErrors   uint64  `json:"sendErrors"`
	LastError    string  `json:"lastError,omitempty"`
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return benchkit.FlagExit(stderr, "siprecload", err)
	}
	token := ""
	if cfg.api != "" {
		b, err := os.ReadFile(cfg.tokenFile)
		if err != nil {
			fmt.Fprintln(stderr, "siprecload:", err)
			return 2
		}
		token = strings.TrimSpace(string(b))
	}
	// sipgo warns about every connection it closes; keep errors only.
	sip.SetDefaultLogger(quietLogger(stderr))
	if cfg.transport == "udp" {
		srcclient.LiftUDPLimit()
	}
	client, err := srcclient.New(srcclient.Config{Target: cfg.target, Transport: cfg.transport, MediaPorts: cfg.ports, Logger: quietLogger(stderr)})
	if err != nil {
		fmt.Fprintln(stderr, "siprecload:", err)
		return 1
	}
	defer client.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	s, callIDs, err := runLoad(ctx, cfg, client, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "siprecload:", err)
		return 1
	}
	if cfg.api != "" {
		select {
		case <-time.After(cfg.settle):
		case <-ctx.Done():
		}
		base, _ := url.Parse(cfg.api)
		api := &benchkit.APIClient{Base: base, Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
		rs, err := checkRecordings(ctx, api, cfg, s, callIDs)
		if err != nil {
			fmt.Fprintln(stderr, "siprecload:", err)
			return 1
		}
		s.Recordings = rs
	}

	return benchkit.Report(stdout, stderr, "siprecload", tableHeader, tableRow(s), s, cfg.jsonPath, s.passed())
}

// runLoad places the calls and measures the processes.
func runLoad(ctx context.Context, cfg config, client *srcclient.Client, stderr io.Writer) (*summary, map[string]time.Duration, error) {
	s := &summary{
		Label: cfg.label, Date: time.Now().UTC(), Calls: cfg.n, Duration: cfg.duration.String(),
		Ramp: cfg.ramp.String(), Transport: cfg.transport, StatusCounts: map[int]int{},
	}
	pid := strconv.Itoa(cfg.serverPID)
	var before, steady0, steady1, after benchkit.Sample
	var pkts0, pkts1 uint64
	if cfg.serverPID > 0 {
		var err error
		if before, err = benchkit.ReadProc(pid); err != nil {
			return nil, nil, err
		}
	}
	self0, err := benchkit.ReadProc("self")
	if err != nil {
		return nil, nil, err
	}

	spec := srcclient.CallSpec{
		Duration: cfg.duration,
		Streams:  []srcclient.StreamSpec{{Codec: "PCMU", ToneHz: 400}, {Codec: "PCMU", ToneHz: 1000}},
	}
	start := time.Now()
	// Steady window: every call is up (ramp done, plus 2 s for the last
	// INVITEs) and none has ended yet (the first ends at duration).
	steadyStart := start.Add(cfg.ramp + 2*time.Second)
	steadyEnd := start.Add(cfg.duration - time.Second)
	haveSteady := cfg.serverPID > 0 && steadyEnd.Sub(steadyStart) >= 2*time.Second
	results := make([]*srcclient.Result, cfg.n)
	errs := make([]error, cfg.n)
	var wg sync.WaitGroup
	for i := range cfg.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := start.Add(time.Duration(int64(cfg.ramp) * int64(i) / int64(cfg.n)))
			select {
			case <-time.After(time.Until(at)):
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			results[i], errs[i] = client.Call(ctx, spec)
		}()
	}
	if haveSteady {
		sleepUntil(ctx, steadyStart)
		steady0, _ = benchkit.ReadProc(pid)
		pkts0 = client.Stats().Packets
		sleepUntil(ctx, steadyEnd)
		steady1, _ = benchkit.ReadProc(pid)
		pkts1 = client.Stats().Packets
	}
	wg.Wait()
	wall := time.Since(start)
	s.WallSeconds = wall.Seconds()
	if cfg.serverPID > 0 {
		if after, err = benchkit.ReadProc(pid); err != nil {
			fmt.Fprintln(stderr, "siprecload: server gone at the end:", err)
		}
	}
	self1, _ := benchkit.ReadProc("self")
	s.Client = clientSummary{CPUSeconds: self1.CPUSeconds - self0.CPUSeconds}
	s.Client.CPUPct = s.Client.CPUSeconds / wall.Seconds() * 100
	ms := client.Stats()
	s.Client.LateFrames, s.Client.SendErrors = ms.LateFrames, ms.SendErrors
	s.Client.MaxTickGapMS = float64(ms.MaxTickGap.Microseconds()) / 1000
	if ms.LastError != nil {
		s.Client.LastError = ms.LastError.Error()
	}

	callIDs := map[string]time.Duration{} // Call-ID -> the session's own answer-to-BYE span
	for i, r := range results {
		if r != nil {
			callIDs[r.CallID] = sessionSpan(r)
			s.StatusCounts[r.Status]++
			for _, n := range r.Sent {
				s.PacketsSent += n
			}
		}
		switch {
		case r == nil || r.Status < 200 || r.Status > 299:
			s.FailedInvites++
		default:
			s.Established++
			if r.RemoteBye {
				s.RemoteByes++
			} else if r.ByeStatus != 200 {
				s.ByeFailures++
			}
		}
		if errs[i] != nil && len(s.SampleErrors) < 5 {
			s.SampleErrors = append(s.SampleErrors, errs[i].Error())
		}
	}

	if cfg.serverPID > 0 {
		ss := &serverSummary{
			PID: cfg.serverPID, CPUSecondsTotal: after.CPUSeconds - before.CPUSeconds,
			RSSBeforeKiB: before.RSSKiB, RSSAfterKiB: after.RSSKiB, HWMKiB: after.HWMKiB,
		}
		window, cpu, rss := wall.Seconds(), ss.CPUSecondsTotal, after.HWMKiB
		ss.Basis = "whole run"
		packets := float64(s.PacketsSent)
		if haveSteady && steady1.CPUSeconds > 0 {
			ss.Basis = "steady window"
			window = steadyEnd.Sub(steadyStart).Seconds()
			cpu = steady1.CPUSeconds - steady0.CPUSeconds
			rss = steady1.RSSKiB
			packets = float64(pkts1 - pkts0)
		}
		ss.SteadySeconds, ss.SteadyCPU, ss.RSSSteadyKiB = window, cpu, rss
		ss.CPUPerCallPct = cpu / window / float64(cfg.n) * 100
		if packets > 0 {
			ss.CPUPerPacketUS = cpu / packets * 1e6
		}
		ss.RSSPerCallKiB = float64(rss-before.RSSKiB) / float64(cfg.n)
		s.Server = ss
	}
	return s, callIDs, nil
}

// quietLogger logs errors only.
func quietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelError}))
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-time.After(time.Until(t)):
	case <-ctx.Done():
	}
}

// sessionSpan is how long the recording session lasted as the client saw
// it, from the 2xx answer to its BYE: what the file must last. Zero when
// unknown (the nominal duration is used then).
func sessionSpan(r *srcclient.Result) time.Duration {
	end := r.ByeSent
	if end.IsZero() {
		end = r.ByeReceived
	}
	if r.Answered.IsZero() || end.IsZero() {
		return 0
	}
	return end.Sub(r.Answered)
}

// checkRecordings matches the recordings of the run to its calls by SIP
// Call-ID and checks each (benchkit.CheckRecordings).
func checkRecordings(ctx context.Context, api *benchkit.APIClient, cfg config, s *summary, callIDs map[string]time.Duration) (*recordingSummary, error) {
	return benchkit.CheckRecordings(ctx, api, s.Date, s.Established, callIDs, cfg.duration, cfg.tolerance)
}

// passed reports whether the run met the benchmark's bar.
func (s *summary) passed() bool {
	if s.FailedInvites > 0 || s.ByeFailures > 0 {
		return false
	}
	return s.Recordings.AllComplete(s.Established)
}

const tableHeader = "| date | label | calls × 2 streams | duration | transport | files complete | packets sent / received | lost / late / refused | failed INVITEs | server CPU %/call | CPU µs/packet | RSS/call | client CPU |\n" +
	"|---|---|---|---|---|---|---|---|---|---|---|---|---|"

// tableRow formats the summary as one row of bench/RESULTS.md.
func tableRow(s *summary) string {
	na := "n/a"
	complete, recv, losses := na, na, na
	if r := s.Recordings; r != nil {
		complete = fmt.Sprintf("%d/%d", r.Complete, s.Calls)
		recv = strconv.FormatUint(r.Received, 10)
		losses = fmt.Sprintf("%d / %d / %d", r.Lost, r.Late, r.Dropped)
	}
	cpu, pkt, rss := na, na, na
	if v := s.Server; v != nil {
		cpu = fmt.Sprintf("%.3f%%", v.CPUPerCallPct)
		pkt = fmt.Sprintf("%.2f", v.CPUPerPacketUS)
		rss = fmt.Sprintf("%.0f KiB", v.RSSPerCallKiB)
	}
	return fmt.Sprintf("| %s | %s | %d | %s | %s | %s | %d / %s | %s | %d | %s | %s | %s | %.0f%% of a core, %d late packets |",
		s.Date.Format("2006-01-02"), s.Label, s.Calls, s.Duration, s.Transport, complete,
		s.PacketsSent, recv, losses, s.FailedInvites, cpu, pkt, rss, s.Client.CPUPct, s.Client.LateFrames)
}
