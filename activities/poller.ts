// Runs a job every `intervalMs`, never two runs at once; stop() waits for the run in progress. Used by
// the timer scheduler and the outbox dispatcher.
export class Poller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  constructor(
    private readonly job: () => Promise<unknown>,
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return; // never overlap runs
      this.running = this.job()
        .then(() => undefined, this.onError)
        .finally(() => {
          this.running = null;
        });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
