// Package engineio implements the server side of the Engine.IO v4 protocol:
// the handshake, HTTP long-polling, WebSocket, the polling→WebSocket upgrade
// and the server-driven heartbeat. It carries opaque messages and knows
// nothing of Socket.IO; it imports nothing from internal/.
package engineio
