//go:build linux

package hostile

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/testproc"
)

// tokens are what the attacker authenticates with: valid tokens of its
// own tenant (to reach the event handlers), and, per role, tokens that
// claim the control tenant's users but must be refused.
type tokens struct {
	evil map[orders.Role]string // valid, attacker tenant
	// ctl holds valid control-tenant tokens, used only inside auth
	// payloads where the server must not find them (under __proto__ and
	// the like) or on the wrong namespace.
	ctl map[orders.Role]string
	bad map[orders.Role][]string // must be refused on the role's namespace
}

var roleOfNS = map[string]orders.Role{
	"/vendors":   orders.RoleVendor,
	"/drivers":   orders.RoleDriver,
	"/customers": orders.RoleCustomer,
}

func makeTokens(t testing.TB, secret, ctlTenant, evilTenant string) tokens {
	t.Helper()
	tok := tokens{evil: map[orders.Role]string{}, ctl: map[orders.Role]string{}, bad: map[orders.Role][]string{}}
	roles := []orders.Role{orders.RoleVendor, orders.RoleDriver, orders.RoleCustomer}
	subs := map[orders.Role]string{orders.RoleVendor: "v1", orders.RoleDriver: "d1", orders.RoleCustomer: "c1"}
	for _, role := range roles {
		tok.evil[role] = testproc.Sign(t, secret, evilTenant, role, "x-"+subs[role])
		tok.ctl[role] = testproc.Sign(t, secret, ctlTenant, role, subs[role])
	}
	now := time.Now()
	for _, role := range roles {
		claims := func(mut func(m jwt.MapClaims)) jwt.MapClaims {
			m := jwt.MapClaims{"sub": subs[role], "tenant": ctlTenant, "role": string(role),
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
			if mut != nil {
				mut(m)
			}
			return m
		}
		hs := func(method jwt.SigningMethod, key []byte, c jwt.MapClaims) string {
			s, err := jwt.NewWithClaims(method, c).SignedString(key)
			if err != nil {
				t.Fatalf("sign: %v", err)
			}
			return s
		}
		key := []byte(secret)
		expired, err := auth.Sign(auth.Config{Secret: key}, auth.Claims{Subject: subs[role], Tenant: ctlTenant, Role: role}, time.Minute, now.Add(-time.Hour))
		if err != nil {
			t.Fatalf("sign expired: %v", err)
		}
		other := orders.RoleCustomer
		if role == orders.RoleCustomer {
			other = orders.RoleDriver
		}
		valid := tok.ctl[role]
		tok.bad[role] = []string{
			unsigned(`{"alg":"none","typ":"JWT"}`, claims(nil)),
			unsigned(`{"alg":"None"}`, claims(nil)),
			unsigned(`{"alg":"NONE","typ":"JWT"}`, claims(nil)),
			unsigned(`{"alg":"HS256","typ":"JWT"}`, claims(nil)), // no signature
			unsigned(`{"alg":"none","typ":"JWT"}`, claims(func(m jwt.MapClaims) { m["__proto__"] = map[string]any{"role": string(role)} })),
			expired,
			hs(jwt.SigningMethodHS512, key, claims(nil)),
			hs(jwt.SigningMethodHS384, key, claims(nil)),
			hs(jwt.SigningMethodHS256, []byte("not-the-secret-not-the-secret-not-the-secret"), claims(nil)),
			hs(jwt.SigningMethodHS256, key, claims(func(m jwt.MapClaims) { delete(m, "exp") })),
			hs(jwt.SigningMethodHS256, key, claims(func(m jwt.MapClaims) { m["iat"] = now.Add(time.Hour).Unix() })),
			hs(jwt.SigningMethodHS256, key, claims(func(m jwt.MapClaims) { m["nbf"] = now.Add(time.Hour).Unix() })),
			hs(jwt.SigningMethodHS256, key, claims(func(m jwt.MapClaims) { m["role"] = "admin" })),
			hs(jwt.SigningMethodHS256, key, claims(func(m jwt.MapClaims) { m["role"] = strings.ToUpper(string(role)) })),
			hs(jwt.SigningMethodHS256, key, claims(func(m jwt.MapClaims) { m["tenant"] = "../" + ctlTenant })),
			hs(jwt.SigningMethodHS256, key, claims(func(m jwt.MapClaims) { m["sub"] = strings.Repeat("s", 10_000) })),
			hs(jwt.SigningMethodHS256, key, claims(func(m jwt.MapClaims) { m["sub"] = "" })),
			hs(jwt.SigningMethodHS256, key, claims(func(m jwt.MapClaims) { m["exp"] = "never" })),
			hs(jwt.SigningMethodHS256, key, claims(func(m jwt.MapClaims) { m["role"] = []string{string(role)} })),
			testproc.Sign(t, secret, ctlTenant, other, subs[role]), // wrong role: forbidden
			valid[:len(valid)-2], // signature cut short
			valid + "x",
			strings.Replace(valid, ".", "..", 1),
			"Bearer " + valid,
			" " + valid,
			"", "a.b.c", "...", "null",
		}
	}
	return tok
}

// unsigned is a token with header and claims and an empty signature.
func unsigned(header string, claims jwt.MapClaims) string {
	b, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(b) + "."
}
