// `shifan demo` (issue 13): the Tengzhou 2019 program with a user for each role, driven through the
// same use cases the API calls to a lively middle state, so that a newcomer sees a working system.
//
// Time: the program's story takes months (bidding periods, publicity, rectification deadlines), so the
// demo runs on a clock it moves itself (the engine's ManualClock), from eight months ago up to
// `end` (the real now when run from the CLI), and after every move fires the deadlines then due, as a
// running server would have. The deadlines still open at the end (a bid deadline, a rectification
// deadline, an acceptance publicity, a clawback) lie after `end`, so that a server on the real clock
// finds nothing due and the state stays as the demo left it.
//
// A server running beside the demo (on the real clock) sees the demo's past deadlines as due at once.
// The demo fires each one right after the step that sets it (a few milliseconds; the server polls every
// TIMER_POLL_MS), so the server rarely gets there first; when it does, that event carries the real
// time instead of the demo's, and nothing else changes, except for a bid deadline that closes a tender
// before all its bids are in: the tender then fails (流标) at its opening and the demo tenders again,
// as the office would.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../activities/paths';
import type { ManualClock } from '../engine/clock';
import { DomainError } from '../workflows/errors';
import { formatWan, sumFen } from '../workflows/money';
import { ProgramTable } from '../workflows/program/table';
import { SOURCES, type Actor, type Role } from '../workflows/program/types';
import { ledgerOf, MILESTONE_STATUS_NAMES } from '../workflows/subproject/delivery';
import { stageName } from '../workflows/subproject/status';
import type { SubprojectCore } from '../workflows/subproject/types';
import { addDays, beijingText, shanghaiDay } from '../workflows/time';
import { addUser } from './admin';
import type { AppContext } from './context';
import {
  decideMilestone,
  preEvaluate,
  raiseAcceptanceObjection,
  recordRecovery,
  releaseTranche,
  submitMilestone,
} from './delivery';
import { uploadFile } from './files';
import {
  AcceptanceObjectionBody,
  AdvanceBody,
  AwardBody,
  CandidateBody,
  ContractBody,
  DecisionBody,
  GateActBody,
  OpeningBody,
  PreEvaluationBody,
  RecoveryBody,
  ReleaseBody,
  ScoresBody,
  SubmissionBody,
  TenderBody,
  BidBody,
} from './inputs';
import { advancePhase, importProgram, recordGateAct } from './programs';
import { listUsers, loadProgram, loadSubproject, programDetail, programLedger } from './queries';
import {
  award,
  openBids,
  openTender,
  proposeCandidate,
  scoreBids,
  signContract,
  submitBid,
} from './subprojects';

export const DEMO_PROGRAM = 'tengzhou-2019';

export interface DemoUser {
  username: string;
  password: string;
  role: Role;
  org: string | null;
  displayName: string;
}

/** For trying the system out only: the passwords are printed and written in the README. */
export const DEMO_USERS: DemoUser[] = [
  {
    username: 'office1',
    password: 'demo-office-1',
    role: 'office',
    org: null,
    displayName: '示范办（领导小组办公室）',
  },
  {
    username: 'finance1',
    password: 'demo-finance-1',
    role: 'finance',
    org: null,
    displayName: '市财政局',
  },
  {
    username: 'evaluator1',
    password: 'demo-evaluator-1',
    role: 'evaluator',
    org: '某会计师事务所',
    displayName: '第三方评估（某会计师事务所）',
  },
  {
    username: 'supervisor1',
    password: 'demo-supervisor-1',
    role: 'supervisor',
    org: null,
    displayName: '督查组',
  },
  {
    username: 'post1',
    password: 'demo-post-1',
    role: 'contractor',
    org: '滕州市邮政分公司',
    displayName: '滕州市邮政分公司',
  },
  {
    username: 'wuliu1',
    password: 'demo-wuliu-1',
    role: 'contractor',
    org: '某物流有限公司',
    displayName: '某物流有限公司',
  },
  {
    username: 'kuaidi1',
    password: 'demo-kuaidi-1',
    role: 'contractor',
    org: '鲁南快递有限公司',
    displayName: '鲁南快递有限公司',
  },
];

