package rest

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// The drivers' routes: the socket's pickups:subscribe listing and the
// order events of the /drivers namespace, through the same service calls
// with the same authorisation and codes.

// pickupsList is the GET /pickups body, as pickups:subscribe's ack.
type pickupsList struct {
	Pickups []orders.Order `json:"pickups"`
}

// pickups is GET /pickups?zone=: the ready orders a driver may claim, in
// one zone or all, without those still offered to a few nearest drivers.
func (a *api) pickups(c echo.Context) error {
	ctx, cancel := ctx(c)
	defer cancel()
	list, err := a.svc.Pickups(ctx, claimsOf(c), c.QueryParam("zone"))
	if err != nil {
		return err
	}
	if list == nil {
		list = []orders.Order{}
	}
	return c.JSON(http.StatusOK, pickupsList{Pickups: list})
}

// The bodies of the driver's actions that take arguments, as their socket
// events' without the orderId: failed { reason }, unassign { reason? },
// delivered { proof?: { pin } }. Each route reads only its own fields;
// others are refused as unknown.
type (
	reasonBody struct {
		Reason string `json:"reason"`
	}
	deliveredBody struct {
		Proof *struct {
			PIN string `json:"pin"`
		} `json:"proof"`
	}
)

// act is POST /orders/{id}/claim|picked-up|in-transit: a bodiless step of
// the order's lifecycle (any body is ignored). A retry answers 200 with
// the order unchanged.
func (a *api) act(action orders.Action) echo.HandlerFunc {
	return func(c echo.Context) error {
		return a.perform(c, orders.Request{Action: action})
	}
}

// delivered is POST /orders/{id}/delivered { proof?: { pin } }.
func (a *api) delivered(c echo.Context) error {
	var in deliveredBody
	if err := decodeOptionalBody(c.Request().Body, &in, "delivery"); err != nil {
		return err
	}
	req := orders.Request{Action: orders.ActionDeliver}
	if in.Proof != nil {
		req.PIN = in.Proof.PIN
	}
	return a.perform(c, req)
}

// failed is POST /orders/{id}/failed { reason }.
func (a *api) failed(c echo.Context) error {
	var in reasonBody
	if err := decodeBody(c.Request().Body, &in, "failure"); err != nil {
		return err
	}
	return a.perform(c, orders.Request{Action: orders.ActionFail, Reason: in.Reason})
}

// unassign is POST /orders/{id}/unassign { reason? }.
func (a *api) unassign(c echo.Context) error {
	var in reasonBody
	if err := decodeOptionalBody(c.Request().Body, &in, "unassign request"); err != nil {
		return err
	}
	return a.perform(c, orders.Request{Action: orders.ActionUnassign, Reason: in.Reason})
}

func (a *api) perform(c echo.Context, req orders.Request) error {
	ctx, cancel := ctx(c)
	defer cancel()
	o, err := a.svc.Perform(ctx, claimsOf(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}
