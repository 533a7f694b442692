package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// userColumns lists the users columns scanUser reads, in its order.
const userColumns = `id, username, email, first_name, last_name, role, password_hash,
	password_changed_at, password_expires_at, disabled, failed_attempts, locked_until,
	created_at, updated_at`

// scanUser reads one row of userColumns.
func scanUser(r scanner) (User, error) {
	var (
		u                               User
		email                           sql.NullString
		changedAt, createdAt, updatedAt int64
		expiresAt, lockedUntil          sql.NullInt64
	)
	err := r.Scan(&u.ID, &u.Username, &email, &u.FirstName, &u.LastName, &u.Role,
		&u.PasswordHash, &changedAt, &expiresAt, &u.Disabled, &u.FailedAttempts,
		&lockedUntil, &createdAt, &updatedAt)
	if err != nil {
		return User{}, err
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
func scanUsers(rows *sql.Rows, limit int) ([]User, string, error) {
	defer rows.Close()
	users := []User{}
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
func (s *SQLite) CreateUser(ctx context.Context, u User) error {
	const q = `INSERT INTO users (id, username, username_key, email, email_key, first_name,
		last_name, role, password_hash, password_changed_at, password_expires_at, disabled,
		failed_attempts, locked_until, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	email, emailKey := emailArgs(u.Email)
	_, err := s.exec(ctx, q, u.ID, u.Username, foldKey(u.Username), email, emailKey,
		u.FirstName, u.LastName, u.Role, u.PasswordHash, nanos(u.PasswordChangedAt),
		nullNanos(u.PasswordExpiresAt), u.Disabled, u.FailedAttempts,
		nullNanos(u.LockedUntil), nanos(u.CreatedAt), nanos(u.UpdatedAt))
	return writeErr("insert user", err)
}

// GetUser returns the user with the given id.
func (s *SQLite) GetUser(ctx context.Context, id string) (User, error) {
	const q = `SELECT ` + userColumns + ` FROM users WHERE id = ?`
	u, err := scanUser(s.readRow(ctx, q, id))
	if err != nil {
		return User{}, readErr("get user", err)
	}
	return u, nil
}

// GetUserByLogin returns the user whose username or e-mail is login,
// case-insensitively; a username match wins over an e-mail match.
func (s *SQLite) GetUserByLogin(ctx context.Context, login string) (User, error) {
	const q = `SELECT ` + userColumns + ` FROM users
		WHERE username_key = ? OR email_key = ?
		ORDER BY username_key = ? DESC LIMIT 1`
	key := foldKey(login)
	u, err := scanUser(s.readRow(ctx, q, key, key, key))
	if err != nil {
		return User{}, readErr("get user by login", err)
	}
	return u, nil
}

// ListUsers returns a page of the users matching f, ordered by creation.
func (s *SQLite) ListUsers(ctx context.Context, f UserFilter, p Page) ([]User, string, error) {
	const q = `SELECT ` + userColumns + ` FROM users
		WHERE (created_at, id) > (?, ?)
		AND (? = '' OR instr(username_key, ?) > 0 OR instr(email_key, ?) > 0)
		ORDER BY created_at, id LIMIT ?`
	after, afterID, err := decodeCursor(p.After, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	limit := pageLimit(p)
	key := foldKey(f.Query)
	rows, err := s.readRows(ctx, q, after, afterID, key, key, key, limit+1)
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
func (s *SQLite) UpdateUser(ctx context.Context, u User) error {
	const q = `UPDATE users SET username = ?, username_key = ?, email = ?, email_key = ?,
		first_name = ?, last_name = ?, role = ?, disabled = ?, password_expires_at = ?, updated_at = ?
		WHERE id = ?`
	email, emailKey := emailArgs(u.Email)
	res, err := s.exec(ctx, q, u.Username, foldKey(u.Username), email, emailKey,
		u.FirstName, u.LastName, u.Role, u.Disabled, nullNanos(u.PasswordExpiresAt), nanos(u.UpdatedAt), u.ID)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("update user", err)
}

// DeleteUser deletes the user with the given id, its memberships and its
// refresh-token families.
func (s *SQLite) DeleteUser(ctx context.Context, id string) error {
	const q = `DELETE FROM users WHERE id = ?`
	res, err := s.exec(ctx, q, id)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("delete user", err)
}

// SetPassword replaces the password hash and times of the user id.
func (s *SQLite) SetPassword(ctx context.Context, id, hash string, changedAt time.Time, expiresAt *time.Time) error {
	const q = `UPDATE users SET password_hash = ?, password_changed_at = ?, password_expires_at = ?
		WHERE id = ?`
	res, err := s.exec(ctx, q, hash, nanos(changedAt), nullNanos(expiresAt), id)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("set password", err)
}

// RecordLoginFailure counts a failed login at f.At. Failures before
// f.WindowStart no longer count; when the count reaches f.MaxAttempts the
// account is locked until f.LockUntil and the count starts again. It
// reports whether this failure locked the account.
func (s *SQLite) RecordLoginFailure(ctx context.Context, id string, f LoginFailure) (bool, error) {
	// SET expressions see the old row, RETURNING the new one: the counter
	// reads 0 after the update exactly when this failure locked the account.
	// ?4 is the window start: an older last failure resets the count.
	const q = `UPDATE users SET
		failed_attempts = CASE WHEN ?1 > 0 AND (CASE WHEN last_failed_at >= ?4 THEN failed_attempts ELSE 0 END) + 1 >= ?1
			THEN 0 ELSE (CASE WHEN last_failed_at >= ?4 THEN failed_attempts ELSE 0 END) + 1 END,
		locked_until = CASE WHEN ?1 > 0 AND (CASE WHEN last_failed_at >= ?4 THEN failed_attempts ELSE 0 END) + 1 >= ?1
			THEN ?2 ELSE locked_until END,
		last_failed_at = ?5
		WHERE id = ?3
		RETURNING failed_attempts = 0`
	var locked bool
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, q, f.MaxAttempts, nanos(f.LockUntil), id, nanos(f.WindowStart), nanos(f.At)).Scan(&locked)
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return false, writeErr("record login failure", err)
	}
	return locked, nil
}

// ResetLoginFailures clears the failed-attempt counter and any lock of the
// user id.
func (s *SQLite) ResetLoginFailures(ctx context.Context, id string) error {
	const q = `UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = ?`
	res, err := s.exec(ctx, q, id)
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("reset login failures", err)
}
