package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v3"

	gatehouse "github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/impl"
	"github.com/gatehouse-auth/gatehouse/pages"
	"github.com/gatehouse-auth/gatehouse/webhook"
)

// serviceFlags configure the auth service, for serve and the admin commands.
func serviceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "issuer", Sources: env("issuer"),
			Usage: "the iss of every token, an http or https URL (default: --public-url, else http:// and --addr)"},
		&cli.StringFlag{Name: "signing-alg", Value: auth.AlgES256, Sources: env("signing-alg"),
			Usage: "the default signing algorithm: ES256, EdDSA or RS256"},
		&cli.IntFlag{Name: "max-failed-logins", Value: 10, Sources: env("max-failed-logins"),
			Usage: "failed logins in a row that lock an account"},
		&cli.DurationFlag{Name: "lockout-window", Value: 15 * time.Minute, Sources: env("lockout-window"),
			Usage: "failed logins count toward a lockout only this long"},
		&cli.DurationFlag{Name: "lockout-duration", Value: 15 * time.Minute, Sources: env("lockout-duration"),
			Usage: "how long a locked account stays locked"},
		&cli.DurationFlag{Name: "password-max-age", Sources: env("password-max-age"),
			Usage: "expire passwords this long after they were set (0: never)"},
		&cli.IntFlag{Name: "min-password-length", Value: 8, Sources: env("min-password-length"),
			Usage: "the shortest password accepted, in characters"},
		&cli.IntFlag{Name: "hash-concurrency", Sources: env("hash-concurrency"),
			Usage: "password hashes computed at once (0: the number of CPUs)"},
		&cli.DurationFlag{Name: "hash-queue-wait", Value: 5 * time.Second, Sources: env("hash-queue-wait"),
			Usage: "longest wait for a hashing slot before answering 503"},
		&cli.DurationFlag{Name: "clock-leeway", Value: auth.DefaultLeeway, Sources: env("clock-leeway"),
			Usage: "clock skew tolerated on a token's exp and nbf when it is presented as a credential (introspection allows none)"},
		&cli.DurationFlag{Name: "refresh-reuse-interval", Value: auth.DefaultRefreshReuseInterval, Sources: env("refresh-reuse-interval"),
			Usage: "how long after its first use a refresh token still gets the same successor, for concurrent refreshes (0: off, every reuse revokes)"},
		&cli.DurationFlag{Name: "key-activation-delay", Value: auth.DefaultKeyActivationDelay, Sources: env("key-activation-delay"),
			Usage: "how long a rotated signing key is in the JWKS before it signs (longer than resource servers cache the JWKS)"},
		&cli.BoolFlag{Name: "webhook-allow-private", Sources: env("webhook-allow-private"),
			Usage: "let webhook endpoints be loopback, private or link-local addresses (refused by default: a webhook must not reach inside the network)"},
		&cli.DurationFlag{Name: "webhook-timeout", Value: webhook.DefaultTimeout, Sources: env("webhook-timeout"),
			Usage: "how long a webhook attempt may take; an attempt a node left unfinished (it died) is tried again after twice this"},
		&cli.StringFlag{Name: "master-key-file", Sources: env("master-key-file"),
			Usage: "file holding the master key (32 random bytes, base64) that seals TOTP secrets and signing keys at rest; required with PostgreSQL (default with SQLite: DB.master-key, created 0600 on first start)"},
	}
}

// DefaultMaxInFlight is --max-in-flight's default: enough requests in
// progress for any pool to stay busy, few enough that a stalled database
// holds a bounded number of them.
const DefaultMaxInFlight = 512

