// Package browser drives the pages people use, the dispatch board at
// /console/ and the customer's tracking page at /track/<token>, in a real
// Chromium (Debian's chromium, through chromedp) against the real
// dispatchd binary: the delivery story with each role in its own browser
// context, the board's assign/unassign/cancel, the board surviving a
// server restart, the tracking page's PIN and unknown links, an axe-core
// accessibility check, and screenshots at 1400×900 and 390×844. One
// Chromium serves the package; every role of every test has a browser
// context of its own. A MutationObserver installed before the pages'
// scripts stamps each DOM hook's changes, so latencies are the page's,
// not the test's polling.
//
// Every page's console errors and uncaught exceptions fail the test.
// Without chromium the tests skip with a loud note (.ci/run installs it);
// without `npm ci --prefix test/browser` (axe-core) the accessibility
// check skips the same way. Screenshots go to $DISPATCH_TEST_ARTIFACTS
// (default test/browser/artifacts/), and with
// DISPATCH_UPDATE_SCREENSHOTS=1 also to docs/screenshots/.
//
// It holds tests only; nothing imports it.
package browser
