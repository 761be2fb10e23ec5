package dispatch

import "sync"

// tenantCounts counts each tenant's sockets on this node, for
// Config.MaxSocketsPerTenant. Only tenants with sockets are kept.
type tenantCounts struct {
	mu sync.Mutex
	n  map[string]int
}

// take counts one more socket of tenant unless it has max already (max
// 0: no limit).
func (c *tenantCounts) take(tenant string, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if max > 0 && c.n[tenant] >= max {
		return false
	}
	if c.n == nil {
		c.n = make(map[string]int)
	}
	c.n[tenant]++
	return true
}

func (c *tenantCounts) give(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[tenant] <= 1 {
		delete(c.n, tenant)
		return
	}
	c.n[tenant]--
}

// count is tenant's sockets on this node.
func (c *tenantCounts) count(tenant string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[tenant]
}
