// UUIDv7 ids: 48-bit Unix milliseconds, version 7, a 12-bit counter in
// rand_a that keeps ids made in the same millisecond increasing (RFC 9562
// method 1), then 62 random bits. Ids sort by creation and are unique per
// process: the (time, counter) pair never repeats.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(8 * 1024);
let poolPos = pool.length;
let lastMs = 0;
let counter = 0;

const hex = [];
for (let i = 0; i < 256; i++) hex.push(i.toString(16).padStart(2, '0'));

export function uuidv7() {
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    counter = 0;
  } else {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    ms = lastMs;
  }
  if (poolPos + 8 > pool.length) {
    randomFillSync(pool);
    poolPos = 0;
  }
  const r = poolPos;
  poolPos += 8;
  const b = new Array(16);
  // 48-bit timestamp, big endian
  const hi = Math.floor(ms / 0x1000000);
  const lo = ms % 0x1000000;
  b[0] = (hi >>> 16) & 0xff; b[1] = (hi >>> 8) & 0xff; b[2] = hi & 0xff;
  b[3] = (lo >>> 16) & 0xff; b[4] = (lo >>> 8) & 0xff; b[5] = lo & 0xff;
  b[6] = 0x70 | (counter >>> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (pool[r] & 0x3f);
  for (let i = 1; i < 8; i++) b[8 + i] = pool[r + i];
  return hex[b[0]] + hex[b[1]] + hex[b[2]] + hex[b[3]] + '-' + hex[b[4]] + hex[b[5]] + '-' +
    hex[b[6]] + hex[b[7]] + '-' + hex[b[8]] + hex[b[9]] + '-' +
    hex[b[10]] + hex[b[11]] + hex[b[12]] + hex[b[13]] + hex[b[14]] + hex[b[15]];
}

export const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
