// The program decider (R-PH-1..3): phases advance strictly in order, each exit gate either a recorded
// act or computed from state. Pure: no I/O, no clock (ctx.now comes from the caller).
import {
  assertNever,
  conflict,
  DomainError,
  notFound,
  ruleViolations,
  type Violation,
} from '../errors';
import { checkBudget } from '../rules/budget';
import type { FundUsePeriod, FundUseRow } from './fund-use';
import { checkIndicators } from './indicators';
import {
  decideRecordIndicatorValue,
  decideRegisterFundedUnits,
  decideRegisterStations,
  decideRegisterTrainings,
  EMPTY_REGISTER,
  evolveRegister,
  type Register,
  type RegisterCommand,
  type RegisterEvent,
} from './register';
import { beijingText, endOfDayShanghai } from '../time';
import {
  GATES,
  gatesOf,
  type CommandContext,
  type Decide,
  type DocumentRef,
  type GateKey,
  type PhasePlan,
  type ProgramDefinition,
  type PublicSender,
} from './types';

export type SubprojectStatus =
  | 'planned'
  | 'tendering'
  | 'awarded'
  | 'contracted'
  | 'in_progress'
  | 'accepted'
  | 'terminated'
  | 'settled';
export type FindingOrigin = 'self_check' | 'provincial';

export interface GateAct {
  phase: string;
  gate: GateKey;
  document: DocumentRef;
  by: string;
  at: string;
  reason: string | null;
}
export interface Finding {
  id: string;
  origin: FindingOrigin;
  title: string;
  due: string | null;
  phase: string;
  closed: null | { at: string; by: string; document: DocumentRef };
}

/** A report (举报) from the public through the column (R-PUB-1), at any time, and the office's answer. */
export interface PublicReport {
  id: string;
  /** the subproject it is about, if the sender named one */
  seq: number | null;
  text: string;
  at: string;
  sender: PublicSender;
  answer: null | { text: string; by: string; at: string };
}

export interface ActiveProgram {
  status: 'active' | 'closed';
  def: ProgramDefinition;
  phaseIndex: number; // index into def.phases; = phases.length once closed
  phaseEnteredAt: string;
  /** when each phase was entered, by index (the plan's actual dates); absent in states folded
   * before it was kept: read with phaseDates() */
  phaseEntered?: (string | null)[];
  acts: GateAct[];
  findings: Finding[];
  /** absent in states stored before reports existed */
  reports?: PublicReport[];
  /** R-FUND-9: the periods whose fund use has been published (absent in older states) */
  fundUse?: { key: string; at: string }[];
  /** R-EV-1: what was built and done (absent in states stored before the register existed) */
  register?: Register;
  subprojects: Record<number, SubprojectStatus>;
  createdAt: string;
  closedAt: string | null;
}
export type ProgramState = { status: 'empty' } | ActiveProgram;
export const initialProgramState: ProgramState = { status: 'empty' };

export type ProgramCommand =
  | { type: 'CreateProgram'; definition: ProgramDefinition }
  | { type: 'RecordGateAct'; gate: GateKey; document: DocumentRef }
  /** subprojectStatuses: facts from the subprojects' own streams (the engine reads them); without them the program's own record is used */
  | { type: 'AdvancePhase'; to: string; subprojectStatuses?: Record<number, SubprojectStatus> }
  | { type: 'RecordFinding'; origin: FindingOrigin; title: string; due?: string | null }
  | { type: 'CloseFinding'; findingId: string; document: DocumentRef }
  | { type: 'FileReport'; seq: number | null; text: string; sender: PublicSender }
  | { type: 'AnswerReport'; reportId: string; text: string }
  /** R-FUND-9: rows are the ledger's figures for the period, read by the caller */
  | { type: 'PublishFundUse'; period: FundUsePeriod; rows: FundUseRow[] }
  | RegisterCommand;

