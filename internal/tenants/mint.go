package tenants

import (
	"time"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// Minter signs client tokens the way the verifier will check them: with
// the tenant's newest HS256 key (its kid in the header), or the global
// secret for a tenant without keys.
type Minter struct {
	Cache *Cache
	Auth  auth.Config
}

// Mint signs c for ttl from now.
func (m Minter) Mint(c auth.Claims, ttl time.Duration) (string, time.Time, error) {
	now := time.Now()
	exp := now.Add(ttl).Truncate(time.Second) // JWT exp has whole seconds
	k, found, keyed := m.Cache.SigningKey(c.Tenant)
	var tok string
	var err error
	switch {
	case found:
		tok, err = auth.SignHS256(m.Auth, []byte(k.Material), k.KID, c, ttl, now)
	case keyed:
		return "", time.Time{}, orders.Errorf(orders.CodeConflict,
			"the tenant's keys are all public: its own signer mints its tokens (or add an HS256 key)")
	case m.Auth.GlobalOn():
		tok, err = auth.Sign(m.Auth, c, ttl, now)
	default:
		return "", time.Time{}, orders.Errorf(orders.CodeConflict, "the tenant has no key and the global secret is off")
	}
	return tok, exp, err
}
