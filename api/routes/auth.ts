import { z } from 'zod';
import { login, logout } from '../../activities/users';
import type { Api } from '../http';
import { HttpError } from '../problem';
import { LoginBody, LoginResponse } from '../schemas';
import type { Services } from '../services';

export function authRoutes(api: Api, svc: Services): void {
  api.route(
    {
      method: 'post',
      path: '/api/auth/login',
      tags: ['auth'],
      access: 'public',
      body: LoginBody,
      errors: [401],
      summary: '登录，取得 Bearer 令牌（12 小时有效）',
      response: { description: '令牌', schema: LoginResponse },
    },
    async ({ body }) => {
      const s = await login(svc.prisma, body.username, body.password, svc.engine.clock.now());
      if (!s)
        throw new HttpError(
          401,
          '用户名或密码不正确',
          'wrong username or password',
          'LOGIN-FAILED',
        );
      return {
        token: s.token,
        tokenType: 'Bearer',
        expiresAt: s.expiresAt.toISOString(),
        user: s.actor,
      };
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
      await logout(svc.prisma, bearer(req.headers.authorization) ?? '');
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
    async ({ actor }) => actor,
  );
}

export function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m ? m[1] : null;
}
