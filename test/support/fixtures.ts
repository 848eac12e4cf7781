// Test fixtures: the two real budget tables (copied into the repo from the shared fixtures) and
// helpers that derive the edited tables the acceptance scenarios need.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProgramTableInput } from '../../workflows/program/table';

export type Table = ProgramTableInput & {
  subprojects: { seq: number; direction: string; funding: Record<string, string> }[];
};

export function loadTable(name: 'tengzhou-2019' | 'shicheng-2020'): Table {
  return JSON.parse(
    readFileSync(path.join(__dirname, '..', 'fixtures', `${name}.json`), 'utf8'),
  ) as Table;
}

/** Returns a copy with subproject `seq`'s funding for `source` set to `amount` (万元). */
export function withFunding(
  t: Table,
  seq: number,
  source: 'central' | 'local' | 'enterprise',
  amount: string,
): Table {
  const c = structuredClone(t);
  c.subprojects.find((s) => s.seq === seq)!.funding[source] = amount;
  return c;
}