// zeroIsOff maps a duration flag where 0 means "none" to auth.Config,
// where zero takes the default and a negative value means none.
func zeroIsOff(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the HTTP server",
		Flags: append(append(serviceFlags(),
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Sources: env("addr"),
				Usage: "the address to listen on"},
			&cli.StringFlag{Name: "public-url", Sources: env("public-url"),
				Usage: "the base URL of the discovery documents' endpoints (default: from each request)"},
			&cli.StringFlag{Name: "admin-username", Value: "admin", Sources: env("admin-username"),
				Usage: "the administrator made sure to exist at start"},
			&cli.StringFlag{Name: "admin-password", Sources: env("admin-password"),
				Usage: "the administrator's password when it is created; unset on an empty database, a random one is printed once"},
			&cli.DurationFlag{Name: "key-reload-interval", Value: 30 * time.Second, Sources: env("key-reload-interval"),
				Usage: "how often signing keys are reloaded from the database (must be shorter than --key-activation-delay)"},
			&cli.DurationFlag{Name: "revocation-sync-interval", Value: auth.DefaultRevocationSyncInterval, Sources: env("revocation-sync-interval"),
				Usage: "how often this node reads the revocations (ended sessions, revoked access tokens) other nodes made: the most their access tokens stay accepted here, plus one database read"},
			&cli.DurationFlag{Name: "purge-interval", Value: auth.DefaultPurgeInterval, Sources: env("purge-interval"),
				Usage: "how often expired refresh tokens, revocations, mailed and mfa tokens and old mail-limit counts are deleted from the database (0: never)"},
			&cli.DurationFlag{Name: "jwks-max-age", Value: impl.DefaultJWKSMaxAge, Sources: env("jwks-max-age"),
				Usage: "the JWKS's Cache-Control max-age (keep it below --key-activation-delay)"},
			&cli.StringSliceFlag{Name: "dialects", Value: impl.AllDialects, Sources: env("dialects"),
				Usage: "the login dialects to serve (comma-separated); the others' routes answer 404"},
			&cli.StringFlag{Name: "ocariot-signing-alg", Value: auth.AlgRS256, Sources: env("ocariot-signing-alg"),
				Usage: "the algorithm of /v1/auth tokens (the OCARIoT dialect documents RS256)"},
			&cli.DurationFlag{Name: "ocariot-token-ttl", Value: 24 * time.Hour, Sources: env("ocariot-token-ttl"),
				Usage: "the lifetime of /v1/auth tokens (the OCARIoT dialect documents one day)"},
			&cli.FloatFlag{Name: "rate-limit", Value: 5, Sources: env("rate-limit"),
				Usage: "sustained requests per second each client IP may make to the credential routes (0: no limit)"},
			&cli.IntFlag{Name: "rate-burst", Value: 30, Sources: env("rate-burst"),
				Usage: "requests a client IP may make at once to the credential routes"},
			&cli.StringSliceFlag{Name: "trusted-proxies", Sources: env("trusted-proxies"),
				Usage: "CIDRs of reverse proxies whose X-Forwarded-For names the client (default: none; the socket's address is the client)"},
			&cli.BoolFlag{Name: "no-console", Sources: env("no-console"),
				Usage: "switch the admin console at /console/ off (its routes answer 404)"},
			&cli.StringFlag{Name: "pages-templates", Sources: env("pages-templates"),
				Usage: "a directory whose files (signin.html, second_step.html, consent.html, signed_out.html, error.html, form_post.html, layout.html) replace the hosted pages of the same name, file by file; checked at start"},
			&cli.IntFlag{Name: "max-in-flight", Value: DefaultMaxInFlight, Sources: env("max-in-flight"),
				Usage: "requests in progress that may wait on the database; those beyond answer 503 with Retry-After at once (0: no bound)"},
			&cli.DurationFlag{Name: "shutdown-timeout", Value: 15 * time.Second, Sources: env("shutdown-timeout"),
				Usage: "how long in-flight requests may run after SIGINT or SIGTERM"},
		),
			accountFlags()...),
		Action: serve,
	}
}

