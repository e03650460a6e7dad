// Package app wires callrec's parts into the commands of the callrec
// binary (serve, migrate, version): it resolves configuration, opens the
// stores, starts the planes and handles signals. It holds no protocol or
// business logic of its own.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/api"
	"github.com/callrec/callrec/audiofile"
	"github.com/callrec/callrec/blob/fs"
	"github.com/callrec/callrec/callpath"
	"github.com/callrec/callrec/callpath/registrar"
	"github.com/callrec/callrec/config"
	"github.com/callrec/callrec/events"
	"github.com/callrec/callrec/provider"
	"github.com/callrec/callrec/recorder"
	"github.com/callrec/callrec/retention"
	"github.com/callrec/callrec/rtpport"
	"github.com/callrec/callrec/sipdigest"
	"github.com/callrec/callrec/siplog"
	"github.com/callrec/callrec/siprecclient"
	"github.com/callrec/callrec/store/sqlite"
)

// Version and Commit are set at link time (-ldflags "-X ...").
var (
	Version = "dev"
	Commit  = ""
)

const usage = `usage: callrec <command> [flags]

commands:
  serve     run everything: API, recording server, workers
  migrate   apply database migrations and exit
  token     create, list and revoke API tokens
  version   print version, commit and Go version

Run "callrec serve -h" for the settings; every flag also reads CALLREC_<NAME>.
`

// Main runs the callrec command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stderr)
	case "migrate":
		err = migrate(args[1:], stdout, stderr)
	case "token":
		err = tokenCmd(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "callrec: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, errHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "callrec: "+strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	return 0
}

var errHelp = errors.New("help shown")

func versionLine() string {
	commit := Commit
	if commit == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					commit = s.Value
				}
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	return fmt.Sprintf("callrec %s (commit %s, %s %s/%s)", Version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func loadConfig(args []string, stderr io.Writer) (*config.Config, error) {
	cfg, err := config.Load(args, os.Getenv, stderr)
	if err != nil {
		if strings.Contains(err.Error(), "help requested") {
			return nil, errHelp
		}
		return nil, err
	}
	return cfg, nil
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// openStore opens and migrates the embedded database.
func openStore(ctx context.Context, cfg *config.Config) (*sqlite.Store, []int64, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DB), 0o750); err != nil {
		return nil, nil, fmt.Errorf("database dir: %w", err)
	}
	st, err := sqlite.Open(ctx, cfg.DB)
	if err != nil {
		return nil, nil, fmt.Errorf("open database %s: %w", cfg.DB, err)
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("migrate database %s: %w", cfg.DB, err)
	}
	return st, applied, nil
}

func migrate(args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, stderr)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, applied, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s at version %d (%d migrations applied now)\n", cfg.DB, v, len(applied))
	return nil
}

