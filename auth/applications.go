package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse-auth/gatehouse/store"
)

// Applications and their members. Every change is audited, with who made
// it and what it changed; removing a member or deleting an application
// ends the sessions it no longer allows, on every node (the revocation
// log), as other session ends do.

// ApplicationChange holds the fields of an application to set; a nil
// field is left as it is (at creation: its default).
type ApplicationChange struct {
	Name                            *string
	Audience                        *string
	AccessTokenTTL, RefreshTokenTTL *time.Duration
	// Scopes are what the application may ask for with the
	// client_credentials grant; duplicates are dropped, order kept.
	Scopes *[]string
	// RedirectURIs and PostLogoutRedirectURIs are checked by
	// CheckRedirectURI; duplicates are dropped, order kept.
	RedirectURIs, PostLogoutRedirectURIs *[]string
	// ClientType is store.ClientPublic or store.ClientConfidential; an
	// application holding credentials cannot be made public.
	ClientType *string
	FirstParty *bool
}

// apply sets c's fields on a, checking them.
func (c ApplicationChange) apply(a *store.Application) error {
	if c.Name != nil {
		a.Name = *c.Name
	}
	if c.Audience != nil {
		a.Audience = *c.Audience
	}
	if c.AccessTokenTTL != nil {
		a.AccessTokenTTL = *c.AccessTokenTTL
	}
	if c.RefreshTokenTTL != nil {
		a.RefreshTokenTTL = *c.RefreshTokenTTL
	}
	if c.Scopes != nil {
		scopes := []string{}
		for i, sc := range *c.Scopes {
			if !ValidApplicationScope(sc) {
				return &PolicyError{"scopes." + strconv.Itoa(i), "is not a scope name ([a-z0-9:._-]+)"}
			}
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
		a.Scopes = scopes
	}
	if c.RedirectURIs != nil {
		uris, err := redirectURIs("redirect_uris", *c.RedirectURIs)
		if err != nil {
			return err
		}
		a.RedirectURIs = uris
	}
	if c.PostLogoutRedirectURIs != nil {
		uris, err := redirectURIs("post_logout_redirect_uris", *c.PostLogoutRedirectURIs)
		if err != nil {
			return err
		}
		a.PostLogoutRedirectURIs = uris
	}
	if c.ClientType != nil {
		if *c.ClientType != store.ClientPublic && *c.ClientType != store.ClientConfidential {
			return &PolicyError{"client_type", "must be public or confidential"}
		}
		a.ClientType = *c.ClientType
	}
	if c.FirstParty != nil {
		a.FirstParty = *c.FirstParty
	}
	return nil
}

// redirectURIs checks the redirect URIs of field, dropping duplicates.
func redirectURIs(field string, given []string) ([]string, error) {
	uris := []string{}
	for i, u := range given {
		if err := CheckRedirectURI(u); err != nil {
			return nil, &PolicyError{field + "." + strconv.Itoa(i), err.Error()}
		}
		if !slices.Contains(uris, u) {
			uris = append(uris, u)
		}
	}
	return uris, nil
}

// CheckRedirectURI checks a URI an application registers to have the
// browser sent back to: an absolute https URI, or http on a loopback host
// or localhost (RFC 8252 §7.3), with no user information, no fragment
// (RFC 6749 §3.1.2) and no wildcard, as it is matched as an exact string
// (RFC 9700 §2.1, §4.1.3).
func CheckRedirectURI(raw string) error {
	if strings.Contains(raw, "*") || strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return errors.New("must not hold a wildcard, a space or a control character")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return errors.New("is not an absolute URI with a host")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment")
	case u.User != nil:
		return errors.New("must not hold user information")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
		return nil
	}
	return errors.New("must be https, or http on a loopback host or localhost")
}

// loopbackHost reports whether host names this machine: localhost or a
// loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// CreateApplication creates an application from c; its audience defaults
// to its id, its lifetimes to DefaultAccessTokenTTL and
// DefaultRefreshTokenTTL. A taken name is store.ErrConflict.
func (s *Service) CreateApplication(ctx context.Context, c ApplicationChange, actor string, cl Origin) (store.Application, error) {
	id, err := s.newID()
	if err != nil {
		return store.Application{}, err
	}
	a := store.Application{
		ID: id, Audience: id, CreatedAt: s.now(), Scopes: []string{},
		AccessTokenTTL: DefaultAccessTokenTTL, RefreshTokenTTL: DefaultRefreshTokenTTL,
		RedirectURIs: []string{}, PostLogoutRedirectURIs: []string{}, ClientType: store.ClientPublic,
	}
	if err := c.apply(&a); err != nil {
		return store.Application{}, err
	}
	if err := s.st.CreateApplication(ctx, a); err != nil {
		return store.Application{}, err
	}
	s.Audit(ctx, cl.event("application.create", "success", actor, a.ID, "name "+strconv.Quote(a.Name)))
	return a, nil
}

