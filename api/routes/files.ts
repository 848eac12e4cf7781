// Evidence files over HTTP: an upload is the raw request body (Content-Type its type, X-File-Name its
// name, URL-encoded); the rules and the storage are app/files.ts.
import { z } from 'zod';
import type { AppContext } from '../../app/context';
import { ALLOWED_TYPES, MAX_FILE_BYTES, uploadFile } from '../../app/files';
import * as queries from '../../app/queries';
import type { Api } from '../http';

const FileRefSchema = z
  .object({ sha256: z.string(), name: z.string(), type: z.string(), size: z.number().int() })
  .meta({ id: 'FileRef' });
const Sha = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/** The file name as sent: URL-encoded as documented; a raw UTF-8 header arrives as latin1 bytes. */
function fileName(header: string | string[] | undefined): string {
  const raw = String(header ?? 'file');
  try {
    return /%[0-9A-Fa-f]{2}/.test(raw)
      ? decodeURIComponent(raw)
      : Buffer.from(raw, 'latin1').toString('utf8');
  } catch {
    return raw;
  }
}

export function fileRoutes(api: Api, ctx: AppContext): void {
  api.route(
    {
      method: 'post',
      path: '/api/files',
      tags: ['files'],
      access: ['contractor', 'office', 'evaluator', 'finance'],
      status: 201,
      errors: [413],
      rawBody: {
        contentTypes: Object.keys(ALLOWED_TYPES),
        description: '文件内容本身（不是 JSON），1 字节至 20 MB',
        maxBytes: MAX_FILE_BYTES,
      },
      summary:
        '上传证明材料（请求体为文件本身；Content-Type 为文件类型；文件名放在 X-File-Name，URL 编码）',
      description: `允许的类型：${Object.entries(ALLOWED_TYPES)
        .map(([t, n]) => `${n}（${t}）`)
        .join(
          '、',
        )}；不超过 20 MB。同一单位再次上传同一内容只存一份；其他单位上传相同内容得到本单位自己的一份（自己的文件名）。`,
      headers: z.object({
        'x-file-name': z.string().optional().meta({ description: '文件名（URL 编码）' }),
      }),
      response: { description: '已保存的文件', schema: FileRefSchema },
    },
    async ({ req, actor }) => {
      const body: unknown = req.body; // express.raw: the bytes, or nothing when no body was sent
      return uploadFile(ctx, actor, {
        type: String(req.headers['content-type'] ?? '')
          .split(';')[0]
          .trim(),
        name: fileName(req.headers['x-file-name']),
        content: Buffer.isBuffer(body) ? body : Buffer.alloc(0),
      });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/files/:sha256',
      tags: ['files'],
      access: 'authenticated',
      params: Sha,
      errors: [404],
      summary:
        '下载证明材料（承办企业只能下载本单位上传的；无权读取的文件与不存在的文件一样答 404）',
      response: {
        description: '文件内容',
        contentType: Object.keys(ALLOWED_TYPES), // the file's own type
        schema: z.string(),
      },
    },
    async ({ params, actor, res }) => {
      const f = await queries.evidenceFile(ctx, actor, params.sha256);
      res.setHeader('Content-Type', f.type);
      res.setHeader(
        'Content-Disposition',
        `attachment; filename*=UTF-8''${encodeURIComponent(f.name)}`,
      );
      res.setHeader('X-Content-SHA256', f.sha256);
      res.status(200).end(Buffer.from(f.content));
    },
  );
}