func serve(args []string, stderr io.Writer) error {
	cfg, err := loadConfig(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	// sipgo's package-wide logger (lazy header parsing, TCP connections,
	// unmatched responses) goes through the same rate limit as the
	// stacks' own loggers. It is set once, before any SIP stack starts:
	// the stacks read it from their goroutines.
	sip.SetDefaultLogger(siplog.Logger(log.Handler(), nil))
	slog.SetDefault(log)
	ctx := context.Background()

	st, applied, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(applied) > 0 {
		log.Info("database migrated", "db", cfg.DB, "applied", applied)
	}
	blobs, err := fs.New(cfg.Blob)
	if err != nil {
		return fmt.Errorf("blob store %s: %w", cfg.Blob, err)
	}
	org, err := st.EnsureOrg(ctx, callrec.DefaultOrgName)
	if err != nil {
		return fmt.Errorf("default org: %w", err)
	}
	if err := bootstrapAdmin(ctx, st, cfg.DataDir, os.Getenv("CALLREC_ADMIN_TOKEN"), log); err != nil {
		return err
	}
	if err := provider.EnsureBuiltIn(ctx, st, builtInTarget(cfg)); err != nil {
		return err
	}
	key, err := secret(filepath.Join(cfg.DataDir, "signing-key"))
	if err != nil {
		return fmt.Errorf("download signing key: %w", err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	freeBytes := func() (uint64, error) { return freeDisk(cfg.DataDir) }
	// One allocator for every media socket of the process: the recorder,
	// the relay and the SIPREC client draw from all of --rtp-ports.
	ports, err := rtpport.NewRange(cfg.RTPMin, cfg.RTPMax)
	if err != nil {
		return fmt.Errorf("--rtp-ports: %w", err)
	}
	claimKey := subKey(key, "siprec org claim")
	dir := recorder.NewDirectory(st)
	rec, err := recorder.New(recorder.Config{
		Listen:       cfg.SIPREC,
		PublicIP:     cfg.PublicIP,
		Ports:        ports,
		MediaTimeout: cfg.MediaTimeout,
		Allow:        cfg.SIPRECAllow,
		SpoolDir:     filepath.Join(cfg.DataDir, "spool"),
		OrgID:        org.ID,
		Sources:      dir,
		Owners:       dir,
		OrgClaimKey:  claimKey,
		MinFreeDisk:  cfg.MinFreeDisk,
		FreeBytes:    freeBytes,
		Logger:       log,
		Registry:     reg,
	}, st, blobs)
	if err != nil {
		return err
	}
	if n, err := rec.Recover(ctx); err != nil {
		return err
	} else if n > 0 {
		log.Warn("recovered recordings left open by a crash", "count", n)
	}

	hub, err := events.New(events.Config{Store: st, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		if err := hub.Run(hubCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("event hub stopped", "err", err)
		}
	}()
	defer func() {
		hub.Close() // ends open event streams, which http.Server.Shutdown would wait for
		stopHub()
		<-hubDone
	}()
	var calls *callpath.Server // set before the HTTP server serves
	plane := &callPlane{}      // the call control routes' view of calls, set once it runs
	ready := func(ctx context.Context) error {
		if err := st.Ping(ctx); err != nil {
			return fmt.Errorf("database: %w", err)
		}
		if err := blobs.Ping(ctx); err != nil {
			return fmt.Errorf("blob store: %w", err)
		}
		if err := rec.Ready(); err != nil {
			return err
		}
		return calls.Ready()
	}
	handler, err := api.New(api.Config{
		PublicURL:  cfg.PublicURL,
		SigningKey: key,
		Version:    Version,
		Logger:     log,
		Registry:   reg,
		Ready:      ready,
		Events:     hub,
		Calls:      plane,
		SourcesChanged: func(ctx context.Context) {
			if err := rec.ReloadSources(ctx); err != nil {
				log.Warn("reloading SIPREC sources after a change failed; the periodic reload will retry", "err", err)
			}
		},
	}, st, blobAdapter{blobs})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return fmt.Errorf("listen --http %s: %w", cfg.HTTP, err)
	}
	if err := rec.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	callCtx, stopCalls := context.WithCancel(ctx)
	defer stopCalls()
	calls, err = startCallPlane(callCtx, cfg, st, blobs, ports, claimKey, rec.LocalSink, hub, log)
	if err != nil {
		ln.Close()
		_ = rec.Shutdown(ctx)
		return err
	}
	plane.srv.Store(calls)
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- hs.Serve(ln) }()
	keeper, err := retention.New(retention.Config{}, st, blobs, log)
	if err != nil {
		return err
	}
	retCtx, stopRetention := context.WithCancel(ctx)
	retDone := make(chan struct{})
	go func() {
		defer close(retDone)
		if err := keeper.Run(retCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("retention worker stopped", "err", err)
		}
	}()

	log.Info("callrec started",
		"version", Version,
		"http", ln.Addr().String(),
		"sip", calls.Addr().String()+" udp+tcp",
		"siprec", cfg.SIPREC+" udp+tcp",
		"rtp", fmt.Sprintf("%d-%d", cfg.RTPMin, cfg.RTPMax),
		"data_dir", cfg.DataDir,
		"db", "sqlite:"+cfg.DB,
		"blob", "fs:"+cfg.Blob)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	var runErr error
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String(), "drain_timeout", cfg.DrainTimeout.String())
	case err := <-httpErr:
		runErr = fmt.Errorf("http server: %w", err)
		log.Error("http server failed; shutting down", "err", err)
	}
	stopRetention()
	<-retDone
	drainCtx, cancel := context.WithTimeout(ctx, cfg.DrainTimeout)
	defer cancel()
	// Calls end first (their SIPREC sessions send BYE to the recorder),
	// then the recorder finalises every file.
	if err := calls.Shutdown(drainCtx); err != nil {
		log.Error("call plane shutdown", "err", err)
	}
	if err := rec.Shutdown(drainCtx); err != nil {
		log.Error("recorder shutdown", "err", err)
	}
	shutCtx, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	_ = hs.Shutdown(shutCtx)
	log.Info("callrec stopped")
	return runErr
}

