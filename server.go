package gatehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/auth/seal"
	"github.com/gatehouse-auth/gatehouse/impl"
	"github.com/gatehouse-auth/gatehouse/store"
	"github.com/gatehouse-auth/gatehouse/webhook"
)

// Options configure a gatehouse instance; zero values take the defaults.
type Options struct {
	// DB is the database: a postgres:// or postgresql:// URL for
	// PostgreSQL (many nodes may share it), anything else the path of a
	// SQLite database file. DBTimeout bounds every call to it
	// (store.DefaultTimeout when zero).
	DB        string
	DBTimeout time.Duration
	// Auth configures the auth service; its AdminScopes default to every
	// scope of the contract and its UserScopes to auth.DefaultUserScopes.
	Auth auth.Config
	// Hash are argon2id's parameters (auth.DefaultHashParams when zero);
	// HashSlots and HashQueueWait bound the hashing queue.
	Hash          auth.HashParams
	HashSlots     int
	HashQueueWait time.Duration
	// MasterKey seals secrets at rest (32 bytes). Without it, the key is
	// read from MasterKeyFile; without that, for SQLite only, from the
	// file beside the database (DB + ".master-key"), created on first
	// start. PostgreSQL needs one of the two: every node must have the
	// same key.
	MasterKey     []byte
	MasterKeyFile string
	// Webhooks configures the delivery worker; its Secrets and Audit are
	// the service's, its Now the service's clock unless set, and its
	// Guard also checks URLs as endpoints are created.
	Webhooks webhook.Config
	// HTTP configures the handlers; SpecYAML and Scopes are filled in.
	HTTP   impl.Config
	Logger *slog.Logger
}

// Instance is a ready gatehouse: a migrated, bootstrapped database, the
// auth service over it and the HTTP handler that serves the contract.
type Instance struct {
	Handler *echo.Echo
	Service *auth.Service
	Store   store.Store
	// Webhooks is the node's delivery worker; serve runs it.
	Webhooks *webhook.Worker
}

