// The dispatch story, end to end, against the real dispatchd binary
// (story_test.go starts it and passes SERVER_URL and TOKENS): tenant A's
// vendor posts an order, 50 drivers race for it, the winner carries it to
// the customer, who watches every step; tenant B's users are connected all
// along and must receive no byte of it. The steps run in order, and the
// first failing step ends the story. Tenant E's chapters follow (duty,
// ETAs, PIN, failure), then tenant N's: the nearest strategy's rings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { io } from "socket.io-client";
import { closeSocket, deadline, eventually, sleep, waitConnect } from "./wait.js";

const SERVER_URL = requireEnv("SERVER_URL");
// TOKENS maps "<tenant key>.<role>.<n>" ("A.driver.7") to a JWT.
const TOKENS = JSON.parse(requireEnv("TOKENS"));
// WAIT_MS bounds every single wait; STORY_MS the whole story.
const WAIT_MS = 10_000;
const STORY_MS = 60_000;

const NAMESPACE = { vendor: "/vendors", driver: "/drivers", customer: "/customers", dispatcher: "/dispatchers" };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the story through story_test.go (go test -run TestDispatchStory ./test/interop/)`);
  }
  return value;
}

// claimsOf reads a JWT's claims (no verification: that is the server's job).
function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

// A User is one socket with everything it received recorded: every
// Engine.IO packet as it came off the wire (handshake, pings, acks, events)
// and every server event. Server events that ask for an ack get one, now
// (none do yet) and once durable delivery asks for receipts.
class User {
  constructor(label, transports) {
    const token = TOKENS[label];
    const claims = claimsOf(token);
    this.label = label;
    this.id = claims.sub;
    this.tenant = claims.tenant;
    this.role = claims.role;
    this.transports = transports ?? "default";
    this.packets = []; // Engine.IO packets, in arrival order
    this.events = []; // [event, ...args] of every server event
    this.ackRequests = 0;
    this.unexpectedDisconnects = [];
    this.waiters = [];
    this.closing = false;

    const opts = { forceNew: true, reconnection: false, timeout: WAIT_MS, auth: { token } };
    if (transports) {
      opts.transports = transports;
    }
    this.socket = io(SERVER_URL + NAMESPACE[this.role], opts);
    // The Engine.IO socket and its first transport exist now, and nothing
    // has been read yet: this listener sees every packet.
    const engine = this.socket.io.engine;
    this.firstTransport = engine.transport.name;
    engine.on("packet", (packet) => this.packets.push(packet));
    this.socket.onAny((event, ...args) => {
      if (typeof args.at(-1) === "function") {
        const ack = args.pop();
        this.ackRequests++;
        ack();
      }
      this.events.push([event, ...args]);
      this.waiters = this.waiters.filter((w) => {
        if (w.event !== event || !w.match(...args)) {
          return true;
        }
        w.resolve(args);
        return false;
      });
    });
    this.socket.on("disconnect", (reason) => {
      if (!this.closing) {
        this.unexpectedDisconnects.push(reason);
      }
    });
  }

  // ask emits with an ack and resolves with the ack's one argument.
  ask(event, payload) {
    return this.socket.timeout(WAIT_MS).emitWithAck(event, payload);
  }

  // received lists the arguments of every `event` so far that match.
  received(event, match = () => true) {
    return this.events.filter(([name, ...args]) => name === event && match(...args)).map(([, ...args]) => args);
  }

  // waitFor resolves with the arguments of the first `event` that matches,
  // received before or after the call.
  waitFor(event, match = () => true) {
    const [seen] = this.received(event, match);
    if (seen) {
      return Promise.resolve(seen);
    }
    const arrived = new Promise((resolve) => this.waiters.push({ event, match, resolve }));
    return deadline(arrived, WAIT_MS, `${this.label} (${this.id}) to receive "${event}"`);
  }

  // wire is every packet received, as text: what the isolation checks search.
  wire() {
    return this.packets.map((p) => `${p.type}:${typeof p.data === "string" ? p.data : Buffer.from(p.data ?? []).toString("latin1")}`);
  }

  close() {
    this.closing = true;
    closeSocket(this.socket);
  }
}

// labels lists the token labels of one tenant and role, in number order.
function labels(tenant, role) {
  return Object.keys(TOKENS)
    .filter((l) => l.startsWith(`${tenant}.${role}.`))
    .sort((a, b) => Number(a.split(".")[2]) - Number(b.split(".")[2]));
}

// rest calls the REST API as user and resolves with the status and JSON body.
async function rest(user, path) {
  const res = await fetch(`${SERVER_URL}/api/v1${path}`, {
    headers: { authorization: `Bearer ${TOKENS[user.label]}` },
    signal: AbortSignal.timeout(WAIT_MS),
  });
  return { status: res.status, body: await res.json() };
}

// assertError checks a failed ack or REST body: the contract's error object.
function assertError(got, code, what) {
  assert.equal(got.error?.code, code, `${what}: ${JSON.stringify(got)}`);
  assert.equal(typeof got.error.message, "string", what);
  assert.ok(got.error.message.length > 0, what);
}

// mentions returns the packets of users that contain any of the markers.
function mentions(users, markers) {
  const found = [];
  for (const u of users) {
    for (const text of u.wire()) {
      for (const m of markers) {
        if (text.includes(m)) {
          found.push(`${u.label} (${u.id}) received ${JSON.stringify(m)} in ${text.slice(0, 300)}`);
        }
      }
    }
  }
  return found;
}

function place(address, lat, lng) {
  return { address, lat, lng };
}

test("the dispatch story: one order, 50 drivers, two tenants", { timeout: STORY_MS }, async (t) => {
  // Every other user takes the default options (polling, then the upgrade);
  // the rest go straight to websocket.
  let n = 0;
  const user = (label) => new User(label, n++ % 2 === 0 ? undefined : ["websocket"]);
  const A = {
    vendor: user(labels("A", "vendor")[0]),
    customers: labels("A", "customer").map(user),
    drivers: labels("A", "driver").map(user),
  };
  const B = {
    vendor: user(labels("B", "vendor")[0]),
    customers: labels("B", "customer").map(user),
    drivers: labels("B", "driver").map(user),
  };
  const [c1, c2, c3] = A.customers;
  const users = [A.vendor, ...A.customers, ...A.drivers, B.vendor, ...B.customers, ...B.drivers];
  const usersA = users.filter((u) => u.tenant === A.vendor.tenant);
  const usersB = users.filter((u) => u.tenant === B.vendor.tenant);
  t.after(() => users.forEach((u) => u.close()));

  const started = Date.now();
  let failed = "";
  // step runs one chapter as a subtest; after a failure the rest is skipped.
  const step = async (name, fn, opts = {}) => {
    if (failed) {
      return t.test(name, { skip: `"${failed}" failed` }, () => {});
    }
    const at = Date.now();
    await t.test(name, opts, async (st) => {
      try {
        await fn(st);
      } catch (err) {
        if (!opts.todo) {
          failed = name;
        }
        throw err;
      }
      st.diagnostic(`done at ${Date.now() - started} ms (step: ${Date.now() - at} ms)`);
    });
  };

  const story = { key: randomUUID() };

  await step(`${users.length} users connect, default options and websocket-only`, async () => {
    assert.equal(A.drivers.length, 50);
    assert.equal(A.customers.length, 3);
    assert.equal(B.drivers.length, 3);
    assert.equal(B.customers.length, 1);
    assert.notEqual(A.vendor.tenant, B.vendor.tenant);
    await deadline(Promise.all(users.map((u) => waitConnect(u.socket, WAIT_MS))), WAIT_MS, "every user to connect");
    for (const u of users) {
      assert.equal(u.firstTransport, u.transports === "default" ? "polling" : "websocket", u.label);
    }
    const defaults = users.filter((u) => u.transports === "default").length;
    t.diagnostic(`${defaults} users on default options (polling, then upgrade), ${users.length - defaults} websocket-only`);
  });

  await step("every driver of both tenants subscribes to pickups", async () => {
    const drivers = [...A.drivers, ...B.drivers];
    const acks = await Promise.all(drivers.map((d) => d.ask("pickups:subscribe", {})));
    acks.forEach((ack, i) => assert.deepEqual(ack, { ok: true, pickups: [] }, drivers[i].label));
  });

  await step("vendor A posts an order; the same idempotencyKey returns the same order", async () => {
    const request = {
      store: `Alpha Pasta ${story.key.slice(0, 8)}`,
      customerId: c1.id,
      pickup: place("1 Alpha Street", 52.52, 13.405),
      dropoff: place("9 Alpha Lane", 52.5, 13.42),
      items: [{ name: "tagliatelle", qty: 2 }],
      idempotencyKey: story.key,
    };
    const first = await A.vendor.ask("order:create", request);
    assert.equal(first.ok, true, JSON.stringify(first));
    const o = first.order;
    assert.match(o.id, UUID);
    assert.equal(o.tenant, A.vendor.tenant);
    assert.equal(o.vendorId, A.vendor.id);
    assert.equal(o.customerId, c1.id);
    assert.equal(o.store, request.store);
    assert.deepEqual(o.pickup, request.pickup);
    assert.deepEqual(o.dropoff, request.dropoff);
    assert.deepEqual(o.items, request.items);
    assert.equal(o.status, "ready");
    assert.equal(o.version, 1);
    assert.equal(o.driverId, undefined);
    for (const field of ["createdAt", "updatedAt"]) {
      assert.match(o[field], /Z$/, `${field} is UTC`);
      assert.ok(!Number.isNaN(Date.parse(o[field])), field);
    }

    const again = await A.vendor.ask("order:create", request);
    assert.deepEqual(again, first, "a repeated idempotencyKey must return the same order");
    story.order = o;
  });

  await step("all 50 drivers of A hear pickup:available", async () => {
    const heard = await Promise.all(A.drivers.map((d) => d.waitFor("pickup:available", (p) => p?.order?.id === story.order.id)));
    for (const [i, [payload]] of heard.entries()) {
      assert.deepEqual(payload.order, asDriversSee(story.order), A.drivers[i].label);
      assert.match(payload.eventId, UUID, A.drivers[i].label);
    }
  });

  // c1 watches only now, after every driver heard of the order: the hub
  // routes a change to the order's room before the pickups room, so the
  // "ready" order:status went out (to nobody) before c1 joined, and c1's
  // live statuses start at "assigned".
  await step("only the order's own customer may watch it", async () => {
    const watched = await c1.ask("order:watch", { orderId: story.order.id });
    assert.equal(watched.ok, true, JSON.stringify(watched));
    assert.deepEqual(watched.order, story.order);
    assert.equal(watched.events.length, 1, JSON.stringify(watched.events));
    const [created] = watched.events;
    assert.equal(created.orderId, story.order.id);
    assert.equal(created.status, "ready");
    assert.equal(created.version, 1);
    assert.deepEqual(created.actor, { role: "vendor", id: A.vendor.id });

    const other = await c2.ask("order:watch", { orderId: story.order.id });
    assert.equal(other.ok, false);
    assertError(other, "forbidden", "another customer of tenant A");

    // Another tenant's order is indistinguishable from a missing one.
    const [foreign, missing] = await Promise.all([
      B.customers[0].ask("order:watch", { orderId: story.order.id }),
      B.customers[0].ask("order:watch", { orderId: randomUUID() }),
    ]);
    assert.equal(foreign.ok, false);
    assertError(foreign, "not_found", "tenant B's customer");
    assert.deepEqual(foreign, missing, "tenant A's order must look exactly like a missing one");
  });

  await step("50 drivers claim at once: exactly one wins, 49 get already_claimed, all hear pickup:taken", async () => {
    const acks = await Promise.all(A.drivers.map((d) => d.ask("pickup:claim", { orderId: story.order.id })));
    const winners = acks.flatMap((ack, i) => (ack.ok ? [i] : []));
    assert.equal(winners.length, 1, `winners: ${winners.map((i) => A.drivers[i].label)}`);
    story.winner = A.drivers[winners[0]];
    story.losers = A.drivers.filter((d) => d !== story.winner);
    acks.forEach((ack, i) => {
      if (i !== winners[0]) {
        assert.equal(ack.ok, false, A.drivers[i].label);
        assertError(ack, "already_claimed", A.drivers[i].label);
      }
    });
    const won = acks[winners[0]].order;
    assert.equal(won.status, "assigned");
    assert.equal(won.driverId, story.winner.id);
    assert.equal(won.version, 2);

    const taken = await Promise.all(A.drivers.map((d) => d.waitFor("pickup:taken", (p) => p?.orderId === story.order.id)));
    for (const [i, [payload]] of taken.entries()) {
      assert.match(payload.eventId, UUID, A.drivers[i].label);
    }
    t.diagnostic(`winner: ${story.winner.label} (${story.winner.id}, ${story.winner.transports})`);
  });

  await step("a losing driver may not move the order; the winner picks it up and sets off", async () => {
    const refused = await story.losers[0].ask("order:picked_up", { orderId: story.order.id });
    assert.equal(refused.ok, false);
    assertError(refused, "forbidden", `${story.losers[0].label} picking up the winner's order`);

    const steps = [
      ["order:picked_up", "picked_up", 3],
      ["order:in_transit", "in_transit", 4],
    ];
    for (const [event, status, version] of steps) {
      const ack = await story.winner.ask(event, { orderId: story.order.id });
      assert.equal(ack.ok, true, `${event}: ${JSON.stringify(ack)}`);
      assert.equal(ack.order.status, status);
      assert.equal(ack.order.version, version);
      assert.equal(ack.order.driverId, story.winner.id);
    }
  });

  await step("the customer sees the driver's position", async () => {
    const positions = [
      { lat: 52.515, lng: 13.41, heading: 120, speed: 8.5 },
      { lat: 52.51, lng: 13.415 },
      { lat: 52.505, lng: 13.418, heading: 160 },
    ];
    for (const pos of positions) {
      const ack = await story.winner.ask("location:update", pos);
      assert.deepEqual(ack, { ok: true });
      const [seen] = await c1.waitFor("driver:location", (p) => p?.lat === pos.lat && p?.lng === pos.lng);
      assert.equal(seen.orderId, story.order.id);
      assert.equal(seen.heading, pos.heading);
      assert.equal(seen.speed, pos.speed);
      assert.ok(!Number.isNaN(Date.parse(seen.at)), "at");
    }
  });

  await step("the winner delivers", async () => {
    const ack = await story.winner.ask("order:delivered", { orderId: story.order.id, proof: { signedBy: "C1" } });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.equal(ack.order.status, "delivered");
    assert.equal(ack.order.version, 5);
    assert.equal(ack.order.driverId, story.winner.id);
    story.delivered = ack.order;
  });

  await step("the customer saw assigned, picked_up, in_transit, delivered, in order", async () => {
    await c1.waitFor("order:status", (s) => s?.status === "delivered");
    const statuses = c1.received("order:status").map(([s]) => s);
    assert.deepEqual(statuses.map((s) => s.status), ["assigned", "picked_up", "in_transit", "delivered"]);
    for (const s of statuses) {
      assert.equal(s.orderId, story.order.id);
      assert.equal(s.driverId, story.winner.id);
      assert.match(s.eventId, UUID);
      assert.ok(!Number.isNaN(Date.parse(s.at)), "at");
    }
    assert.equal(new Set(statuses.map((s) => s.eventId)).size, statuses.length, "eventIds must be unique");
    story.customerStatuses = statuses;
  });

  await step("vendor A saw every status and the thank-you", async () => {
    const [[thanks]] = await Promise.all([
      A.vendor.waitFor("order:delivered", (d) => d?.orderId === story.order.id),
      A.vendor.waitFor("order:status", (s) => s?.status === "delivered"),
    ]);
    const statuses = A.vendor.received("order:status").map(([s]) => s);
    assert.deepEqual(statuses.map((s) => s.status), ["ready", "assigned", "picked_up", "in_transit", "delivered"]);
    assert.ok(statuses.every((s) => s.orderId === story.order.id));
    assert.deepEqual(
      statuses.slice(1).map((s) => s.eventId),
      story.customerStatuses.map((s) => s.eventId),
      "the vendor and the customer hear the same transitions",
    );
    assert.equal(thanks.orderId, story.order.id);
    assert.equal(thanks.driverId, story.winner.id);
    assert.ok(!Number.isNaN(Date.parse(thanks.at)), "at");
    assert.equal(A.vendor.received("order:delivered").length, 1);
  });

  // The vendor's order:delivered once carried the eventId of its order:status
  // "delivered", so a vendor deduplicating by eventId dropped one of them.
  await step(
    "every durable event a client received has its own eventId (clients deduplicate by it)",
    async () => {
      for (const u of usersA) {
        const ids = u.events.filter(([name]) => name !== "driver:location").map(([name, p]) => `${name} ${p?.eventId}`);
        const seen = new Map();
        for (const entry of ids) {
          const id = entry.split(" ")[1];
          assert.ok(!seen.has(id), `${u.label} got eventId ${id} twice: "${seen.get(id)}" and "${entry}"`);
          seen.set(id, entry);
        }
      }
    },
  );

  await step("every durable event carries its recipient's seq: 1, 2, 3, … in arrival order", async () => {
    for (const u of usersA) {
      const got = u.events.filter(([name]) => name !== "driver:location").map(([, p]) => p?.seq);
      assert.deepEqual(got, got.map((_, i) => i + 1), `${u.label}: ${JSON.stringify(got)}`);
    }
  });

  await step("REST agrees with what the sockets saw", async () => {
    const got = await rest(A.vendor, `/orders/${story.order.id}`);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.status, "delivered");
    assert.equal(got.body.driverId, story.winner.id);
    assert.equal(got.body.version, 5);
    // story.delivered is the driver's view: the same order without the
    // vendor's tracking link.
    assert.deepEqual(asDriversSee(got.body), story.delivered);

    const log = await rest(A.vendor, `/orders/${story.order.id}/events`);
    assert.equal(log.status, 200, JSON.stringify(log.body));
    const events = log.body.events;
    assert.deepEqual(events.map((e) => e.status), ["ready", "assigned", "picked_up", "in_transit", "delivered"]);
    assert.deepEqual(events.map((e) => e.version), [1, 2, 3, 4, 5]);
    assert.deepEqual(events.slice(1).map((e) => e.driverId), Array(4).fill(story.winner.id));
    assert.deepEqual(events.slice(1).map((e) => e.actor), Array(4).fill({ role: "driver", id: story.winner.id }));
    // A transition's order:status eventId is its log entry's id.
    assert.deepEqual(events.slice(1).map((e) => e.id), story.customerStatuses.map((s) => s.eventId));

    const foreign = await rest(B.vendor, `/orders/${story.order.id}`);
    const missing = await rest(B.vendor, `/orders/${randomUUID()}`);
    assert.equal(foreign.status, 404);
    assertError(foreign.body, "not_found", "tenant B's vendor");
    assert.deepEqual(foreign, missing, "tenant A's order must look exactly like a missing one over REST");
    const foreignLog = await rest(B.vendor, `/orders/${story.order.id}/events`);
    assert.equal(foreignLog.status, 404);

    const nosy = await rest(c2, `/orders/${story.order.id}`);
    assert.equal(nosy.status, 403);
    assertError(nosy.body, "forbidden", "another customer of tenant A over REST");
  });

  // The markers are strings that only tenant A's story can produce.
  const markersOfA = () => [
    story.order.id,
    A.vendor.tenant,
    story.order.store,
    ...usersA.map((u) => u.id),
    ...[...story.customerStatuses, ...A.vendor.received("order:status").map(([s]) => s)].map((s) => s.eventId),
  ];

  await step("tenant B received no byte of tenant A's story", async () => {
    for (const u of usersB) {
      assert.deepEqual(u.events, [], `${u.label} received server events`);
      // The capture started before the first byte: the handshake is in it.
      assert.equal(u.packets[0]?.type, "open", `${u.label}: the capture missed the handshake`);
    }
    assert.deepEqual(mentions(usersB, markersOfA()), []);
  });

  await step("tenant B's own order reaches tenant B only", async () => {
    const created = await B.vendor.ask("order:create", {
      store: "Bravo Burgers",
      customerId: B.customers[0].id,
      pickup: place("2 Bravo Road", 48.85, 2.35),
      dropoff: place("8 Bravo Square", 48.86, 2.34),
    });
    assert.equal(created.ok, true, JSON.stringify(created));
    const id = created.order.id;
    await Promise.all([
      ...B.drivers.map((d) => d.waitFor("pickup:available", (p) => p?.order?.id === id)),
      B.vendor.waitFor("order:status", (s) => s?.orderId === id && s.status === "ready"),
    ]);
    // The capture does see what is meant for B.
    assert.ok(mentions(B.drivers, [id]).length >= B.drivers.length);
    // Tenant A's drivers would have heard it in the same routing pass; give
    // a stray packet time to arrive anyway.
    await sleep(300);
    assert.deepEqual(mentions(usersA, [id, B.vendor.tenant, ...usersB.map((u) => u.id)]), []);
    assert.deepEqual(mentions(usersB, markersOfA()), []);
  });

  await step("nobody heard anything twice or anything not meant for them; every socket stayed up", async () => {
    for (const d of A.drivers) {
      const names = d.events.map(([name]) => name);
      assert.deepEqual(names, ["pickup:available", "pickup:taken"], d.label);
    }
    assert.deepEqual(c2.events, [], "c2 watched nothing");
    assert.deepEqual(c3.events, [], "c3 watched nothing");
    assert.deepEqual(
      c1.events.map(([name]) => name).filter((name) => name !== "driver:location"),
      Array(4).fill("order:status"),
    );
    for (const u of users) {
      assert.deepEqual(u.unexpectedDisconnects, [], u.label);
      assert.equal(u.socket.connected, true, u.label);
    }
    // Clients on default options upgraded to websocket meanwhile.
    await eventually(
      () => (users.every((u) => u.socket.io.engine.transport.name === "websocket") ? true : null),
      WAIT_MS,
      "every default-options client to upgrade to websocket",
    );
    const acks = users.reduce((sum, u) => sum + u.ackRequests, 0);
    const packets = users.reduce((sum, u) => sum + u.packets.length, 0);
    t.diagnostic(`${packets} packets received; ${acks} server events asked for an ack (and got it)`);
  });

  users.forEach((u) => u.close());
  assert.equal(failed, "", `the story stopped at "${failed}"`);
  t.diagnostic(`story told in ${Date.now() - started} ms`);
});

