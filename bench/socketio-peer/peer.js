// The peer: dispatchd's Socket.IO wire contract (see /api/asyncapi.yaml) on
// the stock socket.io server, with all state in memory and no durability.
import http from 'node:http';
import { Server } from 'socket.io';

import { verify, TokenError } from './jwt.js';
import { uuidv7 } from './ids.js';
import {
  AppError, notFound, forbidden, conflict, alreadyClaimed, STATUSES,
  isObject, checkCoordinates, checkZone, checkOrderId, newOrder,
} from './validate.js';

const now = () => new Date().toISOString();

// The lifecycle, as dispatchd's internal/orders/lifecycle.go.
const RULES = {
  claim: { from: ['ready'], to: 'assigned', role: 'driver' },
  picked_up: { from: ['assigned'], to: 'picked_up', role: 'driver' },
  in_transit: { from: ['picked_up'], to: 'in_transit', role: 'driver' },
  delivered: { from: ['in_transit'], to: 'delivered', role: 'driver' },
  cancel: { from: ['ready', 'assigned'], to: 'cancelled', role: 'vendor' },
};

// apply returns the next order, or null for a harmless retry, or throws.
function apply(o, action, actor) {
  const r = RULES[action];
  if (actor.role !== r.role) throw forbidden();
  if (actor.role === 'vendor' && o.vendorId !== actor.id) throw notFound();
  if (actor.role === 'driver' && action !== 'claim' && o.driverId !== actor.id) {
    throw o.driverId === undefined ? conflict() : forbidden();
  }
  if (o.status === r.to) {
    if (action === 'claim' && o.driverId !== actor.id) throw alreadyClaimed();
    return null;
  }
  if (!r.from.includes(o.status)) {
    if (action === 'claim' && o.status !== 'cancelled') throw alreadyClaimed();
    throw conflict(`order is ${o.status}`);
  }
  return { status: r.to, driverId: action === 'claim' ? actor.id : o.driverId };
}

// orderObject keeps the field order of dispatchd's JSON, optional fields
// absent rather than null. Orders are immutable: a transition makes a new one.
function orderObject(o) {
  const out = { id: o.id, tenant: o.tenant, vendorId: o.vendorId, customerId: o.customerId, store: o.store };
  if (o.zone) out.zone = o.zone;
  out.pickup = o.pickup;
  out.dropoff = o.dropoff;
  if (o.items) out.items = o.items;
  out.status = o.status;
  if (o.driverId !== undefined) out.driverId = o.driverId;
  out.createdAt = o.createdAt;
  out.updatedAt = o.updatedAt;
  out.version = o.version;
  return out;
}

