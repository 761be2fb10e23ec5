// Input checks, mirroring dispatchd's internal/orders/validate.go: the same
// limits, the same invalid_argument answers.
import { ID } from './ids.js';

export class AppError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export const notFound = () => new AppError('not_found', 'order not found');
export const forbidden = () => new AppError('forbidden', 'not allowed');
export const conflict = (msg = "the order's state does not allow it") => new AppError('conflict', msg);
export const alreadyClaimed = () => new AppError('already_claimed', 'another driver claimed the order');
const invalid = (msg) => new AppError('invalid_argument', msg);

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const STATUSES = new Set(['ready', 'assigned', 'picked_up', 'in_transit', 'delivered', 'cancelled']);

export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function validName(s) {
  return typeof s === 'string' && NAME.test(s);
}

function checkText(field, s) {
  if (typeof s !== 'string') throw invalid(`field "${field}" has the wrong type`);
  const t = s.trim();
  if (t === '' || Buffer.byteLength(t) > 200) throw invalid(`${field} must be 1-200 bytes of text`);
}

export function checkCoordinates(lat, lng) {
  if (typeof lat !== 'number' || typeof lng !== 'number' || Number.isNaN(lat) || Number.isNaN(lng) ||
      lat < -90 || lat > 90 || lng < -180 || lng > 180) {
    throw invalid('lat must be in [-90, 90] and lng in [-180, 180]');
  }
}

function place(field, p) {
  if (!isObject(p)) throw invalid(`field "${field}" has the wrong type`);
  checkText(field + '.address', p.address);
  try {
    checkCoordinates(p.lat, p.lng);
  } catch (e) {
    throw invalid(`${field}: ${e.message}`);
  }
  return { address: p.address, lat: p.lat, lng: p.lng };
}

export function checkZone(zone) {
  if (zone === undefined || zone === null || zone === '') return '';
  if (!validName(zone)) throw invalid("zone must be 1-64 letters, digits, '_' or '-'");
  return zone;
}

export function checkOrderId(p) {
  if (!isObject(p)) throw invalid('the event needs one JSON object argument');
  if (typeof p.orderId !== 'string' || !ID.test(p.orderId)) throw invalid('orderId must be an order id');
  return p.orderId;
}

// newOrder validates an order:create payload and returns the clean fields.
export function newOrder(n) {
  if (!isObject(n)) throw invalid('the event needs one JSON object argument');
  checkText('store', n.store);
  if (!validName(n.customerId)) throw invalid("customerId must be 1-64 letters, digits, '_' or '-'");
  const zone = checkZone(n.zone);
  const pickup = place('pickup', n.pickup);
  const dropoff = place('dropoff', n.dropoff);
  let items;
  if (n.items !== undefined && n.items !== null) {
    if (!Array.isArray(n.items)) throw invalid('field "items" has the wrong type');
    if (n.items.length > 100) throw invalid('at most 100 items');
    items = n.items.map((it) => {
      if (!isObject(it)) throw invalid('field "items" has the wrong type');
      checkText('items[].name', it.name);
      if (!Number.isInteger(it.qty) || it.qty < 1 || it.qty > 10000) throw invalid('items[].qty must be 1-10000');
      return { name: it.name, qty: it.qty };
    });
    if (items.length === 0) items = undefined;
  }
  let key = '';
  if (n.idempotencyKey !== undefined && n.idempotencyKey !== null) {
    if (typeof n.idempotencyKey !== 'string') throw invalid('field "idempotencyKey" has the wrong type');
    if (Buffer.byteLength(n.idempotencyKey) > 128) throw invalid('idempotencyKey must be at most 128 bytes of UTF-8');
    key = n.idempotencyKey;
  }
  return { store: n.store, customerId: n.customerId, zone, pickup, dropoff, items, idempotencyKey: key };
}
