// Command callload is the call-plane load benchmark of callrec (issue 5,
// point 8). Against a `callrec serve` on loopback it provisions, through
// the REST API, an org whose --phones people record every call (the
// built-in provider) and a trunk whose address is the tool's own gateway
// socket; registers the phones (digest, MD5 or SHA-256); then places
// inbound PSTN calls from the gateway to the phones' DIDs at --rate setups
// per second, keeping up to --calls calls up, each --duration long, both
// ends sending 20 ms PCMU, for --load. It measures:
//
//   - call setups: achieved rate, INVITE -> 200 OK latency (p50/p99), failures by code;
//   - RTP loss end to end: packets sent minus received per stream, and sequence gaps;
//   - the delay the relay adds on the wire: every payload carries its send time
//     (the rest µ-law silence, so the passthrough is exercised) and the receiver
//     takes the kernel's receive time (SO_TIMESTAMPNS); the same is measured on
//     --baseline direct socket-to-socket streams in the same run, and the added
//     delay is the difference of the percentiles (p50/p99/p99.9);
//   - the recordings afterwards, through the API: one per call, complete, of the
//     call's length (answer to BYE) within --tolerance;
//   - the server's CPU and RSS from /proc (--server-pid), like bench/siprecload.
//
// It prints a Markdown table row for bench/RESULTS.md and a JSON summary.
// It only talks to loopback addresses and is bounded by --calls, --load.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/callrec/callrec/bench/internal/benchkit"
	"github.com/emiago/sipgo/sip"
)

// Bounds of a run.
const (
	maxCalls = 5000
	maxLoad  = 10 * time.Minute
	maxRate  = 1000
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type config struct {
	api, tokenFile    string
	sip               netip.AddrPort
	serverPID         int
	calls, phones     int
	rate              float64
	duration, load    time.Duration
	baseline, sockets int
	digest            string
	trunkPort         int
	settle, tolerance time.Duration
	label, jsonPath   string
	cpuProfile        string
	serverProfile     string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("callload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.api, "api", "http://127.0.0.1:8080", "callrec REST API base URL (loopback only)")
	fs.StringVar(&c.tokenFile, "token-file", "", "file holding the admin API token (required)")
	sipAddr := fs.String("sip", "127.0.0.1:5060", "callrec's --sip address (loopback only)")
	fs.IntVar(&c.serverPID, "server-pid", 0, "PID of callrec serve, to read its CPU and memory from /proc (0 = skip)")
	fs.IntVar(&c.calls, "calls", 10, "concurrent calls (C)")
	fs.IntVar(&c.phones, "phones", 0, "registered phones (default: --calls; each slot calls its own phone)")
	fs.Float64Var(&c.rate, "rate", 10, "call setups per second")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "length of each call (answer to BYE, less 50 ms of drain)")
	fs.DurationVar(&c.load, "load", 30*time.Second, "place calls for this long; no call is started that would end later")
	fs.IntVar(&c.baseline, "baseline", 50, "direct socket-to-socket stream pairs measured alongside (the baseline delay)")
	fs.IntVar(&c.sockets, "sockets", 16, "UDP sockets the tool's RTP endpoints share")
	fs.StringVar(&c.digest, "sip-digest", "SHA-256", "digest algorithm the phones answer with: MD5 or SHA-256")
	fs.IntVar(&c.trunkPort, "trunk-port", 0, "UDP port of the gateway socket (0: any free)")
	fs.DurationVar(&c.settle, "settle", 5*time.Second, "wait this long after the last BYE before checking the recordings")
	fs.DurationVar(&c.tolerance, "tolerance", 100*time.Millisecond, "allowed difference between a recording's duration and its call's answer-to-BYE span")
	fs.StringVar(&c.label, "label", "", "free text for the table row")
	fs.StringVar(&c.jsonPath, "json", "", "also write the JSON summary to this file")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the tool's own CPU profile here")
	fs.StringVar(&c.serverProfile, "server-profile", "", "fetch a CPU profile of the server (/debug/pprof/profile) over the steady window into this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.phones == 0 {
		c.phones = c.calls
	}
	switch {
	case c.calls < 1 || c.calls > maxCalls:
		return c, fmt.Errorf("--calls %d outside 1..%d", c.calls, maxCalls)
	case c.phones < c.calls || c.phones > maxCalls:
		return c, fmt.Errorf("--phones %d outside --calls..%d", c.phones, maxCalls)
	case c.rate <= 0 || c.rate > maxRate:
		return c, fmt.Errorf("--rate %v outside (0, %d]", c.rate, maxRate)
	case c.duration < time.Second || c.load < c.duration || c.load > maxLoad:
		return c, fmt.Errorf("--duration %v / --load %v: want 1s <= duration <= load <= %v", c.duration, c.load, maxLoad)
	case c.baseline < 1 || c.baseline > 1000:
		return c, fmt.Errorf("--baseline %d outside 1..1000", c.baseline)
	case c.sockets < 2 || c.sockets > 256:
		return c, fmt.Errorf("--sockets %d outside 2..256", c.sockets)
	case c.tokenFile == "":
		return c, errors.New("--token-file is required")
	}
	c.digest = strings.ToUpper(c.digest)
	if c.digest != "MD5" && c.digest != "SHA-256" {
		return c, fmt.Errorf("--sip-digest %q: want MD5 or SHA-256", c.digest)
	}
	u, err := url.Parse(c.api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return c, fmt.Errorf("--api %q: want http://127.0.0.1:PORT", c.api)
	}
	if !benchkit.IsLoopback(u.Hostname()) {
		return c, fmt.Errorf("--api %q: only loopback addresses are allowed", c.api)
	}
	if c.sip, err = netip.ParseAddrPort(*sipAddr); err != nil || !c.sip.Addr().IsLoopback() {
		return c, fmt.Errorf("--sip %q: want a loopback IP:port", *sipAddr)
	}
	return c, nil
}

// maxCallsOfRun bounds how many calls a run can place (stream table size).
func (c config) maxCallsOfRun() int {
	perSlot := int(c.load/c.duration) + 1
	return min(c.calls*perSlot, int(c.rate*c.load.Seconds())+c.calls) + c.calls
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return benchkit.FlagExit(stderr, "callload", err)
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "callload:", err)
			return 1
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := runLoad(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "callload:", err)
		return 1
	}
	return benchkit.Report(stdout, stderr, "callload", tableHeader, tableRow(s), s, cfg.jsonPath, s.passed())
}

