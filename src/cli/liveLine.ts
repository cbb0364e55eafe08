// The terminal view of `lossradar run`: one status line with the latest metrics, alerts as they
// fire. On a terminal the status line redraws in place; in a log it is printed every few seconds.
import { fmt } from '../detect/detector';
import type { Alert } from '../detect/alert';
import type { MetricRow } from '../store/run';

const SHOWN: [string, string][] = [
  ['loss', 'loss'],
  ['loss/val', 'val'],
  ['lr', 'lr'],
  ['grad_norm', 'grad'],
  ['calibration/ece', 'ece'],
  ['entropy/normalized', 'H/logC'],
  ['sa/min_sign_diversity', 'SA min'],
  ['time/step_ms', 'ms/step'],
];

export class LiveLine {
  private readonly latest = new Map<string, number>();
  private step: number | null = null;
  private rows = 0;
  private lastPrint = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream | NodeJS.WritableStream,
    private readonly tty = Boolean((out as NodeJS.WriteStream).isTTY),
    private readonly color = tty && !process.env.NO_COLOR,
  ) {}

  rowsArrived(rows: MetricRow[]): void {
    for (const row of rows) {
      this.step = row.step;
      for (const name in row.values) this.latest.set(name, row.values[name]);
    }
    this.rows += rows.length;
    const now = Date.now();
    if (now - this.lastPrint >= (this.tty ? 100 : 5000)) {
      this.lastPrint = now;
      this.draw();
    }
  }

  alert(a: Alert): void {
    if (a.state === 'closed') return this.print(`  cleared: ${a.kind} on ${a.metric} (opened at step ${a.step}, quiet since step ${a.closedStep})`);
    const tag = a.severity === 'critical' ? this.paint('CRITICAL', '31;1') : this.paint('WARNING', '33;1');
    const where = a.source ? ` [${a.source.file}:${a.source.line}]` : '';
    this.print(`${tag} step ${a.step} ${a.kind}: ${a.message}${where}`);
  }

  print(line: string): void {
    this.clear();
    this.out.write(line + '\n');
    if (this.tty) this.draw();
  }

  finish(): void {
    this.draw();
    if (this.tty) this.out.write('\n');
    this.drawn = false;
  }

  private draw(): void {
    const parts = [`step ${this.step ?? '-'}`];
    for (const [metric, label] of SHOWN) {
      const v = this.latest.get(metric);
      if (v !== undefined) parts.push(`${label} ${Number.isFinite(v) ? fmt(v) : this.paint(fmt(v), '31;1')}`);
    }
    parts.push(`(${this.rows} rows)`);
    const line = parts.join('  ');
    if (this.tty) {
      this.out.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else this.out.write(line + '\n');
  }

  private clear(): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }

  private paint(text: string, code: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
}
