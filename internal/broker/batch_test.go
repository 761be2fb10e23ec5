package broker

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/hub"
)

func TestPublishBatch(t *testing.T) {
	forEachServer(t, func(t *testing.T, cfg Config) {
		b := open(t, cfg)
		defer closeBroker(t, b)
		ctx := context.Background()
		msgs := make([]hub.LogMessage, 300)
		for i := range msgs {
			msgs[i] = hub.LogMessage{Subject: b.EventSubject("t1", "v", "v1"), ID: fmt.Sprintf("m%d", i), Data: []byte(fmt.Sprint(i))}
		}
		res := b.PublishBatch(ctx, msgs)
		require.Len(t, res, len(msgs))
		for i, r := range res {
			require.NoError(t, r.Err)
			assert.False(t, r.Duplicate)
			if i > 0 {
				assert.Equal(t, res[i-1].Pos+1, r.Pos, "stored in the order sent")
			}
		}
		again := b.PublishBatch(ctx, msgs[:10])
		for i, r := range again {
			require.NoError(t, r.Err)
			assert.True(t, r.Duplicate, "a retried message is a duplicate")
			assert.Equal(t, res[i].Pos, r.Pos)
		}
		bad := b.PublishBatch(ctx, []hub.LogMessage{{Subject: "elsewhere.x", ID: "x", Data: []byte("x")}})
		assert.Error(t, bad[0].Err, "a subject outside the stream is refused")
	})
}
