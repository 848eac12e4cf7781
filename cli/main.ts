// The `shifan` command line. Works on the embedded default (same DATA_DIR) whether or not the server
// is running: it connects to a running embedded cluster, or starts and stops one itself.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import pino from 'pino';
import { ZodError } from 'zod';
import * as admin from '../app/admin';
import { verifyAuditRecord } from '../app/audit';
import { demoSummary, runDemo } from '../app/demo';
import type { AppContext } from '../app/context';
import { previewNoticePdf, previewTemplate } from '../app/notices';
import {
  budgetTemplateXlsx,
  importProgram,
  importProgramXlsx,
  programTableXlsx,
} from '../app/programs';
import { listPrograms, listUsers, programRegister } from '../app/queries';
import { taizhangWorkbook } from '../app/taizhang';
import { ocdsRecordPackage, ocdsReleasePackage } from '../app/ocds';
import { ministryReport } from '../app/ministry-report';
import { importFundedCsv, importStationsCsv, importTrainingsCsv } from '../app/register';
import { ManualClock, type Clock } from '../engine/clock';
import { loadConfig } from '../engine/config';
import { databaseUrl, openDatabase, passwordFile } from '../engine/database';
import {
  createRuntime,
  createTemporalRuntime,
  type Runtime,
  type TemporalRuntime,
} from '../engine/runtime';
import { DomainError } from '../workflows/errors';
import { formatWan } from '../workflows/money';
import { ProgramTable } from '../workflows/program/table';
import { ROLES, type Actor, type Role } from '../workflows/program/types';

const CLI_ACTOR: Actor = { username: 'cli', role: 'office', org: null };

class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The same engine as the server: Temporal when TEMPORAL_ADDRESS is set, else the embedded one.
 * `clock`: the engine's clock (the demo moves its own); the real one otherwise. */
async function withRuntime<T>(
  fn: (ctx: AppContext) => Promise<T>,
  opts: { clock?: Clock } = {},
): Promise<T> {
  const cfg = loadConfig();
  const db = await openDatabase(
    cfg,
    (m) => {
      if (process.env.SHIFAN_VERBOSE) console.error(`[db] ${m}`);
    },
    { kind: 'cli' },
  );
  let rt: Runtime | TemporalRuntime;
  try {
    rt = cfg.TEMPORAL_ADDRESS
      ? await createTemporalRuntime(
          db.url,
          {
            address: cfg.TEMPORAL_ADDRESS,
            namespace: cfg.TEMPORAL_NAMESPACE,
            taskQueue: cfg.TEMPORAL_TASK_QUEUE,
          },
          { poolSize: 4, clock: opts.clock },
        )
      : createRuntime(db.url, { poolSize: 4, clock: opts.clock });
  } catch (e) {
    await db.close();
    throw e;
  }
  try {
    return await fn({
      ...rt,
      log: pino({ level: process.env.SHIFAN_VERBOSE ? 'debug' : 'silent' }),
    });
  } finally {
    await rt.close();
    await db.close();
  }
}

function describe(e: unknown): string {
  if (e instanceof DomainError)
    return `${e.message}\n${e.messageEn}${e.violations.length > 1 ? `\n${e.violations.map((v) => `  - [${v.rule}] ${v.message}`).join('\n')}` : ''}`;
  if (e instanceof ZodError)
    return `输入有误 / invalid input:\n${e.issues.map((i) => `  - ${i.path.join('.') || '(根)'}: ${i.message}`).join('\n')}`;
  return e instanceof Error ? e.message : String(e);
}

/** A status line on the terminal for the slower commands (nothing when stderr is not a terminal). */
function progress(text: string | null): void {
  if (!process.stderr.isTTY) return;
  process.stderr.write(text === null ? '\r\x1b[K' : `\r${text}`);
}

