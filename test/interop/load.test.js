// Many clients at once: every one connects, gets its own ack, and is
// cleaned up on the server when it leaves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { ask, client, connected, deadline, eventually, waitConnect } from "./helpers.js";

const CLIENTS = 1000;

test(`${CLIENTS} concurrent websocket clients each get their ack`, { timeout: 60_000 }, async (t) => {
  // The fixture counts live sockets per auth group, so other test files
  // running against the same server do not disturb the count.
  const group = `load-${randomUUID()}`;
  const observer = await connected(t, "/", { transports: ["websocket"] });
  const started = Date.now();

  const sockets = Array.from({ length: CLIENTS }, () =>
    client(t, "/", { transports: ["websocket"], auth: { group }, timeout: 20_000 }),
  );
  await deadline(Promise.all(sockets.map((s) => waitConnect(s, 30_000))), 30_000, `${CLIENTS} connects`);
  const connectedMs = Date.now() - started;
  assert.equal(new Set(sockets.map((s) => s.id)).size, CLIENTS, "socket ids must be unique");
  assert.equal(new Set(sockets.map((s) => s.io.engine.id)).size, CLIENTS, "each client has its own session");
  assert.equal(await ask(observer, "group-count", group), CLIENTS);

  const replies = await deadline(
    Promise.all(sockets.map((s, i) => s.timeout(20_000).emitWithAck("echo", { i, id: s.id }))),
    20_000,
    `${CLIENTS} acks`,
  );
  replies.forEach((reply, i) => assert.deepEqual(reply, { i, id: sockets[i].id }));
  const ackedMs = Date.now() - started;

  for (const s of sockets) {
    s.disconnect();
  }
  // Every socket must have run its OnDisconnect on the Go side.
  await eventually(
    async () => ((await ask(observer, "group-count", group)) === 0 ? true : null),
    15_000,
    "the server to forget every socket of the group",
  );
  t.diagnostic(
    `connected in ${connectedMs} ms, all acked at ${ackedMs} ms, all gone at ${Date.now() - started} ms`,
  );
});
