package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// HeaderIdempotencyKey may carry the idempotency key of POST /orders
// instead of the body's idempotencyKey.
const HeaderIdempotencyKey = "Idempotency-Key"

// ordersList is the GET /orders body; NextCursor, absent on the last
// page, asks for the next one.
type ordersList struct {
	Orders     []orders.Order `json:"orders"`
	NextCursor string         `json:"nextCursor,omitempty"`
}

// eventsList is the GET /orders/{id}/events body.
type eventsList struct {
	Events []orders.Event `json:"events"`
}

// createOrder is POST /orders: 201 with the new order, or 200 with the
// order an earlier request with the same idempotency key created.
func (a *api) createOrder(c echo.Context) error {
	n := orders.NewOrderInput() // missing coordinates stay unset, not 0
	if err := decodeBody(c.Request().Body, &n, "order"); err != nil {
		return err
	}
	if key := c.Request().Header.Get(HeaderIdempotencyKey); key != "" {
		if n.IdempotencyKey != "" && n.IdempotencyKey != key {
			return orders.Errorf(orders.CodeInvalidArgument,
				"the Idempotency-Key header and the body's idempotencyKey differ")
		}
		n.IdempotencyKey = key
	}
	ctx, cancel := ctx(c)
	defer cancel()
	o, created, err := a.svc.CreateOrder(ctx, claimsOf(c), n)
	if err != nil {
		return err
	}
	if !created {
		return c.JSON(http.StatusOK, o)
	}
	c.Response().Header().Set(echo.HeaderLocation, c.Path()+"/"+o.ID)
	return c.JSON(http.StatusCreated, o)
}

// getOrder is GET /orders/{id}.
func (a *api) getOrder(c echo.Context) error {
	ctx, cancel := ctx(c)
	defer cancel()
	o, err := a.svc.Get(ctx, claimsOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

// listOrders is GET /orders?status=&limit=&cursor=: the caller's orders
// (a vendor's posted, a customer's placed, a driver's assigned), oldest
// first, one page at a time.
func (a *api) listOrders(c echo.Context) error {
	page, err := pageOf(c)
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	list, more, err := a.svc.ListPage(ctx, claimsOf(c), orders.Status(c.QueryParam("status")), page)
	if err != nil {
		return err
	}
	body := ordersList{Orders: list}
	if body.Orders == nil {
		body.Orders = []orders.Order{}
	}
	if more {
		body.NextCursor = cursorAfter(list[len(list)-1].ID)
	}
	return c.JSON(http.StatusOK, body)
}

// cancelOrder is POST /orders/{id}/cancel, for the order's vendor. A
// repeated cancel answers 200 with the order unchanged.
func (a *api) cancelOrder(c echo.Context) error {
	ctx, cancel := ctx(c)
	defer cancel()
	o, err := a.svc.Act(ctx, claimsOf(c), c.Param("id"), orders.ActionCancel)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

// orderEvents is GET /orders/{id}/events: the order's full log, oldest
// first, for whoever may see the order.
func (a *api) orderEvents(c echo.Context) error {
	ctx, cancel := ctx(c)
	defer cancel()
	evs, err := a.svc.Events(ctx, claimsOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []orders.Event{}
	}
	return c.JSON(http.StatusOK, eventsList{Events: evs})
}

// errEmptyBody is decodeObject's answer to a body without any JSON.
var errEmptyBody = errors.New("empty body")

// decodeBody reads exactly one JSON object into v, whatever the
// Content-Type. Unknown fields are refused, so a misspelt optional field
// (say "idempotency_key") fails loudly instead of being dropped. what
// names the object in messages ("order").
func decodeBody(r io.Reader, v any, what string) error {
	err := decodeObject(r, v, what)
	if errors.Is(err, errEmptyBody) {
		return orders.Errorf(orders.CodeInvalidArgument, "the body must be a JSON object")
	}
	return err
}

// decodeOptionalBody is decodeBody for a body that may be left out (or
// empty): v is then left as it is.
func decodeOptionalBody(r io.Reader, v any, what string) error {
	err := decodeObject(r, v, what)
	if errors.Is(err, errEmptyBody) {
		return nil
	}
	return err
}

func decodeObject(r io.Reader, v any, what string) error {
	br := &bodyReader{r: r}
	dec := json.NewDecoder(br)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Anything after the object, but whitespace, is refused too.
		err = dec.Decode(&json.RawMessage{})
		if err == io.EOF {
			return nil
		}
		if br.err == nil {
			return orders.Errorf(orders.CodeInvalidArgument, "the body must hold exactly one JSON object")
		}
	}
	if br.err != nil {
		var he *echo.HTTPError
		if errors.As(br.err, &he) {
			return he // 413 from the body limit
		}
		return fmt.Errorf("read request body: %w", br.err)
	}
	var (
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
		msg string
	)
	switch {
	case errors.Is(err, io.EOF):
		return errEmptyBody
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		msg = "the body is not valid JSON"
	case errors.As(err, &te):
		if te.Field == "" {
			msg = "the body must be a JSON object"
		} else {
			msg = fmt.Sprintf("field %q has the wrong type", te.Field)
		}
	default:
		// Read errors were handled above, so this is DisallowUnknownFields'
		// `json: unknown field "x"`: it names the client's own field.
		msg = "the body is not a valid " + what + ": " + strings.TrimPrefix(err.Error(), "json: ")
	}
	return orders.Errorf(orders.CodeInvalidArgument, "%s", msg)
}

// bodyReader remembers the first read error other than io.EOF, so that a
// failing connection or the body limit is not mistaken for bad JSON.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}
