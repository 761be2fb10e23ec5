package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/tenants"
)

// bumpGeneration counts a registry change, in the change's transaction:
// every node's cache polls the number and reloads when it moves.
const bumpGeneration = `UPDATE registry_generation SET gen = gen + 1 WHERE id = 1`

var errTenantNotFound = orders.Errorf(orders.CodeNotFound, "no such tenant")

// registryWrite runs fn in a write transaction that also bumps the
// registry's generation.
func (s *Store) registryWrite(ctx context.Context, op string, fn writeFn) error {
	defer s.timed(op, time.Now())
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, s.d.q(bumpGeneration))
		return err
	})
}

// CreateTenant registers a tenant; conflict when the id is taken.
func (s *Store) CreateTenant(ctx context.Context, t tenants.Tenant, now time.Time) (tenants.Tenant, error) {
	if err := tenants.CheckID(t.ID); err != nil {
		return tenants.Tenant{}, err
	}
	if err := checkText(t.Name); err != nil {
		return tenants.Tenant{}, err
	}
	if err := t.Settings.Validate(); err != nil {
		return tenants.Tenant{}, err
	}
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return tenants.Tenant{}, fmt.Errorf("encode settings: %w", err)
	}
	t.CreatedAt, t.UpdatedAt = stamp(now), stamp(now)
	err = s.registryWrite(ctx, "create_tenant", func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, s.d.q(`INSERT INTO tenants (id, name, settings, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
			t.ID, t.Name, string(settings), s.d.timeArg(t.CreatedAt), s.d.timeArg(t.UpdatedAt))
		if err != nil {
			return fmt.Errorf("create tenant: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, orders.Errorf(orders.CodeConflict, "tenant %q exists", t.ID))
		}
		return nil
	})
	return t, err
}

// Tenant returns one tenant.
func (s *Store) Tenant(ctx context.Context, id string) (tenants.Tenant, error) {
	list, err := s.listTenants(ctx, s.r, `WHERE id = ?`, id)
	if err != nil {
		return tenants.Tenant{}, err
	}
	if len(list) == 0 {
		return tenants.Tenant{}, errTenantNotFound
	}
	return list[0], nil
}

// Tenants lists every tenant by id.
func (s *Store) Tenants(ctx context.Context) ([]tenants.Tenant, error) {
	return s.listTenants(ctx, s.r, ``)
}

func (s *Store) listTenants(ctx context.Context, q querier, where string, args ...any) ([]tenants.Tenant, error) {
	rows, err := s.query(ctx, q, s.d.q(`SELECT id, name, settings, created_at, updated_at FROM tenants `+where+` ORDER BY id`), args...)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	out := []tenants.Tenant{}
	for rows.Next() {
		var t tenants.Tenant
		var settings string
		if err := rows.Scan(&t.ID, &t.Name, &settings, timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("list tenants: %w", err)
		}
		if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
			return nil, fmt.Errorf("decode settings of tenant %s: %w", t.ID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UpdateTenant replaces a tenant's name (when not empty) and settings.
func (s *Store) UpdateTenant(ctx context.Context, id, name string, settings *tenants.Settings, now time.Time) (tenants.Tenant, error) {
	if err := checkText(name); err != nil {
		return tenants.Tenant{}, err
	}
	// Unchanged settings are not written back: a rename racing a change
	// of settings must not undo it with what it read before.
	set, args := `name = CASE WHEN ? = '' THEN name ELSE ? END, updated_at = ?`, []any{name, name, s.d.timeArg(stamp(now))}
	if settings != nil {
		if err := settings.Validate(); err != nil {
			return tenants.Tenant{}, err
		}
		b, err := json.Marshal(*settings)
		if err != nil {
			return tenants.Tenant{}, fmt.Errorf("encode settings: %w", err)
		}
		set, args = set+`, settings = ?`, append(args, string(b))
	}
	var t tenants.Tenant
	err := s.registryWrite(ctx, "update_tenant", func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, s.d.q(`UPDATE tenants SET `+set+` WHERE id = ?`), append(args, id)...)
		if err != nil {
			return fmt.Errorf("update tenant: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, errTenantNotFound)
		}
		list, err := s.listTenants(ctx, tx, `WHERE id = ?`, id)
		if err == nil && len(list) == 1 {
			t = list[0]
		}
		return err
	})
	return t, err
}

// AddTenantKey stores a signing key; conflict when the tenant has one of
// that kid already (keys are added and deleted, never replaced: a kid
// names one key for the life of every token signed with it).
func (s *Store) AddTenantKey(ctx context.Context, k tenants.Key, now time.Time) (tenants.Key, error) {
	if err := checkText(k.Material); err != nil {
		return tenants.Key{}, err
	}
	k.CreatedAt = stamp(now)
	err := s.registryWrite(ctx, "add_tenant_key", func(ctx context.Context, tx *sql.Tx) error {
		if err := s.tenantExists(ctx, tx, k.Tenant); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, s.d.q(`INSERT INTO tenant_keys (tenant, kid, alg, material, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, kid) DO NOTHING`),
			k.Tenant, k.KID, k.Alg, k.Material, s.d.timeArg(k.CreatedAt))
		if err != nil {
			return fmt.Errorf("add key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, orders.Errorf(orders.CodeConflict, "tenant %q has a key %q", k.Tenant, k.KID))
		}
		return nil
	})
	return k, err
}

// DeleteTenantKey removes a key: tokens signed with it are refused from
// the next cache reload on every node.
func (s *Store) DeleteTenantKey(ctx context.Context, tenant, kid string) error {
	return s.registryWrite(ctx, "delete_tenant_key", func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, s.d.q(`DELETE FROM tenant_keys WHERE tenant = ? AND kid = ?`), tenant, kid)
		if err != nil {
			return fmt.Errorf("delete key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, orders.Errorf(orders.CodeNotFound, "no key %q of tenant %q", kid, tenant))
		}
		return nil
	})
}

// CreateAPIKey stores an API key's hash.
func (s *Store) CreateAPIKey(ctx context.Context, k tenants.StoredAPIKey, now time.Time) (tenants.APIKey, error) {
	if !orders.ValidName(k.Sub) {
		return tenants.APIKey{}, orders.Errorf(orders.CodeInvalidArgument, "sub must be 1-%d letters, digits, '_' or '-'", orders.MaxNameLen)
	}
	if err := checkText(k.Name); err != nil {
		return tenants.APIKey{}, err
	}
	k.CreatedAt = stamp(now)
	err := s.registryWrite(ctx, "create_api_key", func(ctx context.Context, tx *sql.Tx) error {
		if err := s.tenantExists(ctx, tx, k.Tenant); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, s.d.q(`INSERT INTO api_keys (id, tenant, name, sub, hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`), k.ID, k.Tenant, k.Name, k.Sub, k.Hash, s.d.timeArg(k.CreatedAt))
		if err != nil {
			return fmt.Errorf("create api key: %w", err)
		}
		return nil
	})
	return k.APIKey, err
}

// DeleteAPIKey revokes an API key.
func (s *Store) DeleteAPIKey(ctx context.Context, tenant, id string) error {
	return s.registryWrite(ctx, "delete_api_key", func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, s.d.q(`DELETE FROM api_keys WHERE tenant = ? AND id = ?`), tenant, id)
		if err != nil {
			return fmt.Errorf("delete api key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, orders.Errorf(orders.CodeNotFound, "no api key %q of tenant %q", id, tenant))
		}
		return nil
	})
}

func (s *Store) tenantExists(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := s.queryRow(ctx, tx, s.d.q(`SELECT 1 FROM tenants WHERE id = ?`), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errTenantNotFound
	}
	return err
}

// RegistryGeneration is the registry's change count: a cheap read each
// node polls to know when to reload.
func (s *Store) RegistryGeneration(ctx context.Context) (int64, error) {
	var gen int64
	err := s.queryRow(ctx, s.r, s.d.q(`SELECT gen FROM registry_generation WHERE id = 1`)).Scan(&gen)
	if err != nil {
		return 0, fmt.Errorf("registry generation: %w", err)
	}
	return gen, nil
}

// LoadRegistry reads the whole registry in one read transaction, with
// the generation it is at.
func (s *Store) LoadRegistry(ctx context.Context) (tenants.Snapshot, error) {
	defer s.timed("load_registry", time.Now())
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return tenants.Snapshot{}, fmt.Errorf("load registry: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var snap tenants.Snapshot
	if err := tx.QueryRowContext(ctx, `SELECT gen FROM registry_generation WHERE id = 1`).Scan(&snap.Generation); err != nil {
		return tenants.Snapshot{}, fmt.Errorf("load registry: %w", err)
	}
	if snap.Tenants, err = s.listTenants(ctx, tx, ``); err != nil {
		return tenants.Snapshot{}, err
	}
	if snap.Keys, err = s.loadKeys(ctx, tx); err != nil {
		return tenants.Snapshot{}, err
	}
	if snap.APIKeys, err = s.loadAPIKeys(ctx, tx); err != nil {
		return tenants.Snapshot{}, err
	}
	return snap, nil
}

func (s *Store) loadKeys(ctx context.Context, tx *sql.Tx) ([]tenants.Key, error) {
	rows, err := tx.QueryContext(ctx, `SELECT tenant, kid, alg, material, created_at FROM tenant_keys ORDER BY tenant, created_at, kid`)
	if err != nil {
		return nil, fmt.Errorf("load keys: %w", err)
	}
	defer rows.Close()
	var out []tenants.Key
	for rows.Next() {
		var k tenants.Key
		if err := rows.Scan(&k.Tenant, &k.KID, &k.Alg, &k.Material, timeCol{&k.CreatedAt}); err != nil {
			return nil, fmt.Errorf("load keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s *Store) loadAPIKeys(ctx context.Context, tx *sql.Tx) ([]tenants.StoredAPIKey, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, tenant, name, sub, hash, created_at FROM api_keys ORDER BY tenant, id`)
	if err != nil {
		return nil, fmt.Errorf("load api keys: %w", err)
	}
	defer rows.Close()
	var out []tenants.StoredAPIKey
	for rows.Next() {
		var k tenants.StoredAPIKey
		if err := rows.Scan(&k.ID, &k.Tenant, &k.Name, &k.Sub, &k.Hash, timeCol{&k.CreatedAt}); err != nil {
			return nil, fmt.Errorf("load api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