export type ProgramEvent =
  | { type: 'ProgramCreated'; data: { definition: ProgramDefinition; at: string } }
  | { type: 'GateActRecorded'; data: GateAct }
  | { type: 'PhaseAdvanced'; data: { from: string; to: string; at: string } }
  | { type: 'ProgramClosed'; data: { from: string; at: string } }
  | { type: 'FindingRecorded'; data: Omit<Finding, 'closed'> }
  | { type: 'FindingClosed'; data: { id: string; at: string; by: string; document: DocumentRef } }
  | { type: 'ReportFiled'; data: Omit<PublicReport, 'answer'> }
  | { type: 'ReportAnswered'; data: { id: string; text: string; by: string; at: string } }
  | {
      type: 'FundUsePublished';
      data: { period: FundUsePeriod; rows: FundUseRow[]; by: string; at: string };
    }
  | RegisterEvent;

export const CLOSED = 'closed';

/** The program's register, also in a state stored before it existed. */
export const registerOf = (s: ActiveProgram): Register => s.register ?? EMPTY_REGISTER;

export interface GateStatus {
  key: GateKey;
  name: string;
  kind: 'act' | 'computed';
  open: boolean;
  act: GateAct | null;
  detail: string | null; // why it is open (computed gates)
  violations: Violation[]; // for budget_valid
}

function currentPhase(s: ActiveProgram): PhasePlan | null {
  return s.def.phases[s.phaseIndex] ?? null;
}

type ComputedGate = {
  [K in GateKey]: (typeof GATES)[K]['kind'] extends 'computed' ? K : never;
}[GateKey];
const isComputed = (key: GateKey): key is ComputedGate => GATES[key].kind === 'computed';

/** The exit gates of the current phase and whether each is still open (R-PH-2). */
export function gateStatuses(
  s: ActiveProgram,
  subprojectStatuses?: Record<number, SubprojectStatus>,
): GateStatus[] {
  const phase = currentPhase(s);
  if (!phase) return [];
  return gatesOf(phase).map((key): GateStatus => {
    const g = GATES[key];
    const base: Omit<GateStatus, 'open'> = {
      key,
      name: g.name,
      kind: g.kind,
      act: null,
      detail: null,
      violations: [],
    };
    if (isComputed(key)) return { ...base, ...computedGate(s, key, subprojectStatuses) };
    const act = s.acts.find((a) => a.phase === phase.key && a.gate === key) ?? null;
    return { ...base, open: !act, act };
  });
}

/** A computed gate (R-PH-2): open or not, and why, from the program's state. */
function computedGate(
  s: ActiveProgram,
  key: ComputedGate,
  subprojectStatuses?: Record<number, SubprojectStatus>,
): Pick<GateStatus, 'open' | 'detail'> & { violations?: Violation[] } {
  switch (key) {
    case 'budget_valid': {
      const v = checkBudget(s.def);
      return {
        open: v.length > 0,
        violations: v,
        detail: v.length ? v.map((x) => x.message).join('；') : null,
      };
    }
    case 'subprojects_settled': {
      const pending = Object.entries({ ...s.subprojects, ...subprojectStatuses })
        .filter(([, st]) => st !== 'accepted' && st !== 'settled')
        .map(([seq]) => Number(seq));
      return {
        open: pending.length > 0,
        detail: pending.length ? `分项目 ${pending.join('、')} 尚未验收合格或结清` : null,
      };
    }
    case 'self_check_findings_closed':
    case 'evaluation_findings_closed': {
      const origin: FindingOrigin =
        key === 'self_check_findings_closed' ? 'self_check' : 'provincial';
      const open = s.findings.filter((f) => f.origin === origin && !f.closed);
      return {
        open: open.length > 0,
        detail: open.length
          ? `未整改完毕：${open.map((f) => `${f.id} ${f.title}`).join('；')}`
          : null,
      };
    }
    default:
      return assertNever(key, 'computed gate');
  }
}

