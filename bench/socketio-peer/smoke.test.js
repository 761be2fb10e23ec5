// Smoke test of the peer: a real server process, stock socket.io-client
// sockets, one order played from creation to delivery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

import { sign } from './jwt.js';

const SECRET = 'smoke-test-secret';
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let proc;
let url;
const sockets = [];

before(async () => {
  proc = spawn(process.execPath, [fileURLToPath(new URL('./server.js', import.meta.url))], {
    env: { ...process.env, PEER_JWT_SECRET: SECRET, PEER_PORT: '0', PEER_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    proc.stdout.on('data', (b) => {
      out += b;
      const m = out.match(/port=(\d+)/);
      if (m) resolve(Number(m[1]));
    });
  });
  url = `http://127.0.0.1:${port}`;
});

after(async () => {
  for (const s of sockets) s.close();
  if (proc && proc.exitCode === null) {
    const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    proc.kill('SIGTERM');
    const { code } = await exited;
    assert.equal(code, 0, 'the server exits cleanly on SIGTERM');
  }
});

const token = (tenant, role, sub) => sign({ tenant, role, sub }, SECRET);

function connect(ns, auth) {
  const s = io(url + ns, { auth, forceNew: true, reconnection: false });
  sockets.push(s);
  return s;
}

async function connected(ns, tenant, role, sub) {
  const s = connect(ns, { token: token(tenant, role, sub) });
  await new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  return s;
}

function refusal(ns, auth) {
  const s = connect(ns, auth);
  return new Promise((resolve, reject) => {
    s.once('connect', () => reject(new Error('connected')));
    s.once('connect_error', (err) => resolve(err));
  });
}

// record collects an event's payloads and acks each, as a client should.
function record(s, event) {
  const got = [];
  const waiters = [];
  s.on(event, (payload, ack) => {
    got.push(payload);
    if (typeof ack === 'function') ack();
    for (const w of waiters.splice(0)) w();
  });
  got.until = async (n, ms = 3000) => {
    const deadline = Date.now() + ms;
    while (got.length < n) {
      if (Date.now() > deadline) throw new Error(`${event}: ${got.length} of ${n} events`);
      await new Promise((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return got;
  };
  return got;
}

const place = (address) => ({ address, lat: 52.52, lng: 13.405 });

test('healthz and ping', async () => {
  const res = await fetch(url + '/healthz');
  assert.equal(res.status, 200);
  const s = connect('/', undefined);
  assert.equal(await s.timeout(3000).emitWithAck('ping'), 'pong');
});

test('connect refusals', async () => {
  const wrongRole = await refusal('/vendors', { token: token('t1', 'driver', 'd1') });
  assert.deepEqual(wrongRole.data, { code: 'forbidden' });
  const missing = await refusal('/drivers', {});
  assert.deepEqual(missing.data, { code: 'unauthorized' });
  const bad = await refusal('/customers', { token: sign({ tenant: 't1', role: 'customer', sub: 'c1' }, 'other-secret') });
  assert.deepEqual(bad.data, { code: 'unauthorized' });
  const expired = await refusal('/customers', {
    token: sign({ tenant: 't1', role: 'customer', sub: 'c1', ttlSec: 60, now: Date.now() / 1000 - 3600 }, SECRET),
  });
  assert.deepEqual(expired.data, { code: 'unauthorized' });
});

test('one order from creation to delivery', async () => {
  const vendor = await connected('/vendors', 't1', 'vendor', 'v1');
  const drivers = await Promise.all(['d1', 'd2', 'd3'].map((d) => connected('/drivers', 't1', 'driver', d)));
  const customer = await connected('/customers', 't1', 'customer', 'c1');
  const vendorStatus = record(vendor, 'order:status');
  const vendorDelivered = record(vendor, 'order:delivered');
  const available = drivers.map((d) => record(d, 'pickup:available'));
  const taken = drivers.map((d) => record(d, 'pickup:taken'));
  const custStatus = record(customer, 'order:status');
  const locations = record(customer, 'driver:location');

  for (const d of drivers) {
    const r = await d.emitWithAck('pickups:subscribe', {});
    assert.deepEqual(r, { ok: true, pickups: [] });
  }

  const bad = await vendor.emitWithAck('order:create', { store: 'Deli', customerId: 'c1', pickup: place('A') });
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, 'invalid_argument');

  const req = { store: 'Deli', customerId: 'c1', pickup: place('Shop 1'), dropoff: place('Home 2'),
    items: [{ name: 'soup', qty: 2 }], idempotencyKey: 'k-1' };
  const created = await vendor.emitWithAck('order:create', req);
  assert.equal(created.ok, true);
  const order = created.order;
  assert.match(order.id, UUID7);
  assert.equal(order.status, 'ready');
  assert.equal(order.version, 1);
  assert.equal(order.tenant, 't1');
  assert.equal(order.vendorId, 'v1');
  const again = await vendor.emitWithAck('order:create', req);
  assert.deepEqual(again, created, 'the same idempotencyKey returns the same order');

  for (const got of available) {
    const [ev] = await got.until(1);
    assert.equal(ev.seq, 1);
    assert.match(ev.eventId, UUID7);
    assert.equal(ev.order.id, order.id);
  }

  const watch = await customer.emitWithAck('order:watch', { orderId: order.id });
  assert.equal(watch.ok, true);
  assert.equal(watch.order.id, order.id);
  assert.deepEqual(watch.events.map((e) => e.status), ['ready']);

  const claims = await Promise.all(drivers.map((d) => d.emitWithAck('pickup:claim', { orderId: order.id })));
  const winners = claims.filter((r) => r.ok);
  assert.equal(winners.length, 1, 'exactly one claim wins');
  for (const r of claims.filter((r) => !r.ok)) assert.equal(r.error.code, 'already_claimed');
  const wi = claims.findIndex((r) => r.ok);
  const winner = drivers[wi];
  const loser = drivers[(wi + 1) % 3];
  const driverId = winners[0].order.driverId;
  assert.equal(winners[0].order.status, 'assigned');

  for (const got of taken) {
    const [ev] = await got.until(1);
    assert.equal(ev.seq, 2);
    assert.equal(ev.orderId, order.id);
  }

  const notMine = await loser.emitWithAck('order:picked_up', { orderId: order.id });
  assert.equal(notMine.error.code, 'forbidden');
  const early = await winner.emitWithAck('order:in_transit', { orderId: order.id });
  assert.equal(early.error.code, 'conflict');

  assert.equal((await winner.emitWithAck('order:picked_up', { orderId: order.id })).order.status, 'picked_up');
  assert.deepEqual(await winner.emitWithAck('location:update', { lat: 52.5, lng: 13.4 }), { ok: true });
  const [loc] = await locations.until(1);
  assert.equal(loc.orderId, order.id);
  assert.equal(loc.lat, 52.5);
  assert.equal(loc.eventId, undefined);
  assert.equal((await winner.emitWithAck('order:in_transit', { orderId: order.id })).order.status, 'in_transit');
  const done = await winner.emitWithAck('order:delivered', { orderId: order.id });
  assert.equal(done.order.status, 'delivered');
  assert.equal(done.order.version, 5);

  const cs = await custStatus.until(4);
  assert.deepEqual(cs.map((e) => e.status), ['assigned', 'picked_up', 'in_transit', 'delivered']);
  assert.deepEqual(cs.map((e) => e.seq), [1, 2, 3, 4]);
  assert.ok(cs.every((e) => e.orderId === order.id && e.driverId === driverId));

  const vs = await vendorStatus.until(5);
  assert.deepEqual(vs.map((e) => e.status), ['ready', 'assigned', 'picked_up', 'in_transit', 'delivered']);
  assert.deepEqual(vs.map((e) => e.seq), [1, 2, 3, 4, 5]);
  const [thanks] = await vendorDelivered.until(1);
  assert.equal(thanks.orderId, order.id);
  assert.equal(thanks.driverId, driverId);
  assert.equal(thanks.seq, 6);
  assert.notEqual(thanks.eventId, vs[4].eventId, 'status and thank-you of one transition have their own ids');
  const ids = [...vs, thanks, ...cs].map((e) => e.eventId);
  assert.equal(new Set(ids).size, ids.length - cs.length, 'customer and vendor share transition ids, nothing else repeats');

  const other = await connected('/customers', 't1', 'customer', 'c2');
  assert.equal((await other.emitWithAck('order:watch', { orderId: order.id })).error.code, 'forbidden');
  const stranger = await connected('/customers', 't2', 'customer', 'c1');
  assert.equal((await stranger.emitWithAck('order:watch', { orderId: order.id })).error.code, 'not_found');

  const list = await vendor.emitWithAck('orders:list');
  assert.deepEqual(list.orders.map((o) => o.id), [order.id]);
});

test('cancels, malformed input and the rate limit', async () => {
  const vendor = await connected('/vendors', 't3', 'vendor', 'v1');
  const driver = await connected('/drivers', 't3', 'driver', 'd1');
  const taken = record(driver, 'pickup:taken');
  const driverStatus = record(driver, 'order:status');
  await driver.emitWithAck('pickups:subscribe', { zone: 'north' });
  const req = { store: 'Deli', customerId: 'c1', zone: 'north', pickup: place('A'), dropoff: place('B') };

  const a = (await vendor.emitWithAck('order:create', req)).order;
  assert.equal(a.zone, 'north');
  assert.equal((await vendor.emitWithAck('order:cancel', { orderId: a.id })).order.status, 'cancelled');
  const [t1] = await taken.until(1);
  assert.equal(t1.orderId, a.id);
  assert.equal((await driver.emitWithAck('pickup:claim', { orderId: a.id })).error.code, 'conflict');

  const b = (await vendor.emitWithAck('order:create', req)).order;
  assert.equal((await driver.emitWithAck('pickup:claim', { orderId: b.id })).ok, true);
  await vendor.emitWithAck('order:cancel', { orderId: b.id });
  const [st] = await driverStatus.until(1);
  assert.deepEqual([st.orderId, st.status, st.driverId], [b.id, 'cancelled', 'd1']);

  assert.equal((await vendor.emitWithAck('order:create')).error.code, 'invalid_argument');
  assert.equal((await vendor.emitWithAck('order:cancel', 'x')).error.code, 'invalid_argument');
  assert.equal((await vendor.emitWithAck('orders:list', { status: 'lost' })).error.code, 'invalid_argument');
  assert.equal((await vendor.emitWithAck('order:cancel', { orderId: '01a23304-7692-7000-88fe-20e4a2b9bcf3' })).error.code, 'not_found');
  assert.equal(vendor.connected, true, 'malformed input does not close the socket');

  const burst = await Promise.all(Array.from({ length: 60 }, () => driver.emitWithAck('location:update', { lat: 1, lng: 2 })));
  assert.ok(burst.some((r) => r.ok === false && r.error.code === 'rate_limited'));
});
