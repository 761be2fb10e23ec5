package tenants

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// Key is one of a tenant's signing keys as stored: an HS256 secret, or a
// public key as a JWK for the tenant's own signer (EdDSA, ES256, RS256).
type Key struct {
	Tenant    string    `json:"tenant"`
	KID       string    `json:"kid"`
	Alg       string    `json:"alg"`
	Material  string    `json:"-"` // the secret, or the JWK's JSON
	CreatedAt time.Time `json:"createdAt"`
}

// Algorithms a tenant key may have.
const (
	AlgHS256 = "HS256"
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

const (
	minSecretLen = 32
	minRSABits   = 2048
)

// NewKeyRequest is POST /tenants/{id}/keys: { kid, alg, secret } or
// { kid, alg, jwk }.
type NewKeyRequest struct {
	KID    string          `json:"kid"`
	Alg    string          `json:"alg"`
	Secret string          `json:"secret,omitempty"`
	JWK    json.RawMessage `json:"jwk,omitempty"`
}

// Key checks the request and returns the key to store for tenant.
func (r NewKeyRequest) Key(tenant string) (Key, error) {
	if !orders.ValidName(r.KID) {
		return Key{}, orders.Errorf(orders.CodeInvalidArgument, "kid must be 1-%d letters, digits, '_' or '-'", orders.MaxNameLen)
	}
	k := Key{Tenant: tenant, KID: r.KID, Alg: r.Alg}
	switch r.Alg {
	case AlgHS256:
		if len(r.JWK) > 0 || len(r.Secret) < minSecretLen {
			return Key{}, orders.Errorf(orders.CodeInvalidArgument, "an HS256 key is a secret of at least %d bytes, and no jwk", minSecretLen)
		}
		k.Material = r.Secret
	case AlgEdDSA, AlgES256, AlgRS256:
		if r.Secret != "" || len(r.JWK) == 0 {
			return Key{}, orders.Errorf(orders.CodeInvalidArgument, "an %s key is a public jwk, and no secret", r.Alg)
		}
		k.Material = string(r.JWK)
	default:
		return Key{}, orders.Errorf(orders.CodeInvalidArgument, "alg must be HS256, EdDSA, ES256 or RS256")
	}
	if _, err := k.Verifier(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// Verifier turns the stored key into what the token verifier checks
// signatures with. JWKs are parsed by go-jose (a maintained JOSE
// implementation; the tokens themselves are verified by golang-jwt, which
// the server has used from the start): only public keys of the stated
// algorithm's type are accepted, so that a key cannot be used under
// another algorithm.
func (k Key) Verifier() (auth.Key, error) {
	if k.Alg == AlgHS256 {
		return auth.Key{KID: k.KID, Alg: k.Alg, Material: []byte(k.Material)}, nil
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(k.Material)); err != nil {
		return auth.Key{}, orders.Errorf(orders.CodeInvalidArgument, "jwk: %v", err)
	}
	if !jwk.IsPublic() || !jwk.Valid() {
		return auth.Key{}, orders.Errorf(orders.CodeInvalidArgument, "jwk must be a valid public key")
	}
	if jwk.Algorithm != "" && jwk.Algorithm != k.Alg {
		return auth.Key{}, orders.Errorf(orders.CodeInvalidArgument, "jwk alg %q does not match %q", jwk.Algorithm, k.Alg)
	}
	ok := false
	switch pub := jwk.Key.(type) {
	case ed25519.PublicKey:
		ok = k.Alg == AlgEdDSA
	case *ecdsa.PublicKey:
		ok = k.Alg == AlgES256 && pub.Curve == elliptic.P256()
	case *rsa.PublicKey:
		ok = k.Alg == AlgRS256 && pub.N.BitLen() >= minRSABits
	}
	if !ok {
		return auth.Key{}, orders.Errorf(orders.CodeInvalidArgument,
			"jwk is not a %s public key (EdDSA: Ed25519; ES256: P-256; RS256: at least %d bits)", k.Alg, minRSABits)
	}
	return auth.Key{KID: k.KID, Alg: k.Alg, Material: jwk.Key}, nil
}
