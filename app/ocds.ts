// Open Contracting Data Standard 1.1 (vendor/ocds-1.1.5): each subproject is one contracting process
// (ocid = <prefix>-<program>-<seq>); a release package per program holds, per process, the planning
// release of the budget table and a release of its state now (tender, award, contract with its
// milestones and transactions); a record package compiles them. Public data only, as the public column
// shows it (R-PUB-1): bids (tenderers, prices) only after their round's opening, public notices only,
// no evidence files, evaluators' opinions or internal reasons.
// Amounts are CNY as JSON numbers written from the exact 元 decimal (fen → "1500000.01" → number).
import { formatMoney, sumFen, type Fen } from '../workflows/money';
import { NOTICE_KIND_NAMES, type NoticeKind } from '../workflows/notices';
import {
  DIRECTIONS,
  PROCUREMENTS,
  SOURCE_NAMES,
  SOURCES,
  type Source,
} from '../workflows/program/types';
import { liveBids } from '../workflows/subproject/access';
import type { SubprojectCore, Tender } from '../workflows/subproject/types';
import type { AppContext } from './context';
import { loadProgram, loadSubproject } from './queries';

/** OCDS 1.1 extensions used: the budget by funding source, transactions tied to milestones. */
export const OCDS_EXTENSIONS = [
  'https://raw.githubusercontent.com/open-contracting-extensions/ocds_budget_breakdown_extension/master/extension.json',
  'https://raw.githubusercontent.com/open-contracting-extensions/ocds_transaction_milestones_extension/master/extension.json',
];
export const OCID_PREFIX_PATTERN = /^ocds-[0-9a-z]{6}$/;
/** the prefix until the publisher registers its own with the OCDS Data Support Team */
export const DEFAULT_OCID_PREFIX = 'ocds-shifan';

export interface OcdsOptions {
  /** the publisher's registered ocid prefix (OCDS_OCID_PREFIX), e.g. ocds-shifan */
  ocidPrefix: string;
  /** how readers reach this server, for the package's uri */
  baseUrl: string;
}

const value = (fen: Fen) => ({ amount: Number(formatMoney(fen, '元')), currency: 'CNY' });
/** A calendar day (YYYY-MM-DD, Asia/Shanghai) as the end of that day, as the tables mean a deadline. */
const endOfDay = (d: string) => `${d}T23:59:59+08:00`;
const latest = (xs: (string | null | undefined)[]) =>
  xs
    .filter((x): x is string => !!x)
    .sort()
    .pop() ?? null;

const PROCUREMENT_METHOD: Partial<Record<keyof typeof PROCUREMENTS, string>> = {
  public_tender: 'open',
  direct: 'direct',
  designated: 'direct',
  government_purchase: 'selective',
};
const DOCUMENT_TYPE: Record<
  NoticeKind,
  { type: string; at: 'tender' | 'award' | 'contract' | 'implementation' }
> = {
  tender_announcement: { type: 'tenderNotice', at: 'tender' },
  candidate_publicity: { type: 'evaluationReports', at: 'award' },
  award_notice: { type: 'awardNotice', at: 'award' },
  contract_summary: { type: 'contractSummary', at: 'contract' },
  acceptance_publicity: { type: 'completionCertificate', at: 'implementation' },
  rectification_notice: { type: 'physicalProgressReport', at: 'implementation' },
  disbursement_notice: { type: 'financialProgressReport', at: 'implementation' },
  public_naming: { type: 'debarments', at: 'implementation' },
  clawback_notice: { type: 'financialProgressReport', at: 'implementation' },
  fund_use_publication: { type: 'financialProgressReport', at: 'implementation' },
  correction: { type: 'clarifications', at: 'implementation' },
};

type Json = Record<string, unknown>;
interface PublicNotice {
  id: bigint;
  docNumber: string;
  kind: string;
  title: string;
  issuedAt: Date;
  streamId: string;
}

/** The round whose contractor was chosen, or the last one. */
const lastRound = (s: SubprojectCore): Tender | undefined => s.tenders[s.tenders.length - 1];

