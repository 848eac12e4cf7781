// The architecture's dependency rules (design.md), held by a tool rather than by memory:
// api → engine → workflows; engine → activities → prisma; workflows/ is deterministic and imports
// nothing with I/O. `npm test` runs this (test/unit/architecture.test.ts).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'workflows-are-pure',
      severity: 'error',
      comment: 'workflows/ is deterministic code (bundled for Temporal): no project I/O layers',
      from: { path: '^workflows/' },
      to: {
        path: '^(activities|engine|api|cli|templates|prisma|generated)/',
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
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(generated|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