// startCallPlane starts the registrar and the B2BUA on --sip, with the
// relay and SIPREC client ports of --rtp-ports.
func startCallPlane(ctx context.Context, cfg *config.Config, st *sqlite.Store, blobs *fs.Store, ports *rtpport.Range, claimKey []byte, local siprecclient.LocalFunc, hub *events.Hub, log *slog.Logger) (*callpath.Server, error) {
	listen, err := netip.ParseAddrPort(cfg.SIP)
	if err != nil {
		return nil, fmt.Errorf("--sip %s: want an IP address and port: %w", cfg.SIP, err)
	}
	nonces := &sipdigest.Nonces{Algorithms: cfg.SIPDigest}
	reg, err := registrar.New(registrar.Config{Credentials: registrar.NewDirectoryCredentials(st), Nonces: nonces, Logger: log})
	if err != nil {
		return nil, err
	}
	go reg.Location().Run(ctx, time.Minute)
	mediaIP := listen.Addr()
	if cfg.PublicIP.IsValid() {
		mediaIP = cfg.PublicIP
	}
	if mediaIP.IsUnspecified() {
		return nil, fmt.Errorf("--sip %s listens on every address: give --public-ip, the address phones send media to", cfg.SIP)
	}
	srv, err := callpath.New(callpath.Config{
		Listen:        listen,
		MediaIP:       mediaIP,
		RTPPorts:      ports,
		SIPRECPorts:   &siprecclient.PortRange{Range: ports},
		BuiltInTarget: builtInTarget(cfg),
		OrgClaimKey:   claimKey,
		SIPRECLocal:   local, // the built-in target is this process's recorder: no loopback hop for its RTP
		Nonces:        nonces,
		Logger:        log,
		// R34: recording state events go to webhooks and event streams.
		OnRecordingEvent: func(ev callpath.Event) {
			hub.Publish(events.Event{OrgID: ev.OrgID, CallID: ev.CallID, PersonID: ev.PersonID, State: ev.State, Reason: ev.Reason, Time: ev.Time})
		},
	}, callpath.Deps{Store: st, Registrar: reg,
		// Issue 5 point 4: uploaded announcements play in place of the
		// default prompts; voicemail messages go to the blob store.
		Files:   audiofile.NewFiles(st, blobs),
		Mailbox: audiofile.NewMailbox(st, blobs, nil, log)})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		return nil, fmt.Errorf("call plane on --sip %s: %w", cfg.SIP, err)
	}
	return srv, nil
}

// subKey derives a key for one purpose from the data dir's secret.
func subKey(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// builtInTarget is the SIPREC URI of this node's recorder, which the
// built-in provider points at: --siprec, with --public-ip (or loopback)
// in place of an unspecified address.
func builtInTarget(cfg *config.Config) string {
	host, port, err := net.SplitHostPort(cfg.SIPREC)
	if err != nil {
		return "sip:" + cfg.SIPREC
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if cfg.PublicIP.IsValid() {
			host = cfg.PublicIP.String()
		}
	}
	return "sip:" + net.JoinHostPort(host, port) + ";transport=tcp"
}

// blobAdapter gives the API the blob store's objects through the API's
// own Object interface.
type blobAdapter struct{ s *fs.Store }

func (b blobAdapter) Open(ctx context.Context, key string) (api.Object, error) {
	return b.s.Open(ctx, key)
}

func (b blobAdapter) Delete(ctx context.Context, key string) error { return b.s.Delete(ctx, key) }

func (b blobAdapter) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	return b.s.Put(ctx, key, r)
}

// tokenStore is what bootstrapAdmin needs of the store.
type tokenStore interface {
	CountTokensByRole(ctx context.Context, role string) (int, error)
	TokenByHash(ctx context.Context, hash string) (*callrec.Token, error)
	CreateToken(ctx context.Context, t *callrec.Token) error
}

// bootstrapAdmin creates the first partner admin when none exists
// (interfaces.md, "First admin"): its token is CALLREC_ADMIN_TOKEN, or a
// generated one written to <data-dir>/admin-token with mode 0600. The token
// itself is never logged.
func bootstrapAdmin(ctx context.Context, st tokenStore, dataDir, envToken string, log *slog.Logger) error {
	n, err := st.CountTokensByRole(ctx, callrec.RolePartnerAdmin)
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	if n > 0 {
		if envToken != "" {
			if _, err := st.TokenByHash(ctx, HashToken(envToken)); errors.Is(err, callrec.ErrNotFound) {
				log.Warn("CALLREC_ADMIN_TOKEN is ignored: a partner admin already exists")
			}
		}
		return nil
	}
	token, source := envToken, "CALLREC_ADMIN_TOKEN"
	path := filepath.Join(dataDir, "admin-token")
	if token == "" {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
		token = hex.EncodeToString(b[:])
		if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
			return fmt.Errorf("bootstrap admin: write %s: %w", path, err)
		}
		source = path
	}
	if err := st.CreateToken(ctx, &callrec.Token{Hash: HashToken(token), Name: "bootstrap partner admin", Role: callrec.RolePartnerAdmin, PartnerID: callrec.RootPartner}); err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	log.Info("created the first partner admin", "token_from", source)
	return nil
}

// HashToken is how bearer tokens are stored: hex SHA-256.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// secret reads a 32-byte key from path, creating it (mode 0600) at first start.
func secret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < 16 {
			return nil, fmt.Errorf("%s is not a hex key of at least 16 bytes", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

func freeDisk(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