// chapters returns a step function for test t: each chapter runs as a
// subtest, and after a failure the later ones are skipped (they build on
// it). failed() names the chapter that failed, if any.
function chapters(t, started) {
  let failed = "";
  const step = async (name, fn) => {
    if (failed) {
      return t.test(name, { skip: `"${failed}" failed` }, () => {});
    }
    const at = Date.now();
    await t.test(name, async (st) => {
      try {
        await fn(st);
      } catch (err) {
        failed = name;
        throw err;
      }
      st.diagnostic(`done at ${Date.now() - started} ms (chapter: ${Date.now() - at} ms)`);
    });
  };
  return { step, failed: () => failed };
}

// onDutyAt puts a driver on duty at a position: driver:duty, then a
// location:update, so that the server's fleet knows where it is (what
// order:status's ETA and the nearest/auto strategies read).
async function onDutyAt(driver, pos) {
  const duty = await driver.ask("driver:duty", { onDuty: true });
  assert.deepEqual(duty, { ok: true, onDuty: true }, driver.label);
  const moved = await driver.ask("location:update", pos);
  assert.deepEqual(moved, { ok: true }, driver.label);
}

// postOrder has vendor post an order for customer (extra: more fields,
// e.g. proof or dispatch) and waits for the vendor's order:status ready.
async function postOrder(vendor, customer, extra = {}) {
  const created = await vendor.ask("order:create", {
    store: "Echo Eats",
    customerId: customer.id,
    pickup: ECHO_PICKUP,
    dropoff: ECHO_DROPOFF,
    items: [{ name: "falafel" }],
    ...extra,
  });
  assert.equal(created.ok, true, JSON.stringify(created));
  const o = created.order;
  assert.deepEqual(o.items, [{ name: "falafel", qty: 1 }], "items[].qty defaults to 1");
  await vendor.waitFor("order:status", (s) => s?.orderId === o.id && s.status === "ready");
  return o;
}

