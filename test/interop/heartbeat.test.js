// Heartbeats against the server started with pingInterval 200 ms and
// pingTimeout 200 ms: pings on schedule, a silent client dropped with
// "ping timeout", and the client's own timer driven by the handshake values.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  HEARTBEAT_PING_INTERVAL,
  HEARTBEAT_PING_TIMEOUT,
  HEARTBEAT_SERVER_URL,
  ask,
  collect,
  connected,
  next,
  serverDisconnectReason,
} from "./helpers.js";

const url = HEARTBEAT_SERVER_URL;
// SLACK_MS absorbs scheduling delay (race detector, parallel test files).
const SLACK_MS = 1000;

for (const transport of ["websocket", "polling"]) {
  test(`${transport}: the server pings on schedule and a healthy client stays connected`, { timeout: 10_000 }, async (t) => {
    const socket = await connected(t, "/", { url, transports: [transport] });
    const windowMs = 1600; // 8 ping intervals
    const [pings, disconnects] = await Promise.all([
      collect(socket.io.engine, "ping", windowMs),
      collect(socket, "disconnect", windowMs),
    ]);
    assert.deepEqual(disconnects, [], "a client answering every ping was dropped");
    assert.ok(pings.length >= 4, `only ${pings.length} pings in ${windowMs} ms at a ${HEARTBEAT_PING_INTERVAL} ms interval`);
    assert.ok(pings.length <= 9, `${pings.length} pings in ${windowMs} ms at a ${HEARTBEAT_PING_INTERVAL} ms interval`);
    assert.equal(await ask(socket, "echo", "alive"), "alive");
  });

  test(`${transport}: a client that stops answering pings is dropped with "ping timeout"`, { timeout: 10_000 }, async (t) => {
    const observer = await connected(t, "/", { url, transports: ["websocket"] });
    const socket = await connected(t, "/", { url, transports: [transport] });
    const id = socket.id;

    // engine.io-client answers a ping with _sendPacket("pong"); drop those
    // so that, seen from the server, the client has gone silent.
    const engine = socket.io.engine;
    const sendPacket = engine._sendPacket;
    engine._sendPacket = function (type, ...rest) {
      if (type !== "pong") {
        sendPacket.call(this, type, ...rest);
      }
    };
    const silentSince = Date.now();
    const [clientReason] = await next(socket, "disconnect", HEARTBEAT_PING_INTERVAL + HEARTBEAT_PING_TIMEOUT + SLACK_MS);
    const elapsed = Date.now() - silentSince;

    assert.equal(await serverDisconnectReason(observer, id), "ping timeout");
    // The client still got pings, so its own timer did not fire: the server closed.
    assert.equal(clientReason, "transport close");
    assert.ok(elapsed >= HEARTBEAT_PING_TIMEOUT, `dropped after ${elapsed} ms, less than pingTimeout`);
  });
}

test("the client's ping timer uses the handshake values and fires when pings stop counting", { timeout: 10_000 }, async (t) => {
  const observer = await connected(t, "/", { url, transports: ["websocket"] });
  const socket = await connected(t, "/", { url, transports: ["websocket"] });
  const id = socket.id;
  const engine = socket.io.engine;
  // Pings keep arriving and are still answered (the server stays content),
  // but the client no longer re-arms its pingInterval + pingTimeout timer.
  const armedAt = Date.now();
  engine._resetPingTimeout = () => {};
  const [reason] = await next(socket, "disconnect", HEARTBEAT_PING_INTERVAL + HEARTBEAT_PING_TIMEOUT + SLACK_MS);
  const elapsed = Date.now() - armedAt;
  assert.equal(reason, "ping timeout");
  assert.ok(elapsed <= HEARTBEAT_PING_INTERVAL + HEARTBEAT_PING_TIMEOUT + SLACK_MS);
  // The client closed its websocket. Its timer expires just as the server's
  // next ping is due, so the server may see the close first ("transport
  // close") or fail writing that ping ("transport error"; Node 4.8 does).
  // Either way not "ping timeout": every ping was answered.
  const serverReason = await serverDisconnectReason(observer, id);
  assert.ok(["transport close", "transport error"].includes(serverReason), `server reason ${serverReason}`);
});
