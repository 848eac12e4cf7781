// Evidence files: uploaded as the raw request body, stored in PostgreSQL with their SHA-256, size and
// type; downloadable by the office, evaluators, finance, supervisors and the uploading organisation.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DomainError } from '../../workflows/errors';
import type { Actor } from '../../workflows/program/types';
import type { FileRef } from '../../workflows/subproject/types';
import type { Api } from '../http';
import type { Services } from '../services';

export const MAX_FILE_BYTES = 20 * 1024 * 1024;
export const ALLOWED_TYPES: Record<string, string> = {
  'application/pdf': 'PDF',
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'text/csv': 'CSV',
  'text/plain': '文本',
  'application/zip': 'ZIP',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel',
};
const FileRefSchema = z
  .object({ sha256: z.string(), name: z.string(), type: z.string(), size: z.number().int() })
  .meta({ id: 'FileRef' });
const Sha = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) });

/** The type the bytes themselves declare (magic numbers), when they declare one. */
function sniff(b: Buffer): string | null {
  if (b.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (b[0] === 0x89 && b.subarray(1, 4).toString('latin1') === 'PNG') return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) return 'application/zip';
  return null;
}

/**
 * Looks up the uploaded files a request cites, every field in one query (a submission with a training
 * archive cites a dozen); a contractor may only cite its own organisation's uploads. `fields` maps the
 * request field (for the error's path, e.g. `archive.roster`) to the hashes it cites.
 */
export async function resolveFileFields(
  svc: Services,
  fields: Record<string, string[]>,
  actor: Actor,
): Promise<Record<string, FileRef[]>> {
  const all = [...new Set(Object.values(fields).flat())];
  const { rows } = all.length
    ? await svc.pool.query<FileRef & { org: string | null }>(
        'SELECT sha256, name, type, size, org FROM evidence_file WHERE sha256 = ANY($1)',
        [all],
      )
    : { rows: [] };
  const found = new Map(rows.map((r) => [r.sha256, r]));
  return Object.fromEntries(
    Object.entries(fields).map(([field, hashes]) => [
      field,
      hashes.map((h) => {
        const f = found.get(h);
        if (!f || (actor.role === 'contractor' && f.org !== actor.org)) {
          throw new DomainError(
            'INVALID-INPUT',
            'invalid',
            `文件 ${h.slice(0, 12)}… 不存在或不是本单位上传的（先 POST /api/files 上传）`,
            `file ${h} not found or not uploaded by your organisation`,
            { field },
          );
        }
        return { sha256: f.sha256, name: f.name, type: f.type, size: f.size };
      }),
    ]),
  );
}

export function fileRoutes(api: Api, svc: Services): void {
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
        description: '文件内容本身（不是 JSON）',
      },
      summary:
        '上传证明材料（请求体为文件本身；Content-Type 为文件类型；文件名放在 X-File-Name，URL 编码）',
      description: `允许的类型：${Object.entries(ALLOWED_TYPES)
        .map(([t, n]) => `${n}（${t}）`)
        .join('、')}；不超过 20 MB。同一内容只存一份（按 SHA-256）。`,
      headers: z.object({
        'x-file-name': z.string().optional().meta({ description: '文件名（URL 编码）' }),
      }),
      response: { description: '已保存的文件', schema: FileRefSchema },
    },
    async ({ req, actor }) => {
      const type = String(req.headers['content-type'] ?? '')
        .split(';')[0]
        .trim()
        .toLowerCase();
      if (!ALLOWED_TYPES[type]) {
        throw new DomainError(
          'FILE-TYPE',
          'invalid',
          `不接受的文件类型「${type || '未声明'}」，允许：${Object.values(ALLOWED_TYPES).join('、')}`,
          `file type ${type || '(none)'} not accepted`,
          { field: 'content-type' },
        );
      }
      const body = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0)
        throw new DomainError('FILE-EMPTY', 'invalid', '文件为空', 'empty file', { field: 'body' });
      const rawName = String(req.headers['x-file-name'] ?? 'file');
      // URL-encoded as documented; a raw UTF-8 header arrives as latin1 bytes: read those as UTF-8
      let name: string;
      try {
        name = /%[0-9A-Fa-f]{2}/.test(rawName)
          ? decodeURIComponent(rawName)
          : Buffer.from(rawName, 'latin1').toString('utf8');
      } catch {
        name = rawName;
      }
      name = name.slice(0, 200);
      const sniffed = sniff(body);
      if (
        sniffed &&
        sniffed !== type &&
        !(sniffed === 'application/zip' && type.includes('openxmlformats'))
      ) {
        throw new DomainError(
          'FILE-TYPE',
          'invalid',
          `文件内容是 ${ALLOWED_TYPES[sniffed] ?? sniffed}，与声明的类型 ${ALLOWED_TYPES[type]} 不符`,
          `the content is ${sniffed}, not the declared ${type}`,
          { field: 'content-type' },
        );
      }
      if (
        !sniffed &&
        ['application/pdf', 'image/jpeg', 'image/png', 'application/zip'].includes(type)
      ) {
        throw new DomainError(
          'FILE-TYPE',
          'invalid',
          `文件内容不是有效的 ${ALLOWED_TYPES[type]}`,
          `the content is not a valid ${type}`,
          { field: 'content-type' },
        );
      }
      const sha256 = createHash('sha256').update(body).digest('hex');
      const f = await svc.prisma.evidenceFile.upsert({
        where: { sha256 },
        update: {},
        create: {
          sha256,
          name,
          type,
          size: body.length,
          content: new Uint8Array(body),
          uploadedBy: actor!.username,
          org: actor!.org ?? null,
        },
        select: { sha256: true, name: true, type: true, size: true },
      });
      return f; // the same bytes uploaded again keep their first name and type
    },
  );

  api.route(
    {
      method: 'get',
      path: '/api/files/:sha256',
      tags: ['files'],
      access: 'authenticated',
      params: Sha,
      errors: [403, 404],
      summary: '下载证明材料（承办企业只能下载本单位上传的）',
      response: {
        description: '文件内容',
        contentType: 'application/octet-stream',
        schema: z.string(),
      },
    },
    async ({ params, actor, res }) => {
      const f = await svc.prisma.evidenceFile.findUnique({ where: { sha256: params.sha256 } });
      if (!f) throw new DomainError('NOT-FOUND', 'not_found', '文件不存在', 'file not found');
      if (actor!.role === 'contractor' && f.org !== actor!.org)
        throw new DomainError(
          'R-TD-3',
          'forbidden',
          '无权下载其他单位的材料',
          "not your organisation's file",
        );
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
