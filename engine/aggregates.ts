// The aggregates the engines host: a decider from workflows/ plus its read-model projection.
import { projectProgram } from '../activities/projections/program';
import { projectSubproject } from '../activities/projections/subproject';
import type { OutboxItem, ReadModelViews, StoredEvent } from '../activities/store/event-store';
import type { CommandContext } from '../workflows/program/types';
import { programDecider, type ProgramCommand, type ProgramEvent, type ProgramState } from '../workflows/program/decider';
import { subprojectDecider, type SubprojectCommand, type SubprojectEvent } from '../workflows/subproject/decider';
import type { SubprojectState } from '../workflows/subproject/types';
import { parcelsDecider, type ParcelCommand, type ParcelEvent, type ParcelState } from '../workflows/parcels/decider';

export interface Aggregate<S, C extends { type: string }, E extends { type: string; data: unknown }> {
  streamType: string;
  streamId(key: string): string;
  initialState: S;
  decide(state: S, command: C, ctx: CommandContext): E[];
  evolve(state: S, event: E): S;
  wakeAt?(state: S): string | null;
  /** The command a due timer sends (the decider emits whatever is due at `now`). */
  tick?: C;
  /** Read-model rows for the new state; `events` are the ones just appended (with their versions). */
  project(state: S, version: number, now: string, events: StoredEvent[]): ReadModelViews;
  effects?(events: E[], state: S): OutboxItem[];
}

export const programAggregate: Aggregate<ProgramState, ProgramCommand, ProgramEvent> = {
  ...programDecider,
  streamId: (code) => `program-${code}`, // the Temporal workflow id too (design.md)
  project: (s, version, now) => (s.status === 'empty' ? {} : projectProgram(s, version, now)),
};

/** key: `<programCode>-<seq>` → stream `subproject-<programCode>-<seq>`. */
export const subprojectAggregate: Aggregate<SubprojectState, SubprojectCommand, SubprojectEvent> = {
  ...subprojectDecider,
  streamId: (key) => `subproject-${key}`,
  tick: { type: 'Tick' },
  project: (s, _v, _now, events) => (s.status === 'empty' ? {} : projectSubproject(s, events)),
};
export const subprojectKey = (code: string, seq: number) => `${code}-${seq}`;

/** key: program code → stream `parcels-<code>` (R-FUND-6 claims of one program). */
export const parcelsAggregate: Aggregate<ParcelState, ParcelCommand, ParcelEvent> = {
  ...parcelsDecider,
  streamId: (code) => `parcels-${code}`,
  project: (s, _v, _now, events) => {
    if (s.status === 'empty') return {};
    const views: ReadModelViews = {};
    for (const e of events) {
      const d = e.data as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      if (e.type === 'ParcelClaimPaid') {
        (views.ledger_entries ??= []).push({ program_code: s.programCode, seq: null, version: e.version, kind: 'parcel_subsidy', source: 'central', amount_fen: d.amount, tranche: d.id, idempotency_key: d.idempotencyKey, org: d.business, at: d.at });
      }
    }
    return views;
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const AGGREGATES: Record<string, Aggregate<any, any, any>> = { program: programAggregate, subproject: subprojectAggregate, parcels: parcelsAggregate };