/** Who adds the demo's users (the audit record's actor of those acts). */
const DEMO_ADMIN: Actor = { username: 'shifan-demo', role: 'office', org: null };

const actor = (username: string): Actor => {
  const u = DEMO_USERS.find((x) => x.username === username)!;
  return { username: u.username, role: u.role, org: u.org };
};
const office = actor('office1');
const finance = actor('finance1');
const evaluator = actor('evaluator1');
const POST = '滕州市邮政分公司';
const WULIU = '某物流有限公司';
const KUAIDI = '鲁南快递有限公司';
const CONTRACTOR_OF: Record<string, string> = {
  [POST]: 'post1',
  [WULIU]: 'wuliu1',
  [KUAIDI]: 'kuaidi1',
};

export interface DemoOptions {
  /** the engine's clock (`ctx.engine.clock`), moved by the demo */
  clock: ManualClock;
  /** where the demo's clock ends: the real now when run from the CLI */
  end: Date | string;
  /** progress lines (Chinese), one call per line */
  print?: (line: string) => void;
  /** the budget table; by default examples/tengzhou-2019.json */
  table?: unknown;
}

export interface DemoReport {
  program: string;
  startedAt: string;
  endedAt: string;
  users: DemoUser[];
  /** what to look at, one line each (Chinese) */
  highlights: string[];
  /** timers fired along the way (deadlines passing) */
  timersFired: number;
}

/** The demo refuses a database that already holds its program or any of its users, and changes nothing. */
async function refuseIfPresent(ctx: AppContext): Promise<void> {
  const program = await loadProgram(ctx, DEMO_PROGRAM).then(
    () => true,
    (e: unknown) => {
      if (e instanceof DomainError && e.kind === 'not_found') return false;
      throw e;
    },
  );
  const taken = (await listUsers(ctx))
    .map((u) => u.username)
    .filter((u) => DEMO_USERS.some((d) => d.username === u));
  if (!program && !taken.length) return;
  const what = [
    program ? `项目 ${DEMO_PROGRAM} 已导入` : null,
    taken.length ? `用户 ${taken.join('、')} 已存在` : null,
  ]
    .filter(Boolean)
    .join('；');
  throw new DomainError(
    'DEMO-EXISTS',
    'conflict',
    `演示数据已存在（${what}），未做任何改动。演示只在没有该项目和演示用户的数据库上运行：换一个数据目录再试，例如 DATA_DIR=/tmp/shifan-demo npx shifan demo`,
    `the demo's ${program ? `program ${DEMO_PROGRAM}` : ''}${program && taken.length ? ' and ' : ''}${taken.length ? `users (${taken.join(', ')})` : ''} already exist: nothing changed; run it on a fresh DATA_DIR`,
  );
}

/** The demo's timeline: days relative to the end's Beijing day, at a Beijing wall time. */
class Timeline {
  readonly endDay: string;
  fired = 0;
  constructor(
    private readonly ctx: AppContext,
    private readonly clock: ManualClock,
    private readonly end: string,
  ) {
    this.endDay = shanghaiDay(end);
  }
  /** The Beijing date `n` days from the end's day. */
  date(n: number): string {
    return addDays(this.endDay, n);
  }
  instant(n: number, hhmm: string): string {
    return new Date(`${this.date(n)}T${hhmm}:00+08:00`).toISOString();
  }
  /** The current day offset (for sequences whose length varies). */
  get day(): number {
    const now = shanghaiDay(this.clock.now().toISOString());
    return Math.round((Date.parse(now) - Date.parse(this.endDay)) / 86_400_000);
  }
  /** Moves the clock forward to day `n` at `hhmm` (never back, never past the end) and fires the
   * deadlines due then, as the server's timer poll would. */
  async to(n: number, hhmm = '10:00', opts: { timers?: boolean } = {}): Promise<void> {
    const t = this.instant(n, hhmm);
    const now = this.clock.now().toISOString();
    if (t < now) throw new Error(`demo timeline goes back: ${t} < ${now}`);
    if (t > this.end) throw new Error(`demo timeline goes past its end: ${t} > ${this.end}`);
    this.clock.set(t);
    if (opts.timers !== false) await this.timers();
  }
  async finish(): Promise<void> {
    this.clock.set(this.end);
    await this.timers();
  }
  private async timers(): Promise<void> {
    const run = await this.ctx.scheduler!.runDue();
    if (run.errors.length)
      throw new Error(`deadline timers failed: ${run.errors.map((e) => e.error).join('; ')}`);
    this.fired += run.fired;
  }
}

