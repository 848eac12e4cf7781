// The office's users page: who can log in, with which role and organisation, who is disabled or locked
// by failed log-ins; add a user (the same use case as `shifan user add` and POST /api/users), reset a
// password, disable, enable, unlock (the use cases of POST /api/users/:username/…), each an audited
// office act.
import * as admin from '../../app/admin';
import type { AppContext } from '../../app/context';
import * as queries from '../../app/queries';
import { ROLE_NAMES, ROLES } from '../../workflows/program/types';
import { AccountActBody, PasswordResetBody, UserBody } from '../../app/inputs';
import { forbidden } from '../../workflows/errors';
import type { Request } from 'express';
import type { Page, PageKit } from './kit';

export function userPages(ctx: AppContext, { page, form }: PageKit): void {
  const usersPage: Page = async (_req, actor, problem) => {
    if (actor.role !== 'office')
      throw forbidden(
        'FORBIDDEN-ROLE',
        '只有领导小组办公室可以管理用户',
        'only the office manages users',
      );
    return {
      page: 'users',
      data: {
        title: '用户',
        users: (await queries.listUsers(ctx)).map((u) => ({ ...u, roleName: ROLE_NAMES[u.role] })),
        roles: ROLES.map((r) => ({ key: r, name: ROLE_NAMES[r] })),
        ...problem,
      },
    };
  };
  page('/users', usersPage);
  form('/users', {
    roles: ['office'],
    schema: UserBody,
    run: (actor, _req, input) =>
      admin.addUser(ctx, actor, {
        username: input.username,
        password: input.password,
        role: input.role,
        org: input.org ?? null,
        displayName: input.displayName ?? null,
        email: input.email ?? null,
        reason: input.reason ?? '在工作台新增用户',
      }),
    back: () => '/users',
    view: usersPage,
    done: '已新增用户',
  });
  const username = (req: Request) => String(req.params.username);
  form('/users/:username/password', {
    roles: ['office'],
    schema: PasswordResetBody,
    run: (actor, req, input) =>
      admin.changeUser(ctx, actor, username(req), { act: 'reset_password', ...input }),
    back: () => '/users',
    view: usersPage,
    done: '已重置密码，该用户须用新密码重新登录',
  });
  const acts = { disable: '已停用账户', enable: '已恢复账户', unlock: '已解除登录锁定' } as const;
  for (const [act, done] of Object.entries(acts) as [keyof typeof acts, string][])
    form(`/users/:username/${act}`, {
      roles: ['office'],
      schema: AccountActBody,
      run: (actor, req, input) => admin.changeUser(ctx, actor, username(req), { act, ...input }),
      back: () => '/users',
      view: usersPage,
      done,
    });
}
