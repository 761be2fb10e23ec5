#!/usr/bin/env node
// Entry point of the benchmark peer. See README.md.
import { createPeer } from './peer.js';

function num(name, def) {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n)) {
    console.error(`socketio-peer: ${name} must be a number`);
    process.exit(2);
  }
  return n > 0 ? n : def;
}

const secret = process.env.PEER_JWT_SECRET;
if (!secret) {
  console.error('socketio-peer: PEER_JWT_SECRET is required');
  process.exit(2);
}
const host = process.env.PEER_HOST || '127.0.0.1';
const port = process.env.PEER_PORT === undefined || process.env.PEER_PORT === '' ? 3100 : Number(process.env.PEER_PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('socketio-peer: PEER_PORT must be a port number');
  process.exit(2);
}

const { httpServer, io, stats } = createPeer({
  secret,
  eventsPerSecond: num('PEER_EVENTS_PER_SECOND', 20),
  eventBurst: Math.floor(num('PEER_EVENT_BURST', 40)),
});

httpServer.on('error', (err) => {
  console.error(`socketio-peer: ${err.message}`);
  process.exit(1);
});
httpServer.listen(port, host, () => {
  const addr = httpServer.address();
  console.log(`socketio-peer (socket.io 4.8.4) listening on http://${host}:${addr.port} port=${addr.port}`);
});

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`socketio-peer: ${signal}, closing (durable events sent ${stats.sent}, acked ${stats.acked}, not sent for want of a connected socket ${stats.noSocket})`);
  setTimeout(() => process.exit(0), 5000).unref();
  io.close(() => process.exit(0));
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
