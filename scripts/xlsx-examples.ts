// Builds examples/<code>.xlsx from examples/<code>.json: the two real budget tables (Tengzhou 2019,
// Shicheng 2020) in the counties' Excel layout that `shifan program import x.xlsx` and
// POST /api/programs/xlsx read (app/budget-xlsx.ts). Run: npm run examples:xlsx
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { budgetWorkbook } from '../app/budget-xlsx';
import { ProgramTable } from '../workflows/program/table';

export const EXAMPLES = ['tengzhou-2019', 'shicheng-2020'] as const;
const dir = path.join(__dirname, '..', 'examples');

export async function exampleWorkbook(name: (typeof EXAMPLES)[number]): Promise<Buffer> {
  const json: unknown = JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8'));
  return budgetWorkbook(ProgramTable.parse(json));
}

if (require.main === module)
  void (async () => {
    for (const name of EXAMPLES) {
      const out = path.join(dir, `${name}.xlsx`);
      writeFileSync(out, await exampleWorkbook(name));
      console.log(`已写入 ${path.relative(process.cwd(), out)}`);
    }
  })();