// move has driver send lifecycle events for order, each of which must
// succeed, and returns the last ack's order.
async function move(driver, order, ...events) {
  let got;
  for (const event of events) {
    const ack = await driver.ask(event, { orderId: order.id });
    assert.equal(ack.ok, true, `${driver.label} ${event}: ${JSON.stringify(ack)}`);
    got = ack.order;
  }
  return got;
}

// statusOf waits for user's order:status of order with status.
async function statusOf(user, order, status) {
  const [s] = await user.waitFor("order:status", (p) => p?.orderId === order.id && p.status === status);
  return s;
}

// metersBetween is the great-circle (haversine) distance the server
// measures with.
function metersBetween(from, to) {
  const rad = (d) => (d * Math.PI) / 180;
  const dLat = rad(to.lat - from.lat);
  const dLng = rad(to.lng - from.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(from.lat)) * Math.cos(rad(to.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(h));
}

// etaOf is the server's documented straight-line estimate (great-circle
// distance × detour_factor 1.3 / avg_speed_mps 8.3, rounded up), for a
// loose check that etaSeconds means what api/asyncapi.yaml says.
function etaOf(from, to) {
  return Math.ceil((metersBetween(from, to) * 1.3) / 8.3);
}

const ECHO_PICKUP = place("3 Echo Street", 52.52, 13.405);
const ECHO_DROPOFF = place("7 Echo Row", 52.49, 13.43);

// along is the point a fraction f of the way from a to b.
function along(a, b, f) {
  return { lat: a.lat + (b.lat - a.lat) * f, lng: a.lng + (b.lng - a.lng) * f };
}

test("the delivery business: drivers on duty, a falling ETA, PIN delivery, customer absent", { timeout: STORY_MS }, async (t) => {
  const started = Date.now();
  const E = {
    vendor: new User(labels("E", "vendor")[0]),
    customers: labels("E", "customer").map((l) => new User(l, ["websocket"])),
    drivers: labels("E", "driver").map((l) => new User(l, ["websocket"])),
  };
  const [c1, c2] = E.customers;
  const [near, far] = E.drivers;
  const users = [E.vendor, ...E.customers, ...E.drivers];
  t.after(() => users.forEach((u) => u.close()));
  const { step, failed } = chapters(t, started);
  const story = {};

  await step("tenant E connects; its drivers go on duty at known positions and subscribe", async () => {
    assert.equal(E.drivers.length, 3);
    await deadline(Promise.all(users.map((u) => waitConnect(u.socket, WAIT_MS))), WAIT_MS, "tenant E to connect");
    // near: ~600 m from the pickup; far: ~6 km; the third stays off duty.
    await onDutyAt(near, { lat: 52.525, lng: 13.4 });
    await onDutyAt(far, { lat: 52.57, lng: 13.4 });
    const acks = await Promise.all(E.drivers.map((d) => d.ask("pickups:subscribe", {})));
    acks.forEach((ack, i) => assert.deepEqual(ack, { ok: true, pickups: [] }, E.drivers[i].label));
  });

  await step("the customer sees the courier approaching: etaSeconds falls with every position", async () => {
    const o = await postOrder(E.vendor, c1);
    const watched = await c1.ask("order:watch", { orderId: o.id });
    assert.equal(watched.ok, true, JSON.stringify(watched));
    assert.equal(watched.pin, undefined, "no proof asked: no PIN");
    await Promise.all(E.drivers.map((d) => d.waitFor("pickup:available", (p) => p?.order?.id === o.id)));
    await move(near, o, "pickup:claim");

    // The driver's position is known: order:status carries the ETA to
    // the pickup while assigned.
    const assigned = await statusOf(c1, o, "assigned");
    assert.equal(typeof assigned.etaSeconds, "number", JSON.stringify(assigned));
    assert.ok(Math.abs(assigned.etaSeconds - etaOf({ lat: 52.525, lng: 13.4 }, ECHO_PICKUP)) <= 2, JSON.stringify(assigned));
    // On its way to the pickup, the customer already sees the courier.
    const toPickup = { lat: 52.522, lng: 13.403 };
    await near.ask("location:update", toPickup);
    const [before] = await c1.waitFor("driver:location", (p) => p?.lat === toPickup.lat && p?.lng === toPickup.lng);
    assert.equal(before.orderId, o.id);
    assert.ok(before.etaSeconds < assigned.etaSeconds, `${JSON.stringify(before)} after ${JSON.stringify(assigned)}`);

    // At the pickup; once the customer sees it there, the server knows it.
    await near.ask("location:update", { lat: ECHO_PICKUP.lat, lng: ECHO_PICKUP.lng });
    await c1.waitFor("driver:location", (p) => p?.lat === ECHO_PICKUP.lat && p?.lng === ECHO_PICKUP.lng);
    await move(near, o, "order:picked_up", "order:in_transit");
    const pickedUp = await statusOf(c1, o, "picked_up");
    assert.equal(typeof pickedUp.etaSeconds, "number", "after pickup: the ETA to the dropoff");
    assert.ok(Math.abs(pickedUp.etaSeconds - etaOf(ECHO_PICKUP, ECHO_DROPOFF)) <= 2, JSON.stringify(pickedUp));

    const etas = [];
    const meters = [];
    for (const f of [0.2, 0.4, 0.6, 0.8, 0.95]) {
      const pos = along(ECHO_PICKUP, ECHO_DROPOFF, f);
      assert.deepEqual(await near.ask("location:update", pos), { ok: true });
      const [seen] = await c1.waitFor("driver:location", (p) => p?.lat === pos.lat && p?.lng === pos.lng);
      assert.equal(seen.orderId, o.id);
      assert.equal(typeof seen.etaSeconds, "number", JSON.stringify(seen));
      etas.push(seen.etaSeconds);
      meters.push(seen.distanceMeters);
    }
    for (let i = 1; i < etas.length; i++) {
      assert.ok(etas[i] < etas[i - 1], `etaSeconds must strictly fall: ${etas}`);
      assert.ok(meters[i] < meters[i - 1], `distanceMeters must strictly fall: ${meters}`);
    }
    assert.ok(etas[0] < pickedUp.etaSeconds, `${etas} after ${pickedUp.etaSeconds}`);
    t.diagnostic(`ETA seen by the customer: ${pickedUp.etaSeconds} s at pickup, then ${etas.join(", ")} s`);

    const done = await move(near, o, "order:delivered");
    assert.equal(done.status, "delivered");
    const delivered = await statusOf(c1, o, "delivered");
    assert.equal(delivered.etaSeconds, undefined, "a delivered order has no ETA");
    // The vendor hears the same ETAs as the customer.
    const vendorPickedUp = await statusOf(E.vendor, o, "picked_up");
    assert.equal(vendorPickedUp.etaSeconds, pickedUp.etaSeconds);
  });

  await step("PIN delivery: only the customer sees the PIN; a wrong one is refused, the right one delivers", async () => {
    const o = await postOrder(E.vendor, c1, { proof: "pin" });
    assert.equal(o.proof, "pin");
    assert.equal(o.pin, undefined, "the vendor does not see the PIN");
    const watched = await c1.ask("order:watch", { orderId: o.id });
    assert.equal(watched.ok, true, JSON.stringify(watched));
    assert.match(watched.pin, /^\d{4}$/);
    story.pin = watched.pin;
    const other = await c2.ask("order:watch", { orderId: o.id });
    assertError(other, "forbidden", "another customer watching the PIN order");

    await near.waitFor("pickup:available", (p) => p?.order?.id === o.id);
    await move(near, o, "pickup:claim", "order:picked_up", "order:in_transit");
    const wrongPin = String((Number(story.pin) + 1) % 10_000).padStart(4, "0");
    for (const proof of [{ pin: wrongPin }, {}, undefined]) {
      const refused = await near.ask("order:delivered", { orderId: o.id, ...(proof && { proof }) });
      assert.equal(refused.ok, false, JSON.stringify(refused));
      assertError(refused, "invalid_argument", `delivering with proof ${JSON.stringify(proof)}`);
    }
    const ack = await near.ask("order:delivered", { orderId: o.id, proof: { pin: story.pin } });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.equal(ack.order.status, "delivered");
    await statusOf(c1, o, "delivered");
    await E.vendor.waitFor("order:delivered", (d) => d?.orderId === o.id);
    // The PIN reached the customer's watch result and nobody else.
    assert.deepEqual(mentions([E.vendor, c2, ...E.drivers], [`"${story.pin}"`]), []);
  });

  await step("customer absent: order:failed ends the order; the vendor and the customer hear failed", async () => {
    const o = await postOrder(E.vendor, c2);
    assert.equal((await c2.ask("order:watch", { orderId: o.id })).ok, true);
    await far.waitFor("pickup:available", (p) => p?.order?.id === o.id);
    await move(far, o, "pickup:claim", "order:picked_up");

    const badReason = await far.ask("order:failed", { orderId: o.id, reason: "bored" });
    assertError(badReason, "invalid_argument", "an unknown failure reason");
    const ack = await far.ask("order:failed", { orderId: o.id, reason: "customer_absent" });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.equal(ack.order.status, "failed");
    assert.equal(ack.order.failure.reason, "customer_absent");

    for (const u of [E.vendor, c2]) {
      const s = await statusOf(u, o, "failed");
      assert.equal(s.failure?.reason, "customer_absent", `${u.label}: ${JSON.stringify(s)}`);
      assert.ok(!Number.isNaN(Date.parse(s.failure.at)), `${u.label}: failure.at`);
      assert.equal(s.driverId, far.id);
      assert.equal(s.etaSeconds, undefined, "a failed order has no ETA");
    }
    const late = await far.ask("order:delivered", { orderId: o.id });
    assertError(late, "conflict", "delivering a failed order");
    assert.equal(E.vendor.received("order:delivered", (d) => d?.orderId === o.id).length, 0, "no thank-you for a failed order");
  });

  await step("every socket of tenant E stayed up", async () => {
    for (const u of users) {
      assert.deepEqual(u.unexpectedDisconnects, [], u.label);
      assert.equal(u.socket.connected, true, u.label);
    }
  });

  users.forEach((u) => u.close());
  assert.equal(failed(), "", `the story stopped at "${failed()}"`);
});

// fleetKnows polls dispatcher's board until every [driver, pos] of spots
// is on duty at pos. A location:update is acked before the position
// reaches the fleet (it travels through NATS), and the nearest strategy
// reads the fleet: only then are its rings the ones the spots imply.
async function fleetKnows(dispatcher, spots) {
  await eventually(
    async () => {
      const board = await dispatcher.ask("board:subscribe", {});
      assert.equal(board.ok, true, JSON.stringify(board));
      const seen = new Map(board.drivers.map((d) => [d.driverId, d]));
      const known = spots.every(([driver, pos]) => {
        const d = seen.get(driver.id);
        return d?.onDuty === true && d.lat === pos.lat && d.lng === pos.lng;
      });
      return known ? true : null;
    },
    WAIT_MS,
    "the dispatcher's board to show every driver at its position",
  );
}

// offerOf waits for driver's pickup:offer of order.
async function offerOf(driver, order) {
  const [offer] = await driver.waitFor("pickup:offer", (p) => p?.order?.id === order.id);
  return offer;
}

// asDriversSee is an order as drivers get it: the vendor's copy has the
// customer's trackingUrl, which no driver is shown.
function asDriversSee(order) {
  assert.match(order.trackingUrl ?? "", /\/track\/[A-Za-z0-9_-]{20,}$/, "the vendor sees the tracking link");
  const { trackingUrl, ...rest } = order;
  return rest;
}

// assertOffer checks a ring's offers (drivers nearest first): the round,
// the order as created, a 30 s expiry, and each driver's distance to the
// pickup, rising along the ring.
function assertOffer(offers, ring, order, round, spotOf) {
  const now = Date.now();
  offers.forEach((offer, i) => {
    const who = ring[i].label;
    assert.equal(offer.round, round, `${who}: ${JSON.stringify(offer)}`);
    assert.deepEqual(offer.order, asDriversSee(order), who);
    assert.match(offer.eventId, UUID, who);
    // expiresAt is the server's now + offer_ttl (30 s); generous bounds
    // for a busy machine between the ring and this check.
    const left = Date.parse(offer.expiresAt) - now;
    assert.ok(left > 20_000 && left <= 30_500, `${who}: expiresAt ${offer.expiresAt} is ${left} ms away`);
    const meters = metersBetween(spotOf(ring[i]), ECHO_PICKUP);
    assert.ok(Math.abs(offer.distanceMeters - meters) <= 2, `${who}: distanceMeters ${offer.distanceMeters}, ${Math.round(meters)} expected`);
    if (i > 0) {
      assert.ok(offer.distanceMeters > offers[i - 1].distanceMeters, `ring ${round} nearest first: ${offers.map((o) => o.distanceMeters)}`);
    }
  });
}

test("nearest driver accepts: rings of offers, the courier approaching, PIN delivery, a declined ring", { timeout: STORY_MS }, async (t) => {
  const started = Date.now();
  const N = {
    vendor: new User(labels("N", "vendor")[0]),
    customer: new User(labels("N", "customer")[0]),
    dispatcher: new User(labels("N", "dispatcher")[0], ["websocket"]),
    drivers: labels("N", "driver").map((l, i) => new User(l, i % 2 === 0 ? ["websocket"] : undefined)),
  };
  const c1 = N.customer;
  const users = [N.vendor, c1, N.dispatcher, ...N.drivers];
  t.after(() => users.forEach((u) => u.close()));
  const { step, failed } = chapters(t, started);
  const story = {};

  // Five drivers 200 m to 1 km from the pickup, in every direction and
  // not in label order; the sixth 20 km away, beyond the 5 km radius.
  const spots = new Map(
    [
      { lat: 0.0036, lng: 0 }, // 400 m north
      { lat: 0, lng: -0.0118 }, // 800 m west
      { lat: -0.0018, lng: 0 }, // 200 m south
      { lat: 0, lng: 0.0148 }, // 1 km east
      { lat: 0.0054, lng: 0 }, // 600 m north
      { lat: 0.18, lng: 0 }, // 20 km north
    ].map((d, i) => [N.drivers[i], { lat: ECHO_PICKUP.lat + d.lat, lng: ECHO_PICKUP.lng + d.lng }]),
  );
  const spotOf = (driver) => spots.get(driver);
  const byDistance = N.drivers.toSorted((a, b) => metersBetween(spotOf(a), ECHO_PICKUP) - metersBetween(spotOf(b), ECHO_PICKUP));
  const ring1 = byDistance.slice(0, 3);
  const ring2 = byDistance.slice(3, 5);
  const [nearest, second, third] = ring1;
  const far = byDistance[5];

  await step("tenant N connects; six drivers go on duty at known distances and subscribe to the zone", async () => {
    assert.equal(N.drivers.length, 6);
    await deadline(Promise.all(users.map((u) => waitConnect(u.socket, WAIT_MS))), WAIT_MS, "tenant N to connect");
    await Promise.all([...spots].map(([d, pos]) => onDutyAt(d, pos)));
    const acks = await Promise.all(N.drivers.map((d) => d.ask("pickups:subscribe", { zone: "north" })));
    acks.forEach((ack, i) => assert.deepEqual(ack, { ok: true, pickups: [] }, N.drivers[i].label));
    await fleetKnows(N.dispatcher, [...spots]);
    t.diagnostic(`by distance: ${byDistance.map((d) => `${d.label} ${Math.round(metersBetween(spotOf(d), ECHO_PICKUP))} m`).join(", ")}`);
  });

  await step("the vendor posts a nearest order: exactly the 3 nearest get pickup:offer, round 1; nobody hears pickup:available", async () => {
    const o = await postOrder(N.vendor, c1, { dispatch: { strategy: "nearest" }, proof: "pin", zone: "north" });
    assert.deepEqual(o.dispatch, { strategy: "nearest" });
    assert.equal(o.zone, "north");
    story.order = o;
    const offers = await Promise.all(ring1.map((d) => offerOf(d, o)));
    assertOffer(offers, ring1, o, 1, spotOf);
    t.diagnostic(`ring 1: ${offers.map((x, i) => `${ring1[i].label} ${x.distanceMeters} m`).join(", ")}, expires ${offers[0].expiresAt}`);

    // While the order has rings it is nobody else's: not listed, not claimable.
    const listed = await far.ask("pickups:subscribe", { zone: "north" });
    assert.deepEqual(listed, { ok: true, pickups: [] }, "an offered order is left out of the zone's pickups");
    const outsider = await ring2[0].ask("pickup:claim", { orderId: o.id });
    assertError(outsider, "conflict", `${ring2[0].label}, outside ring 1, claiming`);

    const watched = await c1.ask("order:watch", { orderId: o.id });
    assert.equal(watched.ok, true, JSON.stringify(watched));
    assert.match(watched.pin, /^\d{4}$/);
    story.pin = watched.pin;
  });

  await step("the nearest driver accepts; the rest of the ring hears pickup:taken; the customer sees assigned with an ETA", async () => {
    const o = story.order;
    const won = await move(nearest, o, "pickup:claim");
    assert.equal(won.status, "assigned");
    assert.equal(won.driverId, nearest.id);
    for (const d of [second, third]) {
      const [taken] = await d.waitFor("pickup:taken", (p) => p?.orderId === o.id);
      assert.match(taken.eventId, UUID, d.label);
    }
    const late = await second.ask("pickup:claim", { orderId: o.id });
    assertError(late, "already_claimed", `${second.label} claiming after the nearest`);

    const assigned = await statusOf(c1, o, "assigned");
    assert.equal(assigned.driverId, nearest.id);
    assert.equal(typeof assigned.etaSeconds, "number", JSON.stringify(assigned));
    assert.ok(Math.abs(assigned.etaSeconds - etaOf(spotOf(nearest), ECHO_PICKUP)) <= 2, JSON.stringify(assigned));

    // Give a stray offer or announcement time to arrive, then: the ring
    // and nobody else heard of the order.
    await sleep(300);
    for (const d of N.drivers) {
      const names = d.events.filter(([, p]) => p?.order?.id === o.id || p?.orderId === o.id).map(([name]) => name);
      const expected = d === nearest ? ["pickup:offer"] : ring1.includes(d) ? ["pickup:offer", "pickup:taken"] : [];
      assert.deepEqual(names, expected, d.label);
    }
    assert.deepEqual(N.drivers.flatMap((d) => d.received("pickup:available")), [], "a nearest order with rings is never broadcast");
  });

  await step("the courier picks up and heads for the dropoff: etaSeconds strictly falls; PIN delivery; the vendor's thank-you", async () => {
    const o = story.order;
    await nearest.ask("location:update", { lat: ECHO_PICKUP.lat, lng: ECHO_PICKUP.lng });
    await c1.waitFor("driver:location", (p) => p?.lat === ECHO_PICKUP.lat && p?.lng === ECHO_PICKUP.lng);
    await move(nearest, o, "order:picked_up", "order:in_transit");
    const pickedUp = await statusOf(c1, o, "picked_up");
    assert.ok(Math.abs(pickedUp.etaSeconds - etaOf(ECHO_PICKUP, ECHO_DROPOFF)) <= 2, JSON.stringify(pickedUp));

    const etas = [pickedUp.etaSeconds];
    for (const f of [0.25, 0.5, 0.75, 0.95]) {
      const pos = along(ECHO_PICKUP, ECHO_DROPOFF, f);
      assert.deepEqual(await nearest.ask("location:update", pos), { ok: true });
      const [seen] = await c1.waitFor("driver:location", (p) => p?.lat === pos.lat && p?.lng === pos.lng);
      assert.equal(seen.orderId, o.id);
      assert.ok(Math.abs(seen.etaSeconds - etaOf(pos, ECHO_DROPOFF)) <= 2, JSON.stringify(seen));
      etas.push(seen.etaSeconds);
    }
    for (let i = 1; i < etas.length; i++) {
      assert.ok(etas[i] < etas[i - 1], `etaSeconds must strictly fall: ${etas}`);
    }
    t.diagnostic(`ETA seen by the customer: ${etas.join(", ")} s`);

    const wrong = await nearest.ask("order:delivered", { orderId: o.id, proof: { pin: String((Number(story.pin) + 1) % 10_000).padStart(4, "0") } });
    assertError(wrong, "invalid_argument", "delivering with a wrong PIN");
    const done = await nearest.ask("order:delivered", { orderId: o.id, proof: { pin: story.pin } });
    assert.equal(done.ok, true, JSON.stringify(done));
    assert.equal(done.order.status, "delivered");
    await statusOf(c1, o, "delivered");
    const [thanks] = await N.vendor.waitFor("order:delivered", (d) => d?.orderId === o.id);
    assert.equal(thanks.driverId, nearest.id);
    assert.ok(!Number.isNaN(Date.parse(thanks.at)), "order:delivered at");
  });

  await step("a ring declines: the next ring (the 4th and 5th nearest) gets pickup:offer round 2 at once", async () => {
    // The courier is back at its spot, so ring 1 is the same three.
    await nearest.ask("location:update", spotOf(nearest));
    await fleetKnows(N.dispatcher, [...spots]);
    const o = await postOrder(N.vendor, c1, { dispatch: { strategy: "nearest" }, zone: "north" });
    assertOffer(await Promise.all(ring1.map((d) => offerOf(d, o))), ring1, o, 1, spotOf);

    for (const d of [nearest, second]) {
      assert.deepEqual(await d.ask("pickup:decline", { orderId: o.id, reason: "too far" }), { ok: true }, d.label);
    }
    // A ring that still has a driver holding the offer stays put.
    await sleep(200);
    assert.deepEqual(ring2.flatMap((d) => d.received("pickup:offer", (p) => p?.order?.id === o.id)), [], "ring 2 before ring 1 all declined");

    const declinedAt = Date.now();
    assert.deepEqual(await third.ask("pickup:decline", { orderId: o.id }), { ok: true });
    const offers = await Promise.all(ring2.map((d) => offerOf(d, o)));
    const after = Date.now() - declinedAt;
    assert.ok(after < 5_000, `ring 2 came ${after} ms after the last decline, not at once`);
    assertOffer(offers, ring2, o, 2, spotOf);
    t.diagnostic(`ring 2 ${after} ms after the last decline: ${offers.map((x, i) => `${ring2[i].label} ${x.distanceMeters} m`).join(", ")}`);

    const declined = await nearest.ask("pickup:claim", { orderId: o.id });
    assertError(declined, "conflict", `${nearest.label} claiming the offer it declined`);
    const won = await move(ring2[0], o, "pickup:claim");
    assert.equal(won.driverId, ring2[0].id);
    await ring2[1].waitFor("pickup:taken", (p) => p?.orderId === o.id);
    const assigned = await statusOf(N.vendor, o, "assigned");
    assert.equal(assigned.driverId, ring2[0].id);
    story.declined = o;
  });

  await step("ring 1 heard nothing more; the far driver nothing at all; every durable event was acked; every socket stayed up", async () => {
    const o = story.declined;
    await sleep(300);
    for (const d of N.drivers) {
      const names = d.events.filter(([, p]) => p?.order?.id === o.id || p?.orderId === o.id).map(([name]) => name);
      const expected = ring1.includes(d) ? ["pickup:offer"] : d === ring2[1] ? ["pickup:offer", "pickup:taken"] : d === far ? [] : ["pickup:offer"];
      assert.deepEqual(names, expected, d.label);
    }
    assert.deepEqual(far.events, [], `${far.label}, beyond the radius`);
    assert.deepEqual(N.drivers.flatMap((d) => d.received("pickup:available")), []);
    for (const u of users) {
      const durable = u.events.filter(([, p]) => typeof p?.eventId === "string").length;
      assert.equal(u.ackRequests, durable, `${u.label}: every durable event asks for an ack (and got it)`);
      assert.deepEqual(u.unexpectedDisconnects, [], u.label);
      assert.equal(u.socket.connected, true, u.label);
    }
  });

  users.forEach((u) => u.close());
  assert.equal(failed(), "", `the story stopped at "${failed()}"`);
});
