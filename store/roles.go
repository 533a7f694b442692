package store

import (
	"context"
	"fmt"
	"strings"
)

// roleColumns lists the roles columns scanRole reads, in its order.
const roleColumns = `name, code, scopes, mfa_required`

// scanRole reads one row of roleColumns.
func scanRole(r scanner) (Role, error) {
	var row roleRow
	if err := r.Scan(row.dest()...); err != nil {
		return Role{}, err
	}
	return row.role(), nil
}

// roleRow holds a row of roleColumns as scanned, for scans of joined rows.
type roleRow struct {
	r      Role
	scopes string
}

// dest returns the Scan destinations of roleColumns, in order.
func (r *roleRow) dest() []any {
	return []any{&r.r.Name, &r.r.Code, &r.scopes, &r.r.MFARequired}
}

// role returns the scanned role.
func (r *roleRow) role() Role {
	role := r.r
	role.Scopes = strings.Fields(r.scopes)
	if role.Scopes == nil {
		role.Scopes = []string{}
	}
	return role
}

// GetRole returns the role with the given name.
func (s *DB) GetRole(ctx context.Context, name string) (Role, error) {
	const q = `SELECT ` + roleColumns + ` FROM roles WHERE name = ?`
	return getBy(ctx, s, "get role", q, scanRole, name)
}

// ListRoles returns every role, ordered by name (bytewise).
func (s *DB) ListRoles(ctx context.Context) ([]Role, error) {
	const q = `SELECT ` + roleColumns + ` FROM roles ORDER BY name`
	rows, err := s.readRows(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	roles, err := scanAll(rows, scanRole)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return roles, nil
}

// PutRole creates or replaces the role r.Name and reports whether it was
// created. Scopes are stored space-separated, so a scope holds no space.
// The INSERT does nothing when the role exists, rather than failing, so
// nodes bootstrapping the same role at once do not conflict: PostgreSQL's
// waits for a concurrent insert of the name to commit.
func (s *DB) PutRole(ctx context.Context, r Role) (bool, error) {
	const (
		qInsert = `INSERT INTO roles (name, code, scopes, mfa_required) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`
		qUpdate = `UPDATE roles SET code = ?, scopes = ?, mfa_required = ? WHERE name = ?`
	)
	scopes := strings.Join(r.Scopes, " ")
	var created bool
	err := s.inTx(ctx, func(tx tx) error {
		res, err := tx.exec(ctx, qInsert, r.Name, r.Code, scopes, r.MFARequired)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			created = n > 0
			return err
		}
		_, err = tx.exec(ctx, qUpdate, r.Code, scopes, r.MFARequired, r.Name)
		return err
	})
	if err != nil {
		return false, s.writeErr("put role", err)
	}
	return created, nil
}

// DeleteRole deletes the role with the given name. It returns ErrInUse while
// users hold the role.
func (s *DB) DeleteRole(ctx context.Context, name string) error {
	const q = `DELETE FROM roles WHERE name = ?`
	if !s.storable(name) {
		return s.writeErr("delete role", ErrNotFound)
	}
	res, err := s.exec(ctx, q, name)
	if s.violation(err) == foreignKeyViolation {
		return fmt.Errorf("delete role: %w: %w", ErrInUse, err)
	}
	if err == nil {
		err = mustAffect(res)
	}
	return s.writeErr("delete role", err)
}