interface Procurement {
  seq: number;
  /** bidders in bidding order: organisation, price (元), score; the top score wins */
  bids: [org: string, price: string, score: number][];
  /** the contract's title */
  contract: string;
  /** the contract's milestones: key, title (also the deliverable), due day, and its tranches in 万元 by
   *  source (tranche keys M1-C, M1-L: the milestone's key and the source's letter) */
  milestones: [key: string, title: string, due: number, tranches: Partial<Tranches>][];
}
/** The demo's contracts are funded by the central and the local budget. */
type Tranches = Record<'central' | 'local', string>;
const SOURCE_LETTER: Tranches = { central: 'C', local: 'L' };

/** The three subprojects the demo procures, in that order. */
const PROCUREMENTS: Procurement[] = [
  {
    seq: 3,
    bids: [
      [WULIU, '5280000', 93.5],
      [POST, '5350000', 88],
      [KUAIDI, '5390000', 85],
    ],
    contract: '滕州市三级物流配送体系建设项目承办协议',
    milestones: [
      ['M1', '市级公共物流仓储配送中心建成运营', -70, { central: '190', local: '80' }],
      ['M2', '镇村两级配送网点覆盖，48小时送达', 20, { central: '190', local: '80' }],
    ],
  },
  {
    seq: 1,
    bids: [
      [POST, '2960000', 92],
      [WULIU, '2980000', 86],
      [KUAIDI, '2990000', 84],
    ],
    contract: '滕州电子商务公共服务中心建设项目承办协议',
    milestones: [
      ['M1', '中心场地装修及设备配置（不低于1500㎡）', -25, { central: '100', local: '50' }],
      ['M2', '中心运营服务（培训孵化、产品对接、营销推广）', 120, { central: '100', local: '50' }],
    ],
  },
  {
    seq: 6,
    bids: [
      [KUAIDI, '985000', 91],
      [POST, '990000', 87],
      [WULIU, '996000', 83],
    ],
    contract: '滕州市电商扶贫项目承办协议',
    milestones: [
      ['M1', '开设扶贫网店，对接贫困户农产品', -85, { central: '40' }],
      ['M2', '带动贫困户融入电商产业链实现增收', -19, { central: '60' }],
    ],
  },
];

/** Runs the demo; answers what it created. Refuses (DomainError, nothing changed) when the program or
 * a demo user exists already. Needs the embedded engine: its timers are fired by the demo's clock. */
