// The office's acts on a user account, one stream per account (user-<username>): adding it, resetting
// its password, disabling and enabling it, unlocking it after failed log-ins (issue 12.6). Pure. The password never enters: the command carries
// only its length (the rule is checked here), the caller hashes it, and no event holds it or its hash.
import { assertNever, DomainError } from '../errors';
import { ROLES, type CommandContext, type Role } from '../program/types';

/** What the audit record keeps of an account. */
export interface UserProfile {
  username: string;
  role: Role;
  org: string | null;
  displayName: string | null;
  email: string | null;
}

export type UserState = { status: 'none' } | ({ status: 'active' } & UserProfile);

export interface AddUser {
  type: 'AddUser';
  username: string;
  /** as given (the CLI and the API check it too, but this is the rule) */
  role: string;
  org: string | null;
  displayName: string | null;
  email: string | null;
  /** the length of the chosen password, for the rule; the password stays with the caller */
  passwordLength: number;
  /** a fact the caller reads: the user table already holds this username (an account made before its
   * stream existed, e.g. by a test fixture), so the stream alone cannot tell */
  registered: boolean;
}
/** The facts of an existing account the caller reads (the user table, the login throttle), since an
 * account made before its stream existed has no state here. */
export interface AccountFacts {
  exists: boolean;
  disabled: boolean;
  /** failed log-ins have locked it (or will lock the next attempt) */
  locked: boolean;
}
export type AccountCommand =
  | ({ type: 'ResetPassword'; username: string; passwordLength: number } & AccountFacts)
  | ({ type: 'DisableUser'; username: string } & AccountFacts)
  | ({ type: 'EnableUser'; username: string } & AccountFacts)
  | ({ type: 'UnlockUser'; username: string } & AccountFacts);
export type UserCommand = AddUser | AccountCommand;
export type UserEvent =
  | { type: 'UserAdded'; data: UserProfile }
  | { type: 'PasswordReset'; data: { username: string } }
  | { type: 'UserDisabled'; data: { username: string } }
  | { type: 'UserEnabled'; data: { username: string } }
  | { type: 'UserUnlocked'; data: { username: string } };

const invalid = (zh: string, en: string, field: string) =>
  new DomainError('USER-INVALID', 'invalid', zh, en, { field });

/** The rules of a new account, in the order they are reported (the first broken one is). */
export function refuseInvalidUser(u: Omit<AddUser, 'type' | 'registered'>): void {
  if (!/^[A-Za-z0-9_.@-]{2,64}$/.test(u.username))
    throw invalid(
      '用户名须为2～64位字母、数字或 _.@-',
      'username must be 2-64 characters of letters, digits or _.@-',
      'username',
    );
  if (u.passwordLength < 8)
    throw invalid('密码至少8位', 'password must have at least 8 characters', 'password');
  if (!(ROLES as readonly string[]).includes(u.role))
    throw invalid(
      `角色须为 ${ROLES.join('、')} 之一`,
      `role must be one of ${ROLES.join(', ')}`,
      'role',
    );
  if (u.role === 'contractor' && !u.org)
    throw invalid(
      '承办企业用户必须属于一个组织（--org）',
      'a contractor must belong to an organisation (--org)',
      'org',
    );
  if (u.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(u.email))
    throw invalid('邮箱地址格式不正确', 'invalid e-mail address', 'email');
}

export const userExists = (username: string) =>
  new DomainError(
    'CONFLICT',
    'conflict',
    `用户名 ${username} 已存在`,
    `user ${username} already exists`,
    { field: 'username' },
  );

const accountConflict = (zh: string, en: string) => new DomainError('CONFLICT', 'conflict', zh, en);

/** The acts on an existing account: who may be changed how (the office never locks itself out). */
function decideAccount(cmd: AccountCommand, ctx: CommandContext): UserEvent[] {
  const data = { username: cmd.username };
  if (!cmd.exists)
    throw new DomainError('NOT-FOUND', 'not_found', `用户 ${cmd.username} 不存在`, 'no such user');
  switch (cmd.type) {
    case 'ResetPassword':
      if (cmd.passwordLength < 8)
        throw invalid('密码至少8位', 'password must have at least 8 characters', 'password');
      return [{ type: 'PasswordReset', data }];
    case 'DisableUser':
      if (cmd.username === ctx.actor.username)
        throw accountConflict('不能停用自己的账户', 'you cannot disable your own account');
      if (cmd.disabled) throw accountConflict('该用户已停用', 'the user is disabled already');
      return [{ type: 'UserDisabled', data }];
    case 'EnableUser':
      if (!cmd.disabled) throw accountConflict('该用户未停用', 'the user is not disabled');
      return [{ type: 'UserEnabled', data }];
    case 'UnlockUser':
      if (!cmd.locked) throw accountConflict('该用户未被锁定', 'the user is not locked');
      return [{ type: 'UserUnlocked', data }];
    default:
      return assertNever(cmd, 'command');
  }
}

export function decideUser(state: UserState, cmd: UserCommand, ctx: CommandContext): UserEvent[] {
  switch (cmd.type) {
    case 'AddUser': {
      refuseInvalidUser(cmd);
      if (state.status !== 'none' || cmd.registered) throw userExists(cmd.username);
      return [
        {
          type: 'UserAdded',
          data: {
            username: cmd.username,
            role: cmd.role as Role,
            org: cmd.org || null,
            displayName: cmd.displayName,
            email: cmd.email,
          },
        },
      ];
    }
    case 'ResetPassword':
    case 'DisableUser':
    case 'EnableUser':
    case 'UnlockUser':
      return decideAccount(cmd, ctx);
    default:
      return assertNever(cmd, 'command');
  }
}

export function evolveUser(state: UserState, e: UserEvent): UserState {
  switch (e.type) {
    case 'UserAdded':
      return { status: 'active', ...e.data };
    case 'PasswordReset':
    case 'UserDisabled':
    case 'UserEnabled':
    case 'UserUnlocked':
      // the profile is unchanged: the hash, the `disabled` flag and the throttle live in their tables
      // and come back as facts (AccountFacts)
      return state;
    default:
      return assertNever(e, 'event');
  }
}

export const userDecider = {
  streamType: 'user',
  initialState: { status: 'none' } as UserState,
  decide: decideUser,
  evolve: evolveUser,
} as const;
