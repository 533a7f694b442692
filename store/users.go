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
	created_at, updated_at, email_verified` + userMFAColumn

// userMFAColumn tells whether the user has a confirmed second factor.
const userMFAColumn = `,
	EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = users.id AND f.confirmed_at IS NOT NULL)`

// scanUser reads one row of userColumns.
func scanUser(r scanner) (User, error) {
	var row userRow
	if err := r.Scan(row.dest()...); err != nil {
		return User{}, err
	}
	return row.user(), nil
}

// userRow holds a row of userColumns as scanned, for scans of joined rows.
type userRow struct {
	u                               User
	email                           sql.NullString
	changedAt, createdAt, updatedAt int64
	expiresAt, lockedUntil          sql.NullInt64
}

// dest returns the Scan destinations of userColumns, in order.
func (r *userRow) dest() []any {
	u := &r.u
	return []any{&u.ID, &u.Username, &r.email, &u.FirstName, &u.LastName, &u.Role,
		&u.PasswordHash, &r.changedAt, &r.expiresAt, &u.Disabled, &u.FailedAttempts,
		&r.lockedUntil, &r.createdAt, &r.updatedAt, &u.EmailVerified, &u.MFAEnabled}
}

// user returns the scanned user.
func (r *userRow) user() User {
	u := r.u
	u.Email = r.email.String
	u.PasswordChangedAt = fromNanos(r.changedAt)
	u.PasswordExpiresAt = fromNullNanos(r.expiresAt)
	u.LockedUntil = fromNullNanos(r.lockedUntil)
	u.CreatedAt = fromNanos(r.createdAt)
	u.UpdatedAt = fromNanos(r.updatedAt)
	return u
}

// userKey is a user's sort key, for the cursor of a page of users.
func userKey(u User) (time.Time, string) { return u.CreatedAt, u.ID }

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
func (s *DB) CreateUser(ctx context.Context, u User) error {
	const q = `INSERT INTO users (id, username, username_key, email, email_key, first_name,
		last_name, role, password_hash, password_changed_at, password_expires_at, disabled,
		failed_attempts, locked_until, created_at, updated_at, email_verified)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	email, emailKey := emailArgs(u.Email)
	_, err := s.exec(ctx, q, u.ID, u.Username, foldKey(u.Username), email, emailKey,
		u.FirstName, u.LastName, u.Role, u.PasswordHash, nanos(u.PasswordChangedAt),
		nullNanos(u.PasswordExpiresAt), u.Disabled, u.FailedAttempts,
		nullNanos(u.LockedUntil), nanos(u.CreatedAt), nanos(u.UpdatedAt), u.EmailVerified)
	return s.writeErr("insert user", err)
}

// GetUser returns the user with the given id.
func (s *DB) GetUser(ctx context.Context, id string) (User, error) {
	const q = `SELECT ` + userColumns + ` FROM users WHERE id = ?`
	return getBy(ctx, s, "get user", q, scanUser, id)
}

// GetUserByLogin returns the user whose username or e-mail is login,
// case-insensitively; a username match wins over an e-mail match.
func (s *DB) GetUserByLogin(ctx context.Context, login string) (User, error) {
	const q = `SELECT ` + userColumns + ` FROM users
		WHERE username_key = ?1 OR email_key = ?1
		ORDER BY username_key = ?1 DESC LIMIT 1`
	return getBy(ctx, s, "get user by login", q, scanUser, foldKey(login))
}

// ListUsers returns a page of the users matching f, ordered by creation.
// The query matches a substring of the folded username or e-mail, taken
// literally (no LIKE wildcards).
func (s *DB) ListUsers(ctx context.Context, f UserFilter, p Page) ([]User, string, error) {
	// SQLite's instr is PostgreSQL's strpos: neither engine has the
	// other's name for it.
	const (
		qSQLite = `SELECT ` + userColumns + ` FROM users
			WHERE (created_at, id) > (?1, ?2) AND (?3 = '' OR instr(username_key, ?3) > 0 OR instr(email_key, ?3) > 0)
			ORDER BY created_at, id LIMIT ?4`
		qPostgres = `SELECT ` + userColumns + ` FROM users
			WHERE (created_at, id) > (?1, ?2) AND (?3 = '' OR strpos(username_key, ?3) > 0 OR strpos(email_key, ?3) > 0)
			ORDER BY created_at, id LIMIT ?4`
	)
	q := qSQLite
	if s.postgres {
		q = qPostgres
	}
	after, afterID, limit, err := s.pageStart(p, math.MinInt64)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	key := foldKey(f.Query)
	if !s.storable(key) {
		return []User{}, "", nil // no stored value holds it
	}
	users, next, err := readPage(ctx, s, limit, scanUser, userKey, q, after, afterID, key)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	return users, next, nil
}

