package metrics

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

type fakeEdge struct{}

func (fakeEdge) OriginRefused() int64 { return 3 }
func (fakeEdge) ReadTimeouts() int64  { return 4 }

func TestWatchEdge(t *testing.T) {
	m := New()
	m.WatchEdge(fakeEdge{})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	assert.Contains(t, rec.Body.String(), "dispatchd_origin_refused_total 3")
	assert.Contains(t, rec.Body.String(), "dispatchd_http_read_timeouts_total 4")
}
