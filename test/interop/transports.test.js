// Engine.IO transports as the stock client uses them: polling then upgrade
// (the default), websocket only, and polling only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ask, client, collect, connected, deadline, next, waitConnect } from "./helpers.js";

test("default options: handshake on polling, then upgrade to websocket", { timeout: 10_000 }, async (t) => {
  const socket = client(t, "/");
  const engine = socket.io.engine;
  assert.equal(engine.transport.name, "polling", "the default client opens on polling");
  const handshake = next(engine, "handshake");
  const upgraded = next(engine, "upgrade", 8000);

  await waitConnect(socket);
  const [open] = await handshake;
  assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
  assert.deepEqual(open.upgrades, ["websocket"]);
  assert.equal(open.pingInterval, 25000);
  assert.equal(open.pingTimeout, 20000);
  assert.equal(open.maxPayload, 1_000_000);
  assert.equal(typeof open.sid, "string");
  assert.notEqual(socket.id, engine.id, "the Socket.IO id must not reuse the Engine.IO sid");

  const [transport] = await upgraded;
  assert.equal(transport.name, "websocket");
  assert.equal(socket.io.engine.transport.name, "websocket");
  assert.equal(await ask(socket, "echo", "after upgrade"), "after upgrade");
});

test("default options: events sent around the upgrade arrive once and in order", { timeout: 15_000 }, async (t) => {
  const total = 300;
  const socket = client(t, "/");
  const engine = socket.io.engine;
  // On loopback the probe wins the race against the CONNECT round trip, so
  // the upgrade would be over before the first emit. Hold the probe back
  // 150 ms: the emits below then start on polling and run through the pause
  // and the switch.
  const probe = engine._probe;
  engine._probe = function (name) {
    setTimeout(() => probe.call(this, name), 150);
  };
  const upgraded = next(engine, "upgrade", 8000);
  const echoes = [];
  socket.on("echo", (i) => echoes.push(i));
  const allEchoed = deadline(
    new Promise((resolve) => socket.on("echo", (i) => i === total - 1 && resolve())),
    10_000,
    `echo ${total - 1}`,
  );
  await waitConnect(socket);

  // Start at once and keep a 1 ms pace, so the first emits go out over polling,
  // some while the probe is paused, and the rest over the websocket. Every
  // tenth one also asks for an ack.
  let sentOnPolling = 0;
  const acks = [];
  for (let i = 0; i < total; i++) {
    if (socket.io.engine.transport.name === "polling") {
      sentOnPolling++;
    }
    socket.emit("echo", i);
    if (i % 10 === 0) {
      acks.push(ask(socket, "echo", `ack-${i}`));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await upgraded;
  await allEchoed;
  const ackValues = await Promise.all(acks);
  t.diagnostic(`${sentOnPolling} of ${total} events were sent before the switch to websocket`);
  assert.ok(sentOnPolling > 0 && sentOnPolling < total, `${sentOnPolling} of ${total} sent on polling: the emits did not straddle the upgrade`);

  assert.deepEqual(echoes, Array.from({ length: total }, (_, i) => i), "echoes lost, duplicated or reordered");
  assert.deepEqual(ackValues, Array.from({ length: total / 10 }, (_, i) => `ack-${i * 10}`));
});

test("websocket only: no polling, no upgrade offered", { timeout: 10_000 }, async (t) => {
  const socket = client(t, "/", { transports: ["websocket"] });
  const handshake = next(socket.io.engine, "handshake");
  await waitConnect(socket);
  const [open] = await handshake;
  assert.deepEqual(open.upgrades, [], "a websocket-only session has nothing to upgrade to");
  assert.equal(socket.io.engine.transport.name, "websocket");

  assert.deepEqual(await ask(socket, "echo", { a: 1, b: [true, null, "é✓"] }), { a: 1, b: [true, null, "é✓"] });
  const echoed = next(socket, "echo");
  socket.emit("echo", "no ack wanted");
  assert.deepEqual(await echoed, ["no ack wanted"]);
});

test("polling only: events and acks round-trip, including a large payload", { timeout: 10_000 }, async (t) => {
  const socket = await connected(t, "/", { transports: ["polling"] });
  assert.equal(socket.io.engine.transport.name, "polling");

  assert.equal(await ask(socket, "echo", "over polling"), "over polling");
  const echoed = next(socket, "echo");
  socket.emit("echo", "event without ack", 42);
  assert.deepEqual(await echoed, ["event without ack", 42]);

  // 200 kB of text forces the client to spread its queue over POSTs sized by
  // the handshake's maxPayload and the reply to come back in one long GET.
  const big = "x".repeat(200_000) + "✓";
  assert.equal(await ask(socket, "echo", big), big);

  // Several emits queued in one tick travel as one \x1e-joined POST body.
  const three = collect(socket, "echo", 500);
  socket.emit("echo", 1);
  socket.emit("echo", 2);
  socket.emit("echo", 3);
  assert.deepEqual(await three, [[1], [2], [3]]);
  assert.equal(socket.io.engine.transport.name, "polling", "a polling-only client must stay on polling");
});
