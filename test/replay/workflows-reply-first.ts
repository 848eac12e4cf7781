// "Changed code" for the determinism test: the same entity workflow, but it replies to an update first
// and persists its events later from the main loop. Bundled only by the replay test.
import { runEntity, type EntityInput } from '../../workflows/temporal/entity';
export { execute, getState, notify } from '../../workflows/temporal/entity';

export async function entityWorkflow(input: EntityInput): Promise<unknown> {
  return runEntity(input, 'reply-then-persist');
}
