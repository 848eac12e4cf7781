#!/usr/bin/env node
// Compiles the app (tsconfig.build.json) to CommonJS in dist/, incrementally (dist/.tsbuildinfo).
//   node scripts/build.cjs             postinstall, and bin/shifan when dist/ is missing
//   node scripts/build.cjs --if-stale  prestart, preworker, jest's globalSetup: nothing to do when the
//       last build is newer than every source and config file and dist/ holds one .js per source (none
//       added, deleted or moved): ≈ 0.1 s with node's own start, where tsc's no-change run takes ≈ 3–5 s
//   node scripts/build.cjs --strict    `npm run build`: exit 2 on a type error
// A type error is printed but does not stop the build unless --strict: tsc still emits every file
// (as tsx used to run them), and the type-check is `npm test` / `npm run typecheck`'s job; `npm install`
// must leave a runnable dist/. A build writes dist/.build-ok (mtime = when it started, so an edit made
// meanwhile is seen next time) and removes compiled files whose source is gone (a moved module must
// not linger in dist/ under its old name). Plain JavaScript: it runs before anything is compiled.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.build-ok');
const SOURCES = ['api', 'app', 'engine', 'workflows', 'activities', 'cli', 'generated'];
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** Source .ts files (relative, without the extension) and the newest mtime among them and the configs. */
function sources() {
  const names = new Set();
  let newest = 0;
  for (const c of CONFIGS) newest = Math.max(newest, fs.statSync(path.join(ROOT, c)).mtimeMs);
  const walk = (rel) => {
    let entries;
    try {
      entries = fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true });
    } catch {
      return; // e.g. app/ not created yet
    }
    for (const e of entries) {
      const p = path.join(rel, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        names.add(p.slice(0, -3));
        newest = Math.max(newest, fs.statSync(path.join(ROOT, p)).mtimeMs);
      }
    }
  };
  for (const s of SOURCES) walk(s);
  return { names, newest };
}

/** Compiled .js files under dist/ (relative, without the extension). */
function outputs(rel = '', into = new Set()) {
  let entries;
  try {
    entries = fs.readdirSync(path.join(DIST, rel), { withFileTypes: true });
  } catch {
    return into;
  }
  for (const e of entries) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) outputs(p, into);
    else if (e.name.endsWith('.js')) into.add(p.slice(0, -3));
  }
  return into;
}

/** Stale: no build yet, a source or config edited since, a source added (no .js) or gone (orphan .js). */
function isStale() {
  let built;
  try {
    built = fs.statSync(STAMP).mtimeMs;
  } catch {
    return true;
  }
  const { names, newest } = sources();
  if (newest > built) return true;
  const out = outputs();
  if (out.size !== names.size) return true;
  for (const n of names) if (!out.has(n)) return true;
  return false;
}

/** Deletes dist/**.js whose source .ts no longer exists, and directories left empty. */
function prune(rel = '') {
  for (const e of fs.readdirSync(path.join(DIST, rel), { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.name.startsWith('.')) continue; // .build-lock, .tsbuildinfo, .build-ok
    if (e.isDirectory()) {
      prune(p);
      if (fs.readdirSync(path.join(DIST, p)).length === 0) fs.rmdirSync(path.join(DIST, p));
    } else if (e.name.endsWith('.js') && !fs.existsSync(path.join(ROOT, `${p.slice(0, -3)}.ts`)))
      fs.rmSync(path.join(DIST, p));
  }
}

/** Returns the exit status: 0, or tsc's when it emitted nothing (or there were type errors and `strict`). */
function build({ strict = false } = {}) {
  const started = new Date();
  const t0 = Date.now();
  process.stderr.write('[build] tsc -p tsconfig.build.json → dist/ …\n');
  fs.rmSync(STAMP, { force: true });
  // tsc --incremental trusts dist/.tsbuildinfo and does not re-emit a deleted output: start afresh then.
  const out = outputs();
  if ([...sources().names].some((n) => !out.has(n)))
    fs.rmSync(path.join(DIST, '.tsbuildinfo'), { force: true });
  const r = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')],
    { cwd: ROOT, stdio: 'inherit' },
  );
  // tsc: 0 no errors; 2 errors, every file emitted; anything else: nothing (or not everything) emitted
  if (r.status !== 0 && (r.status !== 2 || strict)) {
    process.stderr.write(`[build] failed (tsc exit ${r.status ?? r.signal})\n`);
    return r.status || 1;
  }
  prune();
  fs.writeFileSync(STAMP, '');
  fs.utimesSync(STAMP, started, started);
  const took = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  process.stderr.write(
    r.status === 2
      ? `[build] dist/ emitted in ${took} WITH the type errors above (\`npm run typecheck\`)\n`
      : `[build] done in ${took}\n`,
  );
  return 0;
}

/** One build at a time (two jest runs, or a test run and `npm start`): a lock directory in dist/;
 * a lock older than 5 minutes is taken to be left by a killed build. */
function locked(fn) {
  const lock = path.join(DIST, '.build-lock');
  fs.mkdirSync(DIST, { recursive: true });
  for (let waited = false; ; waited = true) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      if (!waited) process.stderr.write('[build] waiting for another build …\n');
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 5 * 60_000)
          fs.rmSync(lock, { recursive: true });
      } catch {
        /* just released */
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** The build if `ifStale` says so (checked again under the lock: another build may just have run). */
function run({ ifStale = false, strict = false } = {}) {
  if (ifStale && !isStale()) return 0;
  return locked(() => (ifStale && !isStale() ? 0 : build({ strict })));
}

if (require.main === module)
  process.exitCode = run({
    ifStale: process.argv.includes('--if-stale'),
    strict: process.argv.includes('--strict'),
  });

module.exports = { isStale, run };