async function programReleases(ctx: AppContext, code: string, o: OcdsOptions) {
  const { state: p } = await loadProgram(ctx, code);
  const d = p.def;
  const [subs, notices] = await Promise.all([
    Promise.all(d.subprojects.map((sp) => loadSubproject(ctx, code, sp.seq))),
    ctx.prisma.officialNotice.findMany({
      where: { programCode: code, isPublic: true },
      orderBy: { id: 'asc' },
      select: {
        id: true,
        docNumber: true,
        kind: true,
        title: true,
        issuedAt: true,
        streamId: true,
      },
    }),
  ]);
  const office = {
    id: `${code}-office`,
    name: d.disclosure?.office ?? `${d.county}电子商务进农村综合示范工作领导小组办公室`,
  };
  const finance = { id: `${code}-finance`, name: `${d.county}财政局` };
  const funders: Record<Source, { id: string; name: string }> = {
    central: { id: 'CN-central-funds', name: '中央财政资金（财政部、商务部）' },
    local: { id: `${code}-local-funds`, name: `${d.county}地方财政资金` },
    enterprise: { id: `${code}-enterprise-funds`, name: '企业自筹及社会资本' },
  };
  const address = { region: d.province, locality: d.county, countryName: '中国' };
  const baseParties = (): Json[] => [
    { ...office, roles: ['buyer', 'procuringEntity'], address },
    { ...finance, roles: ['payer'], address },
    ...SOURCES.map((s) => ({ ...funders[s], roles: ['funder'] })),
  ];
  const noticesOf = (seq: number) =>
    notices.filter((n: PublicNotice) => n.streamId === `subproject-${code}-${seq}`);
  const documentsAt = (seq: number, at: string) =>
    noticesOf(seq)
      .filter((n) => DOCUMENT_TYPE[n.kind as NoticeKind]?.at === at)
      .map((n) => ({
        id: n.docNumber,
        documentType: DOCUMENT_TYPE[n.kind as NoticeKind].type,
        title: `${n.title}（${n.docNumber}）`,
        description: `${NOTICE_KIND_NAMES[n.kind as NoticeKind] ?? n.kind}，文号 ${n.docNumber}`,
        url: `${o.baseUrl}/gongkai/${code}#notice-${n.id}`,
        datePublished: n.issuedAt.toISOString(),
        format: 'text/html',
        language: 'zh',
      }));

  const releases: Json[] = [];
  d.subprojects.forEach((sp, i) => {
    const ocid = `${o.ocidPrefix}-${code}-${sp.seq}`;
    const budget = sumFen(SOURCES.map((s) => sp.funding[s]));
    const planning = {
      budget: {
        id: `${code}-${sp.seq}-budget`,
        description: `${d.name}资金安排表 分项目${sp.seq}（${DIRECTIONS[sp.direction]}）`,
        amount: value(budget),
        project: d.name,
        projectID: d.code,
        budgetBreakdown: SOURCES.filter((s) => sp.funding[s] > 0).map((s) => ({
          id: s,
          description: SOURCE_NAMES[s],
          amount: value(sp.funding[s]),
          sourceParty: funders[s],
        })),
      },
      rationale: sp.goal || undefined,
    };
    const method = PROCUREMENT_METHOD[sp.procurement];
    const tenderBase = {
      id: `${ocid}-tender`,
      title: sp.name,
      description: sp.goal || undefined,
      mainProcurementCategory: 'services',
      value: value(budget),
      ...(method ? { procurementMethod: method } : {}),
      procurementMethodDetails: PROCUREMENTS[sp.procurement],
      procuringEntity: office,
    };
    releases.push({
      ocid,
      id: `${ocid}-planning`,
      date: p.createdAt,
      tag: ['planning'],
      initiationType: 'tender',
      language: 'zh',
      parties: baseParties(),
      buyer: office,
      planning,
      tender: { ...tenderBase, status: 'planning' },
    });
    const s = subs[i].state;
    if (s.status !== 'active') return;
    releases.push(currentRelease(s, subs[i].version));

    function currentRelease(s: SubprojectCore, version: number): Json {
      const parties = baseParties();
      const partyOf = (name: string, role: string) => {
        const id = `org-${name}`;
        const found = parties.find((x) => x.id === id);
        const roles = found?.roles as string[] | undefined;
        if (roles && !roles.includes(role)) roles.push(role);
        if (!found) parties.push({ id, name, roles: [role] });
        return { id, name };
      };
      const tag = ['tender'];
      const round = lastRound(s);
      // bids are sealed until their round is opened (R-TD-1): no tenderer, no price before
      const opened = round?.opening ? liveBids(round) : [];
      const tenderers = opened.map((b) => partyOf(b.org, 'tenderer'));
      const tenderStatus =
        s.stage === 'failed'
          ? 'unsuccessful'
          : s.stage === 'awarded' || s.stage === 'contracted'
            ? 'complete'
            : s.stage === 'unprocured'
              ? 'planning'
              : 'active';
      const tender: Json = {
        ...tenderBase,
        status: tenderStatus,
        ...(round
          ? {
              title: round.announcement.title,
              tenderPeriod: { startDate: round.openedAt, endDate: round.bidDeadline },
              ...(round.opening ? { numberOfTenderers: opened.length, tenderers } : {}),
            }
          : {}),
        documents: documentsAt(s.seq, 'tender'),
      };
      const out: Json = {
        ocid,
        id: `${ocid}-${version}`,
        date: '',
        tag,
        initiationType: 'tender',
        language: 'zh',
        parties,
        buyer: office,
        planning,
        tender,
      };
      const dates: (string | null | undefined)[] = [
        s.createdAt,
        round?.openedAt,
        round?.opening?.at,
      ];
      if (s.award) {
        tag.push('award');
        const supplier = partyOf(s.award.org, 'supplier');
        const bid = opened.find((b) => b.org === s.award!.org);
        out.awards = [
          {
            id: `${ocid}-award-1`,
            title: s.award.designated
              ? `${PROCUREMENTS[s.procurement]}：${s.award.org}`
              : `中标：${s.award.org}`,
            status: 'active',
            date: s.award.at,
            ...(bid ? { value: value(bid.price) } : {}),
            suppliers: [supplier],
            documents: [
              ...(s.award.document
                ? [
                    {
                      id: s.award.document.number ?? `${ocid}-award-document`,
                      documentType: 'awardNotice',
                      title: s.award.document.title,
                      ...(s.award.document.number
                        ? { description: `文号 ${s.award.document.number}` }
                        : {}),
                    },
                  ]
                : []),
              ...documentsAt(s.seq, 'award'),
            ],
          },
        ];
        dates.push(s.award.at);
      }
      const c = s.contract;
      if (c) {
        tag.push('contract');
        const supplier = partyOf(c.org, 'supplier');
        partyOf(c.org, 'payee');
        const del = s.delivery;
        const title = (key: string) => c.milestones.find((m) => m.key === key)?.title ?? key;
        const transactions: Json[] = del.disbursements.map((x) => ({
          id: x.id,
          source: `${o.baseUrl}/api/programs/${code}/subprojects/${s.seq}/ledger`,
          date: x.at,
          value: value(x.amount),
          payer: finance,
          payee: supplier,
          relatedImplementationMilestone: { id: x.milestone, title: title(x.milestone) },
          description: `${SOURCE_NAMES[x.source]}拨付（批次 ${x.tranche}）`,
        }));
        for (const r of del.clawback?.recoveries ?? [])
          transactions.push({
            id: r.id,
            date: r.at,
            value: value(r.amount),
            payer: supplier,
            payee: finance,
            description: `追回已拨付资金（${SOURCE_NAMES[r.source]}）`,
          });
        const milestones = c.milestones.map((m) => {
          const st = del.milestones[m.key];
          const accepted = st?.decisions.filter((x) => x.decision === 'accept').pop();
          const status =
            st?.status === 'accepted' || st?.status === 'publicity'
              ? 'met'
              : st?.status === 'failed'
                ? 'notMet'
                : 'scheduled';
          return {
            id: m.key,
            title: m.title,
            type: 'delivery',
            dueDate: endOfDay(m.due),
            status,
            ...(status === 'met' && accepted ? { dateMet: accepted.at } : {}),
          };
        });
        const implementation: Json = {
          milestones,
          transactions,
          documents: documentsAt(s.seq, 'implementation'),
        };
        if (transactions.length || milestones.some((m) => m.status !== 'scheduled'))
          tag.push('implementation');
        if (del.terminated) tag.push('contractTermination');
        out.contracts = [
          {
            id: `${ocid}-contract-1`,
            awardID: `${ocid}-award-1`,
            title: c.document.title,
            status: del.terminated ? 'terminated' : 'active',
            dateSigned: c.signedAt,
            value: value(sumFen(c.tranches.map((t) => t.amount))),
            documents: [
              {
                id: c.number ?? c.document.number ?? `${ocid}-contract`,
                documentType: 'contractSigned',
                title: c.document.title,
                ...(c.number ? { description: `合同编号 ${c.number}` } : {}),
              },
              ...documentsAt(s.seq, 'contract'),
            ],
            implementation,
          },
        ];
        dates.push(
          c.signedAt,
          ...del.disbursements.map((x) => x.at),
          ...(del.clawback?.recoveries ?? []).map((r) => r.at),
          del.terminated?.at,
          ...milestones.map((m) => ('dateMet' in m ? (m.dateMet as string) : null)),
        );
      }
      out.date = latest([...dates, ...noticesOf(s.seq).map((n) => n.issuedAt.toISOString())]);
      return out;
    }
  });
  return { program: p, releases };
}

