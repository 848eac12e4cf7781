// Crash tests only (SHIFAN_FAILPOINT): kill the process at a named point, never set in production.
import type { Engine } from './engine';

export type Failpoint = 'after-disbursement-commit';

export function installFailpoint(engine: Engine, failpoint: Failpoint | undefined): void {
  if (failpoint === 'after-disbursement-commit') {
    // a release committed, its caller not yet answered: the retry with the same key must pay nothing more
    engine.onCommitted = (command, events) => {
      if (command.type === 'ReleaseTranche' && events.length) process.kill(process.pid, 'SIGKILL');
    };
  }
}
