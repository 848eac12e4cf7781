// Crash tests only (SHIFAN_FAILPOINT): kill the process at a named point, never set in production.
import type { Activities } from '../activities';
import type { Engine } from './engine';

export type Failpoint = 'after-disbursement-commit' | 'worker-after-release-persist';

/** The Temporal worker's activities, with the worker's failpoint: a release's events committed by the
 *  persistence activity, the worker dies before the server hears of it (the retry must add nothing). */
export function activitiesWithFailpoint(
  activities: Activities,
  failpoint: Failpoint | undefined,
): Activities {
  if (failpoint !== 'worker-after-release-persist') return activities;
  return {
    ...activities,
    async persistEvents(input) {
      const r = await activities.persistEvents(input);
      if (input.command === 'ReleaseTranche' && r.appended) process.kill(process.pid, 'SIGKILL');
      return r;
    },
  };
}

export function installFailpoint(engine: Engine, failpoint: Failpoint | undefined): void {
  if (failpoint === 'after-disbursement-commit') {
    // a release committed, its caller not yet answered: the retry with the same key must pay nothing more
    engine.onCommitted = (command, events) => {
      if (command.type === 'ReleaseTranche' && events.length) process.kill(process.pid, 'SIGKILL');
    };
  }
}
