//go:build unix

package browser

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// harnessPage is a page that goes wrong in each way the harness must
// catch, and changes its hooks at times the test knows.
const harnessPage = `<!doctype html><html lang="en"><title>harness</title>
<p id="status"></p><p id="conn"></p><ul id="orders"></ul>
<script>
console.error('boom from console.error');
setTimeout(() => { throw new Error('boom uncaught'); }, 10);
Promise.reject(new Error('boom rejected'));
fetch('/missing').catch(() => {});
const at = new URLSearchParams(location.search).get('at');
setTimeout(() => {
  window.changedAt = Date.now();
  document.getElementById('status').dataset.status = 'assigned';
  document.getElementById('conn').dataset.state = 'connected';
  document.getElementById('orders').innerHTML = '<li data-order-id="o1" data-status="ready">o1</li>';
}, +at);
setTimeout(() => {
  document.getElementById('conn').dataset.state = 'reconnecting';
  document.getElementById('orders').innerHTML = '';
}, +at + 100);
</script>`

// TestHarness: the harness catches a page's console errors, uncaught
// exceptions, rejected promises and failed loads, and the observer notes
// each fact with the moment the page made it true.
func TestHarness(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, harnessPage)
	}))
	defer ts.Close()
	b := newBrowser(t)
	tb := b.open(t, "harness", ts.URL+"/?at=300", 800, 600)

	shown := tb.await("status assigned", settle, "the page sets data-status")
	changed := time.UnixMilli(eval[int64](tb, "window.changedAt"))
	assert.WithinDuration(t, changed, shown, 20*time.Millisecond, "the observer notes a change when the page makes it")
	tb.await("order o1 ready", settle, "an order appears")
	tb.await("order o1 gone", settle, "an order leaves")
	tb.awaitConnState("reconnecting", settle, "#conn changes again")
	assert.Equal(t, []string{"connected", "reconnecting"}, tb.connStates())

	// Each of the four problems arrives; then they are taken off the
	// tab, so that this test passes only if all were caught.
	want := []string{"boom from console.error", "boom uncaught", "boom rejected", "/missing"}
	require.Eventually(t, func() bool {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		return len(tb.problems) >= len(want)
	}, settle, pollEvery, "the page's problems reach the harness")
	tb.mu.Lock()
	got := tb.problems
	tb.problems = nil
	tb.mu.Unlock()
	for _, w := range want {
		assert.True(t, slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, w) }), "the harness caught %q; it has %q", w, got)
	}
}
