package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/delivery"
)

// noticeTimeout bounds publishing the disablement notice, retries
// included.
const noticeTimeout = 10 * time.Second

// Disabled is the webhook:disabled payload (without its seq).
type Disabled struct {
	EventID    string    `json:"eventId"`
	WebhookID  string    `json:"webhookId"`
	URL        string    `json:"url"`
	Reason     string    `json:"reason"`
	DisabledAt time.Time `json:"disabledAt"`
}

// DisabledRecord is the vendor-feed record that tells the endpoint's
// vendor it was disabled: its sockets hear webhook:disabled, durably, like
// its orders' events. Its id is derived from the endpoint's and the
// disablement's time, so a retried publish is stored once and a later
// disablement (after POST /enable) is a new event.
func DisabledRecord(ep Endpoint, at time.Time, reason string) (delivery.Record, error) {
	id := uuid.NewSHA1(uuid.NameSpaceOID, []byte("dispatchd:webhook-disabled:"+ep.ID+":"+strconv.FormatInt(at.UnixNano(), 10))).String()
	body, err := json.Marshal(Disabled{EventID: id, WebhookID: ep.ID, URL: ep.URL, Reason: reason, DisabledAt: at.UTC()})
	if err != nil {
		return delivery.Record{}, fmt.Errorf("encode webhook:disabled: %w", err)
	}
	return delivery.Record{Feed: delivery.FeedVendor, Tenant: ep.Tenant, Key: ep.VendorID,
		Event: eventWebhookDisabled, EventID: id, Body: body}, nil
}

// notifyDisabled publishes DisabledRecord to the log, retrying for a
// while: the disablement is stored already, the notice is its echo to the
// vendor's sockets. An endpoint of the whole tenant has no vendor feed to
// go to: its disablement is in the API and the log line only.
func (s *Sink) notifyDisabled(ctx context.Context, ep Endpoint, at time.Time, reason string) {
	if ep.VendorID == "" {
		return
	}
	rec, err := DisabledRecord(ep, at, reason)
	if err != nil {
		s.lg.Error("webhook disabled notice", zap.String("webhook", ep.ID), zap.Error(err))
		return
	}
	data, err := json.Marshal(rec)
	if err != nil {
		s.lg.Error("webhook disabled notice", zap.String("webhook", ep.ID), zap.Error(err))
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), noticeTimeout)
	defer cancel()
	subject := s.log.EventSubject(rec.Tenant, rec.Feed, rec.Key)
	// The relay's message id scheme (event|feed|key): one record per feed.
	msgID := rec.EventID + "|" + rec.Feed + "|" + rec.Key
	for n := 0; ; n++ {
		_, _, err = s.log.Publish(ctx, subject, msgID, data)
		if err == nil {
			return
		}
		if !sleep(ctx, backoff(n, 100*time.Millisecond, 5*time.Second)) {
			s.lg.Warn("webhook disabled notice not published", zap.String("webhook", ep.ID), zap.Error(err))
			return
		}
	}
}
