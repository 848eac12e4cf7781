// Every input a person or a client gives a use case, as zod schemas: the HTTP routes validate with
// them (and document them in /openapi.json), the web pages validate their forms with them, the CLI its
// files. Amounts are strings (万元 or 元), parsed exactly by the use case.
import { z } from 'zod';
import { ROLES, SOURCES, TRAINING_ARCHIVE_ITEMS } from '../workflows/program/types';
import { NOTICE_KINDS } from '../workflows/notices';

// Validation messages in Chinese (users read them), for the API, the pages and the CLI alike; field
// paths and codes stay as they are. A field left out (or a form field left empty) says so plainly
// instead of zod's "expected string, received undefined".
z.config(z.locales.zhCN());
z.config({
  customError: (iss) =>
    iss.code === 'invalid_type' && iss.input === undefined ? '必填，不能为空' : undefined,
});

/** A use case's input: what its schema gives once it has parsed the request. */
export type In<S extends z.ZodType> = z.output<S>;

// ---- shared ----
export const DocumentRef = z
  .object({
    title: z
      .string()
      .min(1)
      .max(300)
      .meta({ description: '文件名称', example: '滕州市电子商务进农村综合示范实施方案' }),
    number: z
      .string()
      .max(100)
      .optional()
      .meta({ description: '文号', example: '滕商字〔2019〕12号' }),
    date: z.iso.date().optional().meta({ description: '成文日期' }),
    url: z.url().optional(),
  })
  .strict()
  .meta({ id: 'DocumentRef', description: '依据文件' });

/** Items of text (requirements, deliverables, findings, defects): none unless given. */
const texts = z.array(z.string().min(1)).default([]);

/** A milestone's or a tranche's key in a contract. */
const stepKey = z.string().regex(/^[A-Za-z0-9_-]{1,20}$/);

/** An amount in 万元, exact to the fen (parsed by the use case). */
const wan = z
  .string()
  // at most six significant decimals (1 fen = 0.000001 万元; trailing zeros are fine): the document says
  // what the money parser refuses instead of a 400 it did not announce
  .regex(
    /^\d[\d,]*(\.\d{1,6}0*)?$/,
    '金额（万元）应为十进制数字，最多6位小数（精确到分），如 "190" 或 "0.5"',
  )
  .meta({ description: '金额（万元），精确到分', example: '100' });

/** The office's ruling on an objection; `meaning` says what each decision does. */
const ObjectionRuling = (meaning: string) =>
  z
    .object({
      decision: z.enum(['upheld', 'dismissed']).meta({ description: meaning }),
      reason: z.string().min(1).max(2000),
    })
    .strict();

export const reason = z
  .string()
  .max(2000)
  .optional()
  .meta({ description: '理由或说明（记入审计记录）' });

// ---- programs ----

/** An act resting on a document: a gate closed, a finding closed. */
const DocumentAct = z.object({ document: DocumentRef, reason }).strict();

export const GateActBody = DocumentAct.meta({ id: 'GateActBody' });
export const AdvanceBody = z
  .object({
    to: z
      .string()
      .min(1)
      .meta({ description: '下一阶段的键；最后阶段之后为 closed', example: 'implement' }),
    reason,
  })
  .strict()
  .meta({ id: 'AdvanceBody' });
export const FindingBody = z
  .object({
    origin: z
      .enum(['self_check', 'provincial'])
      .meta({ description: 'self_check 自查发现；provincial 省级绩效评价发现' }),
    title: z.string().min(1).max(500),
    due: z.iso.date().optional(),
    reason,
  })
  .strict()
  .meta({ id: 'FindingBody' });
export const CloseFindingBody = DocumentAct.meta({ id: 'CloseFindingBody' });
/** The office's answer to a report from the public (R-PUB-1): what its sender reads by the receipt. */
export const AnswerReportBody = z
  .object({
    text: z.string().trim().min(1).max(2000).meta({ description: '答复（举报人凭回执编号可见）' }),
  })
  .strict()
  .meta({ id: 'AnswerReportBody' });

