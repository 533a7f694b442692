package gatehouse

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/impl"
	"github.com/gatehouse-auth/gatehouse/store"
)

// Options configure a gatehouse instance; zero values take the defaults.
type Options struct {
	// DB is the SQLite database file.
	DB string
	// Auth configures the auth service; its AdminScopes default to every
	// scope of the contract and its UserScopes to auth.DefaultUserScopes.
	Auth auth.Config
	// Hash are argon2id's parameters (auth.DefaultHashParams when zero);
	// HashSlots and HashQueueWait bound the hashing queue.
	Hash          auth.HashParams
	HashSlots     int
	HashQueueWait time.Duration
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

	st, err := store.OpenSQLiteMigrated(ctx, o.DB)
	if err != nil {
		return nil, err
	}
	for name, db := range st.Pools() {
		if err := metrics.Register(collectors.NewDBStatsCollector(db, name)); err != nil {
			st.Close()
			return nil, err
		}
	}
	hasher := auth.NewHasher(o.Hash, o.HashSlots, o.HashQueueWait)
	hasher.OnWait(metrics.HashWait)
	svc := auth.New(st, hasher, o.Auth)
	if err := svc.Bootstrap(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	h, err := impl.New(svc, st, o.HTTP)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &Instance{Handler: impl.NewEcho(h, spec, o.Logger), Service: svc, Store: st}, nil
}

// Close closes the database.
func (i *Instance) Close() error { return i.Store.Close() }
