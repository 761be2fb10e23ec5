package orders

import (
	"errors"
	"fmt"
)

// Code is a client-visible error code (snake_case, from the contract).
type Code string

// Error codes of the contract.
const (
	CodeInvalidArgument Code = "invalid_argument"
	CodeNotFound        Code = "not_found"
	CodeForbidden       Code = "forbidden"
	CodeConflict        Code = "conflict"
	CodeAlreadyClaimed  Code = "already_claimed"
	CodeRateLimited     Code = "rate_limited"
	CodeUnauthorized    Code = "unauthorized"
	CodeInternal        Code = "internal"
	// CodeUnknownEvent answers an event the namespace has no handler for
	// (v2).
	CodeUnknownEvent Code = "unknown_event"
)

// Error is a failure a client may see: a code and a human message.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Is matches errors by code, so errors.Is(err, ErrNotFound) works for any
// not_found error.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Errorf builds an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinels for matching with errors.Is.
var (
	ErrNotFound       = &Error{Code: CodeNotFound, Message: "order not found"}
	ErrForbidden      = &Error{Code: CodeForbidden, Message: "not allowed"}
	ErrConflict       = &Error{Code: CodeConflict, Message: "the order's state does not allow it"}
	ErrAlreadyClaimed = &Error{Code: CodeAlreadyClaimed, Message: "another driver claimed the order"}
)

// CodeOf returns the client-visible code of err: internal for anything
// that is not an *Error.
func CodeOf(err error) (Code, string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.Message
	}
	return CodeInternal, "internal error"
}
