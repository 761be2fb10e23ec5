package rest

import (
	"encoding/base64"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dispatchd/dispatchd/internal/dispatch"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// A cursor is the base64url of the last listed order's id: opaque to
// clients, so that what it holds may change, and checked on the way
// back in, so that a mangled one is a 400 rather than a wrong page.
// Orders are paged by id (UUIDv7, so creation order), which keeps each
// order on exactly one page while others are added.

var (
	errBadLimit  = orders.Errorf(orders.CodeInvalidArgument, "limit must be an integer from 1 to %d", dispatch.MaxPageSize)
	errBadCursor = orders.Errorf(orders.CodeInvalidArgument, "cursor is not one this API gave out; start again without it")
)

// cursorAfter is the cursor of the page after the order id.
func cursorAfter(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// pageOf reads ?limit= (absent: dispatch.DefaultPageSize) and ?cursor=
// (absent or empty: the first page, so a client's loop may start with an
// empty cursor).
func pageOf(c echo.Context) (dispatch.Page, error) {
	var p dispatch.Page
	if q := c.QueryParams(); q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > dispatch.MaxPageSize {
			return p, errBadLimit
		}
		p.Limit = n
	}
	if s := c.QueryParam("cursor"); s != "" {
		id, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || !orders.ValidID(string(id)) {
			return p, errBadCursor
		}
		p.After = string(id)
	}
	return p, nil
}
