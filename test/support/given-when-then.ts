// Given/when/then over a decider, for every decider test (emmett's DeciderSpecification, without the
// framework): given the events so far, when a command is decided, then the events it decides or the
// refusal (a DomainError, whose code is the rule id).
import { DomainError } from '../../workflows/errors';
import type { CommandContext } from '../../workflows/program/types';

export interface Decider<S, C, E> {
  initialState: S;
  decide: (state: S, cmd: C, ctx: CommandContext) => E[];
  evolve: (state: S, event: E) => S;
}

/** A command, decided in the context `ctx` of the spec unless the step names its own. */
export type Step<C> = C | [C, CommandContext];

export function deciderSpec<S, C, E>(decider: Decider<S, C, E>, ctx: CommandContext) {
  const when = (state: S, cmd: C, at: CommandContext = ctx): E[] => decider.decide(state, cmd, at);
  return {
    /** The state the events leave (folded onto `from`, the initial state by default). */
    given: (events: E[], from: S = decider.initialState): S => events.reduce(decider.evolve, from),
    /** The events the command decides on `state`. */
    when,
    /** The state after each command is decided and its events applied, as the engines do. */
    run: (state: S, steps: Step<C>[]): S =>
      steps.reduce((s, step) => {
        const [cmd, at] = Array.isArray(step) ? step : [step, ctx];
        return decider.decide(s, cmd, at).reduce(decider.evolve, s);
      }, state),
    /** The refusal of the command on `state`; the test fails if the command is accepted. */
    refused: (state: S, cmd: C, at: CommandContext = ctx): DomainError =>
      refusal(() => when(state, cmd, at)),
  };
}

/** The DomainError `f` throws; any other error goes on, and no error at all fails the test. */
export function refusal(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}