// UpdateUser writes every field of u but the password hash, the time it
// was set, the lockout state, the creation time and email_verified, which
// it clears when the e-mail changes (a new address is not yet verified).
func (s *DB) UpdateUser(ctx context.Context, u User) error {
	const q = `UPDATE users SET username = ?1, username_key = ?2,
		email_verified = (email_verified AND email_key IS NOT DISTINCT FROM ?4),
		email = ?3, email_key = ?4,
		first_name = ?5, last_name = ?6, role = ?7, disabled = ?8, password_expires_at = ?9, updated_at = ?10
		WHERE id = ?11`
	if !s.storable(u.ID) {
		return s.writeErr("update user", ErrNotFound)
	}
	email, emailKey := emailArgs(u.Email)
	res, err := s.exec(ctx, q, u.Username, foldKey(u.Username), email, emailKey,
		u.FirstName, u.LastName, u.Role, u.Disabled, nullNanos(u.PasswordExpiresAt), nanos(u.UpdatedAt), u.ID)
	if err == nil {
		err = mustAffect(res)
	}
	return s.writeErr("update user", err)
}

// DeleteUser deletes the user with the given id, its memberships, API keys
// and refresh-token families.
func (s *DB) DeleteUser(ctx context.Context, id string) error {
	const q = `DELETE FROM users WHERE id = ?`
	return s.execOne(ctx, "delete user", q, id)
}

// SetPassword replaces the password hash and times of the user id.
func (s *DB) SetPassword(ctx context.Context, id, hash string, changedAt time.Time, expiresAt *time.Time) error {
	const q = `UPDATE users SET password_hash = ?1, password_changed_at = ?2, password_expires_at = ?3
		WHERE id = ?4`
	if !s.storable(id) {
		return s.writeErr("set password", ErrNotFound)
	}
	res, err := s.exec(ctx, q, hash, nanos(changedAt), nullNanos(expiresAt), id)
	if err == nil {
		err = mustAffect(res)
	}
	return s.writeErr("set password", err)
}

// RecordLoginFailure counts a failed login at f.At. Failures before
// f.WindowStart no longer count; when the count reaches f.MaxAttempts the
// account is locked until f.LockUntil and the count starts again. It
// reports whether this failure locked the account.
//
// It is one UPDATE, atomic across nodes: of two concurrent failures of one
// user the second waits for the first's row lock (on SQLite, for the one
// writer) and then computes its SET from the row the first committed, so no
// failure is lost and exactly one of them reaches MaxAttempts.
func (s *DB) RecordLoginFailure(ctx context.Context, id string, f LoginFailure) (bool, error) {
	// SET expressions see the old row, RETURNING the new one: the counter
	// reads 0 after the update exactly when this failure locked the account.
	// ?4 is the window start: an older (or no) last failure resets the
	// count. The casts give PostgreSQL the parameters' types.
	const q = `UPDATE users SET
		failed_attempts = CASE WHEN CAST(?1 AS BIGINT) > 0 AND (CASE WHEN last_failed_at >= CAST(?4 AS BIGINT) THEN failed_attempts ELSE 0 END) + 1 >= CAST(?1 AS BIGINT)
			THEN 0 ELSE (CASE WHEN last_failed_at >= CAST(?4 AS BIGINT) THEN failed_attempts ELSE 0 END) + 1 END,
		locked_until = CASE WHEN CAST(?1 AS BIGINT) > 0 AND (CASE WHEN last_failed_at >= CAST(?4 AS BIGINT) THEN failed_attempts ELSE 0 END) + 1 >= CAST(?1 AS BIGINT)
			THEN CAST(?2 AS BIGINT) ELSE locked_until END,
		last_failed_at = CAST(?5 AS BIGINT)
		WHERE id = ?3
		RETURNING failed_attempts = 0`
	if !s.storable(id) {
		return false, s.writeErr("record login failure", ErrNotFound)
	}
	var locked bool
	err := s.writeRow(ctx, q, f.MaxAttempts, nanos(f.LockUntil), id, nanos(f.WindowStart), nanos(f.At)).Scan(&locked)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return false, s.writeErr("record login failure", err)
	}
	return locked, nil
}

// ResetLoginFailures clears the failed-attempt counter and any lock of the
// user id.
func (s *DB) ResetLoginFailures(ctx context.Context, id string) error {
	const q = `UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = ?`
	return s.execOne(ctx, "reset login failures", q, id)
}
