// The office's users page: who can log in, with which role and organisation; add a user (the same
// use case as `shifan user add`, an audited office act).
import * as admin from '../../app/admin';
import type { AppContext } from '../../app/context';
import * as queries from '../../app/queries';
import { ROLE_NAMES, ROLES } from '../../workflows/program/types';
import { UserBody } from '../../app/inputs';
import { forbidden } from '../../workflows/errors';
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
}