/** R-PH-3: the current phase runs past its planned end (end of that day, Asia/Shanghai). */
/** Whole days (rounded up) that `at` lies past the end of the planned day `end` in Asia/Shanghai; 0 if not. */
const daysLate = (at: string, end: string): number =>
  Math.max(0, Math.ceil((Date.parse(at) - endOfDayShanghai(end)) / 86_400_000));

export function overdue(
  s: ProgramState,
  now: string,
): { phase: string; end: string; days: number } | null {
  if (s.status !== 'active') return null;
  const phase = currentPhase(s);
  if (!phase?.end) return null;
  const days = daysLate(now, phase.end);
  return days > 0 ? { phase: phase.key, end: phase.end, days } : null;
}

/** The entry dates by phase index; a state folded before they were kept knows only the current one. */
const enteredSoFar = (s: ActiveProgram): (string | null)[] =>
  s.phaseEntered ?? [...Array<null>(s.phaseIndex).fill(null), s.phaseEnteredAt];

/** Each phase's plan against what happened: entered and left (actual), and the days it ran or has
 * run past its planned end (0 when on time; for the current phase as of `now`). */
export function phaseDates(
  s: ActiveProgram,
  now: string,
): {
  key: string;
  start: string | null;
  end: string | null;
  enteredAt: string | null;
  leftAt: string | null;
  lateDays: number;
}[] {
  const entered = enteredSoFar(s);
  return s.def.phases.map((p, i) => {
    const enteredAt = entered[i] ?? null;
    const leftAt =
      i < s.phaseIndex
        ? (entered[i + 1] ?? (i === s.def.phases.length - 1 ? s.closedAt : null))
        : null;
    const until = leftAt ?? (i === s.phaseIndex && s.status === 'active' ? now : null);
    const lateDays = until && p.end ? daysLate(until, p.end) : 0;
    return {
      key: p.key,
      start: p.start,
      end: p.end,
      enteredAt,
      leftAt,
      lateDays,
    };
  });
}

function active(s: ProgramState): ActiveProgram {
  if (s.status === 'empty') throw notFound('综合示范项目不存在', 'program not found');
  if (s.status === 'closed')
    throw conflict('R-PH-1', '项目已全部结束，不能再变更', 'the program is closed');
  return s;
}

/** The part of the decider for one command type, decided on a program in state `S`. */
type On<S, T extends ProgramCommand['type']> = Decide<S, ProgramCommand, ProgramEvent, T>;

const decideCreateProgram: On<ProgramState, 'CreateProgram'> = (state, cmd, ctx) => {
  if (state.status !== 'empty')
    throw conflict(
      'CONFLICT',
      `项目代码 ${cmd.definition.code} 已存在`,
      `program ${cmd.definition.code} already exists`,
    );
  const violations = [...checkBudget(cmd.definition), ...checkIndicators(cmd.definition)];
  if (violations.length) throw ruleViolations(violations);
  return [{ type: 'ProgramCreated', data: { definition: cmd.definition, at: ctx.now } }];
};

const gateConflict = (zh: string, en: string) =>
  new DomainError('R-PH-2', 'conflict', zh, en, { field: 'gate' });

/** R-PH-2: an act gate of the current phase, recorded once. */
const decideRecordGateAct: On<ActiveProgram, 'RecordGateAct'> = (s, cmd, ctx) => {
  const phase = currentPhase(s)!;
  const gates = gatesOf(phase);
  const gate = GATES[cmd.gate];
  if (!gates.includes(cmd.gate))
    throw gateConflict(
      `当前阶段「${phase.name}」没有关口「${gate.name}」（本阶段关口：${gates.map((g) => GATES[g].name).join('、')}）`,
      `gate ${cmd.gate} does not belong to the current phase ${phase.key} (its gates: ${gates.join(', ')})`,
    );
  if (gate.kind !== 'act')
    throw gateConflict(
      `关口「${gate.name}」由系统根据数据自动判定，不能人工登记`,
      `gate ${cmd.gate} is computed from state and cannot be recorded`,
    );
  const prior = s.acts.find((a) => a.phase === phase.key && a.gate === cmd.gate);
  if (prior)
    throw gateConflict(
      `关口「${gate.name}」已于 ${beijingText(prior.at)} 由 ${prior.by} 登记`,
      `gate ${cmd.gate} was already recorded by ${prior.by} at ${prior.at}`,
    );
  return [
    {
      type: 'GateActRecorded',
      data: {
        phase: phase.key,
        gate: cmd.gate,
        document: cmd.document,
        by: ctx.actor.username,
        at: ctx.now,
        reason: ctx.reason ?? null,
      },
    },
  ];
};

