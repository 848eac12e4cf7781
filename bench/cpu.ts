// CPU time of processes from /proc (Linux): the bench counts PostgreSQL's share of each command this
// way (the postmaster and its backends), beside the server's and the load generator's own cpuUsage().
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MICROS = 10_000; // USER_HZ = 100 on Linux

function stat(pid: string): { ppid: number; micros: number; children: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // after "(comm)": state ppid … utime stime cutime cstime
    return {
      ppid: Number(f[1]),
      micros: (Number(f[11]) + Number(f[12])) * TICK_MICROS,
      children: (Number(f[13]) + Number(f[14])) * TICK_MICROS,
    };
  } catch {
    return null;
  }
}

/** User + system CPU of `root` and its direct children (PostgreSQL: postmaster and backends), µs; null off Linux. */
export function treeCpuMicros(root: number | undefined): number | null {
  if (!root || process.platform !== 'linux') return null;
  const r = stat(String(root));
  if (!r) return null;
  let total = r.micros + r.children; // children that ended count too
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const s = stat(pid);
    if (s && s.ppid === root) total += s.micros;
  }
  return total;
}
