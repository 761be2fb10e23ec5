// Package console serves the pages under /console/ as embedded static
// files, plus config.json (the maps' tile settings).
//
// index.html is the dispatch board for role dispatcher over /dispatchers:
// active orders by status with age and ETA, on-duty drivers with their
// load, a map (shared/map.js on vendored Leaflet), an order's timeline
// from GET /api/v1/orders/{id}/events with manual assign, unassign and
// cancel, and board:stats at a glance. Its Developer tab is the raw event
// view of any namespace: send an event with an ack, watch every event
// with its seq, acknowledge durable ones or not.
//
// Both speak Socket.IO through the vendored stock socket.io-client
// (vendor/socket.io, built by scripts/build-web), which reconnects by
// itself; the board subscribes again on every connect, since its updates
// are best effort. The token lives in sessionStorage (dispatchd.token),
// from a paste, an API-key exchange (POST /api/v1/tokens) or a #token=
// link, and is never shown in clear. Plain ES modules, no bundler:
// app.js (tabs, sign-in), board.js (state, socket, map), view.js (orders,
// drivers, stats), detail.js (the order dialog), developer.js.
//
// It also serves the customer tracking page (TrackPage, mounted at
// /track/<token>: track.html, with its script and style in
// static/track/), which polls the public tracking JSON and draws it with
// the shared map module (static/shared/map.js).
//
// It imports nothing from internal/.
package console
