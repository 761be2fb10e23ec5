// Package auth issues and verifies the HS256 JWTs that carry a caller's
// user id, tenant and role. It pins the algorithm, requires exp, and checks
// issuer and audience when configured. Tokens are secrets: nothing here
// logs them.
package auth