// ---- auth ----
export const LoginBody = z
  .object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) })
  .strict()
  .meta({ id: 'LoginBody' });

// ---- users ----
export const Username = z.object({
  username: z.string().regex(/^[A-Za-z0-9_.@-]{2,64}$/, '用户名须为2～64位字母、数字或 _.@-'),
});
export const UserBody = z
  .object({
    username: Username.shape.username,
    password: z.string().min(8, '密码至少8位').max(200),
    role: z.enum(ROLES),
    org: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: '所属组织（承办企业用户必填）' }),
    displayName: z.string().max(100).optional(),
    email: z.email().optional(),
    reason,
  })
  .strict()
  .meta({ id: 'UserBody' });
export const PasswordResetBody = z
  .object({ password: z.string().min(8, '密码至少8位').max(200), reason })
  .strict()
  .meta({ id: 'PasswordResetBody' });
export const AccountActBody = z.object({ reason }).strict().meta({ id: 'AccountActBody' });

// ---- procurement ----
const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).meta({
  description: '时间（ISO 8601，含时区）；只给日期时为北京时间当日 23:59:59',
  example: '2019-12-20T09:30:00+08:00',
});

export const TenderBody = z
  .object({
    announcement: z
      .object({
        title: z
          .string()
          .min(1)
          .max(300)
          .meta({ example: '滕州市三级物流配送体系建设项目招标公告' }),
        number: z.string().max(100).optional().meta({ description: '招标编号' }),
        qualifications: texts.meta({ description: '投标人资格要求' }),
        documents: z.array(DocumentRef).default([]).meta({ description: '招标文件' }),
      })
      .strict(),
    bidDeadline: instant.meta({
      description: '投标截止时间：自公告之日起不少于项目的最短投标期限（默认20天）',
    }),
    reason,
  })
  .strict()
  .meta({ id: 'TenderBody' });
export const BidBody = z
  .object({
    price: z
      .string()
      .regex(/^\d[\d,]*(\.\d{1,2})?$/)
      .meta({ description: '投标报价（元），不得超过分项目预算', example: '5380000.00' }),
    proposal: z.string().min(1).max(20000).meta({ description: '投标方案摘要' }),
    documents: z.array(DocumentRef).default([]),
  })
  .strict()
  .meta({ id: 'BidBody' });
export const OpeningBody = z
  .object({
    invalid: z
      .array(z.object({ org: z.string().min(1), reason: z.string().min(1) }).strict())
      .default([])
      .meta({ description: '开标时认定无效的投标及理由' }),
    reason,
  })
  .strict();
export const ScoresBody = z
  .object({
    scores: z
      .array(
        z
          .object({
            org: z.string().min(1),
            score: z.number().min(0).max(100).multipleOf(0.01),
            comment: z.string().max(2000).optional(),
          })
          .strict(),
      )
      .min(1),
    reason,
  })
  .strict()
  .meta({ id: 'ScoresBody' });
export const CandidateBody = z.object({ org: z.string().min(1), reason }).strict();
export const TenderObjectionBody = z
  .object({ text: z.string().min(1).max(5000).meta({ description: '异议内容' }) })
  .strict();
export const TenderResolveBody = ObjectionRuling(
  'upheld 异议成立（撤销候选人）；dismissed 驳回（恢复定标）',
);
export const AwardBody = z.object({ reason }).strict();
export const DesignationBody = z
  .object({
    org: z.string().min(1).meta({ description: '承办主体（已登记的组织）' }),
    reason: z.string().min(1).max(2000).meta({ description: '直接指定的理由（必填）' }),
    document: DocumentRef.optional(),
  })
  .strict();
export const ContractBody = z
  .object({
    number: z.string().max(100).optional().meta({ description: '协议编号' }),
    document: DocumentRef,
    milestones: z
      .array(
        z
          .object({
            key: stepKey,
            title: z.string().min(1),
            deliverables: texts,
            due: z.iso.date(),
            evidenceRequired: texts,
          })
          .strict(),
      )
      .min(1),
    tranches: z
      .array(
        z
          .object({
            key: stepKey,
            milestone: z.string().min(1),
            source: z.enum(SOURCES),
            amount: wan.meta({ description: '金额（万元），精确到分', example: '190' }),
          })
          .strict(),
      )
      .min(1)
      .meta({ description: '拨付批次：每个资金来源的批次合计必须恰好等于分项目该来源的预算' }),
    reason,
  })
  .strict()
  .meta({ id: 'ContractBody' });

