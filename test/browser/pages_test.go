//go:build unix

package browser

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/demo"
	"github.com/dispatchd/dispatchd/internal/geo"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// viewport is a window size the pages must read well at.
type viewport struct {
	name          string
	width, height int64
}

var viewports = []viewport{{"1400x900", 1400, 900}, {"390x844", 390, 844}}

// scene is a server with a small simulated city playing on it (what
// `dispatchd demo` shows a newcomer), and one order of the test's own on
// its way, for the tracking page: auto-assigned to a Go driver waiting at
// its pickup, which the city's drivers never hear of.
type scene struct {
	srv    *testproc.Proc
	b      *browser
	driver *client
	track  string
}

// courierAt is where the scene's driver says it is, on the way.
var courierAt = place{Lat: pickupLat, Lng: (pickupLng + dropoff.Lng) / 2}

// newScene starts the server and the city, and has the scene's order
// picked up and in transit; the city stops when t ends.
func newScene(t *testing.T) *scene {
	t.Helper()
	srv := startServer(t)
	b := newBrowser(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var stats demo.Stats
	wg.Go(func() {
		cfg := demo.Config{URL: srv.URL, Auth: auth.Config{Secret: auth.Secret(secret)}, Tenant: tenant,
			Drivers: 12, Vendors: 2, Customers: 4, OrderEvery: 20 * time.Second, Speed: 10,
			Center: geo.Point{Lat: pickupLat, Lng: pickupLng}, Radius: 2000}
		if err := demo.Run(ctx, cfg, &stats, zap.NewNop()); err != nil && ctx.Err() == nil {
			t.Errorf("demo city: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		t.Logf("demo city: %d orders created, %d claimed, %d delivered", stats.Created.Load(), stats.Claimed.Load(), stats.Delivered.Load())
	})

	d := connect(t, srv, orders.RoleDriver, "scene-driver")
	d.call("driver:duty", map[string]any{"onDuty": true}, nil)
	d.call("location:update", map[string]any{"lat": pickup.Lat, "lng": pickup.Lng}, nil)
	v := connect(t, srv, orders.RoleVendor, "scene-vendor")
	var res struct {
		Order order `json:"order"`
	}
	v.call("order:create", newOrder("scene-customer", "auto", pickup, dropoff), &res)
	// auto gives the order to the driver at its pickup.
	d.await("order:assigned", res.Order.ID, settle)
	d.call("order:picked_up", map[string]any{"orderId": res.Order.ID}, nil)
	d.call("order:in_transit", map[string]any{"orderId": res.Order.ID}, nil)
	return &scene{srv: srv, b: b, driver: d, track: res.Order.TrackingURL}
}

// openBoard opens the board at vp and waits until it shows the city.
func (s *scene) openBoard(t *testing.T, vp viewport) *tab {
	t.Helper()
	board := s.b.open(t, "board "+vp.name, s.srv.URL+"/console/#token="+token(t, orders.RoleDispatcher, "dispatcher-1"), vp.width, vp.height)
	board.awaitConnState("connected", settle, "the board signs in")
	board.awaitJS(`document.querySelectorAll('#orders [data-order-id]').length >= 6`, settle, "the board shows the city's orders")
	board.awaitJS(`document.querySelectorAll('#drivers [data-driver-id]').length >= 8`, settle, "the board shows the city's drivers")
	board.awaitJS(`document.querySelectorAll('#map [data-driver-id]').length >= 8`, settle, "the board maps the city's drivers")
	return board
}

// openTrack opens the tracking page at vp and waits until it shows the
// courier.
func (s *scene) openTrack(t *testing.T, vp viewport) *tab {
	t.Helper()
	// A position older than a minute counts as unknown: say it again.
	s.driver.call("location:update", map[string]any{"lat": courierAt.Lat, "lng": courierAt.Lng}, nil)
	track := s.b.open(t, "tracking page "+vp.name, s.track, vp.width, vp.height)
	track.awaitConnState("live", settle, "the tracking page is live")
	track.awaitJS(`document.getElementById('status').dataset.status`, settle, "the tracking page shows a status")
	track.awaitJS(`document.getElementById('map').dataset.courierLat`, settle, "the tracking page shows the courier")
	return track
}

// TestPages checks the board and the tracking page, live, at each
// viewport: a screenshot of each (test artefacts, and docs/screenshots/
// with DISPATCH_UPDATE_SCREENSHOTS=1), and axe-core's WCAG 2 A and AA
// rules on each, with an order's detail open on the board and on the
// board's Developer tab too.
func TestPages(t *testing.T) {
	s := newScene(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			board, track := s.openBoard(t, vp), s.openTrack(t, vp)
			screenshot(t, board, "board-"+vp.name)
			screenshot(t, track, "track-"+vp.name)
			t.Run("axe", func(t *testing.T) {
				src := axeSource(t)
				checkAxe(t, board, src, "board")
				board := board.in(t)
				board.do(chromedp.Click(chromedp.CSS(`#orders [data-order-id]`)))
				board.awaitJS(`(d => d && d.offsetParent !== null || (d && d.open))(document.getElementById('order-detail'))`, settle, "an order's detail opens")
				board.awaitJS(`document.querySelector('#order-detail li[data-event-type]')`, settle, "the detail shows the order's timeline")
				checkAxe(t, board, src, "board with an order's detail")
				checkAxe(t, track, src, "tracking page")
				// The Developer tab, after the detail is closed.
				board.do(chromedp.KeyEvent("\x1b"))
				board.awaitJS(`!document.getElementById('order-detail').open`, settle, "the detail closes on Escape")
				board.do(chromedp.Click(chromedp.CSS(`#tab-developer`)))
				board.awaitJS(`!document.getElementById('panel-developer').hidden`, settle, "the Developer tab shows")
				checkAxe(t, board, src, "developer tab")
			})
		})
	}
}

// screenshot writes the tab's viewport as name.png into the artefacts
// directory, and into docs/screenshots/ when asked to.
func screenshot(t *testing.T, tb *tab, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err, "screenshot %s", name)
	dirs := []string{artifacts(t)}
	if os.Getenv("DISPATCH_UPDATE_SCREENSHOTS") == "1" {
		dirs = append(dirs, filepath.Join("..", "..", "docs", "screenshots"))
	}
	for _, dir := range dirs {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		path := filepath.Join(dir, name+".png")
		require.NoError(t, os.WriteFile(path, buf, 0o644))
		t.Logf("wrote %s (%d KB)", path, len(buf)/1024)
	}
}

// artifacts is $DISPATCH_TEST_ARTIFACTS, default test/browser/artifacts/
// (gitignored).
func artifacts(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("DISPATCH_TEST_ARTIFACTS"); dir != "" {
		return dir
	}
	return "artifacts"
}
