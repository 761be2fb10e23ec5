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
	Secret   Secret        `yaml:"jwt_secret"`
	Issuer   string        `yaml:"issuer"`   // when set, tokens must carry this iss (and Sign sets it)
	Audience string        `yaml:"audience"` // when set, tokens must carry this aud (and Sign sets it)
	Leeway   time.Duration `yaml:"-"`        // clock skew tolerated on exp/nbf/iat
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

type tokenClaims struct {
	Tenant string `json:"tenant"`
	Role   string `json:"role"`
	jwt.RegisteredClaims
}

// Verifier checks tokens; safe for concurrent use.
type Verifier struct {
	cfg    Config
	parser *jwt.Parser
}

// NewVerifier returns a verifier; the secret must not be empty.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("auth: empty JWT secret")
	}
	opts := []jwt.ParserOption{
		// Pinning HS256 refuses alg:none and key-confusion tokens.
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
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
	return &Verifier{cfg: cfg, parser: jwt.NewParser(opts...)}, nil
}

// Verify parses token and returns its claims, or an error wrapping
// ErrUnauthorized.
func (v *Verifier) Verify(token string) (Claims, error) {
	var tc tokenClaims
	_, err := v.parser.ParseWithClaims(token, &tc, func(*jwt.Token) (any, error) { return []byte(v.cfg.Secret), nil })
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

// Sign issues a token for c valid for ttl from now.
func Sign(cfg Config, c Claims, ttl time.Duration, now time.Time) (string, error) {
	if len(cfg.Secret) == 0 {
		return "", errors.New("auth: empty JWT secret")
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
	return jwt.NewWithClaims(jwt.SigningMethodHS256, tc).SignedString([]byte(cfg.Secret))
}
