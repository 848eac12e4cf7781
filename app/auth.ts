// Log-in, log-out and who a bearer token belongs to (the API and the web console's cookie session
// carry the same token). Log-in is throttled per username and per client address (issue 12.6,
// activities/throttle.ts): a locked key is refused before any password is checked.
import { actorForToken, login as openSession, logout as closeSession } from '../activities/users';
import {
  clientKey,
  lockedFor,
  recordFailure,
  userKey,
  type ThrottleKey,
} from '../activities/throttle';
import type { Actor } from '../workflows/program/types';
import type { AppContext } from './context';
import type { In, LoginBody } from './inputs';

export type LoginResult =
  | {
      token: string;
      tokenType: 'Bearer';
      expiresAt: string;
      user: Actor;
    }
  | { refused: 'wrong' }
  /** too many failures: try again after this many seconds */
  | { refused: 'throttled'; retryAfter: number };

/** A session for a right username and password. The same answer and work for an unknown user as for a
 * wrong password, and the same throttle. `client`: the caller's address (null: not over the network,
 * e.g. a test calling the use case). */
export async function login(
  ctx: AppContext,
  input: In<typeof LoginBody>,
  client: string | null,
): Promise<LoginResult> {
  const now = ctx.engine.clock.now();
  const keys: ThrottleKey[] = [userKey(input.username), ...(client ? [clientKey(client)] : [])];
  const locked = await lockedFor(ctx.pool, keys, now);
  if (locked) return throttled(ctx, input.username, client, locked);
  const s = await openSession(ctx.prisma, input.username, input.password, now);
  if (!s) {
    const lock = await recordFailure(ctx.pool, keys, now);
    if (lock) ctx.log.warn({ username: input.username, client, lockMs: lock }, 'login locked');
    return { refused: 'wrong' };
  }
  return {
    token: s.token,
    tokenType: 'Bearer' as const,
    expiresAt: s.expiresAt.toISOString(),
    user: s.actor,
  };
}

function throttled(ctx: AppContext, username: string, client: string | null, ms: number) {
  ctx.log.warn({ username, client }, 'login refused: too many failed attempts');
  return { refused: 'throttled' as const, retryAfter: Math.max(1, Math.ceil(ms / 1000)) };
}

export const logout = (ctx: AppContext, token: string): Promise<void> =>
  closeSession(ctx.prisma, token);

export const authenticate = (ctx: AppContext, token: string): Promise<Actor | null> =>
  actorForToken(ctx.prisma, token, ctx.engine.clock.now());
