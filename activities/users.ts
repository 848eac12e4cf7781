// Users, organisations, passwords and bearer sessions (used by the API and the CLI).
// Passwords: scrypt from node:crypto (memory-hard, no native add-on to build), with a per-user salt,
// stored as "scrypt$N$r$p$salt$hash" so the cost can be raised later without breaking old hashes.
import {
  createHash,
  randomBytes,
  scrypt as scryptCb,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';
import type { PoolClient } from 'pg';
import type { PrismaClient } from './store/prisma';
import {
  refuseInvalidUser,
  userExists,
  type AccountFacts,
  type AddUser,
  type UserProfile,
} from '../workflows/office/user';
import { clearFailures, THROTTLE, userKey } from './throttle';
import type { Actor, Role } from '../workflows/program/types';

const scrypt = (pw: string, salt: Buffer, len: number, o: ScryptOptions) =>
  new Promise<Buffer>((res, rej) => scryptCb(pw, salt, len, o, (e, k) => (e ? rej(e) : res(k))));
const COST = { N: 16384, r: 8, p: 1 };
const SESSION_HOURS = 12;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, { ...COST, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt') return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return timingSafeEqual(key, expected);
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export interface NewUser {
  username: string;
  password: string;
  role: Role;
  org?: string | null;
  displayName?: string | null;
  email?: string | null;
}

/** The decider's AddUser for this input (workflows/office/user.ts holds the rules): the password stays here. */
export function addUserCommand(u: NewUser, registered: boolean): AddUser {
  return {
    type: 'AddUser',
    username: u.username,
    role: u.role,
    org: u.org || null,
    displayName: u.displayName ?? null,
    email: u.email ?? null,
    passwordLength: u.password.length,
    registered,
  };
}

/** What adding a user answers (the CLI prints it). */
export interface AddedUser {
  id: number;
  username: string;
  role: Role;
  org: { name: string } | null;
}

/**
 * Adds a user WITHOUT an audit record: for test fixtures only. People (the CLI, the API) add users
 * through app/admin.ts `addUser`, which writes the UserAdded event in the same transaction. Same rules,
 * same refusals.
 */
export async function addUser(prisma: PrismaClient, u: NewUser): Promise<AddedUser> {
  refuseInvalidUser(addUserCommand(u, false));
  if (await prisma.user.findUnique({ where: { username: u.username } }))
    throw userExists(u.username);
  const org = u.org
    ? await prisma.organisation.upsert({
        where: { name: u.org },
        create: { name: u.org },
        update: {},
      })
    : null;
  return prisma.user.create({
    data: {
      username: u.username,
      passwordHash: await hashPassword(u.password),
      role: u.role,
      orgId: org?.id ?? null,
      displayName: u.displayName ?? null,
      email: u.email ?? null,
    },
    select: { id: true, username: true, role: true, org: { select: { name: true } } },
  });
}

/** Whether the user table holds this username (a fact for the AddUser decision). */
export async function isRegistered(c: PoolClient, username: string): Promise<boolean> {
  const { rowCount } = await c.query('SELECT 1 FROM app_user WHERE username = $1', [username]);
  return (rowCount ?? 0) > 0;
}

/**
 * Writes the user (and its organisation, if new) inside the caller's transaction (`c` after BEGIN),
 * created at `now` (the engine's clock, the time of its audit event). A username taken meanwhile by a
 * concurrent transaction is the same refusal as one taken before.
 */
export async function insertUser(
  c: PoolClient,
  u: UserProfile & { passwordHash: string },
  now: string,
): Promise<AddedUser> {
  try {
    const orgId = u.org
      ? (
          await c.query<{ id: number }>(
            `INSERT INTO organisation (name, created_at) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
            [u.org, now],
          )
        ).rows[0].id
      : null;
    const {
      rows: [{ id }],
    } = await c.query<{ id: number }>(
      `INSERT INTO app_user (username, password_hash, role, org_id, display_name, email, created_at)
       VALUES ($1, $2, $3::"Role", $4, $5, $6, $7) RETURNING id`,
      [u.username, u.passwordHash, u.role, orgId, u.displayName, u.email, now],
    );
    return { id, username: u.username, role: u.role, org: u.org ? { name: u.org } : null };
  } catch (e) {
    const err = e as { code?: string; constraint?: string };
    if (err.code === '23505' && err.constraint === 'app_user_username_key')
      throw userExists(u.username);
    throw e;
  }
}

/** An account's facts for the office's acts on it (AccountFacts), the row locked until the act commits. */
export async function accountFacts(
  c: PoolClient,
  username: string,
  now: Date,
): Promise<AccountFacts> {
  const { rows } = await c.query<{ disabled: boolean }>(
    'SELECT disabled FROM app_user WHERE username = $1 FOR UPDATE',
    [username],
  );
  const { rows: t } = await c.query<{ failures: number; last: Date }>(
    'SELECT failures, last_failure_at AS last FROM login_throttle WHERE key = $1',
    [userKey(username).key],
  );
  const counted =
    t[0] && t[0].last.getTime() > now.getTime() - THROTTLE.windowMs ? t[0].failures : 0;
  return {
    exists: rows.length > 0,
    disabled: rows[0]?.disabled ?? false,
    locked: counted >= THROTTLE.perUser,
  };
}

/** What an act on an account changes, inside its transaction; every session of the account ends when
 * its password is reset or it is disabled (in this process at once, in others within SESSION_CACHE_MS). */
export async function changeAccount(
  c: PoolClient,
  username: string,
  change: { passwordHash: string } | { disabled: boolean } | { unlock: true },
): Promise<void> {
  if ('unlock' in change) return clearFailures(c, userKey(username));
  if ('passwordHash' in change)
    await c.query('UPDATE app_user SET password_hash = $2 WHERE username = $1', [
      username,
      change.passwordHash,
    ]);
  else
    await c.query('UPDATE app_user SET disabled = $2 WHERE username = $1', [
      username,
      change.disabled,
    ]);
  if ('passwordHash' in change || change.disabled) {
    await c.query(
      'DELETE FROM session WHERE user_id = (SELECT id FROM app_user WHERE username = $1)',
      [username],
    );
    sessionCache.clear();
  }
}

/** Checks the password and opens a session; null when the user or password is wrong (same answer for both). */
export async function login(
  prisma: PrismaClient,
  username: string,
  password: string,
  now: Date,
): Promise<{ token: string; expiresAt: Date; actor: Actor } | null> {
  const user = await prisma.user.findUnique({ where: { username }, include: { org: true } });
  const ok =
    user && !user.disabled
      ? await verifyPassword(password, user.passwordHash)
      : (await hashPassword(password), false); // same work either way
  if (!user || !ok) return null;
  await prisma.loginThrottle.deleteMany({ where: { key: userKey(username).key } });
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3600_000);
  await prisma.session.create({
    data: { tokenHash: tokenHash(token), userId: user.id, expiresAt },
  });
  return {
    token,
    expiresAt,
    actor: { username: user.username, role: user.role, org: user.org?.name ?? null },
  };
}

// Every request authenticates; a short-lived cache of sessions spares a database round trip (and
// Prisma's per-query CPU) on each. Concurrent requests with a token not yet cached share one lookup.
// A logout here evicts at once; a logout or a disabled user in another process is seen within
// SESSION_CACHE_MS.
const SESSION_CACHE_MS = 30_000;
interface CachedSession {
  actor: Actor | null;
  expiresAt: number;
  cachedUntil: number;
}
const sessionCache = new Map<string, CachedSession>();
const inFlight = new Map<string, Promise<CachedSession>>();

async function lookupSession(prisma: PrismaClient, key: string): Promise<CachedSession> {
  const s = await prisma.session.findUnique({
    where: { tokenHash: key },
    include: { user: { include: { org: true } } },
  });
  const found: CachedSession =
    !s || s.user.disabled
      ? { actor: null, expiresAt: 0, cachedUntil: 0 }
      : {
          actor: { username: s.user.username, role: s.user.role, org: s.user.org?.name ?? null },
          expiresAt: s.expiresAt.getTime(),
          cachedUntil: Date.now() + SESSION_CACHE_MS,
        };
  if (found.actor) {
    if (sessionCache.size > 10_000) sessionCache.clear();
    sessionCache.set(key, found);
  } else sessionCache.delete(key);
  return found;
}

export async function actorForToken(
  prisma: PrismaClient,
  token: string,
  now: Date,
): Promise<Actor | null> {
  const key = tokenHash(token);
  let s = sessionCache.get(key);
  if (!s || s.cachedUntil <= Date.now()) {
    let pending = inFlight.get(key);
    if (!pending) {
      pending = lookupSession(prisma, key).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    s = await pending;
  }
  return s.actor && s.expiresAt > now.getTime() ? s.actor : null;
}

export async function logout(prisma: PrismaClient, token: string): Promise<void> {
  sessionCache.delete(tokenHash(token));
  await prisma.session.deleteMany({ where: { tokenHash: tokenHash(token) } });
}
