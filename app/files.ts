// Evidence files: uploaded as the raw request body, stored in PostgreSQL with their SHA-256, size and
// type; downloadable by the office, evaluators, finance, supervisors and the uploading organisation.
// Each organisation owns its uploads (issue 12.4): the same bytes uploaded by two organisations are two
// files, each with its uploader's name, and a contractor sees only its own.
import { createHash } from 'node:crypto';
import { invalid } from '../workflows/errors';
import type { Actor } from '../workflows/program/types';
import type { FileRef } from '../workflows/subproject/types';
import type { AppContext } from './context';

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
/** The type the bytes themselves declare (magic numbers), when they declare one. */
function sniff(b: Buffer): string | null {
  if (b.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (b[0] === 0x89 && b.subarray(1, 4).toString('latin1') === 'PNG') return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) return 'application/zip';
  return null;
}

/** Who owns an upload (issue 12.4): the uploader's organisation, or the uploader when it has none. */
export const fileOwner = (actor: Actor): string =>
  actor.org ? `org:${actor.org}` : `user:${actor.username}`;

/** Whose files a user may read and cite: a contractor only its own organisation's, anyone else any. */
const readsAll = (actor: Actor) => actor.role !== 'contractor';

/**
 * The copy of a file `actor` reads under a hash: its own (with its own name), else, for a user who may
 * read every file, the first uploaded; none for a contractor's hash of another organisation's file
 * (answered exactly as an unknown hash). One query for all hashes (a submission with a training archive
 * cites a dozen).
 */
export async function filesFor<T extends object = FileRef>(
  ctx: AppContext,
  actor: Actor,
  hashes: string[],
  columns = 'sha256, name, type, size',
): Promise<Map<string, T & { sha256: string }>> {
  if (!hashes.length) return new Map();
  const { rows } = await ctx.pool.query<T & { sha256: string }>(
    `SELECT DISTINCT ON (sha256) ${columns} FROM evidence_file
      WHERE sha256 = ANY($1) AND (owner = $2 OR $3)
      ORDER BY sha256, owner = $2 DESC, created_at, owner`,
    [hashes, fileOwner(actor), readsAll(actor)],
  );
  return new Map(rows.map((r) => [r.sha256, r]));
}

/**
 * Looks up the uploaded files a request cites; a contractor may only cite its own organisation's
 * uploads, under the names it gave them. `fields` maps the request field (for the error's path, e.g.
 * `archive.roster`) to the hashes it cites.
 */
export async function resolveFileFields(
  ctx: AppContext,
  fields: Record<string, string[]>,
  actor: Actor,
): Promise<Record<string, FileRef[]>> {
  const found = await filesFor(ctx, actor, [...new Set(Object.values(fields).flat())]);
  return Object.fromEntries(
    Object.entries(fields).map(([field, hashes]) => [
      field,
      hashes.map((h) => {
        const f = found.get(h);
        if (!f) {
          throw invalid(
            `文件 ${h.slice(0, 12)}… 不存在或不是本单位上传的（先 POST /api/files 上传）`,
            `file ${h} not found or not uploaded by your organisation`,
            field,
          );
        }
        return { sha256: f.sha256, name: f.name, type: f.type, size: f.size };
      }),
    ]),
  );
}

/** Stores an evidence file with its SHA-256, if its type is allowed and its bytes are what it says. */
export async function uploadFile(
  ctx: AppContext,
  actor: Actor,
  file: { type: string; name: string; content: Buffer },
) {
  const type = file.type.toLowerCase();
  const body = file.content;
  const name = file.name.slice(0, 200);
  if (!Object.hasOwn(ALLOWED_TYPES, type)) {
    throw invalid(
      `不接受的文件类型「${type || '未声明'}」，允许：${Object.values(ALLOWED_TYPES).join('、')}`,
      `file type ${type || '(none)'} not accepted`,
      'content-type',
      'FILE-TYPE',
    );
  }
  if (body.length === 0) throw invalid('文件为空', 'empty file', 'body', 'FILE-EMPTY');
  const sniffed = sniff(body);
  if (
    sniffed &&
    sniffed !== type &&
    !(sniffed === 'application/zip' && type.includes('openxmlformats'))
  ) {
    throw invalid(
      `文件内容是 ${ALLOWED_TYPES[sniffed] ?? sniffed}，与声明的类型 ${ALLOWED_TYPES[type]} 不符`,
      `the content is ${sniffed}, not the declared ${type}`,
      'content-type',
      'FILE-TYPE',
    );
  }
  if (
    !sniffed &&
    ['application/pdf', 'image/jpeg', 'image/png', 'application/zip'].includes(type)
  ) {
    throw invalid(
      `文件内容不是有效的 ${ALLOWED_TYPES[type]}`,
      `the content is not a valid ${type}`,
      'content-type',
      'FILE-TYPE',
    );
  }
  const sha256 = createHash('sha256').update(body).digest('hex');
  const owner = fileOwner(actor);
  const f = await ctx.prisma.evidenceFile.upsert({
    where: { sha256_owner: { sha256, owner } },
    update: {},
    create: {
      sha256,
      owner,
      name,
      type,
      size: body.length,
      content: new Uint8Array(body),
      uploadedBy: actor.username,
      org: actor.org ?? null,
    },
    select: { sha256: true, name: true, type: true, size: true },
  });
  // the same bytes uploaded again by the same owner keep their first name and type; another
  // organisation's upload of them is its own file, under its own name (issue 12.4)
  return f;
}
