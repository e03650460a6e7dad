// Package config resolves the settings of `callrec serve` from flags,
// CALLREC_* environment variables, an optional YAML file and defaults, in
// that precedence (interfaces.md), and validates them. It only reads: it
// never creates files or binds sockets.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the validated configuration of `callrec serve`.
type Config struct {
	DataDir      string
	HTTP         string     // host:port
	SIP          string     // host:port
	SIPREC       string     // host:port
	RTPMin       int        // first port of the media range
	RTPMax       int        // last port of the media range
	PublicIP     netip.Addr // zero: the local address a request arrived on
	PublicURL    string
	MediaTimeout time.Duration
	DrainTimeout time.Duration
	MinFreeDisk  uint64
	DB           string // SQLite file path
	Blob         string // folder for audio
	SIPRECAllow  []netip.Prefix
	SIPDigest    []string // digest algorithms offered on --sip, in order
	LogLevel     slog.Level
	// Sources says where each setting's value came from ("flag", "env",
	// "file", "default"), keyed by flag name; the start-up log shows it.
	Sources map[string]string
}

// setting describes one configuration key (interfaces.md table).
type setting struct {
	name  string // flag name and config-file key
	def   string // default; "" means derived later
	usage string
}

var settings = []setting{
	{"data-dir", "./callrec-data", "where the embedded database, audio and the admin token live"},
	{"http", "127.0.0.1:8080", "REST API, portal, /healthz, /readyz, /metrics"},
	{"sip", "127.0.0.1:5060", "call plane (B2BUA, registrar), UDP and TCP"},
	{"siprec", "127.0.0.1:5070", "recording server (SIPREC SRS), UDP and TCP"},
	{"rtp-ports", "20000-39999", "UDP port range for media"},
	{"public-ip", "", "address written into SDP and Contact (default: the local address the request arrived on)"},
	{"public-url", "", "base of links handed out (default: http:// + the --http address)"},
	{"media-timeout", "60s", "end a session whose non-paused streams bring no RTP for this long"},
	{"drain-timeout", "30s", "how long shutdown waits for calls before cutting them"},
	{"min-free-disk", "1GiB", "below this free space new recordings are refused and /readyz fails"},
	{"db", "", "database: a SQLite file (default <data-dir>/callrec.db)"},
	{"blob", "", "audio storage: a folder (default <data-dir>/recordings)"},
	{"siprec-allow", "127.0.0.0/8,::1", "source networks whose SIPREC INVITEs are accepted"},
	{"sip-digest", "SHA-256,MD5", "digest algorithms challenged on --sip, in order (MD5 alone for phones that fail on SHA-256, e.g. baresip 1.0)"},
	{"log-level", "info", "debug, info, warn, error"},
}

// EnvName returns the environment variable of a setting: CALLREC_ and the
// flag name upper-cased with dashes as underscores.
func EnvName(name string) string {
	return "CALLREC_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Load parses args (without the program and subcommand names) and the
// environment, reads the config file named by --config or CALLREC_CONFIG,
// and validates the result. The error names the offending setting in one line.
func Load(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	fs := flag.NewFlagSet("callrec serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flagVals := map[string]*string{}
	for _, s := range settings {
		flagVals[s.name] = fs.String(s.name, s.def, s.usage+" (env "+EnvName(s.name)+")")
	}
	configFile := fs.String("config", "", "YAML file whose keys are the flag names (env CALLREC_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	raw := map[string]string{}
	sources := map[string]string{}
	for _, s := range settings {
		raw[s.name], sources[s.name] = s.def, "default"
	}
	path := *configFile
	if !set["config"] {
		path = getenv("CALLREC_CONFIG")
	}
	if path != "" {
		file, err := readFile(path)
		if err != nil {
			return nil, err
		}
		for k, v := range file {
			raw[k], sources[k] = v, "file"
		}
	}
	for _, s := range settings {
		if v, ok := lookupEnv(getenv, EnvName(s.name)); ok {
			raw[s.name], sources[s.name] = v, "env"
		}
		if set[s.name] {
			raw[s.name], sources[s.name] = *flagVals[s.name], "flag"
		}
	}
	cfg, err := parse(raw, sources)
	if err != nil {
		return nil, err
	}
	cfg.Sources = sources
	return cfg, nil
}

func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// readFile reads a YAML config file of scalar values keyed by flag name.
func readFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.name] = true
	}
	out := map[string]string{}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !known[k] {
			return nil, fmt.Errorf("config file %s: unknown setting %q", path, k)
		}
		switch v := doc[k].(type) {
		case string:
			out[k] = v
		case int, int64, float64, bool:
			out[k] = fmt.Sprint(v)
		case []any:
			parts := make([]string, len(v))
			for i, p := range v {
				parts[i] = fmt.Sprint(p)
			}
			out[k] = strings.Join(parts, ",")
		case nil:
		default:
			return nil, fmt.Errorf("config file %s: setting %q must be a scalar or a list", path, k)
		}
	}
	return out, nil
}

