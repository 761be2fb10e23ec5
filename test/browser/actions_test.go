//go:build unix

package browser

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestBoardActions: the dispatcher opens a ready order's detail, assigns
// it to an on-duty driver, unassigns it and cancels it, each from the
// detail's buttons; the board shows each change, the vendor hears the
// assignment and the cancellation, and the order's timeline grows.
func TestBoardActions(t *testing.T) {
	srv := startServer(t)
	b := newBrowser(t)
	d := connect(t, srv, orders.RoleDriver, "driver-1")
	d.call("driver:duty", map[string]any{"onDuty": true}, nil)
	d.call("location:update", map[string]any{"lat": north(300).Lat, "lng": pickupLng}, nil)
	v := connect(t, srv, orders.RoleVendor, "vendor-1")
	// Broadcast with no driver subscribed: it stays ready until assigned.
	o := post(t, srv, "customer-1")

	board := b.open(t, "board", srv.URL+"/console/#token="+token(t, orders.RoleDispatcher, "dispatcher-1"), 1400, 900)
	board.awaitConnState("connected", settle, "the board signs in")
	board.await("order "+o.ID+" ready", settle, "the order shows on the board")
	board.await("driver driver-1 true", settle, "the driver shows on duty")
	board.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#orders [data-order-id=%q]`, o.ID))))
	board.awaitJS(`document.getElementById('order-detail').open`, settle, "the order's detail opens")
	board.awaitJS(`document.querySelector('#assign-driver option[value="driver-1"]')`, settle, "the detail offers the on-duty driver")
	timeline := func() int {
		return eval[int](board, `document.querySelectorAll('#order-detail li[data-event-type]').length`)
	}
	board.awaitJS(`document.querySelectorAll('#order-detail li[data-event-type]').length >= 1`, settle, "the detail shows the order's timeline")
	before := timeline()

	board.do(chromedp.SetValue(chromedp.ID("assign-driver"), "driver-1"),
		chromedp.Click(chromedp.CSS(`#order-detail button[data-action="assign"]`)))
	v.awaitStatus(o.ID, orders.Assigned, settle)
	board.await("order "+o.ID+" assigned", settle, "the board shows the assignment")

	board.do(chromedp.WaitEnabled(chromedp.CSS(`#order-detail button[data-action="unassign"]`)),
		chromedp.Click(chromedp.CSS(`#order-detail button[data-action="unassign"]`)))
	board.awaitJS(fmt.Sprintf(`document.querySelector('#orders [data-order-id=%q][data-status="ready"]')`, o.ID), settle,
		"an unassigned order is ready again")
	board.do(chromedp.WaitEnabled(chromedp.CSS(`#order-detail button[data-action="cancel"]`)),
		chromedp.Click(chromedp.CSS(`#order-detail button[data-action="cancel"]`)))
	v.awaitStatus(o.ID, orders.Cancelled, settle)
	board.awaitJS(fmt.Sprintf(`!document.querySelector('#orders [data-order-id=%q]:not([data-status="cancelled"])')`, o.ID), settle,
		"a cancelled order shows as cancelled or leaves the board")
	board.awaitJS(fmt.Sprintf(`document.querySelectorAll('#order-detail li[data-event-type]').length >= %d`, before+3), settle,
		"the detail's timeline lists the assignment, the unassignment and the cancellation")
}