/** R-PH-1: only the next phase (or the end after the last); R-PH-2: every exit gate closed. */
const decideAdvancePhase: On<ActiveProgram, 'AdvancePhase'> = (s, cmd, ctx) => {
  const from = s.def.phases[s.phaseIndex];
  const next = s.def.phases[s.phaseIndex + 1]?.key ?? CLOSED;
  if (cmd.to !== next) throw outOfOrder(s, cmd.to, next);
  const open = gateStatuses(s, cmd.subprojectStatuses).filter((g) => g.open);
  if (open.length) throw gatesOpen(from, open);
  return next === CLOSED
    ? [{ type: 'ProgramClosed', data: { from: from.key, at: ctx.now } }]
    : [{ type: 'PhaseAdvanced', data: { from: from.key, to: next, at: ctx.now } }];
};

/** R-PH-1: the refusal of a phase other than the next one, saying how it is out of order. */
function outOfOrder(s: ActiveProgram, to: string, next: string): DomainError {
  const phases = s.def.phases;
  const from = phases[s.phaseIndex];
  const target = phases.findIndex((p) => p.key === to);
  const [how, howEn] =
    target === -1 && to !== CLOSED
      ? [`没有阶段「${to}」`, `no phase ${to}`]
      : target === s.phaseIndex
        ? [`项目已处于「${from.name}」阶段`, `already in ${from.key}`]
        : target !== -1 && target < s.phaseIndex
          ? ['阶段不能回退', 'phases cannot go back']
          : ['阶段不能跳过', 'phases cannot be skipped'];
  return new DomainError(
    'R-PH-1',
    'conflict',
    `${how}：当前阶段「${from.name}」之后只能进入「${next === CLOSED ? '项目结束' : phases[s.phaseIndex + 1].name}」`,
    `${howEn}: after ${from.key} comes ${next}`,
    { field: 'to', figures: { current: from.key, next, requested: to } },
  );
}

/** R-PH-2: the refusal naming every exit gate still open, one violation each. */
function gatesOpen(from: { key: string; name: string }, open: GateStatus[]): DomainError {
  const violations: Violation[] = open.map((g) => ({
    rule: 'R-PH-2',
    field: `gates.${g.key}`,
    message: `关口未完成：${g.name}${g.detail ? `（${g.detail}）` : ''}`,
    message_en: `gate open: ${g.key}${g.violations.length ? ` (${g.violations.map((v) => v.message_en).join('; ')})` : ''}`,
    figures: { gate: g.key },
  }));
  return new DomainError(
    'R-PH-2',
    'conflict',
    `阶段「${from.name}」尚有 ${open.length} 个关口未完成：${open.map((g) => (g.detail ? `${g.name}（${g.detail}）` : g.name)).join('；')}`,
    `phase ${from.key} has open gates: ${open.map((g) => g.key).join(', ')}`,
    { violations },
  );
}

const decideRecordFinding: On<ActiveProgram, 'RecordFinding'> = (s, cmd) => [
  {
    type: 'FindingRecorded',
    data: {
      id: `F${s.findings.length + 1}`,
      origin: cmd.origin,
      title: cmd.title,
      due: cmd.due ?? null,
      phase: currentPhase(s)!.key,
    },
  },
];

