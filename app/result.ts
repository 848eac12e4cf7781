// What a command use case answers: the stream's new version, the events it appended, and the updated
// view of what it changed, built only when the caller wants it (an HTTP client sending
// `Prefer: return=minimal` does not; RFC 7240).
export interface Appended {
  version: number;
  type: string;
  hash: string;
}

export class CommandOutcome<V extends object = object> {
  readonly appended: Appended[];
  constructor(
    readonly version: number,
    events: readonly Appended[], // the events appended (StoredEvents), or as a first answer named them
    private readonly view: () => V | Promise<V>,
  ) {
    this.appended = events.map((e) => ({ version: e.version, type: e.type, hash: e.hash }));
  }
  /** The view, then the events appended. */
  async full(): Promise<V & { appended: Appended[] }> {
    return { ...(await this.view()), appended: this.appended };
  }
  /** The view alone (a page renders it). */
  async state(): Promise<V> {
    return this.view();
  }
}

/** Answers that replay an earlier command (the same Idempotency-Key and request): the HTTP layer answers
 * them 200 with `Idempotent-Replayed: true` instead of the command's own status (app/idempotency.ts). */
const replayed = new WeakSet<object>();
export function markReplayed<T extends object>(answer: T): T {
  replayed.add(answer);
  return answer;
}
export const isReplayed = (answer: unknown): boolean =>
  typeof answer === 'object' && answer !== null && replayed.has(answer);
