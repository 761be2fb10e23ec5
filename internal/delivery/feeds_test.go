package delivery_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

// A role added to Config.Feeds gets its own feed with no rule in
// delivery: its records reach that role's user of that name, and no
// other role's user of the same name.
func TestAddedRoleOwnsItsFeed(t *testing.T) {
	log, recips := newMemLog(), newMemRecipients()
	cfg := delivery.Config{Feeds: map[string]string{"driver": delivery.FeedDriver, "operator": "o"}}
	d := delivery.NewQueues(cfg, log, recips, quietLog(t))
	require.NoError(t, d.Start(context.Background()))
	t.Cleanup(func() { d.Close(context.Background()) })

	op, _ := attach(t, d, delivery.RecipientID{Tenant: "acme", Role: "operator", User: "x1"})
	sameName, _ := attach(t, d, delivery.RecipientID{Tenant: "acme", Role: "driver", User: "x1"})
	for _, rec := range []delivery.Record{
		{Feed: "o", Tenant: "acme", Key: "x1", Event: "board:note", EventID: "e1", Body: json.RawMessage(`{"n":1}`)},
		{Feed: "o", Tenant: "acme", Key: "x2", Event: "board:note", EventID: "e2", Body: json.RawMessage(`{"n":2}`)},
		{Feed: "o", Tenant: "other", Key: "x1", Event: "board:note", EventID: "e3", Body: json.RawMessage(`{"n":3}`)},
	} {
		data, err := json.Marshal(&rec)
		require.NoError(t, err)
		_, _, err = log.Publish(context.Background(), log.EventSubject(rec.SubjectTokens()...), rec.MsgID(), data)
		require.NoError(t, err)
	}
	routed(t, d, log)

	got := op.waitN(t, 1)
	require.Equal(t, "board:note", got[0].event)
	require.JSONEq(t, `{"n":1,"seq":1}`, got[0].payload)
	op.quiet(t, 1)
	sameName.quiet(t, 0)
}
