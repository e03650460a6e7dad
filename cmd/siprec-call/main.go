// Command siprec-call places SIPREC recording sessions (RFC 7866) against a
// recording server, for people and tests: it is callrec's own recording
// client (package srcclient) on the command line. Each call streams test
// tones as RTP on every m-line, optionally pauses, sends DTMF or loses
// packets, then hangs up; the outcome of each call is printed as one JSON
// line. The exit status is 1 when any call failed, 2 on bad usage.
//
// Record a ten-second two-party test call against a local `callrec serve`:
//
//	siprec-call -target sip:srs@127.0.0.1:5070 -duration 10s
//
// It is test equipment: it must never be pointed at a server you do not
// run, and it never records or plays audio.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/callrec/callrec/srcclient"
	"github.com/emiago/sipgo/sip"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// options are the parsed command line.
type options struct {
	cfg     srcclient.Config
	spec    srcclient.CallSpec
	n       int
	showSDP bool
}

// output is the JSON line printed per call.
type output struct {
	CallID     string            `json:"callId"`
	Status     int               `json:"status"`
	Reason     string            `json:"reason,omitempty"`
	OK         bool              `json:"ok"`
	Sent       map[string]uint64 `json:"sent"`
	Streams    []streamOut       `json:"streams,omitempty"`
	DurationMS int64             `json:"durationMs"`
	ByeStatus  int               `json:"byeStatus"`
	RemoteBye  bool              `json:"remoteBye,omitempty"`
	Cancelled  bool              `json:"cancelled,omitempty"`
	Warnings   []string          `json:"warnings,omitempty"`
	Error      string            `json:"error,omitempty"`
	AnswerSDP  string            `json:"answerSdp,omitempty"`
}

type streamOut struct {
	Label       string `json:"label"`
	Codec       string `json:"codec"`
	PayloadType uint8  `json:"pt"`
	Dest        string `json:"dest,omitempty"`
	SSRC        uint32 `json:"ssrc,omitempty"`
	Sent        uint64 `json:"sent"`
	Duplicates  uint64 `json:"duplicates,omitempty"`
	Dropped     uint64 `json:"dropped,omitempty"`
	DTMF        uint64 `json:"dtmf,omitempty"`
	SendErrors  uint64 `json:"sendErrors,omitempty"`
}

func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "siprec-call:", err)
		return 2
	}
	// sipgo warns about every connection it closes; keep errors only.
	sip.SetDefaultLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if opts.cfg.Transport == "udp" {
		srcclient.LiftUDPLimit()
	}
	client, err := srcclient.New(opts.cfg)
	if err != nil {
		fmt.Fprintln(stderr, "siprec-call:", err)
		return 1
	}
	defer client.Close()

	// SIGINT/SIGTERM end the calls with a BYE instead of leaving them open.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var mu sync.Mutex
	enc := json.NewEncoder(stdout)
	failed := false
	var wg sync.WaitGroup
	for range opts.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.Call(ctx, opts.spec)
			out := toOutput(res, err, opts.showSDP)
			mu.Lock()
			defer mu.Unlock()
			if !out.OK {
				failed = true
			}
			_ = enc.Encode(out)
		}()
	}
	wg.Wait()
	if failed {
		return 1
	}
	return 0
}

func toOutput(res *srcclient.Result, err error, showSDP bool) output {
	var out output
	if res != nil {
		out = output{
			CallID: res.CallID, Status: res.Status, Reason: res.Reason, Sent: res.Sent,
			DurationMS: res.Duration.Milliseconds(), ByeStatus: res.ByeStatus,
			RemoteBye: res.RemoteBye, Cancelled: res.Cancelled, Warnings: res.Warnings,
			OK: !res.Failed(),
		}
		for _, s := range res.Streams {
			out.Streams = append(out.Streams, streamOut{
				Label: s.Label, Codec: s.Codec, PayloadType: s.PayloadType, Dest: s.Dest, SSRC: s.SSRC,
				Sent: s.Sent, Duplicates: s.Duplicates, Dropped: s.Dropped, DTMF: s.DTMF, SendErrors: s.SendErrors,
			})
		}
		if showSDP {
			out.AnswerSDP = string(res.AnswerSDP)
		}
	}
	if err != nil {
		out.Error = err.Error()
		out.OK = false
	}
	return out
}