// UpdateApplication sets c's fields on the application id. A change to the
// default application's audience, gatehouse's own, takes effect on this
// node at once and on the others at their next key reload.
func (s *Service) UpdateApplication(ctx context.Context, id string, c ApplicationChange, actor string, cl Origin) (store.Application, error) {
	before, err := s.st.GetApplication(ctx, id)
	if err != nil {
		return store.Application{}, err
	}
	a := before
	if err := c.apply(&a); err != nil {
		return store.Application{}, err
	}
	if before.Confidential() && !a.Confidential() {
		if held, err := s.holdsCredentials(ctx, id); err != nil {
			return store.Application{}, err
		} else if held {
			return store.Application{}, &PolicyError{"client_type", "cannot be public while the application holds a secret or a JWK Set"}
		}
	}
	if err := s.st.UpdateApplication(ctx, a); err != nil {
		return store.Application{}, err
	}
	s.Audit(ctx, cl.event("application.update", "success", actor, a.ID, applicationChanges(before, a)))
	if a.IsDefault {
		if err := s.ReloadOwnAudience(ctx); err != nil {
			return store.Application{}, err
		}
	}
	return a, nil
}

// holdsCredentials reports whether the application was issued client
// credentials: a secret, expired or not, or a JWK Set with keys.
func (s *Service) holdsCredentials(ctx context.Context, appID string) (bool, error) {
	secrets, err := s.st.ListApplicationSecrets(ctx, appID)
	if err != nil || len(secrets) > 0 {
		return len(secrets) > 0, err
	}
	keys, err := s.ApplicationJWKS(ctx, appID)
	return len(keys) > 0, err
}

// applicationChanges says what an update changed, for the audit log.
func applicationChanges(before, after store.Application) string {
	var changes []string
	if before.Name != after.Name {
		changes = append(changes, "name "+strconv.Quote(before.Name)+" -> "+strconv.Quote(after.Name))
	}
	if before.Audience != after.Audience {
		changes = append(changes, "audience "+strconv.Quote(before.Audience)+" -> "+strconv.Quote(after.Audience))
	}
	if before.AccessTokenTTL != after.AccessTokenTTL {
		changes = append(changes, fmt.Sprintf("access_token_ttl %s -> %s", before.AccessTokenTTL, after.AccessTokenTTL))
	}
	if before.RefreshTokenTTL != after.RefreshTokenTTL {
		changes = append(changes, fmt.Sprintf("refresh_token_ttl %s -> %s", before.RefreshTokenTTL, after.RefreshTokenTTL))
	}
	for _, l := range []struct {
		name          string
		before, after []string
	}{
		{"scopes", before.Scopes, after.Scopes},
		{"redirect_uris", before.RedirectURIs, after.RedirectURIs},
		{"post_logout_redirect_uris", before.PostLogoutRedirectURIs, after.PostLogoutRedirectURIs},
	} {
		if !slices.Equal(l.before, l.after) {
			changes = append(changes, l.name+" ["+strings.Join(l.before, " ")+"] -> ["+strings.Join(l.after, " ")+"]")
		}
	}
	if before.ClientType != after.ClientType {
		changes = append(changes, "client_type "+before.ClientType+" -> "+after.ClientType)
	}
	if before.FirstParty != after.FirstParty {
		changes = append(changes, fmt.Sprintf("first_party %t -> %t", before.FirstParty, after.FirstParty))
	}
	return strings.Join(changes, ", ")
}

// DeleteApplication deletes an application other than the default one
// (store.ErrInUse), with its members and secrets, and ends its sessions.
func (s *Service) DeleteApplication(ctx context.Context, id, actor string, cl Origin) error {
	now := s.now()
	until := s.sessionKeepUntil(now)
	ended, err := s.st.DeleteApplication(ctx, id, now, until)
	if err != nil {
		return err
	}
	s.sessionsEnded(ended, until)
	s.Audit(ctx, cl.event("application.delete", "success", actor, id, fmt.Sprintf("%d sessions ended", len(ended))))
	return nil
}

// AddMember lets the user log in to the application; adding a member again
// changes nothing and is no error. An unknown user or application is
// store.ErrNotFound.
func (s *Service) AddMember(ctx context.Context, appID, userID, actor string, cl Origin) error {
	err := s.st.AddMember(ctx, appID, userID)
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return err
	}
	s.Audit(ctx, cl.event("application.member.add", "success", actor, userID, "application "+appID))
	return nil
}

// RemoveMember stops the user from logging in to the application and ends
// its sessions of it: a refresh continues a login, so it must stop when a
// login would. A user who is not a member is store.ErrNotFound.
func (s *Service) RemoveMember(ctx context.Context, appID, userID, actor string, cl Origin) error {
	now := s.now()
	until := s.sessionKeepUntil(now)
	ended, err := s.st.RemoveMember(ctx, appID, userID, now, until)
	if err != nil {
		return err
	}
	s.sessionsEnded(ended, until)
	s.Audit(ctx, cl.event("application.member.remove", "success", actor, userID,
		fmt.Sprintf("application %s, %d sessions ended", appID, len(ended))))
	return nil
}

var applicationScopeRE = regexp.MustCompile(`^[a-z0-9:._-]+$`)

// ValidApplicationScope reports whether s may be one of an application's
// scopes.
func ValidApplicationScope(s string) bool { return len(s) <= 128 && applicationScopeRE.MatchString(s) }
