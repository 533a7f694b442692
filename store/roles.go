package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// scanRole reads one row of name, code and scopes.
func scanRole(r scanner) (Role, error) {
	var (
		role   Role
		scopes string
	)
	if err := r.Scan(&role.Name, &role.Code, &scopes); err != nil {
		return Role{}, err
	}
	role.Scopes = strings.Fields(scopes)
	if role.Scopes == nil {
		role.Scopes = []string{}
	}
	return role, nil
}

// GetRole returns the role with the given name.
func (s *SQLite) GetRole(ctx context.Context, name string) (Role, error) {
	const q = `SELECT name, code, scopes FROM roles WHERE name = ?`
	r, err := scanRole(s.readRow(ctx, q, name))
	if err != nil {
		return Role{}, readErr("get role", err)
	}
	return r, nil
}

// ListRoles returns every role, ordered by name.
func (s *SQLite) ListRoles(ctx context.Context) ([]Role, error) {
	const q = `SELECT name, code, scopes FROM roles ORDER BY name`
	rows, err := s.readRows(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	defer rows.Close()
	roles := []Role{}
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
func (s *SQLite) PutRole(ctx context.Context, r Role) (bool, error) {
	const (
		qUpdate = `UPDATE roles SET code = ?, scopes = ? WHERE name = ?`
		qInsert = `INSERT INTO roles (name, code, scopes) VALUES (?, ?, ?)`
	)
	scopes := strings.Join(r.Scopes, " ")
	var created bool
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, qUpdate, r.Code, scopes, r.Name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		created = true
		_, err = tx.ExecContext(ctx, qInsert, r.Name, r.Code, scopes)
		return err
	})
	if err != nil {
		return false, writeErr("put role", err)
	}
	return created, nil
}

// DeleteRole deletes the role with the given name. It returns ErrInUse while
// users hold the role.
func (s *SQLite) DeleteRole(ctx context.Context, name string) error {
	const q = `DELETE FROM roles WHERE name = ?`
	res, err := s.exec(ctx, q, name)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("delete role: %w: %w", ErrInUse, err)
	}
	if err == nil {
		err = mustAffect(res)
	}
	return writeErr("delete role", err)
}
