package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// TestSignVector: the Standard Webhooks test vector, as the reference
// libraries check it.
func TestSignVector(t *testing.T) {
	sig, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	require.NoError(t, err)
	assert.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sig)
}

func TestNewSecret(t *testing.T) {
	a, err := newSecret()
	require.NoError(t, err)
	b, err := newSecret()
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	key, err := secretKey(a)
	require.NoError(t, err)
	assert.Len(t, key, secretBytes)
	assert.Regexp(t, `^whsec_[A-Za-z0-9+/]+=*$`, a)
}

func TestRefusedAddr(t *testing.T) {
	tests := []struct {
		addr    string
		refused bool
	}{
		{"127.0.0.1", true}, {"::1", true}, {"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.1.1", true},
		{"169.254.169.254", true}, {"fe80::1", true}, {"0.0.0.0", true}, {"::", true}, {"fc00::1", true},
		{"100.64.0.1", true}, {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true}, {"224.0.0.1", true},
		{"93.184.216.34", false}, {"2606:2800:220:1::1", false}, {"8.8.8.8", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			assert.Equal(t, tt.refused, refusedAddr(netip.MustParseAddr(tt.addr)))
		})
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://hooks.example.com/in", false, true},
		{"http://hooks.example.com:8080/in?x=1", false, true},
		{"http://localhost:8080/", false, true}, // a name: checked when dialed
		{"http://127.0.0.1:8080/", false, false},
		{"http://[::1]/", false, false},
		{"http://169.254.169.254/latest/meta-data", false, false},
		{"http://127.0.0.1:8080/", true, true},
		{"ftp://hooks.example.com/", false, false},
		{"/relative", false, false},
		{"https://user:pw@hooks.example.com/", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := checkURL(tt.url, tt.allowPrivate)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, orders.Errorf(orders.CodeInvalidArgument, "")), "invalid_argument: %v", err)
		})
	}
}

// TestGuardAtDial: a name that resolves to loopback is refused when
// dialed, before any byte is sent; with allow_private it goes through.
func TestGuardAtDial(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits++ }))
	defer srv.Close()
	url := "http://localhost:" + srv.URL[len("http://127.0.0.1:"):]
	ep := &Endpoint{URL: url, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}

	guarded := newSender(Config{AllowPrivate: false}.withDefaults())
	r := guarded.send(context.Background(), ep, "msg_1", []byte(`{}`), time.Now())
	require.Error(t, r.err)
	assert.ErrorIs(t, r.err, errRefused)
	assert.Equal(t, ResultRefused, r.kind())
	assert.Zero(t, hits)

	open := newSender(Config{AllowPrivate: true}.withDefaults())
	r = open.send(context.Background(), ep, "msg_1", []byte(`{}`), time.Now())
	require.NoError(t, r.err)
	assert.Equal(t, 1, hits)
}

// TestNoRedirects: a 3xx is a failure, not followed.
func TestNoRedirects(t *testing.T) {
	target := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/target", http.StatusTemporaryRedirect)
			return
		}
		target++
	}))
	defer srv.Close()
	s := newSender(Config{AllowPrivate: true}.withDefaults())
	r := s.send(context.Background(), &Endpoint{URL: srv.URL + "/moved", Secret: "whsec_AAAA"}, "m", []byte(`{}`), time.Now())
	require.Error(t, r.err)
	assert.Equal(t, http.StatusTemporaryRedirect, r.status)
	assert.Equal(t, ResultStatus, r.kind())
	assert.Zero(t, target)
}