// open opens and migrates the database and prepares the service. The
// HTTP flags exist on serve only; elsewhere they read as unset.
// issuer is the tokens' iss: --issuer, or for serve the default issuerFor
// computes.
func open(ctx context.Context, cmd *cli.Command, log *slog.Logger, issuer string) (*gatehouse.Instance, error) {
	if d := cmd.Duration("key-activation-delay"); d <= 0 {
		return nil, fmt.Errorf("--key-activation-delay must be positive, got %v (rotate with --immediate to skip it once)", d)
	}
	if d := cmd.Duration("webhook-timeout"); d <= 0 {
		return nil, fmt.Errorf("--webhook-timeout must be positive, got %v", d)
	}
	hosted, err := pages.New(cmd.String("pages-templates"), "gatehouse")
	if err != nil {
		return nil, fmt.Errorf("--pages-templates: %w", err)
	}
	o := gatehouse.Options{
		DB:            cmd.String("db"),
		DBTimeout:     cmd.Duration("db-timeout"),
		MasterKeyFile: cmd.String("master-key-file"),
		Auth: auth.Config{
			Issuer:               issuer,
			SigningAlg:           cmd.String("signing-alg"),
			MaxFailedLogins:      int(cmd.Int("max-failed-logins")),
			LockoutWindow:        cmd.Duration("lockout-window"),
			LockoutDuration:      cmd.Duration("lockout-duration"),
			PasswordMaxAge:       cmd.Duration("password-max-age"),
			MinPasswordLength:    int(cmd.Int("min-password-length")),
			Leeway:               zeroIsOff(cmd.Duration("clock-leeway")),
			RefreshReuseInterval: zeroIsOff(cmd.Duration("refresh-reuse-interval")),
			KeyActivationDelay:   cmd.Duration("key-activation-delay"),
		},
		Webhooks: webhook.Config{
			Guard:   webhook.Guard{AllowPrivate: cmd.Bool("webhook-allow-private")},
			Timeout: cmd.Duration("webhook-timeout"),
		},
		HashSlots:     int(cmd.Int("hash-concurrency")),
		HashQueueWait: cmd.Duration("hash-queue-wait"),
		HTTP: impl.Config{
			PublicURL:  cmd.String("public-url"),
			Dialects:   cmd.StringSlice("dialects"),
			OcariotAlg: cmd.String("ocariot-signing-alg"), OcariotTokenTTL: cmd.Duration("ocariot-token-ttl"),
			RateLimit: cmd.Float("rate-limit"), RateBurst: int(cmd.Int("rate-burst")),
			TrustedProxies: cmd.StringSlice("trusted-proxies"),
			JWKSMaxAge:     cmd.Duration("jwks-max-age"),
			NoConsole:      cmd.Bool("no-console"),
			MaxInFlight:    int(cmd.Int("max-in-flight")),
			Pages:          hosted,
		},
		Logger: log,
	}
	if err := applyAccountFlags(cmd, &o.Auth, cmp.Or(cmd.String("public-url"), issuer)); err != nil {
		return nil, err
	}
	return gatehouse.Open(ctx, o)
}

