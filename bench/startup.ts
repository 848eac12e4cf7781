// B5 start-up: what a user waits for, compiled (dist/, what `npm start` and bin/shifan run) against the
// old way (tsx compiling the TypeScript sources at run time), measured alternately in the same run.
//   (a) `shifan program list` beside a running server on an existing DATA_DIR: spawn to exit.
//   (b) the server on an existing DATA_DIR (a program imported, PostgreSQL stopped cleanly): spawn
//       with a fresh PORT to the first 200 from /healthz; then SIGTERM and wait for its exit.
//   (c) what `npm start` adds before the server: the prestart's staleness check when nothing changed,
//       against a no-change incremental `tsc -p tsconfig.build.json`.
// Part of `npm run bench` (B5); alone: `node --import tsx bench/startup.ts [--quick]` prints JSON.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/free-port';

const ROOT = path.resolve(__dirname, '..');
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const r0 = (x: number) => Math.round(x);
const stats = (xs: number[]) => ({
  runs: xs.length,
  p50ms: r0(pct(xs, 50)),
  maxms: r0(Math.max(...xs)),
  minms: r0(Math.min(...xs)),
});

/** The two ways to run each entry point. */
const WAYS = {
  compiled: {
    cli: [path.join(ROOT, 'bin', 'shifan')],
    server: [path.join('dist', 'api', 'main.js')],
  },
  tsx: {
    cli: ['--import', 'tsx', path.join('cli', 'main.ts')],
    server: ['--import', 'tsx', path.join('api', 'main.ts')],
  },
} as const;
type Way = keyof typeof WAYS;

/** Alternate which way goes first, so that neither always runs on a warmer (or busier) machine. */
const order = (i: number): Way[] => (i % 2 ? ['tsx', 'compiled'] : ['compiled', 'tsx']);

/** What a child writes to stdout and stderr so far. */
function output(p: ChildProcess): () => string {
  let out = '';
  p.stdout?.on('data', (d) => (out += d));
  p.stderr?.on('data', (d) => (out += d));
  return () => out;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; out: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = output(p);
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve({ ms: performance.now() - t0, out: out() })
        : reject(new Error(`${args.join(' ')} exited ${code}: ${out()}`)),
    );
  });
}

/** Spawns the server; resolves at its first 200 from /healthz (polled every 10 ms). */
async function startServer(
  way: Way,
  env: NodeJS.ProcessEnv,
): Promise<{ proc: ChildProcess; ms: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = spawn(process.execPath, [...WAYS[way].server], {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = output(proc);
  let exited = false;
  proc.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`server (${way}) exited before answering: ${out()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200) return { proc, ms: performance.now() - t0 };
    } catch {
      /* not listening yet */
    }
    if (performance.now() - t0 > 60_000) {
      proc.kill('SIGKILL');
      throw new Error(`server (${way}) did not answer within 60 s: ${out()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** SIGTERM and wait: the server stops its embedded PostgreSQL cleanly before it exits. */
const stopServer = (proc: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });

export interface StartupResult {
  cli: Record<Way, ReturnType<typeof stats>> & { tsxOverCompiled: number };
  server: Record<Way, ReturnType<typeof stats>> & { tsxOverCompiled: number };
  prestart: { ifStaleMs: number; tscIncrementalMs: number };
  goals: { cliP50ms: 1500; serverP50ms: 3000; cliMet: boolean; serverMet: boolean };
}

export async function startup(opts: { cliRuns: number; serverRuns: number; tscRuns: number }) {
  // the compiled side must be today's sources
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.cjs'), '--if-stale'], {
    stdio: 'inherit',
  });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'shifan-bench-startup-'));
  chmodSync(dataDir, 0o755); // the postgres OS user must reach DATA_DIR/pg when running as root
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  let server: ChildProcess | undefined; // running now: the finally stops it if the bench fails
  const start = async (way: Way) => {
    const s = await startServer(way, env);
    server = s.proc;
    return s.ms;
  };
  const stop = async () => {
    if (server) await stopServer(server);
    server = undefined;
  };
  try {
    // existing data: the cluster initialised, migrated, a user and a program in it, stopped cleanly
    await start('compiled');
    await run(
      [
        ...WAYS.compiled.cli,
        ...['user', 'add', '--username', 'office1', '--password', 'bench-pass-1'],
        ...['--role', 'office'],
      ],
      env,
    );
    await run(
      [
        ...WAYS.compiled.cli,
        'program',
        'import',
        path.join(ROOT, 'examples', 'tengzhou-2019.json'),
      ],
      env,
    );
    await stop();

    log(
      `B5 (b): server start on existing data to the first 200 from /healthz, ${opts.serverRuns}× each way`,
    );
    const starts: Record<Way, number[]> = { compiled: [], tsx: [] };
    for (let i = 0; i < opts.serverRuns; i++)
      for (const way of order(i)) {
        starts[way].push(await start(way));
        await stop();
      }

    log(`B5 (a): \`shifan program list\` beside the running server, ${opts.cliRuns}× each way`);
    await start('compiled');
    const lists: Record<Way, number[]> = { compiled: [], tsx: [] };
    for (let i = 0; i < opts.cliRuns; i++)
      for (const way of order(i)) {
        const r = await run([...WAYS[way].cli, 'program', 'list'], env);
        if (!r.out.includes('tengzhou-2019')) throw new Error(`program list (${way}): ${r.out}`);
        lists[way].push(r.ms);
      }
    await stop();

    log('B5 (c): the prestart check with nothing changed, against a no-change incremental tsc');
    const ifStale: number[] = [];
    for (let i = 0; i < 5; i++)
      ifStale.push((await run([path.join('scripts', 'build.cjs'), '--if-stale'], env)).ms);
    const tsc: number[] = [];
    for (let i = 0; i < opts.tscRuns; i++)
      tsc.push(
        (
          await run(
            [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')],
            env,
          )
        ).ms,
      );

    const cli = { compiled: stats(lists.compiled), tsx: stats(lists.tsx) };
    const srv = { compiled: stats(starts.compiled), tsx: stats(starts.tsx) };
    const result: StartupResult = {
      cli: { ...cli, tsxOverCompiled: Number((cli.tsx.p50ms / cli.compiled.p50ms).toFixed(2)) },
      server: { ...srv, tsxOverCompiled: Number((srv.tsx.p50ms / srv.compiled.p50ms).toFixed(2)) },
      prestart: { ifStaleMs: r0(pct(ifStale, 50)), tscIncrementalMs: r0(pct(tsc, 50)) },
      goals: {
        cliP50ms: 1500,
        serverP50ms: 3000,
        cliMet: cli.compiled.p50ms <= 1500,
        serverMet: srv.compiled.p50ms <= 3000,
      },
    };
    return result;
  } finally {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  startup(
    quick ? { cliRuns: 3, serverRuns: 2, tscRuns: 1 } : { cliRuns: 10, serverRuns: 5, tscRuns: 3 },
  ).then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
