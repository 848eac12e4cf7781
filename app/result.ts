// What a command use case answers: the stream's new version, the events it appended, and the updated
// view of what it changed, built only when the caller wants it (an HTTP client sending
// `Prefer: return=minimal` does not; RFC 7240).
import type { StoredEvent } from '../activities/store/event-store';

export interface Appended {
  version: number;
  type: string;
  hash: string;
}

export class CommandOutcome<V extends object = object> {
  readonly appended: Appended[];
  constructor(
    readonly version: number,
    events: StoredEvent[],
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
