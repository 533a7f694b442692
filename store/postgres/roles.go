package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/gatehouse-auth/gatehouse/store"
)

// scanRole reads one row of name, code and scopes.
func scanRole(r scanner) (store.Role, error) {
	var (
		role   store.Role
		scopes string
	)
	if err := r.Scan(&role.Name, &role.Code, &scopes); err != nil {
		return store.Role{}, err
	}
	role.Scopes = strings.Fields(scopes)
	if role.Scopes == nil {
		role.Scopes = []string{}
	}
	return role, nil
}

// GetRole returns the role with the given name.
func (p *Postgres) GetRole(ctx context.Context, name string) (store.Role, error) {
	const q = `SELECT name, code, scopes FROM roles WHERE name = $1`
	if !storable(name) {
		return store.Role{}, readErr("get role", sql.ErrNoRows)
	}
	r, err := scanRole(p.db.QueryRowContext(ctx, q, name))
	if err != nil {
		return store.Role{}, readErr("get role", err)
	}
	return r, nil
}

// ListRoles returns every role, ordered by name (bytewise).
func (p *Postgres) ListRoles(ctx context.Context) ([]store.Role, error) {
	const q = `SELECT name, code, scopes FROM roles ORDER BY name`
	rows, err := p.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	defer rows.Close()
	roles := []store.Role{}
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, fmt.Errorf("list roles: %w", err)
		}
		roles = append(roles, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return roles, nil
}

// PutRole creates or replaces the role r.Name and reports whether it was
// created. Scopes are stored space-separated, so a scope holds no space.
// It is one upsert, so nodes bootstrapping the same role at once do not
// conflict; xmax is 0 exactly on a freshly inserted row.
func (p *Postgres) PutRole(ctx context.Context, r store.Role) (bool, error) {
	const q = `INSERT INTO roles (name, code, scopes) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET code = excluded.code, scopes = excluded.scopes
		RETURNING xmax = 0`
	var created bool
	err := p.db.QueryRowContext(ctx, q, r.Name, r.Code, strings.Join(r.Scopes, " ")).Scan(&created)
	if err != nil {
		return false, writeErr("put role", err)
	}
	return created, nil
}

// DeleteRole deletes the role with the given name. It returns ErrInUse while
// users hold the role.
func (p *Postgres) DeleteRole(ctx context.Context, name string) error {
	const q = `DELETE FROM roles WHERE name = $1`
	if !storable(name) {
		return writeErr("delete role", store.ErrNotFound)
	}
	res, err := p.db.ExecContext(ctx, q, name)
	if sqlState(err) == foreignKeyViolation {
		return fmt.Errorf("delete role: %w: %w", store.ErrInUse, err)
	}
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("delete role", err)
}
