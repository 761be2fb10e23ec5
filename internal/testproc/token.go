package testproc

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
)

// TokenTTL outlives any test run by far.
const TokenTTL = 10 * time.Minute

// Sign signs a token in process, as the server with secret would.
func Sign(t testing.TB, secret, tenant string, role orders.Role, sub string) string {
	t.Helper()
	tok, err := auth.Sign(auth.Config{Secret: []byte(secret)},
		auth.Claims{Subject: sub, Tenant: tenant, Role: role}, TokenTTL, time.Now())
	if err != nil {
		t.Fatalf("sign %s/%s/%s: %v", tenant, role, sub, err)
	}
	return tok
}

// MintToken runs `dispatchd token` with secret.
func MintToken(t testing.TB, bin, secret, tenant, role, sub string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "token", "--tenant", tenant, "--role", role, "--sub", sub, "--ttl", TokenTTL.String())
	// A -race binary sleeps a second at exit by default, waiting for late
	// race reports; a command this short has none to wait for.
	cmd.Env = ChildEnv("DISPATCH_JWT_SECRET="+secret, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dispatchd token --tenant %s --role %s --sub %s: %v\n%s", tenant, role, sub, err, stderr.Bytes())
	}
	tok := strings.TrimSpace(string(out))
	if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
		t.Fatalf("dispatchd token printed %q, want just a JWT", out)
	}
	return tok
}
