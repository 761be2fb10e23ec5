// HS256 JWT verification (and signing, for tests and tools) with node:crypto.
// The algorithm is pinned to HS256 and exp is required, as in dispatchd.
import { createHmac, timingSafeEqual } from 'node:crypto';

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ROLES = new Set(['vendor', 'driver', 'customer']);

export class TokenError extends Error {}

function b64json(part) {
  const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TokenError('not a JSON object');
  return v;
}

// verify returns {sub, tenant, role} or throws TokenError.
export function verify(token, secret, nowSec = Date.now() / 1000) {
  if (typeof token !== 'string' || token.length > 8192) throw new TokenError('no token');
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenError('malformed token');
  const [h, p, s] = parts;
  let header, claims;
  try {
    header = b64json(h);
    claims = b64json(p);
  } catch {
    throw new TokenError('malformed token');
  }
  if (header.alg !== 'HS256') throw new TokenError('algorithm must be HS256');
  const want = createHmac('sha256', secret).update(h + '.' + p).digest();
  const got = Buffer.from(s, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new TokenError('bad signature');
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new TokenError('exp is required');
  if (nowSec >= claims.exp) throw new TokenError('token expired');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || nowSec < claims.nbf)) throw new TokenError('token not valid yet');
  if (claims.iat !== undefined && (typeof claims.iat !== 'number' || nowSec < claims.iat)) throw new TokenError('token used before issued');
  const { sub, tenant, role } = claims;
  if (typeof sub !== 'string' || !NAME.test(sub) || typeof tenant !== 'string' || !NAME.test(tenant)) {
    throw new TokenError('sub and tenant must be 1-64 letters, digits, _ or -');
  }
  if (!ROLES.has(role)) throw new TokenError('unknown role');
  return { sub, tenant, role };
}

// sign issues an HS256 token for {sub, tenant, role} valid for ttlSec.
export function sign({ sub, tenant, role, ttlSec = 3600, now = Date.now() / 1000 }, secret) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const iat = Math.floor(now);
  const body = enc({ alg: 'HS256', typ: 'JWT' }) + '.' + enc({ sub, tenant, role, iat, exp: iat + ttlSec });
  return body + '.' + createHmac('sha256', secret).update(body).digest('base64url');
}
