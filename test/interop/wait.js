// Waiting helpers that need no server: deadlines, event waits and socket
// tidying. helpers.js re-exports them for the fixture tests; story.test.js,
// which runs against dispatchd instead of the fixture, imports them from here.

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
