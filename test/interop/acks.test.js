// Acknowledgements in both directions, server-side ack timeouts, and acks
// cut short by a disconnect.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ask, collect, connected, eventually, next } from "./helpers.js";

for (const transport of ["websocket", "polling"]) {
  test(`${transport}: client emit with ack gets the server's ack`, { timeout: 10_000 }, async (t) => {
    const socket = await connected(t, "/", { transports: [transport] });

    // Several ack arguments, through the callback form.
    const [err, ...args] = await new Promise((resolve) => {
      socket.timeout(5000).emit("echo", { a: 1 }, "two", 3, null, (...reply) => resolve(reply));
    });
    assert.equal(err, null);
    assert.deepEqual(args, [{ a: 1 }, "two", 3, null]);

    // An ack with no arguments (43<id>[]).
    const empty = await new Promise((resolve) => socket.timeout(5000).emit("echo", (...reply) => resolve(reply)));
    assert.deepEqual(empty, [null]);

    // Many acks in flight at once: each reply must match its own ack id.
    const values = Array.from({ length: 200 }, (_, i) => `v${i}`);
    assert.deepEqual(await Promise.all(values.map((v) => ask(socket, "echo", v))), values);
  });

  test(`${transport}: server EmitWithAck gets the client's ack value`, { timeout: 10_000 }, async (t) => {
    const socket = await connected(t, "/", { transports: [transport] });
    socket.on("question", (q, ack) => {
      ack({ n: q.n + 1 });
    });
    // The Go side sends "question" {n: 40}, decodes our {n: 41} and acks
    // "ask-client" with n + 1: 42 proves the value reached Go intact.
    assert.deepEqual(await ask(socket, "ask-client", { n: 40 }), { n: 42 });
    assert.deepEqual(await ask(socket, "ask-client", { n: -7 }), { n: -5 });
  });
}

test("server EmitWithAck times out when the client never acks, exactly once", { timeout: 10_000 }, async (t) => {
  const timeoutMs = 300;
  const socket = await connected(t, "/", { transports: ["websocket"] });
  let lateAck;
  const asked = next(socket, "ignore-me");
  socket.on("ignore-me", (ack) => {
    lateAck = ack;
  });
  const observed = next(socket, "ack-timeout-observed");
  const repeated = collect(socket, "ack-callback-repeated", 1500);
  const started = Date.now();
  socket.emit("ask-ignored", { timeoutMs });

  await asked;
  assert.equal(typeof lateAck, "function", "the server must ask for an ack");
  const [{ outcome, elapsedMs }] = await observed;
  assert.equal(outcome, "timeout");
  assert.ok(elapsedMs >= timeoutMs, `the callback fired after ${elapsedMs} ms, before the ${timeoutMs} ms timeout`);
  assert.ok(Date.now() - started < timeoutMs + 1000, `the timeout was reported only after ${Date.now() - started} ms`);

  // A late ack for the expired id must be ignored: no second callback, and
  // the connection stays usable.
  lateAck("too late");
  assert.deepEqual(await repeated, [], "the AckCallback ran again for a late ack");
  assert.equal(await ask(socket, "echo", "alive"), "alive");
});

// dispatchd's own contract (AckCallback gets ErrDisconnected), not Node's:
// socket.io 4.8 only fires such a callback at its timeout.
test("server EmitWithAck fails with ErrDisconnected when the client leaves instead of acking", { timeout: 10_000 }, async (t) => {
  const observer = await connected(t, "/", { transports: ["websocket"] });
  const socket = await connected(t, "/", { transports: ["websocket"] });
  const id = socket.id;
  const asked = next(socket, "question-unanswered");
  socket.emit("ask-unanswered");
  await asked;
  const left = Date.now();
  socket.disconnect();

  // The fixture's ack timeout is 5 s; the outcome must come from the
  // disconnect, well before that.
  const outcome = await eventually(() => ask(observer, "ack-outcome", id), 3000, `the AckCallback outcome for ${id}`);
  assert.equal(outcome, "disconnected");
  assert.ok(Date.now() - left < 3000);
});
