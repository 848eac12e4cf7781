// R-AC-3: an objection during acceptance publicity suspends release until the office resolves it
// (dismissed → release resumes; upheld → back to rectification). Evidence files: types, size, access.
import { later, ok, release, tengzhouInImplementation, upload } from '../support/flows';
import { startTestServer, type TestServer } from '../support/server';

let t: TestServer;
const SP = '/api/programs/tengzhou-2019/subprojects/7';
beforeAll(async () => {
  t = await startTestServer();
  await tengzhouInImplementation(t);
  ok(
    await t.call('POST', `${SP}/designation`, {
      token: t.tokens.office,
      body: { org: '滕州市邮政分公司', reason: '资金安排表确定为直接委托' },
    }),
    201,
  );
  ok(
    await t.call('POST', `${SP}/contract`, {
      token: t.tokens.office,
      body: {
        document: { title: '委托协议' },
        milestones: [
          { key: 'M1', title: '中期预评', due: '2020-06-30' },
          { key: 'M2', title: '宣传推广', due: '2021-03-31' },
        ],
        tranches: [
          { key: 'T1', milestone: 'M1', source: 'local', amount: '40' },
          { key: 'T2', milestone: 'M2', source: 'local', amount: '60' },
        ],
      },
    }),
    201,
  );
});
afterAll(async () => {
  await t?.close();
});

async function acceptedInPublicity(m: string) {
  ok(
    await t.call('POST', `${SP}/milestones/${m}/submission`, {
      token: t.tokens.contractor,
      body: { deliverable: m },
    }),
    201,
  );
  ok(
    await t.call('POST', `${SP}/milestones/${m}/pre-evaluation`, {
      token: t.tokens.evaluator,
      body: { opinion: '合格', recommendation: 'accept' },
    }),
  );
  ok(
    await t.call('POST', `${SP}/milestones/${m}/decision`, {
      token: t.tokens.office,
      body: { decision: 'accept' },
    }),
  );
}

test('dismissed objection: release waits for the resolution, then resumes', async () => {
  await acceptedInPublicity('M1');
  // R-TD-3: a contractor of another organisation cannot act on this subproject, not even object
  expect(
    (
      await t.call('POST', `${SP}/milestones/M1/objections`, {
        token: t.tokens.contractorB,
        body: { text: '预评报告与实际不符' },
      })
    ).status,
  ).toBe(403);
  ok(
    await t.call('POST', `${SP}/milestones/M1/objections`, {
      token: t.tokens.supervisor,
      body: { text: '预评报告与实际不符' },
    }),
    201,
  );
  await t.at(later(t, 8));
  expect((await t.rt.scheduler.runDue()).fired).toBe(0); // publicity cannot end with an open objection
  const blocked = await release(t, 'tengzhou-2019', 7, 'T1', 'tz7-T1');
  expect(blocked.status).toBe(409);
  expect(blocked.body.detail).toContain('未处理的异议');
  const r = ok(
    await t.call('POST', `${SP}/milestones/M1/objections/O1/resolve`, {
      token: t.tokens.office,
      body: { decision: 'dismissed', reason: '经核实异议不成立' },
    }),
  );
  expect(r.milestones[0].status).toBe('accepted');
  expect((await release(t, 'tengzhou-2019', 7, 'T1', 'tz7-T1')).status).toBe(201);
});

test('upheld objection: back to rectification; nothing is paid', async () => {
  await acceptedInPublicity('M2');
  ok(
    await t.call('POST', `${SP}/milestones/M2/objections`, {
      token: t.tokens.supervisor,
      body: { text: '宣传材料未标注“全国电子商务进农村综合示范项目”' },
    }),
    201,
  );
  const r = ok(
    await t.call('POST', `${SP}/milestones/M2/objections/O1/resolve`, {
      token: t.tokens.office,
      body: { decision: 'upheld', reason: '异议属实' },
    }),
  );
  expect(r.milestones[1]).toMatchObject({
    status: 'rectifying',
    rectification: { defects: ['公示异议成立：宣传材料未标注“全国电子商务进农村综合示范项目”'] },
  });
  expect((await release(t, 'tengzhou-2019', 7, 'T2', 'tz7-T2')).status).toBe(409);
});

describe('evidence files', () => {
  test('type and size limits; SHA-256; download only by those allowed', async () => {
    const sha = await upload(t, t.tokens.contractor, '验收报告.pdf', '%PDF-1.4 报告');
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    const exe = await fetch(`${t.base}/api/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.tokens.contractor}`,
        'content-type': 'application/x-msdownload',
      },
      body: 'MZ',
    });
    expect(exe.status).toBe(400);
    expect((await exe.json()).detail).toContain('不接受的文件类型');
    const big = await fetch(`${t.base}/api/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.tokens.contractor}`,
        'content-type': 'application/pdf',
      },
      body: Buffer.alloc(21 * 1024 * 1024),
    });
    expect(big.status).toBe(413);
    const asOffice = await fetch(`${t.base}/api/files/${sha}`, {
      headers: { authorization: `Bearer ${t.tokens.office}` },
    });
    expect(asOffice.status).toBe(200);
    expect(asOffice.headers.get('x-content-sha256')).toBe(sha);
    expect(await asOffice.text()).toBe('%PDF-1.4 报告');
    expect(
      (
        await fetch(`${t.base}/api/files/${sha}`, {
          headers: { authorization: `Bearer ${t.tokens.contractorB}` },
        })
      ).status,
    ).toBe(404); // as an unknown file answers: nothing tells B the file exists (issue 12.4)
    // another organisation cannot cite the file as its evidence
    expect(
      (
        await t.call('POST', '/api/programs/tengzhou-2019/subprojects/7/milestones/M2/submission', {
          token: t.tokens.contractorB,
          body: { deliverable: 'x', files: [sha] },
        })
      ).status,
    ).toBe(403);
  });
});
