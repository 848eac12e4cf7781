// Reads on the money read models shared by the HTTP routes and the bench.
import type { Pool } from 'pg';
import { programNotFound } from '../workflows/errors';
import { SOURCES, type Funding } from '../workflows/program/types';

/** The program's budget per source minus what has been paid out net of recoveries (R-FUND-7), one round trip. */
export async function programRemaining(db: Pool, code: string): Promise<Funding> {
  const { rows } = await db.query<{
    central_fen: string;
    local_fen: string;
    enterprise_fen: string;
    source: string | null;
    net: string | null;
  }>({
    name: 'shifan_program_remaining',
    text: `SELECT p.central_fen, p.local_fen, p.enterprise_fen, l.source, l.net FROM program p
       LEFT JOIN (SELECT source, SUM(CASE WHEN kind = 'recovery' THEN -amount_fen WHEN kind IN ('disbursement', 'parcel_subsidy') THEN amount_fen ELSE 0 END) AS net
                    FROM ledger_entry WHERE program_code = $1 GROUP BY source) l ON true
      WHERE p.code = $1`,
    values: [code],
  });
  if (!rows.length) throw programNotFound(code);
  const totals: Funding = {
    central: Number(rows[0].central_fen),
    local: Number(rows[0].local_fen),
    enterprise: Number(rows[0].enterprise_fen),
  };
  return Object.fromEntries(
    SOURCES.map((src) => [src, totals[src] - Number(rows.find((r) => r.source === src)?.net ?? 0)]),
  ) as Funding;
}
