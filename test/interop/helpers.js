// Shared helpers for the interop tests. interop_test.go starts the Go servers
// and passes their URLs in the environment; every helper here has a deadline so
// a silent server fails a test instead of hanging it.
import { io } from "socket.io-client";

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

// deadline settles like promise, or rejects after ms naming what was awaited.
export function deadline(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// next resolves with the arguments of the next `event` on emitter. Call it
// before the action that triggers the event.
export function next(emitter, event, ms = 5000) {
  let handler;
  const seen = new Promise((resolve) => {
    handler = (...args) => resolve(args);
    emitter.on(event, handler);
  });
  return deadline(seen, ms, `"${event}"`).finally(() => emitter.off(event, handler));
}

// record starts recording every `event` on emitter. The returned list fills
// as events arrive; stop() detaches the listener.
export function record(emitter, event) {
  const got = [];
  const handler = (...args) => got.push(args);
  emitter.on(event, handler);
  got.stop = () => emitter.off(event, handler);
  return got;
}

// collect records every `event` on emitter for ms and resolves with the list
// of argument arrays: the "nothing else arrives" half of a test.
export async function collect(emitter, event, ms) {
  const got = record(emitter, event);
  await sleep(ms);
  got.stop();
  return [...got];
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// eventually calls probe every 25 ms until it returns something other than
// undefined or null, and resolves with that value.
export async function eventually(probe, ms, what) {
  const stop = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null) {
      return value;
    }
    if (Date.now() > stop) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    }
    await sleep(25);
  }
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

// waitConnect resolves on "connect" and rejects on "connect_error".
export function waitConnect(socket, ms = 5000) {
  if (socket.connected) {
    return Promise.resolve(socket);
  }
  let onConnect;
  let onError;
  const result = new Promise((resolve, reject) => {
    onConnect = () => resolve(socket);
    onError = (err) => reject(new Error(`connect_error: ${err.message}`, { cause: err }));
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
  return deadline(result, ms, `connect to ${socket.nsp}`).finally(() => {
    socket.off("connect", onConnect);
    socket.off("connect_error", onError);
  });
}

// closeSocket stops a socket for good: no reconnection, namespace left, and the
// Engine.IO session closed even when the socket never connected.
export function closeSocket(socket) {
  socket.io.reconnection(false);
  socket.disconnect();
  socket.io.engine?.close();
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
