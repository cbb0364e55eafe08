// `lossradar detect FILE.jsonl|RUN_DIR [--format json|text] [--set name=value]…` (design.md §6).
// Exit code: 1 when a critical alert fired, 0 when none did, 2 for a usage or read error, so the
// command can guard a CI job.
import { loadRows, replay } from '../detect/replay';
import type { Alert } from '../detect/alert';
import { flag, UsageError, type ParsedArgs } from './args';

export async function detect(args: ParsedArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [target, ...extra] = args.positional;
  if (!target || extra.length > 0) throw new UsageError('detect takes one FILE.jsonl, FILE.jsonl.gz or RUN_DIR');
  const format = flag(args, 'format') ?? 'json';
  if (format !== 'json' && format !== 'text') throw new UsageError(`--format: expected json or text, got ${JSON.stringify(format)}`);
  const settings: Record<string, number> = {};
  for (const pair of args.flags.get('set') ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new UsageError(`--set: expected name=value, got ${JSON.stringify(pair)}`);
    settings[pair.slice(0, eq)] = Number(pair.slice(eq + 1));
  }
  let loaded;
  try {
    loaded = await loadRows(target);
  } catch (e) {
    err.write(`lossradar detect: cannot read ${target}: ${(e as Error).message}\n`);
    return 2;
  }
  for (const p of loaded.problems) err.write(`lossradar detect: ${loaded.file}:${p.line}: ${p.message}\n`);
  let alerts: Alert[];
  try {
    alerts = replay(loaded.rows, settings);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  for (const alert of alerts) out.write((format === 'json' ? JSON.stringify(alert) : textLine(alert)) + '\n');
  return alerts.some((a) => a.severity === 'critical') ? 1 : 0;
}

function textLine(a: Alert): string {
  const where = a.source ? `  (${a.source.file}:${a.source.line})` : '';
  if (a.state === 'closed') return `step ${a.closedStep}  cleared   ${a.kind} on ${a.metric} (opened at step ${a.step})`;
  return `step ${a.step}  ${a.severity === 'critical' ? 'CRITICAL' : 'warning '}  ${a.kind}  ${a.metric}: ${a.message}${where}`;
}
