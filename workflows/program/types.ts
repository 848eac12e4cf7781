// Program definition (after parsing: money in fen), policy parameters, gates. Pure data (domain.md R-PH, R-FUND).
import type { Fen } from '../money';
import type { Indicator } from './indicators';

export const SOURCES = ['central', 'local', 'enterprise'] as const;
export type Source = (typeof SOURCES)[number];
export type Funding = Record<Source, Fen>;

export const SOURCE_NAMES: Record<Source, string> = {
  central: '中央财政资金',
  local: '地方配套资金',
  enterprise: '企业自筹及社会资本',
};

export const DIRECTIONS = {
  public_service_centre: '县级电子商务公共服务中心',
  service_stations: '镇村电子商务服务站点',
  logistics: '物流配送体系',
  rural_products_upward: '农村产品上行体系',
  training: '电子商务培训',
  poverty_alleviation: '电商扶贫',
  finance: '农村电商金融体系',
  promotion: '宣传推广及组织推动',
  other: '其他',
} as const;
export type Direction = keyof typeof DIRECTIONS;

export const PROCUREMENTS = {
  public_tender: '公开招标',
  direct: '直接委托',
  designated: '定向委托',
  government_purchase: '政府购买服务',
  to_be_decided: '待定',
} as const;
export type Procurement = keyof typeof PROCUREMENTS;

/** Uses of central funds that R-FUND-4 prohibits (a subproject declares its uses). */
export const PROHIBITED_USES = {
  online_trading_platform: '网络交易平台',
  buildings: '楼堂馆所建设',
  working_expenses: '工作经费',
  buying_traffic: '购买流量',
} as const;

export interface Policy {
  /** R-FUND-2: directions whose central funds must reach `upwardGroupMinBp` of central funds. */
  upwardGroupDirections: Direction[];
  upwardGroupMinBp: number; // basis points: 5000 = 50%
  /** R-FUND-3: directions counted as the county public service centre, at most `centreMaxBp`. */
  centreDirections: Direction[];
  centreMaxBp: number; // 1500 = 15%
  /** R-FUND-4 */
  prohibitedCentralUses: string[];
  /** R-TD-1 (used by tendering) */
  minBiddingDays: number;
  minValidBids: number;
  candidatePublicityDays: number;
  /** R-AC-3 / R-AC-4 (used by acceptance) */
  acceptancePublicityDays: number;
  maxRectificationRounds: number;
  /** days allowed to resubmit after a rejection (R-AC-4) when the office gives no date */
  rectificationDays: number;
  /** days the contractor has to repay a clawback (R-AC-5 / R-FUND-8) */
  clawbackDays: number;
  /** R-AC-1: what a training archive (培训档案) must contain before a training milestone can be accepted */
  trainingArchive: string[];
}

export const TRAINING_ARCHIVE_ITEMS: Record<string, string> = {
  commissioning_agreement: '培训委托协议',
  institution_licence: '培训机构营业执照及资质',
  teacher_qualifications: '授课教师资质',
  training_plan: '培训方案',
  schedule: '培训时间、地点及课程表',
  materials: '培训教材及资料',
  roster: '学员花名册',
  sign_in_sheets: '签到表',
  photos: '培训照片',
};

/** 2019 national rules (财办建〔2019〕48号 as quoted in the Tengzhou plan) and PRC tender law. */
export const DEFAULT_POLICY: Policy = {
  upwardGroupDirections: ['service_stations', 'logistics', 'rural_products_upward'],
  upwardGroupMinBp: 5000,
  centreDirections: ['public_service_centre'],
  centreMaxBp: 1500,
  prohibitedCentralUses: Object.keys(PROHIBITED_USES),
  minBiddingDays: 20,
  minValidBids: 3,
  candidatePublicityDays: 3,
  acceptancePublicityDays: 7,
  maxRectificationRounds: 2,
  rectificationDays: 30,
  clawbackDays: 30,
  trainingArchive: Object.keys(TRAINING_ARCHIVE_ITEMS),
};

export interface PhasePlan {
  key: string;
  name: string;
  start: string | null; // YYYY-MM-DD (Asia/Shanghai calendar day)
  end: string | null; // planned end; the phase is overdue after the end of this day (R-PH-3)
  gates?: GateKey[]; // overrides the gates known for `key`
}

export interface UnitCap {
  item: string;
  name: string;
  source: Source;
  maxPerUnit?: Fen; // each unit at most
  maxAveragePerUnit?: Fen; // on average at most
}

export interface Target {
  item: string;
  count: number;
}

export interface SubprojectPlan {
  seq: number;
  name: string;
  direction: Direction;
  procurement: Procurement;
  start: string | null;
  deadline: string | null;
  goal: string;
  targets: Target[];
  uses: string[];
  /** R-EV-1: the subproject's own targets (absent when the table gives none) */
  indicators?: Indicator[];
  funding: Funding;
  declaredTotal: Fen | null; // the row's own 合计, when the table gives one (R-FUND-1 checks it)
}

