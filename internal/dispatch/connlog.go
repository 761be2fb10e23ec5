package dispatch

import (
	"go.uber.org/zap"

	"github.com/dispatchd/dispatchd/internal/auth"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// The socket log an operator reads at debug: who connected where and over
// what, who left and why, and every refusal with its reason. Never the
// token. Checked first: at info these cost nothing per connection.

// refuse logs why a CONNECT to role's namespace is refused, counts it
// (as the event "connect" with its code: a token flood or a broken key
// rotation shows at any log level) and returns the contract's
// CONNECT_ERROR; tenant is "" when no valid token named one.
func (t *Handlers) refuse(s *transport.Socket, role orders.Role, tenant string, code orders.Code, msg string, err error) error {
	t.cfg.Observer.EventIn(namespaceOf(role), "connect", code)
	if ce := t.log.Check(zap.DebugLevel, "socket refused"); ce != nil {
		fields := []zap.Field{zap.String("reason", string(code)), zap.String("detail", msg),
			zap.String("namespace", namespaceOf(role)), zap.String("tenant_id", tenant),
			zap.String("transport", s.Conn().Transport()), zap.String("sid", s.ID())}
		if err != nil {
			fields = append(fields, zap.Error(err))
		}
		ce.Write(fields...)
	}
	return connectRefusal(code, msg)
}

// logConnected logs an admitted socket.
func (t *Handlers) logConnected(s *transport.Socket, c auth.Claims) {
	if ce := t.log.Check(zap.DebugLevel, "socket connected"); ce != nil {
		ce.Write(socketFields(s, c)...)
	}
}

// logDisconnected logs a socket's leaving and why.
func (t *Handlers) logDisconnected(s *transport.Socket, c auth.Claims, reason string) {
	if ce := t.log.Check(zap.DebugLevel, "socket disconnected"); ce != nil {
		ce.Write(append(socketFields(s, c), zap.String("reason", reason))...)
	}
}

func socketFields(s *transport.Socket, c auth.Claims) []zap.Field {
	return []zap.Field{zap.String("tenant_id", c.Tenant), zap.String("role", string(c.Role)),
		zap.String("user_id", c.Subject), zap.String("namespace", namespaceOf(c.Role)),
		zap.String("transport", s.Conn().Transport()), zap.String("sid", s.ID())}
}

// namespaceOf is a role's namespace: /drivers for driver.
func namespaceOf(role orders.Role) string { return "/" + string(role) + "s" }
