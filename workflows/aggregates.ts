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

export interface Decider<S, C extends { type: string }, E extends { type: string; data: unknown }> {
  streamType: StreamType;
  /** stream id = Temporal workflow id (design.md): program-<code>, subproject-<code>-<seq>, parcels-<code> */
  streamId(key: string): string;
  initialState: S;
  decide(state: S, command: C, ctx: CommandContext): E[];
  evolve(state: S, event: E): S;
  wakeAt?(state: S): string | null;
  /** The command a due timer sends (the decider emits whatever is due at `now`). */
  tick?: C;
}
export type StreamType = 'program' | 'subproject' | 'parcels';

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const DECIDERS: Record<StreamType, Decider<any, any, any>> = {
  program: programDef,
  subproject: subprojectDef,
  parcels: parcelsDef,
};
export const subprojectKey = (code: string, seq: number) => `${code}-${seq}`;
