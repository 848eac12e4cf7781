// The server under test for B1, in its own process (so that the load generator does not share its
// core): the real app on the embedded engine with a ManualClock the parent moves over IPC.
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../api/app';
import { ManualClock } from '../engine/clock';
import { createRuntime } from '../engine/runtime';

const url = process.env.BENCH_DATABASE_URL!;
const clock = new ManualClock(process.env.BENCH_CLOCK ?? '2019-10-01T02:00:00.000Z');
const rt = createRuntime(url, {
  clock,
  poolSize: Number(process.env.BENCH_POOL ?? 16),
  notify: { font: null },
});
const server = createApp({ ...rt, log: pino({ level: 'silent' }) }).listen(0, () => {
  process.send!({ type: 'ready', port: (server.address() as AddressInfo).port });
});
let cpu0 = process.cpuUsage();
const engineStats = () => ({
  ...rt.engine.stats,
  appendStatements: rt.engine.appender.stats.statements,
  appends: rt.engine.appender.stats.appends,
  largestBatch: rt.engine.appender.stats.largest,
});
let stats0 = engineStats();
// BENCH_SERVER_PROF=dir: a CPU profile of the timed batches only (started at cpu-reset, stopped at cpu)
const prof = process.env.BENCH_SERVER_PROF ? new Session() : null;
let profiling: Promise<unknown> | null = null;
const profiles: unknown[] = [];
if (prof) {
  prof.connect();
  profiling = prof.post('Profiler.enable');
}
async function onMessage(m: { type: string; at?: string; id: number }) {
  try {
    if (m.type === 'clock') {
      clock.set(m.at!);
      process.send!({ type: 'ok', id: m.id });
    }
    if (m.type === 'timers') {
      const r = await rt.scheduler.runDue();
      process.send!({ type: 'ok', id: m.id, fired: r.fired });
    }
    if (m.type === 'cpu-reset') {
      if (prof) {
        await profiling;
        await prof.post('Profiler.start');
      }
      cpu0 = process.cpuUsage();
      stats0 = engineStats();
      process.send!({ type: 'ok', id: m.id });
    }
    if (m.type === 'cpu') {
      const c = process.cpuUsage(cpu0);
      if (prof) profiles.push((await prof.post('Profiler.stop')).profile);
      process.send!({
        type: 'ok',
        id: m.id,
        micros: c.user + c.system,
        systemMicros: c.system,
        engine: Object.fromEntries(
          Object.entries(engineStats()).map(([k, v]) => [
            k,
            k === 'largestBatch' ? v : v - stats0[k as keyof typeof stats0],
          ]),
        ),
      });
    }
    if (m.type === 'stop') {
      if (prof)
        writeFileSync(
          `${process.env.BENCH_SERVER_PROF}/server-batches.json`,
          JSON.stringify(profiles),
        );
      server.closeAllConnections();
      server.close();
      await rt.close();
      process.send!({ type: 'ok', id: m.id });
      process.exit(0);
    }
  } catch (e) {
    process.send!({ type: 'error', id: m.id, error: String(e) });
  }
}
process.on('message', (m: { type: string; at?: string; id: number }) => void onMessage(m));
