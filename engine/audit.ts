// `shifan audit verify` (R-PUB-3): walks every stream's events in order and checks that versions are
// contiguous, each event's hash matches its content and chains to the previous one, the stream row's
// head and version match its last event, and folding the events gives the stored state (a snapshot at
// version − state_lag, bound to that event's hash: see SNAPSHOT_KEY). The office's own acts (user-, notice-, mail- streams, app/admin.ts) are streams
// like any other; a correction's event must also still match the notice it issued.
import canonicalize from 'canonicalize';
import type { Pool } from 'pg';
import {
  snapshotDigest,
  splitSnapshot,
  type StreamIntegrityError,
} from '../activities/store/event-store';
import { chainBreak, GENESIS_HASH } from '../activities/store/hash';
import { AGGREGATES } from './aggregates';

/** A stream refused at run time because it failed its integrity check (engine loads, release cross-check). */
export interface IntegrityAlarm {
  streamId: string;
  version: number | null;
  eventId: number | null;
  problem: string;
  problem_en: string;
  /** when this process first refused a command on it, and how many it refused since */
  since: string;
  refused: number;
}
// In this process's memory: after a restart the next command on the stream raises it again.
const alarms = new Map<string, IntegrityAlarm>();

/** Called by the engines when a command is refused for a StreamIntegrityError. */
export function raiseIntegrityAlarm(e: StreamIntegrityError): void {
  const seen = alarms.get(e.streamId);
  alarms.set(e.streamId, {
    streamId: e.streamId,
    version: e.version,
    eventId: e.eventId,
    problem: e.problem,
    problem_en: e.problemEn,
    since: seen?.since ?? new Date().toISOString(),
    refused: (seen?.refused ?? 0) + 1,
  });
}
/** A stream that loads intact again (repaired) is no longer alarmed. */
export function clearIntegrityAlarm(streamId: string): void {
  if (alarms.size) alarms.delete(streamId);
}
/** The streams refused for failing their integrity check (GET /healthz shows them). */
export function integrityAlarms(): IntegrityAlarm[] {
  return [...alarms.values()];
}

export interface BrokenLink {
  streamId: string;
  version: number | null;
  eventId: number | null;
  problem: string;
  problem_en: string;
}
export interface VerifyReport {
  ok: boolean;
  streams: number;
  events: number;
  notices?: number;
  broken: BrokenLink | null;
}

interface StreamRow {
  id: string;
  type: string;
  version: number;
  state: unknown;
  state_lag: number;
  head_hash: string;
}
interface EventRow {
  id: string;
  version: number;
  type: string;
  data: unknown;
  actor: string;
  role: string;
  command: string;
  reason: string | null;
  at: Date;
  prev_hash: string;
  hash: string;
}

export async function verifyAudit(
  pool: Pool,
  onProgress: (streams: number, events: number) => void = () => {},
): Promise<VerifyReport> {
  let streams = 0;
  let events = 0;
  let after = '';
  const failed = (broken: BrokenLink): VerifyReport => ({ ok: false, streams, events, broken });
  for (;;) {
    const { rows: batch } = await pool.query<StreamRow>(
      'SELECT id, type, version, state, state_lag, head_hash FROM stream WHERE id > $1 ORDER BY id LIMIT 200',
      [after],
    );
    if (!batch.length) break;
    for (const s of batch) {
      const broken = await verifyStream(pool, s, (n) => {
        events += n;
      });
      streams++;
      if (broken) return failed(broken);
    }
    after = batch[batch.length - 1].id;
    onProgress(streams, events);
  }
  // Events whose stream row is gone (a deleted stream) cannot be chained at all.
  const { rows: orphans } = await pool.query<{ stream_id: string; id: string; version: number }>(
    'SELECT e.stream_id, e.id, e.version FROM event e LEFT JOIN stream s ON s.id = e.stream_id WHERE s.id IS NULL ORDER BY e.id LIMIT 1',
  );
  if (orphans.length) {
    const o = orphans[0];
    return failed({
      streamId: o.stream_id,
      version: o.version,
      eventId: Number(o.id),
      problem: '事件所属的流记录缺失',
      problem_en: 'event belongs to a missing stream row',
    });
  }
  // Issued notices (R-PUB-3): their stored HTML and PDF still match the SHA-256 recorded at issue.
  const { rows: altered } = await pool.query<{
    id: string;
    doc_number: string;
    stream_id: string;
    version: number;
  }>(
    `SELECT id, doc_number, stream_id, version FROM official_notice
      WHERE sha256 <> encode(sha256(convert_to(html, 'UTF8')), 'hex') OR (pdf IS NOT NULL AND pdf_sha256 <> encode(sha256(pdf), 'hex'))
      ORDER BY id LIMIT 1`,
  );
  if (altered.length) {
    const n = altered[0];
    return failed({
      streamId: n.stream_id,
      version: n.version,
      eventId: null,
      problem: `正式通知 ${n.doc_number}（#${n.id}）的内容已被改动：哈希不符`,
      problem_en: `official notice ${n.doc_number} (#${n.id}) was altered: its SHA-256 does not match`,
    });
  }
  // A correction's event (notice-<id>, NoticeCorrected) and the notice it issued were written in one
  // transaction: the notice row must still be the one the chained event names (id, 文号, SHA-256), which
  // also catches a row whose HTML and recorded SHA-256 were both replaced.
  const { rows: unmatched } = await pool.query<{
    id: string;
    stream_id: string;
    version: number;
    doc_number: string;
  }>(
    `SELECT e.id, e.stream_id, e.version, e.data->>'docNumber' AS doc_number FROM event e
       LEFT JOIN official_notice n ON n.stream_id = e.stream_id AND n.version = e.version AND n.kind = 'correction'
      WHERE e.type = 'NoticeCorrected'
        AND (n.id IS NULL OR n.id::text IS DISTINCT FROM e.data->>'correctionId'
             OR n.doc_number IS DISTINCT FROM e.data->>'docNumber' OR n.sha256 IS DISTINCT FROM e.data->>'sha256')
      ORDER BY e.id LIMIT 1`,
  );
  if (unmatched.length) {
    const u = unmatched[0];
    return failed({
      streamId: u.stream_id,
      version: u.version,
      eventId: Number(u.id),
      problem: `更正事件 #${u.id} 所记录的更正通知 ${u.doc_number} 已缺失或被替换`,
      problem_en: `the correction notice ${u.doc_number} recorded by event #${u.id} is missing or was replaced`,
    });
  }
  const {
    rows: [{ n }],
  } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM official_notice');
  return { ok: true, streams, events, notices: n, broken: null };
}