export async function runDemo(ctx: AppContext, opts: DemoOptions): Promise<DemoReport> {
  const print = opts.print ?? (() => {});
  if (ctx.engine.kind !== 'embedded' || !ctx.scheduler)
    throw new DomainError(
      'DEMO-ENGINE',
      'conflict',
      '演示在内置引擎上运行（它自己推进时钟并触发期限）：请不设置 TEMPORAL_ADDRESS 再试',
      'the demo runs on the embedded engine (it moves the clock and fires the deadlines itself): unset TEMPORAL_ADDRESS',
    );
  if (ctx.engine.clock !== opts.clock)
    throw new Error("runDemo: opts.clock must be the engine's clock");
  await refuseIfPresent(ctx);

  const end = new Date(opts.end).toISOString();
  const tl = new Timeline(ctx, opts.clock, end);
  const code = DEMO_PROGRAM;
  const say = (text: string) => print(`${shanghaiDay(opts.clock.now().toISOString())}  ${text}`);
  const table = ProgramTable.parse(
    opts.table ??
      JSON.parse(readFileSync(path.join(ROOT, 'examples', 'tengzhou-2019.json'), 'utf8')),
  );
  const names = Object.fromEntries(table.subprojects.map((s) => [s.seq, s.name]));
  const sp = (seq: number) => `分项目${seq}「${names[seq]}」`;
  const startedAt = tl.instant(-240, '09:00');
  opts.clock.set(startedAt);
  print(
    `演示：${table.name}，演示时钟从 ${tl.date(-240)} 走到 ${shanghaiDay(end)}（期限到了就触发，和服务器一样）`,
  );

  // ---- users, import, the first phase's gates ----
  say('新增演示用户…');
  for (const u of DEMO_USERS)
    await addUser(ctx, DEMO_ADMIN, { ...u, reason: 'shifan demo：演示用户（仅供试用）' });
  say(`新增 ${DEMO_USERS.length} 个用户：${DEMO_USERS.map((u) => u.username).join('、')}`);

  await tl.to(-240, '09:30');
  say('导入项目…');
  const imported = await importProgram(ctx, office, table, 'shifan demo：导入资金安排表');
  say(
    `已导入 ${code}「${table.name}」：${imported.definition.subprojects.length} 个分项目，总投资 ${formatWan(imported.definition.totals.total)} 万元（R-FUND-1～5 校验通过）`,
  );
  await tl.to(-238);
  await recordGateAct(
    ctx,
    office,
    { code, gate: 'plan_filed' },
    GateActBody.parse({
      document: { title: '滕州市电子商务进农村综合示范实施方案', number: '滕政办字〔2019〕33号' },
      reason: '已报省商务厅备案',
    }),
  );
  say('登记关口「实施方案经批准并报省商务厅备案」');
  await tl.to(-237);
  await recordGateAct(
    ctx,
    office,
    { code, gate: 'leading_group_established' },
    GateActBody.parse({
      document: { title: '关于成立滕州市电子商务进农村综合示范工作领导小组的通知' },
      reason: '领导小组已成立',
    }),
  );
  say('登记关口「成立领导小组」');
  await tl.to(-236);
  await advancePhase(
    ctx,
    office,
    { code },
    AdvanceBody.parse({ to: 'implement', reason: '启动筹备阶段关口均已关闭' }),
  );
  say('进入「组织实施」阶段');

  // ---- procurement of three subprojects, one after another ----
  const contractOf = (p: Procurement) => ({
    document: { title: p.contract },
    milestones: p.milestones.map(([key, title, due]) => ({
      key,
      title,
      due: tl.date(due),
      deliverables: [title],
    })),
    tranches: p.milestones.flatMap(([milestone, , , amounts]) =>
      Object.entries(amounts).map(([source, amount]) => ({
        key: `${milestone}-${SOURCE_LETTER[source as keyof Tranches]}`,
        milestone,
        source,
        amount,
      })),
    ),
  });
  const tender = (seq: number, bidDeadline: string, qualifications: string[]) =>
    openTender(
      ctx,
      office,
      { code, seq },
      TenderBody.parse({
        announcement: { title: `${names[seq]}招标公告`, qualifications },
        bidDeadline,
      }),
    );
  const bid = (seq: number, org: string, price: string) =>
    submitBid(
      ctx,
      actor(CONTRACTOR_OF[org]),
      { code, seq },
      BidBody.parse({ price, proposal: `${org}关于${names[seq]}的投标方案` }),
    );
  const procure = async (p: Procurement) => {
    const t = { code, seq: p.seq };
    for (let round = 1, d = tl.day + 1; ; round++) {
      if (round > 3) throw new Error(`demo: subproject ${p.seq} failed to tender three times`);
      await tl.to(d, '09:30');
      say(`招标：${sp(p.seq)}发布招标公告，投标截止 ${tl.date(d + 21)}`);
      await tender(p.seq, tl.date(d + 21), ['具有独立法人资格', '近三年无重大违法记录']);
      let submitted = 0;
      for (const [i, [org, price]] of p.bids.entries()) {
        await tl.to(d + 1 + i, '15:00', { timers: false });
        try {
          await bid(p.seq, org, price);
          submitted++;
        } catch (e) {
          // a server beside the demo closed the bidding on the real clock (see the top of this file)
          if (!(e instanceof DomainError && e.code === 'R-TD-1')) throw e;
          break;
        }
      }
      say(`  收到 ${submitted} 份密封投标（开标前谁也看不到内容）`);
      await tl.to(d + 22, '09:00'); // the bid deadline has passed: bidding closes
      await tl.to(d + 22, '09:30');
      const opening = await openBids(ctx, office, t, OpeningBody.parse({}));
      if (opening.appended.some((a) => a.type === 'TenderFailed')) {
        say(`  开标：有效投标不足 3 家，流标，重新招标`);
        d += 23;
        continue;
      }
      say(`  开标：${submitted} 家有效投标`);
      await tl.to(d + 23);
      await scoreBids(
        ctx,
        evaluator,
        t,
        ScoresBody.parse({ scores: p.bids.map(([org, , score]) => ({ org, score })) }),
      );
      const winner = [...p.bids].sort((a, b) => b[2] - a[2])[0][0];
      await tl.to(d + 24);
      await proposeCandidate(ctx, office, t, CandidateBody.parse({ org: winner }));
      say(`  评分后确定中标候选人 ${winner}，公示 3 天`);
      await tl.to(d + 28, '09:00'); // the candidate publicity has ended
      await tl.to(d + 28);
      await award(ctx, office, t, AwardBody.parse({}));
      await tl.to(d + 30);
      await signContract(ctx, office, t, ContractBody.parse(contractOf(p)));
      say(`  公示期满无异议，定标并签订承办协议（${winner}）`);
      return;
    }
  };
  for (const p of PROCUREMENTS) await procure(p);

  // ---- delivery and money, in date order ----
  const submit = async (seq: number, key: string, day: number, deliverable: string) => {
    await tl.to(day);
    const by = actor(CONTRACTOR_OF[(await subproject(ctx, seq)).award!.org]);
    const file = await uploadFile(ctx, by, {
      type: 'text/plain',
      name: `分项目${seq}-${key}-验收材料（${tl.date(day)}）.txt`,
      content: Buffer.from(
        `${sp(seq)} 里程碑 ${key} 验收材料\n提交单位：${by.org}\n${deliverable}\n（shifan demo 生成的演示材料）\n`,
      ),
    });
    await submitMilestone(
      ctx,
      by,
      { code, seq, key },
      SubmissionBody.parse({ deliverable, files: [file.sha256] }),
    );
    say(`${sp(seq)}：${by.org}提交里程碑 ${key}（附验收材料）`);
  };
  const preEval = async (
    seq: number,
    key: string,
    day: number,
    recommendation: 'accept' | 'reject',
    findings: string[] = [],
  ) => {
    await tl.to(day);
    await preEvaluate(
      ctx,
      evaluator,
      { code, seq, key },
      PreEvaluationBody.parse({
        opinion:
          recommendation === 'accept'
            ? '资料齐全，现场核验一致，建议通过'
            : '存在问题，建议不予通过',
        findings,
        recommendation,
      }),
    );
    say(`${sp(seq)}：第三方预评 ${key}，建议${recommendation === 'accept' ? '通过' : '不通过'}`);
  };
  const accept = async (seq: number, key: string, day: number) => {
    await tl.to(day);
    await decideMilestone(
      ctx,
      office,
      { code, seq, key },
      DecisionBody.parse({ decision: 'accept' }),
    );
    say(`${sp(seq)}：办公室验收 ${key} 合格，验收结果公示 7 天`);
  };
  const reject = async (
    seq: number,
    key: string,
    day: number,
    defects: string[],
    until: number,
  ) => {
    await tl.to(day);
    await decideMilestone(
      ctx,
      office,
      { code, seq, key },
      DecisionBody.parse({ decision: 'reject', defects, rectificationDeadline: tl.date(until) }),
    );
    say(`${sp(seq)}：办公室验收 ${key} 不合格，责令整改，期限 ${tl.date(until)}`);
  };
  const release = async (seq: number, tranches: string[], day: number) => {
    await tl.to(day);
    let paid = 0;
    for (const tranche of tranches) {
      const r = await releaseTranche(
        ctx,
        finance,
        { code, seq, tranche },
        ReleaseBody.parse({ reason: '验收结果公示期满无异议' }),
        `demo-${seq}-${tranche}`,
      );
      paid += r.disbursement.amount.fen;
    }
    say(`${sp(seq)}：公示期满，财政局拨付 ${formatWan(paid)} 万元（${tranches.join('、')}）`);
  };

  // Each deadline already past for the real clock is fired by the demo right after it is set (no other
  // step in between), so that a server beside the demo has next to no chance to fire it first.
  await submit(6, 'M1', -90, '开设扶贫网店 12 家，对接贫困户农产品 35 种');
  await preEval(6, 'M1', -88, 'accept');
  await accept(6, 'M1', -87);
  await release(6, ['M1-C'], -79);
  await submit(3, 'M1', -75, '市级公共物流仓储配送中心建成，面积 6000㎡，投入运营');
  await preEval(3, 'M1', -73, 'accept');
  await accept(3, 'M1', -72);
  await release(3, ['M1-C'], -64); // the local share waits for finance: its release form on the page
  await submit(1, 'M1', -26, '中心场地装修完成，设备到位，面积 1520㎡');
  const defects1 = ['消防验收合格证明未提供', '部分设备与投标清单不符'];
  await preEval(1, 'M1', -24, 'reject', defects1);
  await reject(1, 'M1', -22, defects1, 25);
  await submit(6, 'M2', -20, '带动贫困户 160 户，户均增收证明材料');
  const defects6 = ['增收证明缺少乡镇核实盖章', '带动户数与台账不符'];
  await preEval(6, 'M2', -18, 'reject', defects6);
  await reject(6, 'M2', -17, defects6, -13);
  await tl.to(-12, '09:00'); // seq 6's rectification deadline passed: terminated, named, clawback
  say(`${sp(6)}：整改期限届满未重新提交，分项目终止，通报承办单位，追回已拨付资金`);

  await tl.to(-10, '09:30');
  await tender(4, tl.date(12), ['具有独立法人资格', '具有区域公共品牌策划运营经验']);
  say(`招标：${sp(4)}发布招标公告，投标截止 ${tl.date(12)}`);
  await tl.to(-8, '15:00');
  await bid(4, POST, '5900000');
  await tl.to(-7);
  await recordRecovery(
    ctx,
    finance,
    { code, seq: 6 },
    RecoveryBody.parse({ source: 'central', amount: '15', reference: '缴款凭证 0001' }),
    'demo-6-recovery-1',
  );
  say(`${sp(6)}：财政局登记追回 15 万元（部分）`);
  await tl.to(-6, '11:00');
  await bid(4, WULIU, '5850000');
  say(`${sp(4)}：收到 2 份密封投标`);
  await submit(3, 'M2', -5, '镇村两级配送网点 261 个，48 小时送达率 98%');
  await preEval(3, 'M2', -4, 'accept');
  await accept(3, 'M2', -2);
  await tl.to(-1, '16:00');
  await raiseAcceptanceObjection(
    ctx,
    actor('supervisor1'),
    { code, seq: 3, key: 'M2' },
    AcceptanceObjectionBody.parse({
      text: '抽查 12 个村级网点，其中 3 个未按时配送，48 小时送达率存疑，请核实',
    }),
  );
  say(`${sp(3)}：督查组对 M2 验收结果提出异议，拨付暂停，待办公室处理`);

  await tl.finish();
  print(`${shanghaiDay(end)}  演示时钟已到现在，期限共触发 ${tl.fired} 次`);
  return {
    program: code,
    startedAt,
    endedAt: end,
    users: DEMO_USERS,
    highlights: await highlights(ctx, sp),
    timersFired: tl.fired,
  };
}

