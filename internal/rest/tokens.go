package rest

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

const (
	defaultMintTTL = time.Hour
	maxMintTTL     = 24 * time.Hour
)

// mintToken is POST /tokens { role, sub, ttl? } with an API key: a client
// JWT for one of the key's tenant's drivers, customers or dispatchers,
// valid ttl seconds (default 3600, at most 86400).
func (a *api) mintToken(c echo.Context) error {
	keyID, _ := c.Get(apiKeyKey).(string)
	if keyID == "" || a.minter == nil {
		return orders.Errorf(orders.CodeForbidden, "minting tokens needs an API key")
	}
	var in struct {
		Role orders.Role `json:"role"`
		Sub  string      `json:"sub"`
		TTL  *int64      `json:"ttl"`
	}
	if err := decodeBody(c.Request().Body, &in, "token request"); err != nil {
		return err
	}
	switch in.Role {
	case orders.RoleDriver, orders.RoleCustomer, orders.RoleDispatcher:
	default:
		return orders.Errorf(orders.CodeInvalidArgument, "role must be driver, customer or dispatcher")
	}
	if !orders.ValidName(in.Sub) {
		return orders.Errorf(orders.CodeInvalidArgument, "sub must be 1-%d letters, digits, '_' or '-'", orders.MaxNameLen)
	}
	ttl := defaultMintTTL
	if in.TTL != nil {
		if *in.TTL <= 0 || *in.TTL > int64(maxMintTTL/time.Second) {
			return orders.Errorf(orders.CodeInvalidArgument, "ttl must be 1-%d seconds", int64(maxMintTTL/time.Second))
		}
		ttl = time.Duration(*in.TTL) * time.Second
	}
	caller := claimsOf(c)
	tok, exp, err := a.minter.Mint(auth.Claims{Tenant: caller.Tenant, Role: in.Role, Subject: in.Sub}, ttl)
	if err != nil {
		return err
	}
	a.log.Info("token minted", zap.String("tenant_id", caller.Tenant), zap.String("api_key_id", keyID),
		zap.String("role", string(in.Role)), zap.String("sub", in.Sub), zap.Time("exp", exp), zap.String("request_id", requestID(c)))
	return c.JSON(http.StatusCreated, map[string]any{"token": tok, "exp": exp.Unix()})
}