async function verifyStream(
  pool: Pool,
  s: StreamRow,
  count: (n: number) => void,
): Promise<BrokenLink | null> {
  const agg = AGGREGATES[s.type];
  let state: unknown = agg?.initialState;
  const snapshotAt = s.version - s.state_lag;
  let atSnapshot: unknown = snapshotAt === 0 ? state : undefined;
  let prev = GENESIS_HASH;
  let hashAtSnapshot = snapshotAt === 0 ? GENESIS_HASH : undefined;
  let expected = 1;
  let lastVersion = 0;
  const link = (
    version: number | null,
    eventId: number | null,
    problem: string,
    problem_en: string,
  ): BrokenLink => ({ streamId: s.id, version, eventId, problem, problem_en });
  for (let from = 0; ;) {
    const { rows } = await pool.query<EventRow>(
      `SELECT id, version, type, data, actor, role, command, reason, at, prev_hash, hash FROM event
        WHERE stream_id = $1 AND version > $2 ORDER BY version LIMIT 1000`,
      [s.id, from],
    );
    if (!rows.length) break;
    count(rows.length);
    for (const e of rows) {
      const b = chainBreak(s.id, expected, prev, { ...e, at: e.at.toISOString() });
      if (b) return link(b.version, b.eventId, b.zh, b.en);
      if (agg) state = agg.evolve(state, { type: e.type, data: e.data });
      if (e.version === snapshotAt) {
        atSnapshot = state;
        hashAtSnapshot = e.hash;
      }
      prev = e.hash;
      expected++;
      lastVersion = e.version;
      from = e.version;
    }
  }
  if (lastVersion !== s.version)
    return link(
      lastVersion + 1,
      null,
      `流记录版本为 ${s.version}，但事件只到第 ${lastVersion} 号：有事件被删除`,
      `stream is at version ${s.version} but events end at ${lastVersion}: events were deleted`,
    );
  if (s.head_hash !== prev)
    return link(
      lastVersion,
      null,
      '流记录的链头哈希与最后一个事件不符',
      'the stream head hash does not match its last event',
    );
  const { state: stored, binding } = splitSnapshot(s.state);
  if (
    binding &&
    (binding.version !== snapshotAt ||
      binding.hash !== hashAtSnapshot ||
      snapshotDigest(s.id, binding.version, binding.hash, stored) !== binding.digest)
  )
    return link(
      snapshotAt,
      null,
      '状态快照与其绑定的事件哈希不符：快照或事件已被改动',
      'the state snapshot does not match the event hash it is bound to: the snapshot or an event was altered',
    );
  if (agg && canonicalize(atSnapshot) !== canonicalize(stored))
    return link(
      snapshotAt,
      null,
      '由事件重放得到的状态与存储的状态不符',
      'the stored state differs from the state folded from its events',
    );
  return null;
}