func TestMessages(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	body := func(status string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"eventId": "e1", "orderId": "o1", "status": status, "at": at})
		return b
	}
	tests := []struct {
		name  string
		rec   delivery.Record
		types []string
		ids   []string
	}{
		{"created", delivery.Record{Event: "order:status", EventID: "e1", OrderID: "o1", Version: 1, Body: body("ready")},
			[]string{TypeStatus, TypeCreated}, []string{"msg_e1", "msg_e1_created"}},
		{"given back", delivery.Record{Event: "order:status", EventID: "e1", OrderID: "o1", Version: 3, Body: body("ready")},
			[]string{TypeStatus}, []string{"msg_e1"}},
		{"assigned", delivery.Record{Event: "order:status", EventID: "e1", OrderID: "o1", Version: 2, Body: body("assigned")},
			[]string{TypeStatus}, []string{"msg_e1"}},
		{"failed", delivery.Record{Event: "order:status", EventID: "e1", OrderID: "o1", Version: 5, Body: body("failed")},
			[]string{TypeStatus, TypeFailed}, []string{"msg_e1", "msg_e1_failed"}},
		{"cancelled", delivery.Record{Event: "order:status", EventID: "e1", OrderID: "o1", Version: 2, Body: body("cancelled")},
			[]string{TypeStatus, TypeCancelled}, []string{"msg_e1", "msg_e1_cancelled"}},
		{"delivered", delivery.Record{Event: "order:delivered", EventID: "e1", OrderID: "o1", Body: body("")},
			[]string{TypeDelivered}, []string{"msg_e1"}},
		{"unassigned", delivery.Record{Event: "order:unassigned", EventID: "e1", OrderID: "o1", Body: body("")}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := messages(tt.rec)
			require.NoError(t, err)
			var types, ids []string
			for _, m := range msgs {
				types, ids = append(types, m.Type), append(ids, m.ID)
				var env struct {
					Type      string          `json:"type"`
					Timestamp time.Time       `json:"timestamp"`
					Data      json.RawMessage `json:"data"`
				}
				require.NoError(t, json.Unmarshal(m.Body, &env))
				assert.Equal(t, m.Type, env.Type)
				assert.True(t, at.Equal(env.Timestamp))
				assert.JSONEq(t, string(tt.rec.Body), string(env.Data))
				assert.Equal(t, "o1", m.OrderID)
			}
			assert.Equal(t, tt.types, types)
			assert.Equal(t, tt.ids, ids)
		})
	}
}

func TestTracker(t *testing.T) {
	tr := newTracker(10)
	pos, waiting, _ := tr.cursor()
	assert.Equal(t, uint64(10), pos)
	assert.Zero(t, waiting)
	tr.skip(12) // 11, 12: not the endpoint's
	tr.push(13, time.Now())
	tr.push(15, time.Now())
	tr.push(16, time.Now())
	pos, waiting, _ = tr.cursor()
	assert.Equal(t, uint64(12), pos)
	assert.Equal(t, 3, waiting)
	tr.finish(15) // out of order: 13 still holds the cursor
	pos, _, _ = tr.cursor()
	assert.Equal(t, uint64(12), pos)
	tr.finish(13)
	pos, waiting, _ = tr.cursor()
	assert.Equal(t, uint64(15), pos)
	assert.Equal(t, 1, waiting)
	tr.finish(16)
	tr.skip(20)
	pos, waiting, _ = tr.cursor()
	assert.Equal(t, uint64(20), pos)
	assert.Zero(t, waiting)
	assert.Equal(t, uint64(21), tr.next())
}

func TestBackoff(t *testing.T) {
	for n := range 50 {
		d := backoff(n, time.Second, time.Minute)
		want := time.Minute
		if n < 6 {
			want = time.Second << n
		}
		assert.GreaterOrEqual(t, d, want/2, "attempt %d", n)
		assert.LessOrEqual(t, d, want, "attempt %d", n)
	}
}

func TestValidTypes(t *testing.T) {
	assert.True(t, validTypes([]string{TypeStatus}))
	assert.True(t, validTypes(Types()))
	assert.False(t, validTypes(nil))
	assert.False(t, validTypes([]string{"order.unknown"}))
	assert.False(t, validTypes([]string{TypeStatus, TypeStatus}))
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	bad := DefaultConfig()
	bad.Poll, bad.Concurrency, bad.RetryMax = 0, 0, time.Millisecond
	err := bad.Validate()
	require.Error(t, err)
	for _, key := range []string{"poll", "concurrency", "retry_max"} {
		assert.Contains(t, err.Error(), key)
	}
}
