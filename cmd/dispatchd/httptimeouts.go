package main

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

// readTimeouts counts request bodies cut by http.read_timeout: net/http
// closes such a connection without a log line of its own.
type readTimeouts struct{ n atomic.Int64 }

// ReadTimeouts returns how many request bodies were cut.
func (rt *readTimeouts) ReadTimeouts() int64 { return rt.n.Load() }

// middleware watches each request body for the read deadline.
func (rt *readTimeouts) middleware(log *zap.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = &timedBody{ReadCloser: r.Body, rt: rt, r: r, log: log}
			}
			return next(c)
		}
	}
}

// timedBody notices the first read that hits the connection's deadline.
type timedBody struct {
	io.ReadCloser
	rt  *readTimeouts
	r   *http.Request
	log *zap.Logger
	cut bool
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.cut && errors.Is(err, os.ErrDeadlineExceeded) {
		b.cut = true
		b.rt.n.Add(1)
		// Debug: a slowloris sends many; the counter shows them.
		b.log.Debug("request body read timed out", zap.String("method", b.r.Method),
			zap.String("path", b.r.URL.Path), zap.String("remote", b.r.RemoteAddr))
	}
	return n, err
}
