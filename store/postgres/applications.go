package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// appColumns lists the applications columns scanApplication reads, in its
// order.
const appColumns = `id, name, audience, access_token_ttl_seconds, refresh_token_ttl_seconds,
	is_default, created_at`

// scanApplication reads one row of appColumns.
func scanApplication(r scanner) (store.Application, error) {
	var (
		a                  store.Application
		accessTTL, refresh int64
		createdAt          int64
	)
	if err := r.Scan(&a.ID, &a.Name, &a.Audience, &accessTTL, &refresh, &a.IsDefault, &createdAt); err != nil {
		return store.Application{}, err
	}
	a.AccessTokenTTL = time.Duration(accessTTL) * time.Second
	a.RefreshTokenTTL = time.Duration(refresh) * time.Second
	a.CreatedAt = fromNanos(createdAt)
	return a, nil
}

// seconds returns d in whole seconds; the schema keeps TTLs in seconds.
func seconds(d time.Duration) int64 {
	return int64(d / time.Second)
}

// clearDefault takes the default flag from every application but keep.
func clearDefault(ctx context.Context, tx *sql.Tx, keep string) error {
	const q = `UPDATE applications SET is_default = FALSE WHERE is_default AND id <> $1`
	_, err := tx.ExecContext(ctx, q, keep)
	return err
}