// ---- delivery and funds ----
const sha = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .meta({ description: '已上传文件的 SHA-256（POST /api/files 的返回值）' });
export const SubmissionBody = z
  .object({
    deliverable: z.string().min(1).max(5000).meta({ description: '交付内容说明' }),
    counts: z
      .record(z.string(), z.number().int().nonnegative())
      .default({})
      .meta({ description: '计数成果，如 {"town_station": 21, "trainees": 1200}' }),
    files: z.array(sha).default([]),
    archive: z
      .record(z.string(), z.array(sha).min(1))
      .optional()
      .meta({
        description: `培训类里程碑的培训档案（R-AC-1），每项至少一个文件：${Object.entries(
          TRAINING_ARCHIVE_ITEMS,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join('；')}`,
      }),
  })
  .strict()
  .meta({ id: 'MilestoneSubmission' });
export const PreEvaluationBody = z
  .object({
    opinion: z.string().min(1).max(20000),
    findings: texts,
    recommendation: z
      .enum(['accept', 'reject'])
      .meta({ description: '建议结论（决定由办公室作出）' }),
  })
  .strict()
  .meta({ id: 'PreEvaluation' });
export const DecisionBody = z
  .object({
    decision: z.enum(['accept', 'reject']),
    defects: texts.meta({ description: '不合格时列出的问题（整改通知内容）' }),
    rectificationDeadline: z.iso
      .date()
      .optional()
      .meta({ description: '整改期限（缺省为项目参数 rectificationDays 天后）' }),
    reason,
  })
  .strict()
  .meta({ id: 'MilestoneDecision' });
export const AcceptanceObjectionBody = z.object({ text: z.string().min(1).max(5000) }).strict();
export const AcceptanceResolveBody = ObjectionRuling(
  'upheld 异议成立（退回整改）；dismissed 驳回（恢复拨付）',
);
export const ReleaseBody = z
  .object({
    amount: wan.optional().meta({ description: '本次拨付金额（万元）；缺省为该批次未拨付余额' }),
    reason,
  })
  .strict()
  .meta({ id: 'ReleaseBody' });
export const RecoveryBody = z
  .object({
    source: z.enum(SOURCES),
    amount: wan,
    reference: z.string().max(200).optional().meta({ description: '缴款凭证号' }),
    reason,
  })
  .strict()
  .meta({ id: 'RecoveryBody' });

// ---- parcel subsidies ----
export const ClaimBody = z
  .object({
    quarter: z
      .string()
      .regex(/^\d{4}Q[1-4]$/)
      .meta({ description: '申报季度', example: '2020Q1' }),
    file: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .meta({
        description:
          '电子运单 CSV 文件的 SHA-256（先 POST /api/files 上传，text/csv；第一列为运单号，可有表头）',
      }),
  })
  .strict()
  .meta({ id: 'ParcelClaimBody' });
export const ReviewBody = z
  .object({
    decision: z.enum(['approve', 'reject']),
    eligibleParcels: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .meta({ description: '核定符合条件（农产品上行）的件数，缺省为申报件数' }),
    reason: z.string().max(2000).optional(),
  })
  .strict();

// ---- notices ----
export const NoticeList = z.object({
  program: z.string().optional().meta({ description: '项目代码' }),
  kind: z.enum(NOTICE_KINDS).optional(),
});
export const CorrectionBody = z
  .object({
    text: z.string().min(1).max(20000).meta({ description: '更正内容' }),
    reason: z.string().max(2000).optional(),
  })
  .strict();
export const PreviewBody = z
  .object({
    data: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: '模板数据；缺省用 templates/samples.json 中的示例数据' }),
  })
  .strict();

