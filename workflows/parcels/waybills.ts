// The e-waybill file of a parcel subsidy claim (R-FUND-6): the waybill numbers are its first column; a
// first row that is no waybill number is a header; a number repeated within the file counts once and
// is reported. Pure: the CSV itself is parsed by the caller.
export const WAYBILL_NUMBER = /^[A-Za-z0-9-]{6,40}$/;

export interface Waybills {
  /** distinct waybill numbers, in file order */
  numbers: string[];
  /** numbers that stand more than once in the file */
  repeated: string[];
  /** rows whose first cell is not a waybill number */
  bad: number;
}

export function waybillsOfRows(rows: string[][]): Waybills {
  const cells = rows.map((r) => r[0] ?? '');
  if (cells.length && !WAYBILL_NUMBER.test(cells[0])) cells.shift();
  const seen = new Set<string>();
  const repeated: string[] = [];
  let bad = 0;
  for (const c of cells) {
    if (!WAYBILL_NUMBER.test(c)) bad++;
    else if (seen.has(c)) repeated.push(c);
    else seen.add(c);
  }
  return { numbers: [...seen], repeated, bad };
}
