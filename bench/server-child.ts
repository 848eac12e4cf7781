// The server under test for B1, in its own process (so that the load generator does not share its
// core): the real app on the embedded engine with a ManualClock the parent moves over IPC.
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../api/app';
import { ManualClock } from '../engine/clock';
import { createRuntime } from '../engine/runtime';

const url = process.env.BENCH_DATABASE_URL!;
const clock = new ManualClock(process.env.BENCH_CLOCK ?? '2019-10-01T02:00:00.000Z');
const rt = createRuntime(url, { clock, poolSize: Number(process.env.BENCH_POOL ?? 16), notify: { font: null } });
const server = createApp({ ...rt, log: pino({ level: 'silent' }) }).listen(0, () => {
  process.send!({ type: 'ready', port: (server.address() as AddressInfo).port });
});
let cpu0 = process.cpuUsage();
process.on('message', async (m: { type: string; at?: string; id: number }) => {
  try {
    if (m.type === 'clock') { clock.set(m.at!); process.send!({ type: 'ok', id: m.id }); }
    if (m.type === 'timers') { const r = await rt.scheduler.runDue(); process.send!({ type: 'ok', id: m.id, fired: r.fired }); }
    if (m.type === 'cpu-reset') { cpu0 = process.cpuUsage(); process.send!({ type: 'ok', id: m.id }); }
    if (m.type === 'cpu') { const c = process.cpuUsage(cpu0); process.send!({ type: 'ok', id: m.id, micros: c.user + c.system }); }
    if (m.type === 'stop') { server.closeAllConnections(); server.close(); await rt.close(); process.send!({ type: 'ok', id: m.id }); process.exit(0); }
  } catch (e) { process.send!({ type: 'error', id: m.id, error: String(e) }); }
});
