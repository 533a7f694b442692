package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// appColumns lists the applications columns scanApplication reads, in its
// order.
const appColumns = `id, name, audience, access_token_ttl_seconds, refresh_token_ttl_seconds,
	is_default, created_at`

// scanApplication reads one row of appColumns.
func scanApplication(r scanner) (Application, error) {
	var (
		a                  Application
		accessTTL, refresh int64
		createdAt          int64
	)
	if err := r.Scan(&a.ID, &a.Name, &a.Audience, &accessTTL, &refresh, &a.IsDefault, &createdAt); err != nil {
		return Application{}, err
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
	const q = `UPDATE applications SET is_default = 0 WHERE is_default = 1 AND id <> ?`
	_, err := tx.ExecContext(ctx, q, keep)
	return err
}

// CreateApplication stores a, which starts with no members. When a is the
// default application it takes the default flag from the previous one. TTLs
// are stored in whole seconds. It returns ErrConflict when the id or name is
// taken.
func (s *SQLite) CreateApplication(ctx context.Context, a Application) error {
	const q = `INSERT INTO applications (id, name, audience, access_token_ttl_seconds,
		refresh_token_ttl_seconds, is_default, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	err := s.InTx(ctx, func(tx *sql.Tx) error {
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
func (s *SQLite) GetApplication(ctx context.Context, id string) (Application, error) {
	const q = `SELECT ` + appColumns + ` FROM applications WHERE id = ?`
	a, err := scanApplication(s.readRow(ctx, q, id))
	if err != nil {
		return Application{}, readErr("get application", err)
	}
	return a, nil
}

// DefaultApplication returns the default application, or ErrNotFound when
// there is none.
func (s *SQLite) DefaultApplication(ctx context.Context) (Application, error) {
	const q = `SELECT ` + appColumns + ` FROM applications WHERE is_default = 1`
	a, err := scanApplication(s.readRow(ctx, q))
	if err != nil {
		return Application{}, readErr("get default application", err)
	}
	return a, nil
}

// ListApplications returns a page of applications, ordered by creation.
func (s *SQLite) ListApplications(ctx context.Context, p Page) ([]Application, string, error) {
	const q = `SELECT ` + appColumns + ` FROM applications
		WHERE (created_at, id) > (?, ?)
		ORDER BY created_at, id LIMIT ?`
	after, afterID, err := decodeCursor(p.After, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list applications: %w", err)
	}
	limit := pageLimit(p)
	rows, err := s.readRows(ctx, q, after, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list applications: %w", err)
	}
	defer rows.Close()
	apps := []Application{}
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
func (s *SQLite) UpdateApplication(ctx context.Context, a Application) error {
	const q = `UPDATE applications SET name = ?, audience = ?, access_token_ttl_seconds = ?,
		refresh_token_ttl_seconds = ?, is_default = ? WHERE id = ?`
	err := s.InTx(ctx, func(tx *sql.Tx) error {
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
func (s *SQLite) DeleteApplication(ctx context.Context, id string) error {
	const (
		qDelete = `DELETE FROM applications WHERE id = ? AND is_default = 0`
		qExists = `SELECT EXISTS (SELECT 1 FROM applications WHERE id = ?)`
	)
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, qDelete, id)
		if err != nil {
			return err
		}
		if err := mustAffect(res); !errors.Is(err, ErrNotFound) {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, qExists, id).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return ErrInUse
		}
		return ErrNotFound
	})
	return writeErr("delete application", err)
}

// AddMember lets the user log in to the application. It returns ErrNotFound
// when either does not exist and ErrConflict when the user already is a
// member.
func (s *SQLite) AddMember(ctx context.Context, appID, userID string) error {
	const q = `INSERT INTO app_members (app_id, user_id) VALUES (?, ?)`
	_, err := s.exec(ctx, q, appID, userID)
	return writeErr("add member", err)
}

// RemoveMember removes the user from the application's members.
func (s *SQLite) RemoveMember(ctx context.Context, appID, userID string) error {
	const q = `DELETE FROM app_members WHERE app_id = ? AND user_id = ?`
	res, err := s.exec(ctx, q, appID, userID)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("remove member", err)
}

// IsMember reports whether the user may log in to the application: every
// existing user is a member of the default application.
func (s *SQLite) IsMember(ctx context.Context, appID, userID string) (bool, error) {
	const q = `SELECT
		EXISTS (SELECT 1 FROM app_members WHERE app_id = ? AND user_id = ?)
		OR (EXISTS (SELECT 1 FROM applications WHERE id = ? AND is_default = 1)
			AND EXISTS (SELECT 1 FROM users WHERE id = ?))`
	var ok bool
	if err := s.readRow(ctx, q, appID, userID, appID, userID).Scan(&ok); err != nil {
		return false, fmt.Errorf("is member: %w", err)
	}
	return ok, nil
}

// ListMembers returns a page of the users who may log in to the
// application, ordered by creation: every user for the default application.
func (s *SQLite) ListMembers(ctx context.Context, appID string, p Page) ([]User, string, error) {
	const (
		qApp     = `SELECT is_default FROM applications WHERE id = ?`
		qMembers = `SELECT ` + userColumns + ` FROM users
			WHERE (created_at, id) > (?, ?)
			AND (? OR id IN (SELECT user_id FROM app_members WHERE app_id = ?))
			ORDER BY created_at, id LIMIT ?`
	)
	var isDefault bool
	if err := s.readRow(ctx, qApp, appID).Scan(&isDefault); err != nil {
		return nil, "", readErr("list members", err)
	}
	after, afterID, err := decodeCursor(p.After, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list members: %w", err)
	}
	limit := pageLimit(p)
	rows, err := s.readRows(ctx, qMembers, after, afterID, isDefault, appID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list members: %w", err)
	}
	users, next, err := scanUsers(rows, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list members: %w", err)
	}
	return users, next, nil
}