func runLoad(ctx context.Context, cfg config, stderr io.Writer) (*summary, error) {
	tok, err := os.ReadFile(cfg.tokenFile)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	token := strings.TrimSpace(string(tok))
	base, _ := url.Parse(cfg.api)
	hc := &http.Client{Timeout: 60 * time.Second}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	sip.SetDefaultLogger(log)

	m, err := newMedia(cfg.sockets, 2*cfg.maxCallsOfRun()+2*cfg.baseline)
	if err != nil {
		return nil, err
	}
	defer m.close()
	tr, err := newSIPEnd("gateway", cfg.trunkPort, log)
	if err != nil {
		return nil, err
	}
	defer tr.close()
	ph, err := newPhones(m, log)
	if err != nil {
		return nil, err
	}
	defer ph.close()

	ad := &admin{base: base, token: token, http: hc}
	t0 := time.Now()
	accounts, err := ad.provision(ctx, time.Now().UTC().Format("20060102T150405"), cfg.phones, int(tr.addr.Port()))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "callload: provisioned %d phones in %v\n", cfg.phones, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	if err := registerAll(ctx, ph, cfg, accounts); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "callload: registered %d phones (%s) in %v\n", cfg.phones, cfg.digest, time.Since(t0).Round(time.Millisecond))

	s := &summary{Label: cfg.label, Date: time.Now().UTC(), Calls: cfg.calls, Rate: cfg.rate, Duration: cfg.duration.String(),
		Load: cfg.load.String(), Digest: cfg.digest, SetupCodes: map[int]int{}}
	pid := strconv.Itoa(cfg.serverPID)
	var before, steady0, steady1, after benchkit.Sample
	if cfg.serverPID > 0 {
		if before, err = benchkit.ReadProc(pid); err != nil {
			return nil, err
		}
	}
	self0, err := benchkit.ReadProc("self")
	if err != nil {
		return nil, err
	}

	// Baseline: direct streams between pool sockets, both ways.
	var baseline []*stream
	for i := range cfg.baseline {
		for k := range 2 {
			st, err := m.newStream(direct)
			if err != nil {
				return nil, err
			}
			from, to := m.socketFor(2*i+k), m.socketFor(2*i+1-k)
			m.start(st, from, to.addr)
			baseline = append(baseline, st)
		}
	}

	start := time.Now()
	end := start.Add(cfg.load)
	rampEnd := start.Add(time.Duration(float64(cfg.calls)/cfg.rate*float64(time.Second)) + 2*time.Second)
	// Every slot has a call up from the ramp's end until the first slot
	// cannot fit another call before the end of the load.
	steadyStart, steadyEnd := rampEnd, start.Add(max(cfg.duration, cfg.load-cfg.duration)-time.Second)
	haveSteady := steadyEnd.Sub(steadyStart) >= 2*time.Second
	tokens := make(chan struct{})
	pacerCtx, stopPacer := context.WithCancel(ctx)
	go pace(pacerCtx, cfg.rate, tokens)
	tk := &trunk{sipEnd: tr, server: cfg.sip}

	var mu sync.Mutex
	var results []*callResult
	var wg sync.WaitGroup
	for slot := range cfg.calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acc := accounts[slot]
			for {
				select {
				case <-tokens:
				case <-ctx.Done():
					return
				}
				if time.Now().Add(cfg.duration).After(end) {
					return
				}
				stT, err1 := m.newStream(viaRelay)
				stP, err2 := m.newStream(viaRelay)
				if err1 != nil || err2 != nil {
					return
				}
				cm := &callMedia{sock: m.socketFor(2*slot + 1), st: stP, answered: make(chan error, 1)}
				ph.expect(acc.user, cm)
				r := tk.call(ctx, m, acc.did, m.socketFor(2*slot), stT, cm, cfg.duration-drain)
				ph.take(acc.user)
				r.phone = slot
				m.stopStream(stT)
				m.stopStream(stP)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				if r.answered.IsZero() {
					// a failed setup: do not hammer; the slot retries at the next token
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	var profErr error
	if haveSteady {
		sleepUntil(ctx, steadyStart)
		steady0, _ = benchkit.ReadProc(pid)
		s0 := sentOf(m, viaRelay)
		if cfg.serverProfile != "" {
			secs := int(time.Until(steadyEnd).Seconds())
			profErr = fetchProfile(ctx, hc, base, token, secs, cfg.serverProfile)
		}
		sleepUntil(ctx, steadyEnd)
		steady1, _ = benchkit.ReadProc(pid)
		s.steadyPackets = sentOf(m, viaRelay) - s0
	}
	wg.Wait()
	stopPacer()
	for _, st := range baseline {
		m.stopStream(st)
	}
	time.Sleep(2 * drain)
	wall := time.Since(start)
	m.close()
	if profErr != nil {
		fmt.Fprintln(stderr, "callload: server profile:", profErr)
	}
	if cfg.serverPID > 0 {
		if after, err = benchkit.ReadProc(pid); err != nil {
			fmt.Fprintln(stderr, "callload: server gone at the end:", err)
		}
	}
	self1, _ := benchkit.ReadProc("self")
	s.WallSeconds = wall.Seconds()
	s.Client = clientSummary{CPUSeconds: self1.CPUSeconds - self0.CPUSeconds}
	s.Client.CPUPct = s.Client.CPUSeconds / wall.Seconds() * 100
	for _, so := range m.socks {
		s.Client.LateTicks += so.lateTicks.Load()
		s.Client.SendErrors += so.sendErrs.Load()
		if e, ok := so.lastErr.Load().(string); ok {
			s.Client.LastError = e
		}
	}
	s.Client.Unknown = m.unknown.Load()
	s.Client.NoKernelStamp = m.noStamp.Load()
	s.PhoneRefusals = ph.refused

	s.setups(results, start, cfg.calls)
	s.Media = mediaOf(m)
	if cfg.serverPID > 0 {
		s.Server = serverOf(cfg, before, steady0, steady1, after, haveSteady, wall, steadyEnd.Sub(steadyStart), s.steadyPackets)
	}

	select {
	case <-time.After(cfg.settle):
	case <-ctx.Done():
	}
	byOwner := map[string][]*ownedCall{}
	for _, a := range accounts {
		byOwner[a.personID] = nil
	}
	for _, r := range results {
		if !r.answered.IsZero() && !r.byeSent.IsZero() {
			id := accounts[r.phone].personID
			byOwner[id] = append(byOwner[id], &ownedCall{answered: r.answered, span: r.span()})
		}
	}
	api := &benchkit.APIClient{Base: base, Token: token, HTTP: hc}
	rs, err := checkRecordings(ctx, api, s.Date, s.Established, byOwner, cfg.tolerance)
	if err != nil {
		return nil, err
	}
	s.Recordings = rs
	return s, nil
}

// registerAll registers every phone, eight at a time.
func registerAll(ctx context.Context, ph *phones, cfg config, accounts []phoneAccount) error {
	work := make(chan phoneAccount)
	errs := make(chan error, len(accounts))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				if err := ph.register(ctx, cfg.sip, a.user, a.password, cfg.digest); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, a := range accounts {
		work <- a
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

// pace hands out one token per 1/rate seconds; a token nobody takes is
// dropped, so a stalled run does not burst afterwards.
func pace(ctx context.Context, rate float64, tokens chan<- struct{}) {
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			select {
			case tokens <- struct{}{}:
			default:
			}
		case <-ctx.Done():
			return
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-time.After(time.Until(t)):
	case <-ctx.Done():
	}
}

// sentOf counts the packets sent so far on class's streams (racy reads of
// counters the senders own: used only for the steady window's rate).
func sentOf(m *media, class int) uint64 {
	var n uint64
	for i := range min(int(m.next.Load()), len(m.streams)) {
		if st := &m.streams[i]; st.class == class {
			n += st.sent.Load()
		}
	}
	return n
}

// fetchProfile saves a CPU profile of the server taken over secs seconds.
func fetchProfile(ctx context.Context, hc *http.Client, base *url.URL, token string, secs int, path string) error {
	if secs < 1 {
		return errors.New("steady window too short")
	}
	u := base.JoinPath("debug/pprof/profile")
	u.RawQuery = "seconds=" + strconv.Itoa(secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	c := *hc
	c.Timeout = time.Duration(secs+30) * time.Second
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
