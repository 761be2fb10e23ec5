// Shared helpers for the interop tests. interop_test.go starts the Go servers
// and passes their URLs in the environment; every helper here has a deadline so
// a silent server fails a test instead of hanging it.
import { io } from "socket.io-client";
import { closeSocket, eventually, waitConnect } from "./wait.js";

export { closeSocket, collect, deadline, eventually, next, record, sleep, waitConnect } from "./wait.js";

export const SERVER_URL = requireEnv("SERVER_URL");
// HEARTBEAT_SERVER_URL serves the same fixture with pingInterval and
// pingTimeout of 200 ms (they are per server, hence a second one).
export const HEARTBEAT_SERVER_URL = requireEnv("HEARTBEAT_SERVER_URL");

// The ping settings the Go side gives the heartbeat server, in ms.
export const HEARTBEAT_PING_INTERVAL = 200;
export const HEARTBEAT_PING_TIMEOUT = 200;

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests through interop_test.go (go test ./test/interop/)`);
  }
  return value;
}

// client opens a socket on its own Manager (forceNew) and closes it when the
// test ends. Reconnection is off unless a test turns it on, so a failing test
// does not keep dialling. opts.url overrides the server (default SERVER_URL).
export function client(t, nsp = "/", opts = {}) {
  const { url = SERVER_URL, ...rest } = opts;
  const socket = io(url + nsp, { forceNew: true, reconnection: false, timeout: 5000, ...rest });
  t.after(() => closeSocket(socket));
  return socket;
}

// connected is client() that waits for the namespace CONNECT to be accepted.
export async function connected(t, nsp = "/", opts = {}) {
  const socket = client(t, nsp, opts);
  await waitConnect(socket);
  return socket;
}

// ask emits with an ack and resolves with the first ack argument.
export function ask(socket, event, ...args) {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

// serverDisconnectReason asks the Go fixture (through observer, a connected
// socket on the same server) for the OnDisconnect reason it recorded for
// socket id, waiting up to ms for it to be recorded.
export function serverDisconnectReason(observer, id, ms = 3000) {
  return eventually(() => ask(observer, "disconnect-reason", id), ms, `the server's disconnect reason for ${id}`);
}
