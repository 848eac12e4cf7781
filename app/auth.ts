// Log-in, log-out and who a bearer token belongs to (the API today; the web console's cookie session
// will carry the same token).
import { actorForToken, login as openSession, logout as closeSession } from '../activities/users';
import type { Actor } from '../workflows/program/types';
import type { AppContext } from './context';
import type { In, LoginBody } from './inputs';

/** A session for a right username and password; null otherwise (the same answer and work for an
 * unknown user as for a wrong password). */
export async function login(ctx: AppContext, input: In<typeof LoginBody>) {
  const s = await openSession(ctx.prisma, input.username, input.password, ctx.engine.clock.now());
  return (
    s && {
      token: s.token,
      tokenType: 'Bearer' as const,
      expiresAt: s.expiresAt.toISOString(),
      user: s.actor,
    }
  );
}

export const logout = (ctx: AppContext, token: string): Promise<void> =>
  closeSession(ctx.prisma, token);

export const authenticate = (ctx: AppContext, token: string): Promise<Actor | null> =>
  actorForToken(ctx.prisma, token, ctx.engine.clock.now());
