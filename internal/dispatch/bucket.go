package dispatch

import "math"

// bucket is a socket's event budget, a token bucket kept inside the
// session: a rate.Limiter is a separate 80 B object on every socket that
// ever sent an event (every subscribed driver), this is 24 B in place.
// Like rate.Limiter's Allow: tokens refill at perSecond up to burst, and
// the bucket starts full.
type bucket struct {
	tokens    float64
	last      int64 // ns since the Handlers' epoch of the last take; 0: never taken
	perSecond float32
	burst     int32
}

// take spends one token at now (ns since an epoch, monotonic), reporting
// false when none is left. shape gives the rate and burst; it is asked
// once, at the first take.
func (b *bucket) take(now int64, shape func() (float64, int)) bool {
	now = max(now, 1)
	if b.last == 0 {
		perSecond, burst := shape()
		b.perSecond, b.burst = float32(perSecond), int32(min(burst, math.MaxInt32))
		b.tokens = float64(b.burst)
	} else if elapsed := now - b.last; elapsed > 0 {
		b.tokens = min(float64(b.burst), b.tokens+float64(elapsed)*float64(b.perSecond)/1e9)
	}
	b.last = max(b.last, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
