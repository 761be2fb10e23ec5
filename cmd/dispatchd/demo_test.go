package main

import (
	"context"
	"encoding/base64"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemo runs the simulated city for a few seconds, sped up: orders are
// created, claimed and delivered through the real server, and it stops by
// itself, leaving nothing in ./data.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and 40 clients for seconds")
	}
	var out lockedBuffer
	r := runner{getenv: envMap(map[string]string{"DISPATCH_LOG_LEVEL": "warn"}), stdout: &out}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := r.run(ctx, []string{"dispatchd", "demo", "--addr", "127.0.0.1:0", "--for", "10s", "--speed", "200", "--drivers", "10"})
	require.NoError(t, err, out.String())
	text := out.String()
	link := regexp.MustCompile(`http://127\.0\.0\.1:\d+/console/#token=([\w-]+\.([\w-]+)\.[\w-]+)\n`).FindStringSubmatch(text)
	require.NotNil(t, link, "a link to the board with a token in its fragment: %s", text)
	claims, err := base64.RawURLEncoding.DecodeString(link[2])
	require.NoError(t, err)
	assert.Contains(t, string(claims), `"role":"dispatcher"`)
	m := regexp.MustCompile(`(\d+) orders created, (\d+) claimed, (\d+) delivered`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	created, _ := strconv.Atoi(m[1])
	delivered, _ := strconv.Atoi(m[3])
	t.Logf("demo: %s", m[0])
	assert.GreaterOrEqual(t, created, 30, "3 vendors, an order each 250 ms at most")
	assert.Positive(t, delivered, "drivers carry orders through to delivery")
}
