//go:build unix

package browser

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestBehindAPathPrefix: a proxy serves dispatchd under /dispatch/ (the
// prefix stripped, WebSocket upgrades passed on); the board signs in,
// connects, shows an order and its timeline, and the tracking page shows
// its status, every request of theirs under the prefix.
func TestBehindAPathPrefix(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t)
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	backend := httputil.NewSingleHostReverseProxy(target)
	var (
		mu      sync.Mutex
		outside []string // requests that missed the prefix
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/dispatch/")
		if !ok {
			mu.Lock()
			outside = append(outside, r.URL.Path)
			mu.Unlock()
			http.NotFound(w, r)
			return
		}
		r.URL.Path = "/" + rest
		r.URL.RawPath = ""
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)

	o := post(t, srv, "customer-1")
	board := b.open(t, "board behind /dispatch/", proxy.URL+"/dispatch/console/#token="+token(t, orders.RoleDispatcher, "dispatcher-1"), 1400, 900)
	board.awaitConnState("connected", settle, "the board connects through the prefix")
	board.await("order "+o.ID+" ready", settle, "the order shows")
	board.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#orders [data-order-id=%q]`, o.ID))))
	board.awaitJS(`document.querySelector('#order-detail li[data-event-type]')`, settle, "the timeline loads through the prefix")

	tok := o.TrackingURL[strings.LastIndex(o.TrackingURL, "/")+1:]
	track := b.open(t, "tracking page behind /dispatch/", proxy.URL+"/dispatch/track/"+tok, 390, 844)
	track.awaitJS(`document.getElementById('status').dataset.status === 'ready'`, settle, "the tracking page shows the status")
	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, outside, "every request under the prefix")
}
