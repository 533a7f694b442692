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

// userColumns lists the users columns scanUser reads, in its order.
const userColumns = `id, username, email, first_name, last_name, role, password_hash,
	password_changed_at, password_expires_at, disabled, failed_attempts, locked_until,
	created_at, updated_at`

// scanUser reads one row of userColumns.
func scanUser(r scanner) (store.User, error) {
	var (
		u                               store.User
		email                           sql.NullString
		changedAt, createdAt, updatedAt int64
		expiresAt, lockedUntil          sql.NullInt64
	)
	err := r.Scan(&u.ID, &u.Username, &email, &u.FirstName, &u.LastName, &u.Role,
		&u.PasswordHash, &changedAt, &expiresAt, &u.Disabled, &u.FailedAttempts,
		&lockedUntil, &createdAt, &updatedAt)
	if err != nil {
		return store.User{}, err
	}
	u.Email = email.String
	u.PasswordChangedAt = fromNanos(changedAt)
	u.PasswordExpiresAt = fromNullNanos(expiresAt)
	u.LockedUntil = fromNullNanos(lockedUntil)
	u.CreatedAt = fromNanos(createdAt)
	u.UpdatedAt = fromNanos(updatedAt)
	return u, nil
}

// scanUsers reads up to limit users from rows and returns the cursor of the
// next page when rows held more.
func scanUsers(rows *sql.Rows, limit int) ([]store.User, string, error) {
	defer rows.Close()
	users := []store.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, "", err
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(users) <= limit {
		return users, "", nil
	}
	users = users[:limit]
	last := users[limit-1]
	return users, encodeCursor(last.CreatedAt, last.ID), nil
}

// emailArgs returns the email and email_key column values of email: NULL
// when it is "".
func emailArgs(email string) (value, key any) {
	if email == "" {
		return nil, nil
	}
	return email, foldKey(email)
}

// CreateUser stores u. It returns ErrConflict when the username or e-mail
// is taken (case-insensitively) and ErrNotFound when u.Role does not exist.
func (p *Postgres) CreateUser(ctx context.Context, u store.User) error {
	const q = `INSERT INTO users (id, username, username_key, email, email_key, first_name,
		last_name, role, password_hash, password_changed_at, password_expires_at, disabled,
		failed_attempts, locked_until, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`
	email, emailKey := emailArgs(u.Email)
	_, err := p.db.ExecContext(ctx, q, u.ID, u.Username, foldKey(u.Username), email, emailKey,
		u.FirstName, u.LastName, u.Role, u.PasswordHash, nanos(u.PasswordChangedAt),
		nullNanos(u.PasswordExpiresAt), u.Disabled, u.FailedAttempts,
		nullNanos(u.LockedUntil), nanos(u.CreatedAt), nanos(u.UpdatedAt))
	return writeErr("insert user", err)
}

// GetUser returns the user with the given id.
func (p *Postgres) GetUser(ctx context.Context, id string) (store.User, error) {
	const q = `SELECT ` + userColumns + ` FROM users WHERE id = $1`
	if !storable(id) {
		return store.User{}, readErr("get user", sql.ErrNoRows)
	}
	u, err := scanUser(p.db.QueryRowContext(ctx, q, id))
	if err != nil {
		return store.User{}, readErr("get user", err)
	}
	return u, nil
}

// GetUserByLogin returns the user whose username or e-mail is login,
// case-insensitively; a username match wins over an e-mail match.
func (p *Postgres) GetUserByLogin(ctx context.Context, login string) (store.User, error) {
	const q = `SELECT ` + userColumns + ` FROM users
		WHERE username_key = $1 OR email_key = $1
		ORDER BY username_key = $1 DESC LIMIT 1`
	key := foldKey(login)
	if !storable(key) {
		return store.User{}, readErr("get user by login", sql.ErrNoRows)
	}
	u, err := scanUser(p.db.QueryRowContext(ctx, q, key))
	if err != nil {
		return store.User{}, readErr("get user by login", err)
	}
	return u, nil
}

