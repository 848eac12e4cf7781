// `npm run worker`: a Temporal worker for shifan's entity workflows and persistence activities. Run as
// many as the load needs (same TEMPORAL_TASK_QUEUE); each connects to the same PostgreSQL (DATABASE_URL,
// or the embedded one under DATA_DIR when it runs on this machine).
import { NativeConnection, Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createActivities } from '../../activities';
import { loadConfig } from '../config';
import { openDatabase } from '../database';
import { activitiesWithFailpoint } from '../failpoints';

async function main() {
  const cfg = loadConfig();
  if (!cfg.TEMPORAL_ADDRESS) {
    console.error(
      'TEMPORAL_ADDRESS 未设置：worker 需要一个 Temporal 集群（例如开发机上的 `temporal server start-dev`，地址 localhost:7233）/ TEMPORAL_ADDRESS is not set',
    );
    process.exit(2);
  }
  const db = await openDatabase(cfg, (m) => console.log(`[worker] ${m}`), { kind: 'cli' });
  const pool = new Pool({ connectionString: db.url, max: cfg.PG_POOL_SIZE });
  const connection = await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue: cfg.TEMPORAL_TASK_QUEUE,
    workflowsPath: require.resolve('../../workflows/temporal'),
    activities: activitiesWithFailpoint(createActivities({ pool }), cfg.SHIFAN_FAILPOINT),
    ...(cfg.TEMPORAL_MAX_CACHED_WORKFLOWS === undefined
      ? {}
      : { maxCachedWorkflows: cfg.TEMPORAL_MAX_CACHED_WORKFLOWS }),
  });
  console.log(
    `[worker] polling ${cfg.TEMPORAL_TASK_QUEUE} on ${cfg.TEMPORAL_ADDRESS} (namespace ${cfg.TEMPORAL_NAMESPACE})`,
  );
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => worker.shutdown());
  await worker.run();
  await connection.close();
  await pool.end();
  await db.close();
}

main().catch((e) => {
  console.error('[worker] failed:', e instanceof Error ? e.message : e);
  process.exit(1);
});
