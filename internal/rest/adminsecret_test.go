package rest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestAdminSecretAdmits(t *testing.T) {
	for _, tc := range []struct {
		secret, token string
		want          bool
	}{
		{"s3cret-s3cret", "s3cret-s3cret", true},
		{"s3cret-s3cret", "s3cret-s3cre", false},
		{"s3cret-s3cret", "", false},
		{"", "", false}, // an unset secret admits nobody, not the empty token
	} {
		require.Equal(t, tc.want, adminSecret(tc.secret).admits(tc.token), "%q vs %q", tc.secret, tc.token)
	}
}

// TestAdminRefusalsThrottled: a client sending wrong admin tokens as fast
// as it can writes one log line per interval, which counts the rest.
func TestAdminRefusalsThrottled(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	f := newFixture(t)
	RegisterAdmin(f.e.Group("/api/v1/admin"), adminToken, f.store, nil, zap.New(core))
	for range 500 {
		res := f.do(t, request{method: http.MethodGet, path: "/api/v1/admin/tenants", token: "wrong"})
		require.Equal(t, http.StatusUnauthorized, res.status)
	}
	lines := logs.FilterMessage("admin request refused: no or wrong admin token").All()
	require.Len(t, lines, 1, "one line for the first refusal, the rest held back")
	require.EqualValues(t, 0, lines[0].ContextMap()["refused_since_last_line"])
}

func TestRefusalLogCounts(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	now := time.Unix(1000, 0)
	r := newRefusalLog(zap.New(core), 10*time.Second)
	r.now = func() time.Time { return now }
	r.note("refused") // logged
	for range 41 {
		now = now.Add(200 * time.Millisecond)
		r.note("refused") // held: within 10 s of the line
	}
	now = now.Add(2 * time.Second) // 10.2 s after the first line
	r.note("refused")
	all := logs.All()
	require.Len(t, all, 2)
	require.EqualValues(t, 0, all[0].ContextMap()["refused_since_last_line"])
	require.EqualValues(t, 41, all[1].ContextMap()["refused_since_last_line"])
}
