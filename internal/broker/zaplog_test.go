package broker

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestEmbeddedBannerIsOneLine starts the real embedded server: at info its
// banner is one structured line, and every notice is one line at debug.
func TestEmbeddedBannerIsOneLine(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, Config{DataDir: dir}, zap.New(core))
	require.NoError(t, err)
	closeBroker(t, b)

	var info []observer.LoggedEntry
	for _, e := range logs.All() {
		require.NotContains(t, e.Message, "\n", "one line per entry")
		if e.Level >= zapcore.InfoLevel && e.LoggerName == "nats" {
			info = append(info, e)
		}
	}
	require.NotEmpty(t, info)
	ready := info[0]
	require.Equal(t, "embedded nats ready", ready.Message, "the banner folds into the first info line")
	fields := ready.ContextMap()
	require.NotEmpty(t, fields["version"])
	require.Equal(t, "dispatchd-embedded", fields["name"])
	require.Equal(t, filepath.Join(dir, "nats", "jetstream"), fields["jetstream_store_directory"])
	for _, e := range info[1:] {
		require.NotContains(t, e.Message, "Version:", "no banner line at info")
		require.NotContains(t, e.Message, "___", "no ASCII art at info")
		require.False(t, strings.HasPrefix(e.Message, "---"), "no rules at info: %q", e.Message)
	}
	// Only start-up's one line and shutdown's few: not the twenty-odd
	// banner lines.
	require.Less(t, len(info), 8, "info lines: %v", messages(info))
}

func TestZapLoggerFold(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	l := newZapLogger(zap.New(core))
	for _, m := range []string{"Starting nats-server", "  Version:  2.99.0", "  Name:     n1",
		"---------------- JETSTREAM ----------------", "  Max Memory:      1 GB", " _ | | __|_   _/ __|",
		"         https://docs.nats.io/jetstream",
		"-------------------------------------------", "Took 2ms to start JetStream"} {
		l.Noticef("%s", m)
	}
	require.Zero(t, logs.Len(), "nothing at info before the server is ready")
	l.Warnf("disk %s", "slow")
	l.Noticef(natsReady)
	l.Noticef("Initiating Shutdown...")
	all := logs.All()
	require.Len(t, all, 3)
	require.Equal(t, "disk slow", all[0].Message, "warnings pass at once")
	require.Equal(t, "embedded nats ready", all[1].Message)
	require.Equal(t, map[string]any{"version": "2.99.0", "name": "n1", "jetstream_max_memory": "1 GB"}, all[1].ContextMap())
	require.Equal(t, "Initiating Shutdown...", all[2].Message)
}

func messages(es []observer.LoggedEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Message
	}
	return out
}
