package tenants

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
)

// Store is what the Cache reads.
type Store interface {
	RegistryGeneration(ctx context.Context) (int64, error)
	LoadRegistry(ctx context.Context) (Snapshot, error)
}

// DefaultPoll is how often a Cache checks the registry's generation: a
// change on any node is seen everywhere within it (the contract: within
// a second), at the cost of one one-row read per poll.
const DefaultPoll = 250 * time.Millisecond

// Cache is one node's copy of the registry, safe for concurrent use.
type Cache struct {
	st   Store
	poll time.Duration
	log  *zap.Logger

	mu      sync.RWMutex
	gen     int64
	loaded  bool
	tenants map[string]entry
	apiKeys map[string]APIKey // by hash
}

type entry struct {
	tenant Tenant
	keys   []Key      // as stored, oldest first
	verify []auth.Key // the same, parsed
}

var _ auth.KeySource = (*Cache)(nil)

// NewCache returns an empty cache; Load fills it and Run keeps it fresh.
func NewCache(st Store, poll time.Duration, log *zap.Logger) *Cache {
	if poll <= 0 {
		poll = DefaultPoll
	}
	return &Cache{st: st, poll: poll, log: log, tenants: map[string]entry{}, apiKeys: map[string]APIKey{}}
}

// Load reads the whole registry now.
func (c *Cache) Load(ctx context.Context) error {
	snap, err := c.st.LoadRegistry(ctx)
	if err != nil {
		return err
	}
	tenants := make(map[string]entry, len(snap.Tenants))
	for _, t := range snap.Tenants {
		tenants[t.ID] = entry{tenant: t}
	}
	for _, k := range snap.Keys {
		e := tenants[k.Tenant]
		v, err := k.Verifier()
		if err != nil {
			// Stored keys were checked when added; one that no longer
			// parses signs nothing, and the operator hears of it.
			c.log.Error("tenant key unusable, ignored", zap.String("tenant_id", k.Tenant), zap.String("kid", k.KID), zap.Error(err))
			continue
		}
		e.keys, e.verify = append(e.keys, k), append(e.verify, v)
		tenants[k.Tenant] = e
	}
	apiKeys := make(map[string]APIKey, len(snap.APIKeys))
	for _, k := range snap.APIKeys {
		apiKeys[k.Hash] = k.APIKey
	}
	c.mu.Lock()
	c.gen, c.loaded, c.tenants, c.apiKeys = snap.Generation, true, tenants, apiKeys
	c.mu.Unlock()
	return nil
}

// Run reloads the cache whenever the registry's generation moves, until
// ctx ends.
func (c *Cache) Run(ctx context.Context) error {
	t := time.NewTicker(c.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := c.refresh(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("tenant registry refresh", zap.Error(err))
		}
	}
}

func (c *Cache) refresh(ctx context.Context) error {
	gen, err := c.st.RegistryGeneration(ctx)
	if err != nil {
		return err
	}
	c.mu.RLock()
	same := c.loaded && gen == c.gen
	c.mu.RUnlock()
	if same {
		return nil
	}
	return c.Load(ctx)
}

// TenantKeys implements auth.KeySource: a registered tenant with at least
// one key is keyed.
func (c *Cache) TenantKeys(tenant string) ([]auth.Key, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.tenants[tenant]
	return e.verify, ok && len(e.verify) > 0
}

// Settings returns a registered tenant's settings.
func (c *Cache) Settings(tenant string) (Settings, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.tenants[tenant]
	return e.tenant.Settings, ok
}

// APIKey resolves an API key to what it acts as: the vendor sub of its
// tenant. It looks up the key's SHA-256, so the time a miss takes says
// nothing about how close a guess was to a stored key.
func (c *Cache) APIKey(key string) (APIKey, bool) {
	h := HashAPIKey(key)
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.apiKeys[h]
	return k, ok
}

// SigningKey returns the tenant's newest HS256 key, the one the server
// mints its tokens with; keyed reports whether the tenant has keys at all
// (a keyed tenant with public keys only cannot have tokens minted here).
func (c *Cache) SigningKey(tenant string) (k Key, found, keyed bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.tenants[tenant]
	for i := len(e.keys) - 1; i >= 0; i-- {
		if e.keys[i].Alg == AlgHS256 {
			return e.keys[i], true, true
		}
	}
	return Key{}, false, len(e.keys) > 0
}
