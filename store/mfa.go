package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TOTPFactor is a user's RFC 6238 second factor. Secret is opaque to the
// store: the auth service seals it before it gets here.
type TOTPFactor struct {
	UserID      string
	Secret      []byte
	CreatedAt   time.Time
	ConfirmedAt *time.Time // nil: enrolled, not confirmed yet
	LastStep    int64      // the last time step accepted
}

// MFAToken is the second step a password login of a user with a factor
// waits for. Hash is the hex SHA-256 of the token; the token is never
// stored.
type MFAToken struct {
	Hash      string
	UserID    string
	AppID     string
	Scope     string
	CreatedAt time.Time
	ExpiresAt time.Time
	Failures  int
	UsedAt    *time.Time
}

// mfaStore is the part of Store for second factors and secrets at rest.
type mfaStore interface {
	// PutPendingTOTP stores an unconfirmed factor, replacing an
	// unconfirmed one. It returns ErrConflict when the user has a
	// confirmed factor and ErrNotFound when the user does not exist.
	PutPendingTOTP(ctx context.Context, f TOTPFactor) error
	// GetTOTPFactor returns the user's factor, confirmed or not.
	GetTOTPFactor(ctx context.Context, userID string) (TOTPFactor, error)
	// ConfirmTOTP confirms the user's pending factor at step and replaces
	// the user's recovery codes with codeHashes, in one transaction. It
	// returns ErrNotFound when no pending factor exists.
	ConfirmTOTP(ctx context.Context, userID string, step int64, at time.Time, codeHashes []string) error
	// UseTOTPStep records step as the last one accepted of the user's
	// confirmed factor. It returns ErrTokenSpent when a step as late or
	// later was already accepted (a replayed code).
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// DeleteTOTPFactor removes the user's factor and recovery codes. It
	// returns ErrNotFound when there is no factor.
	DeleteTOTPFactor(ctx context.Context, userID string) error
	// ReplaceRecoveryCodes voids every recovery code of the user and
	// stores hashes as the new ones.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, at time.Time) error
	// UseRecoveryCode spends the user's unused code hash. It returns
	// ErrNotFound when there is no such unused code.
	UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) error

	// CreateMFAToken stores t, first deleting mfa tokens expired before
	// t.CreatedAt.
	CreateMFAToken(ctx context.Context, t MFAToken) error
	GetMFAToken(ctx context.Context, hash string) (MFAToken, error)
	// FailMFAToken counts a wrong code against the token and returns its
	// failures so far.
	FailMFAToken(ctx context.Context, hash string) (int, error)
	// SpendMFAToken marks the token used at at. It returns ErrTokenSpent
	// when it was used already or has maxFailures failures.
	SpendMFAToken(ctx context.Context, hash string, maxFailures int, at time.Time) error

	// ReplaceSigningKeyPrivate replaces the stored private key of kid
	// with next if it still is old (sealing plain keys: idempotent, and
	// nodes doing it at once do not undo each other). It reports whether
	// it replaced it.
	ReplaceSigningKeyPrivate(ctx context.Context, kid string, old, next []byte) (bool, error)
	// ListTOTPSecrets returns every stored TOTP secret, opaque, by user
	// id (for re-sealing and for tests that read the raw rows).
	ListTOTPSecrets(ctx context.Context) (map[string][]byte, error)
}

const totpColumns = `user_id, secret, created_at, confirmed_at, last_step`

func scanTOTP(r scanner) (TOTPFactor, error) {
	var (
		f           TOTPFactor
		createdAt   int64
		confirmedAt sql.NullInt64
	)
	if err := r.Scan(&f.UserID, &f.Secret, &createdAt, &confirmedAt, &f.LastStep); err != nil {
		return TOTPFactor{}, err
	}
	f.CreatedAt, f.ConfirmedAt = fromNanos(createdAt), fromNullNanos(confirmedAt)
	return f, nil
}