const publisher = (p: { def: { county: string; disclosure?: { office?: string } } }) => ({
  name: p.def.disclosure?.office ?? `${p.def.county}电子商务进农村综合示范工作领导小组办公室`,
});

/** The release package of a program: per subproject its planning release and its current release. */
export async function ocdsReleasePackage(ctx: AppContext, code: string, o: OcdsOptions) {
  const { program, releases } = await programReleases(ctx, code, o);
  return {
    uri: `${o.baseUrl}/api/public/programs/${code}/ocds/releases`,
    version: '1.1',
    extensions: OCDS_EXTENSIONS,
    publishedDate: ctx.engine.clock.now().toISOString(),
    publisher: publisher(program),
    license: 'https://creativecommons.org/licenses/by/4.0/',
    publicationPolicy: `${o.baseUrl}/gongkai/${code}`,
    releases,
  };
}

/** The record package: per contracting process its releases and the compiled release (the latest
 * release holds every field of the earlier one, so compiling keeps it, tagged `compiled`). */
export async function ocdsRecordPackage(ctx: AppContext, code: string, o: OcdsOptions) {
  const { program, releases } = await programReleases(ctx, code, o);
  const byOcid = new Map<string, Json[]>();
  for (const r of releases)
    byOcid.set(r.ocid as string, [...(byOcid.get(r.ocid as string) ?? []), r]);
  return {
    uri: `${o.baseUrl}/api/public/programs/${code}/ocds/records`,
    version: '1.1',
    extensions: OCDS_EXTENSIONS,
    publishedDate: ctx.engine.clock.now().toISOString(),
    publisher: publisher(program),
    license: 'https://creativecommons.org/licenses/by/4.0/',
    publicationPolicy: `${o.baseUrl}/gongkai/${code}`,
    packages: [`${o.baseUrl}/api/public/programs/${code}/ocds/releases`],
    records: [...byOcid].map(([ocid, rs]) => {
      const last = rs[rs.length - 1];
      return {
        ocid,
        releases: rs,
        compiledRelease: { ...last, id: `${ocid}-compiled`, tag: ['compiled'] },
      };
    }),
  };
}
