// Who may open a trainer connection: a local process holding the hub's token, never a web page.
import * as crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

export function checkUpgrade(req: IncomingMessage, token: string): Verdict {
  // Any browser sends Origin on a WebSocket upgrade; trainers do not. A page on any site could
  // otherwise reach 127.0.0.1 (and the token would be the only barrier).
  if (req.headers.origin !== undefined) return { ok: false, status: 403, reason: 'browser origins are refused' };
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return { ok: false, status: 401, reason: 'missing bearer token' };
  if (!tokensEqual(match[1], token)) return { ok: false, status: 401, reason: 'wrong token' };
  return { ok: true };
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}
