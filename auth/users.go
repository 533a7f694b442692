package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/store"
)

// PolicyError is a password or user that the rules refuse. Field names the
// request field at fault.
type PolicyError struct {
	Field  string
	Reason string
}

func (e *PolicyError) Error() string { return e.Field + ": " + e.Reason }

// checkPassword applies the password policy.
func (s *Service) checkNewPassword(field, password, username string) error {
	switch {
	case len(password) > MaxPasswordBytes:
		return &PolicyError{field, fmt.Sprintf("must be at most %d bytes", MaxPasswordBytes)}
	case utf8.RuneCountInString(password) < s.cfg.MinPasswordLength:
		return &PolicyError{field, fmt.Sprintf("must be at least %d characters", s.cfg.MinPasswordLength)}
	case username != "" && strings.EqualFold(password, username):
		return &PolicyError{field, "must not be the username"}
	}
	return nil
}

// NewUser is a user to create.
type NewUser struct {
	Username, Password, Email, FirstName, LastName, Role string
	// PasswordHash, when set, is stored as is instead of hashing Password
	// (imports of argon2id or bcrypt hashes).
	PasswordHash string
	// EmailVerified creates the user with its address verified.
	EmailVerified bool
	// Invite mails the user an invitation to set a password; Password may
	// then be "", and the user cannot log in until it sets one.
	Invite bool
}

// CreateUser checks the password policy, hashes the password and stores
// the user. An unknown role is a PolicyError; a taken username or e-mail
// is store.ErrConflict.
func (s *Service) CreateUser(ctx context.Context, n NewUser, actor string, cl Origin) (store.User, error) {
	if n.Invite && n.Email == "" {
		return store.User{}, &PolicyError{"email", "is required for an invitation"}
	}
	if !n.Invite && n.Password == "" && n.PasswordHash == "" {
		return store.User{}, &PolicyError{"password", "is required unless invite is true"}
	}
	if n.Invite {
		// Refused before the user is written: it could never accept.
		if err := s.canInvite(ctx, actor, "", cl); err != nil {
			return store.User{}, err
		}
	}
	u, err := s.insertUser(ctx, n)
	if err != nil {
		return store.User{}, err
	}
	s.Audit(ctx, cl.event("user.create", "success", actor, u.ID, ""))
	if n.Invite {
		return u, s.invite(ctx, u, actor, cl)
	}
	return u, nil
}

