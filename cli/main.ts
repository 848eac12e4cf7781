// The `shifan` command line. Works on the embedded default (same DATA_DIR) whether or not the server
// is running: it connects to a running embedded cluster, or starts and stops one itself.
import { readFileSync, writeFileSync } from 'node:fs';
import {
  MAIL_TEMPLATES,
  NOTICE_TEMPLATES,
  renderMail,
  renderNotice,
  samples,
} from '../activities/render';
import { findCjkFont, renderPdf } from '../activities/notify/pdf';
import { Command, Option } from 'commander';
import { addUser } from '../activities/users';
import { programAggregate } from '../engine/aggregates';
import { verifyAudit } from '../engine/audit';
import { loadConfig } from '../engine/config';
import { openDatabase } from '../engine/database';
import {
  createRuntime,
  createTemporalRuntime,
  type Runtime,
  type TemporalRuntime,
} from '../engine/runtime';
import { DomainError } from '../workflows/errors';
import { formatWan } from '../workflows/money';
import { definitionFromTable, ProgramTable } from '../workflows/program/table';
import { ROLES, type Actor, type Role } from '../workflows/program/types';
import { ZodError } from 'zod';

const CLI_ACTOR: Actor = { username: 'cli', role: 'office', org: null };

class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The same engine as the server: Temporal when TEMPORAL_ADDRESS is set, else the embedded one. */
async function withRuntime<T>(fn: (rt: Runtime | TemporalRuntime) => Promise<T>): Promise<T> {
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
          { poolSize: 4 },
        )
      : createRuntime(db.url, { poolSize: 4 });
  } catch (e) {
    await db.close();
    throw e;
  }
  try {
    return await fn(rt);
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
        const u = await withRuntime((rt) =>
          addUser(rt.prisma, {
            username: o.username,
            password: o.password,
            role: o.role,
            org: o.org ?? null,
            displayName: o.name ?? null,
            email: o.email ?? null,
          }),
        );
        console.log(
          `已创建用户 ${u.username}（${u.role}${u.org ? `，${u.org.name}` : ''}） / user created`,
        );
      },
    );
  user
    .command('list')
    .description('列出用户')
    .action(async () => {
      const users = await withRuntime((rt) =>
        rt.prisma.user.findMany({ include: { org: true }, orderBy: { username: 'asc' } }),
      );
      for (const u of users)
        console.log(
          `${u.username}\t${u.role}\t${u.org?.name ?? ''}\t${u.email ?? ''}${u.disabled ? '\t(停用)' : ''}`,
        );
    });

  const prog = program.command('program').description('综合示范项目');
  prog
    .command('import <file>')
    .description('导入资金安排表 JSON（与 POST /api/programs 相同的格式）')
    .action(async (file: string) => {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new CliFailure(`无法读取 ${file}：${(e as Error).message}`);
      }
      const def = definitionFromTable(ProgramTable.parse(raw));
      const r = await withRuntime((rt) =>
        rt.engine.execute(
          programAggregate,
          def.code,
          { type: 'CreateProgram', definition: def },
          { actor: CLI_ACTOR, reason: `shifan program import ${file}` },
        ),
      );
      console.log(
        `已导入 ${def.code}「${def.name}」：${def.subprojects.length} 个分项目，总投资 ${formatWan(def.totals.total)} 万元（版本 ${r.version}） / imported`,
      );
    });
  prog
    .command('list')
    .description('列出项目')
    .action(async () => {
      const rows = await withRuntime((rt) =>
        rt.prisma.program.findMany({ orderBy: { code: 'asc' } }),
      );
      for (const p of rows)
        console.log(`${p.code}\t${p.name}\t${p.phaseName}\t${formatWan(Number(p.totalFen))}万元`);
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
      const all = samples();
      const given = o.data ? JSON.parse(readFileSync(o.data, 'utf8')) : {};
      const data = { ...(all[name] ?? {}), program: all._program, ...given };
      let output: string | Buffer;
      if (NOTICE_TEMPLATES.includes(name)) {
        const r = renderNotice(name, data);
        if (o.out?.endsWith('.pdf')) {
          const font = findCjkFont(loadConfig().PDF_FONT);
          if (!font)
            throw new CliFailure(
              '没有可用的中文字体：apt-get install fonts-noto-cjk，或设置 PDF_FONT',
            );
          output = await renderPdf(
            {
              issuer: `${data.program.county}电子商务进农村综合示范工作领导小组办公室文件`,
              docNumber: data.docNumber,
              title: data.title,
              paragraphs: r.bodyText.split('\n'),
              signature: [`${data.program.county}电子商务进农村综合示范工作领导小组办公室`],
              marker: `全国电子商务进农村综合示范项目 · 监督举报电话：${data.program.reportPhone}`,
              issuedAt: data.issuedAt,
            },
            font,
          );
        } else output = r.html;
      } else if (MAIL_TEMPLATES.includes(name)) {
        output = renderMail(name, data);
      } else {
        throw new CliFailure(
          `没有模板「${name}」。通知：${NOTICE_TEMPLATES.join('、')}；邮件：${MAIL_TEMPLATES.join('、')}`,
        );
      }
      if (o.out) {
        writeFileSync(o.out, output);
        console.log(`已写入 ${o.out}`);
      } else process.stdout.write(`${output}\n`);
    });

  program
    .command('audit')
    .description('审计')
    .command('verify')
    .description('校验全部事件的哈希链，指出第一个断点')
    .action(async () => {
      const report = await withRuntime((rt) =>
        verifyAudit(rt.pool, (s, e) => {
          if (process.stderr.isTTY) process.stderr.write(`\r已校验 ${s} 个流、${e} 个事件…`);
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