// ListUsers returns a page of the users matching f, ordered by creation.
// The query matches a substring of the folded username or e-mail; strpos
// takes it literally (no LIKE wildcards), as SQLite's instr does.
func (p *Postgres) ListUsers(ctx context.Context, f store.UserFilter, pg store.Page) ([]store.User, string, error) {
	const q = `SELECT ` + userColumns + ` FROM users
		WHERE (created_at, id) > ($1, $2)
		AND ($3 = '' OR strpos(username_key, $3) > 0 OR strpos(email_key, $3) > 0)
		ORDER BY created_at, id LIMIT $4`
	after, afterID, err := decodeCursor(pg.After, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	limit := pageLimit(pg)
	key := foldKey(f.Query)
	if !storable(afterID) {
		return nil, "", fmt.Errorf("list users: %w", store.ErrBadCursor)
	}
	if !storable(key) {
		return []store.User{}, "", nil // no stored value holds it
	}
	rows, err := p.db.QueryContext(ctx, q, after, afterID, key, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	users, next, err := scanUsers(rows, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	return users, next, nil
}

// UpdateUser writes every field of u but the password hash, the time it
// was set, the lockout state and the creation time.
func (p *Postgres) UpdateUser(ctx context.Context, u store.User) error {
	const q = `UPDATE users SET username = $1, username_key = $2, email = $3, email_key = $4,
		first_name = $5, last_name = $6, role = $7, disabled = $8, password_expires_at = $9, updated_at = $10
		WHERE id = $11`
	if !storable(u.ID) {
		return writeErr("update user", store.ErrNotFound)
	}
	email, emailKey := emailArgs(u.Email)
	res, err := p.db.ExecContext(ctx, q, u.Username, foldKey(u.Username), email, emailKey,
		u.FirstName, u.LastName, u.Role, u.Disabled, nullNanos(u.PasswordExpiresAt), nanos(u.UpdatedAt), u.ID)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("update user", err)
}

// DeleteUser deletes the user with the given id, its memberships, API keys
// and refresh-token families.
func (p *Postgres) DeleteUser(ctx context.Context, id string) error {
	const q = `DELETE FROM users WHERE id = $1`
	if !storable(id) {
		return writeErr("delete user", store.ErrNotFound)
	}
	res, err := p.db.ExecContext(ctx, q, id)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("delete user", err)
}

// SetPassword replaces the password hash and times of the user id.
func (p *Postgres) SetPassword(ctx context.Context, id, hash string, changedAt time.Time, expiresAt *time.Time) error {
	const q = `UPDATE users SET password_hash = $1, password_changed_at = $2, password_expires_at = $3
		WHERE id = $4`
	if !storable(id) {
		return writeErr("set password", store.ErrNotFound)
	}
	res, err := p.db.ExecContext(ctx, q, hash, nanos(changedAt), nullNanos(expiresAt), id)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("set password", err)
}

// RecordLoginFailure counts a failed login at f.At. Failures before
// f.WindowStart no longer count; when the count reaches f.MaxAttempts the
// account is locked until f.LockUntil and the count starts again. It
// reports whether this failure locked the account.
//
// It is one UPDATE, atomic across nodes: of two concurrent failures of one
// user the second waits for the first's row lock and then computes its SET
// from the row the first committed, so no failure is lost and exactly one
// of them reaches MaxAttempts.
func (p *Postgres) RecordLoginFailure(ctx context.Context, id string, f store.LoginFailure) (bool, error) {
	// SET expressions see the old row, RETURNING the new one: the counter
	// reads 0 after the update exactly when this failure locked the account.
	// $4 is the window start: an older (or no) last failure resets the count.
	const q = `UPDATE users SET
		failed_attempts = CASE WHEN $1::bigint > 0 AND (CASE WHEN last_failed_at >= $4::bigint THEN failed_attempts ELSE 0 END) + 1 >= $1::bigint
			THEN 0 ELSE (CASE WHEN last_failed_at >= $4::bigint THEN failed_attempts ELSE 0 END) + 1 END,
		locked_until = CASE WHEN $1::bigint > 0 AND (CASE WHEN last_failed_at >= $4::bigint THEN failed_attempts ELSE 0 END) + 1 >= $1::bigint
			THEN $2::bigint ELSE locked_until END,
		last_failed_at = $5::bigint
		WHERE id = $3
		RETURNING failed_attempts = 0`
	if !storable(id) {
		return false, writeErr("record login failure", store.ErrNotFound)
	}
	var locked bool
	err := p.db.QueryRowContext(ctx, q, f.MaxAttempts, nanos(f.LockUntil), id, nanos(f.WindowStart), nanos(f.At)).Scan(&locked)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return false, writeErr("record login failure", err)
	}
	return locked, nil
}

// ResetLoginFailures clears the failed-attempt counter and any lock of the
// user id.
func (p *Postgres) ResetLoginFailures(ctx context.Context, id string) error {
	const q = `UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1`
	if !storable(id) {
		return writeErr("reset login failures", store.ErrNotFound)
	}
	res, err := p.db.ExecContext(ctx, q, id)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("reset login failures", err)
}
