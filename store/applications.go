package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// is_default is an INTEGER 0 or 1 on SQLite and a BOOLEAN on PostgreSQL;
// the queries compare it with TRUE and FALSE, which SQLite reads as 1 and 0.

// appColumns lists the applications columns scanApplication reads, in its
// order.
const appColumns = `id, name, audience, access_token_ttl_seconds, refresh_token_ttl_seconds,
	is_default, created_at, scopes, redirect_uris, post_logout_redirect_uris, client_type, first_party`

// scanApplication reads one row of appColumns.
func scanApplication(r scanner) (Application, error) {
	var row appRow
	if err := r.Scan(row.dest()...); err != nil {
		return Application{}, err
	}
	return row.application(), nil
}

// appRow holds a row of appColumns as scanned, for scans of joined rows.
type appRow struct {
	a                  Application
	accessTTL, refresh int64
	createdAt          int64
	scopes             string
	redirects, logouts string
}

// dest returns the Scan destinations of appColumns, in order.
func (r *appRow) dest() []any {
	a := &r.a
	return []any{&a.ID, &a.Name, &a.Audience, &r.accessTTL, &r.refresh, &a.IsDefault, &r.createdAt, &r.scopes,
		&r.redirects, &r.logouts, &a.ClientType, &a.FirstParty}
}

// application returns the scanned application.
func (r *appRow) application() Application {
	a := r.a
	a.Scopes = splitScopes(r.scopes)
	a.RedirectURIs, a.PostLogoutRedirectURIs = splitScopes(r.redirects), splitScopes(r.logouts)
	a.AccessTokenTTL = time.Duration(r.accessTTL) * time.Second
	a.RefreshTokenTTL = time.Duration(r.refresh) * time.Second
	a.CreatedAt = fromNanos(r.createdAt)
	return a
}

// seconds returns d in whole seconds; the schema keeps TTLs in seconds.
func seconds(d time.Duration) int64 {
	return int64(d / time.Second)
}

// clientType is a's client type as stored: ClientPublic when unset.
func clientType(a Application) string {
	if a.ClientType == "" {
		return ClientPublic
	}
	return a.ClientType
}

// clearDefault takes the default flag from every application but keep.
func clearDefault(ctx context.Context, tx tx, keep string) error {
	const q = `UPDATE applications SET is_default = FALSE WHERE is_default = TRUE AND id <> ?`
	_, err := tx.exec(ctx, q, keep)
	return err
}