// PutPendingTOTP stores an unconfirmed factor (see Store).
func (s *DB) PutPendingTOTP(ctx context.Context, f TOTPFactor) error {
	const q = `INSERT INTO totp_factors (user_id, secret, created_at, confirmed_at, last_step)
		VALUES (?1, ?2, ?3, NULL, 0)
		ON CONFLICT (user_id) DO UPDATE SET secret = ?2, created_at = ?3, last_step = 0
		WHERE totp_factors.confirmed_at IS NULL`
	res, err := s.exec(ctx, q, f.UserID, f.Secret, nanos(f.CreatedAt))
	if err == nil {
		if n, aerr := res.RowsAffected(); aerr == nil && n == 0 {
			err = ErrConflict
		}
	}
	return s.writeErr("put pending totp factor", err)
}

// GetTOTPFactor returns the user's factor.
func (s *DB) GetTOTPFactor(ctx context.Context, userID string) (TOTPFactor, error) {
	const q = `SELECT ` + totpColumns + ` FROM totp_factors WHERE user_id = ?`
	return getBy(ctx, s, "get totp factor", q, scanTOTP, userID)
}

// ConfirmTOTP confirms the pending factor and sets the recovery codes.
func (s *DB) ConfirmTOTP(ctx context.Context, userID string, step int64, at time.Time, codeHashes []string) error {
	const q = `UPDATE totp_factors SET confirmed_at = ?, last_step = ?
		WHERE user_id = ? AND confirmed_at IS NULL`
	if !s.storable(userID) {
		return s.writeErr("confirm totp factor", ErrNotFound)
	}
	err := s.inTx(ctx, func(t tx) error {
		res, err := t.exec(ctx, q, nanos(at), step, userID)
		if err != nil {
			return err
		}
		if err := mustAffect(res); err != nil {
			return err
		}
		return replaceRecoveryCodes(ctx, t, userID, codeHashes, at)
	})
	return s.writeErr("confirm totp factor", err)
}

// UseTOTPStep records the last accepted step (see Store).
func (s *DB) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	const q = `UPDATE totp_factors SET last_step = ?
		WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?`
	if !s.storable(userID) {
		return s.writeErr("use totp step", ErrTokenSpent)
	}
	res, err := s.exec(ctx, q, step, userID, step)
	if err == nil {
		if n, aerr := res.RowsAffected(); aerr == nil && n == 0 {
			err = ErrTokenSpent
		}
	}
	return s.writeErr("use totp step", err)
}

// DeleteTOTPFactor removes the factor and the recovery codes.
func (s *DB) DeleteTOTPFactor(ctx context.Context, userID string) error {
	const (
		qFactor = `DELETE FROM totp_factors WHERE user_id = ?`
		qCodes  = `DELETE FROM recovery_codes WHERE user_id = ?`
	)
	if !s.storable(userID) {
		return s.writeErr("delete totp factor", ErrNotFound)
	}
	err := s.inTx(ctx, func(t tx) error {
		res, err := t.exec(ctx, qFactor, userID)
		if err != nil {
			return err
		}
		if err := mustAffect(res); err != nil {
			return err
		}
		_, err = t.exec(ctx, qCodes, userID)
		return err
	})
	return s.writeErr("delete totp factor", err)
}

func replaceRecoveryCodes(ctx context.Context, t tx, userID string, hashes []string, at time.Time) error {
	const (
		qDelete = `DELETE FROM recovery_codes WHERE user_id = ?`
		qInsert = `INSERT INTO recovery_codes (user_id, hash, created_at) VALUES (?, ?, ?)`
	)
	if _, err := t.exec(ctx, qDelete, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := t.exec(ctx, qInsert, userID, h, nanos(at)); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceRecoveryCodes voids the user's codes and stores new ones.
func (s *DB) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, at time.Time) error {
	err := s.inTx(ctx, func(t tx) error { return replaceRecoveryCodes(ctx, t, userID, hashes, at) })
	return s.writeErr("replace recovery codes", err)
}

// UseRecoveryCode spends one unused code.
func (s *DB) UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) error {
	const q = `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL`
	if !s.storableAll(userID, hash) {
		return s.writeErr("use recovery code", ErrNotFound)
	}
	return s.execOne(ctx, "use recovery code", q, nanos(at), userID, hash)
}

