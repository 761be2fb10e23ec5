//go:build unix

package browser

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// observerJS runs in every page before its own scripts: a MutationObserver
// that notes, with the page's clock (Date.now(), the same wall clock as
// the test's), the first moment each fact about the DOM hooks was true.
// The test reads the times afterwards, so how often it polls does not
// change what it measures. Facts:
//
//	"order <id> <status>"  #orders [data-order-id][data-status] (board)
//	"order <id> gone"      that element left the DOM
//	"driver <id> <onDuty>" #drivers [data-driver-id][data-on-duty] (board)
//	"marker driver <id>"   a #map element with data-driver-id
//	"status <status>"      #status[data-status] (tracking page)
//	"timeline <status>"    #timeline li[data-status]
//	"courier <lat> <lng>"  #map[data-courier-lat][data-courier-lng]
//
// #conn's data-state is kept as a list of changes, since it comes back.
const observerJS = `(() => {
  const dd = window.__dd = { seen: {}, conn: [] };
  const note = (fact) => { if (!(fact in dd.seen)) dd.seen[fact] = Date.now(); };
  let present = new Set();
  const scan = () => {
    const now = new Set();
    for (const el of document.querySelectorAll('#orders [data-order-id]')) {
      now.add(el.dataset.orderId);
      if (el.dataset.status) note('order ' + el.dataset.orderId + ' ' + el.dataset.status);
    }
    for (const id of present) if (!now.has(id)) note('order ' + id + ' gone');
    present = now;
    for (const el of document.querySelectorAll('#drivers [data-driver-id]')) note('driver ' + el.dataset.driverId + ' ' + el.dataset.onDuty);
    for (const el of document.querySelectorAll('#map [data-driver-id]')) note('marker driver ' + el.dataset.driverId);
    const st = document.getElementById('status');
    if (st && st.dataset.status) note('status ' + st.dataset.status);
    for (const li of document.querySelectorAll('#timeline li[data-status]')) note('timeline ' + li.dataset.status);
    const map = document.getElementById('map');
    if (map && map.dataset.courierLat && map.dataset.courierLng) note('courier ' + map.dataset.courierLat + ' ' + map.dataset.courierLng);
    const conn = document.getElementById('conn');
    const state = conn && conn.dataset.state;
    const last = dd.conn[dd.conn.length - 1];
    if (state && (!last || last[1] !== state)) dd.conn.push([Date.now(), state]);
  };
  new MutationObserver(scan).observe(document, {
    subtree: true, childList: true, attributes: true,
    attributeFilter: ['data-status', 'data-state', 'data-order-id', 'data-driver-id', 'data-on-duty', 'data-courier-lat', 'data-courier-lng'],
  });
})();`

// pollEvery is how often the test reads the page's notes.
const pollEvery = 25 * time.Millisecond

// seen returns when fact first held (Unix ms), or 0.
func (tb *tab) seen(fact string) int64 {
	tb.t.Helper()
	q, _ := json.Marshal(fact)
	return eval[int64](tb, fmt.Sprintf("(window.__dd && window.__dd.seen[%s]) || 0", q))
}

// await waits up to timeout for fact and returns when it first held.
func (tb *tab) await(fact string, timeout time.Duration, why string) time.Time {
	tb.t.Helper()
	stop := time.Now().Add(timeout)
	for {
		if ms := tb.seen(fact); ms != 0 {
			return time.UnixMilli(ms)
		}
		if time.Now().After(stop) {
			tb.t.Fatalf("%s: %q did not show within %s (%s); the page showed: %s", tb.name, fact, timeout, why, tb.facts())
		}
		time.Sleep(pollEvery)
	}
}

// awaitJS waits up to timeout for a JavaScript expression to be true.
func (tb *tab) awaitJS(expr string, timeout time.Duration, why string) {
	tb.t.Helper()
	stop := time.Now().Add(timeout)
	for !eval[bool](tb, "!!("+expr+")") {
		if time.Now().After(stop) {
			tb.t.Fatalf("%s: %s not true within %s (%s); the page showed: %s", tb.name, expr, timeout, why, tb.facts())
		}
		time.Sleep(pollEvery)
	}
}

// facts lists what the observer noted, for failure messages.
func (tb *tab) facts() string {
	raw := eval[map[string]int64](tb, "(window.__dd && window.__dd.seen) || {}")
	parts := make([]string, 0, len(raw))
	for f := range raw {
		parts = append(parts, f)
	}
	return strings.Join(parts, "; ") + "; conn: " + strings.Join(tb.connStates(), " → ")
}

// connStates is #conn's data-state, change by change.
func (tb *tab) connStates() []string {
	var out []string
	for _, c := range eval[[][2]any](tb, "(window.__dd && window.__dd.conn) || []") {
		out = append(out, fmt.Sprint(c[1]))
	}
	return out
}

// awaitConnState waits up to timeout until #conn's data-state is state.
func (tb *tab) awaitConnState(state string, timeout time.Duration, why string) {
	tb.t.Helper()
	q, _ := json.Marshal(state)
	tb.awaitJS(fmt.Sprintf(`(c => c && c.length > 0 && c[c.length - 1][1] === %s)(window.__dd && window.__dd.conn)`, q), timeout, why)
}
