// Entity workflow hosting a decider (one per aggregate: program-<code>, subproject-<code>-<seq>,
// parcels-<code>). Commands arrive as the Update `execute`, whose validator runs `decide` (a refused
// command never enters history); `notify` is a Signal for commands that need no answer; the Query
// `getState` returns the state. Deadlines are `condition(…, timeout)` from the decider's wakeAt; the
// events go to PostgreSQL through the idempotent `persistEvents` activity. Deterministic code only:
// it imports @temporalio/workflow and workflows/ alone.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, PersistInput } from '../../activities';
import { DECIDERS, type StreamType } from '../aggregates';
import { DomainError } from '../errors';
import type { Actor } from '../program/types';

// An attempt takes milliseconds; one whose worker died is retried after the timeout (on another worker),
// and a retry after a slow attempt that did land finds its events written (idempotent by stream, version).
const { persistEvents } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: ['StreamDiverged', 'StreamVersionMismatch', 'UnknownStreamType'],
  },
});

export interface EntityInput {
  streamType: StreamType;
  streamId: string;
  state?: unknown;
  version?: number;
  /** continue-as-new after this many events in one run (history stays short) */
  maxEventsPerRun?: number;
  /** The program's clock minus Temporal's, in ms: absent (0) in production. A test replays a journey
   *  dated 2019 on the time-skipping server (whose clock starts at the wall clock) by shifting every
   *  `now` the deciders see; timers stay relative, so they fire after the same durations. */
  clockOffsetMs?: number;
}
export interface CommandEnvelope {
  command: { type: string };
  actor: Actor;
  reason?: string | null;
  extraViews?: PersistInput['extraViews'];
}
export interface CommandOutcome {
  version: number;
  events: { type: string; data: unknown }[];
}

export const execute = defineUpdate<CommandOutcome, [CommandEnvelope]>('execute');
export const notify = defineSignal<[CommandEnvelope]>('notify');
export const getState = defineQuery<{ state: unknown; version: number }>('getState');

/** The only clock read in workflows/: inside the Temporal sandbox the Date clock is the time of the current
 *  workflow task, recorded in history, so replays see the same value (deciders still get it as ctx.now). */
const workflowNow = (): number => Date.now();

export const SYSTEM: Actor = { username: 'system', role: 'system', org: null };

/** A refusal becomes a non-retryable ApplicationFailure (type = rule id): it rejects the update instead
 *  of failing the workflow task (which would leave the workflow stuck). */
export function toFailure(e: unknown): unknown {
  if (e instanceof DomainError) {
    return ApplicationFailure.create({
      type: e.code,
      message: e.message,
      nonRetryable: true,
      details: [{ kind: e.kind, messageEn: e.messageEn, violations: e.violations }],
    });
  }
  return e;
}

/** `order` exists only so tests can build "changed code" variants; production uses the default. */
export type Order = 'persist-then-reply' | 'reply-then-persist';

export async function runEntity(
  input: EntityInput,
  order: Order = 'persist-then-reply',
): Promise<unknown> {
  const decider = DECIDERS[input.streamType];
  let state: unknown = input.state ?? decider.initialState;
  let version = input.version ?? 0;
  let eventsThisRun = 0;
  // the program's clock: the workflow's, shifted by the input's offset (the same on replay)
  const offset = input.clockOffsetMs ?? 0;
  const programNow = (): number => workflowNow() + offset;
  const maxEvents = input.maxEventsPerRun ?? 1000;
  const later: Array<() => Promise<unknown>> = []; // work for the main loop (signals, deadlines)
  let busy = false;

  const now = () => new Date(programNow()).toISOString();
  const decide = (env: CommandEnvelope) => {
    try {
      return decider.decide(state, env.command, {
        now: now(),
        actor: env.actor,
        reason: env.reason ?? undefined,
      });
    } catch (e) {
      throw toFailure(e);
    }
  };

  async function apply(env: CommandEnvelope): Promise<CommandOutcome> {
    await condition(() => !busy); // one command at a time: persistEvents calls stay in version order
    busy = true;
    try {
      const events = decide(env);
      if (!events.length) return { version, events };
      const fromVersion = version;
      const at = now();
      state = events.reduce(decider.evolve, state);
      version += events.length;
      eventsThisRun += events.length;
      const persist = () =>
        persistEvents({
          streamType: input.streamType,
          streamId: input.streamId,
          fromVersion,
          events,
          actor: env.actor.username,
          role: env.actor.role,
          command: env.command.type,
          reason: env.reason ?? null,
          at,
          ...(env.extraViews ? { extraViews: env.extraViews } : {}),
        });
      if (order === 'persist-then-reply') await persist();
      else later.push(persist);
      return { version, events };
    } finally {
      busy = false;
    }
  }

  setHandler(getState, () => ({ state, version }));
  setHandler(execute, apply, {
    validator: (env: CommandEnvelope) => {
      decide(env);
    },
  });
  setHandler(notify, (env) => {
    later.push(() => apply(env).catch(() => undefined));
  }); // refused signals change nothing

  const runFull = () => eventsThisRun >= maxEvents || workflowInfo().continueAsNewSuggested;
  for (;;) {
    const wake = decider.wakeAt?.(state) ?? null;
    const timeout = wake === null ? undefined : Math.max(1, Date.parse(wake) - programNow());
    const woke = await condition(
      () => later.length > 0 || (decider.wakeAt?.(state) ?? null) !== wake || runFull(),
      timeout as number,
    );
    if (woke === false && wake !== null && programNow() >= Date.parse(wake) && decider.tick) {
      later.push(() =>
        apply({ command: decider.tick!, actor: SYSTEM, reason: '期限届满（定时）' }),
      );
    }
    while (later.length > 0) await later.shift()!();
    if (runFull()) break;
  }
  await condition(allHandlersFinished); // let in-flight updates reply before continuing as new
  return await continueAsNew<typeof entityWorkflow>({ ...input, state, version });
}

export async function entityWorkflow(input: EntityInput): Promise<unknown> {
  return runEntity(input);
}
