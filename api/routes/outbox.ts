// The outbox's dead letters (issue 12.5): notifications the dispatcher gave up on, with their error, for
// the office. Dead mails have their own list and retry (api/routes/notices.ts: /api/mail/…).
import { z } from 'zod';
import type { AppContext } from '../../app/context';
import { deadLetters } from '../../app/dead-letters';
import type { Api } from '../http';

const DeadOutboxRow = z
  .object({
    id: z.number().int(),
    streamId: z.string().meta({ example: 'subproject-tengzhou-2019-1' }),
    version: z.number().int(),
    programCode: z.string().nullable(),
    eventType: z.string().nullable().meta({ example: 'TenderOpened' }),
    notices: z
      .array(z.string())
      .meta({ description: '本应发布的通知种类', example: ['tender_announcement'] }),
    attempts: z.number().int().meta({ description: '已尝试次数' }),
    lastError: z.string().nullable().meta({
      description: '最后一次的错误（[permanent|transient 错误码 约束] 说明）',
      example:
        '[permanent 23505 official_notice_doc_number_key] duplicate key value violates unique constraint',
    }),
    createdAt: z.iso.datetime(),
    deadAt: z.iso.datetime().meta({ description: '放弃重试的时间' }),
  })
  .meta({ id: 'DeadOutboxRow' });

export function outboxRoutes(api: Api, ctx: AppContext): void {
  api.route(
    {
      method: 'get',
      path: '/api/outbox/dead',
      tags: ['notices'],
      access: ['office'],
      summary:
        '发布失败、已停止重试的通知事项（永久错误，或临时错误重试次数用尽），含错误与尝试次数；其余事项照常发布',
      response: {
        description: '死信',
        schema: z.object({ items: z.array(DeadOutboxRow) }),
      },
    },
    async () => deadLetters(ctx),
  );
}
