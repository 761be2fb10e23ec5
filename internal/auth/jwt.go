package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dispatchd/dispatchd/internal/orders"
)

// ErrUnauthorized wraps every reason a token is refused.
var ErrUnauthorized = errors.New("unauthorized")

// Config holds the signing secret and the optional claims to enforce.
// The yaml names are those of the auth section of dispatchd's config file.
type Config struct {
	Secret Secret `yaml:"jwt_secret"`
	// GlobalSecret: whether Secret signs the tokens of tenants that have
	// no keys of their own (default true; false leaves only tenant keys).
	GlobalSecret *bool         `yaml:"global_secret"`
	Issuer       string        `yaml:"issuer"`   // when set, tokens must carry this iss (and Sign sets it)
	Audience     string        `yaml:"audience"` // when set, tokens must carry this aud (and Sign sets it)
	Leeway       time.Duration `yaml:"-"`        // clock skew tolerated on exp/nbf/iat
	// ExpiringLead: how long before its token's exp a live socket is
	// told to refresh it (auth:expiring). The dispatch namespaces use
	// it, not the Verifier.
	ExpiringLead time.Duration `yaml:"expiring_lead"`
}

// Secret is the HS256 key. It reads from text (a YAML string, an
// environment variable) as its bytes.
type Secret []byte

// UnmarshalText takes the text as the key; an empty text leaves no key.
func (s *Secret) UnmarshalText(b []byte) error {
	*s = append(Secret(nil), b...)
	return nil
}

// Claims is who a verified token speaks for.
type Claims struct {
	Subject string
	Tenant  string
	Role    orders.Role
	// Expires is the token's exp (whole seconds). Verify fills it; Sign
	// ignores it (the ttl sets exp).
	Expires time.Time
}

// Key is one of a tenant's signing keys, ready to verify with: the HS256
// secret's bytes, or a public key (ed25519.PublicKey, *ecdsa.PublicKey,
// *rsa.PublicKey) for its Alg.
type Key struct {
	KID      string
	Alg      string
	Material any
}

// KeySource tells the verifier which keys a tenant's tokens must be
// signed with: keyed is false for a tenant without keys of its own (or
// not registered), whose tokens the global secret signs.
type KeySource interface {
	TenantKeys(tenant string) (keys []Key, keyed bool)
}

type noKeys struct{}

func (noKeys) TenantKeys(string) ([]Key, bool) { return nil, false }

// globalOn reports whether the global secret signs keyless tenants'
// tokens.
func (c Config) GlobalOn() bool {
	return (c.GlobalSecret == nil || *c.GlobalSecret) && len(c.Secret) > 0
}

type tokenClaims struct {
	Tenant string `json:"tenant"`
	Role   string `json:"role"`
	jwt.RegisteredClaims
}

// Verifier checks tokens; safe for concurrent use.
type Verifier struct {
	cfg    Config
	keys   KeySource
	parser *jwt.Parser
}

// NewVerifier returns a verifier of tokens signed with the global secret
// only; the secret must not be empty.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("auth: empty JWT secret")
	}
	return NewTenantVerifier(cfg, noKeys{})
}

// NewTenantVerifier returns a verifier that checks a keyed tenant's
// tokens against its own keys (by kid) and the others' against the
// global secret, if it is on.
func NewTenantVerifier(cfg Config, keys KeySource) (*Verifier, error) {
	opts := []jwt.ParserOption{
		// Only these algorithms, and each token's must be its key's
		// (keyFor): refuses alg:none and key confusion.
		jwt.WithValidMethods([]string{"HS256", "EdDSA", "ES256", "RS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &Verifier{cfg: cfg, keys: keys, parser: jwt.NewParser(opts...)}, nil
}

// keyFor picks the key a token must be signed with: the tenant's key
// named by its kid when the tenant has keys, else the global secret.
func (v *Verifier) keyFor(tok *jwt.Token) (any, error) {
	tc, ok := tok.Claims.(*tokenClaims)
	if !ok {
		return nil, errors.New("unexpected claims")
	}
	alg := tok.Method.Alg()
	keys, keyed := v.keys.TenantKeys(tc.Tenant)
	if !keyed {
		if !v.cfg.GlobalOn() {
			return nil, errors.New("the tenant has no keys and the global secret is off")
		}
		if alg != "HS256" {
			return nil, fmt.Errorf("alg %s: the global secret signs HS256 only", alg)
		}
		return []byte(v.cfg.Secret), nil
	}
	kid, _ := tok.Header["kid"].(string)
	for _, k := range keys {
		if k.KID != kid {
			continue
		}
		if k.Alg != alg {
			return nil, fmt.Errorf("alg %s does not match key %q (%s)", alg, kid, k.Alg)
		}
		return k.Material, nil
	}
	return nil, fmt.Errorf("no key %q for this tenant", kid)
}

// Verify parses token and returns its claims, or an error wrapping
// ErrUnauthorized.
func (v *Verifier) Verify(token string) (Claims, error) {
	var tc tokenClaims
	_, err := v.parser.ParseWithClaims(token, &tc, v.keyFor)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	// exp is required (WithExpirationRequired): ExpiresAt is set.
	c := Claims{Subject: tc.Subject, Tenant: tc.Tenant, Role: orders.Role(tc.Role), Expires: tc.ExpiresAt.UTC()}
	if !orders.ValidName(c.Subject) || !orders.ValidName(c.Tenant) {
		return Claims{}, fmt.Errorf("%w: sub and tenant must be 1-%d letters, digits, '_' or '-'", ErrUnauthorized, orders.MaxNameLen)
	}
	if !c.Role.Valid() {
		return Claims{}, fmt.Errorf("%w: unknown role %q", ErrUnauthorized, tc.Role)
	}
	return c, nil
}

// Sign issues a token for c valid for ttl from now, signed with the
// global secret.
func Sign(cfg Config, c Claims, ttl time.Duration, now time.Time) (string, error) {
	if len(cfg.Secret) == 0 {
		return "", errors.New("auth: empty JWT secret")
	}
	return SignHS256(cfg, []byte(cfg.Secret), "", c, ttl, now)
}

// SignHS256 issues a token for c valid for ttl from now, signed with an
// HS256 secret named kid (none when empty): a tenant's own key.
func SignHS256(cfg Config, secret []byte, kid string, c Claims, ttl time.Duration, now time.Time) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("auth: empty signing secret")
	}
	tc := tokenClaims{
		Tenant: c.Tenant,
		Role:   string(c.Role),
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   c.Subject,
			Issuer:    cfg.Issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	if cfg.Audience != "" {
		tc.Audience = jwt.ClaimStrings{cfg.Audience}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, tc)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	return tok.SignedString(secret)
}
