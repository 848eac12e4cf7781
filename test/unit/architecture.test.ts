// design.md's dependency rules, checked by dependency-cruiser (.dependency-cruiser.cjs).
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);
const depcruise = (...dirs: string[]) =>
  run(
    process.execPath,
    [
      path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
      '--config',
      '.dependency-cruiser.cjs',
      ...dirs,
    ],
    { cwd: ROOT },
  ).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      out: e.stdout + e.stderr,
    }),
  );

test('the layers depend on each other only as design.md allows', async () => {
  const r = await depcruise('workflows', 'activities', 'engine', 'app', 'api', 'cli');
  expect(r.out).toContain('no dependency violations found');
  expect(r.code).toBe(0);
});

test('the check really bites: a clock or fs read inside workflows/ is reported', async () => {
  const probe = path.join(ROOT, 'workflows', '__arch_probe__.ts');
  writeFileSync(
    probe,
    "import { readFileSync } from 'node:fs';\nimport { createRuntime } from '../engine/runtime';\nexport const x = [readFileSync, createRuntime];\n",
  );
  try {
    const r = await depcruise('workflows');
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('workflows-no-node-io');
    expect(r.out).toContain('workflows-are-pure');
  } finally {
    rmSync(probe, { force: true });
  }
});

test('api/ and cli/ reach the database only through a use case: activities/, pg and Prisma are refused, types included', async () => {
  const probe = path.join(ROOT, 'api', '__arch_probe__.ts');
  writeFileSync(
    probe,
    "import type { Pool } from 'pg';\nimport type { PrismaClient } from '../activities/store/prisma';\nimport { programRemaining } from '../activities/funds';\nexport const x = programRemaining;\nexport type Y = [Pool, PrismaClient];\n",
  );
  try {
    const r = await depcruise('api');
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('edges-only-through-use-cases');
    expect(r.out).toContain('api/__arch_probe__.ts → activities/funds.ts');
    expect(r.out).toMatch(/api\/__arch_probe__\.ts → node_modules\/(@types\/)?pg\//);
  } finally {
    rmSync(probe, { force: true });
  }
});

test('workflows/ reads no clock and no randomness (time comes in as an argument)', () => {
  const { readdirSync, readFileSync } = jest.requireActual<typeof import('node:fs')>('node:fs');
  const files = (readdirSync(path.join(ROOT, 'workflows'), { recursive: true }) as string[]).filter(
    (f) => f.endsWith('.ts'),
  );
  expect(files.length).toBeGreaterThan(3);
  const offenders = files.flatMap((f) => {
    let src = readFileSync(path.join(ROOT, 'workflows', f), 'utf8');
    // the one exception: the Temporal entity reads the sandbox's deterministic clock in one named helper
    if (f === path.join('temporal', 'entity.ts'))
      src = src.replace('const workflowNow = (): number => Date.now();', '');
    return [
      /Date\.now\(/,
      /new Date\(\s*\)/,
      /Math\.random\(/,
      /performance\.now\(/,
      /process\.env/,
      /setTimeout\(/,
    ]
      .filter((re) => re.test(src))
      .map((re) => `${f}: ${re.source}`);
  });
  expect(offenders).toEqual([]);
});