/** R-PUB-1: how the public reaches the program (the marker's reporting phones, the column's contacts). */
export interface Disclosure {
  /** reporting phone numbers as published, each optionally after who answers it ("石城县商务局 0797-5792681") */
  phones: string[];
  mailbox?: string;
  address?: string;
  office?: string;
}

export interface ProgramDefinition {
  code: string;
  name: string;
  province: string;
  county: string;
  year: number;
  phases: PhasePlan[];
  unitCaps: UnitCap[];
  parcelSubsidy: {
    perParcel: Fen;
    perBusinessPerYear: Fen;
    total: Fen;
    reviewEvery: string;
    eligible: string;
  } | null;
  subprojects: SubprojectPlan[];
  totals: Funding & { total: Fen };
  policy: Policy;
  /** absent in tables without it (and in programs created before it): the national default applies */
  disclosure?: Disclosure;
  /** R-EV-1: the program's targets (absent in tables without them) */
  indicators?: Indicator[];
}

export const GATES = {
  plan_filed: { name: '实施方案经批准并报省商务厅备案', kind: 'act' },
  leading_group_established: { name: '成立领导小组', kind: 'act' },
  budget_valid: { name: '资金安排表符合资金使用规定（R-FUND-1～5）', kind: 'computed' },
  subprojects_settled: { name: '全部分项目验收合格或终止并追回资金', kind: 'computed' },
  self_check_done: { name: '完成自查', kind: 'act' },
  self_check_findings_closed: { name: '自查发现问题整改完毕', kind: 'computed' },
  self_evaluation_submitted: { name: '提交自评报告', kind: 'act' },
  provincial_result_recorded: { name: '记录省级绩效评价结果', kind: 'act' },
  evaluation_findings_closed: { name: '绩效评价发现问题整改完毕', kind: 'computed' },
  summary_filed: { name: '报送工作总结', kind: 'act' },
  phase_summary_filed: { name: '报送阶段小结', kind: 'act' },
} as const satisfies Record<string, { name: string; kind: 'act' | 'computed' }>;
export type GateKey = keyof typeof GATES;
export const GATE_KEYS = Object.keys(GATES) as GateKey[];

/** R-PH-2: exit gates by phase key. A key not listed here needs at least a filed phase summary. */
export const GATES_BY_PHASE: Record<string, GateKey[]> = {
  prepare: ['plan_filed', 'leading_group_established', 'budget_valid'],
  implement: ['subprojects_settled'],
  build: ['subprojects_settled'], // Shicheng's 项目建设与验收
  evaluate: [
    'self_check_done',
    'self_check_findings_closed',
    'self_evaluation_submitted',
    'provincial_result_recorded',
  ],
  improve: ['evaluation_findings_closed', 'summary_filed'],
};

/** Tengzhou's plan (R-PH-1), used when a program brings no phase plan of its own. */
export const DEFAULT_PHASES: PhasePlan[] = [
  { key: 'prepare', name: '启动筹备', start: null, end: null },
  { key: 'implement', name: '组织实施', start: null, end: null },
  { key: 'evaluate', name: '绩效评价', start: null, end: null },
  { key: 'improve', name: '总结提升', start: null, end: null },
];

export function gatesOf(phase: PhasePlan): GateKey[] {
  return phase.gates ?? GATES_BY_PHASE[phase.key] ?? ['phase_summary_filed'];
}

export interface DocumentRef {
  title: string;
  number?: string; // 文号
  date?: string; // YYYY-MM-DD
  url?: string;
}

/** `system` acts for the engine itself (timers firing); it is never a login. */
export interface Actor {
  username: string;
  /** 'public': anyone without a log-in (社会公众), for the column's objections and reports (R-PUB-1) */
  role: Role | 'system' | 'public';
  org?: string | null;
}
export const SYSTEM_ACTOR: Actor = { username: 'system', role: 'system', org: null };
/** Who acts when the public objects or reports through the column: nobody logged in. */
export const PUBLIC_ACTOR: Actor = { username: 'public', role: 'public', org: null };

/** A public submission's receipt (回执编号) and the optional contact of the one who sent it; the contact
 * is personal data: the office and the supervisors read it, nobody else (R-PUB-1). */
export interface PublicSender {
  receipt: string;
  name: string | null;
  phone: string | null;
}
export const ROLES = ['office', 'contractor', 'evaluator', 'finance', 'supervisor'] as const;
export type Role = (typeof ROLES)[number];
export const ROLE_NAMES: Record<Role | 'system' | 'public', string> = {
  system: '系统',
  public: '社会公众',
  office: '领导小组办公室',
  contractor: '承办企业',
  evaluator: '第三方评估机构',
  finance: '财政局',
  supervisor: '监督人员',
};

/** What every decider gets from its caller: time (never read from a clock inside), actor, reason. */
export interface CommandContext {
  now: string;
  actor: Actor;
  reason?: string;
}

/** One command's part of a decider (emmett style: `decide` switches on the command type to one of
 *  these per command): the state it is decided on, that command, the context. */
export type Decide<S, C extends { type: string }, E, T extends C['type']> = (
  state: S,
  cmd: Extract<C, { type: T }>,
  ctx: CommandContext,
) => E[];