/** A procured subproject's state (the demo's own subprojects always are). */
async function subproject(ctx: AppContext, seq: number): Promise<SubprojectCore> {
  const { state } = await loadSubproject(ctx, DEMO_PROGRAM, seq);
  if (state.status !== 'active') throw new Error(`demo: subproject ${seq} has no procurement`);
  return state;
}

/** What to look at, read back through the queries (the same reads the API answers). */
async function highlights(ctx: AppContext, sp: (seq: number) => string): Promise<string[]> {
  const code = DEMO_PROGRAM;
  const p = await programDetail(ctx, code);
  const wan = (fen: number) => `${formatWan(fen)} 万元`;
  const when = (iso: string) => beijingText(iso).replace('（北京时间）', '');
  const total = (f: Record<(typeof SOURCES)[number], number>) => sumFen(SOURCES.map((x) => f[x]));
  const lines = [
    `项目 ${code}：${p.phase?.name ?? ''}阶段${p.overdue ? `（计划 ${p.overdue.end} 结束，显示逾期 ${p.overdue.days} 天：资金安排表的日期是 2019 年的）` : ''}`,
  ];
  const s4 = await subproject(ctx, 4);
  const t4 = s4.tenders[s4.tenders.length - 1];
  lines.push(
    `${sp(4)}：${stageName(s4)}，${t4.bids.filter((b) => !b.withdrawn).length} 份密封投标，截止 ${when(t4.bidDeadline)}（kuaidi1 还能投标；开标前 office1 也看不到投标内容）`,
  );
  const s3 = await subproject(ctx, 3);
  const m2 = s3.delivery.milestones.M2;
  lines.push(
    `${sp(3)}：里程碑 M1 验收合格，已拨付 ${wan(total(ledgerOf(s3).disbursed))}；M2 ${MILESTONE_STATUS_NAMES[m2.status]}，公示至 ${m2.publicity ? when(m2.publicity.endsAt) : '-'}，督查组已提出异议（office1 在待办中处理；公示期内仍可提出异议）`,
  );
  const m1 = (await subproject(ctx, 1)).delivery.milestones.M1;
  lines.push(
    `${sp(1)}：里程碑 M1 ${MILESTONE_STATUS_NAMES[m1.status]}，整改期限 ${m1.rectification ? when(m1.rectification.deadline) : '-'}（post1 可重新提交）`,
  );
  const s6 = await subproject(ctx, 6);
  const c = s6.delivery.clawback;
  if (c)
    lines.push(
      `${sp(6)}：${stageName(s6)}；应追回 ${wan(total(c.demanded))}，已追回 ${wan(total(c.recovered))}，期限 ${when(c.deadline)}`,
    );
  const L = await programLedger(ctx, code);
  lines.push(
    `资金台账：已拨付 ${wan(L.total.disbursed.fen)}，已追回 ${wan(L.total.recovered.fen)}（办公室、财政局、督查组可见）`,
  );
  return lines;
}

/** The summary the CLI prints after the demo: the users with their passwords, and what to look at. */
export function demoSummary(r: DemoReport, baseUrl: string): string[] {
  const roleNames: Record<Role, string> = {
    office: '办公室',
    finance: '财政局',
    evaluator: '第三方评估',
    supervisor: '督查',
    contractor: '承办企业',
  };
  return [
    '',
    `演示数据已就绪。打开 ${baseUrl}/ （服务器没有运行时先 npm start），用下列账号登录：`,
    ...r.users.map(
      (u) =>
        `  ${u.username.padEnd(12)} ${u.password.padEnd(18)} ${roleNames[u.role]}${u.org ? `（${u.org}）` : ''}`,
    ),
    '这些账号和密码只供试用演示（密码已公开），请勿用于真实数据；正式使用请用 shifan user add 另建用户。',
    '',
    '看什么：',
    ...r.highlights.map((h) => `  - ${h}`),
    `  - 审计记录：npx shifan audit verify；公开通知：${baseUrl}/api/notices`,
  ];
}
