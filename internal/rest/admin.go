package rest

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/tenants"
)

// AdminStore is the tenant registry as the admin API changes it.
type AdminStore interface {
	CreateTenant(ctx context.Context, t tenants.Tenant, now time.Time) (tenants.Tenant, error)
	Tenants(ctx context.Context) ([]tenants.Tenant, error)
	Tenant(ctx context.Context, id string) (tenants.Tenant, error)
	UpdateTenant(ctx context.Context, id, name string, settings *tenants.Settings, now time.Time) (tenants.Tenant, error)
	AddTenantKey(ctx context.Context, k tenants.Key, now time.Time) (tenants.Key, error)
	DeleteTenantKey(ctx context.Context, tenant, kid string) error
	CreateAPIKey(ctx context.Context, k tenants.StoredAPIKey, now time.Time) (tenants.APIKey, error)
	DeleteAPIKey(ctx context.Context, tenant, id string) error
}

var errBadAdminToken = orders.Errorf(orders.CodeUnauthorized, "an Authorization: Bearer <admin token> header is required")

type admin struct {
	api     // errors, request ids, logging
	st      AdminStore
	token   adminSecret
	refused *refusalLog
	changed func(context.Context)
}

// RegisterAdmin mounts the admin API on g (bound to /api/v1/admin) when
// token is set; without one the admin API does not exist (404), so a
// forgotten setting opens nothing. changed (may be nil) runs after each
// change: this node's registry reloads at once, so that the key or API
// key just made works on the next request here (other nodes follow within
// their poll).
func RegisterAdmin(g *echo.Group, token string, st AdminStore, changed func(context.Context), log *zap.Logger) {
	if token == "" {
		return
	}
	if changed == nil {
		changed = func(context.Context) {}
	}
	a := &admin{api: api{log: log, obs: nopObserver{}}, st: st, token: adminSecret(token), refused: newRefusalLog(log, adminRefusalLogEvery), changed: changed}
	g.Use(dropOddRequestID, middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}),
		a.renderErrors, a.authenticateAdmin, middleware.BodyLimit(strconv.Itoa(MaxBodyBytes)))
	g.POST("/tenants", a.createTenant)
	g.GET("/tenants", a.listTenants)
	g.GET("/tenants/:id", a.getTenant)
	g.PATCH("/tenants/:id", a.updateTenant)
	g.POST("/tenants/:id/keys", a.addKey)
	g.DELETE("/tenants/:id/keys/:kid", a.deleteKey)
	g.POST("/tenants/:id/api-keys", a.createAPIKey)
	g.DELETE("/tenants/:id/api-keys/:key", a.deleteAPIKey)
}

// adminRefusalLogEvery spaces the log lines of refused admin requests.
const adminRefusalLogEvery = 10 * time.Second

// authenticateAdmin admits the admin token only, compared in constant
// time; refusals are logged (without what was sent), at most one line per
// adminRefusalLogEvery with the count held back.
func (a *admin) authenticateAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
		if !ok || !a.token.admits(token) {
			a.refused.note("admin request refused: no or wrong admin token", zap.String("route", c.Path()),
				zap.String("remote", proxyClientIP(c.Request())), zap.String("request_id", requestID(c)))
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, challengeInvalid)
			return errBadAdminToken
		}
		return next(c)
	}
}

func (a *admin) createTenant(c echo.Context) error {
	var in struct {
		ID       string           `json:"id"`
		Name     string           `json:"name"`
		Settings tenants.Settings `json:"settings"`
	}
	if err := decodeBody(c.Request().Body, &in, "tenant"); err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	t, err := a.st.CreateTenant(ctx, tenants.Tenant{ID: in.ID, Name: in.Name, Settings: in.Settings}, time.Now())
	if err != nil {
		return err
	}
	a.changed(ctx)
	a.log.Info("tenant created", zap.String("tenant_id", t.ID), zap.String("request_id", requestID(c)))
	return c.JSON(http.StatusCreated, t)
}

func (a *admin) listTenants(c echo.Context) error {
	ctx, cancel := ctx(c)
	defer cancel()
	list, err := a.st.Tenants(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tenants": list})
}

func (a *admin) getTenant(c echo.Context) error {
	ctx, cancel := ctx(c)
	defer cancel()
	t, err := a.st.Tenant(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (a *admin) updateTenant(c echo.Context) error {
	var in struct {
		Name     string            `json:"name"`
		Settings *tenants.Settings `json:"settings"`
	}
	if err := decodeBody(c.Request().Body, &in, "tenant"); err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	// One write: what the body leaves out stays as it is in the row,
	// not as it was read a moment before.
	t, err := a.st.UpdateTenant(ctx, c.Param("id"), in.Name, in.Settings, time.Now())
	if err != nil {
		return err
	}
	a.changed(ctx)
	return c.JSON(http.StatusOK, t)
}

func (a *admin) addKey(c echo.Context) error {
	var in tenants.NewKeyRequest
	if err := decodeBody(c.Request().Body, &in, "key"); err != nil {
		return err
	}
	k, err := in.Key(c.Param("id"))
	if err != nil {
		return err
	}
	ctx, cancel := ctx(c)
	defer cancel()
	if k, err = a.st.AddTenantKey(ctx, k, time.Now()); err != nil {
		return err
	}
	a.changed(ctx)
	a.log.Info("tenant key added", zap.String("tenant_id", k.Tenant), zap.String("kid", k.KID), zap.String("alg", k.Alg), zap.String("request_id", requestID(c)))
	return c.JSON(http.StatusCreated, k)
}

func (a *admin) deleteKey(c echo.Context) error {
	ctx, cancel := ctx(c)
	defer cancel()
	if err := a.st.DeleteTenantKey(ctx, c.Param("id"), c.Param("kid")); err != nil {
		return err
	}
	a.changed(ctx)
	a.log.Info("tenant key deleted", zap.String("tenant_id", c.Param("id")), zap.String("kid", c.Param("kid")), zap.String("request_id", requestID(c)))
	return c.NoContent(http.StatusNoContent)
}

func (a *admin) createAPIKey(c echo.Context) error {
	var in struct {
		Name string `json:"name"`
		Sub  string `json:"sub"`
	}
	if err := decodeBody(c.Request().Body, &in, "api key"); err != nil {
		return err
	}
	key, hash := tenants.NewAPIKey()
	ctx, cancel := ctx(c)
	defer cancel()
	k, err := a.st.CreateAPIKey(ctx, tenants.StoredAPIKey{
		APIKey: tenants.APIKey{ID: orders.NewID(), Tenant: c.Param("id"), Name: in.Name, Sub: in.Sub}, Hash: hash}, time.Now())
	if err != nil {
		return err
	}
	a.changed(ctx)
	a.log.Info("api key created", zap.String("tenant_id", k.Tenant), zap.String("api_key_id", k.ID), zap.String("sub", k.Sub), zap.String("request_id", requestID(c)))
	// The key leaves the server this once; only its hash is kept.
	return c.JSON(http.StatusCreated, struct {
		tenants.APIKey
		Key string `json:"key"`
	}{k, key})
}

func (a *admin) deleteAPIKey(c echo.Context) error {
	ctx, cancel := ctx(c)
	defer cancel()
	if err := a.st.DeleteAPIKey(ctx, c.Param("id"), c.Param("key")); err != nil {
		return err
	}
	a.changed(ctx)
	a.log.Info("api key revoked", zap.String("tenant_id", c.Param("id")), zap.String("api_key_id", c.Param("key")), zap.String("request_id", requestID(c)))
	return c.NoContent(http.StatusNoContent)
}
