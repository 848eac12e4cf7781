// The kinds of official notice (R-PUB-1) and their Chinese names.
export const NOTICE_KIND_NAMES = {
  tender_announcement: '招标公告',
  candidate_publicity: '中标候选人公示',
  award_notice: '中标（承办）通知书',
  contract_summary: '承办协议摘要',
  acceptance_publicity: '验收结果公示',
  rectification_notice: '整改通知书',
  disbursement_notice: '资金拨付通知',
  public_naming: '通报',
  clawback_notice: '追回通知书',
  correction: '更正通知',
  fund_use_publication: '资金使用情况公开',
} as const;
export type NoticeKind = keyof typeof NOTICE_KIND_NAMES;
export const NOTICE_KINDS = Object.keys(NOTICE_KIND_NAMES) as [NoticeKind, ...NoticeKind[]];

// 文号 (issue 12.5): 机关代字〔年份〕序号号, numbered per issuing office (its 机关代字) and year of issue.
/** A 机关代字: two to twelve Chinese characters, e.g. 滕商务 (滕州市商务局). */
// the Han ideographs of the Basic Multilingual Plane (CJK Unified, Extension A, Compatibility) as
// explicit ranges: an OpenAPI client or fuzzer can generate from them (\p{Script=Han} it cannot)
export const DOC_PREFIX_PATTERN = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,12}$/;

/** The default 机关代字 of a county's office: its first character + 商务 (滕州市 → 滕商务). */
export const defaultDocPrefix = (county: string): string => `${Array.from(county)[0] ?? ''}商务`;

/** 滕商务, 2019, 12 → 滕商务〔2019〕12号 */
export const docNumberOf = (prefix: string, year: number, serial: number): string =>
  `${prefix}〔${year}〕${serial}号`;
