package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxResponseBytes is how much of a response is read (and dropped) so
// that its connection can be reused.
const maxResponseBytes = 64 << 10

// sender makes the HTTP attempts: no proxy (a proxy would dial for us,
// past the guard), no redirects (a 3xx is a failure: the receiver must
// register its final URL), the guard at dial time.
type sender struct {
	client *http.Client
	obs    Observer
}

func newSender(cfg Config) *sender {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialContext(dialer(cfg.Timeout, cfg.AllowPrivate)),
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   cfg.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &sender{obs: cfg.Observer, client: &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// result is one attempt's outcome.
type result struct {
	status int   // HTTP status, 0 without a response
	err    error // nil only for a 2xx
}

// send makes one attempt of msg at now.
func (s *sender) send(ctx context.Context, ep *Endpoint, msgID string, body []byte, now time.Time) result {
	start := time.Now()
	r := s.do(ctx, ep, msgID, body, now)
	s.obs.WebhookAttempt(r.kind(), time.Since(start))
	return r
}

func (s *sender) do(ctx context.Context, ep *Endpoint, msgID string, body []byte, now time.Time) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return result{err: fmt.Errorf("build request: %w", err)}
	}
	if err := setHeaders(req.Header, ep.Secret, msgID, now, body); err != nil {
		return result{err: err}
	}
	req.Header.Set("User-Agent", "dispatchd-webhooks/1")
	resp, err := s.client.Do(req)
	if err != nil {
		return result{err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return result{status: resp.StatusCode, err: fmt.Errorf("receiver answered %s", resp.Status)}
	}
	return result{status: resp.StatusCode}
}

// kind is the attempt's result label.
func (r result) kind() string {
	switch {
	case r.err == nil:
		return ResultOK
	case errors.Is(r.err, errRefused):
		return ResultRefused
	case r.status != 0:
		return ResultStatus
	}
	return ResultNetwork
}

// close drops idle connections.
func (s *sender) close() { s.client.CloseIdleConnections() }
