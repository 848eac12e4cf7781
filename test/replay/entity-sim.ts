// Writes the history a Temporal server would record for the entity workflow (workflows/temporal/entity.ts)
// driven by a sequence of updates and timer firings, and, beside it, what the workflow must be seen to do
// (the probe records). The decisions come from the deciders themselves; the workflow code is not used.
import { DECIDERS } from '../../workflows/aggregates';
import type { Actor } from '../../workflows/program/types';
import type { CommandEnvelope, EntityInput } from '../../workflows/temporal/entity';
import { HistoryBuilder } from '../support/history-builder';

export type Rec = [string, unknown];
const SYSTEM: Actor = { username: 'system', role: 'system', org: null };

export class EntitySim {
  readonly h: HistoryBuilder;
  readonly records: Rec[] = [];
  private state: unknown;
  private version = 0;
  private act = 0;
  private timerSeq = 0;
  private timer: { id: string; wake: string } | null = null;
  private readonly decider;

  constructor(
    readonly input: EntityInput,
    start: string,
  ) {
    this.decider = DECIDERS[input.streamType];
    this.state = input.state ?? this.decider.initialState;
    this.version = input.version ?? 0;
    this.h = new HistoryBuilder(Date.parse(start), 'shifan', 'replay-builder', input.streamId);
    this.h.started('entityWorkflow', [input]).workflowTask();
    this.rearm(); // the main loop's first wait
  }

  private iso() {
    return new Date(this.h.now).toISOString();
  }
  private wakeAt(): string | null {
    return this.decider.wakeAt?.(this.state) ?? null;
  }

  /** The main loop re-arms its deadline when the state's wakeAt differs from the timer it waits on. */
  private rearm() {
    const wake = this.wakeAt();
    if ((this.timer?.wake ?? null) === wake) return;
    if (this.timer) this.h.timerCanceled(this.timer.id);
    this.timer = null;
    if (wake !== null) {
      const ms = Math.max(1, Date.parse(wake) - this.h.now);
      this.timer = { id: String(++this.timerSeq), wake };
      this.h.timerStarted(this.timer.id, ms);
      this.records.push(['timer', ms]);
    }
  }

  private persist(env: CommandEnvelope, events: { type: string; data: unknown }[]) {
    const fromVersion = this.version;
    this.state = events.reduce(this.decider.evolve, this.state);
    this.version += events.length;
    const input = {
      streamType: this.input.streamType,
      streamId: this.input.streamId,
      fromVersion,
      events,
      actor: env.actor.username,
      role: env.actor.role,
      command: env.command.type,
      reason: env.reason ?? null,
      at: this.iso(),
    };
    const id = String(++this.act);
    this.h.activityScheduled(id, 'persistEvents', [input]);
    this.records.push([
      'activity',
      { type: 'persistEvents', args: [input], versionAtCall: this.version },
    ]);
    return {
      id,
      result: { version: this.version, appended: events.length, alreadyPersisted: false },
    };
  }

  /** One Update `execute`, accepted and answered. */
  update(updateId: string, env: CommandEnvelope) {
    this.h.workflowTask();
    const events = this.decider.decide(this.state, env.command, {
      now: this.iso(),
      actor: env.actor,
      reason: env.reason ?? undefined,
    });
    this.h.updateAccepted(updateId, 'execute', [env]);
    this.records.push(['update', { id: updateId, name: 'execute', args: [env] }]);
    if (!events.length) {
      this.h.updateCompleted(updateId, { version: this.version, events });
      this.records.push([
        'updateResult',
        { id: updateId, result: { version: this.version, events } },
      ]);
      return events;
    }
    const p = this.persist(env, events);
    this.rearm(); // the loop wakes on the state change in the same task
    this.h.activityCompleted(p.id, p.result).workflowTask();
    this.records.push(['activityDone', { type: 'persistEvents', result: p.result }]);
    this.h.updateCompleted(updateId, { version: this.version, events });
    this.records.push([
      'updateResult',
      { id: updateId, result: { version: this.version, events } },
    ]);
    return events;
  }

  /** The pending deadline fires: the loop sends the decider's tick and persists what is due. */
  fire() {
    if (!this.timer) throw new Error('no timer to fire');
    this.h.timerFired(this.timer.id).workflowTask();
    this.timer = null;
    const env: CommandEnvelope = {
      command: this.decider.tick!,
      actor: SYSTEM,
      reason: '期限届满（定时）',
    };
    const events = this.decider.decide(this.state, env.command, {
      now: this.iso(),
      actor: SYSTEM,
      reason: env.reason!,
    });
    if (!events.length) {
      this.rearm();
      return events;
    }
    const p = this.persist(env, events);
    this.h.activityCompleted(p.id, p.result).workflowTask();
    this.records.push(['activityDone', { type: 'persistEvents', result: p.result }]);
    this.rearm(); // after apply returns, the loop waits again
    return events;
  }

  get now() {
    return this.h.now;
  }
  get current() {
    return { state: this.state, version: this.version };
  }
  fixture(name: string, description: string) {
    return {
      name,
      description,
      workflowId: this.input.streamId,
      history: this.h.toJSON(),
      expected: this.records,
    };
  }
}
