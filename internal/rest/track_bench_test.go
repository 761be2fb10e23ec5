package rest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// BenchmarkTrack304 is a page's poll while nothing changed: an order in
// transit (four steps in its log) with a courier, asked with its ETag.
// It serves straight through echo, without the fixture's OpenAPI check,
// which would dwarf the handler.
func BenchmarkTrack304(b *testing.B) {
	f := newFixtureConfig(b, Config{TrackPerSecond: 1e9, TrackBurst: 1 << 30})
	o, token := f.trackedOrder(b)
	ctx := context.Background()
	driver := claims(leakTenant, orders.RoleDriver, leakDriver)
	for _, a := range []orders.Action{orders.ActionClaim, orders.ActionPickUp, orders.ActionInTransit} {
		_, err := f.svc.Act(ctx, driver, o.ID, a)
		require.NoError(b, err)
	}
	f.fleet.ApplyDuty(orders.Duty{Tenant: leakTenant, DriverID: leakDriver, OnDuty: true, UpdatedAt: time.Now()})
	f.fleet.Observe(leakTenant, leakDriver, geo.Point{Lat: 52.51, Lng: 13.41}, time.Now())
	get := func(etag string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/track/"+token, nil)
		if etag != "" {
			r.Header.Set("If-None-Match", etag)
		}
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, r)
		return rec
	}
	first := get("")
	require.Equal(b, http.StatusOK, first.Code)
	etag := first.Header().Get("ETag")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := get(etag); rec.Code != http.StatusNotModified {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
