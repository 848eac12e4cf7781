// `shifan audit verify` (R-PUB-3): every stream's hash chain, its folded state, every notice's SHA-256.
import { verifyAudit, type VerifyReport } from '../engine/audit';
import type { AppContext } from './context';

export const verifyAuditRecord = (
  ctx: AppContext,
  onProgress?: (streams: number, events: number) => void,
): Promise<VerifyReport> => verifyAudit(ctx.pool, onProgress);