const decideCloseFinding: On<ActiveProgram, 'CloseFinding'> = (s, cmd, ctx) => {
  const f = s.findings.find((x) => x.id === cmd.findingId);
  if (!f)
    throw new DomainError(
      'NOT-FOUND',
      'not_found',
      `整改事项 ${cmd.findingId} 不存在`,
      `finding ${cmd.findingId} not found`,
      { field: 'findingId' },
    );
  if (f.closed)
    throw conflict(
      'CONFLICT',
      `整改事项 ${f.id} 已于 ${beijingText(f.closed.at)} 关闭`,
      `finding ${f.id} is already closed`,
    );
  const data = { id: f.id, at: ctx.now, by: ctx.actor.username, document: cmd.document };
  return [{ type: 'FindingClosed', data }];
};

/** The program's reports, also in a state stored before they existed. */
export const reportsOf = (s: ActiveProgram): PublicReport[] => s.reports ?? [];

/** A program that exists, closed or not: the public may report (举报) at any time (R-PUB-1). */
function existing(s: ProgramState): ActiveProgram {
  if (s.status === 'empty') throw notFound('综合示范项目不存在', 'program not found');
  return s;
}

const decideFileReport: On<ActiveProgram, 'FileReport'> = (s, cmd, ctx) => {
  if (cmd.seq !== null && !s.def.subprojects.some((sp) => sp.seq === cmd.seq))
    throw new DomainError(
      'NOT-FOUND',
      'not_found',
      `没有分项目 ${cmd.seq}`,
      `no subproject ${cmd.seq}`,
      { field: 'seq' },
    );
  const data = {
    id: `R${reportsOf(s).length + 1}`,
    seq: cmd.seq,
    text: cmd.text,
    at: ctx.now,
    sender: cmd.sender,
  };
  return [{ type: 'ReportFiled', data }];
};

/** The office answers a report once; the answer is what the sender reads by the receipt. */
const decideAnswerReport: On<ActiveProgram, 'AnswerReport'> = (s, cmd, ctx) => {
  const r = reportsOf(s).find((x) => x.id === cmd.reportId);
  if (!r)
    throw new DomainError(
      'NOT-FOUND',
      'not_found',
      `举报 ${cmd.reportId} 不存在`,
      `report ${cmd.reportId} not found`,
      { field: 'reportId' },
    );
  if (r.answer)
    throw conflict(
      'CONFLICT',
      `举报 ${r.id} 已于 ${beijingText(r.answer.at)} 答复`,
      `report ${r.id} is already answered`,
    );
  const data = { id: r.id, text: cmd.text, by: ctx.actor.username, at: ctx.now };
  return [{ type: 'ReportAnswered', data }];
};

/** R-FUND-9: a period's fund use, published once the period is over, once (a mistake is corrected by a
 * correction notice citing it, R-PUB-3), with a row for every subproject of the table. */
const decidePublishFundUse: On<ActiveProgram, 'PublishFundUse'> = (s, cmd, ctx) => {
  const { period } = cmd;
  if (Date.parse(ctx.now) <= endOfDayShanghai(period.lastDay))
    throw new DomainError(
      'R-FUND-9',
      'conflict',
      `${period.name}尚未结束（至 ${period.lastDay}），期满后才能公开该期资金使用情况`,
      `the period ${period.key} has not ended yet`,
      { field: 'period' },
    );
  const done = (s.fundUse ?? []).find((x) => x.key === period.key);
  if (done)
    throw new DomainError(
      'R-FUND-9',
      'conflict',
      `${period.name}资金使用情况已于 ${beijingText(done.at)} 公开；如有错误请发更正通知`,
      `the fund use of ${period.key} is already published`,
      { field: 'period' },
    );
  const missing = s.def.subprojects.filter((sp) => !cmd.rows.some((r) => r.seq === sp.seq));
  if (missing.length)
    throw new Error(
      `unreachable: fund use rows miss subprojects ${missing.map((x) => x.seq).join(', ')}`,
    );
  return [
    {
      type: 'FundUsePublished',
      data: { period, rows: cmd.rows, by: ctx.actor.username, at: ctx.now },
    },
  ];
};

