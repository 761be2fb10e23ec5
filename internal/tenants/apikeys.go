package tenants

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// APIKeyPrefix starts every API key, so that a leaked one is recognisable
// (secret scanners) and REST tells it from a JWT at a glance.
const APIKeyPrefix = "dk_"

// NewAPIKey returns a fresh key (shown once) and its stored hash.
func NewAPIKey() (key, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	key = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, HashAPIKey(key)
}

// HashAPIKey is the stored form of key: a hex SHA-256. The key has 256
// random bits, so a fast hash is enough (no password stretching needed).
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// IsAPIKey reports whether a bearer credential looks like an API key.
func IsAPIKey(credential string) bool { return strings.HasPrefix(credential, APIKeyPrefix) }
