//go:build unix

package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// axeTags are the rules axe-core runs: WCAG 2.0 and 2.1, levels A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// axeSource is axe-core's script from `npm ci --prefix test/browser`, or
// a loud skip when it is not installed.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "\n*** %s SKIPPED: no axe-core; install it with `npm ci --prefix test/browser` (scripts/test does when Node.js is there) ***\n\n", t.Name())
		t.Skipf("no axe-core (%v): npm ci --prefix test/browser", err)
	}
	return string(b)
}

// maxTargets is how many elements a violation lists; the rest are
// counted.
const maxTargets = 4

// violation is one failed axe rule.
type violation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// checkAxe injects axe-core into the page and fails t on each violation
// of axeTags, with its id, impact and the elements.
func checkAxe(t *testing.T, tb *tab, src, what string) {
	t.Helper()
	tb = tb.in(t)
	ctx, cancel := context.WithTimeout(tb.ctx, 2*actionTimeout)
	defer cancel()
	if !eval[bool](tb, `typeof window.axe === 'object'`) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src)), "inject axe-core")
	}
	tags, err := json.Marshal(axeTags)
	require.NoError(t, err)
	run := fmt.Sprintf(`axe.run(document, { runOnly: { type: 'tag', values: %s }, resultTypes: ['violations'] })
  .then(r => r.violations.map(v => ({ id: v.id, impact: v.impact || '', help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')) })))`, tags)
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](run, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "axe.run on the %s", what)
	t.Logf("axe on the %s: %d violation(s) of %v", what, len(vs), axeTags)
	for _, v := range vs {
		targets := v.Targets
		if len(targets) > maxTargets {
			targets = append(targets[:maxTargets:maxTargets], fmt.Sprintf("and %d more", len(v.Targets)-maxTargets))
		}
		t.Errorf("axe on the %s: %s (%s): %s — %s", what, v.ID, v.Impact, v.Help, strings.Join(targets, ", "))
	}
}
