// The operator's console client (internal/console/static/console.js), the
// one the /console/ page runs in a browser, driven here with the `ws`
// package against the real dispatchd binary: it connects with a token,
// is refused with the contract's code for a bad one, calls events with
// acks, and receives durable events with their seq and acks them. Run by
// story_test.go, with tenant D's tokens.
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { Client, parsePacket } from "../../internal/console/static/console.js";
import { deadline, eventually } from "./wait.js";

const SERVER_URL = process.env.SERVER_URL;
const TOKENS = JSON.parse(process.env.TOKENS ?? "{}");
const WAIT_MS = 10_000;

test("parsePacket reads namespaces, ack ids and payloads", () => {
  assert.deepEqual(parsePacket('2/drivers,12["pickup:available",{"seq":3}]'),
    { type: 2, nsp: "/drivers", id: 12, data: ["pickup:available", { seq: 3 }] });
  assert.deepEqual(parsePacket("0"), { type: 0, nsp: "/", id: null, data: undefined });
  assert.deepEqual(parsePacket('4/vendors,{"message":"no","data":{"code":"unauthorized"}}'),
    { type: 4, nsp: "/vendors", id: null, data: { message: "no", data: { code: "unauthorized" } } });
  assert.deepEqual(parsePacket("3/x,7[]"), { type: 3, nsp: "/x", id: 7, data: [] });
});

test("the console client against dispatchd", { timeout: 30_000 }, async (t) => {
  assert.ok(TOKENS["D.vendor.1"], "tenant D's tokens are missing: run through story_test.go");
  const open = (label) => {
    const c = new Client(SERVER_URL, WebSocket);
    t.after(() => c.close());
    return c;
  };

  const bad = open("bad");
  await assert.rejects(bad.connect("/drivers", { token: "not-a-token" }), (err) => err.data?.code === "unauthorized");

  const driver = open("driver");
  const got = [];
  driver.onEvent((e) => {
    got.push(e);
    e.ack?.();
  });
  await driver.connect("/drivers", { token: TOKENS["D.driver.1"] });
  const [sub] = await driver.call("/drivers", "pickups:subscribe", {});
  assert.equal(sub.ok, true, JSON.stringify(sub));

  const vendor = open("vendor");
  vendor.onEvent((e) => e.ack?.());
  await vendor.connect("/vendors", { token: TOKENS["D.vendor.1"] });
  const [created] = await vendor.call("/vendors", "order:create", {
    store: "Delta Deli", customerId: "c-nobody",
    pickup: { address: "1 D Street", lat: 1, lng: 2 }, dropoff: { address: "2 D Street", lat: 3, lng: 4 },
  });
  assert.equal(created.ok, true, JSON.stringify(created));

  const pickup = await deadline(eventually(() => got.find((e) => e.event === "pickup:available"), WAIT_MS, "the pickup"), WAIT_MS, "the pickup");
  assert.equal(pickup.nsp, "/drivers");
  assert.equal(pickup.payload.order.id, created.order.id);
  assert.equal(pickup.payload.seq, 1);
  assert.equal(typeof pickup.ack, "function", "a durable event asks for an ack");

  const [bogus] = await driver.call("/drivers", "pickup:claim", { orderId: 42 });
  assert.equal(bogus.ok, false);
  assert.equal(bogus.error.code, "invalid_argument");
});
