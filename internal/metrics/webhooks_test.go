package metrics

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"

	"github.com/dispatchd/dispatchd/internal/webhooks"
)

type fakeWebhooks struct{ st webhooks.Stats }

func (f fakeWebhooks) Stats() webhooks.Stats { return f.st }

func TestWebhookMetrics(t *testing.T) {
	m := New()
	m.WebhookAttempt(webhooks.ResultOK, 20*time.Millisecond)
	m.WebhookAttempt(webhooks.ResultRefused, time.Millisecond)
	m.WebhookMessage(webhooks.ResultDelivered)
	m.WebhookMessage(webhooks.ResultDelivered)
	m.WebhookDisabled()
	m.WebhookGap(7)
	m.WatchWebhooks(fakeWebhooks{webhooks.Stats{Endpoints: 3, Waiting: 12, Lag: 1500 * time.Millisecond}})

	assert.Equal(t, 2.0, testutil.ToFloat64(m.webhooks.messages.WithLabelValues(webhooks.ResultDelivered)))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.webhooks.disabled))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`dispatchd_webhook_attempts_seconds_count{result="ok"} 1`,
		`dispatchd_webhook_attempts_seconds_count{result="refused"} 1`,
		`dispatchd_webhook_attempts_seconds_count{result="network"} 0`,
		`dispatchd_webhook_messages_total{result="expired"} 0`,
		`dispatchd_webhook_disabled_total 1`,
		`dispatchd_webhook_unread_positions_total 7`,
		`dispatchd_webhook_endpoints 3`,
		`dispatchd_webhook_waiting 12`,
		`dispatchd_webhook_lag_seconds 1.5`,
	} {
		assert.Contains(t, body, want)
	}
}
