package rest

import (
	"errors"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/tenants"
)

// APIKeys resolves API keys (the tenant registry's cache).
type APIKeys interface {
	APIKey(key string) (tenants.APIKey, bool)
}

// TokenMinter signs client tokens for a tenant's users.
type TokenMinter interface {
	Mint(c auth.Claims, ttl time.Duration) (token string, exp time.Time, err error)
}

// claimsKey is where authenticate leaves the caller's claims; apiKeyKey
// the id of the API key it came with, if any.
const (
	claimsKey = "dispatchd.claims"
	apiKeyKey = "dispatchd.apikey"
	adminKey  = "dispatchd.admin"
)

// adminClaims stand for the admin token on the client API: a role no
// token carries, so every route but those that ask isAdmin refuses it
// (forbidden), and a rate-limit budget of its own.
var adminClaims = auth.Claims{Role: "admin", Subject: "admin"}

// isAdmin reports whether the request came with the admin token.
func isAdmin(c echo.Context) bool {
	ok, _ := c.Get(adminKey).(bool)
	return ok
}

// The WWW-Authenticate challenges of RFC 6750: a request without
// credentials gets the bare one, a refused token learns why in general
// terms only.
const (
	challengeMissing = `Bearer realm="dispatchd"`
	challengeInvalid = `Bearer realm="dispatchd", error="invalid_token"`
)

var (
	errNoToken  = orders.Errorf(orders.CodeUnauthorized, "an Authorization: Bearer <token> header is required")
	errBadToken = orders.Errorf(orders.CodeUnauthorized, "invalid or expired token")
)

// authenticate admits requests carrying a valid bearer JWT and stores its
// claims for the handlers. The token is neither logged nor kept.
func (a *api) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
		if !ok {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, challengeMissing)
			return errNoToken
		}
		if a.adminToken.admits(token) {
			c.Set(claimsKey, adminClaims)
			c.Set(adminKey, true)
			return next(c)
		}
		if tenants.IsAPIKey(token) && a.apiKeys != nil {
			k, ok := a.apiKeys.APIKey(token)
			if !ok {
				a.log.Debug("api key refused: unknown or revoked", zap.String("route", c.Path()), zap.String("request_id", requestID(c)))
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, challengeInvalid)
				return errBadToken
			}
			// An API key acts as its vendor user.
			c.Set(claimsKey, auth.Claims{Tenant: k.Tenant, Role: orders.RoleVendor, Subject: k.Sub})
			c.Set(apiKeyKey, k.ID)
			return next(c)
		}
		claims, err := a.verifier.Verify(token)
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthorized) {
				a.log.Error("verify token", zap.String("request_id", requestID(c)), zap.Error(err))
			}
			// Why, for the operator; never the token itself.
			a.log.Debug("token refused", zap.String("route", c.Path()), zap.String("request_id", requestID(c)), zap.Error(err))
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, challengeInvalid)
			return errBadToken
		}
		c.Set(claimsKey, claims)
		return next(c)
	}
}

// bearerToken extracts the token of an Authorization header; the scheme
// is case-insensitive (RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// claimsOf returns the claims authenticate stored.
func claimsOf(c echo.Context) auth.Claims {
	claims, _ := c.Get(claimsKey).(auth.Claims)
	return claims
}
