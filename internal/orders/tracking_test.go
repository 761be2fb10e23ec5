package orders

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewTrackingToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, err := NewTrackingToken()
		require.NoError(t, err)
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		require.NoError(t, err)
		require.Len(t, raw, TrackingTokenBytes)
		require.GreaterOrEqual(t, 8*len(raw), 128, "at least 128 random bits")
		require.True(t, ValidTrackingToken(tok), tok)
		require.False(t, seen[tok])
		seen[tok] = true
	}
	for _, bad := range []string{"", "short", "a b c d e f g h i j k l m", "AAAAAAAAAAAAAAAAAAAAAAA=", string(make([]byte, 65))} {
		assert.False(t, ValidTrackingToken(bad), "%q", bad)
	}
	assert.True(t, ValidTrackingToken("0123456789abcdef0123456789abcdef"), "a migrated hex token")
}

func TestTrackingOpen(t *testing.T) {
	end := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		status Status
		token  string
		now    time.Time
		open   bool
	}{
		{"open order, long after", InTransit, "tok", end.Add(30 * 24 * time.Hour), true},
		{"delivered, just before 24 h", Delivered, "tok", end.Add(TrackingGrace - time.Nanosecond), true},
		{"delivered, at 24 h", Delivered, "tok", end.Add(TrackingGrace), false},
		{"cancelled, after", Cancelled, "tok", end.Add(TrackingGrace + time.Hour), false},
		{"failed, before", Failed, "tok", end.Add(time.Hour), true},
		{"no token", Ready, "", end, false},
	}
	for _, tc := range tests {
		o := Order{Status: tc.status, TrackingToken: tc.token, UpdatedAt: end}
		assert.Equal(t, tc.open, TrackingOpen(o, tc.now), tc.name)
	}
}
