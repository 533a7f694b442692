package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/store"
)

// The built-in roles. RoleAdmin holds every scope the API defines.
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// Default lifetimes of the default application's tokens.
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
)

// Admin names the administrator Bootstrap makes sure exists.
type Admin struct {
	Username string
	Password string
}

// Bootstrap prepares a migrated database for use: the built-in roles
// (their scopes refreshed, so an upgrade's new scopes reach admins), the
// default application and active signing keys, loaded.
func (s *Service) Bootstrap(ctx context.Context) error {
	for _, r := range []store.Role{
		{Name: RoleAdmin, Code: 1, Scopes: s.cfg.AdminScopes},
		{Name: RoleUser, Code: 2, Scopes: s.cfg.UserScopes},
	} {
		if existing, err := s.st.GetRole(ctx, r.Name); err == nil {
			r.Code = existing.Code
		}
		if _, err := s.st.PutRole(ctx, r); err != nil {
			return fmt.Errorf("put role %s: %w", r.Name, err)
		}
	}
	if _, err := s.st.DefaultApplication(ctx); errors.Is(err, store.ErrNotFound) {
		id, err := s.newID()
		if err != nil {
			return err
		}
		app := store.Application{
			ID: id, Name: "default", Audience: id, IsDefault: true, CreatedAt: s.now(),
			AccessTokenTTL: DefaultAccessTokenTTL, RefreshTokenTTL: DefaultRefreshTokenTTL,
			ClientType: store.ClientPublic, FirstParty: true,
		}
		if err := s.st.CreateApplication(ctx, app); err != nil {
			return fmt.Errorf("create default application: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("get default application: %w", err)
	}
	if err := s.ReloadOwnAudience(ctx); err != nil {
		return err
	}
	if err := s.SealStoredSecrets(ctx); err != nil {
		return err
	}
	if err := s.EnsureSigningKeys(ctx); err != nil {
		return err
	}
	return s.SyncRevocations(ctx)
}

// EnsureAdmin makes sure the administrator exists. With a password given,
// it creates that user or makes it an enabled admin (its password is left
// as it is, and a warning logged when the given one differs: a restart
// with another GATEHOUSE_ADMIN_PASSWORD must not look as if it had taken
// effect). With none given and no user at all, it creates admin.Username
// (default "admin") with a random password and returns that password, so
// it can be shown once.
func (s *Service) EnsureAdmin(ctx context.Context, admin Admin) (generatedPassword string, err error) {
	if admin.Username == "" {
		admin.Username = "admin"
	}
	cl := Origin{Dialect: "bootstrap"}
	if admin.Password != "" {
		u, err := s.st.GetUserByLogin(ctx, admin.Username)
		switch {
		case errors.Is(err, store.ErrNotFound):
			_, err = s.CreateUser(ctx, NewUser{Username: admin.Username, Password: admin.Password, Role: RoleAdmin, EmailVerified: true}, "", cl)
			return "", err
		case err != nil:
			return "", fmt.Errorf("get admin: %w", err)
		}
		if ok, _, err := s.hasher.Verify(ctx, admin.Password, u.PasswordHash); err != nil {
			return "", fmt.Errorf("check admin password: %w", err)
		} else if !ok {
			s.cfg.Logger.WarnContext(ctx, "the administrator exists with another password, which is kept: the admin password is used only to create the user; change it with POST /v1/me/password",
				"username", u.Username)
		}
		if u.Role != RoleAdmin || u.Disabled {
			before := u
			u.Role, u.Disabled = RoleAdmin, false
			_, err = s.UpdateUser(ctx, before, u, "", cl)
			return "", err
		}
		return "", nil
	}
	users, _, err := s.st.ListUsers(ctx, store.UserFilter{}, store.Page{Limit: 1})
	if err != nil || len(users) > 0 {
		return "", err
	}
	password, err := s.randomToken(18)
	if err != nil {
		return "", err
	}
	if _, err := s.CreateUser(ctx, NewUser{Username: admin.Username, Password: password, Role: RoleAdmin, EmailVerified: true}, "", cl); err != nil {
		return "", err
	}
	return password, nil
}

// DefaultUserScopes are the built-in user role's: its own profile and API keys.
var DefaultUserScopes = []string{"profile", "api_keys"}
