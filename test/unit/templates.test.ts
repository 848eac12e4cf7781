// Every template renders its sample data in Handlebars strict mode (no missing variable), in Chinese,
// with money, dates and countdowns formatted; a missing variable is an error, not a blank.
import {
  countdownText,
  MAIL_TEMPLATES,
  NOTICE_TEMPLATES,
  renderMail,
  renderNotice,
  samples,
} from '../../activities/render';

const all = samples();
const program = all._program as { name: string; county: string; reportPhone: string };

test('there is sample data for every template, and a template for every sample', () => {
  expect(NOTICE_TEMPLATES.length).toBeGreaterThanOrEqual(9);
  expect(MAIL_TEMPLATES.length).toBeGreaterThanOrEqual(6);
  expect(
    Object.keys(all)
      .filter((k) => k !== '_program')
      .sort(),
  ).toEqual([...NOTICE_TEMPLATES, ...MAIL_TEMPLATES].sort());
});

test.each(NOTICE_TEMPLATES)('notice %s renders in strict mode', (kind) => {
  const data = { ...(all[kind] as object), program } as Parameters<typeof renderNotice>[1];
  const { html, bodyText } = renderNotice(kind, data);
  expect(html).toContain(data.docNumber);
  expect(html).toContain(data.title);
  expect(html).toContain('全国电子商务进农村综合示范项目');
  expect(bodyText.length).toBeGreaterThan(20);
  expect(html).not.toMatch(/undefined|\[object Object\]|NaN/);
});

test.each(MAIL_TEMPLATES)('mail %s renders in strict mode', (kind) => {
  const text = renderMail(kind, { ...(all[kind] as object), program } as unknown as Parameters<
    typeof renderMail
  >[1]);
  expect(text).toContain('您好');
  expect(text).not.toMatch(/undefined|\[object Object\]|NaN/);
});

test('formats: 万元 and 元 with separators, Beijing dates, countdowns', () => {
  const { html } = renderNotice('clawback_notice', {
    ...(all.clawback_notice as object),
    program,
  } as Parameters<typeof renderNotice>[1]);
  expect(html).toContain('200万元（2,000,000.00元）');
  expect(html).toContain('2020年8月31日 23:59'); // 15:59:59Z is 23:59 in Beijing
  expect(html).not.toContain('还有'); // an issued notice never changes: no relative time in it
  const reminder = renderMail('deadline_reminder', {
    ...(all.deadline_reminder as object),
    program,
  } as unknown as Parameters<typeof renderMail>[1]);
  expect(reminder).toContain('还有 3 天');
  expect(countdownText('2020-07-20', '2020-07-20T01:00:00Z')).toBe('今天到期');
  expect(countdownText('2020-07-18', '2020-07-20T01:00:00Z')).toBe('已逾期 2 天');
});

test('a missing variable is an error', () => {
  const { contractor: _c, ...withoutContractor } = all.rectification_notice;
  expect(() =>
    renderNotice('rectification_notice', { ...withoutContractor, program } as Parameters<
      typeof renderNotice
    >[1]),
  ).toThrow(/contractor/);
  const { deadline: _d, ...withoutDeadline } = all.rectification_notice;
  expect(() =>
    renderNotice('rectification_notice', { ...withoutDeadline, program } as Parameters<
      typeof renderNotice
    >[1]),
  ).toThrow(/datetime/);
});