// CreateMFAToken stores t, purging expired ones.
func (s *DB) CreateMFAToken(ctx context.Context, t MFAToken) error {
	const (
		qPurge  = `DELETE FROM mfa_tokens WHERE expires_at < ?`
		qInsert = `INSERT INTO mfa_tokens (hash, user_id, app_id, scope, created_at, expires_at, failures, used_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, NULL)`
	)
	err := s.inTx(ctx, func(tx tx) error {
		if _, err := tx.exec(ctx, qPurge, nanos(t.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, qInsert, t.Hash, t.UserID, t.AppID, t.Scope, nanos(t.CreatedAt), nanos(t.ExpiresAt))
		return err
	})
	return s.writeErr("insert mfa token", err)
}

// GetMFAToken returns the token with the given hash.
func (s *DB) GetMFAToken(ctx context.Context, hash string) (MFAToken, error) {
	const q = `SELECT hash, user_id, app_id, scope, created_at, expires_at, failures, used_at
		FROM mfa_tokens WHERE hash = ?`
	return getBy(ctx, s, "get mfa token", q, func(r scanner) (MFAToken, error) {
		var (
			t                    MFAToken
			createdAt, expiresAt int64
			usedAt               sql.NullInt64
		)
		if err := r.Scan(&t.Hash, &t.UserID, &t.AppID, &t.Scope, &createdAt, &expiresAt, &t.Failures, &usedAt); err != nil {
			return MFAToken{}, err
		}
		t.CreatedAt, t.ExpiresAt, t.UsedAt = fromNanos(createdAt), fromNanos(expiresAt), fromNullNanos(usedAt)
		return t, nil
	}, hash)
}

// FailMFAToken counts a wrong code.
func (s *DB) FailMFAToken(ctx context.Context, hash string) (int, error) {
	const q = `UPDATE mfa_tokens SET failures = failures + 1 WHERE hash = ? RETURNING failures`
	if !s.storable(hash) {
		return 0, s.writeErr("fail mfa token", ErrNotFound)
	}
	var n int
	err := s.writeRow(ctx, q, hash).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return 0, s.writeErr("fail mfa token", err)
	}
	return n, nil
}

// SpendMFAToken marks the token used (see Store).
func (s *DB) SpendMFAToken(ctx context.Context, hash string, maxFailures int, at time.Time) error {
	const q = `UPDATE mfa_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL AND failures < ?`
	if !s.storable(hash) {
		return s.writeErr("spend mfa token", ErrTokenSpent)
	}
	res, err := s.exec(ctx, q, nanos(at), hash, maxFailures)
	if err == nil {
		if n, aerr := res.RowsAffected(); aerr == nil && n == 0 {
			err = ErrTokenSpent
		}
	}
	return s.writeErr("spend mfa token", err)
}

// ReplaceSigningKeyPrivate replaces kid's private key if it still is old.
func (s *DB) ReplaceSigningKeyPrivate(ctx context.Context, kid string, old, next []byte) (bool, error) {
	const q = `UPDATE signing_keys SET private_key = ? WHERE kid = ? AND private_key = ?`
	res, err := s.exec(ctx, q, next, kid, old)
	if err != nil {
		return false, s.writeErr("replace signing key", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ListTOTPSecrets returns every stored TOTP secret by user id.
func (s *DB) ListTOTPSecrets(ctx context.Context) (map[string][]byte, error) {
	const q = `SELECT user_id, secret FROM totp_factors`
	rows, err := s.readRows(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list totp secrets: %w", err)
	}
	type row struct {
		id     string
		secret []byte
	}
	all, err := scanAll(rows, func(r scanner) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.secret)
	})
	if err != nil {
		return nil, fmt.Errorf("list totp secrets: %w", err)
	}
	out := make(map[string][]byte, len(all))
	for _, x := range all {
		out[x.id] = x.secret
	}
	return out, nil
}
