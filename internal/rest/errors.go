package rest

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// errorBody is the contract's error object: {"error":{"code","message"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    orders.Code `json:"code"`
	Message string      `json:"message"`
}

// statusOf maps a contract code to its HTTP status.
func statusOf(code orders.Code) int {
	switch code {
	case orders.CodeInvalidArgument:
		return http.StatusBadRequest
	case orders.CodeUnauthorized:
		return http.StatusUnauthorized
	case orders.CodeForbidden:
		return http.StatusForbidden
	case orders.CodeNotFound:
		return http.StatusNotFound
	case orders.CodeConflict, orders.CodeAlreadyClaimed:
		return http.StatusConflict
	case orders.CodeRateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// classify turns any error a handler or middleware returns into a status
// and a client-safe code and message. Only *orders.Error messages and
// echo's own client errors (404, 405, 413) reach the client; anything
// else is "internal".
func classify(err error) (int, orders.Code, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, orders.CodeNotFound, "no such route"
		case http.StatusMethodNotAllowed:
			return he.Code, orders.CodeInvalidArgument, "method not allowed on this route"
		case http.StatusRequestEntityTooLarge:
			return he.Code, orders.CodeInvalidArgument, "request body is larger than 64 KiB"
		}
		return http.StatusInternalServerError, orders.CodeInternal, "internal error"
	}
	code, msg := orders.CodeOf(err)
	return statusOf(code), code, msg
}

// renderErrors is the edge of every route: it writes the error a handler
// returns as JSON and logs internal ones, whose details never leave the
// server.
func (a *api) renderErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil {
			return nil
		}
		status, code, msg := classify(err)
		if code == orders.CodeInternal {
			if c.Request().Context().Err() != nil {
				// The client went away mid-way; nobody reads this answer.
				a.log.Debug("request abandoned", zap.String("route", c.Path()), zap.String("request_id", requestID(c)), zap.Error(err))
			} else {
				a.log.Error("request failed", zap.String("method", c.Request().Method),
					zap.String("route", c.Path()), zap.String("request_id", requestID(c)), zap.Error(err))
			}
		}
		if c.Response().Committed {
			return nil
		}
		return c.JSON(status, errorBody{Error: errorDetail{Code: code, Message: msg}})
	}
}

// requestID is the id the RequestID middleware gave this request.
func requestID(c echo.Context) string { return c.Response().Header().Get(echo.HeaderXRequestID) }