// ---- the register of what was built and done (R-EV-1) ----
const seqRef = z
  .number()
  .int()
  .positive()
  .max(2_147_483_647)
  .optional()
  .meta({ description: '交付它的分项目序号（可选）' });
const milestoneRef = stepKey
  .optional()
  .meta({ description: '交付它的里程碑（承办协议中的编号，可选；须同时给出分项目）' });
const place = (description: string) => z.string().trim().min(1).max(200).meta({ description });

export const StationRow = z
  .object({
    level: z
      .enum(['county', 'town', 'village'])
      .meta({ description: 'county 县级中心；town 镇级服务站；village 村级服务点' }),
    name: place('站点名称（县级中心必填）').optional(),
    town: place('所在镇（街）（镇级、村级必填）').optional(),
    village: place('所在行政村（村级必填）').optional(),
    poorVillage: z.boolean().default(false).meta({ description: '所在行政村为贫困村（村级）' }),
    operator: place('运营主体'),
    openedOn: z.iso.date().meta({ description: '开业日期（不晚于今天）' }),
    seq: seqRef,
    milestone: milestoneRef,
  })
  .strict()
  .meta({ id: 'StationRow', description: '服务站点（建设台账的一行）' });
export const StationsBody = z
  .object({ stations: z.array(StationRow).min(1).max(5000), reason })
  .strict()
  .meta({ id: 'StationsBody' });

const count = (description: string) =>
  z.number().int().positive().max(1_000_000).meta({ description });
export const TrainingRow = z
  .object({
    date: z.iso.date().meta({ description: '培训日期（不晚于今天）' }),
    place: place('培训地点'),
    trainees: count('培训人数'),
    personTimes: count('培训人次（不少于人数）'),
    archiveComplete: z
      .boolean()
      .meta({ description: '培训档案齐全（R-AC-1：档案不全的不计入目标，也不予补贴）' }),
    seq: seqRef,
    milestone: milestoneRef,
  })
  .strict()
  .meta({ id: 'TrainingRow', description: '培训（建设台账的一行）' });
export const TrainingsBody = z
  .object({ sessions: z.array(TrainingRow).min(1).max(5000), reason })
  .strict()
  .meta({ id: 'TrainingsBody' });

export const RegisterCsvBody = z
  .object({
    file: sha.meta({
      description:
        'CSV 文件的 SHA-256（先 POST /api/files 上传，text/csv，UTF-8，首行为表头；列名见本接口说明）',
    }),
    reason,
  })
  .strict()
  .meta({ id: 'RegisterCsvBody' });

export const IndicatorValueBody = z
  .object({
    value: z
      .string()
      .trim()
      .regex(/^\d{1,12}(\.\d{1,2})?$/, '应为非负数，最多两位小数，如 "36" 或 "98.5"')
      .meta({ description: '数值（指标的单位）', example: '36' }),
    asOf: z.iso.date().meta({ description: '数值对应的日期（不晚于今天）' }),
    evidence: DocumentRef.meta({ description: '证明材料（如抽查报告、统计报表）' }),
    files: z.array(sha).max(20).default([]),
    reason,
  })
  .strict()
  .meta({ id: 'IndicatorValueBody' });

export const FundedRow = z
  .object({
    item: z.string().min(1).max(60).meta({
      description:
        '资金安排表 unitCaps 中的补助项目，如 loan、demo_town、demo_village、upward_subitem',
      example: 'loan',
    }),
    unit: place('补助对象：借款人、示范乡镇、示范村或子项目名称'),
    amount: wan.meta({ description: '金额（万元），精确到分', example: '20' }),
    date: z.iso.date().meta({ description: '发放或补助日期（不晚于今天）' }),
    seq: seqRef,
    milestone: milestoneRef,
  })
  .strict()
  .meta({ id: 'FundedRow', description: '补助对象（按单位补助上限检查，R-FUND-5）' });
export const FundedBody = z
  .object({ entries: z.array(FundedRow).min(1).max(5000), reason })
  .strict()
  .meta({ id: 'FundedBody' });
