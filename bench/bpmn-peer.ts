// B2's peer: the same approval path as a BPMN 2.0 process run by bpmn-engine, its state saved to
// PostgreSQL after every step, as a user of that engine must do to survive a restart.
import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { Engine } from 'bpmn-engine';

export const STEPS = [
  'tender',
  'bid1',
  'bid2',
  'bid3',
  'opening',
  'scores',
  'candidate',
  'award',
  'contract',
  'submit',
  'preEvaluate',
  'accept',
  'publicityEnd',
  'release',
];

const xml = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="approval" targetNamespace="http://shifan.local/bpmn">
  <process id="subproject" isExecutable="true">
    <startEvent id="start" />
    ${STEPS.map((s, i) => `<sequenceFlow id="f${i}" sourceRef="${i === 0 ? 'start' : STEPS[i - 1]}" targetRef="${s}" />\n    <userTask id="${s}" />`).join('\n    ')}
    <sequenceFlow id="fend" sourceRef="${STEPS[STEPS.length - 1]}" targetRef="end" />
    <endEvent id="end" />
  </process>
</definitions>`;

/** Runs one instance through every step; returns the number of transitions (signalled tasks). */
export async function runPeerInstance(pool: Pool, id: string): Promise<number> {
  const engine = new Engine({ name: id, source: xml });
  const listener = new EventEmitter();
  const waits: any[] = [];
  let wake: (() => void) | null = null;
  listener.on('wait', (api) => {
    waits.push(api);
    wake?.();
  });
  const done = new Promise<void>((r) => engine.once('end', () => r()));
  const execution = await engine.execute({ listener });
  let n = 0;
  for (;;) {
    if (!waits.length) {
      const ended = await Promise.race([
        done.then(() => true),
        new Promise<boolean>((r) => {
          wake = () => r(false);
        }),
      ]);
      wake = null;
      if (ended && !waits.length) break;
    }
    const api = waits.shift();
    const state = execution.getState();
    await pool.query(
      'INSERT INTO bench_bpmn_state (id, step, state) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET step = EXCLUDED.step, state = EXCLUDED.state',
      [id, api.id, JSON.stringify(state)],
    );
    execution.signal({ id: api.id });
    n++;
  }
  return n;
}