// insertUser checks and stores a new user, for CreateUser and Signup.
func (s *Service) insertUser(ctx context.Context, n NewUser) (store.User, error) {
	if n.Role == "" {
		n.Role = RoleUser
	}
	hash := n.PasswordHash
	if hash != "" {
		if err := CheckHashFormat(hash); err != nil {
			return store.User{}, &PolicyError{"password_hash", err.Error()}
		}
	} else if !n.Invite || n.Password != "" {
		if err := s.checkNewPassword("password", n.Password, n.Username); err != nil {
			return store.User{}, err
		}
		var err error
		if hash, err = s.hasher.Hash(ctx, n.Password); err != nil {
			return store.User{}, err
		}
	}
	if _, err := s.st.GetRole(ctx, n.Role); errors.Is(err, store.ErrNotFound) {
		return store.User{}, &PolicyError{"role", "no such role"}
	} else if err != nil {
		return store.User{}, fmt.Errorf("get role: %w", err)
	}
	id, err := s.newID()
	if err != nil {
		return store.User{}, err
	}
	now := s.now()
	u := store.User{
		ID: id, Username: n.Username, Email: n.Email,
		FirstName: n.FirstName, LastName: n.LastName, Role: n.Role,
		PasswordHash: hash, PasswordChangedAt: now, EmailVerified: n.EmailVerified,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := s.st.CreateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// UpdateUser stores u's profile fields, its disabled state and its
// password expiry; before is the user as the caller read it, for the
// audit event to say what changed. Disabling a user revokes its refresh
// tokens.
func (s *Service) UpdateUser(ctx context.Context, before, u store.User, actor string, cl Origin) (store.User, error) {
	if _, err := s.st.GetRole(ctx, u.Role); errors.Is(err, store.ErrNotFound) {
		return store.User{}, &PolicyError{"role", "no such role"}
	} else if err != nil {
		return store.User{}, fmt.Errorf("get role: %w", err)
	}
	u.UpdatedAt = s.now()
	if err := s.st.UpdateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	if u.Disabled {
		if err := s.endSessions(ctx, u.ID, "", actor, "user disabled", cl); err != nil {
			return store.User{}, err
		}
	}
	s.Audit(ctx, cl.event("user.update", "success", actor, u.ID, userChanges(before, u)))
	return u, nil
}

// userChanges says what an update changed, for the audit log: the role
// with its old and new names, disabled or enabled, and the names of the
// other fields changed (their values, personal data, stay out of it).
func userChanges(before, after store.User) string {
	var changes []string
	if before.Role != after.Role {
		changes = append(changes, "role "+before.Role+" -> "+after.Role)
	}
	if before.Disabled != after.Disabled {
		changes = append(changes, map[bool]string{true: "disabled", false: "enabled"}[after.Disabled])
	}
	for _, f := range []struct {
		name    string
		changed bool
	}{
		{"email", before.Email != after.Email},
		{"email_verified", before.EmailVerified != after.EmailVerified},
		{"first_name", before.FirstName != after.FirstName},
		{"last_name", before.LastName != after.LastName},
		{"password_expires_at", !equalTimes(before.PasswordExpiresAt, after.PasswordExpiresAt)},
	} {
		if f.changed {
			changes = append(changes, f.name)
		}
	}
	return strings.Join(changes, ", ")
}

// equalTimes reports whether a and b are both unset or the same instant.
func equalTimes(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// DeleteUser removes a user and, through the store's cascade, its tokens.
func (s *Service) DeleteUser(ctx context.Context, id, actor string, cl Origin) error {
	if err := s.st.DeleteUser(ctx, id); err != nil {
		return err
	}
	s.Audit(ctx, cl.event("user.delete", "success", actor, id, ""))
	return nil
}

// ChangePassword replaces a user's password after checking the current
// one, and ends the user's sessions but sid, the caller's own ("" when
// the caller has none). An expired current password is accepted:
// changing it is the way out. A wrong current password is a PolicyError
// on current_password.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next, sid string, cl Origin) error {
	u, err := s.st.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, current, u.PasswordHash)
	if err != nil && !errors.Is(err, ErrPasswordTooLong) {
		return err
	}
	if !ok {
		s.Audit(ctx, cl.event("user.password", "failure", u.ID, u.ID, "wrong current password"))
		return &PolicyError{"current_password", "is not the current password"}
	}
	if current == next {
		return &PolicyError{"new_password", "must differ from the current password"}
	}
	return s.setPassword(ctx, u, "new_password", next, u.ID, sid, cl)
}

// SetPassword is an administrator's reset of a user's password; it ends
// every session of the user.
func (s *Service) SetPassword(ctx context.Context, userID, password, actor string, cl Origin) error {
	u, err := s.st.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, u, "new_password", password, actor, "", cl)
}

// setPassword sets u's password and ends its sessions but keep.
func (s *Service) setPassword(ctx context.Context, u store.User, field, password, actor, keep string, cl Origin) error {
	if err := s.checkNewPassword(field, password, u.Username); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.st.SetPassword(ctx, u.ID, hash, now, nil); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := s.endSessions(ctx, u.ID, keep, actor, "password changed", cl); err != nil {
		return err
	}
	s.Audit(ctx, cl.event("user.password", "success", actor, u.ID, ""))
	return nil
}

// PutRole creates or replaces a role. The built-in admin role's scopes
// are every scope of the API and cannot be narrowed.
func (s *Service) PutRole(ctx context.Context, r store.Role, actor string, cl Origin) (store.Role, bool, error) {
	if r.Name == RoleAdmin {
		r.Scopes = s.cfg.AdminScopes
	}
	created, err := s.st.PutRole(ctx, r)
	if err != nil {
		return store.Role{}, false, err
	}
	s.Audit(ctx, cl.event("role.put", "success", actor, r.Name, ""))
	return r, created, nil
}

// DeleteRole deletes a role that no user holds. The built-in roles stay.
func (s *Service) DeleteRole(ctx context.Context, name, actor string, cl Origin) error {
	if name == RoleAdmin || name == RoleUser {
		return fmt.Errorf("built-in role %s: %w", name, store.ErrInUse)
	}
	if err := s.st.DeleteRole(ctx, name); err != nil {
		return err
	}
	s.Audit(ctx, cl.event("role.delete", "success", actor, name, ""))
	return nil
}