function tokenBucket(rate, burst) {
  let tokens = burst;
  let last = performance.now();
  return () => {
    const t = performance.now();
    tokens = Math.min(burst, tokens + ((t - last) * rate) / 1000);
    last = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

function refusal(code, message) {
  const err = new Error(message);
  err.data = { code };
  return err;
}

function addTo(map, key, value) {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom(map, key, value) {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

export function createPeer({ secret, eventsPerSecond = 20, eventBurst = 40, log = console.log } = {}) {
  if (!secret) throw new Error('a JWT secret is required');

  const httpServer = http.createServer((req, res) => {
    const path = (req.url || '').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.method === 'HEAD' ? undefined : '{"status":"ok"}');
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"code":"not_found","message":"no such route"}}');
  });
  // Default options: pingInterval 25 s, pingTimeout 20 s, polling and websocket.
  const io = new Server(httpServer);

  // ---- state, all in memory ----
  const tenants = new Map();
  const tenantOf = (name) => {
    let t = tenants.get(name);
    if (!t) {
      t = {
        orders: new Map(), // id -> { order, events }
        byVendor: new Map(), // vendorId -> [order id], oldest first
        idem: new Map(), // vendorId + '\n' + key -> order id
        ready: new Map(), // zone ('' for none) -> Set of ready order ids, oldest first
        readyAll: new Set(), // every ready order id, oldest first
        carried: new Map(), // driverId -> Set of order ids picked_up or in_transit
        watchers: new Map(), // order id -> Set of customer sockets watching it
        pickups: new Map(), // zone ('' = every zone) -> Set of subscribed driver sockets
      };
      tenants.set(name, t);
    }
    return t;
  };
  // The sockets of each user, per role: tenant + '\n' + sub -> Set<socket>.
  const users = { vendor: new Map(), driver: new Map(), customer: new Map() };
  // Per-recipient seq: role + '\n' + tenant + '\n' + sub -> last seq sent.
  const seqs = new Map();
  const stats = { sent: 0, acked: 0, noSocket: 0 };
  const onAck = () => { stats.acked++; };

  // deliver sends one durable event to one user's sockets with the user's
  // next seq and an ack request. With no socket the event is gone: the peer
  // keeps no queue.
  function deliver(role, tenant, sub, sockets, event, body) {
    if (!sockets || sockets.size === 0) {
      stats.noSocket++;
      return;
    }
    const key = role + '\n' + tenant + '\n' + sub;
    const seq = (seqs.get(key) || 0) + 1;
    seqs.set(key, seq);
    const payload = { ...body, seq };
    for (const s of sockets) {
      s.emit(event, payload, onAck);
      stats.sent++;
    }
  }
  const toUser = (role, tenant, sub, event, body) =>
    deliver(role, tenant, sub, users[role].get(tenant + '\n' + sub), event, body);

  // Pickup events go to every subscribed driver (all zones, or the order's
  // zone): one seq per driver, whatever its number of sockets.
  function toPickups(t, tenant, zone, event, body) {
    const byDriver = new Map();
    const collect = (set) => {
      if (!set) return;
      for (const s of set) addTo(byDriver, s.data.claims.sub, s);
    };
    collect(t.pickups.get(''));
    if (zone) collect(t.pickups.get(zone));
    for (const [sub, sockets] of byDriver) deliver('driver', tenant, sub, sockets, event, body);
  }

  const orderRoom = (tenant, id) => 'o\n' + tenant + '\n' + id;
  const customers = io.of('/customers');

  // route announces one committed change, as dispatchd's hub.Records.
  function route(tenant, o, ev) {
    const t = tenantOf(tenant);
    const status = { eventId: ev.id, orderId: o.id, status: ev.status };
    if (ev.driverId !== undefined) status.driverId = ev.driverId;
    status.at = ev.at;
    toUser('vendor', tenant, o.vendorId, 'order:status', status);
    deliver('customer', tenant, o.customerId, t.watchers.get(o.id), 'order:status', status);
    switch (ev.status) {
      case 'ready':
        toPickups(t, tenant, o.zone, 'pickup:available', { eventId: uuidv7(), order: o });
        break;
      case 'assigned':
        toPickups(t, tenant, o.zone, 'pickup:taken', { eventId: uuidv7(), orderId: o.id });
        break;
      case 'cancelled':
        if (o.driverId === undefined) toPickups(t, tenant, o.zone, 'pickup:taken', { eventId: uuidv7(), orderId: o.id });
        else toUser('driver', tenant, o.driverId, 'order:status', status);
        break;
      case 'delivered':
        toUser('vendor', tenant, o.vendorId, 'order:delivered', { eventId: uuidv7(), orderId: o.id, driverId: o.driverId, at: ev.at });
        break;
    }
  }

  function createOrder(c, payload, changes) {
    const n = newOrder(payload);
    const t = tenantOf(c.tenant);
    const idemKey = n.idempotencyKey && c.sub + '\n' + n.idempotencyKey;
    if (idemKey && t.idem.has(idemKey)) return t.orders.get(t.idem.get(idemKey)).order;
    const at = now();
    const o = orderObject({
      id: uuidv7(), tenant: c.tenant, vendorId: c.sub, customerId: n.customerId, store: n.store, zone: n.zone,
      pickup: n.pickup, dropoff: n.dropoff, items: n.items, status: 'ready', createdAt: at, updatedAt: at, version: 1,
    });
    const ev = { id: uuidv7(), orderId: o.id, status: 'ready', actor: { role: 'vendor', id: c.sub }, at, version: 1 };
    t.orders.set(o.id, { order: o, events: [ev] });
    if (idemKey) t.idem.set(idemKey, o.id);
    let mine = t.byVendor.get(c.sub);
    if (!mine) t.byVendor.set(c.sub, (mine = []));
    mine.push(o.id);
    t.readyAll.add(o.id);
    addTo(t.ready, o.zone || '', o.id);
    changes.push([c.tenant, o, ev]);
    return o;
  }

  function act(c, payload, action, changes) {
    const id = checkOrderId(payload);
    const t = tenants.get(c.tenant);
    const entry = t && t.orders.get(id);
    if (!entry) throw notFound();
    const prev = entry.order;
    const next = apply(prev, action, { role: c.role, id: c.sub });
    if (!next) return prev;
    const at = now();
    const o = orderObject({ ...prev, status: next.status, driverId: next.driverId, updatedAt: at, version: prev.version + 1 });
    const ev = { id: uuidv7(), orderId: id, status: o.status };
    if (o.driverId !== undefined) ev.driverId = o.driverId;
    Object.assign(ev, { actor: { role: c.role, id: c.sub }, at, version: o.version });
    entry.order = o;
    entry.events.push(ev);
    if (prev.status === 'ready') {
      t.readyAll.delete(id);
      removeFrom(t.ready, o.zone || '', id);
    }
    if (o.status === 'picked_up') addTo(t.carried, o.driverId, id);
    if (o.status === 'delivered') removeFrom(t.carried, o.driverId, id);
    changes.push([c.tenant, o, ev]);
    return o;
  }

  // on registers a client→server event: rate limit, payload check, one ack
  // object, then the announcements of what changed.
  function on(socket, event, fn, optional = false) {
    socket.on(event, (...args) => {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
      const changes = [];
      let reply;
      try {
        if (!socket.data.allow()) throw new AppError('rate_limited', 'too many events; slow down');
        if (optional && args.length === 0) args.push({});
        if (optional && !isObject(args[0])) throw new AppError('invalid_argument', 'the event needs one JSON object argument');
        reply = { ok: true, ...fn(args[0], socket.data.claims, changes) };
      } catch (e) {
        if (!(e instanceof AppError)) {
          log(`socketio-peer: ${event} failed: ${e && e.stack ? e.stack : e}`);
          e = new AppError('internal', 'internal error');
        }
        reply = { ok: false, error: { code: e.code, message: e.message } };
      }
      if (ack) ack(reply);
      for (const [tenant, o, ev] of changes) route(tenant, o, ev);
    });
  }

  function authenticate(nsp, role) {
    nsp.use((socket, next) => {
      const auth = socket.handshake.auth;
      const token = isObject(auth) ? auth.token : undefined;
      if (typeof token !== 'string' || token === '') {
        return next(refusal('unauthorized', 'a token is required in the auth payload'));
      }
      let claims;
      try {
        claims = verify(token, secret);
      } catch (e) {
        if (!(e instanceof TokenError)) log(`socketio-peer: verify token: ${e}`);
        return next(refusal('unauthorized', 'invalid or expired token'));
      }
      if (claims.role !== role) return next(refusal('forbidden', `this namespace is for the ${role} role`));
      socket.data.claims = claims;
      socket.data.allow = tokenBucket(eventsPerSecond, eventBurst);
      next();
    });
    nsp.on('connection', (socket) => {
      const { tenant, sub } = socket.data.claims;
      const userKey = tenant + '\n' + sub;
      addTo(users[role], userKey, socket);
      socket.on('disconnect', () => {
        removeFrom(users[role], userKey, socket);
        const t = tenants.get(tenant);
        if (!t) return;
        for (const zone of socket.data.zones || []) removeFrom(t.pickups, zone, socket);
        for (const id of socket.data.watching || []) removeFrom(t.watchers, id, socket);
      });
    });
  }

  // ---- / ----
  io.of('/').on('connection', (socket) => {
    socket.on('ping', (...args) => {
      const ack = args[args.length - 1];
      if (typeof ack === 'function') ack('pong');
    });
  });

  // ---- /vendors ----
  const vendors = io.of('/vendors');
  authenticate(vendors, 'vendor');
  vendors.on('connection', (socket) => {
    on(socket, 'order:create', (p, c, changes) => ({ order: createOrder(c, p, changes) }));
    on(socket, 'order:cancel', (p, c, changes) => ({ order: act(c, p, 'cancel', changes) }));
    on(socket, 'orders:list', (p, c) => {
      const status = p.status === undefined || p.status === null ? '' : p.status;
      if (typeof status !== 'string') throw new AppError('invalid_argument', 'field "status" has the wrong type');
      if (status !== '' && !STATUSES.has(status)) throw new AppError('invalid_argument', `unknown status "${status}"`);
      const t = tenants.get(c.tenant);
      const out = [];
      for (const id of (t && t.byVendor.get(c.sub)) || []) {
        const o = t.orders.get(id).order;
        if (status === '' || o.status === status) out.push(o);
        if (out.length === 100) break;
      }
      return { orders: out };
    }, true);
  });

  // ---- /drivers ----
  const drivers = io.of('/drivers');
  authenticate(drivers, 'driver');
  drivers.on('connection', (socket) => {
    on(socket, 'pickups:subscribe', (p, c) => {
      const zone = checkZone(p.zone);
      const t = tenantOf(c.tenant);
      addTo(t.pickups, zone, socket);
      (socket.data.zones ||= new Set()).add(zone);
      const out = [];
      for (const id of (zone === '' ? t.readyAll : t.ready.get(zone)) || []) {
        out.push(t.orders.get(id).order);
        if (out.length === 1000) break;
      }
      return { pickups: out };
    }, true);
    on(socket, 'pickup:claim', (p, c, changes) => ({ order: act(c, p, 'claim', changes) }));
    on(socket, 'order:picked_up', (p, c, changes) => ({ order: act(c, p, 'picked_up', changes) }));
    on(socket, 'order:in_transit', (p, c, changes) => ({ order: act(c, p, 'in_transit', changes) }));
    on(socket, 'order:delivered', (p, c, changes) => ({ order: act(c, p, 'delivered', changes) }));
    on(socket, 'location:update', (p, c) => {
      if (!isObject(p)) throw new AppError('invalid_argument', 'the event needs one JSON object argument');
      for (const f of ['heading', 'speed']) {
        if (p[f] !== undefined && p[f] !== null && typeof p[f] !== 'number') {
          throw new AppError('invalid_argument', `field "${f}" has the wrong type`);
        }
      }
      checkCoordinates(p.lat, p.lng);
      const t = tenants.get(c.tenant);
      const carried = t && t.carried.get(c.sub);
      if (!carried) return {};
      const at = now();
      for (const orderId of carried) {
        const loc = { orderId, lat: p.lat, lng: p.lng };
        if (typeof p.heading === 'number') loc.heading = p.heading;
        if (typeof p.speed === 'number') loc.speed = p.speed;
        loc.at = at;
        // Best effort and the same bytes for everybody: one room broadcast.
        customers.to(orderRoom(c.tenant, orderId)).emit('driver:location', loc);
      }
      return {};
    });
  });

  // ---- /customers ----
  authenticate(customers, 'customer');
  customers.on('connection', (socket) => {
    on(socket, 'order:watch', (p, c) => {
      const id = checkOrderId(p);
      const t = tenants.get(c.tenant);
      const entry = t && t.orders.get(id);
      if (!entry) throw notFound();
      if (entry.order.customerId !== c.sub) throw forbidden();
      addTo(t.watchers, id, socket);
      (socket.data.watching ||= new Set()).add(id);
      socket.join(orderRoom(c.tenant, id));
      return { order: entry.order, events: entry.events };
    });
    on(socket, 'order:unwatch', (p, c) => {
      const id = checkOrderId(p);
      const t = tenants.get(c.tenant);
      if (t) removeFrom(t.watchers, id, socket);
      if (socket.data.watching) socket.data.watching.delete(id);
      socket.leave(orderRoom(c.tenant, id));
      return {};
    });
  });

  return { httpServer, io, stats };
}
