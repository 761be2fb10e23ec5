package orders

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"
)

// TrackingTokenBytes is the randomness of a tracking token: 144 bits,
// 24 base64url characters. The token alone opens an order's tracking
// view, so it must not be guessable.
const TrackingTokenBytes = 18

// TrackingGrace is how long a tracking link lives after its order ended
// (delivered, cancelled or failed).
const TrackingGrace = 24 * time.Hour

// NewTrackingToken returns a fresh tracking token from crypto/rand,
// base64url without padding.
func NewTrackingToken() (string, error) {
	b := make([]byte, TrackingTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make tracking token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidTrackingToken reports whether s can be a tracking token at all
// (base64url or hex, of a sane length), so that junk never reaches the
// store.
func ValidTrackingToken(s string) bool {
	if len(s) < 22 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Ended reports whether s ends an order's lifecycle.
func (s Status) Ended() bool { return s == Delivered || s == Cancelled || s == Failed }

// TrackingOpen reports whether o's tracking link still works at now: until
// TrackingGrace after the order ended. An ended order changes no more, so
// its UpdatedAt is when it ended.
func TrackingOpen(o Order, now time.Time) bool {
	if o.TrackingToken == "" {
		return false
	}
	return !o.Status.Ended() || now.Before(o.UpdatedAt.Add(TrackingGrace))
}

// Tracking is the public view of an order behind its tracking link: what
// a customer's tracking page shows, to anyone holding the link. It holds
// no id of the tenant, vendor, customer, driver or order, no store,
// zone, dispatch or version (the vendor's internals), no actors or
// reasons of the log (free text of vendors and drivers), and not the PIN:
// PINRequired only says one will be asked for (the PIN itself stays in
// the customer's order:watch, as the contract says).
type Tracking struct {
	Status      Status         `json:"status"`
	Pickup      Place          `json:"pickup"`
	Dropoff     Place          `json:"dropoff"`
	Items       []Item         `json:"items,omitempty"`
	PINRequired bool           `json:"pinRequired"`
	Timeline    []TrackingStep `json:"timeline"`
	Failure     *Failure       `json:"failure,omitempty"`
	// Courier is where the driver was last seen, while it holds the
	// order (assigned, picked_up, in_transit) and its position is fresh.
	Courier *CourierPosition `json:"courier,omitempty"`
	// ETASeconds estimates the courier's time to the next stop (the
	// pickup while assigned, else the dropoff), from its position.
	ETASeconds *int      `json:"etaSeconds,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	// ExpiresAt, once the order ended, is when the link stops working.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// PollSeconds is how often a page should ask again while the order
	// is open (with If-None-Match); 0 once it ended.
	PollSeconds int `json:"pollSeconds"`
}

// TrackingStep is one entry of the status timeline.
type TrackingStep struct {
	Status Status    `json:"status"`
	At     time.Time `json:"at"`
}

// CourierPosition is the driver's last known position.
type CourierPosition struct {
	Lat float64   `json:"lat"`
	Lng float64   `json:"lng"`
	At  time.Time `json:"at"`
}

// Carrying reports whether a driver holds an order in status s.
func (s Status) Carrying() bool { return s == Assigned || s == PickedUp || s == InTransit }

// NewTracking is o's public view with its log evs (oldest first); the
// caller adds the courier and ETA. pollSeconds is the polling advice for
// an open order.
func NewTracking(o Order, evs []Event, pollSeconds int) Tracking {
	t := Tracking{
		Status:      o.Status,
		Pickup:      o.Pickup,
		Dropoff:     o.Dropoff,
		Items:       o.Items,
		PINRequired: o.Proof == ProofPIN,
		Timeline:    make([]TrackingStep, 0, len(evs)),
		CreatedAt:   o.CreatedAt,
		UpdatedAt:   o.UpdatedAt,
		PollSeconds: pollSeconds,
	}
	for _, e := range evs {
		t.Timeline = append(t.Timeline, TrackingStep{Status: e.Status, At: e.At})
	}
	if o.Failure != nil {
		f := *o.Failure
		t.Failure = &f
	}
	if o.Status.Ended() {
		exp := o.UpdatedAt.Add(TrackingGrace)
		t.ExpiresAt, t.PollSeconds = &exp, 0
	}
	return t
}