// newLogger is the log of --log-format and --log-level on the command's
// error writer (standard error; a test reads it to learn where serve
// listens).
func newLogger(cmd *cli.Command) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cmd.String("log-level"))); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cmd.String("log-format") {
	case "json":
		return slog.New(slog.NewJSONHandler(cmd.Root().ErrWriter, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(cmd.Root().ErrWriter, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json")
}

// checkTimings refuses a background interval that is not positive (the
// purge's may be 0, which turns the purge off), and a key reload interval
// that is not shorter than the key activation delay: a node that has not
// reloaded by a staged key's active_from goes on signing with the key it
// replaces, and does not accept the new key's tokens from the nodes that
// switched. A JWKS max-age not below the delay only earns a warning:
// caches that honour it may meet a new key's first tokens before they
// refetch.
func checkTimings(cmd *cli.Command, log *slog.Logger) error {
	delay, reload, maxAge := cmd.Duration("key-activation-delay"), cmd.Duration("key-reload-interval"), cmd.Duration("jwks-max-age")
	if reload <= 0 {
		return fmt.Errorf("--key-reload-interval must be positive, got %v", reload)
	}
	if d := cmd.Duration("revocation-sync-interval"); d <= 0 {
		return fmt.Errorf("--revocation-sync-interval must be positive, got %v", d)
	}
	if d := cmd.Duration("purge-interval"); d < 0 {
		return fmt.Errorf("--purge-interval must be 0 (no purge) or positive, got %v", d)
	}
	if reload >= delay {
		return fmt.Errorf("--key-reload-interval (%v) must be shorter than --key-activation-delay (%v): every node must load a rotated key before it starts signing", reload, delay)
	}
	if maxAge < time.Second {
		return fmt.Errorf("--jwks-max-age must be at least 1s, got %v", maxAge)
	}
	if maxAge >= delay {
		log.Warn("--jwks-max-age is not below --key-activation-delay: a resource server's cached JWKS may lack a rotated key when it starts signing",
			"jwks_max_age", maxAge, "key_activation_delay", delay)
	}
	return nil
}

// onRequest, when set (by tests, before serve starts), sees every request
// as it reaches the handler: the graceful-shutdown test waits on it for
// the server to be inside each request it holds across the signal. (A
// connection's StateActive is too early: net/http drops a request whose
// headers it has read but whose handler has not begun when Shutdown
// starts.)
var onRequest func(*http.Request)

// onShutdown, when set (by tests, before serve starts), is called once the
// shutdown has closed the listener: the graceful-shutdown test holds its
// requests until then.
var onShutdown func()

func serve(ctx context.Context, cmd *cli.Command) error {
	log, err := newLogger(cmd)
	if err != nil {
		return err
	}
	if err := checkTimings(cmd, log); err != nil {
		return err
	}
	// Listen first: the default issuer names the port actually bound,
	// which --addr leaves to the kernel when it ends in :0.
	ln, err := net.Listen("tcp", cmd.String("addr"))
	if err != nil {
		return err
	}
	defer ln.Close()
	issuer, err := issuerFor(cmd.String("issuer"), cmd.String("public-url"), cmd.String("addr"), ln.Addr(), log)
	if err != nil {
		return err
	}
	inst, err := open(ctx, cmd, log, issuer)
	if err != nil {
		return err
	}
	defer inst.Close()
	svc := inst.Service
	generated, err := svc.EnsureAdmin(ctx, auth.Admin{Username: cmd.String("admin-username"), Password: cmd.String("admin-password")})
	if err != nil {
		return err
	}
	if generated != "" {
		// Printed once, on the terminal, never to the log.
		fmt.Fprintf(cmd.Root().Writer, "created administrator %q with password: %s\n(shown once; set GATEHOUSE_ADMIN_PASSWORD to choose it)\n", cmd.String("admin-username"), generated)
	}

	var handler http.Handler = inst.Handler
	if hook := onRequest; hook != nil {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hook(r); inst.Handler.ServeHTTP(w, r) })
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// gatehouse answers a request over impl.MaxHeaderBytes itself
		// (431 in the route's shape, logged); net/http reads a bit more.
		MaxHeaderBytes: impl.ServerMaxHeaderBytes,
	}
	if hook := onShutdown; hook != nil {
		srv.RegisterOnShutdown(hook)
	}
	// Background work ends before the database closes: the last flush of
	// API-key last-used times happens on the way out.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	defer func() { stopBG(); background.Wait() }()
	background.Go(func() { svc.WatchSigningKeys(bg, cmd.Duration("key-reload-interval")) })
	background.Go(func() { svc.WatchAPIKeyUsage(bg, 10*time.Second) })
	background.Go(func() { svc.WatchRevocations(bg, cmd.Duration("revocation-sync-interval")) })
	if d := cmd.Duration("purge-interval"); d > 0 {
		background.Go(func() { svc.WatchExpired(bg, d) })
	}
	background.Go(func() { inst.Webhooks.Run(bg) })

	log.Info("gatehouse listening", "addr", "http://"+ln.Addr().String(), "issuer", issuer, "db", gatehouse.RedactDB(cmd.String("db")), "version", version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: letting in-flight requests finish", "timeout", cmd.Duration("shutdown-timeout"))
	sctx, cancel := context.WithTimeout(context.Background(), cmd.Duration("shutdown-timeout"))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// issuerFor is the iss of serve's tokens: --issuer when set, else
// --public-url, else http:// and the listen address, so that OIDC discovery
// from the issuer works with no flag at all. The default keeps --addr's
// host as written (a client discovers from the URL it was given, and
// "localhost" is not "127.0.0.1" to it) and takes the port actually bound.
// An address of every interface (":8080", "0.0.0.0", "[::]") names no host
// a client can discover from: the default is then http://localhost:PORT,
// right on this machine and through a container's published port, and a
// warning says to set --public-url for clients elsewhere.
func issuerFor(flag, publicURL, addr string, bound net.Addr, log *slog.Logger) (string, error) {
	if flag != "" {
		if err := gatehouse.CheckIssuer(flag); err != nil {
			return "", fmt.Errorf("--issuer: %w", err)
		}
		return flag, nil
	}
	if publicURL != "" {
		iss := strings.TrimSuffix(publicURL, "/")
		if err := gatehouse.CheckIssuer(iss); err != nil {
			return "", fmt.Errorf("--public-url (the default issuer): %w", err)
		}
		return iss, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr: %w", err)
	}
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return "", fmt.Errorf("listen address: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		iss := "http://" + net.JoinHostPort("localhost", port)
		log.Warn("--addr listens on every interface and neither --issuer nor --public-url is set: "+
			"the issuer defaults to "+iss+", which only clients on this machine (or through a published port) can discover; "+
			"set --public-url to the URL clients use", "issuer", iss)
		return iss, nil
	}
	return "http://" + net.JoinHostPort(host, port), nil
}
