//go:build unix

package browser

import (
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// postOrder has the vendor post the story's order (strategy nearest) from
// the console's Developer tab, in a browser context of its own, as a
// developer trying the API would, and returns the order of the ack the
// tab logged.
func postOrder(t *testing.T, b *browser, srv *testproc.Proc) order {
	t.Helper()
	dev := b.open(t, "vendor (developer tab)", srv.URL+"/console/", 1400, 900)
	payload, err := json.Marshal(newOrder("customer-1", "nearest", pickup, dropoff))
	require.NoError(t, err)
	dev.do(
		chromedp.Click(chromedp.ID("tab-developer")),
		chromedp.WaitVisible(chromedp.ID("dev-connect")),
		chromedp.SetValue(chromedp.ID("dev-ns"), "/vendors"),
		chromedp.SetValue(chromedp.ID("dev-token"), token(t, orders.RoleVendor, "vendor-1")),
		chromedp.Click(chromedp.ID("dev-connect-btn")),
		chromedp.WaitEnabled(chromedp.ID("dev-send-btn")),
		chromedp.SetValue(chromedp.ID("dev-event"), "order:create"),
		chromedp.SetValue(chromedp.ID("dev-payload"), string(payload)),
		chromedp.Click(chromedp.ID("dev-send-btn")),
	)
	// The log shows the ack's JSON; the order's is the one entry with a
	// trackingUrl.
	dev.awaitJS(`[...document.querySelectorAll('#dev-log li')].some(li => li.textContent.includes('trackingUrl'))`, settle,
		"the developer tab logs the ack of order:create")
	found := eval[map[string]string](dev, `(() => {
  const li = [...document.querySelectorAll('#dev-log li')].find(li => li.textContent.includes('trackingUrl'));
  const text = li.textContent;
  const id = text.match(/"id"\s*:\s*"([^"]+)"/), url = text.match(/"trackingUrl"\s*:\s*"([^"]+)"/);
  return { id: id ? id[1] : '', trackingUrl: url ? url[1] : '' };
})()`)
	o := order{ID: found["id"], TrackingURL: found["trackingUrl"], Status: orders.Ready}
	require.NotEmpty(t, o.ID, "the logged ack names the order")
	require.NotEmpty(t, o.TrackingURL, "the logged ack carries the tracking link")
	t.Logf("the vendor posted order %s from the developer tab", o.ID)
	return o
}
