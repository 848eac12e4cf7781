// The deciders by stream type, with how their stream ids are formed and the command a due timer sends.
// Pure: shared by the embedded engine (through activities/aggregates.ts) and the Temporal workflows.
import type { CommandContext } from './program/types';
import {
  programDecider,
  type ProgramCommand,
  type ProgramEvent,
  type ProgramState,
} from './program/decider';
import {
  subprojectDecider,
  type SubprojectCommand,
  type SubprojectEvent,
} from './subproject/decider';
import type { SubprojectState } from './subproject/types';
import {
  parcelsDecider,
  type ParcelCommand,
  type ParcelEvent,
  type ParcelState,
} from './parcels/decider';
import { userDecider, type UserCommand, type UserEvent, type UserState } from './office/user';
import {
  noticeDecider,
  type NoticeActState,
  type NoticeCommand,
  type NoticeEvent,
} from './office/notice';
import { mailDecider, type MailActState, type MailCommand, type MailEvent } from './office/mail';

export interface Decider<S, C extends { type: string }, E extends { type: string; data: unknown }> {
  streamType: StreamType;
  /** stream id = Temporal workflow id (design.md): program-<code>, subproject-<code>-<seq>, parcels-<code> */
  streamId(this: void, key: string): string;
  initialState: S;
  decide(this: void, state: S, command: C, ctx: CommandContext): E[];
  evolve(this: void, state: S, event: E): S;
  wakeAt?(this: void, state: S): string | null;
  /** The command a due timer sends (the decider emits whatever is due at `now`). */
  tick?: C;
}
/** program, subproject and parcels are the processes; user, notice and mail record the office's own acts
 * (workflows/office/), written by app/admin.ts outside either engine. */
export type StreamType = 'program' | 'subproject' | 'parcels' | 'user' | 'notice' | 'mail';

export const programDef: Decider<ProgramState, ProgramCommand, ProgramEvent> = {
  ...programDecider,
  streamType: 'program',
  streamId: (code) => `program-${code}`,
};
export const subprojectDef: Decider<SubprojectState, SubprojectCommand, SubprojectEvent> = {
  ...subprojectDecider,
  streamType: 'subproject',
  streamId: (key) => `subproject-${key}`,
  tick: { type: 'Tick' },
};
export const parcelsDef: Decider<ParcelState, ParcelCommand, ParcelEvent> = {
  ...parcelsDecider,
  streamType: 'parcels',
  streamId: (code) => `parcels-${code}`,
};
/** key: username → stream `user-<username>` */
export const userDef: Decider<UserState, UserCommand, UserEvent> = {
  ...userDecider,
  streamType: 'user',
  streamId: (username) => `user-${username}`,
};
/** key: the official notice's id → stream `notice-<id>` (the acts on that notice: its corrections) */
export const noticeDef: Decider<NoticeActState, NoticeCommand, NoticeEvent> = {
  ...noticeDecider,
  streamType: 'notice',
  streamId: (id) => `notice-${id}`,
};
/** key: the mail_message id → stream `mail-<id>` */
export const mailDef: Decider<MailActState, MailCommand, MailEvent> = {
  ...mailDecider,
  streamType: 'mail',
  streamId: (id) => `mail-${id}`,
};

/** A decider with its types erased, as the registry below holds it for the entity workflow, which has only
 * a stream's type. Every `Decider<S, C, E>` is assignable to it because TypeScript checks method parameters
 * bivariantly; that is the one place the types are widened, and it is sound in use: the stream's type picks
 * the decider, that stream's state and events were written by that decider alone, and its commands come
 * from the engines' typed `execute` of the same aggregate. */
export type AnyDecider = Decider<unknown, { type: string }, { type: string; data: unknown }>;

export const DECIDERS: Record<StreamType, AnyDecider> = {
  program: programDef,
  subproject: subprojectDef,
  parcels: parcelsDef,
  user: userDef,
  notice: noticeDef,
  mail: mailDef,
};
export const subprojectKey = (code: string, seq: number) => `${code}-${seq}`;
