// The office's user administration (the users page runs the same use cases): list, add, reset a
// password, disable, enable, unlock after failed log-ins. Each act is an audited office act.
import { z } from 'zod';
import * as admin from '../../app/admin';
import type { AppContext } from '../../app/context';
import { AccountActBody, PasswordResetBody, UserBody, Username } from '../../app/inputs';
import * as queries from '../../app/queries';
import type { Api } from '../http';

const UserRow = z
  .object({
    username: z.string(),
    role: z.string(),
    org: z.string().nullable(),
    displayName: z.string().nullable(),
    email: z.string().nullable(),
    disabled: z.boolean(),
    failedLogins: z.number().int(),
    lockedUntil: z.string().nullable(),
    unlockable: z.boolean(),
  })
  .meta({ id: 'UserRow' });
const Changed = z.object({
  username: z.string(),
  done: z.enum(['reset_password', 'disable', 'enable', 'unlock']),
});

const ACTS = {
  disable: '停用账户（其全部会话立即失效）',
  enable: '恢复已停用的账户',
  unlock: '解除因登录失败次数过多造成的锁定',
} as const;

export function userRoutes(api: Api, ctx: AppContext): void {
  api.route(
    {
      method: 'get',
      path: '/api/users',
      tags: ['users'],
      access: ['office'],
      summary: '用户列表（含停用与登录锁定状态）',
      response: { description: '用户', schema: z.object({ items: z.array(UserRow) }) },
    },
    async () => ({ items: await queries.listUsers(ctx) }),
  );

  api.route(
    {
      method: 'post',
      path: '/api/users',
      tags: ['users'],
      access: ['office'],
      body: UserBody,
      errors: [409],
      status: 201,
      summary: '新增用户（记入审计记录）',
      response: {
        description: '已新增',
        schema: z.object({ id: z.number().int(), username: z.string(), role: z.string() }).loose(),
      },
    },
    ({ actor, body }) =>
      admin.addUser(ctx, actor, {
        ...body,
        org: body.org ?? null,
        displayName: body.displayName ?? null,
        email: body.email ?? null,
      }),
  );

  api.route(
    {
      method: 'post',
      path: '/api/users/:username/password',
      tags: ['users'],
      access: ['office'],
      params: Username,
      body: PasswordResetBody,
      errors: [404],
      summary: '重置密码（该用户的全部会话立即失效）',
      response: { description: '已重置', schema: Changed },
    },
    ({ actor, params, body }) =>
      admin.changeUser(ctx, actor, params.username, { act: 'reset_password', ...body }),
  );

  for (const [act, summary] of Object.entries(ACTS) as [keyof typeof ACTS, string][])
    api.route(
      {
        method: 'post',
        path: `/api/users/:username/${act}`,
        tags: ['users'],
        access: ['office'],
        params: Username,
        body: AccountActBody,
        errors: [404, 409],
        summary,
        response: { description: '已完成', schema: Changed },
      },
      ({ actor, params, body }) => admin.changeUser(ctx, actor, params.username, { act, ...body }),
    );
}
