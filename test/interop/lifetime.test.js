// Token lifetime on live sockets, seen by the stock client: the server
// (auth.expiring_lead 1 s) warns a socket with auth:expiring before its
// token's exp; an app that answers with auth:refresh stays connected and
// keeps receiving, one that does not gets auth:expired and the server's
// DISCONNECT at exp. Run by lifetime_test.go against the real dispatchd
// binary; the tokens are signed here, as an app's backend would sign them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { io } from "socket.io-client";
import { closeSocket, eventually, next, sleep, waitConnect } from "./wait.js";

const SERVER_URL = process.env.SERVER_URL;
const SECRET = process.env.JWT_SECRET;
const TENANT = process.env.TENANT;
const WAIT_MS = 10_000;
// Short tokens: exp 3 s ahead (whole seconds, so 2-3 s left).
const TTL_S = 3;

const b64url = (s) => Buffer.from(s).toString("base64url");

// sign makes an HS256 JWT for sub in role of TENANT, with its exp in
// seconds since the epoch.
function sign(role, sub, ttlS) {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + ttlS;
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({ sub, tenant: TENANT, role, iat: now, exp }));
  const sig = createHmac("sha256", SECRET).update(`${head}.${body}`).digest("base64url");
  return { token: `${head}.${body}.${sig}`, exp };
}

async function connect(t, ns, token, transports = ["websocket"]) {
  const socket = io(SERVER_URL + ns, { forceNew: true, reconnection: false, transports, auth: { token } });
  t.after(() => closeSocket(socket));
  await waitConnect(socket, WAIT_MS);
  return socket;
}

async function ask(socket, event, payload) {
  const r = await socket.timeout(WAIT_MS).emitWithAck(event, payload);
  assert.equal(r.ok, true, `${event}: ${JSON.stringify(r)}`);
  return r;
}

const order = (n) => ({
  store: `Lifetime ${n}`,
  customerId: "c-1",
  pickup: { address: "1 Main St", lat: 52.52, lng: 13.4 },
  dropoff: { address: "9 Side St", lat: 52.5, lng: 13.42 },
});

test("an app that refreshes on auth:expiring stays connected across three expiries and keeps receiving", { timeout: 60_000 }, async (t) => {
  assert.ok(SECRET && TENANT, "run through lifetime_test.go");
  const vendor = await connect(t, "/vendors", sign("vendor", "v-1", 600).token);
  vendor.onAny((...args) => { if (typeof args.at(-1) === "function") args.at(-1)(); });
  const first = sign("driver", "d-1", TTL_S);
  const driver = await connect(t, "/drivers", first.token);
  const sid = driver.id;
  const disconnects = [];
  driver.on("disconnect", (reason) => disconnects.push(reason));
  const expired = [];
  driver.on("auth:expired", (p) => expired.push(p));
  const pickups = [];
  driver.on("pickup:available", (p, ack) => { pickups.push(p.order.id); ack?.(); });

  // The app: on each warning, a new token from "its backend".
  const refreshes = [];
  driver.on("auth:expiring", async ({ exp }) => {
    const fresh = sign("driver", "d-1", TTL_S);
    const r = await driver.timeout(WAIT_MS).emitWithAck("auth:refresh", { token: fresh.token });
    refreshes.push({ warned: Date.parse(exp), r, fresh });
  });
  await ask(driver, "pickups:subscribe", {});

  let deadline = first.exp * 1000;
  for (let i = 0; i < 3; i++) {
    const got = await eventually(() => refreshes[i], WAIT_MS, `refresh ${i + 1}`);
    assert.equal(got.warned, deadline, `warning ${i + 1} names the socket's exp`);
    assert.equal(got.r.ok, true, JSON.stringify(got.r));
    assert.equal(Date.parse(got.r.exp), got.fresh.exp * 1000, "the ack names the new exp");
    // Past the deadline the refresh replaced: still the same socket,
    // still receiving.
    await sleep(deadline + 500 - Date.now());
    assert.equal(driver.connected, true, `connected after expiry ${i + 1}`);
    assert.equal(driver.id, sid);
    const created = await ask(vendor, "order:create", order(i));
    await eventually(() => (pickups.includes(created.order.id) ? true : null), WAIT_MS, `pickup ${i + 1}`);
    deadline = got.fresh.exp * 1000;
  }
  assert.deepEqual(disconnects, []);
  assert.deepEqual(expired, []);
});

for (const transport of ["websocket", "polling"]) {
  test(`an app that does not refresh is cut off at exp, then connects again with a new token (${transport})`, { timeout: 30_000 }, async (t) => {
    assert.ok(SECRET && TENANT, "run through lifetime_test.go");
    const first = sign("driver", `d-2-${transport}`, TTL_S);
    const driver = await connect(t, "/drivers", first.token, [transport]);
    const expiring = next(driver, "auth:expiring", WAIT_MS);
    const expired = next(driver, "auth:expired", WAIT_MS);
    const gone = next(driver, "disconnect", WAIT_MS);
    const exp = first.exp * 1000;

    const [warning] = await expiring;
    assert.equal(Date.parse(warning.exp), exp);
    assert.ok(Date.now() < exp, "warned before exp");
    const [notice] = await expired;
    assert.equal(Date.parse(notice.exp), exp);
    const [reason] = await gone;
    const cutAt = Date.now();
    assert.equal(reason, "io server disconnect");
    assert.ok(Math.abs(cutAt - exp) <= 1000, `cut off ${cutAt - exp} ms from exp`);
    t.diagnostic(`${transport}: cut off ${cutAt - exp} ms after exp`);
    await sleep(300);
    assert.equal(driver.connected, false, "the stock client does not reconnect by itself");

    // The app connects again with a new token: the same socket object.
    driver.auth = { token: sign("driver", `d-2-${transport}`, 600).token };
    driver.connect();
    await waitConnect(driver, WAIT_MS);
    await ask(driver, "pickups:subscribe", {});
  });
}
