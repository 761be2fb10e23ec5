package engineio

import "net/http"

// protocolError is one of the reference server's JSON error answers.
type protocolError struct {
	code    int
	message string
}

var (
	errUnknownTransport   = protocolError{0, "Transport unknown"}
	errUnknownSID         = protocolError{1, "Session ID unknown"}
	errBadHandshakeMethod = protocolError{2, "Bad handshake method"}
	errBadRequest         = protocolError{3, "Bad request"}
	errForbidden          = protocolError{4, "Forbidden"}
	errUnsupportedVersion = protocolError{5, "Unsupported protocol version"}
	// Codes past the reference set, for limits it does not have.
	errPayloadTooLarge    = protocolError{6, "Payload too large"}
	errTooManyConnections = protocolError{7, "Too many connections"}
	errShuttingDown       = protocolError{8, "Server shutting down"}
	errTooManyFromAddress = protocolError{9, "Too many connections from this address"}
)

func writeError(w http.ResponseWriter, status int, e protocolError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"code":` + string(rune('0'+e.code)) + `,"message":"` + e.message + `"}`))
}
