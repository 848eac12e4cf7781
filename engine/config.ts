// Environment → typed config (zod 4). The only place that reads process.env for the app.
import path from 'node:path';
import { z } from 'zod';

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // the address to listen on: unset → every interface; 127.0.0.1 (or ::1) → this machine only (behind a proxy)
  HOST: z
    .string()
    .regex(/^[0-9A-Za-z.:\-[\]]+$/, 'HOST must be an address or host name, e.g. 127.0.0.1')
    .optional(),
  // HTTP timeouts (ms): the whole request, body included (a 20 MB upload must fit); the request line and
  // headers (a slow client holding a connection open); an idle keep-alive connection
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(120_000),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(500).max(600_000).default(10_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  DATABASE_URL: z.url().optional(), // set → use that PostgreSQL; unset → embedded PostgreSQL under DATA_DIR
  DATA_DIR: z.string().default('.data'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  PG_LOG: z.stringbool().default(false), // print embedded PostgreSQL's own log lines
  COOKIE_SECURE: z.stringbool().default(false), // the console's cookies only over HTTPS (behind a TLS proxy)
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PG_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  STREAM_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000), // streams whose state the engine keeps in memory; 0 = none
  // Fault injection for crash tests only: the named point kills the process (SIGKILL) when reached.
  SHIFAN_FAILPOINT: z
    .enum(['after-disbursement-commit', 'worker-after-release-persist'])
    .optional(),
  // Temporal cluster (set TEMPORAL_ADDRESS to use it instead of the embedded engine)
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('shifan'),
  // entity workflows a worker keeps in memory between their tasks (unset: the SDK's default, sized from the
  // worker's memory); 0 = none, each task replays its workflow's history (less memory, more CPU)
  TEMPORAL_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(1_000_000).optional(),
  // Mail: SMTP_URL set → nodemailer over SMTP (smtp://user:pass@host:587); unset → .eml files in DATA_DIR/mail
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'SMTP_URL must start with smtp:// or smtps://')
    .optional(),
  PUBLIC_URL: z.url().optional(), // how users reach this server (links in mails); default http://localhost:PORT
  MAIL_FROM: z.string().default('shifan 示范 <noreply@shifan.local>'),
  // the ocid prefix of the open contracting data (OCDS), as registered for the publisher
  OCDS_OCID_PREFIX: z
    .string()
    .regex(/^ocds-[0-9a-z]{6}$/, 'OCDS_OCID_PREFIX must be ocds- and 6 letters or digits')
    .default('ocds-shifan'),
  PDF_FONT: z.string().optional(), // a CJK font file (.ttc#FaceName); default: Debian's Noto CJK / WenQuanYi
  REMINDER_DAYS: z.coerce.number().int().min(0).max(60).default(3), // remind this many days before a deadline; 0 = never
  NOTIFY_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(2000),
  TIMER_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(1000), // how often due deadlines are looked for
});
export type Config = z.infer<typeof Env> & { dataDir: string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const r = Env.safeParse(env);
  if (!r.success) {
    throw new Error(
      `配置错误 / invalid configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  if (r.data.HTTP_HEADERS_TIMEOUT_MS > r.data.HTTP_REQUEST_TIMEOUT_MS)
    throw new Error(
      `配置错误 / invalid configuration: HTTP_HEADERS_TIMEOUT_MS (${r.data.HTTP_HEADERS_TIMEOUT_MS}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${r.data.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  return { ...r.data, dataDir: path.resolve(r.data.DATA_DIR) };
}
