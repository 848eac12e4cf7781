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
