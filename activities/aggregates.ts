// The aggregates the engines host: a decider from workflows/ plus its read-model projection.
import { projectProgram } from './projections/program';
import { projectSubproject } from './projections/subproject';
import { earliest, programDeadlines, subprojectDeadlines } from './projections/deadlines';
import { parcelTasks, programTasks, subprojectTasks } from '../workflows/tasks';
import { programEffects, subprojectEffects } from './notify/effects';
import type { OpenTask } from '../workflows/tasks';
import type { NewEvent, OutboxItem, ReadModelViews, StoredEvent } from './store/event-store';
import {
  mailDef,
  noticeDef,
  parcelsDef,
  programDef,
  subprojectDef,
  subprojectKey,
  userDef,
  type Decider,
} from '../workflows/aggregates';
import type { ProgramCommand, ProgramEvent, ProgramState } from '../workflows/program/decider';
import type { SubprojectCommand, SubprojectEvent } from '../workflows/subproject/decider';
import type { SubprojectState } from '../workflows/subproject/types';
import type { ParcelCommand, ParcelEvent, ParcelState } from '../workflows/parcels/decider';
import type { UserCommand, UserEvent, UserState } from '../workflows/office/user';
import type { NoticeActState, NoticeCommand, NoticeEvent } from '../workflows/office/notice';
import type { MailActState, MailCommand, MailEvent } from '../workflows/office/mail';

export interface Aggregate<S, C extends { type: string }, E extends NewEvent> extends Decider<
  S,
  C,
  E
> {
  /** Read-model rows for the new state; `events` are the ones just appended (with their versions). */
  project(state: S, version: number, now: string, events: StoredEvent<E>[]): ReadModelViews;
  /** The earliest open deadline of the state ('infinity' if none), stored as stream.next_due for the reminders and the overdue list. */
  nextDue?(state: S): string;
  /** Notices and mails the new events cause, written to the outbox in the same transaction. */
  effects?(state: S, events: StoredEvent<E>[]): OutboxItem[];
  /** The state's open human tasks (待办, table `task`), all of them: written with every append. */
  tasks?(state: S): OpenTask[];
}

export const programAggregate: Aggregate<ProgramState, ProgramCommand, ProgramEvent> = {
  ...programDef,
  project: (s, version, now, events) =>
    s.status === 'empty'
      ? {}
      : projectProgram(
          s,
          version,
          now,
          events.some((e) => e.type === 'ProgramCreated'),
        ),
  tasks: (s) => (s.status === 'empty' ? [] : programTasks(s)),
  effects: (s, events) => (s.status === 'empty' ? [] : programEffects(events, s)),
  nextDue: (s) => (s.status === 'active' ? earliest(programDeadlines('', s)) : 'infinity'),
};

/** key: `<programCode>-<seq>` → stream `subproject-<programCode>-<seq>`. */
export const subprojectAggregate: Aggregate<SubprojectState, SubprojectCommand, SubprojectEvent> = {
  ...subprojectDef,
  project: (s, _v, _now, events) => (s.status === 'empty' ? {} : projectSubproject(s, events)),
  tasks: (s) => (s.status === 'empty' ? [] : subprojectTasks(s)),
  effects: (s, events) => (s.status === 'empty' ? [] : subprojectEffects(events, s)),
  nextDue: (s) => (s.status === 'active' ? earliest(subprojectDeadlines('', s)) : 'infinity'),
};
export { subprojectKey };

/** key: program code → stream `parcels-<code>` (R-FUND-6 claims of one program). */
export const parcelsAggregate: Aggregate<ParcelState, ParcelCommand, ParcelEvent> = {
  ...parcelsDef,
  project: (s, _v, _now, events) => {
    if (s.status === 'empty') return {};
    const views: ReadModelViews = {};
    for (const e of events) {
      switch (e.type) {
        case 'ParcelClaimPaid':
          (views.ledger_entries ??= []).push({
            program_code: s.programCode,
            seq: null,
            version: e.version,
            kind: 'parcel_subsidy',
            source: 'central',
            amount_fen: e.data.amount,
            tranche: e.data.id,
            idempotency_key: e.data.idempotencyKey,
            org: e.data.business,
            at: e.data.at,
          });
          break;
        case 'ParcelSchemeOpened':
        case 'ParcelClaimSubmitted':
        case 'ParcelClaimReviewed':
          break; // no ledger entry: nothing is paid
        default: {
          const _unhandled: never = e; // the compiler checks that every parcels event is listed above
        }
      }
    }
    return views;
  },
  tasks: (s) => (s.status === 'empty' ? [] : parcelTasks(s)),
};

// The office's own acts (workflows/office/). What each changes (app_user, official_notice, mail_message)
// is written by its use case (app/admin.ts) in the transaction of the append, so they project no read
// models here; they have no deadlines either.
export const userAggregate: Aggregate<UserState, UserCommand, UserEvent> = {
  ...userDef,
  project: () => ({}),
  nextDue: () => 'infinity',
};
export const noticeAggregate: Aggregate<NoticeActState, NoticeCommand, NoticeEvent> = {
  ...noticeDef,
  project: () => ({}),
  nextDue: () => 'infinity',
};
export const mailAggregate: Aggregate<MailActState, MailCommand, MailEvent> = {
  ...mailDef,
  project: () => ({}),
  nextDue: () => 'infinity',
};

/** An aggregate with its types erased, as the registry below holds it for callers that have only a stream's
 * type (the Temporal activity, the timer scheduler, audit verify). Every `Aggregate<S, C, E>` is assignable
 * to it because TypeScript checks method parameters bivariantly; that is the one place the types are
 * widened, and it is sound in use: the stream row's type picks the aggregate, and that stream's state and
 * events were written by that aggregate alone. */
export type AnyAggregate = Aggregate<unknown, { type: string }, NewEvent>;

export const AGGREGATES: Record<string, AnyAggregate> = {
  program: programAggregate,
  subproject: subprojectAggregate,
  parcels: parcelsAggregate,
  user: userAggregate,
  notice: noticeAggregate,
  mail: mailAggregate,
};