// splitList splits a comma-separated flag value; "" gives nil.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// pick returns list[i], the single value of a one-element list, or "".
func pick(list []string, i int) string {
	switch {
	case i < len(list):
		return list[i]
	case len(list) == 1:
		return list[0]
	}
	return ""
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("siprec-call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: siprec-call [flags]\n\nPlaces SIPREC recording sessions and prints one JSON line per call.\n\nFlags:")
		fs.PrintDefaults()
	}
	target := fs.String("target", "sip:srs@127.0.0.1:5070", "SRS URI")
	transport := fs.String("transport", "tcp", "SIP transport: tcp or udp")
	localIP := fs.String("local-ip", "127.0.0.1", "local IPv4 address for SIP and RTP")
	ports := fs.String("media-ports", "42000-42999", "local UDP port range for RTP")
	duration := fs.Duration("duration", 5*time.Second, "media duration of each call")
	codecs := fs.String("codec", "PCMU,PCMU", "codec per stream (PCMU, PCMA, G722, OPUS); one value applies to all streams")
	tones := fs.String("tones", "400,1000", "tone frequency in Hz per stream (0 = silence)")
	labels := fs.String("labels", "1,2", "a=label per stream; the number of streams is the longest of -codec, -tones, -labels")
	aors := fs.String("aors", "", "participant AOR per stream (default sip:partyN@src.callrec.test)")
	names := fs.String("names", "", "participant display name per stream")
	amplitude := fs.Float64("amplitude", srcclient.DefaultAmplitude, "tone amplitude as a fraction of full scale")
	dialect := fs.String("dialect", srcclient.DialectRFC7866, "INVITE dialect: rfc7866, broadworks or audiocodes")
	recorded := fs.String("recorded-user", "", "recorded user id (BroadWorks userID or callrec extension)")
	var pauses, dtmf, headers listFlag
	fs.Var(&pauses, "pause", "pause AT+DURATION, e.g. 2s+1s; suffix :legacy for c=0.0.0.0 (repeatable)")
	fs.Var(&dtmf, "dtmf", "RFC 4733 digit AT:DIGIT[:DURATION][@LABEL], e.g. 1.5s:5 (repeatable; default: first stream)")
	loss := fs.String("loss", "", "drop the packets of every stream due in FROM-TO, e.g. 1s-1.1s")
	fs.Var(&headers, "header", "extra INVITE header 'Name: value' (repeatable)")
	metaUpdate := fs.Duration("metadata-update", 0, "send a partial metadata update at this offset (0 = never)")
	metaMethod := fs.String("metadata-method", "UPDATE", "method of the metadata update: UPDATE or INVITE")
	cancelAfter := fs.Duration("cancel-after", 0, "send CANCEL this long after the INVITE (0 = never)")
	user := fs.String("user", "", "digest user name of a SIPREC source (answers a 401 challenge)")
	pass := fs.String("password", "", "digest password of the SIPREC source (env SIPREC_CALL_PASSWORD)")
	n := fs.Int("n", 1, "concurrent calls")
	showSDP := fs.Bool("show-sdp", false, "include the answer SDP in the output")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *n < 1 || *n > 10000 {
		return o, fmt.Errorf("-n %d outside 1..10000", *n)
	}
	o.n, o.showSDP = *n, *showSDP
	lo, hi, ok := strings.Cut(*ports, "-")
	plo, err1 := strconv.Atoi(lo)
	phi, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil {
		return o, fmt.Errorf("-media-ports %q: want LOW-HIGH", *ports)
	}
	if *pass == "" {
		*pass = os.Getenv("SIPREC_CALL_PASSWORD")
	}
	o.cfg = srcclient.Config{Target: *target, Transport: *transport, LocalIP: *localIP, MediaPorts: [2]int{plo, phi}, Username: *user, Password: *pass}

	cl, tl, ll := splitList(*codecs), splitList(*tones), splitList(*labels)
	al, nl := splitList(*aors), splitList(*names)
	nstreams := max(len(cl), len(tl), len(ll), 1)
	spec := srcclient.CallSpec{
		Duration: *duration, Dialect: *dialect, RecordedUserID: *recorded,
		MetadataUpdateAt: *metaUpdate, MetadataUpdateMethod: *metaMethod, CancelAfter: *cancelAfter,
	}
	var dropFrom, dropTo time.Duration
	if *loss != "" {
		var err error
		if dropFrom, dropTo, err = srcclient.ParseWindow(*loss); err != nil {
			return o, err
		}
	}
	at := func(list []string, i int) string {
		if i < len(list) {
			return list[i]
		}
		return ""
	}
	for i := range nstreams {
		st := srcclient.StreamSpec{
			Codec: pick(cl, i), Label: at(ll, i), Amplitude: *amplitude,
			ParticipantAOR: at(al, i), ParticipantName: at(nl, i),
			DropFrom: dropFrom, DropTo: dropTo,
		}
		if t := pick(tl, i); t != "" {
			hz, err := strconv.ParseFloat(t, 64)
			if err != nil {
				return o, fmt.Errorf("-tones %q: %w", *tones, err)
			}
			st.ToneHz = hz
		}
		spec.Streams = append(spec.Streams, st)
	}
	for _, s := range dtmf {
		d, label, err := srcclient.ParseDTMF(s)
		if err != nil {
			return o, err
		}
		idx := 0
		if label != "" {
			idx = -1
			for i, st := range spec.Streams {
				if st.Label == label || (st.Label == "" && strconv.Itoa(i+1) == label) {
					idx = i
				}
			}
			if idx < 0 {
				return o, fmt.Errorf("-dtmf %q: no stream labelled %q", s, label)
			}
		}
		spec.Streams[idx].DTMF = append(spec.Streams[idx].DTMF, d)
	}
	for _, s := range pauses {
		p, err := srcclient.ParsePause(s)
		if err != nil {
			return o, err
		}
		spec.Pauses = append(spec.Pauses, p)
	}
	if len(headers) > 0 {
		spec.ExtraHeaders = map[string]string{}
		for _, h := range headers {
			k, v, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return o, fmt.Errorf("-header %q: want 'Name: value'", h)
			}
			spec.ExtraHeaders[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if err := spec.Validate(); err != nil {
		return o, err
	}
	o.spec = spec
	return o, nil
}