export function buildCli(): Command {
  const program = new Command('shifan')
    .description('shifan 示范：电子商务进农村综合示范项目审批引擎')
    .showHelpAfterError();

  const user = program.command('user').description('用户管理');
  user
    .command('add')
    .description('新增用户')
    .requiredOption('--username <name>', '用户名')
    .requiredOption('--password <password>', '密码（至少8位）')
    .addOption(new Option('--role <role>', '角色').choices([...ROLES]).makeOptionMandatory())
    .option('--org <organisation>', '所属组织（承办企业用户必填）')
    .option('--name <displayName>', '显示名称')
    .option('--email <address>', '接收通知邮件的地址')
    .action(
      async (o: {
        username: string;
        password: string;
        role: Role;
        org?: string;
        name?: string;
        email?: string;
      }) => {
        const u = await withRuntime((ctx) =>
          admin.addUser(ctx, CLI_ACTOR, {
            username: o.username,
            password: o.password,
            role: o.role,
            org: o.org ?? null,
            displayName: o.name ?? null,
            email: o.email ?? null,
            reason: 'shifan user add',
          }),
        );
        console.log(
          `已创建用户 ${u.username}（${u.role}${u.org ? `，${u.org.name}` : ''}） / user created`,
        );
      },
    );
  user
    .command('password <username> <password>')
    .description('重置密码（该用户的全部会话立即失效；办公室用户忘记密码时在服务器上使用）')
    .action(async (username: string, password: string) => {
      await withRuntime((ctx) =>
        admin.changeUser(ctx, CLI_ACTOR, username, {
          act: 'reset_password',
          password,
          reason: 'shifan user password',
        }),
      );
      console.log(`已重置 ${username} 的密码 / password reset`);
    });
  const acts = {
    disable: ['停用账户', '已停用', 'disabled'],
    enable: ['恢复已停用的账户', '已恢复', 'enabled'],
    unlock: ['解除登录失败造成的锁定', '已解锁', 'unlocked'],
  } as const;
  for (const [act, [description, done, doneEn]] of Object.entries(acts) as [
    keyof typeof acts,
    (typeof acts)[keyof typeof acts],
  ][])
    user
      .command(`${act} <username>`)
      .description(description)
      .action(async (username: string) => {
        await withRuntime((ctx) =>
          admin.changeUser(ctx, CLI_ACTOR, username, { act, reason: `shifan user ${act}` }),
        );
        console.log(`${done} ${username} / ${doneEn}`);
      });
  user
    .command('list')
    .description('列出用户')
    .action(async () => {
      const users = await withRuntime(listUsers);
      for (const u of users)
        console.log(
          `${u.username}\t${u.role}\t${u.org ?? ''}\t${u.email ?? ''}${u.disabled ? '\t(停用)' : ''}${u.lockedUntil ? `\t(锁定至 ${u.lockedUntil})` : ''}`,
        );
    });

  const prog = program.command('program').description('综合示范项目');
  prog
    .command('import <file>')
    .description(
      '导入资金安排表：JSON（与 POST /api/programs 相同的格式）或 Excel 工作簿 .xlsx（版式见 shifan program template）',
    )
    .action(async (file: string) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new CliFailure(`无法读取 ${file}：${(e as Error).message}`);
      }
      const xlsx = /\.xlsx$/i.test(file) || bytes.subarray(0, 2).toString('latin1') === 'PK';
      let run: (ctx: AppContext) => ReturnType<typeof importProgram>;
      if (xlsx)
        run = (ctx) => importProgramXlsx(ctx, CLI_ACTOR, bytes, `shifan program import ${file}`);
      else {
        let raw: unknown;
        try {
          raw = JSON.parse(bytes.toString('utf8'));
        } catch (e) {
          throw new CliFailure(`无法读取 ${file}：${(e as Error).message}`);
        }
        const table = ProgramTable.parse(raw);
        run = (ctx) => importProgram(ctx, CLI_ACTOR, table, `shifan program import ${file}`);
      }
      progress(`正在导入 ${file}…`);
      const { definition: def, outcome } = await withRuntime(run);
      progress(null);
      console.log(
        `已导入 ${def.code}「${def.name}」：${def.subprojects.length} 个分项目，总投资 ${formatWan(def.totals.total)} 万元（版本 ${outcome.version}） / imported`,
      );
    });
  prog
    .command('template')
    .description('写出资金安排表 Excel 模板（shifan program import 读取的版式）')
    .option('--out <file>', '写入的文件', '资金安排表模板.xlsx')
    .action(async (o: { out: string }) => {
      writeFileSync(o.out, await budgetTemplateXlsx());
      console.log(`已写入 ${o.out} / template written`);
    });
  prog
    .command('table <code>')
    .description('导出项目的资金安排表（Excel；可再导入）')
    .option('--out <file>', '写入的文件（缺省为 <code>-资金安排表.xlsx）')
    .action(async (code: string, o: { out?: string }) => {
      const out = o.out ?? `${code}-资金安排表.xlsx`;
      writeFileSync(out, await withRuntime((ctx) => programTableXlsx(ctx, code)));
      console.log(`已写入 ${out} / written`);
    });
  prog
    .command('list')
    .description('列出项目')
    .action(async () => {
      const { items } = await withRuntime(listPrograms);
      for (const p of items)
        console.log(`${p.code}\t${p.name}\t${p.phaseName}\t${p.total.wan}万元`);
    });

  const exp = program.command('export').description('导出');
  exp
    .command('taizhang <code>')
    .description('项目台账（Excel）：分项目、里程碑、资金拨付、追回与收回、文件与通知')
    .option('--out <file>', '写入的文件（缺省为 <code>-项目台账.xlsx）')
    .action(async (code: string, o: { out?: string }) => {
      const out = o.out ?? `${code}-项目台账.xlsx`;
      progress(`正在导出 ${code} 的项目台账…`);
      writeFileSync(out, await withRuntime((ctx) => taizhangWorkbook(ctx, code)));
      progress(null);
      console.log(`已写入 ${out} / written`);
    });

  exp
    .command('ocds <code>')
    .description('开放合同数据（OCDS 1.1）：发布包（缺省）或记录包（--records），JSON')
    .option('--records', '输出记录包（含汇编发布）')
    .option('--out <file>', '写入文件而不是标准输出')
    .action(async (code: string, o: { records?: boolean; out?: string }) => {
      const cfg = loadConfig();
      const opts = {
        ocidPrefix: cfg.OCDS_OCID_PREFIX,
        baseUrl: (cfg.PUBLIC_URL ?? `http://localhost:${cfg.PORT}`).replace(/\/$/, ''),
      };
      progress(`正在导出 ${code} 的开放合同数据…`);
      const pkg = await withRuntime<object>((ctx) =>
        o.records ? ocdsRecordPackage(ctx, code, opts) : ocdsReleasePackage(ctx, code, opts),
      );
      progress(null);
      const text = `${JSON.stringify(pkg, null, 2)}\n`;
      if (o.out) {
        writeFileSync(o.out, text);
        console.log(`已写入 ${o.out} / written`);
      } else process.stdout.write(text);
    });

  program
    .command('report')
    .description('报送')
    .command('ministry <code>')
    .description('商务部农村电子商务信息系统报送表：每个分项目的进度与资金（元）')
    .option('--quarter <q>', '季度，如 2026Q3')
    .option('--month <m>', '月份，如 2026-07')
    .addOption(new Option('--format <f>', '格式').choices(['csv', 'xlsx']).default('csv'))
    .option('--out <file>', '写入的文件（缺省为 <code>-商务部报送-<报告期>.<格式>）')
    .action(
      async (
        code: string,
        o: { quarter?: string; month?: string; format: 'csv' | 'xlsx'; out?: string },
      ) => {
        const period = o.quarter ?? o.month;
        if (!period || (o.quarter && o.month))
          throw new CliFailure('请给出 --quarter 2026Q3 或 --month 2026-07（二者选一）');
        progress(`正在生成 ${code} ${period} 的报送表…`);
        const f = await withRuntime((ctx) => ministryReport(ctx, code, period, o.format));
        progress(null);
        const out = o.out ?? f.name;
        writeFileSync(out, f.bytes);
        console.log(`已写入 ${out} / written`);
      },
    );

  // R-EV-1: the register of what was built and done, and the targets it measures
  const reg = program.command('register').description('建设台账与绩效目标');
  const importer = (
    what: 'stations' | 'trainings' | 'subsidies',
    description: string,
    run: typeof importStationsCsv,
  ) =>
    reg
      .command(`${what} <code> <file>`)
      .description(description)
      .action(async (code: string, file: string) => {
        let csv: Buffer;
        try {
          csv = readFileSync(file);
        } catch (e) {
          throw new CliFailure(`无法读取 ${file}：${(e as Error).message}`);
        }
        const view = await withRuntime(async (ctx) =>
          (
            await run(
              ctx,
              CLI_ACTOR,
              { code },
              {
                csv,
                source: file,
                reason: `shifan register ${what} ${file}`,
              },
            )
          ).state(),
        );
        console.log(
          `已登记：${code} 台账现有服务站点 ${view.stations.length} 个、培训 ${view.trainings.length} 场、补助对象 ${view.funded.length} 个 / registered`,
        );
        printAttainment(view.attainment);
      });
  importer(
    'stations',
    '从 CSV 导入服务站点（首行表头：级别,名称,镇街,行政村,贫困村,运营主体,开业日期,分项目,里程碑；有错则逐行列出且不登记）',
    importStationsCsv,
  );
  importer(
    'trainings',
    '从 CSV 导入培训（首行表头：日期,地点,培训人数,培训人次,档案齐全,分项目,里程碑；有错则逐行列出且不登记）',
    importTrainingsCsv,
  );
  importer(
    'subsidies',
    '从 CSV 导入补助对象（首行表头：补助项目,补助对象,金额（万元）,日期,分项目,里程碑），按单位补助上限检查（R-FUND-5）',
    importFundedCsv,
  );
  reg
    .command('show <code>')
    .description('各绩效目标的完成情况（由台账和录入的数值计算）')
    .action(async (code: string) => {
      const view = await withRuntime((ctx) => programRegister(ctx, code));
      printAttainment(view.attainment);
    });

  program
    .command('demo')
    .description(
      '演示：导入滕州2019项目，建好各角色用户，推进到实施中期（数据库里已有该项目时不做改动）',
    )
    .action(async () => {
      const t0 = Date.now();
      const clock = new ManualClock(new Date());
      const report = await withRuntime(
        (ctx) => runDemo(ctx, { clock, end: new Date(), print: (l) => console.log(l) }),
        { clock },
      );
      for (const l of demoSummary(report, `http://localhost:${loadConfig().PORT}`)) console.log(l);
      console.log(`（用时 ${((Date.now() - t0) / 1000).toFixed(1)} 秒）`);
    });

  program
    .command('notice')
    .description('通知与邮件模板')
    .command('preview <template>')
    .description(
      '用示例数据（或 --data 给定的 JSON）渲染模板：通知输出 HTML（--out x.pdf 输出 PDF），邮件输出文本',
    )
    .option('--data <file>', '模板数据 JSON（与示例数据合并）')
    .option('--out <file>', '写入文件而不是标准输出（.pdf 结尾则生成 PDF）')
    .action(async (name: string, o: { data?: string; out?: string }) => {
      const given = o.data
        ? (JSON.parse(readFileSync(o.data, 'utf8')) as Record<string, unknown>)
        : undefined;
      let output: string | Buffer;
      if (o.out?.endsWith('.pdf'))
        output = await previewNoticePdf(name, given, loadConfig().PDF_FONT);
      else {
        const preview = previewTemplate(name, given);
        output = preview.kind === 'notice' ? preview.html : preview.text;
      }
      if (o.out) {
        writeFileSync(o.out, output);
        console.log(`已写入 ${o.out}`);
      } else process.stdout.write(`${String(output)}\n`); // a string: only a PDF (with --out) is a Buffer
    });

  program
    .command('db')
    .description('数据库')
    .command('url')
    .description(
      '打印数据库连接串（内置 PostgreSQL 的密码见 $DATA_DIR/pg.password），例如 psql "$(shifan db url)"',
    )
    .action(async () => {
      const cfg = loadConfig();
      const r = await databaseUrl(cfg, (m) => console.error(m));
      console.log(r.url);
      if (r.embedded && !r.running)
        console.error(
          `内置 PostgreSQL 未在运行：先启动服务（npm start）再连接 / the embedded PostgreSQL is not running: start the server first (password file: ${passwordFile(cfg.dataDir)})`,
        );
    });

  program
    .command('audit')
    .description('审计')
    .command('verify')
    .description('校验全部事件的哈希链，指出第一个断点')
    .action(async () => {
      const report = await withRuntime((ctx) =>
        verifyAuditRecord(ctx, (st, e) => {
          if (process.stderr.isTTY) process.stderr.write(`\r已校验 ${st} 个流、${e} 个事件…`);
        }),
      );
      if (process.stderr.isTTY) process.stderr.write('\n');
      if (report.ok) {
        console.log(
          `审计链完好：${report.streams} 个流、${report.events} 个事件、${report.notices ?? 0} 份正式通知 / audit chain intact`,
        );
        return;
      }
      const b = report.broken!;
      throw new CliFailure(
        `审计链断开 / audit chain BROKEN\n  流 stream: ${b.streamId}\n  事件 event: ${b.eventId !== null ? `#${b.eventId}` : '-'}（版本 version ${b.version ?? '-'}）\n  ${b.problem}\n  ${b.problem_en}`,
        2,
      );
    });
  return program;
}

function printAttainment(
  items: {
    id: string;
    name: string;
    targetText: string;
    value: string | null;
    unit: string;
    statusName: string;
    note: string | null;
  }[],
) {
  for (const a of items)
    console.log(
      `${a.statusName}\t${a.name}（${a.id}）\t${a.value ?? '—'}${a.value !== null && a.unit === '%' ? '%' : ''}\t目标 ${a.targetText}${a.note ? `\t${a.note}` : ''}`,
    );
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (e) {
    console.error(`错误 / error: ${describe(e)}`);
    return e instanceof CliFailure ? e.exitCode : 1;
  }
}

if (require.main === module) void runCli(process.argv).then((code) => process.exit(code));
