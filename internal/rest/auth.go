package rest

import (
	"errors"
	"strings"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// claimsKey is where authenticate leaves the caller's claims.
const claimsKey = "dispatchd.claims"

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
		claims, err := a.verifier.Verify(token)
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthorized) {
				a.log.Error("verify token", zap.Error(err))
			}
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
