// A stock client that handles only one of its durable event types keeps
// receiving: the vendor below has a handler (and so acks) only for
// order:delivered, never for order:status, five of which come before each
// order:delivered. Acks are cumulative per socket, so each order:delivered
// ack receipts the statuses before it and the window (64) keeps moving.
// Run by partialacks_test.go against the real dispatchd binary.
import { test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { closeSocket, eventually, waitConnect } from "./wait.js";

const SERVER_URL = process.env.SERVER_URL;
const TOKENS = JSON.parse(process.env.TOKENS ?? "{}");
const ORDERS = Number(process.env.ORDERS ?? 1000);
const PARALLEL = 16; // orders in progress at a time
const WAIT_MS = 10_000;
// The last order:delivered may trail the last step by seconds on a busy
// machine (each ack moves the window of 64 by one order's events): the test
// is about never stalling, so it waits long, and fails on a stall.

async function connect(token, ns) {
  const socket = io(SERVER_URL + ns, { forceNew: true, reconnection: false, transports: ["websocket"], auth: { token } });
  await waitConnect(socket, WAIT_MS);
  return socket;
}

async function ask(socket, event, payload) {
  const r = await socket.timeout(WAIT_MS).emitWithAck(event, payload);
  assert.equal(r.ok, true, `${event}: ${JSON.stringify(r)}`);
  return r;
}

test(`a vendor that handles only order:delivered gets all ${ORDERS}`, { timeout: 120_000 }, async (t) => {
  assert.ok(TOKENS.vendor && TOKENS.drivers?.length, "tokens are missing: run through partialacks_test.go");
  const vendor = await connect(TOKENS.vendor, "/vendors");
  // Several drivers share the work: each socket's events are handled in turn.
  const drivers = await Promise.all(TOKENS.drivers.map((tok) => connect(tok, "/drivers")));
  t.after(() => [vendor, ...drivers].forEach(closeSocket));

  const delivered = new Set();
  let statuses = 0;
  vendor.onAny((event) => { if (event === "order:status") statuses++; }); // seen, never acked
  vendor.on("order:delivered", (d, ack) => { delivered.add(d.orderId); ack(); });

  const one = async (n) => {
    const driver = drivers[n % drivers.length];
    const { order } = await ask(vendor, "order:create", {
      store: `Store ${n}`, customerId: "c1",
      pickup: { address: "1 Main St", lat: 52.52, lng: 13.4 }, dropoff: { address: "9 Side St", lat: 52.5, lng: 13.42 },
    });
    for (const step of ["pickup:claim", "order:picked_up", "order:in_transit", "order:delivered"]) {
      await ask(driver, step, { orderId: order.id });
    }
    return order.id;
  };
  const ids = [];
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < ORDERS) {
      ids.push(await one(next++));
    }
  }));
  assert.equal(ids.length, ORDERS);
  await eventually(() => (delivered.size === ORDERS ? true : null), 60_000, `all ${ORDERS} order:delivered`).catch((err) => {
    throw new Error(`${err.message}: have ${delivered.size}, after ${statuses} order:status`);
  });
  for (const id of ids) {
    assert.ok(delivered.has(id), `order:delivered for ${id}`);
  }
  assert.ok(statuses >= 5 * ORDERS, `the statuses went out too: ${statuses}`);
});