export function decideProgram(
  state: ProgramState,
  cmd: ProgramCommand,
  ctx: CommandContext,
): ProgramEvent[] {
  switch (cmd.type) {
    case 'CreateProgram':
      return decideCreateProgram(state, cmd, ctx);
    case 'RecordGateAct':
      return decideRecordGateAct(active(state), cmd, ctx);
    case 'AdvancePhase':
      return decideAdvancePhase(active(state), cmd, ctx);
    case 'RecordFinding':
      return decideRecordFinding(active(state), cmd, ctx);
    case 'CloseFinding':
      return decideCloseFinding(active(state), cmd, ctx);
    case 'FileReport':
      return decideFileReport(existing(state), cmd, ctx);
    case 'AnswerReport':
      return decideAnswerReport(existing(state), cmd, ctx);
    case 'PublishFundUse':
      return decidePublishFundUse(existing(state), cmd, ctx);
    case 'RegisterStations': {
      const s = active(state);
      return decideRegisterStations(s.def, registerOf(s), cmd, ctx);
    }
    case 'RegisterTrainings': {
      const s = active(state);
      return decideRegisterTrainings(s.def, registerOf(s), cmd, ctx);
    }
    case 'RegisterFundedUnits': {
      const s = active(state);
      return decideRegisterFundedUnits(s.def, registerOf(s), cmd, ctx);
    }
    case 'RecordIndicatorValue':
      return decideRecordIndicatorValue(active(state).def, cmd, ctx);
    default:
      return assertNever(cmd, 'command');
  }
}

export function evolveProgram(state: ProgramState, event: ProgramEvent): ProgramState {
  if (event.type === 'ProgramCreated') {
    const def = event.data.definition;
    return {
      status: 'active',
      def,
      phaseIndex: 0,
      phaseEnteredAt: event.data.at,
      phaseEntered: [event.data.at],
      acts: [],
      findings: [],
      reports: [],
      fundUse: [],
      subprojects: Object.fromEntries(def.subprojects.map((sp) => [sp.seq, 'planned'])),
      createdAt: event.data.at,
      closedAt: null,
    };
  }
  if (state.status === 'empty') return state;
  switch (event.type) {
    case 'GateActRecorded':
      return { ...state, acts: [...state.acts, event.data] };
    case 'PhaseAdvanced':
      return {
        ...state,
        phaseIndex: state.phaseIndex + 1,
        phaseEnteredAt: event.data.at,
        phaseEntered: [...enteredSoFar(state), event.data.at],
      };
    case 'ProgramClosed':
      return {
        ...state,
        status: 'closed',
        phaseIndex: state.def.phases.length,
        closedAt: event.data.at,
      };
    case 'FindingRecorded':
      return { ...state, findings: [...state.findings, { ...event.data, closed: null }] };
    case 'FindingClosed':
      return {
        ...state,
        findings: state.findings.map((f) =>
          f.id === event.data.id
            ? {
                ...f,
                closed: { at: event.data.at, by: event.data.by, document: event.data.document },
              }
            : f,
        ),
      };
    case 'ReportFiled':
      return { ...state, reports: [...reportsOf(state), { ...event.data, answer: null }] };
    case 'FundUsePublished':
      return {
        ...state,
        fundUse: [...(state.fundUse ?? []), { key: event.data.period.key, at: event.data.at }],
      };
    case 'ReportAnswered': {
      const { id, ...answer } = event.data;
      return {
        ...state,
        reports: reportsOf(state).map((r) => (r.id === id ? { ...r, answer } : r)),
      };
    }
    case 'StationsRegistered':
    case 'TrainingsRegistered':
    case 'FundedUnitsRegistered':
    case 'IndicatorValueRecorded':
      return { ...state, register: evolveRegister(registerOf(state), event) };
    default:
      return assertNever(event, 'event');
  }
}

export const programDecider = {
  streamType: 'program',
  initialState: initialProgramState,
  decide: decideProgram,
  evolve: evolveProgram,
} as const;