// CreateApplication stores a, which starts with no members. When a is the
// default application it takes the default flag from the previous one. TTLs
// are stored in whole seconds. It returns ErrConflict when the id or name is
// taken.
func (p *Postgres) CreateApplication(ctx context.Context, a store.Application) error {
	const q = `INSERT INTO applications (id, name, audience, access_token_ttl_seconds,
		refresh_token_ttl_seconds, is_default, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	err := p.inTx(ctx, func(tx *sql.Tx) error {
		if a.IsDefault {
			if err := clearDefault(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, q, a.ID, a.Name, a.Audience, seconds(a.AccessTokenTTL),
			seconds(a.RefreshTokenTTL), a.IsDefault, nanos(a.CreatedAt))
		return err
	})
	return writeErr("insert application", err)
}

// GetApplication returns the application with the given id.
func (p *Postgres) GetApplication(ctx context.Context, id string) (store.Application, error) {
	const q = `SELECT ` + appColumns + ` FROM applications WHERE id = $1`
	if !storable(id) {
		return store.Application{}, readErr("get application", sql.ErrNoRows)
	}
	a, err := scanApplication(p.db.QueryRowContext(ctx, q, id))
	if err != nil {
		return store.Application{}, readErr("get application", err)
	}
	return a, nil
}

// DefaultApplication returns the default application, or ErrNotFound when
// there is none.
func (p *Postgres) DefaultApplication(ctx context.Context) (store.Application, error) {
	const q = `SELECT ` + appColumns + ` FROM applications WHERE is_default`
	a, err := scanApplication(p.db.QueryRowContext(ctx, q))
	if err != nil {
		return store.Application{}, readErr("get default application", err)
	}
	return a, nil
}

// ListApplications returns a page of applications, ordered by creation.
func (p *Postgres) ListApplications(ctx context.Context, pg store.Page) ([]store.Application, string, error) {
	const q = `SELECT ` + appColumns + ` FROM applications
		WHERE (created_at, id) > ($1, $2)
		ORDER BY created_at, id LIMIT $3`
	after, afterID, err := decodeCursor(pg.After, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list applications: %w", err)
	}
	if !storable(afterID) {
		return nil, "", fmt.Errorf("list applications: %w", store.ErrBadCursor)
	}
	limit := pageLimit(pg)
	rows, err := p.db.QueryContext(ctx, q, after, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list applications: %w", err)
	}
	defer rows.Close()
	apps := []store.Application{}
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list applications: %w", err)
		}
		apps = append(apps, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list applications: %w", err)
	}
	if len(apps) <= limit {
		return apps, "", nil
	}
	apps = apps[:limit]
	last := apps[limit-1]
	return apps, encodeCursor(last.CreatedAt, last.ID), nil
}

// UpdateApplication writes every field of a but its creation time. When a
// becomes the default application it takes the default flag from the
// previous one.
func (p *Postgres) UpdateApplication(ctx context.Context, a store.Application) error {
	const q = `UPDATE applications SET name = $1, audience = $2, access_token_ttl_seconds = $3,
		refresh_token_ttl_seconds = $4, is_default = $5 WHERE id = $6`
	if !storable(a.ID) {
		return writeErr("update application", store.ErrNotFound)
	}
	err := p.inTx(ctx, func(tx *sql.Tx) error {
		if a.IsDefault {
			if err := clearDefault(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, q, a.Name, a.Audience, seconds(a.AccessTokenTTL),
			seconds(a.RefreshTokenTTL), a.IsDefault, a.ID)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	return writeErr("update application", err)
}

// DeleteApplication deletes the application with the given id, its
// memberships and its refresh-token families. It returns ErrInUse for the
// default application.
func (p *Postgres) DeleteApplication(ctx context.Context, id string) error {
	const (
		qDelete = `DELETE FROM applications WHERE id = $1 AND NOT is_default`
		qExists = `SELECT EXISTS (SELECT 1 FROM applications WHERE id = $1)`
	)
	if !storable(id) {
		return writeErr("delete application", store.ErrNotFound)
	}
	err := p.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, qDelete, id)
		if err != nil {
			return err
		}
		if err := mustAffect(res); !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, qExists, id).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return store.ErrInUse
		}
		return store.ErrNotFound
	})
	return writeErr("delete application", err)
}

// AddMember lets the user log in to the application. It returns ErrNotFound
// when either does not exist and ErrConflict when the user already is a
// member.
func (p *Postgres) AddMember(ctx context.Context, appID, userID string) error {
	const q = `INSERT INTO app_members (app_id, user_id) VALUES ($1, $2)`
	if !storableAll(appID, userID) {
		return writeErr("add member", store.ErrNotFound)
	}
	_, err := p.db.ExecContext(ctx, q, appID, userID)
	return writeErr("add member", err)
}

// RemoveMember removes the user from the application's members.
func (p *Postgres) RemoveMember(ctx context.Context, appID, userID string) error {
	const q = `DELETE FROM app_members WHERE app_id = $1 AND user_id = $2`
	if !storableAll(appID, userID) {
		return writeErr("remove member", store.ErrNotFound)
	}
	res, err := p.db.ExecContext(ctx, q, appID, userID)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("remove member", err)
}

// IsMember reports whether the user may log in to the application: every
// existing user is a member of the default application.
func (p *Postgres) IsMember(ctx context.Context, appID, userID string) (bool, error) {
	const q = `SELECT
		EXISTS (SELECT 1 FROM app_members WHERE app_id = $1 AND user_id = $2)
		OR (EXISTS (SELECT 1 FROM applications WHERE id = $1 AND is_default)
			AND EXISTS (SELECT 1 FROM users WHERE id = $2))`
	if !storableAll(appID, userID) {
		return false, nil
	}
	var ok bool
	if err := p.db.QueryRowContext(ctx, q, appID, userID).Scan(&ok); err != nil {
		return false, fmt.Errorf("is member: %w", err)
	}
	return ok, nil
}

// ListMembers returns a page of the users who may log in to the
// application, ordered by creation: every user for the default application.
func (p *Postgres) ListMembers(ctx context.Context, appID string, pg store.Page) ([]store.User, string, error) {
	const (
		qApp     = `SELECT is_default FROM applications WHERE id = $1`
		qMembers = `SELECT ` + userColumns + ` FROM users
			WHERE (created_at, id) > ($1, $2)
			AND ($3 OR id IN (SELECT user_id FROM app_members WHERE app_id = $4))
			ORDER BY created_at, id LIMIT $5`
	)
	if !storable(appID) {
		return nil, "", readErr("list members", sql.ErrNoRows)
	}
	var isDefault bool
	if err := p.db.QueryRowContext(ctx, qApp, appID).Scan(&isDefault); err != nil {
		return nil, "", readErr("list members", err)
	}
	after, afterID, err := decodeCursor(pg.After, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list members: %w", err)
	}
	if !storable(afterID) {
		return nil, "", fmt.Errorf("list members: %w", store.ErrBadCursor)
	}
	limit := pageLimit(pg)
	rows, err := p.db.QueryContext(ctx, qMembers, after, afterID, isDefault, appID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list members: %w", err)
	}
	users, next, err := scanUsers(rows, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list members: %w", err)
	}
	return users, next, nil
}