// Open opens and migrates the database, bootstraps it (roles, default
// application, signing keys) and wires the HTTP handler. cmd/gatehouse,
// the contract tests and the benchmarks all start gatehouse through it.
func Open(ctx context.Context, o Options) (*Instance, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Hash == (auth.HashParams{}) {
		o.Hash = auth.DefaultHashParams
	}
	if o.Auth.Issuer != "" {
		if err := CheckIssuer(o.Auth.Issuer); err != nil {
			return nil, fmt.Errorf("issuer: %w", err)
		}
	}
	spec, err := impl.Spec()
	if err != nil {
		return nil, err
	}
	scopes := impl.SpecScopes(spec)
	if o.Auth.AdminScopes == nil {
		o.Auth.AdminScopes = scopes
	}
	if o.Auth.UserScopes == nil {
		o.Auth.UserScopes = auth.DefaultUserScopes
	}
	o.Auth.Logger = o.Logger
	o.HTTP.SpecYAML, o.HTTP.Scopes = OpenAPI, scopes

	metrics := impl.NewMetrics()
	o.HTTP.Metrics, o.Auth.OnEvent = metrics, metrics.AuditEvent

	sealer, err := masterKeySealer(o)
	if err != nil {
		return nil, err
	}
	o.Auth.Sealer = sealer
	o.Auth.WebhookGuard = o.Webhooks.Guard
	st, err := OpenStore(ctx, o.DB, store.WithTimeout(o.DBTimeout))
	if err != nil {
		return nil, err
	}
	if p, ok := st.(interface{ Pools() map[string]*sql.DB }); ok {
		for name, db := range p.Pools() {
			if err := metrics.Register(collectors.NewDBStatsCollector(db, name)); err != nil {
				st.Close()
				return nil, err
			}
		}
	}
	if g, ok := st.(interface{ GroupCommitStats() (int64, int64, bool) }); ok {
		if err := metrics.RegisterGroupCommits(g.GroupCommitStats); err != nil {
			st.Close()
			return nil, err
		}
	}
	hasher := auth.NewHasher(o.Hash, o.HashSlots, o.HashQueueWait)
	hasher.OnWait(metrics.HashWait)
	svc := auth.New(st, hasher, o.Auth)
	// Nodes starting together on a fresh PostgreSQL database bootstrap it
	// one at a time, so there is one default application, not one per node.
	bootstrap := svc.Bootstrap
	if x, ok := st.(interface {
		Exclusive(context.Context, func(context.Context) error) error
	}); ok {
		bootstrap = func(ctx context.Context) error { return x.Exclusive(ctx, svc.Bootstrap) }
	}
	if err := bootstrap(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	h, err := impl.New(svc, st, o.HTTP)
	if err != nil {
		st.Close()
		return nil, err
	}
	wh := o.Webhooks
	wh.Secrets, wh.Audit, wh.Logger = svc.WebhookKeys, svc.Audit, o.Logger
	if wh.Now == nil {
		wh.Now = o.Auth.Now
	}
	worker := webhook.New(st, wh)
	if err := metrics.Register(worker.Metrics().Collectors()...); err != nil {
		st.Close()
		return nil, err
	}
	return &Instance{Handler: impl.NewEcho(h, spec, o.Logger), Service: svc, Store: st, Webhooks: worker}, nil
}

// DefaultMasterKeyFile is where a SQLite database's master key is kept
// when no --master-key-file is given: beside the database.
func DefaultMasterKeyFile(db string) string { return db + ".master-key" }

// masterKeySealer returns the sealer of o's master key (see Options).
func masterKeySealer(o Options) (*seal.Sealer, error) {
	key := o.MasterKey
	switch {
	case key != nil:
	case o.MasterKeyFile != "":
		var err error
		if key, err = seal.ReadKeyFile(o.MasterKeyFile); err != nil {
			return nil, err
		}
	case store.IsPostgresURL(o.DB):
		return nil, errors.New("--master-key-file is required with PostgreSQL: every node must seal and open secrets with the same key " +
			"(make one with: head -c 32 /dev/urandom | base64 > master.key; chmod 600 master.key)")
	default:
		path := DefaultMasterKeyFile(o.DB)
		var err error
		key, err = seal.ReadKeyFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			key, err = seal.CreateKeyFile(path)
			if err == nil {
				o.Logger.Warn("created a master key beside the database: back it up apart from the database; without it, the TOTP secrets and signing keys in the database cannot be opened", "path", path)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return seal.New(key)
}

// CheckIssuer returns an error unless iss can be a token issuer that OIDC
// and RFC 8414 clients discover from: an absolute http or https URL with a
// host and no query or fragment.
func CheckIssuer(iss string) error {
	u, err := url.Parse(iss)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: %w", iss, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q is not an http or https URL (discovery clients refuse any other issuer), e.g. https://auth.example.com", iss)
	case u.Host == "":
		return fmt.Errorf("%q has no host", iss)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(iss, "#"):
		return fmt.Errorf("%q has a query or a fragment, which an issuer may not have (RFC 8414 §2)", iss)
	case u.User != nil:
		return fmt.Errorf("%q carries credentials", iss)
	}
	return nil
}

// OpenStore opens and migrates the database db names: PostgreSQL for a
// postgres:// or postgresql:// URL, else the SQLite database file at that
// path.
func OpenStore(ctx context.Context, db string, opts ...store.Option) (store.Store, error) {
	st, err := store.OpenMigrated(ctx, db, opts...)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return st, nil
}

// RedactDB returns db fit for a log line or a message: a URL's password is
// replaced by "xxxxx"; a file path is returned as it is.
func RedactDB(db string) string {
	if !store.IsPostgresURL(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "(unparsable database URL)"
	}
	return u.Redacted()
}

// Migrate applies the pending migrations to the database db names (see
// OpenStore), calling report after each, and returns the schema version it
// is then at. Nodes sharing a PostgreSQL database may all run it: an
// advisory lock makes them take turns, and each migration runs once.
func Migrate(ctx context.Context, db string, report func(version int64, took time.Duration)) (int64, error) {
	m, err := store.Open(ctx, db)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	if err := m.MigrateReporting(ctx, report); err != nil {
		return 0, err
	}
	cur, _, err := m.MigrationStatus(ctx)
	return cur, err
}

// Close waits for the mails being sent (each bounded by the sender's
// timeout), then closes the database.
func (i *Instance) Close() error {
	i.Service.WaitMail()
	return i.Store.Close()
}
