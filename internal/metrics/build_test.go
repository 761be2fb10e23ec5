package metrics

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/buildinfo"
)

func TestBuildInfo(t *testing.T) {
	m := New()
	m.SetBuild(buildinfo.Info{Version: "v1.2.3", Revision: "abc123", GoVersion: "go1.99"})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Contains(t, rec.Body.String(),
		`dispatchd_build_info{go_version="go1.99",revision="abc123",version="v1.2.3"} 1`)
}