// parse validates the raw values. Each error names the setting and where
// its value came from.
func parse(raw, sources map[string]string) (*Config, error) {
	cfg := &Config{}
	bad := func(name string, err error) error {
		return fmt.Errorf("invalid --%s %q (from %s): %w", name, raw[name], describe(name, sources[name]), err)
	}
	var err error
	cfg.DataDir = raw["data-dir"]
	if cfg.DataDir == "" {
		return nil, bad("data-dir", errors.New("must not be empty"))
	}
	for _, a := range []struct {
		name string
		dst  *string
	}{{"http", &cfg.HTTP}, {"sip", &cfg.SIP}, {"siprec", &cfg.SIPREC}} {
		if err := checkHostPort(raw[a.name]); err != nil {
			return nil, bad(a.name, err)
		}
		*a.dst = raw[a.name]
	}
	if cfg.RTPMin, cfg.RTPMax, err = parsePortRange(raw["rtp-ports"]); err != nil {
		return nil, bad("rtp-ports", err)
	}
	if v := raw["public-ip"]; v != "" {
		ip, err := netip.ParseAddr(v)
		if err != nil {
			return nil, bad("public-ip", errors.New("not an IP address"))
		}
		if ip.IsUnspecified() {
			return nil, bad("public-ip", errors.New("0.0.0.0 and :: read as a pause to SIPREC clients; give a reachable address"))
		}
		cfg.PublicIP = ip
	}
	cfg.PublicURL = strings.TrimRight(raw["public-url"], "/")
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + cfg.HTTP
	} else if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, bad("public-url", errors.New("must be an absolute http:// or https:// URL"))
	}
	if cfg.MediaTimeout, err = parsePositiveDuration(raw["media-timeout"]); err != nil {
		return nil, bad("media-timeout", err)
	}
	if cfg.DrainTimeout, err = parsePositiveDuration(raw["drain-timeout"]); err != nil {
		return nil, bad("drain-timeout", err)
	}
	if cfg.MinFreeDisk, err = ParseSize(raw["min-free-disk"]); err != nil {
		return nil, bad("min-free-disk", err)
	}
	cfg.DB = raw["db"]
	switch {
	case cfg.DB == "":
		cfg.DB = filepath.Join(cfg.DataDir, "callrec.db")
	case strings.Contains(cfg.DB, "://"):
		return nil, bad("db", errors.New("only a SQLite file path is supported in this version (PostgreSQL comes later)"))
	}
	cfg.Blob = raw["blob"]
	switch {
	case cfg.Blob == "":
		cfg.Blob = filepath.Join(cfg.DataDir, "recordings")
	case strings.Contains(cfg.Blob, "://"):
		return nil, bad("blob", errors.New("only a local folder is supported in this version (S3 comes later)"))
	}
	if cfg.SIPDigest, err = parseDigest(raw["sip-digest"]); err != nil {
		return nil, bad("sip-digest", err)
	}
	if cfg.SIPRECAllow, err = parsePrefixes(raw["siprec-allow"]); err != nil {
		return nil, bad("siprec-allow", err)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(raw["log-level"])); err != nil || !validLevel(raw["log-level"]) {
		return nil, bad("log-level", errors.New("want debug, info, warn or error"))
	}
	return cfg, nil
}

func describe(name, source string) string {
	switch source {
	case "env":
		return "environment " + EnvName(name)
	case "file":
		return "config file"
	case "flag":
		return "flag"
	}
	return "default"
}

func validLevel(s string) bool {
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		return true
	}
	return false
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("want host:port")
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil && host != "localhost" {
			return errors.New("host must be an IP address or localhost")
		}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return errors.New("port must be 0..65535")
	}
	return nil
}

func parsePortRange(s string) (int, int, error) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, errors.New("want FIRST-LAST, e.g. 20000-39999")
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	switch {
	case err1 != nil || err2 != nil:
		return 0, 0, errors.New("want FIRST-LAST, e.g. 20000-39999")
	case a < 1024 || b > 65535:
		return 0, 0, errors.New("ports must lie within 1024..65535")
	case b-a < 19:
		return 0, 0, errors.New("range must hold at least 20 ports (the recording server, the call plane's relay and its SIPREC client share it)")
	}
	return a, b, nil
}

func parsePositiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("want a duration such as 60s or 2m")
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return d, nil
}

// ParseSize parses a byte size: a number with an optional unit B, KB, MB,
// GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 {
		return 0, errors.New("want a size such as 1GiB or 500MB")
	}
	mult := map[string]float64{
		"": 1, "B": 1,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
	}[strings.ToUpper(unit)]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", unit)
	}
	return uint64(n * mult), nil
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a network (10.0.0.0/8) nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// parseDigest parses a comma-separated list of digest algorithms (RFC
// 7616 names, case-insensitive): SHA-256 and MD5, each at most once.
func parseDigest(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		a := strings.ToUpper(strings.TrimSpace(f))
		switch a {
		case "SHA-256", "MD5":
		case "SHA256":
			a = "SHA-256"
		default:
			return nil, fmt.Errorf("%q is not a digest algorithm; use SHA-256, MD5 or both, comma-separated", strings.TrimSpace(f))
		}
		if slices.Contains(out, a) {
			return nil, fmt.Errorf("%s is listed twice", a)
		}
		out = append(out, a)
	}
	return out, nil
}
