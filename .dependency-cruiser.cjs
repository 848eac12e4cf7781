// The architecture's dependency rules (design.md), held by a tool rather than by memory:
// api/, cli/ → app/ (use cases and queries) → engine/ → activities/ → prisma; everything may use
// workflows/, which is deterministic and imports nothing with I/O. The routes, the CLI and the pages
// reach the database, the read models and the engine only through a use case.
// `npm test` runs this (test/unit/architecture.test.ts).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'workflows-are-pure',
      severity: 'error',
      comment: 'workflows/ is deterministic code (bundled for Temporal): no project I/O layers',
      from: { path: '^workflows/' },
      to: {
        path: '^(app|activities|engine|api|cli|templates|prisma|generated)/',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'workflows-no-node-io',
      severity: 'error',
      comment:
        'workflows/ may not use Node built-ins (fs, net, crypto, timers …): time and randomness come in as arguments',
      from: { path: '^workflows/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'workflows-no-io-packages',
      severity: 'error',
      comment: 'workflows/ may use pure libraries (zod) and @temporalio/workflow only',
      from: { path: '^workflows/' },
      to: { dependencyTypes: ['npm'], pathNot: '^node_modules/(zod|@temporalio/workflow)/' },
    },
    {
      name: 'edges-only-through-use-cases',
      severity: 'error',
      comment:
        'api/ and cli/ translate input to a use case (app/) and back: no activities/, no Prisma, no pg, not even their types',
      from: { path: '^(api|cli)/' },
      to: {
        path: [
          '^activities/',
          '^node_modules/(@prisma/client|pg|@types/pg|@prisma/adapter-pg)/',
          '^generated/',
        ],
      },
    },
    {
      name: 'app-below-edges',
      severity: 'error',
      comment: 'the use cases know nothing of HTTP, the CLI or the pages',
      from: { path: '^app/' },
      to: { path: '^(api|cli)/' },
    },
    {
      name: 'engine-below-app',
      severity: 'error',
      from: { path: '^(engine|activities)/' },
      to: { path: '^app/' },
    },
    {
      name: 'activities-below-engine',
      severity: 'error',
      from: { path: '^activities/' },
      to: { path: '^(engine|api|cli)/' },
    },
    {
      name: 'engine-below-api',
      severity: 'error',
      from: { path: '^engine/' },
      to: { path: '^(api|cli)/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: '^(node_modules|generated)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
