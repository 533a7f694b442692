package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
)

// migrationsFS holds each engine's migrations, one directory per engine;
// a migration's version is its numeric prefix, the same on both.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationsFS embed.FS

// migrated migrates s, closing it when that fails.
func (s *DB) migrated(ctx context.Context) (*DB, error) {
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// newProvider returns a goose provider over db of the embedded migrations
// in migrations/dir.
func newProvider(dir string, dialect goose.Dialect, db *sql.DB, opts ...goose.ProviderOption) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationsFS, "migrations/"+dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending embedded migration.
func (s *DB) Migrate(ctx context.Context) error {
	return s.MigrateReporting(ctx, nil)
}

// MigrateReporting applies the pending migrations one at a time and calls
// report after each, so a long migration of a big database shows progress.
func (s *DB) MigrateReporting(ctx context.Context, report func(version int64, took time.Duration)) error {
	p, err := s.newProvider(s.writer)
	if err != nil {
		return err
	}
	for {
		res, err := p.UpByOne(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if report != nil {
			report(res.Source.Version, res.Duration)
		}
	}
}

// MigrationStatus reports the schema version of the database and the latest
// version this package knows. It does not write: a database that was never
// migrated reports version 0.
func (s *DB) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	p, err := s.newProvider(s.reader)
	if err != nil {
		return 0, 0, err
	}
	sources := p.ListSources()
	latest = sources[len(sources)-1].Version

	var exists bool
	if err := s.readRow(ctx, s.hasVersionTable).Scan(&exists); err != nil {
		return 0, 0, fmt.Errorf("migration status: %w", err)
	}
	if !exists {
		return 0, latest, nil
	}
	current, _, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migration status: %w", err)
	}
	return current, latest, nil
}

// Ping checks that the database answers and that its schema is current.
func (s *DB) Ping(ctx context.Context) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", s.unavailable(ctx, err))
	}
	current, latest, err := s.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if current != latest {
		return fmt.Errorf("schema at version %d, want %d", current, latest)
	}
	return nil
}
