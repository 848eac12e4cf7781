// The office's acts on a user account, one stream per account (user-<username>): adding it today;
// disabling it, resetting its password and unlocking it are further commands on the same stream when they
// come (the state's `status` leaves room for them). Pure. The password never enters: the command carries
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
export type UserCommand = AddUser;
export type UserEvent = { type: 'UserAdded'; data: UserProfile };

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

export function decideUser(state: UserState, cmd: UserCommand, _ctx: CommandContext): UserEvent[] {
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
    default: // one command today: narrowing by its type keeps the check
      return assertNever(cmd.type, 'command');
  }
}

export function evolveUser(_state: UserState, e: UserEvent): UserState {
  switch (e.type) {
    case 'UserAdded':
      return { status: 'active', ...e.data };
    default:
      return assertNever(e.type, 'event');
  }
}

export const userDecider = {
  streamType: 'user',
  initialState: { status: 'none' } as UserState,
  decide: decideUser,
  evolve: evolveUser,
} as const;
