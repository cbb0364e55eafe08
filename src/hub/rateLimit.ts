// Messages that a hostile or broken peer can trigger at will (refused upgrades) are said at a
// bounded rate, so a flood of bad connections cannot flood the log: the first of each kind at once,
// then at most one per interval, carrying how many were held back.
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly say: (message: string) => void,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  log(kind: string, message: string): void {
    const t = this.now();
    const entry = this.last.get(kind);
    if (entry && t - entry.at < this.intervalMs) {
      entry.held += 1;
      return;
    }
    const held = entry?.held ?? 0;
    this.last.set(kind, { at: t, held: 0 });
    this.say(held > 0 ? `${message} (and ${held} more like it in the last ${Math.round((t - entry!.at) / 1000)} s)` : message);
  }
}
