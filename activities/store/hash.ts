// R-PUB-3 hash chain: each event's hash covers its content and the previous event's hash in the same
// stream, over RFC 8785 canonical JSON (key order and number forms fixed), so a verifier recomputes it
// from the stored columns alone.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export const GENESIS_HASH = '0'.repeat(64);

export interface HashedFields {
  stream: string;
  version: number;
  type: string;
  data: unknown;
  actor: string;
  role: string;
  command: string;
  reason: string | null;
  at: string; // ISO-8601 with milliseconds, UTC
  prevHash: string;
}

export function eventHash(f: HashedFields): string {
  return createHash('sha256')
    .update(canonicalize(f) ?? '')
    .digest('hex');
}

/** An event as stored, with every hashed column (`at` as it was hashed: ISO-8601, milliseconds, UTC). */
export interface StoredLink {
  id: number | string;
  version: number;
  type: string;
  data: unknown;
  actor: string;
  role: string;
  command: string;
  reason: string | null;
  at: string;
  prev_hash: string;
  hash: string;
}

/** Where a chain breaks: the version and event, and why (Chinese, English). */
export interface ChainBreak {
  version: number;
  eventId: number | null;
  zh: string;
  en: string;
}

/**
 * The first way `e` fails to follow its stream's chain, expected at `expected` after a link whose hash
 * is `prev` (null: it follows): a version missing before it, a previous hash that is not the last
 * event's, content that no longer matches its hash. Shared by the check on every load for a command
 * (event-store.ts) and `shifan audit verify` (engine/audit.ts).
 */
export function chainBreak(
  stream: string,
  expected: number,
  prev: string,
  e: StoredLink,
): ChainBreak | null {
  const id = Number(e.id);
  if (e.version !== expected)
    return {
      version: expected,
      eventId: null,
      zh: `缺少第 ${expected} 号事件（下一条是第 ${e.version} 号）`,
      en: `event version ${expected} is missing (next is ${e.version})`,
    };
  if (e.prev_hash !== prev)
    return {
      version: e.version,
      eventId: id,
      zh: `事件 #${id}（第 ${e.version} 号）的前序哈希与上一事件不符：链条在此断开`,
      en: `event #${id} (version ${e.version}) does not chain to the previous event`,
    };
  const recomputed = eventHash({
    stream,
    version: e.version,
    type: e.type,
    data: e.data,
    actor: e.actor,
    role: e.role,
    command: e.command,
    reason: e.reason,
    at: e.at,
    prevHash: e.prev_hash,
  });
  if (recomputed !== e.hash)
    return {
      version: e.version,
      eventId: id,
      zh: `事件 #${id}（第 ${e.version} 号，${e.type}）的内容已被改动：哈希不符`,
      en: `event #${id} (version ${e.version}, ${e.type}) was altered: its hash does not match its content`,
    };
  return null;
}
