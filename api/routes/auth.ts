// Log-in and log-out (app/auth.ts); who am I.
import { z } from 'zod';
import * as auth from '../../app/auth';
import type { AppContext } from '../../app/context';
import { INBOX_PAGE, myTasks } from '../../app/inbox';
import { LoginBody } from '../../app/inputs';
import type { Api } from '../http';
import { HttpError } from '../problem';
import { LoginResponse, TasksQuery, TasksResponse } from '../schemas';

export function authRoutes(api: Api, ctx: AppContext): void {
  api.route(
    {
      method: 'post',
      path: '/api/auth/login',
      tags: ['auth'],
      access: 'public',
      body: LoginBody,
      errors: [401, 429],
      summary:
        '登录，取得 Bearer 令牌（12 小时有效）。同一用户名连续失败 5 次（同一地址 20 次）后暂时锁定，' +
        '每再失败一次锁定时间加倍（1 秒起，最长 15 分钟），锁定期间答 429 并给出 Retry-After',
      response: { description: '令牌', schema: LoginResponse },
    },
    async ({ body, req, res }) => {
      const r = await auth.login(ctx, body, req.ip ?? null);
      if ('refused' in r && r.refused === 'throttled') {
        res.setHeader('Retry-After', String(r.retryAfter));
        throw new HttpError(
          429,
          `登录失败次数过多，请 ${r.retryAfter} 秒后再试`,
          `too many failed log-ins: retry after ${r.retryAfter} s`,
          'LOGIN-THROTTLED',
        );
      }
      if ('refused' in r)
        throw new HttpError(
          401,
          '用户名或密码不正确',
          'wrong username or password',
          'LOGIN-FAILED',
        );
      return r;
    },
  );

  api.route(
    {
      method: 'post',
      path: '/api/auth/logout',
      tags: ['auth'],
      access: 'authenticated',
      status: 204,
      summary: '注销当前令牌',
      response: { description: '已注销' },
    },
    async ({ req }) => {
      await auth.logout(ctx, bearer(req.headers.authorization) ?? '');
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/me',
      tags: ['auth'],
      access: 'authenticated',
      summary: '当前用户',
      response: {
        description: '当前用户',
        schema: z.object({
          username: z.string(),
          role: z.string(),
          org: z.string().nullable().optional(),
        }),
      },
    },
    ({ actor }) => Promise.resolve(actor),
  );

  api.route(
    {
      method: 'get',
      path: '/api/me/tasks',
      tags: ['auth'],
      access: 'authenticated',
      query: TasksQuery,
      summary: `待办：当前用户现在须办理的事项，逾期的在前（每页 ${INBOX_PAGE} 项；total 为总数，pages 为页数）`,
      response: { description: '待办', schema: TasksResponse },
    },
    ({ actor, query }) => myTasks(ctx, actor, query.page),
  );
}

export function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m ? m[1] : null;
}
