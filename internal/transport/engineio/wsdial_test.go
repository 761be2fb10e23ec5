package engineio

import (
	"context"
	"net/http"

	"github.com/dispatchd/dispatchd/internal/sioclient"
)

// wsDial opens a WebSocket with the shared test client's raw mode; a
// refused upgrade returns the server's response. sioclient imports
// nothing of the server, so this package's own tests may use it.
func wsDial(rawURL string, hdr http.Header) (*sioclient.RawConn, *http.Response, error) {
	return sioclient.DialRaw(context.Background(), rawURL, sioclient.RawOptions{Header: hdr})
}
