package config

import (
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	cfg, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "./callrec-data" || cfg.HTTP != "127.0.0.1:8080" || cfg.SIP != "127.0.0.1:5060" ||
		cfg.SIPREC != "127.0.0.1:5070" || cfg.RTPMin != 20000 || cfg.RTPMax != 39999 ||
		cfg.MediaTimeout != 60*time.Second || cfg.DrainTimeout != 30*time.Second || cfg.MinFreeDisk != 1<<30 ||
		cfg.PublicURL != "http://127.0.0.1:8080" || cfg.DB != filepath.Join("callrec-data", "callrec.db") ||
		cfg.Blob != filepath.Join("callrec-data", "recordings") || cfg.PublicIP.IsValid() {
		t.Fatalf("defaults wrong: %+v", cfg)
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if !slices.Equal(cfg.SIPDigest, []string{"SHA-256", "MD5"}) {
		t.Errorf("sip-digest default = %v, want SHA-256, MD5", cfg.SIPDigest)
	}
	if md5, err := Load([]string{"--sip-digest", "md5"}, func(string) string { return "" }, io.Discard); err != nil || !slices.Equal(md5.SIPDigest, []string{"MD5"}) {
		t.Errorf("--sip-digest md5 = %v, %v", md5, err)
	}
	if len(cfg.SIPRECAllow) != 2 || cfg.SIPRECAllow[0] != want[0] || cfg.SIPRECAllow[1] != want[1] {
		t.Fatalf("siprec-allow default = %v", cfg.SIPRECAllow)
	}
}

func TestPrecedenceFlagOverEnvOverFileOverDefault(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "callrec.yaml")
	if err := os.WriteFile(file, []byte("data-dir: /from/file\nhttp: 127.0.0.1:1111\nsip: 127.0.0.1:2222\nsiprec-allow: [10.0.0.0/8, 192.0.2.7]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load([]string{"--config", file, "--http", "127.0.0.1:3333"},
		env(map[string]string{"CALLREC_HTTP": "127.0.0.1:4444", "CALLREC_SIP": "127.0.0.1:5555"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP != "127.0.0.1:3333" || cfg.Sources["http"] != "flag" {
		t.Errorf("flag must beat env and file: %s (%s)", cfg.HTTP, cfg.Sources["http"])
	}
	if cfg.SIP != "127.0.0.1:5555" || cfg.Sources["sip"] != "env" {
		t.Errorf("env must beat file: %s", cfg.SIP)
	}
	if cfg.DataDir != "/from/file" || cfg.Sources["data-dir"] != "file" {
		t.Errorf("file must beat default: %s", cfg.DataDir)
	}
	if cfg.SIPRECAllow[1] != netip.MustParsePrefix("192.0.2.7/32") {
		t.Errorf("list in file: %v", cfg.SIPRECAllow)
	}
	if cfg.SIPREC != "127.0.0.1:5070" || cfg.Sources["siprec"] != "default" {
		t.Errorf("default kept: %s", cfg.SIPREC)
	}
}

func TestConfigFileFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("media-timeout: 5s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(nil, env(map[string]string{"CALLREC_CONFIG": file}), io.Discard)
	if err != nil || cfg.MediaTimeout != 5*time.Second {
		t.Fatalf("got %v, %v", cfg, err)
	}
}

func TestInvalidValuesNameTheSetting(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad port range", []string{"--rtp-ports", "5000"}, nil, `invalid --rtp-ports "5000" (from flag): want FIRST-LAST`},
		{"unknown digest", []string{"--sip-digest", "SHA-512"}, nil, `invalid --sip-digest "SHA-512" (from flag): "SHA-512" is not a digest algorithm; use SHA-256, MD5 or both`},
		{"digest twice", []string{"--sip-digest", "md5,MD5"}, nil, `MD5 is listed twice`},
		{"inverted range", []string{"--rtp-ports", "30000-20000"}, nil, `invalid --rtp-ports "30000-20000" (from flag): range must hold`},
		{"low ports", []string{"--rtp-ports", "10-2000"}, nil, `ports must lie within 1024..65535`},
		{"bad duration from env", nil, map[string]string{"CALLREC_MEDIA_TIMEOUT": "soon"}, `invalid --media-timeout "soon" (from environment CALLREC_MEDIA_TIMEOUT): want a duration`},
		{"negative drain", []string{"--drain-timeout", "-1s"}, nil, `invalid --drain-timeout "-1s" (from flag): must be positive`},
		{"bad size", []string{"--min-free-disk", "lots"}, nil, `invalid --min-free-disk "lots" (from flag): want a size`},
		{"bad unit", []string{"--min-free-disk", "5XB"}, nil, `unknown unit "XB"`},
		{"unspecified public ip", []string{"--public-ip", "0.0.0.0"}, nil, `read as a pause`},
		{"bad public ip", []string{"--public-ip", "host"}, nil, `invalid --public-ip "host" (from flag): not an IP address`},
		{"bad http", []string{"--http", "8080"}, nil, `invalid --http "8080" (from flag): want host:port`},
		{"bad siprec host", []string{"--siprec", "example.com:5070"}, nil, `host must be an IP address or localhost`},
		{"bad allow", []string{"--siprec-allow", "10.0.0.0/8,nonsense"}, nil, `"nonsense" is neither a network`},
		{"bad level", []string{"--log-level", "loud"}, nil, `invalid --log-level "loud" (from flag): want debug, info, warn or error`},
		{"postgres not yet", []string{"--db", "postgres://x"}, nil, `only a SQLite file path is supported`},
		{"s3 not yet", []string{"--blob", "s3://bucket"}, nil, `only a local folder is supported`},
		{"bad public url", []string{"--public-url", "ftp://x"}, nil, `must be an absolute http:// or https:// URL`},
		{"unknown flag", []string{"--nope"}, nil, `flag provided but not defined: -nope`},
		{"stray argument", []string{"extra"}, nil, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.args, env(c.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want it to contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error must be one line: %q", err)
			}
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "u.yaml")
	os.WriteFile(unknown, []byte("colour: blue\n"), 0o600)
	if _, err := Load([]string{"--config", unknown}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), `unknown setting "colour"`) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := Load([]string{"--config", filepath.Join(dir, "missing.yaml")}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "config file") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"1GiB": 1 << 30, "500MB": 500e6, "0": 0, "2 KiB": 2048, "10b": 10} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// FuzzSettingValues feeds arbitrary values to every setting through the
// environment: Load never panics and a refusal is one line naming it.
func FuzzSettingValues(f *testing.F) {
	for _, seed := range []string{"20000-39999", "1GiB", "60s", "127.0.0.1:5070", "10.0.0.0/8,::1", "debug", "-", "9-", "1e99KiB", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, s := range settings {
			_, err := Load(nil, env(map[string]string{EnvName(s.name): v}), io.Discard)
			if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "--"+s.name)) {
				t.Fatalf("%s=%q: error %q is not one line naming the setting", s.name, v, err)
			}
		}
	})
}
