package rest

import (
	"crypto/subtle"
	"sync"
	"time"

	"go.uber.org/zap"
)

// adminSecret is DISPATCH_ADMIN_TOKEN, admitted by the admin API and by
// the routes that serve an admin too (webhooks with a tenant). One
// comparison for both, in constant time; empty admits nothing.
type adminSecret []byte

func (s adminSecret) admits(token string) bool {
	return len(s) > 0 && subtle.ConstantTimeCompare([]byte(token), s) == 1
}

// refusalLog logs refused admin requests at most once per interval, the
// line saying how many it held back since the last: every refusal is
// counted, and a client sending wrong tokens as fast as it can writes one
// line per interval, not one per request.
type refusalLog struct {
	log   *zap.Logger
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	last time.Time // when a line was last written
	held int       // refusals since, not logged
}

func newRefusalLog(log *zap.Logger, every time.Duration) *refusalLog {
	return &refusalLog{log: log, every: every, now: time.Now}
}

// note records one refusal; fields describe it (never the token).
func (r *refusalLog) note(msg string, fields ...zap.Field) {
	r.mu.Lock()
	now := r.now()
	if !r.last.IsZero() && now.Sub(r.last) < r.every {
		r.held++
		r.mu.Unlock()
		return
	}
	held := r.held
	r.last, r.held = now, 0
	r.mu.Unlock()
	r.log.Info(msg, append(fields, zap.Int("refused_since_last_line", held))...)
}
