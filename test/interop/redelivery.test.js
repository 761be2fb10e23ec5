// The message queue seen by the stock client: durable events carry a
// per-recipient seq and ask for an ack; what a user did not acknowledge,
// and what it missed while away, comes again when it reconnects, in order,
// without asking and without subscribing again. Run by story_test.go
// against the real dispatchd binary, with tenant C's tokens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { closeSocket, deadline, eventually, waitConnect } from "./wait.js";

const SERVER_URL = process.env.SERVER_URL;
const TOKENS = JSON.parse(process.env.TOKENS ?? "{}");
const WAIT_MS = 10_000;

// connect opens a socket of label's user; onEvent sees (event, payload,
// ack) for every server event, ack undefined when none was asked for.
async function connect(label, ns, onEvent) {
  const socket = io(SERVER_URL + ns, {
    forceNew: true,
    reconnection: false,
    transports: ["websocket"],
    auth: { token: TOKENS[label] },
  });
  socket.onAny((event, ...args) => {
    const ack = typeof args.at(-1) === "function" ? args.pop() : undefined;
    onEvent(event, args[0], ack);
  });
  await waitConnect(socket, WAIT_MS);
  return socket;
}

// inbox records pickups; acking says whether it acknowledges them.
function inbox(acking) {
  const box = { got: [], acking };
  box.on = (event, payload, ack) => {
    if (event !== "pickup:available") {
      return;
    }
    assert.equal(typeof ack, "function", "a durable event asks for an ack");
    box.got.push({ id: payload.order.id, seq: payload.seq, eventId: payload.eventId });
    if (box.acking) {
      ack();
    }
  };
  box.until = (n, what) => eventually(() => (box.got.length >= n ? true : null), WAIT_MS, what);
  // distinct drops redeliveries (same eventId), as a client does.
  box.distinct = () => box.got.filter((p, i) => box.got.findIndex((q) => q.eventId === p.eventId) === i);
  box.untilDistinct = (n, what) => eventually(() => (box.distinct().length >= n ? true : null), WAIT_MS, what);
  return box;
}

test("what a driver missed or did not acknowledge comes again on reconnect, in order", { timeout: 60_000 }, async (t) => {
  assert.ok(TOKENS["C.vendor.1"], "tenant C's tokens are missing: run through story_test.go");
  const vendor = await connect("C.vendor.1", "/vendors", (event, payload, ack) => ack?.());
  t.after(() => closeSocket(vendor));
  const create = async (n) => {
    const r = await vendor.timeout(WAIT_MS).emitWithAck("order:create", {
      store: `Charlie ${n}`,
      customerId: "c-nobody",
      pickup: { address: "1 C Street", lat: 1, lng: 2 },
      dropoff: { address: "2 C Street", lat: 3, lng: 4 },
    });
    assert.equal(r.ok, true, JSON.stringify(r));
    return r.order.id;
  };

  const acker = inbox(true);
  const silent = inbox(false); // receives, never acks: everything stays queued
  let s1 = await connect("C.driver.1", "/drivers", acker.on);
  let s2 = await connect("C.driver.2", "/drivers", silent.on);
  for (const s of [s1, s2]) {
    const r = await s.timeout(WAIT_MS).emitWithAck("pickups:subscribe", {});
    assert.equal(r.ok, true, JSON.stringify(r));
  }
  const first = await create(1);
  await acker.until(1, "driver 1 to hear the first pickup");
  await silent.until(1, "driver 2 to hear the first pickup");
  closeSocket(s1);
  closeSocket(s2);

  // Posted while both are away.
  const missed = [await create(2), await create(3)];

  s1 = await connect("C.driver.1", "/drivers", acker.on);
  silent.acking = true;
  s2 = await connect("C.driver.2", "/drivers", silent.on);
  t.after(() => [s1, s2].forEach(closeSocket));
  await deadline(Promise.all([acker.untilDistinct(3, "driver 1's missed pickups"), silent.until(4, "driver 2's queue")]), WAIT_MS, "redelivery");

  // Driver 1 acked the first pickup just before its socket closed: the ack
  // may not have been recorded (the contract lets an ack younger than
  // ~50 ms be lost; clients deduplicate by eventId). Then the first pickup
  // comes once more, at once on reconnect, as the same event.
  if (acker.got.length > 3) {
    assert.equal(acker.got.length, 4, "at most the one event acked at the close comes again");
    assert.deepEqual(acker.got[1], acker.got[0], "a redelivery is the same event: its seq and eventId");
  }
  assert.deepEqual(acker.distinct().map((p) => p.id), [first, ...missed], "only what it missed, in order");
  assert.deepEqual(acker.distinct().map((p) => p.seq), [1, 2, 3]);

  assert.deepEqual(silent.got.map((p) => p.id), [first, first, ...missed], "the unacknowledged one first, then the missed ones");
  assert.deepEqual(silent.got.map((p) => p.seq), [1, 1, 2, 3], "a redelivery keeps its seq");
  assert.equal(silent.got[0].eventId, silent.got[1].eventId, "and its eventId, so the client can drop it");
});
