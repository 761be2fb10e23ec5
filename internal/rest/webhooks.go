package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/tenants"
	"github.com/dispatchd/dispatchd/internal/webhooks"
)

// Webhooks is what the webhook routes need (webhooks.Sink).
type Webhooks interface {
	Create(ctx context.Context, o webhooks.Owner, url string, events []string) (webhooks.Endpoint, error)
	List(ctx context.Context, o webhooks.Owner) ([]webhooks.Endpoint, error)
	Get(ctx context.Context, o webhooks.Owner, id string) (webhooks.Endpoint, error)
	Delete(ctx context.Context, o webhooks.Owner, id string) error
	Deliveries(ctx context.Context, o webhooks.Owner, id string, limit int) ([]webhooks.Delivery, error)
	Retry(ctx context.Context, o webhooks.Owner, id, deliveryID string) (webhooks.Delivery, error)
	Enable(ctx context.Context, o webhooks.Owner, id string) (webhooks.Endpoint, error)
}

var _ Webhooks = (*webhooks.Sink)(nil)

var (
	errWebhooksOff    = orders.Errorf(orders.CodeNotFound, "webhooks are not served here")
	errWebhooksVendor = orders.Errorf(orders.CodeForbidden, "only vendors manage webhooks")
)

// newWebhook is the POST /webhooks body; Tenant is the admin's choice
// (a vendor's is its own).
type newWebhook struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Tenant string   `json:"tenant,omitempty"`
}

// createdWebhook is the POST /webhooks answer: the endpoint and, this
// once, its secret.
type createdWebhook struct {
	webhooks.Endpoint
	Secret string `json:"secret"`
}

// deliveryView is a delivery with the message it sent.
type deliveryView struct {
	webhooks.Delivery
	Payload json.RawMessage `json:"payload"`
}

// webhookRoutes serves the webhook API; hooks may be nil (the routes
// then answer 404).
type webhookRoutes struct{ hooks Webhooks }

// mountWebhooks registers the webhook routes on g; limit bounds the one
// body read.
func mountWebhooks(g *echo.Group, hooks Webhooks, limit echo.MiddlewareFunc) {
	r := webhookRoutes{hooks: hooks}
	g.POST("/webhooks", r.create, limit)
	g.GET("/webhooks", r.list)
	g.GET("/webhooks/:id", r.get)
	g.DELETE("/webhooks/:id", r.delete)
	g.POST("/webhooks/:id/enable", r.enable)
	g.GET("/webhooks/:id/deliveries", r.deliveries)
	g.POST("/webhooks/:id/deliveries/:deliveryId/retry", r.retry)
}

// owner is whose webhooks the caller manages: a vendor, its own; the
// admin token, the tenant-wide endpoints of the tenant it names (tenant,
// from the body, else ?tenant=).
func (r webhookRoutes) owner(c echo.Context, tenant string) (webhooks.Owner, error) {
	if r.hooks == nil {
		return webhooks.Owner{}, errWebhooksOff
	}
	if tenant == "" {
		tenant = c.QueryParam("tenant")
	}
	if isAdmin(c) {
		if tenant == "" {
			return webhooks.Owner{}, orders.Errorf(orders.CodeInvalidArgument, "with the admin token, name the tenant: ?tenant=<id>")
		}
		return webhooks.Owner{Tenant: tenant}, tenants.CheckID(tenant)
	}
	cl := claimsOf(c)
	if cl.Role != orders.RoleVendor {
		return webhooks.Owner{}, errWebhooksVendor
	}
	if tenant != "" && tenant != cl.Tenant {
		return webhooks.Owner{}, orders.Errorf(orders.CodeForbidden, "a vendor manages its own tenant's webhooks only")
	}
	return webhooks.Owner{Tenant: cl.Tenant, VendorID: cl.Subject}, nil
}

// create is POST /webhooks: 201 with the endpoint and its secret.
func (r webhookRoutes) create(c echo.Context) error {
	if r.hooks == nil {
		return errWebhooksOff
	}
	var n newWebhook
	if err := decodeBody(c.Request().Body, &n, "webhook"); err != nil {
		return err
	}
	o, err := r.owner(c, n.Tenant)
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	ep, err := r.hooks.Create(ctx, o, n.URL, n.Events)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, c.Path()+"/"+ep.ID)
	return c.JSON(http.StatusCreated, createdWebhook{Endpoint: ep, Secret: ep.Secret})
}

// list is GET /webhooks.
func (r webhookRoutes) list(c echo.Context) error {
	o, err := r.owner(c, "")
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	eps, err := r.hooks.List(ctx, o)
	if err != nil {
		return err
	}
	if eps == nil {
		eps = []webhooks.Endpoint{}
	}
	return c.JSON(http.StatusOK, map[string][]webhooks.Endpoint{"webhooks": eps})
}

// get is GET /webhooks/{id}.
func (r webhookRoutes) get(c echo.Context) error {
	o, err := r.owner(c, "")
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	ep, err := r.hooks.Get(ctx, o, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ep)
}

// enable is POST /webhooks/{id}/enable: a disabled endpoint back on,
// from where it stopped; 200 with the endpoint.
func (r webhookRoutes) enable(c echo.Context) error {
	o, err := r.owner(c, "")
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	ep, err := r.hooks.Enable(ctx, o, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ep)
}

// deleted is the DELETE /webhooks/{id} answer.
type deleted struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// delete is DELETE /webhooks/{id}: 200 (a body, as every answer has).
func (r webhookRoutes) delete(c echo.Context) error {
	o, err := r.owner(c, "")
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	if err := r.hooks.Delete(ctx, o, c.Param("id")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, deleted{ID: c.Param("id"), Deleted: true})
}

// deliveries is GET /webhooks/{id}/deliveries: the latest, newest first.
func (r webhookRoutes) deliveries(c echo.Context) error {
	o, err := r.owner(c, "")
	if err != nil {
		return err
	}
	limit := webhooks.MaxDeliveries
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > webhooks.MaxDeliveries {
			return orders.Errorf(orders.CodeInvalidArgument, "limit must be 1 to %d", webhooks.MaxDeliveries)
		}
		limit = n
	}
	ctx, cancel := ctx(c)
	defer cancel()
	ds, err := r.hooks.Deliveries(ctx, o, c.Param("id"), limit)
	if err != nil {
		return err
	}
	views := make([]deliveryView, len(ds))
	for i, d := range ds {
		views[i] = deliveryView{Delivery: d, Payload: d.Payload}
	}
	return c.JSON(http.StatusOK, map[string][]deliveryView{"deliveries": views})
}

// retry is POST /webhooks/{id}/deliveries/{deliveryId}/retry: one
// attempt now; 200 with the delivery after it, whatever its outcome.
func (r webhookRoutes) retry(c echo.Context) error {
	o, err := r.owner(c, "")
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	d, err := r.hooks.Retry(ctx, o, c.Param("id"), c.Param("deliveryId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, deliveryView{Delivery: d, Payload: d.Payload})
}