// CreateApplication stores a, which starts with no members. When a is the
// default application it takes the default flag from the previous one. TTLs
// are stored in whole seconds. It returns ErrConflict when the id or name is
// taken.
func (s *DB) CreateApplication(ctx context.Context, a Application) error {
	const q = `INSERT INTO applications (id, name, audience, access_token_ttl_seconds,
		refresh_token_ttl_seconds, is_default, created_at, scopes, redirect_uris,
		post_logout_redirect_uris, client_type, first_party) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	err := s.inTx(ctx, func(tx tx) error {
		if a.IsDefault {
			if err := clearDefault(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		_, err := tx.exec(ctx, q, a.ID, a.Name, a.Audience, seconds(a.AccessTokenTTL),
			seconds(a.RefreshTokenTTL), a.IsDefault, nanos(a.CreatedAt), strings.Join(a.Scopes, " "),
			strings.Join(a.RedirectURIs, " "), strings.Join(a.PostLogoutRedirectURIs, " "), clientType(a), a.FirstParty)
		return err
	})
	return s.writeErr("insert application", err)
}

// GetApplication returns the application with the given id.
func (s *DB) GetApplication(ctx context.Context, id string) (Application, error) {
	const q = `SELECT ` + appColumns + ` FROM applications WHERE id = ?`
	return getBy(ctx, s, "get application", q, scanApplication, id)
}

// DefaultApplication returns the default application, or ErrNotFound when
// there is none.
func (s *DB) DefaultApplication(ctx context.Context) (Application, error) {
	const q = `SELECT ` + appColumns + ` FROM applications WHERE is_default = TRUE`
	a, err := scanApplication(s.readRow(ctx, q))
	if err != nil {
		return Application{}, readErr("get default application", err)
	}
	return a, nil
}

// ListApplications returns a page of applications, ordered by creation.
func (s *DB) ListApplications(ctx context.Context, p Page) ([]Application, string, error) {
	const q = `SELECT ` + appColumns + ` FROM applications
		WHERE (created_at, id) > (?, ?)
		ORDER BY created_at, id LIMIT ?`
	after, afterID, limit, err := s.pageStart(p, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list applications: %w", err)
	}
	apps, next, err := readPage(ctx, s, limit, scanApplication, func(a Application) (time.Time, string) { return a.CreatedAt, a.ID }, q, after, afterID)
	if err != nil {
		return nil, "", fmt.Errorf("list applications: %w", err)
	}
	return apps, next, nil
}

// holdsCredentials is true of an applications row that was issued client
// credentials: a secret, expired or not, or a JWK Set.
const holdsCredentials = `(applications.jwks NOT IN ('', '[]', 'null')
	OR EXISTS (SELECT 1 FROM application_secrets sec WHERE sec.app_id = applications.id))`

// UpdateApplication writes every field of a but its creation time. When a
// becomes the default application it takes the default flag from the
// previous one. An application that holds credentials stays confidential
// whatever a says.
func (s *DB) UpdateApplication(ctx context.Context, a Application) error {
	const q = `UPDATE applications SET name = ?, audience = ?, access_token_ttl_seconds = ?,
		refresh_token_ttl_seconds = ?, is_default = ?, scopes = ?, redirect_uris = ?,
		post_logout_redirect_uris = ?, client_type = CASE WHEN ` + holdsCredentials + ` THEN 'confidential' ELSE ? END,
		first_party = ? WHERE id = ?`
	if !s.storable(a.ID) {
		return s.writeErr("update application", ErrNotFound)
	}
	err := s.inTx(ctx, func(tx tx) error {
		if a.IsDefault {
			if err := clearDefault(ctx, tx, a.ID); err != nil {
				return err
			}
		}
		res, err := tx.exec(ctx, q, a.Name, a.Audience, seconds(a.AccessTokenTTL),
			seconds(a.RefreshTokenTTL), a.IsDefault, strings.Join(a.Scopes, " "), strings.Join(a.RedirectURIs, " "),
			strings.Join(a.PostLogoutRedirectURIs, " "), clientType(a), a.FirstParty, a.ID)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	return s.writeErr("update application", err)
}

// DeleteApplication deletes the application with the given id, its
// memberships and its refresh-token families, and logs each live family
// as a revoked session until keepUntil, so its access tokens stop too;
// it returns the ids of those sessions. It returns ErrInUse for the
// default application.
func (s *DB) DeleteApplication(ctx context.Context, id string, at, keepUntil time.Time) ([]string, error) {
	const (
		// The default application's sessions are revoked here too, and
		// the transaction's ErrInUse rolls that back with the rest.
		qRevoke = `UPDATE refresh_families SET revoked_at = ?
			WHERE app_id = ? AND revoked_at IS NULL RETURNING id`
		qDelete = `DELETE FROM applications WHERE id = ? AND is_default = FALSE`
		qExists = `SELECT EXISTS (SELECT 1 FROM applications WHERE id = ?)`
	)
	if !s.storable(id) {
		return nil, s.writeErr("delete application", ErrNotFound)
	}
	var ended []string
	err := s.inTx(ctx, func(t tx) error {
		var err error
		if ended, err = revokeFamiliesIn(ctx, t, keepUntil, qRevoke, nanos(at), id); err != nil {
			return err
		}
		res, err := t.exec(ctx, qDelete, id)
		if err != nil {
			return err
		}
		if err := mustAffect(res); !errors.Is(err, ErrNotFound) {
			return err
		}
		var exists bool
		if err := t.queryRow(ctx, qExists, id).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return ErrInUse
		}
		return ErrNotFound
	})
	if err != nil {
		ended = nil
	}
	return ended, s.writeErr("delete application", err)
}

// AddMember lets the user log in to the application. It returns ErrNotFound
// when either does not exist and ErrConflict when the user already is a
// member.
func (s *DB) AddMember(ctx context.Context, appID, userID string) error {
	const q = `INSERT INTO app_members (app_id, user_id) VALUES (?, ?)`
	if !s.storableAll(appID, userID) {
		return s.writeErr("add member", ErrNotFound)
	}
	_, err := s.exec(ctx, q, appID, userID)
	return s.writeErr("add member", err)
}

// RemoveMember removes the user from the application's members and
// revokes the user's live families of the application, logging each as a
// revoked session until keepUntil, in one transaction; it returns their
// ids. It returns ErrNotFound when the user is not a member.
func (s *DB) RemoveMember(ctx context.Context, appID, userID string, at, keepUntil time.Time) ([]string, error) {
	const (
		qDelete = `DELETE FROM app_members WHERE app_id = ? AND user_id = ?`
		qRevoke = `UPDATE refresh_families SET revoked_at = ?
			WHERE app_id = ? AND user_id = ? AND revoked_at IS NULL RETURNING id`
	)
	if !s.storableAll(appID, userID) {
		return nil, s.writeErr("remove member", ErrNotFound)
	}
	var ended []string
	err := s.inTx(ctx, func(t tx) error {
		res, err := t.exec(ctx, qDelete, appID, userID)
		if err != nil {
			return err
		}
		if err := mustAffect(res); err != nil {
			return err
		}
		ended, err = revokeFamiliesIn(ctx, t, keepUntil, qRevoke, nanos(at), appID, userID)
		return err
	})
	if err != nil {
		ended = nil
	}
	return ended, s.writeErr("remove member", err)
}

// IsMember reports whether the user may log in to the application: every
// existing user is a member of the default application.
func (s *DB) IsMember(ctx context.Context, appID, userID string) (bool, error) {
	const q = `SELECT
		EXISTS (SELECT 1 FROM app_members WHERE app_id = ?1 AND user_id = ?2)
		OR (EXISTS (SELECT 1 FROM applications WHERE id = ?1 AND is_default = TRUE)
			AND EXISTS (SELECT 1 FROM users WHERE id = ?2))`
	if !s.storableAll(appID, userID) {
		return false, nil
	}
	var ok bool
	if err := s.readRow(ctx, q, appID, userID).Scan(&ok); err != nil {
		return false, fmt.Errorf("is member: %w", err)
	}
	return ok, nil
}

// ListMembers returns a page of the users who may log in to the
// application, ordered by creation: every user for the default application.
func (s *DB) ListMembers(ctx context.Context, appID string, p Page) ([]User, string, error) {
	const (
		qApp     = `SELECT is_default FROM applications WHERE id = ?`
		qMembers = `SELECT ` + userColumns + ` FROM users
			WHERE (created_at, id) > (?, ?)
			AND (? OR id IN (SELECT user_id FROM app_members WHERE app_id = ?))
			ORDER BY created_at, id LIMIT ?`
	)
	if !s.storable(appID) {
		return nil, "", readErr("list members", sql.ErrNoRows)
	}
	var isDefault bool
	if err := s.readRow(ctx, qApp, appID).Scan(&isDefault); err != nil {
		return nil, "", readErr("list members", err)
	}
	after, afterID, limit, err := s.pageStart(p, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list members: %w", err)
	}
	users, next, err := readPage(ctx, s, limit, scanUser, userKey, qMembers, after, afterID, isDefault, appID)
	if err != nil {
		return nil, "", fmt.Errorf("list members: %w", err)
	}
	return users, next, nil
}
