// Package console serves the operator's console: one static page at
// /console/ that connects to any namespace with a token (speaking Socket.IO
// over WebSocket with a client of its own, console.js), shows every event
// it receives with its seq, acknowledges durable events, and sends events.
// It is a tool to watch and poke a running service, not an app.
//
// It also serves the customer tracking page (TrackPage, mounted at
// /track/<token>: track.html, with its script and style in
// static/track/), which polls the public tracking JSON and draws it with
// the shared map module (static/shared/map.js).
//
// It imports nothing from internal/.
package console
